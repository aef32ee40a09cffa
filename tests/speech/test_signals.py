"""The rules: each hallmark fires with its spans and reasons, and the classic false positives do not.

These are the authors' development cases; the independent measure is the functional suite
(`flashpoint eval speech`, tests/speech/test_suite_accuracy.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashpoint.speech.signals import SEVERITIES, analyse
from flashpoint.text.normalise import normalise_for_matching


def read(text: str, language: str):  # type: ignore[no-untyped-def]
    return analyse(normalise_for_matching(text), language)


def at_least(severity: str, floor: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(floor)


@pytest.mark.parametrize(
    ("language", "text", "signal"),
    [
        ("ru", "Дунгане — тараканы, их надо гнать", "dehumanisation"),
        ("ru", "Мы вырежем всех дунган", "threat"),
        ("ru", "Бейте уйгуров!", "violence_call"),
        ("ru", "Чемодан вокзал Китай, пусть уезжают эти китайцы", "expulsion"),
        ("ru", "Дунгане убивают наших братьев", "accusation_in_mirror"),
        ("ru", "Дунгане избили старика", "attack_on_vulnerable"),
        ("ru", "Предатели, которые укрывают дунган, ответят", "loyalty"),
        ("kk", "Дүнгендер тарақандар сияқты", "dehumanisation"),
        ("kk", "Дүнгендерді өлтіреміз", "threat"),
        ("kk", "Дүнгендер біздің қарияны өлтірді", "attack_on_vulnerable"),
        ("kk", "Дүнгендерді қуып шығу керек", "expulsion"),
        ("ky", "Дуңгандарды өлтүргүлө", "violence_call"),
        ("ky", "Дуңгандар биздин карыяны өлтүрдү", "attack_on_vulnerable"),
        ("en", "Dungans are vermin", "dehumanisation"),
        ("en", "We will kill the Dungans", "threat"),
        ("en", "They are killing our people", "accusation_in_mirror"),
        ("en", "Traitors who shelter the Dungans", "loyalty"),
    ],
)
def test_hallmarks_fire_with_spans_and_reasons(language: str, text: str, signal: str) -> None:
    result = read(text, language)
    found = result.signal(signal)
    assert found is not None, f"{signal} not found in {text!r}: {result.signals}"
    assert found.score >= 0.5 and found.rules and found.spans
    assert result.dangerous, f"{text!r} read as {result.severity}"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Они убили нашего аксакала! Все едем в Масанчи сегодня, берите палки"),
        ("kk", "Дүнгендер біздің ақсақалды өлтірді, бәріміз Масаншыға барайық!"),
        ("ky", "Дуңгандар биздин карыяны өлтүрдү, баарыбыз Масанчыга баралы!"),
        ("en", "They killed our elder, everyone go to Masanchi tonight, bring sticks"),
    ],
)
def test_the_masanchi_message_is_critical_with_place_and_time(language: str, text: str) -> None:
    result = read(text, language)
    assert result.severity == "critical"
    mobilisation = result.signal("mobilisation")
    assert mobilisation is not None and "gather" in mobilisation.details["kinds"]
    assert mobilisation.details["place"]["text"].startswith(("масанч", "масанш", "masanchi"))


def test_time_of_a_call_is_extracted() -> None:
    result = read("Все едем в Масанчи в 21:00, наших бьют", "ru")
    details = result.signal("mobilisation").details
    assert details["time"]["text"] == "21:00" and details["place"]["text"] == "масанчи"


@pytest.mark.parametrize(
    ("language", "text", "context"),
    [
        ("ru", "Позор тем, кто пишет «дунган надо вырезать». Мы один народ", "counter_speech"),
        ("ru", "Не верьте слухам: аксакал жив, он в больнице, его никто не убивал", "fact_check"),
        ("ru", "Полиция задержала 47 человек, подозреваемых в поджогах домов дунган, сообщает МВД", "news"),
        ("ru", "Я никогда не трону дунган, они наши соседи", "counter_speech"),
        ("kk", "Дүнгендерді өлтірмейміз, олар біздің көршілеріміз", "counter_speech"),
        ("kk", "Арандатуға ермеңдер! Қария тірі, ауруханада жатыр, бұл жалған ақпарат", "fact_check"),
        ("ky", "Алданбагыла, бул жалган маалымат, карыя тирүү, ооруканада", "fact_check"),
        ("en", "We condemn the posts saying 'kill the Dungans'. We are one people.", "counter_speech"),
        ("en", "Police said 47 people were detained after clashes in Masanchi", "news"),
    ],
)
def test_counter_speech_fact_checks_and_news_are_not_dangerous(language: str, text: str, context: str) -> None:
    result = read(text, language)
    assert not result.dangerous, f"{text!r} read as {result.severity}: {result.signals}"
    assert context in result.contexts


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Дунгане пекут самую вкусную лапшу в районе"),
        ("ru", "Завтра собираемся на свадьбу в Сортобе в 18:00"),
        ("ru", "Ты свинья, Вася, верни долг"),
        ("kk", "Ертең Масаншыдағы тойға барайық"),
        ("en", "The Dungan community celebrated the new year in Masanchi"),
        ("en", "You are an idiot, Bob"),
    ],
)
def test_neutral_mentions_benign_gatherings_and_personal_abuse_are_not_dangerous(language: str, text: str) -> None:
    assert not read(text, language).dangerous


def test_an_obfuscated_threat_is_read_through_the_normaliser() -> None:
    assert read("Д у н г а н е — т@р@к@ны, вырeжем их", "ru").dangerous  # spaced, @ for а, Latin e


def test_targets_are_named_with_their_spans() -> None:
    text = normalise_for_matching("Дүнгендер мен ұйғырлар кетсін")
    result = analyse(text, "kk")
    assert {t.group for t in result.targets} >= {"dungan", "uyghur"}
    for target in result.targets:
        assert text[target.span[0] : target.span[1]].startswith(("дүнген", "ұйғыр"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_result(text: str) -> None:
    result = analyse(text, "ru")
    assert result.severity in SEVERITIES and 0.0 <= result.score <= 1.0


def test_huge_and_junk_inputs_give_a_result() -> None:
    assert analyse("убьем " * 50_000, "ru").severity in SEVERITIES
    assert analyse("\x00\ud800🙂" * 1000, "").severity == "none"
    assert analyse("", "und").severity == "none"
