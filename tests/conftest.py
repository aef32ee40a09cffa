from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from flashpoint.config import Config
from flashpoint.runners.embedded import EmbeddedRunner
from flashpoint.store import SqliteStore

KEY = "test-key-" + "k" * 32


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config.from_mapping(
        {"store": {"path": str(tmp_path / "store.db")}, "privacy": {"pseudonym_key": KEY}, "ingest": {"batch_size": 50}}
    )


@pytest.fixture
def store(config: Config) -> Iterator[SqliteStore]:
    s = SqliteStore.from_config(config)
    yield s
    s.close()


@pytest.fixture
def runner(store: SqliteStore, config: Config) -> EmbeddedRunner:
    return EmbeddedRunner(store, config)


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def chat_rows(n: int, start: int = 0, channel: str = "c1") -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "channel": channel,
            "author": f"user{i % 7}",
            "date": f"2025-03-14T{10 + i % 12:02d}:{i % 60:02d}:00+06:00",
            "text": f"сообщение номер {i} из Масанчи",
        }
        for i in range(start, start + n)
    ]
