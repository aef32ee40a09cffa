"""Place and time of a call to gather, in each language."""

from __future__ import annotations

import pytest

from flashpoint.speech.mobilisation import find_clock, find_place


@pytest.mark.parametrize(
    ("words", "gather_at", "place"),
    [
        (["все", "едем", "в", "масанчи"], [1], "масанчи"),
        (["бәріміз", "масаншыға", "барайық"], [2], "масаншыға"),
        (["баарыбыз", "сортөбөгө", "баралы"], [2], "сортөбөгө"),
        (["everyone", "go", "to", "sortobe", "now"], [0], "sortobe"),
        (["собираемся", "у", "мечети"], [0], "мечети"),
        (["едем", "к", "ним"], [0], None),
        (["едем", "в", "18"], [0], None),
    ],
)
def test_the_place_a_call_points_at(words: list[str], gather_at: list[int], place: str | None) -> None:
    found = find_place(words, gather_at)
    assert (words[found] if found is not None else None) == place


@pytest.mark.parametrize(
    ("text", "clock"),
    [("сбор в 21:00 у моста", "21:00"), ("в 9 часов все на площадь", "в 9 часов"), ("сағат 9-да", "сағат 9"),
     ("meet at 7 pm", "at 7 pm"), ("без времени", None), ("тел 8701234567", None)],
)  # fmt: skip
def test_clock_times(text: str, clock: str | None) -> None:
    span = find_clock(text)
    assert (text[span[0] : span[1]] if span else None) == clock
