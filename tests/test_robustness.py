"""A run survives reader bugs, unstorable values, files broken beyond repair and the wrong keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from flashpoint.config import Config
from flashpoint.errors import ConfigError, StoreError
from flashpoint.model import Message, RawRecord
from flashpoint.runners import embedded
from flashpoint.runners.embedded import EmbeddedRunner
from flashpoint.sources.base import Options, SplitError
from flashpoint.sources.jsonl import JsonlSource
from flashpoint.store import SqliteStore
from tests.conftest import chat_rows, write_jsonl


class BuggyAfterThree(JsonlSource):
    """A reader with a bug that strikes at the fourth record."""

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        for item in super().records(path, stream, options):
            if item.ordinal == 3:
                raise KeyError("bug")
            yield item


class GivesUpAfterTwo(JsonlSource):
    """A reader that cannot resynchronise after its third record."""

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        for item in super().records(path, stream, options):
            if item.ordinal == 2:
                yield SplitError(
                    "bad_json",
                    "cannot read on",
                    source_file=str(path),
                    locator="line 3",
                    ordinal=2,
                    data=b"{",
                    unread_bytes=12345,
                )
                return
            yield item


def patch_source(monkeypatch: pytest.MonkeyPatch, source: Any) -> None:
    monkeypatch.setattr(embedded, "source_for", lambda fmt: source)


def test_a_reader_bug_keeps_what_was_read_and_the_run_goes_on(
    tmp_path: Path, runner: EmbeddedRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_source(monkeypatch, BuggyAfterThree())
    stats = runner.ingest(
        [write_jsonl(tmp_path / "a.jsonl", chat_rows(10)), write_jsonl(tmp_path / "b.jsonl", chat_rows(2, start=100))],
        fmt="jsonl",
    )
    assert stats.messages_added == 3 + 2
    assert len(stats.errors) == 1 and "failed after record 3" in stats.errors[0] and "KeyError" in stats.errors[0]


def test_bytes_a_reader_gives_up_on_are_reported(
    tmp_path: Path, runner: EmbeddedRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_source(monkeypatch, GivesUpAfterTwo())
    stats = runner.ingest([write_jsonl(tmp_path / "a.jsonl", chat_rows(10))], fmt="jsonl")
    assert stats.messages_added == 2 and stats.quarantined == 1
    assert stats.errors == [
        f"{tmp_path / 'a.jsonl'}: 12345 bytes after line 3 could not be read (cannot read on) [bad_json]"
    ]


class SurrogateText(JsonlSource):
    def parse(self, raw: RawRecord, options: Options) -> list[Message]:  # type: ignore[override]
        return [
            Message.create(
                source="jsonl",
                channel="c",
                native_id="1",
                text="broken \ud800 text",
                sent_at=datetime(2025, 3, 14, tzinfo=UTC),
                raw_sha256=raw.sha256,
            )
        ]


def test_an_unstorable_value_quarantines_its_record_not_the_batch(
    tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore
) -> None:
    admitted = runner.admit(RawRecord("f", 0, "line 1", b"{}"), SurrogateText(), {})
    assert [q.code for q in admitted.quarantined] == ["unstorable_value"] and not admitted.records
    path = tmp_path / "big.jsonl"
    path.write_text(
        '{"id": 1, "date": "2025-03-14T10:00:00Z", "text": "x", "attachments": [{"kind": "photo", "size": '
        + "9" * 30
        + "}]}\n",
        encoding="utf-8",
    )
    stats = runner.ingest([path], fmt="jsonl")
    assert stats.messages_added == 1, "an out-of-range size is dropped, the message kept"


def test_a_store_refuses_other_keys(tmp_path: Path) -> None:
    def config(pseudonym: str, archive: str) -> Config:
        return Config.from_mapping(
            {"store": {"path": str(tmp_path / "s.db")}, "privacy": {"pseudonym_key": pseudonym, "archive_key": archive}}
        )

    SqliteStore.from_config(config("p" * 32, "a" * 32)).close()
    SqliteStore.from_config(config("p" * 32, "a" * 32)).close()
    with pytest.raises(StoreError, match="another pseudonym key"):
        SqliteStore.from_config(config("q" * 32, "a" * 32))
    with pytest.raises(StoreError, match="another archive key"):
        SqliteStore.from_config(config("p" * 32, "b" * 32))


def test_a_store_moved_without_its_key_files_is_refused(tmp_path: Path) -> None:
    cfg = Config.from_mapping({"store": {"path": str(tmp_path / "s.db")}})
    store = SqliteStore.from_config(cfg)
    EmbeddedRunner(store, cfg).ingest([write_jsonl(tmp_path / "a.jsonl", chat_rows(3))], fmt="jsonl")
    store.close()
    (tmp_path / "s.db.key").unlink()
    with pytest.raises(ConfigError, match="key file"):
        SqliteStore.from_config(cfg)
    assert not (tmp_path / "s.db.key").exists(), "no new key is made for an existing store"


def test_quarantined_context_is_sealed(tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore) -> None:
    raw = RawRecord("chat.txt", 0, "line 1", b"x", {"chat_name": "Aigul Nurlanovna"})
    admitted = runner.admit(raw, SurrogateText(), {})
    from flashpoint.store import Batch

    store.write_batch(Batch(run_id=store.begin_run([], []), format="jsonl", quarantined=admitted.quarantined))
    stored = repr(store.conn.execute("SELECT * FROM quarantine").fetchall())
    assert "Aigul" not in stored
    assert store.quarantine_items()[0].context == {"chat_name": "Aigul Nurlanovna"}


class BrokenStage:
    name = "broken"
    version = 1
    needs: frozenset[str] = frozenset()
    adds: frozenset[str] = frozenset({"x"})

    def __call__(self, record: Any) -> Any:
        if "7" in record.message.text:
            raise ValueError("bug")
        return record.with_values(x=1)


def test_a_stage_bug_costs_one_record_not_the_run(tmp_path: Path, store: SqliteStore, config: Config) -> None:
    runner = EmbeddedRunner(store, config, stages=[BrokenStage()])
    stats = runner.ingest([write_jsonl(tmp_path / "a.jsonl", chat_rows(10))], fmt="jsonl")
    assert stats.messages_added == 9 and [q.code for q in store.quarantine_items()] == ["stage_error"]
