"""An ingest killed with SIGKILL at any point resumes with nothing lost and nothing duplicated.

A real subprocess runs `flashpoint ingest`; the test kills it at several points while it writes,
then lets a last run finish, and checks the store message by message.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flashpoint.config import Config
from flashpoint.runners.embedded import default_stages
from flashpoint.store import SqliteStore
from tests.conftest import chat_rows, write_jsonl

TOTAL = 40_000


def stored(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def start_ingest(tmp_path: Path, data: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flashpoint.cli",
            "--config",
            str(tmp_path / "fp.toml"),
            "ingest",
            "--format",
            "jsonl",
            str(data),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_sigkill_at_several_points_then_resume(tmp_path: Path) -> None:
    rows = chat_rows(TOTAL)
    for i, row in enumerate(rows):
        row["text"] = f"{row['text']} {'ә' * (i % 50)}"
    data = write_jsonl(tmp_path / "stream.jsonl", rows)
    db = tmp_path / "store.db"
    (tmp_path / "fp.toml").write_text(f'[store]\npath = "{db}"\n[ingest]\nbatch_size = 500\n', encoding="utf-8")
    env = {**os.environ, "FLASHPOINT_PSEUDONYM_KEY": "p" * 32, "FLASHPOINT_ARCHIVE_KEY": "a" * 32}

    kills = 0
    for target in (TOTAL // 8, TOTAL // 3, (2 * TOTAL) // 3):
        before = stored(db)
        process = start_ingest(tmp_path, data, env)
        deadline = time.monotonic() + 120
        while stored(db) < max(target, before + 1) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        assert process.returncode in (0, -signal.SIGKILL), process.stderr.read().decode()  # type: ignore[union-attr]
        assert stored(db) >= before, "a killed run lost committed messages"
    assert kills >= 2, "the ingest finished before it could be killed; raise TOTAL"
    final = start_ingest(tmp_path, data, env)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()

    config = Config.from_mapping(
        {"store": {"path": str(db)}, "privacy": {"pseudonym_key": "p" * 32, "archive_key": "a" * 32}}
    )
    store = SqliteStore.from_config(config)
    ids = [r[0] for r in store.conn.execute("SELECT native_id FROM messages")]
    assert len(ids) == TOTAL and len(set(ids)) == TOTAL
    assert sorted(int(i) for i in ids) == list(range(TOTAL))
    assert store.conn.execute("SELECT count(*) FROM raw_archive").fetchone()[0] == TOTAL
    stages_that_add = sum(1 for stage in default_stages(config) if stage.adds)
    assert store.conn.execute("SELECT count(*) FROM enrichments").fetchone()[0] == stages_that_add * TOTAL
    assert store.quarantine_items() == []
    assert store.verify_archive().ok
    runs = list(reversed(store.runs()))
    statuses = [r["status"] for r in runs]
    assert statuses.count("interrupted") == kills and statuses[-1] == "done"
    assert sum(r["messages_added"] for r in runs) == TOTAL, "per-run counts survive the kills"
