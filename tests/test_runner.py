"""The embedded runner: idempotence, quarantine of every kind of bad input, retry, privacy."""

from __future__ import annotations

import shutil
from datetime import UTC
from pathlib import Path

import orjson

from flashpoint.config import Config
from flashpoint.model import RawRecord, SourceKind
from flashpoint.runners.embedded import EmbeddedRunner
from flashpoint.sources.jsonl import JsonlSource
from flashpoint.store import MessageQuery, SqliteStore
from tests.conftest import chat_rows, write_jsonl


def count(store: SqliteStore, table: str) -> int:
    return int(store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_ingesting_the_same_data_twice_adds_nothing(tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", chat_rows(120))
    first = runner.ingest(fmt="jsonl", paths=[path])
    assert first.messages_added == 120
    again = runner.ingest(fmt="jsonl", paths=[path])
    assert again.files_skipped == 1 and again.messages_added == 0
    forced = runner.ingest(fmt="jsonl", paths=[path], force=True)
    assert forced.messages_added == 0 and forced.duplicates == 120
    copy = shutil.copy(path, tmp_path / "renamed.jsonl")
    runner.ingest(fmt="jsonl", paths=[Path(copy)])
    assert count(store, "messages") == 120
    assert count(store, "raw_archive") == 120
    stages_that_add = sum(1 for stage in runner.pipeline.stages if stage.adds)
    assert count(store, "enrichments") == 120 * stages_that_add
    assert store.verify_archive().ok


def test_overlapping_exports_add_only_the_new_messages(
    tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore
) -> None:
    runner.ingest(fmt="jsonl", paths=[write_jsonl(tmp_path / "week1.jsonl", chat_rows(100))])
    stats = runner.ingest(fmt="jsonl", paths=[write_jsonl(tmp_path / "week2.jsonl", chat_rows(100, start=60))])
    assert stats.messages_added == 60 and stats.duplicates == 40
    assert count(store, "messages") == 160


def test_bad_records_are_quarantined_with_file_record_and_reason(
    tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore
) -> None:
    good = orjson.dumps(chat_rows(1)[0])
    lines = [
        good,
        b'{"id": 2, "date": "2025-03-14T10:00:00Z", "text": "\xff\xfe broken"}',
        b'{"id": 3, "date": "2025-03-14T10:00:00Z", "text": ""}',
        b'{"id": 4, "date": "1970-01-01T00:00:00Z", "text": "too old"}',
        b'{"id": 5, "date": "2999-01-01T00:00:00Z", "text": "future"}',
        b'{"id": 6, "date": "2025-03-14T10:00:00Z", "text": "big ' + b"x" * (10 * 1024 * 1024) + b'"}',
        b'{"id": 7, "date": "not a date", "text": "x"}',
        b"[1, 2, 3]",
        b'{"id": 8, "date": "2025-03-14T10:00:00Z", "te',
    ]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join(lines))
    stats = runner.ingest(fmt="jsonl", paths=[path])
    assert stats.records_read == 9
    assert stats.messages_added == 2  # the good one and the 10 MB one
    assert stats.quarantined == 7
    items = {i.locator: i for i in store.quarantine_items()}
    assert {k: v.code for k, v in items.items()} == {
        "line 2": "bad_encoding",
        "line 3": "empty_text",
        "line 4": "timestamp_out_of_range",
        "line 5": "timestamp_out_of_range",
        "line 7": "bad_timestamp",
        "line 8": "not_an_object",
        "line 9": "truncated_json",
    }
    assert items["line 2"].data == lines[1]  # raw bytes kept exactly
    assert all(i.source_file == str(path) and i.reason for i in items.values())
    # nothing silently dropped: every record read is a message or a quarantined record
    assert stats.records_read == stats.messages_added + stats.quarantined
    runner.ingest(fmt="jsonl", paths=[path], force=True)
    assert len(store.quarantine_items()) == 7, "re-ingest must not duplicate quarantine entries"


def test_records_over_the_size_limit_are_quarantined(tmp_path: Path, store: SqliteStore) -> None:
    config = Config.from_mapping({"privacy": {"pseudonym_key": "k" * 32}, "ingest": {"max_record_bytes": 1000}})
    runner = EmbeddedRunner(store, config)
    row = {"id": 1, "date": "2025-03-14T10:00:00Z", "text": "x" * 2000}
    stats = runner.ingest(fmt="jsonl", paths=[write_jsonl(tmp_path / "big.jsonl", [row])])
    assert stats.quarantined == 1
    assert store.quarantine_items()[0].code == "too_large"


def test_quarantine_retry_with_a_fixed_option_moves_the_record_into_the_store(
    tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore
) -> None:
    path = tmp_path / "cp1251.jsonl"
    path.write_bytes('{"id": 1, "date": "2025-03-14T10:00:00Z", "text": "Масанчи"}\n'.encode("cp1251"))
    stats = runner.ingest([path], fmt="jsonl", options={"encoding": "utf-8"})
    assert stats.quarantined == 1
    item = store.quarantine_items()[0]
    assert item.code == "bad_encoding"
    ok, _ = runner.retry(item.id or 0)
    assert not ok and store.quarantine_item(item.id or 0).attempts == 1  # type: ignore[union-attr]
    ok, note = runner.retry(item.id or 0, {"encoding": "cp1251"})
    assert ok, note
    assert [m["text"] for m in store.messages(MessageQuery())] == ["Масанчи"]
    assert store.quarantine_items() == []
    assert store.verify_archive().ok


class ExplodingSource(JsonlSource):
    def parse(self, raw: RawRecord, options):  # type: ignore[no-untyped-def, override]
        raise ZeroDivisionError("bug")


def test_a_reader_bug_quarantines_the_record_instead_of_crashing(runner: EmbeddedRunner) -> None:
    raw = RawRecord("f.jsonl", 0, "line 1", b'{"text": "x"}', {})
    admitted = runner.admit(raw, ExplodingSource(), {})
    assert [q.code for q in admitted.quarantined] == ["parser_error"]
    assert "ZeroDivisionError" in admitted.quarantined[0].reason


def test_authors_are_pseudonymised_and_raw_ids_never_stored(
    tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore
) -> None:
    rows = [
        {
            "id": 1,
            "author": "secret_user_42",
            "author_name": "Secret Name",
            "date": "2025-03-14T10:00:00Z",
            "text": "hi",
            "forwarded_from": "user:other_secret",
        }
    ]
    runner.ingest(fmt="jsonl", paths=[write_jsonl(tmp_path / "a.jsonl", rows)])
    stored = repr(store.conn.execute("SELECT * FROM messages").fetchall())
    stored += repr(store.conn.execute("SELECT * FROM enrichments").fetchall())
    stored += repr(store.conn.execute("SELECT data FROM raw_archive").fetchall())
    assert "secret_user_42" not in stored and "Secret Name" not in stored and "other_secret" not in stored
    message = next(store.messages(MessageQuery()))
    assert message["author"].startswith("au_")
    assert message["forwarded_from"].startswith("user:au_")


def test_raw_authors_are_kept_only_on_opt_in(tmp_path: Path, store: SqliteStore) -> None:
    config = Config.from_mapping({"privacy": {"pseudonym_key": "k" * 32, "keep_raw_authors": True}})
    EmbeddedRunner(store, config).ingest(fmt="jsonl", paths=[write_jsonl(tmp_path / "a.jsonl", chat_rows(1))])
    message = next(store.messages(MessageQuery()))
    assert message["author_raw"] == "user0" and message["author"].startswith("au_")


def test_pseudonyms_are_stable_across_runs_and_depend_on_the_key(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", chat_rows(3))

    def authors(key: str, name: str) -> list[str]:
        store = SqliteStore(tmp_path / name)
        EmbeddedRunner(store, Config.from_mapping({"privacy": {"pseudonym_key": key}})).ingest(
            fmt="jsonl", paths=[path]
        )
        return [m["author"] for m in store.messages(MessageQuery())]

    assert authors("a" * 32, "1.db") == authors("a" * 32, "2.db")
    assert authors("a" * 32, "1.db") != authors("b" * 32, "3.db")


def test_content_hash_ids_come_from_the_pseudonym_not_the_raw_author(
    tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore
) -> None:
    rows = [
        {"author": "u1", "date": "2025-03-14T10:00:00Z", "text": "same"},
        {"author": "u2", "date": "2025-03-14T10:00:00Z", "text": "same"},
    ]
    runner.ingest(fmt="jsonl", paths=[write_jsonl(tmp_path / "a.jsonl", rows)])
    ids = [m["id"] for m in store.messages(MessageQuery())]
    assert len(set(ids)) == 2 and all(":h" in i for i in ids)
    from datetime import datetime

    from flashpoint.model import message_id

    raw_based = message_id(SourceKind.JSONL, "a", None, datetime(2025, 3, 14, 10, tzinfo=UTC), "u1", "same")
    assert raw_based not in ids


def test_an_unreadable_file_is_reported_and_the_others_still_ingested(
    tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore
) -> None:
    empty = tmp_path / "empty.dat"
    empty.write_bytes(b"")
    good = write_jsonl(tmp_path / "good.jsonl", chat_rows(5))
    stats = runner.ingest([empty, good])
    assert stats.messages_added == 5
    assert len(stats.errors) == 1 and "empty.dat" in stats.errors[0] and "empty" in stats.errors[0]
    run = store.runs(1)[0]
    assert run["status"] == "done_with_errors" and run["messages_added"] == 5


def test_a_folder_of_telegram_exports_reads_only_their_result_files(tmp_path: Path) -> None:
    from flashpoint.sources import expand_paths

    for name in ("ChatExport_1", "ChatExport_2"):
        (tmp_path / name / "photos").mkdir(parents=True)
        (tmp_path / name / "result.json").write_text("{}", encoding="utf-8")
        (tmp_path / name / "photos" / "photo_1.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "notes.jsonl").write_text("{}", encoding="utf-8")
    (tmp_path / ".hidden.jsonl").write_text("{}", encoding="utf-8")
    assert [p.relative_to(tmp_path).as_posix() for p in expand_paths([tmp_path])] == [
        "ChatExport_1/result.json",
        "ChatExport_2/result.json",
        "notes.jsonl",
    ]
