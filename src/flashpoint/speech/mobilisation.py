"""Where and when a call to gather points: the place and the time, as spans of the normalised text.

Why: "everyone to Masanchi at 9 tonight" is the message responders most need to read first, and the
place and hour are what they act on. Until the gazetteer resolves places to settlements, the place
is the word a call points at: the word after a Russian or English preposition of direction, or a
Kazakh or Kyrgyz word in the dative or locative next to the verb of gathering.

Example:
    >>> words = ["все", "едем", "в", "масанчи", "в", "21:00"]
    >>> find_place(words, gather_at=[1])
    3
    >>> find_clock("все едем в масанчи в 21:00")
    (21, 26)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_CLOCK = re.compile(
    r"(?<!\d)(?:[01]?\d|2[0-3])[:.][0-5]\d(?!\d)"
    r"|(?:в|к|at|сағат|саат)\s+\d{1,2}(?![:.]\d)(?:\s*(?:час\w*|ч|pm|am|o'clock|та|да|те|де))?(?!\d)"
)
_RU_EN_DIRECTION = frozenset({"в", "во", "на", "к", "ко", "до", "у", "возле", "около", "to", "at", "in", "near"})
# Kazakh and Kyrgyz dative (to) and locative (at) endings, checked on the word next to the verb.
_TURKIC_PLACE_ENDINGS = (
    "ға", "ге", "қа", "ке", "га", "го", "гө", "ка", "ко", "кө", "на", "не",
    "да", "де", "та", "те", "до", "дө", "то", "тө", "нда", "нде", "ндо", "ндө",
)  # fmt: skip
# Words that follow a preposition but are not places.
# fmt: off
_NOT_PLACES = frozenset({
    "нас", "них", "ним", "нему", "ней", "нам", "вам", "вас", "все", "всех", "этот", "это", "эти",
    "том", "тот", "час", "время", "сегодня", "завтра", "вечер", "вечером", "ночь", "ночью", "утро",
    "утром", "them", "us", "the", "a", "an", "all", "everyone", "once", "time", "now", "tonight",
    "today", "tomorrow", "бизге", "оларға", "сендерге", "бізге", "аларга", "силерге", "бүгін", "ертең",
    "бүгүн", "эртең", "қазір", "азыр", "кешке",
})
# fmt: on


def find_clock(text: str) -> tuple[int, int] | None:
    """The character span of the first clock time ("21:00", "в 9 часов", "сағат 9-да")."""
    found = _CLOCK.search(text)
    return (found.start(), found.end()) if found else None


def find_place(words: Sequence[str], gather_at: Sequence[int]) -> int | None:
    """The index of the word a call to gather points at, or None.

    Looks right of each gathering word for a preposition and its object (ru, en), then at the word
    before and after it for a dative or locative ending (kk, ky).
    """
    for i in gather_at:
        for j in range(i + 1, min(i + 5, len(words) - 1)):
            if words[j] in _RU_EN_DIRECTION and _is_place_word(words[j + 1]):
                return j + 1
        for j in (i - 1, i - 2, i + 1):
            if 0 <= j < len(words) and words[j].endswith(_TURKIC_PLACE_ENDINGS) and _is_place_word(words[j]):
                return j
    return None


def _is_place_word(word: str) -> bool:
    return len(word) >= 3 and word not in _NOT_PLACES and not word.isdigit()
