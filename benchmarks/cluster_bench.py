"""Throughput, latency and memory of rumour clustering with a million messages in the index.

The stream mixes forwarding chains (``flashpoint.rumours.chains`` on the test claims, one seed after
another, so claims come back again and again as viral rumours do) with unrelated messages: random
sentences of 5-20 words drawn Zipf-wise from the claims' words plus 30,000 made-up words. Unrelated
messages each start a cluster and enter the index, so the index grows as fast as it can: the worst
case for memory and for spurious LSH candidates.

Figures, all on one core in this process:

- ``minhash_only`` (the baseline): canonical text + character shingles + ``RMinHash``, no index;
- ``fill``: ``Clusterer.add`` for every message up to N (also the cost of ``Clusterer.rebuild`` after
  a restart, which replays the same calls);
- ``at_size``: the last 10% of the fill, when the index holds 0.9 N messages or more;
- ``latency``: per-message wall time of ``add`` for 20,000 more messages after the fill (p50/p95/p99);
- ``peak_rss_mb``: the process's peak resident memory (the generator streams: no list of N texts);
- ``quality``: pairwise precision and recall of the chain messages against the generator's labels,
  and how many unrelated messages joined a cluster instead of starting their own.

Results go to benchmarks/results/cluster-<date>.json and benchmarks/results/cluster-latest.json.

Example:
    python benchmarks/cluster_bench.py --messages 1000000
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import random
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results_file import write_results

from flashpoint.rumours.chains import ChainMessage, generate_chains, load_claims, load_edit_kit, pairwise_scores
from flashpoint.rumours.cluster import Clusterer, ClusterSettings, canonical_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "rumours"
LETTERS = "абвгдеёжзийклмнопрстуфхцчшщыэюяәғқңөұүһі"


def unrelated_stream(seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    claim_words = sorted({w for c in load_claims(DATA / "claims.tsv") for w in c.text.split()})
    made_up = ["".join(rng.choice(LETTERS) for _ in range(rng.randint(2, 11))) for _ in range(30_000)]
    vocabulary = claim_words + made_up
    rng.shuffle(vocabulary)
    vocabulary.sort(key=len)  # Zipf's law of abbreviation: the frequent words are the short ones
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(vocabulary))))
    while True:
        yield " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(5, 20)))


def chain_stream() -> Iterator[ChainMessage]:
    claims, kit = load_claims(DATA / "claims.tsv"), load_edit_kit(DATA / "comments.tsv")
    for seed in itertools.count():
        yield from generate_chains(claims, kit, seed=seed, unrelated=0)


def messages(n: int, chain_share: float, seed: int = 1) -> Iterator[tuple[str, str, str, datetime]]:
    """(message_id, text, gold label, time), ``chain_share`` of them from forwarding chains."""
    rng = random.Random(seed)
    chains, unrelated = chain_stream(), unrelated_stream(seed)
    at = datetime(2020, 2, 7, tzinfo=UTC)
    for i in range(n):
        if rng.random() < chain_share:
            m = next(chains)
            yield f"c{i}", m.text, m.gold, at
        else:
            yield f"u{i}", next(unrelated), f"u{i}", at


def current_rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as stream:
        return int(stream.read().split()[1]) * resource.getpagesize() / 2**20


def run(n: int, chain_share: float) -> dict[str, Any]:
    settings = ClusterSettings()
    sample = list(itertools.islice(messages(min(n, 200_000), chain_share, seed=99), min(n, 200_000)))
    probe = Clusterer(settings)
    started = time.process_time()
    for _, text, _, _ in sample:
        probe.minhash(canonical_text(text, settings.max_chars))
    baseline_rate = len(sample) / (time.process_time() - started)
    del sample, probe
    print(f"minhash only   {baseline_rate:>10,.0f} msg per CPU-second", flush=True)

    clusterer = Clusterer(settings)
    gold: dict[str, str] = {}  # chain messages only: 1 M ids would distort the memory figure
    predicted: dict[str, str] = {}
    unrelated_joined = 0
    tail_from = int(n * 0.9)
    rss_before = current_rss_mb()
    started = time.process_time()
    tail_started = started
    for i, (message_id, text, label, at) in enumerate(messages(n, chain_share)):
        if i == tail_from:
            tail_started = time.process_time()
        assignment = clusterer.add(message_id, text, at)
        if label.startswith("u"):
            unrelated_joined += not assignment.new_cluster
        else:
            predicted[message_id], gold[message_id] = assignment.cluster_id, label
        if i % 100_000 == 0 and i:
            rate = i / (time.process_time() - started)
            print(f"  {i:>9,d} messages  {clusterer.representatives:>9,d} indexed  {rate:>8,.0f} msg/CPU-s", flush=True)
    ended = time.process_time()
    fill_rate, tail_rate = n / (ended - started), (n - tail_from) / (ended - tail_started)
    print(f"fill           {fill_rate:>10,.0f} msg per CPU-second; last 10% {tail_rate:,.0f}", flush=True)

    latencies = []
    for message_id, text, _, at in messages(20_000, chain_share, seed=7):
        t0 = time.perf_counter()
        clusterer.add("late-" + message_id, text, at)
        latencies.append(time.perf_counter() - t0)
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1e6, 1)

    current = clusterer.current_ids()
    scores = pairwise_scores(gold, {k: current[v] for k, v in predicted.items()})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "messages": n,
        "chain_share": chain_share,
        "settings": {k: getattr(settings, k) for k in settings.__dataclass_fields__},
        "baseline_minhash_only_msg_per_cpu_s": round(baseline_rate),
        "fill_msg_per_cpu_s": round(fill_rate),
        "at_size_msg_per_cpu_s": round(tail_rate),
        "ratio_to_baseline": round(tail_rate / baseline_rate, 3),
        "latency_us": {"p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(latencies[-1] * 1e6, 1)},
        "peak_rss_mb": round(peak_mb),
        "rss_before_fill_mb": round(rss_before),
        "rss_after_fill_mb": round(current_rss_mb()),
        "unrelated_that_joined_a_cluster": unrelated_joined,
        "clusters": clusterer.clusters,
        "indexed_representatives": clusterer.representatives,
        "quality": {
            "precision": round(scores.precision, 5),
            "recall": round(scores.recall, 5),
            "gold_pairs": scores.gold_pairs,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--chain-share", type=float, default=0.3)
    args = parser.parse_args()
    result = {
        "benchmark": "cluster",
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu": platform.processor() or platform.machine(),
        **run(args.messages, args.chain_share),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    write_results("cluster", result)


if __name__ == "__main__":
    main()
