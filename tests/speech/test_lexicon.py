"""The lexicon files and the matcher: patterns, prefixes, lemmas, negated Turkic verbs, user files."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashpoint.errors import ConfigError
from flashpoint.speech.lexicon import CUES, Lexicon, load_lexicon, read_cues, read_directory


def test_packaged_lexicon_loads_every_language_and_cue() -> None:
    lexicon = load_lexicon()
    languages = {e.language for e in lexicon.entries if e.kind == "cue"}
    assert {"ru", "kk", "ky", "en"} <= languages
    for language in ("ru", "kk", "ky", "en"):
        cues = {e.label for e in lexicon.entries if e.kind == "cue" and e.language == language}
        missing = CUES - cues - {"reclaim"}
        assert not missing, f"{language} lexicon lacks {sorted(missing)}"


def test_patterns_match_exact_prefix_lemma_and_sequences() -> None:
    lexicon = Lexicon.from_rows(
        cues=[
            ("ru", "gather", "все в", 1.0, ""),
            ("ru", "weapon", "арматур*", 1.0, ""),
            ("ru", "derogation", "=враг", 0.7, ""),
        ]
    )
    words = ["все", "в", "масанчи", "с", "арматурой", "врагов"]
    lemmas = ["весь", "в", "масанчи", "с", "арматура", "враг"]
    found = {(m.label, m.start, m.end) for m in lexicon.match(words, lemmas, "ru")}
    assert found == {("gather", 0, 2), ("weapon", 4, 5), ("derogation", 5, 6)}
    assert lexicon.match(["все", "на", "масанчи"], None, "ru") == []


def test_short_cues_stay_in_their_language_long_ones_cross_over() -> None:
    lexicon = Lexicon.from_rows(cues=[("ru", "negation", "не", 1.0, ""), ("ru", "threat", "вырежем", 1.0, "")])
    assert [m.label for m in lexicon.match(["не"], None, "kk")] == []  # Kazakh "не" is "what"
    assert [m.label for m in lexicon.match(["вырежем"], None, "kk")] == ["threat"]  # code-switching
    assert [m.label for m in lexicon.match(["не"], None, "")] == ["negation"]  # unknown language: all apply


def test_a_kazakh_verb_prefix_marks_its_negative_form() -> None:
    lexicon = Lexicon.from_rows(cues=[("kk", "violence_call", "өлтір*", 1.0, "")])
    (positive,) = lexicon.match(["өлтіріңдер"], None, "kk")
    (negative,) = lexicon.match(["өлтірмеңдер"], None, "kk")
    assert not positive.negated and negative.negated


def test_bad_rows_name_the_file_and_line(tmp_path: Path) -> None:
    cues = tmp_path / "cues"
    cues.mkdir()
    (cues / "ru.tsv").write_text("# header\nthreat\tубьем\t1.0\nthret\tвырежем\t1.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ru.tsv:3: unknown cue 'thret'"):
        read_directory(tmp_path)
    (cues / "ru.tsv").write_text("threat\tубьем\tmuch\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ru.tsv:1: weight 'much' is not a number"):
        read_cues(cues / "ru.tsv", "ru")
    (tmp_path / "targets.tsv").write_text("dungan\tru\tдунган*\tslurr\t\n", encoding="utf-8")
    (cues / "ru.tsv").unlink()
    with pytest.raises(ConfigError, match=r"targets.tsv:1: unknown kind 'slurr'"):
        read_directory(tmp_path)


def test_a_user_directory_adds_terms_without_code(tmp_path: Path) -> None:
    (tmp_path / "targets.tsv").write_text("# local slang\nkorean\tru\tкорейц*\tname\tlocal\n", encoding="utf-8")
    (tmp_path / "cues").mkdir()
    (tmp_path / "cues" / "ru.tsv").write_text("dehumanising\tсаранчуки\t1.0\tlocal\n", encoding="utf-8")
    lexicon = load_lexicon((tmp_path,))
    labels = {(m.kind, m.label) for m in lexicon.match(["корейцы", "саранчуки"], None, "ru")}
    assert {("target", "korean"), ("cue", "dehumanising")} <= labels
    with pytest.raises(ConfigError, match="not found"):
        load_lexicon((tmp_path / "nowhere",))
