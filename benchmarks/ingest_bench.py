"""Ingest throughput and memory, against baselines measured in the same run.

For JSONL and a Telegram Desktop export of N messages (default 1,000,000) this measures, each in its
own subprocess so that peak memory (max RSS) is the measurement's own:

- ``parse_only``: the bare parser over the same file (orjson per line; ijson over the export), the
  floor no reader can beat;
- ``sqlite_executemany``: SQLite's raw executemany of N message rows in the same batch size, the
  storage ceiling;
- ``flashpoint_foundation``: ingest with the foundation's stages (parse, pseudonymise, clean
  Unicode, hash, seal, chain, store): the figure issue 2 sets a target for;
- ``flashpoint``: the full default ingest, which adds language identification and the evasion
  normaliser.

Memory flatness: the JSONL ingest also runs at N/10; max RSS should not grow with N.
Results go to benchmarks/results/ingest-<date>.json and benchmarks/results/latest.json.

Example:
    python benchmarks/ingest_bench.py --messages 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "work"
RESULTS = ROOT / "benchmarks" / "results"
BATCH = 5000
WORDS = (
    "Масанчи",
    "Сортобе",
    "ауыл",
    "той",
    "базар",
    "жол",
    "сегодня",
    "дорога",
    "бидай",
    "аксакал",
    "мектеп",
    "погода",
    "жаңбыр",
    "полиция",
    "әкімдік",
    "people",
    "road",
    "news",
    "қой",
    "сиыр",
)


def message_text(i: int) -> str:
    n = 6 + i % 20
    return " ".join(WORDS[(i * 7 + k * 13) % len(WORDS)] for k in range(n)) + f" #{i}"


def make_jsonl(path: Path, n: int) -> None:
    start = datetime(2025, 3, 14, tzinfo=timezone(timedelta(hours=6)))
    with path.open("wb") as out:
        for i in range(n):
            row = {
                "id": i,
                "channel": f"chan{i % 40}",
                "author": f"user{i % 5000}",
                "date": (start + timedelta(seconds=i)).isoformat(),
                "text": message_text(i),
            }
            out.write(orjson.dumps(row) + b"\n")


def make_telegram(path: Path, n: int) -> None:
    start = 1741888800
    with path.open("wb") as out:
        out.write(b'{\n "name": "Bench group",\n "type": "private_supergroup",\n "id": 1234567,\n "messages": [\n')
        for i in range(n):
            moment = start + i
            local = datetime.fromtimestamp(moment, timezone(timedelta(hours=5))).replace(tzinfo=None)
            text: Any = message_text(i) if i % 3 else [message_text(i), {"type": "bold", "text": "срочно"}]
            msg = {
                "id": i + 1,
                "type": "message",
                "date": local.isoformat(),
                "date_unixtime": str(moment),
                "from": f"Person {i % 5000}",
                "from_id": f"user{i % 5000}",
                "text": text,
            }
            if i % 10 == 0 and i:
                msg["reply_to_message_id"] = i
            out.write(b"  " + orjson.dumps(msg) + (b",\n" if i < n - 1 else b"\n"))
        out.write(b" ]\n}\n")


# -- workers: each runs in its own process and prints one JSON line -------------------------------------


def work_parse_only(fmt: str, path: Path) -> int:
    count = 0
    if fmt == "jsonl":
        with path.open("rb") as handle:
            for line in handle:
                orjson.loads(line)
                count += 1
    else:
        import ijson

        with path.open("rb") as handle:
            for _ in ijson.items(handle, "messages.item", use_float=True):
                count += 1
    return count


def work_sqlite(n: int) -> int:
    db = WORK / "raw-sqlite.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE m (id TEXT PRIMARY KEY, source TEXT, kind TEXT, channel TEXT, native_id TEXT, sent_at TEXT, "
        "author TEXT, text TEXT, raw_sha256 TEXT, run_id INTEGER, ingested_at TEXT) WITHOUT ROWID"
    )
    for start in range(0, n, BATCH):
        rows = [
            (
                f"jsonl:chan{i % 40}:{i}",
                "jsonl",
                "message",
                f"chan{i % 40}",
                str(i),
                "2025-03-14T00:00:00.000000+00:00",
                "au_0123456789abcdef01234567",
                message_text(i),
                "0" * 64,
                1,
                "2025-03-14T00:00:00.000000+00:00",
            )
            for i in range(start, min(start + BATCH, n))
        ]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO m VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    return n


def work_flashpoint(fmt: str, path: Path, foundation_only: bool = False) -> int:
    from flashpoint.config import Config
    from flashpoint.runners.embedded import EmbeddedRunner, foundation_stages
    from flashpoint.store import SqliteStore

    db = WORK / f"fp-{fmt}-{path.stem}.db"
    for suffix in ("", "-wal", "-shm", ".key", ".archive-key"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    config = Config.from_mapping(
        {
            "store": {"path": str(db)},
            "ingest": {"batch_size": BATCH},
            "privacy": {"pseudonym_key": "bench-" + "k" * 32, "archive_key": "bench-" + "a" * 32},
        }
    )
    store = SqliteStore.from_config(config)
    stages = foundation_stages(config) if foundation_only else None
    stats = EmbeddedRunner(store, config, stages=stages).ingest([path], fmt=fmt)
    if stats.errors or stats.quarantined:
        raise SystemExit(f"benchmark ingest was not clean: {stats.as_dict()}")
    return stats.messages_added


def worker(args: argparse.Namespace) -> None:
    started, cpu0 = time.perf_counter(), time.process_time()
    if args.worker == "parse_only":
        count = work_parse_only(args.fmt, Path(args.path))
    elif args.worker == "sqlite":
        count = work_sqlite(args.messages)
    else:
        count = work_flashpoint(args.fmt, Path(args.path), foundation_only=args.worker == "foundation")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "messages": count,
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "msgs_per_s": round(count / wall),
                "msgs_per_cpu_s": round(count / cpu),
                "peak_rss_mib": round(peak_mib, 1),
            }
        )
    )


def measure(kind: str, fmt: str = "", path: Path | None = None, messages: int = 0) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--fmt",
        fmt,
        "--path",
        str(path or ""),
        "--messages",
        str(messages),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"  {kind:<20} {fmt:<9} {result['messages']:>9} msgs  {result['msgs_per_s']:>8} msg/s  "
        f"{result['msgs_per_cpu_s']:>8} msg/cpu-s  peak {result['peak_rss_mib']} MiB",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--worker", default="")
    parser.add_argument("--fmt", default="")
    parser.add_argument("--path", default="")
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    n = args.messages
    WORK.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    files = {
        "jsonl": WORK / f"bench-{n}.jsonl",
        "telegram": WORK / f"bench-{n}.telegram.json",
        "jsonl_small": WORK / f"bench-{n // 10}.jsonl",
    }
    print(f"generating {n:,} messages per format in {WORK} ...", flush=True)
    make_jsonl(files["jsonl"], n)
    make_jsonl(files["jsonl_small"], n // 10)
    make_telegram(files["telegram"], n)

    results: dict[str, Any] = {}
    for fmt in ("jsonl", "telegram"):
        print(f"{fmt}:", flush=True)
        results[fmt] = {
            "file_mib": round(files[fmt].stat().st_size / 2**20, 1),
            "parse_only": measure("parse_only", fmt, files[fmt]),
            "flashpoint_foundation": measure("foundation", fmt, files[fmt]),
            "flashpoint": measure("flashpoint", fmt, files[fmt]),
        }
        fp, base = results[fmt]["flashpoint"], results[fmt]["parse_only"]
        results[fmt]["flashpoint_vs_parse_only"] = round(fp["msgs_per_s"] / base["msgs_per_s"], 3)
    print("storage ceiling:", flush=True)
    results["sqlite_executemany"] = measure("sqlite", messages=n)
    print("memory flatness (JSONL at a tenth of the size):", flush=True)
    small = measure("flashpoint", "jsonl", files["jsonl_small"])
    results["memory_flatness"] = {
        "peak_rss_mib_small": small["peak_rss_mib"],
        "peak_rss_mib_full": results["jsonl"]["flashpoint"]["peak_rss_mib"],
        "messages_small": small["messages"],
        "messages_full": n,
        "ratio_full_to_small": round(results["jsonl"]["flashpoint"]["peak_rss_mib"] / small["peak_rss_mib"], 3),
    }
    results["jsonl"]["flashpoint_vs_sqlite_ceiling"] = round(
        results["jsonl"]["flashpoint"]["msgs_per_s"] / results["sqlite_executemany"]["msgs_per_s"], 3
    )
    report = {
        "benchmark": "ingest",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "messages": n,
        "batch_size": BATCH,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "results": results,
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for target in (RESULTS / f"ingest-{stamp}.json", RESULTS / "latest.json"):
        target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
