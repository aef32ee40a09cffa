"""Throughput of the text stages: language ID, evasion normaliser, speech rules and the linear model.

The corpus is the demo scenario's messages (Telegram, WhatsApp and VK exports in Russian, Kazakh,
Kyrgyz and English: three days of a village crisis, so richer in hostile messages than everyday
chat), repeated to N messages; each repeat appends
its number, so no whole-text cache answers a repeat while word-level caches (lemmas) stay warm, as
they do on real chat. Everything runs in this one process on one core; figures are messages per
CPU-second, and ratios are against language ID alone measured in the same run.

- ``language``: ``identify`` alone (the baseline);
- ``normalise``: ``normalise_for_matching`` alone;
- ``speech_rules``: lexicons and rules on already-normalised text;
- ``speech_model``: the linear model on the rules' candidates only (trained here on the suite's dev
  cases, so the figure is the cascade's real cost);
- ``text_stages``: language + normaliser (with its language hooks) + rules + model cascade, per
  message as the ingest stages run them.

Results go to benchmarks/results/speech-<date>.json and benchmarks/results/speech-latest.json.

Example:
    python benchmarks/speech_bench.py --messages 50000
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results_file import write_results

from flashpoint.errors import RecordError
from flashpoint.model import Message, RawRecord
from flashpoint.sources import detect_format, expand_paths
from flashpoint.speech.model import SpeechModel
from flashpoint.speech.signals import analyse
from flashpoint.speech.stage import is_candidate, with_model
from flashpoint.speech.suite import load_suite
from flashpoint.stages.text import clean_text
from flashpoint.text.language import identify
from flashpoint.text.normalise import latinise_english, normalise_for_matching, to_cyrillic_for

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "flashpoint" / "data" / "demo"


def demo_texts() -> list[str]:
    """The text of every message of the demo scenario, read by the real readers."""
    texts = []
    for path in expand_paths([DEMO]):
        if path.suffix not in (".json", ".txt", ".jsonl"):
            continue
        source = detect_format(path)
        with path.open("rb") as stream:
            for raw in source.records(path, stream, {}):
                if not isinstance(raw, RawRecord):
                    continue
                try:
                    parsed = source.parse(raw, {})
                except RecordError:  # the scenario carries malformed records on purpose
                    continue
                texts.extend(m.text for m in parsed if isinstance(m, Message) and m.text)
    return texts


def corpus(n: int) -> list[str]:
    base = demo_texts()
    return [f"{base[i % len(base)]} {i // len(base)}" for i in range(n)]


def timed(name: str, items: Sequence[Any], work: Callable[[Any], object]) -> dict[str, Any]:
    started_cpu, started = time.process_time(), time.perf_counter()
    for item in items:
        work(item)
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started
    rate = len(items) / cpu if cpu else float("inf")
    print(f"{name:14s} {len(items):>9,d} items  {cpu:7.2f} s CPU  {rate:>10,.0f} per CPU-second", flush=True)
    return {
        "name": name,
        "items": len(items),
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "per_cpu_s": round(rate),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    texts = [clean_text(t) for t in corpus(args.messages)]
    print(f"corpus: {len(texts):,} messages, mean {sum(map(len, texts)) / len(texts):.0f} characters", flush=True)
    suite = load_suite()
    dev = [c for c in suite.cases if c.split == "dev"]
    model = SpeechModel().fit([normalise_for_matching(c.text) for c in dev], [c.label for c in dev])
    normalised = [normalise_for_matching(t) for t in texts]
    languages = [identify(t).language for t in texts]
    results = [analyse(n, lang) for n, lang in zip(normalised, languages, strict=True)]
    candidates = [i for i, r in enumerate(results) if is_candidate(r)]

    def full(text: str) -> object:
        language = identify(text)
        value = language.as_value()
        norm = normalise_for_matching(
            latinise_english(text) if language.language == "en" else text, to_cyrillic=to_cyrillic_for(value)
        )
        result = analyse(norm, language.language)
        if is_candidate(result):
            result = with_model(result, model.predict_proba([norm])[0])
        return result

    rows = [
        timed("language", texts, identify),
        timed("normalise", texts, normalise_for_matching),
        timed("speech_rules", list(zip(normalised, languages, strict=True)), lambda pair: analyse(*pair)),
        timed("speech_model", [normalised[i] for i in candidates], lambda text: model.predict_proba([text])),
        timed("text_stages", texts, full),
    ]
    baseline = rows[0]["per_cpu_s"]
    for row in rows:
        row["ratio_to_language"] = round(row["per_cpu_s"] / baseline, 3)
    report = {
        "benchmark": "speech",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "messages": len(texts),
        "candidate_share": round(len(candidates) / len(texts), 4),
        "target_per_cpu_s": 10_000,
        "results": rows,
    }
    latest = write_results("speech", report)
    print(f"candidates: {report['candidate_share']:.1%}; results in {latest}")


if __name__ == "__main__":
    main()
