"""Tokens, lemmas and stems: accuracy on hand-written evaluation sets per language, the forms the
lexicons depend on, routing by letters, caching, and that no input makes anything raise."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashpoint.text import morphology
from flashpoint.text.morphology import Token, lemma, lemmas, stem_english, stem_kazakh, stem_kyrgyz, tokenize

EVAL = Path(__file__).resolve().parent.parent / "data" / "morphology"

# Measured when written (word-level exact match with the expected stem or lemma):
#   kk 224/225 = 0.996, ky 184/184 = 1.000, ru 143/151 = 0.947, en 66/66 = 1.000 (development sets);
#   kk_heldout 85/89 = 0.955, ky_heldout 67/67 = 1.000 (written after the tables were settled).
# Thresholds sit a little under, so that a table edit that costs accuracy fails here.
THRESHOLDS = {"kk": 0.98, "ky": 0.98, "ru": 0.93, "en": 0.97, "kk_heldout": 0.93, "ky_heldout": 0.95}


def _rows(name: str) -> list[tuple[str, set[str], str]]:
    rows = []
    for line in (EVAL / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word, expected, kind = line.split("\t")
            rows.append((word, set(expected.split("|")), kind))
    return rows


def _accuracy(name: str) -> tuple[float, list[tuple[str, str]]]:
    language = name.split("_", maxsplit=1)[0]
    rows = _rows(name)
    misses = [(word, lemma(word, language)) for word, expected, _ in rows if lemma(word, language) not in expected]
    return 1 - len(misses) / len(rows), misses


# --- tokens ---------------------------------------------------------------------------------------


def test_tokens_keep_inner_hyphens_apostrophes_and_kazakh_letters() -> None:
    text = "Турки-месхетинцы, qazaq'tar! Әлі ғана қоңырау: 10:30 #тег @user_1 -- ән-күй 'цитата'"
    words = [t.text for t in tokenize(text)]
    assert words == [
        "Турки-месхетинцы",
        "qazaq'tar",
        "Әлі",
        "ғана",
        "қоңырау",
        "10",
        "30",
        "тег",
        "user",
        "1",
        "ән-күй",
        "цитата",
    ]


def test_tokens_carry_offsets_into_the_text() -> None:
    text = "  жиналайық   Масаншыға!"
    assert tokenize(text) == [Token("жиналайық", 2, 11), Token("Масаншыға", 14, 23)]


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_tokens_are_ordered_disjoint_slices_of_any_text(text: str) -> None:
    end = 0
    for token in tokenize(text):
        assert text[token.start : token.end] == token.text
        assert token.start >= end and token.end > token.start
        end = token.end


# --- accuracy on the evaluation sets --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_accuracy_on_evaluation_set(name: str) -> None:
    assert len(_rows(name)) >= (120 if "_" not in name and name != "en" else 60)
    accuracy, misses = _accuracy(name)
    assert accuracy >= THRESHOLDS[name], misses


@pytest.mark.parametrize(
    ("word", "language", "expected"),
    [
        ("дүнгендерді", "kk", "дүнген"),
        ("қазақтарға", "kk", "қазақ"),
        ("орыстарды", "kk", "орыс"),
        ("қарияны", "kk", "қария"),
        ("балаларымызды", "kk", "бала"),
        ("өлтірді", "kk", "өлтір"),
        ("өлтірейік", "kk", "өлтір"),
        ("жиналыңдар", "kk", "жинал"),
        ("масаншыға", "kk", "масаншы"),
        ("сортөбеде", "kk", "сортөбе"),
        ("қордайдан", "kk", "қордай"),
        ("масанчиге", "kk", "масанчи"),
        ("дуңгандардын", "ky", "дуңган"),
        ("кыргыздарга", "ky", "кыргыз"),
        ("аялдарды", "ky", "аял"),
        ("урушту", "ky", "уруш"),
        ("балдарыбызды", "ky", "бала"),
        ("чогулгула", "ky", "чогул"),
        ("масанчиге", "ky", "масанчи"),
        ("дунганами", "ru", "дунганин"),
        ("убьем", "ru", "убить"),
        ("детей", "ru", "ребенок"),
        ("турки-месхетинцы", "ru", "турок-месхетинец"),
        ("stabbed", "en", "stab"),
        ("uyghurs", "en", "uyghur"),
    ],
)
def test_forms_the_lexicons_depend_on(word: str, language: str, expected: str) -> None:
    assert lemma(word, language) == expected


@pytest.mark.parametrize("name", ["kk", "ky", "kk_heldout", "ky_heldout", "en"])
def test_dictionary_forms_mostly_stay_what_they_are(name: str) -> None:
    # A lexicon written in dictionary forms must meet them: stemming a stem should change nothing.
    language = name.split("_", maxsplit=1)[0]
    stems = {expected for _, alternatives, _ in _rows(name) for expected in alternatives}
    changed = sorted(stem for stem in stems if lemma(stem, language) != stem)
    # measured: none on the development sets; 4 of 70 on kk_heldout (талдықорған, отбасы, талқанда, ұста)
    assert len(changed) <= (5 if name == "kk_heldout" else 0), changed


@pytest.mark.parametrize("word", ["ата", "бала", "қыз", "ел", "жер", "өлтір", "адам", "жақсы", "мектеп"])
def test_short_kazakh_roots_are_not_over_stripped(word: str) -> None:
    assert stem_kazakh(word) == word


@pytest.mark.parametrize(
    ("word", "stem", "reading"),
    [
        ("атамызды", "ата", "our grandfather, not ат (horse) + -амыз"),
        ("урушту", "уруш", "fought, not ур (beat) + -ушту"),
        ("шығайық", "шық", "ғ before a vowel is қ again"),
        ("чыгалы", "чык", "г before a vowel is к again"),
        ("халқымыз", "халық", "vowel elision restored"),
        ("масаншыдағыларға", "масаншы", "case, plural and relative in order"),
        ("жиналғандарға", "жинал", "participle, plural, case"),
    ],
)
def test_readings_that_need_more_than_longest_first(word: str, stem: str, reading: str) -> None:
    language = "ky" if word in ("урушту", "чыгалы") else "kk"
    assert lemma(word, language) == stem, reading


@pytest.mark.parametrize(
    ("word", "language"), [("өлтірме", "kk"), ("өлтірмеңдер", "kk"), ("өлтүрбө", "ky"), ("өлтүрбөгүлө", "ky")]
)
def test_negation_is_never_stripped(word: str, language: str) -> None:
    # "do not kill" must not meet the lexicon's "kill"
    assert lemma(word, language) not in ("өлтір", "өлтүр")


def test_vowel_harmony_blocks_a_strip_that_does_not_fit() -> None:
    # -ге is front: after the back stem "бала" it cannot be a dative, so nothing is stripped
    assert stem_kazakh("балаге") == "балаге"
    assert stem_kazakh("балаға") == "бала"


# --- routing by language tag and letters ----------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "language", "expected"),
    [
        ("дүнгендерге", "ru", "дүнген"),  # Kazakh letters inside a Russian message
        ("killed", "ru", "kill"),  # Latin inside a Russian message
        ("убили", "mixed", "убить"),  # known to the Russian dictionary
        ("кыргыздарга", "mixed", "кыргыз"),  # unknown to it: Turkic rules
        ("бала", "und", "бала"),  # a listed Kazakh root before a Russian genitive of "бал"
        ("қазақтарға", "other", "қазақ"),
        ("өлтүрдү", "und", "өлтүр"),  # ө ү without Kazakh letters: Kyrgyz
        ("qazaqtar", "kk", "qazaqtar"),  # informal Kazakh Latin is left to the normaliser
        ("ещё", "ru", "еще"),
        ("2020", "ru", "2020"),
        ("жиналайық", "uz", "жинал"),
    ],
)
def test_language_is_chosen_per_word_where_the_tag_does_not_decide(word: str, language: str, expected: str) -> None:
    assert lemma(word, language) == expected


def test_lemmas_follow_the_tokens() -> None:
    text = "дүнгендерді қуыңдар, масаншыға жиналайық!"
    assert lemmas(tokenize(text), "kk") == ["дүнген", "қу", "масаншы", "жинал"]
    assert lemmas([], "kk") == []


def test_hyphenated_words_are_stemmed_on_their_last_part() -> None:
    assert stem_kazakh("қазақ-дүнгендерге") == "қазақ-дүнген"
    assert stem_kyrgyz("үй-бүлөлөрүбүздү") == "үй-бүлө"


def test_english_rules_are_light() -> None:
    assert [stem_english(w) for w in ["villages", "enemies", "hated", "gathering", "news", "bus", "this"]] == [
        "village",
        "enemy",
        "hate",
        "gather",
        "news",
        "bus",
        "this",
    ]


# --- caching and cost -----------------------------------------------------------------------------


def test_repeated_words_are_answered_from_the_cache() -> None:
    # Benchmark-free: a repeated word is a cache hit (a dictionary look-up, about a microsecond),
    # and the Russian analyser is built once however many words pass.
    lemma("дунганами", "ru")
    before = lemma.cache_info()
    for _ in range(100):
        assert lemma("дунганами", "ru") == "дунганин"
    after = lemma.cache_info()
    assert after.hits - before.hits == 100
    assert after.misses == before.misses
    assert lemma.cache_info().maxsize == 200_000
    lemma("казахам", "ru")
    assert morphology._analyzer.cache_info().currsize == 1


# --- bad input ------------------------------------------------------------------------------------

JUNK = [
    "",
    " ",
    "🙂🔥🙂",
    "\x00\x01\ufffd\ud800",
    "ж" * 100_000,
    "қазақ " * 20_000,
    "Масаншыға 集合 ⵣ اجتمعوا qazaq'tar",
    "-'-'-",
    "'",
    "___",
    "١٢٣",
    "ß ﬁ İı",
    bytes(range(256)).decode("latin-1"),
]


@pytest.mark.parametrize("text", JUNK)
@pytest.mark.parametrize("language", ["ru", "kk", "ky", "en", "mixed", "und", "zh", ""])
def test_bad_input_never_raises(text: str, language: str) -> None:
    tokens = tokenize(text)
    assert all(isinstance(s, str) for s in lemmas(tokens, language))
    assert isinstance(lemma(text, language), str)
    assert isinstance(stem_kazakh(text), str) and isinstance(stem_kyrgyz(text), str)
    assert isinstance(stem_english(text), str)


@given(st.text(max_size=80), st.sampled_from(["ru", "kk", "ky", "en", "mixed", "und"]))
@settings(max_examples=300, deadline=None)
def test_any_word_gets_a_string_back(word: str, language: str) -> None:
    assert isinstance(lemma(word, language), str)


def test_non_strings_do_not_raise() -> None:
    assert tokenize(None) == []  # type: ignore[arg-type]
    assert lemma(None, "ru") == ""


def test_a_huge_word_comes_back_unchanged() -> None:
    word = "өлтір" * 1_000 + "ді"
    assert lemma(word, "kk") == word


# --- data files -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["suffixes_kk.tsv", "suffixes_ky.tsv", "english_suffixes.tsv"])
def test_tables_state_their_source_and_licence_and_parse(name: str) -> None:
    text = resources.files("flashpoint").joinpath("data", "text", name).read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert "Source:" in header and "Licence:" in header
    kinds = {"suffix", "root", "irregular", "alternation", "final_cluster", "keep"}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            assert line.split("\t")[0] in kinds, line


def test_every_suffix_row_expands_to_harmonic_forms() -> None:
    grammar = morphology._grammar("ky")
    assert {"гыла", "гиле", "гула", "гүлө"} <= set(grammar.suffixes)
    assert {"лар", "лер", "лор", "лөр"} <= set(grammar.suffixes)
    kazakh = morphology._grammar("kk")
    assert {"ға", "ге", "қа", "ке", "дық", "дік"} <= set(kazakh.suffixes)
    assert "ғе" not in kazakh.suffixes  # ғ and қ only with back vowels
