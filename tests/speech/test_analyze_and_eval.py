"""`flashpoint analyze` (text or streamed JSONL), `flashpoint eval speech`, and the model cascade."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import orjson
from click.testing import CliRunner

from flashpoint.cli import main
from flashpoint.model import Enriched, Message
from flashpoint.speech.model import SpeechModel
from flashpoint.speech.stage import DetectSpeech, danger_probability
from flashpoint.speech.suite import load_suite


def run(*args: str, stdin: bytes | None = None) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(main, ["--store", ":memory:", *args], input=stdin, catch_exceptions=False)
    lines = [orjson.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines, result.output


def test_analyze_a_text_argument() -> None:
    code, (out,), _ = run("analyze", "Все едем в Масанчи сегодня в 21:00, они убили нашего аксакала!")
    assert code == 0
    assert out["language"]["language"] == "ru"  # type: ignore[index]
    speech = out["speech"]
    assert speech["severity"] == "critical"  # type: ignore[index]
    names = {s["name"] for s in speech["signals"]}  # type: ignore[index]
    assert {"mobilisation", "attack_on_vulnerable"} <= names
    for signal in speech["signals"]:  # type: ignore[index]
        for start, end in signal["spans"]:
            assert 0 <= start < end <= len(out["text_norm"])  # type: ignore[arg-type]


def test_analyze_streams_jsonl_and_names_bad_lines() -> None:
    lines = [
        {"id": "a", "text": "Дүнгендерді өлтіреміз"},
        "not json",
        {"id": "c", "title": "no text"},
        {"id": 4, "text": "Тойға шақырамыз, бәріңіз келіңіздер"},
        {"id": "e", "text": ""},
    ]
    stdin = b"\n".join(x.encode() if isinstance(x, str) else orjson.dumps(x) for x in lines) + b"\n"
    code, out, output = run("analyze", stdin=stdin)
    assert code == 3 and "2 line(s) could not be analysed" in output
    assert [o.get("id") for o in out] == ["a", None, "c", "4", "e"]
    assert str(out[1]["error"]).startswith("line 2: not JSON")
    assert "line 3" in str(out[2]["error"])
    assert out[0]["speech"]["severity"] in ("high", "critical")  # type: ignore[index]
    assert out[3]["speech"]["severity"] in ("none", "low")  # type: ignore[index]
    assert out[4]["speech"]["severity"] == "none"  # type: ignore[index]


def test_analyze_reads_a_million_lines_in_constant_memory() -> None:
    """The analyzer is a generator over lines: it holds one line at a time."""
    from flashpoint.config import Config
    from flashpoint.runners.analyze import Analyzer

    produced = 0

    def endless() -> object:
        nonlocal produced
        while True:
            produced += 1
            yield b'{"id": 1, "text": "hello"}\n'

    results = Analyzer(Config()).analyze_lines(endless())  # type: ignore[arg-type]
    first = next(results)
    assert first["id"] == "1" and produced == 1


def test_eval_speech_reports_per_functionality_and_language(tmp_path: Path) -> None:
    table = tmp_path / "suite.md"
    code, _, _ = run("eval", "speech", "--language", "en", "--split", "dev", "--markdown", str(table))
    assert code == 0
    text = table.read_text(encoding="utf-8")
    functionalities = {c.functionality for c in load_suite().cases}
    assert all(f in text for f in functionalities)
    assert "| en" in text or " en " in text


def test_the_model_reads_only_candidates_and_moves_the_score() -> None:
    class Recorder(SpeechModel):
        seen: ClassVar[list[str]] = []

        def predict_proba(self, texts):  # type: ignore[no-untyped-def]
            self.seen.extend(texts)
            return [{"dangerous": 0.95, "not_dangerous": 0.05} for _ in texts]

    model = Recorder()
    stage = DetectSpeech(model=model)
    from datetime import UTC, datetime

    def record(text: str) -> Enriched:
        m = Message.create(source="jsonl", native_id=text[:5], channel="c", sent_at=datetime(2020, 2, 7, tzinfo=UTC),
                           text=text, raw_sha256="")  # fmt: skip
        return Enriched(m, {"text_norm": text, "language": {"language": "ru"}})

    plain, hostile = stage.run_batch([record("погода хорошая"), record("дунгане тараканы")])
    assert model.seen == ["дунгане тараканы"], "only the candidate reaches the model"
    assert not any(s["name"] == "model" for s in plain.values["speech"]["signals"])
    signal = next(s for s in hostile.values["speech"]["signals"] if s["name"] == "model")
    assert signal["score"] == 0.95 and signal["rules"] == ["label:dangerous"]
    assert danger_probability({"dangerous": 0.2, "threat": 0.3, "counter_speech": 0.5}) == 0.5


def test_a_trained_model_beside_the_store_is_used_by_ingest(tmp_path: Path) -> None:
    from flashpoint.config import Config
    from flashpoint.runners.embedded import speech_stage

    texts = ["дунгане тараканы", "бейте их", "хорошая погода", "свадьба завтра"] * 5
    labels = ["dangerous", "dangerous", "not_dangerous", "not_dangerous"] * 5
    SpeechModel().fit(texts, labels).save(tmp_path / "models" / "speech")
    config = Config.from_mapping({"store": {"path": str(tmp_path / "f.db")}})
    assert speech_stage(config).model is not None
    off = Config.from_mapping({"store": {"path": str(tmp_path / "f.db")}, "speech": {"use_model": False}})
    assert speech_stage(off).model is None


def test_the_model_raises_a_score_but_not_over_a_counter_speech_context() -> None:
    from flashpoint.speech.signals import analyse
    from flashpoint.speech.stage import with_model

    sure = {"dangerous": 0.92, "not_dangerous": 0.08}
    mild = analyse("дунгане опять за своё", "ru")  # a group, no hallmark the lexicons know
    raised = with_model(mild, sure)
    assert raised.score == 0.89 and raised.severity == "high"
    condemned = analyse("осуждаем тех, кто пишет «дунган надо вырезать»", "ru")
    assert "counter_speech" in condemned.contexts
    kept = with_model(condemned, sure)
    assert kept.severity == condemned.severity and kept.score == condemned.score
    assert kept.signal("model") is not None  # the model's opinion is still shown
