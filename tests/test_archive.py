"""The evidence archive: append-only, hash-chained, sealed at rest, and any change detectable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from flashpoint.evidence.chain import GENESIS, ArchiveEntry, verify_chain
from flashpoint.evidence.seal import Sealer
from flashpoint.runners.embedded import EmbeddedRunner
from flashpoint.store import SqliteStore
from tests.conftest import chat_rows, write_jsonl


@pytest.fixture
def filled(tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore) -> SqliteStore:
    runner.ingest([write_jsonl(tmp_path / "a.jsonl", chat_rows(30))], fmt="jsonl")
    return store


def tamper(store: SqliteStore, sql: str, *params: object) -> None:
    """What an insider with the database file could do: drop the guards, change rows."""
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER raw_archive_no_update")
    conn.execute("DROP TRIGGER raw_archive_no_delete")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_an_untouched_archive_verifies(filled: SqliteStore) -> None:
    report = filled.verify_archive()
    assert report.ok and report.entries == 30 and len(report.head) == 64


def test_the_archive_refuses_updates_and_deletes(filled: SqliteStore) -> None:
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        filled.conn.execute("UPDATE raw_archive SET locator = 'x' WHERE seq = 3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        filled.conn.execute("DELETE FROM raw_archive WHERE seq = 3")


def test_changed_raw_bytes_are_detected(filled: SqliteStore) -> None:
    plain = Sealer(None)
    tamper(filled, "UPDATE raw_archive SET data = ? WHERE seq = 7", plain.seal(b'{"text": "forged"}'))
    report = filled.verify_archive()
    assert not report.ok
    assert any(p.startswith("entry 7:") for p in report.problems)


def test_changed_sealed_bytes_are_detected(filled: SqliteStore) -> None:
    blob = bytes(filled.conn.execute("SELECT data FROM raw_archive WHERE seq = 4").fetchone()[0])
    assert blob.startswith(b"FPS1"), "raw records are sealed at rest"
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    tamper(filled, "UPDATE raw_archive SET data = ? WHERE seq = 4", flipped)
    assert any(p.startswith("entry 4:") for p in filled.verify_archive().problems)


def test_changed_metadata_is_detected(filled: SqliteStore) -> None:
    tamper(filled, "UPDATE raw_archive SET source_file = 'elsewhere.jsonl' WHERE seq = 12")
    assert any("entry 12: its metadata was changed" in p for p in filled.verify_archive().problems)


def test_a_deleted_entry_is_detected(filled: SqliteStore) -> None:
    tamper(filled, "DELETE FROM raw_archive WHERE seq = 15")
    problems = filled.verify_archive().problems
    assert any("entry 16" in p for p in problems)


def test_a_truncated_tail_is_detected_against_a_recorded_head(filled: SqliteStore) -> None:
    head = filled.verify_archive().head
    tamper(filled, "DELETE FROM raw_archive WHERE seq = 30")
    assert filled.verify_archive().ok  # a shorter chain is still a chain...
    assert not filled.verify_archive(expected_head=head).ok  # ...but not the one recorded


def test_a_rewritten_chain_is_detected_against_a_recorded_head(filled: SqliteStore) -> None:
    head = filled.verify_archive().head
    entries = [e for e, _ in filled.archive_entries(with_data=False)]
    forged = ArchiveEntry(1, "ab" * 32, entries[0].captured_at, "x", "line 1", GENESIS, "").sealed()
    assert verify_chain([(forged, None)]).ok
    assert not verify_chain([(forged, None)], expected_head=head).ok


def test_sealed_records_need_the_key(filled: SqliteStore, tmp_path: Path) -> None:
    other = SqliteStore(filled.path, Sealer(b"another key, not the one used"))
    assert not other.verify_archive().ok
    plain_reader = SqliteStore(filled.path)
    blob = bytes(plain_reader.conn.execute("SELECT data FROM raw_archive LIMIT 1").fetchone()[0])
    assert b"user" not in blob and "Масанчи".encode() not in blob
