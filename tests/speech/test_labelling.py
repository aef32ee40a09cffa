"""Labelling: the most uncertain message first, the store's label table, and `flashpoint label`
driven end to end against a real store filled by ingest."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from flashpoint.cli_speech import ranked_candidates, speech_cli
from flashpoint.config import Config
from flashpoint.errors import ConfigError, StoreError
from flashpoint.model import Enriched
from flashpoint.runners.embedded import EmbeddedRunner, default_stages
from flashpoint.speech.labelling import (
    LabelCandidate,
    parse_key,
    parse_label_set,
    probability_margin,
    uncertainty_order,
)
from flashpoint.store import SqliteStore
from tests.conftest import write_jsonl

KEY = "label-test-key-" + "k" * 32
DATA = Path(__file__).resolve().parents[1] / "data" / "speech_training"


class HandMadeModel:
    """Probabilities written by hand, looked up by text."""

    def __init__(self, table: Mapping[str, dict[str, float]]) -> None:
        self.table = table
        self.calls: list[list[str]] = []

    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]:
        self.calls.append(list(texts))
        return [self.table[t] for t in texts]


def candidate(rowid: int, text: str = "", score: object = None, label: str | None = None) -> LabelCandidate:
    speech = None if score is None else {"severity": "low", "score": score, "signals": [], "targets": []}
    return LabelCandidate(rowid, f"m{rowid}", text or f"text {rowid}", "ru", speech, label)


# -- ordering ----------------------------------------------------------------------------------------


def test_with_a_model_the_smallest_margin_between_the_top_two_comes_first() -> None:
    model = HandMadeModel(
        {
            "sure": {"dangerous": 0.95, "not_dangerous": 0.03, "counter_speech": 0.02},  # margin 0.92
            "torn": {"dangerous": 0.41, "not_dangerous": 0.40, "counter_speech": 0.19},  # margin 0.01
            "middling": {"dangerous": 0.2, "not_dangerous": 0.5, "counter_speech": 0.3},  # margin 0.2
            "three-way": {"dangerous": 0.34, "not_dangerous": 0.33, "counter_speech": 0.33},  # margin 0.01
            "done": {"dangerous": 0.5, "not_dangerous": 0.5, "counter_speech": 0.0},  # labelled: left out
        }
    )
    items = [
        candidate(1, "sure"),
        candidate(2, "torn"),
        candidate(3, "middling"),
        candidate(4, "three-way"),
        candidate(5, "done", label="dangerous"),
    ]
    ranked = uncertainty_order(items, model)
    assert [r.candidate.text for r in ranked] == ["torn", "three-way", "middling", "sure"]  # ties: by rowid
    assert [round(r.margin, 2) for r in ranked] == [0.01, 0.01, 0.2, 0.92]
    assert ranked[2].suggestion == "not_dangerous" and ranked[0].probabilities == model.table["torn"]
    assert model.calls == [["sure", "torn", "middling", "three-way"]]  # labelled messages are not even scored


def test_without_a_model_the_rule_score_closest_to_one_half_comes_first() -> None:
    items = [
        candidate(1, score=0.9),
        candidate(2, score=0.45),
        candidate(3),  # no speech enrichment yet: score 0
        candidate(4, score=0.6),
        candidate(5, score=0.55, label="not_dangerous"),
        candidate(6, score=0.2),
    ]
    ranked = uncertainty_order(items)
    assert [r.candidate.rowid for r in ranked] == [2, 4, 6, 1, 3]
    assert ranked[0].margin == pytest.approx(0.1) and ranked[-1].margin == 1.0 and ranked[0].suggestion is None


@pytest.mark.parametrize("score", ["0.5", float("nan"), True, None, [0.5]])
def test_a_score_that_is_not_a_number_counts_as_zero(score: object) -> None:
    item = LabelCandidate(1, "m1", "text", speech={"score": score, "signals": "not a list", "targets": "x"})
    assert item.rule_score == 0.0 and item.signals == () and item.groups == () and item.severity == "none"


def test_scores_outside_the_scale_are_clamped_and_signals_read_from_objects() -> None:
    item = LabelCandidate(
        1,
        "m1",
        "text",
        speech={
            "severity": "high",
            "score": 3.5,
            "signals": [{"name": "mobilisation", "score": 0.8}, "threat", {"no": "name"}],
            "targets": [{"group": "dungan"}, {"group": "dungan"}, {"group": "uyghur"}],
        },
    )
    assert item.rule_score == 1.0 and item.severity == "high"
    assert item.signals == ("mobilisation", "threat") and item.groups == ("dungan", "uyghur")
    assert probability_margin({"only": 1.0}) == 1.0 and uncertainty_order([], HandMadeModel({})) == []


# -- keys and label sets -------------------------------------------------------------------------------------


def test_keys_mean_what_the_legend_says() -> None:
    labels = ("dangerous", "not_dangerous", "counter_speech")
    assert [parse_key(k, labels).label for k in ("1", " 2\n", "3", "Counter_Speech")] == [
        "dangerous",
        "not_dangerous",
        "counter_speech",
        "counter_speech",
    ]
    assert [parse_key(k, labels).kind for k in ("s", "U", "q", "4", "0", "", "x", "١")] == [
        "skip",
        "undo",
        "quit",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
    ]


@pytest.mark.parametrize("spec", ["dangerous", "a,a", "a,,b", "a b,c", ",".join("abcdefghij"), "a,q"])
def test_a_bad_label_set_is_refused(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_label_set(spec)


# -- the store's label table -----------------------------------------------------------------------------------


class RuleScores:
    """A stand-in speech stage: the ``speech`` value the rules would add, looked up by text."""

    name: ClassVar[str] = "speech"
    version: ClassVar[int] = 1
    needs: ClassVar[frozenset[str]] = frozenset({"text_clean"})
    adds: ClassVar[frozenset[str]] = frozenset({"speech"})
    SCORES: ClassVar[dict[str, float]] = {}

    def __call__(self, record: Enriched) -> Enriched:
        score = self.SCORES.get(record.message.text)
        if score is None:  # as if no speech stage had run on it: the value is left out
            return record
        signals = [{"name": "mobilisation", "score": score}] if score > 0.3 else []
        severity = "medium" if score >= 0.5 else "low"
        return record.with_values(speech={"severity": severity, "score": score, "signals": signals, "targets": []})


MESSAGES = {  # text: rule score (None: no speech enrichment)
    "Продаю картошку, самовывоз": 0.02,
    "Все едем в Масанчи, берите палки": 0.9,
    "Говорят, аксакала убили, правда?": 0.48,  # the most uncertain by the rules
    "Собрание во вторник в 18:00": None,
    "Они нас режут, собирайтесь": 0.62,
}


@pytest.fixture
def filled_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real store: the messages above ingested from JSONL through the default stages, with the
    stand-in in place of the real speech stage, and the environment set as `flashpoint` reads it."""
    path = tmp_path / "data" / "store.db"
    monkeypatch.setenv("FLASHPOINT_STORE", str(path))
    monkeypatch.setenv("FLASHPOINT_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("FLASHPOINT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(RuleScores, "SCORES", {t: s for t, s in MESSAGES.items() if s is not None})
    config = Config.load()
    rows = [
        {"id": i, "channel": "masanchi", "author": f"user{i}", "date": f"2020-02-07T1{i}:00:00+06:00", "text": text}
        for i, text in enumerate(MESSAGES)
    ]
    stages = [*(s for s in default_stages(config) if "speech" not in s.adds), RuleScores()]
    store = SqliteStore.from_config(config)
    EmbeddedRunner(store, config, stages).ingest([write_jsonl(tmp_path / "c.jsonl", rows)])
    store.close()
    yield path


def _open(path: Path) -> SqliteStore:
    return SqliteStore.from_config(Config.load())


def test_labels_are_recorded_replaced_removed_and_counted(filled_store: Path) -> None:
    store = _open(filled_store)
    ids = {m["text"]: m["message_id"] for m in store.speech_label_candidates()}
    first, second = ids["Продаю картошку, самовывоз"], ids["Все едем в Масанчи, берите палки"]
    store.record_speech_label(first, "dangerous", analyst="aa")
    store.record_speech_label(first, "not_dangerous", target=" ", analyst="bb")  # relabelling replaces
    store.record_speech_label(second, "dangerous", target="dungan")
    assert store.speech_label_counts() == {"dangerous": 1, "not_dangerous": 1}
    labelled = list(store.speech_labels())
    assert [(r["message_id"], r["label"], r["target"], r["analyst"]) for r in labelled] == [
        (first, "not_dangerous", None, "bb"),
        (second, "dangerous", "dungan", None),
    ]
    assert labelled[0]["text"] == "Продаю картошку, самовывоз" and labelled[0]["labelled_at"].endswith("+00:00")
    assert {c["message_id"] for c in store.speech_label_candidates()}.isdisjoint({first, second})
    assert store.remove_speech_label(first) and not store.remove_speech_label(first)
    with pytest.raises(StoreError):
        store.record_speech_label("no-such-message", "dangerous")
    with pytest.raises(StoreError):
        store.record_speech_label(second, "  ")
    store.close()


def test_candidates_come_in_batches_with_their_speech_enrichment(filled_store: Path) -> None:
    store = _open(filled_store)
    assert store.schema_version >= 2
    batches, after = [], 0
    while batch := store.speech_label_candidates(after, limit=2):
        batches.append(batch)
        after = batch[-1]["rowid"]
    assert [len(b) for b in batches] == [2, 2, 1]
    found = {c["text"]: c for b in batches for c in b}
    assert found["Говорят, аксакала убили, правда?"]["speech"]["score"] == 0.48
    assert found["Собрание во вторник в 18:00"]["speech"] is None
    assert all(c["language"] == "ru" for c in found.values())
    ranked = list(ranked_candidates(store, None, pool=2))  # ranked within pools of two
    assert len(ranked) == 5
    store.close()


# -- flashpoint label ----------------------------------------------------------------------------------------


@pytest.fixture
def label_cli(filled_store: Path) -> Callable[..., Result]:
    def invoke(*args: str, keys: str) -> Result:
        return CliRunner().invoke(speech_cli, ["label", *args], input=keys, catch_exceptions=False)

    return invoke


def _labels(path: Path) -> dict[str, tuple[str, str | None, str | None]]:
    store = _open(path)
    try:
        return {r["text"]: (r["label"], r["target"], r["analyst"]) for r in store.speech_labels()}
    finally:
        store.close()


def test_label_takes_keys_most_uncertain_first_and_shows_the_count(
    label_cli: Callable[..., Result], filled_store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = label_cli("--analyst", "aa", keys="1\n2\nq\n")
    assert result.exit_code == 0, result.output
    # Rule scores 0.48 then 0.62 are the closest to 0.5.
    assert _labels(filled_store) == {
        "Говорят, аксакала убили, правда?": ("dangerous", None, "aa"),
        "Они нас режут, собирайтесь": ("not_dangerous", None, "aa"),
    }
    shown = result.stdout
    assert shown.index("аксакала") < shown.index("режут") and "картошку" not in shown
    assert "severity medium" in shown and "signals: mobilisation" in shown and "language ru" in shown
    assert "2 labels this session; the store holds 2 labels: dangerous 1, not_dangerous 1" in shown
    assert not any(text in caplog.text for text in MESSAGES)  # message text is never logged


def test_label_skips_undoes_and_asks_for_a_target(label_cli: Callable[..., Result], filled_store: Path) -> None:
    # s skips the 0.48 message; 1 labels the 0.62 one; u undoes that and shows it again; 3 with a
    # target relabels it; x is no key (the legend is shown again), then 2 labels the 0.9 one.
    result = label_cli("--target", keys="s\n1\n\nu\n3\nDungan\nx\n2\n\n")
    assert result.exit_code == 0, result.output
    assert _labels(filled_store) == {
        "Они нас режут, собирайтесь": ("counter_speech", "dungan", None),
        "Все едем в Масанчи, берите палки": ("not_dangerous", None, None),
    }
    assert "undone: message" in result.stdout and "? 1 dangerous" in result.stdout
    assert "2 labels this session" in result.stdout  # the input ended: the session closes cleanly


def test_label_stops_at_the_limit_and_when_nothing_is_left(
    label_cli: Callable[..., Result], filled_store: Path
) -> None:
    assert "1 labels this session" in label_cli("--limit", "1", keys="1\n1\n1\n").stdout
    assert len(_labels(filled_store)) == 1
    result = label_cli(keys="2\n2\n2\n2\n2\n2\n")
    assert "No unlabelled messages left." in result.stdout and len(_labels(filled_store)) == 5
    assert "4 labels this session; the store holds 5 labels" in result.stdout


def test_label_orders_by_the_trained_model_beside_the_store(
    label_cli: Callable[..., Result], filled_store: Path
) -> None:
    trained = CliRunner().invoke(speech_cli, ["train", "speech", "--data", str(DATA / "labelled.csv")])
    assert trained.exit_code == 0, trained.output
    assert (filled_store.parent / "models" / "speech" / "model.json").exists()
    result = label_cli("--labels", "dangerous,not_dangerous,counter_speech", keys="q\n")
    assert "Ordered by the model's uncertainty" in result.stdout and "model: " in result.stdout
    assert "0 labels this session" in result.stdout


def test_label_refuses_a_bad_model_dir_and_a_missing_store(
    label_cli: Callable[..., Result], filled_store: Path, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    result = label_cli("--model", str(tmp_path / "empty"), keys="q\n")
    assert result.exit_code == 2 and "model.json" in result.stderr
    missing = CliRunner().invoke(speech_cli, ["--store", str(tmp_path / "nope.db"), "label"], input="q\n")
    assert missing.exit_code == 4 and not (tmp_path / "nope.db").exists()


def test_train_from_the_store_uses_the_analysts_labels(
    label_cli: Callable[..., Result], filled_store: Path, tmp_path: Path
) -> None:
    label_cli(keys="1\n2\n1\n2\n3\n")
    result = CliRunner().invoke(
        speech_cli,
        [
            "train",
            "speech",
            "--from-store",
            "--data",
            str(DATA / "labelled.csv"),
            "--out",
            str(tmp_path / "m"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    from flashpoint.speech.model import SpeechModel

    summary: dict[str, Any] = SpeechModel.load(tmp_path / "m").summary
    assert summary["rows"] == 217 + 5 and summary["data"] == "labelled.csv + store"
