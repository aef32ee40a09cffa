"""The target-group lexicon (data/speech/targets.tsv): it parses, it finds every group, it leaves ordinary words alone.

The production matcher lives in flashpoint.speech; this file carries its own tiny matcher written from the
specification of the data, so that the data is tested against what it promises rather than against one
implementation: text normalised by ``normalise_for_matching``, split at every non-word character; a pattern token
``word*`` is a prefix of a word, ``word`` the whole word; a multiword pattern matches consecutive words.

    >>> sorted(groups_in("Все на Масанчи, дунгане убили аксакала"))
    ['dungan']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pytest

from flashpoint.text.normalise import normalise_for_matching

DATA = Path(__file__).resolve().parents[1] / "data" / "speech_targets"
KINDS = frozenset({"name", "adjective", "derogatory", "collective"})
LANGUAGES = frozenset({"ru", "kk", "ky", "en", "ug", "uz", "ru-Latn", "kk-Latn", "ky-Latn", "uz-Latn"})
# The groups the issue names; each must be found in Russian, Kazakh, Kyrgyz and English forms.
ISSUE_GROUPS = (
    "dungan",
    "kazakh",
    "uyghur",
    "uzbek",
    "russian",
    "kyrgyz",
    "tajik",
    "chinese",
    "chechen",
    "meskhetian_turk",
    "jew",
    "muslim",
    "christian",
    "migrant",
)
_TOKEN = re.compile(r"^\w+\*?$")
_SPLIT = re.compile(r"\W+")


@dataclass(frozen=True)
class Row:
    """One pattern of targets.tsv with the line it came from."""

    line: int
    group: str
    languages: tuple[str, ...]
    pattern: tuple[str, ...]
    kind: str
    note: str


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            yield number, line


@cache
def lexicon_text() -> str:
    return resources.files("flashpoint").joinpath("data", "speech", "targets.tsv").read_text(encoding="utf-8")


@cache
def lexicon() -> tuple[Row, ...]:
    rows = []
    for number, line in _lines(lexicon_text()):
        group, languages, pattern, kind, note = line.split("\t")
        rows.append(Row(number, group, tuple(languages.split(",")), tuple(pattern.split(" ")), kind, note))
    return tuple(rows)


def _token_matches(token: str, word: str) -> bool:
    return word.startswith(token[:-1]) if token.endswith("*") else word == token


def words_of(text: str) -> list[str]:
    return [w for w in _SPLIT.split(normalise_for_matching(text)) if w]


def groups_in(text: str) -> set[str]:
    """The groups whose patterns match somewhere in ``text``."""
    words = words_of(text)
    found = set()
    for row in lexicon():
        size = len(row.pattern)
        for start in range(len(words) - size + 1):
            if all(_token_matches(t, w) for t, w in zip(row.pattern, words[start : start + size], strict=True)):
                found.add(row.group)
                break
    return found


def _table(name: str) -> list[tuple[int, list[str]]]:
    return [(n, line.split("\t")) for n, line in _lines((DATA / name).read_text(encoding="utf-8"))]


FORMS = _table("forms.tsv")
NEGATIVES = _table("negatives.tsv")


# --- (c) the file parses ---


def test_every_row_has_five_columns_and_a_provenance_header() -> None:
    bad = [n for n, line in _lines(lexicon_text()) if len(line.split("\t")) != 5]
    assert bad == [], f"lines without exactly 5 tab-separated columns: {bad}"
    header = [line for line in lexicon_text().splitlines() if line.startswith("#")]
    assert any(line.startswith("# source:") for line in header)
    assert "# licence: CC-BY-4.0, written for Flashpoint" in header


def test_kinds_languages_and_groups_are_known() -> None:
    rows = lexicon()
    assert {r.kind for r in rows} <= KINDS, {r.kind for r in rows} - KINDS
    unknown = [(r.line, lang) for r in rows for lang in r.languages if lang not in LANGUAGES]
    assert unknown == []
    assert all(re.fullmatch(r"[a-z_]+", r.group) for r in rows)
    assert set(ISSUE_GROUPS) <= {r.group for r in rows}


def test_patterns_are_written_as_the_normaliser_writes_words() -> None:
    for row in lexicon():
        assert " ".join(row.pattern) == " ".join(row.pattern).strip(), row.line
        for token in row.pattern:
            assert _TOKEN.match(token), f"line {row.line}: {token!r} is not one word with an optional *"
            word = token.rstrip("*")
            assert normalise_for_matching(word) == word, f"line {row.line}: {word!r} is not normalised"
            assert "ё" not in word and word == word.lower()


def test_no_pattern_is_listed_twice() -> None:
    seen: dict[tuple[str, ...], int] = {}
    duplicates = []
    for row in lexicon():
        if row.pattern in seen:
            duplicates.append((seen[row.pattern], row.line, " ".join(row.pattern)))
        seen.setdefault(row.pattern, row.line)
    assert duplicates == []


def _covers(general: str, specific: str) -> bool:
    """True when every word ``specific`` matches is also matched by ``general`` (both single tokens)."""
    if general.endswith("*"):
        return specific.rstrip("*").startswith(general[:-1])
    return general == specific


def test_no_single_word_pattern_is_hidden_by_another() -> None:
    """A word pattern inside a shorter prefix is dead weight, or a conflict when the groups differ."""
    single = [r for r in lexicon() if len(r.pattern) == 1]
    hidden = [
        (inner.line, " ".join(inner.pattern), outer.line, " ".join(outer.pattern))
        for inner in single
        for outer in single
        if inner is not outer and _covers(outer.pattern[0], inner.pattern[0])
    ]
    assert hidden == []


def test_multiword_patterns_contain_no_word_of_another_group() -> None:
    single = [r for r in lexicon() if len(r.pattern) == 1]
    conflicts = [
        (multi.line, token, other.line, other.group)
        for multi in lexicon()
        if len(multi.pattern) > 1
        for token in multi.pattern
        for other in single
        if other.group != multi.group and _covers(other.pattern[0], token)
    ]
    assert conflicts == []


# --- (a) every group is found in its inflected forms ---


@pytest.mark.parametrize(("line", "cells"), FORMS, ids=[cells[0] for _, cells in FORMS])
def test_form_finds_exactly_its_groups(line: int, cells: list[str]) -> None:
    text, expected, _language = cells
    assert groups_in(text) == set(expected.split(",")), f"forms.tsv line {line}: {words_of(text)}"


def test_forms_cover_every_issue_group_in_ru_kk_ky_and_en() -> None:
    covered = {(group, language.split("-")[0]) for _, (_, groups, language) in FORMS for group in groups.split(",")}
    missing = [(g, lang) for g in ISSUE_GROUPS for lang in ("ru", "kk", "ky", "en") if (g, lang) not in covered]
    assert missing == []


def test_every_pattern_is_reached_by_some_form() -> None:
    """A pattern no form reaches is untested (or unreachable after normalisation)."""
    form_words = [words_of(cells[0]) for _, cells in FORMS]

    def reached(row: Row) -> bool:
        size = len(row.pattern)
        return any(
            all(_token_matches(t, w) for t, w in zip(row.pattern, words[i : i + size], strict=True))
            for words in form_words
            for i in range(len(words) - size + 1)
        )

    assert [(r.line, " ".join(r.pattern)) for r in lexicon() if not reached(r)] == []


# --- (b) ordinary words that share a beginning find nothing ---


@pytest.mark.parametrize(("line", "cells"), NEGATIVES, ids=[cells[0] for _, cells in NEGATIVES])
def test_ordinary_text_finds_no_group(line: int, cells: list[str]) -> None:
    assert groups_in(cells[0]) == set(), f"negatives.tsv line {line}: {words_of(cells[0])}"


def test_negatives_are_many_and_in_every_language() -> None:
    languages = [cells[1].split("-")[0] for _, cells in NEGATIVES]
    assert len(NEGATIVES) >= 300
    assert all(languages.count(lang) >= 50 for lang in ("ru", "kk", "ky", "en"))
    texts = [cells[0] for _, cells in NEGATIVES]
    assert len(texts) == len(set(texts))


# --- bad input ---


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀🔥🙏", "\x00\xff\ufffd\u200b" * 50, "кит🐋кит", "ԱԲԳ 中文 العربية", "%$#@!*" * 1000],
)
def test_junk_finds_no_group_and_does_not_raise(text: str) -> None:
    assert groups_in(text) == set()


def test_a_long_message_finds_a_group_at_its_end() -> None:
    text = "обычный текст " * 7000 + "понаехали тут"  # about 100 KB
    assert groups_in(text) == {"migrant"}
