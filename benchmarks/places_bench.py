"""Place extraction: gazetteer load time and memory, and messages per CPU-second.

Load time is measured in a fresh subprocess (nothing cached), as the wall time of
``load_gazetteer()`` plus building the resolver's index, with the process's peak memory before and
after. Throughput runs the resolver over the demo scenario's messages, already normalised, repeated
to N with each repeat made unique; the baseline, in the same run, is tokenising the same texts (the
floor of any word-level matcher).

Results go to benchmarks/results/places-<date>.json and benchmarks/results/places-latest.json.

Example:
    python benchmarks/places_bench.py --messages 100000
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from results_file import write_results

ROOT = Path(__file__).resolve().parents[1]

_LOAD = """
import resource, time, json
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
from flashpoint.places.gazetteer import load_gazetteer
from flashpoint.places.extract import PlaceResolver
imported = time.perf_counter()
gazetteer = load_gazetteer()
loaded = time.perf_counter()
PlaceResolver(gazetteer)
indexed = time.perf_counter()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"import_s": imported - started, "load_s": loaded - imported, "index_s": indexed - loaded,
                  "places": len(gazetteer.places), "rss_before_mib": before / 1024, "rss_after_mib": after / 1024}))
"""


def load_figures() -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", _LOAD], capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from speech_bench import demo_texts

    from flashpoint.places.extract import PlaceResolver
    from flashpoint.places.gazetteer import load_gazetteer
    from flashpoint.stages.text import clean_text
    from flashpoint.text.morphology import tokenize
    from flashpoint.text.normalise import normalise_for_matching

    load = load_figures()
    print(
        f"gazetteer: {load['places']:,.0f} places, load {load['load_s']:.3f} s + index {load['index_s']:.3f} s, "
        f"peak memory {load['rss_before_mib']:.0f} -> {load['rss_after_mib']:.0f} MiB",
        flush=True,
    )
    base = [normalise_for_matching(clean_text(t)) for t in demo_texts()]
    texts = [f"{base[i % len(base)]} {i // len(base)}" for i in range(args.messages)]
    resolver = PlaceResolver(load_gazetteer())
    rows = []
    found = 0
    for name, work in (("tokenize", tokenize), ("resolve_places", resolver.resolve)):
        started = time.process_time()
        for text in texts:
            result = work(text)
            if name == "resolve_places":
                found += bool(result)
        cpu = time.process_time() - started
        rows.append({"name": name, "items": len(texts), "cpu_s": round(cpu, 3), "per_cpu_s": round(len(texts) / cpu)})
        print(f"{name:15s} {len(texts):>9,d} texts {cpu:7.2f} s CPU {len(texts) / cpu:>10,.0f} per CPU-second")
    rows[1]["ratio_to_tokenize"] = round(rows[1]["per_cpu_s"] / rows[0]["per_cpu_s"], 3)
    report = {
        "benchmark": "places",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "load": {k: round(v, 4) for k, v in load.items()},
        "messages": len(texts),
        "with_a_place": round(found / len(texts), 4),
        "target_per_cpu_s": 20_000,
        "results": rows,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    latest = write_results("places", report)
    print(f"messages naming a place: {report['with_a_place']:.1%}; results in {latest}")


if __name__ == "__main__":
    main()
