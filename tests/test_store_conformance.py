"""One suite every Store implementation passes (SQLite now; PostgreSQL joins by adding a factory)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flashpoint.evidence.seal import Sealer
from flashpoint.model import Enriched, Message, RawRecord
from flashpoint.store import Batch, MessageQuery, QuarantineItem, SqliteStore, Store

StoreFactory = Callable[[Path], Store]
FACTORIES: dict[str, StoreFactory] = {
    "sqlite": lambda folder: SqliteStore(folder / "s.db", Sealer(b"conformance-key-0123456789")),
}
STAGES = (("normalise_unicode", 1, frozenset({"text_clean"})),)
T0 = datetime(2025, 3, 15, 18, 0, tzinfo=UTC)


@pytest.fixture(params=sorted(FACTORIES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = FACTORIES[request.param](tmp_path)
    yield s
    s.close()


def batch(run_id: int, n: int, start: int = 0, channel: str = "c", quarantine: int = 0) -> Batch:
    raws = [
        RawRecord("f.jsonl", i, f"line {i + 1}", f'{{"id": {i}, "ch": "{channel}"}}'.encode())
        for i in range(start, start + n)
    ]
    records = [
        Enriched(
            Message.create(
                source="jsonl",
                channel=channel,
                native_id=str(r.ordinal),
                text=f"текст {r.ordinal}",
                sent_at=T0 + timedelta(minutes=10 * r.ordinal),
                raw_sha256=r.sha256,
            )
        ).with_values(text_clean=f"текст {r.ordinal}")
        for r in raws
    ]
    bad = [
        QuarantineItem("f.jsonl", f"line {900 + i}", 900 + i, "jsonl", {}, {}, "bad_json", "why", b"{" * (i + 1))
        for i in range(quarantine)
    ]
    return Batch(run_id=run_id, format="jsonl", raws=raws, records=records, quarantined=bad, stage_adds=STAGES)


def test_a_batch_is_written_once_and_rewriting_it_adds_nothing(store: Store) -> None:
    run = store.begin_run(["f.jsonl"], [])
    first = store.write_batch(batch(run, 10, quarantine=2))
    again = store.write_batch(batch(run, 10, quarantine=2))
    assert (first.messages_added, first.raw_added, first.quarantined) == (10, 10, 2)
    assert (again.messages_added, again.duplicates, again.raw_added, again.quarantined) == (0, 10, 0, 0)
    assert store.status()["messages"] == 10 and store.status()["raw_records"] == 10
    assert store.verify_archive().entries == 10 and store.verify_archive().ok


def test_message_queries_filter_by_time_channel_and_text(store: Store) -> None:
    run = store.begin_run([], [])
    store.write_batch(batch(run, 6, channel="a"))
    store.write_batch(batch(run, 6, start=6, channel="b"))
    assert len(list(store.messages(MessageQuery(channels=["b"])))) == 6
    window = list(store.messages(MessageQuery(since=T0 + timedelta(minutes=20), until=T0 + timedelta(minutes=50))))
    assert [m["native_id"] for m in window] == ["2", "3", "4"]
    assert [m["native_id"] for m in store.messages(MessageQuery(text="ТЕКСТ 11"))] == ["11"]
    assert len(list(store.messages(MessageQuery(limit=4)))) == 4
    assert store.enrichments("jsonl:a:3") == {"normalise_unicode": {"text_clean": "текст 3"}}
    assert sum(n for _, _, n in store.hourly_counts()) == 12


def test_file_checkpoints_only_move_forward(store: Store) -> None:
    run = store.begin_run([], [])
    state = store.register_file("fp1", "f.jsonl", "jsonl", 100, {}, run)
    assert (state.next_ordinal, state.complete) == (0, False)
    b = batch(run, 3)
    b.checkpoint = ("fp1", 3)
    store.write_batch(b)
    stale = batch(run, 1)
    stale.checkpoint = ("fp1", 1)
    store.write_batch(stale)
    assert store.file_state("fp1").next_ordinal == 3  # type: ignore[union-attr]
    store.mark_file_complete("fp1")
    assert store.file_state("fp1").complete  # type: ignore[union-attr]


def test_quarantine_items_keep_their_bytes_and_resolve(store: Store) -> None:
    run = store.begin_run([], [])
    store.write_batch(batch(run, 0, quarantine=2))
    items = store.quarantine_items()
    assert [i.data for i in items] == [b"{", b"{{"]
    store.record_retry_failure(items[0].id or 0, "bad_json", "still bad")
    store.resolve_quarantine(items[1].id or 0, batch(run, 1))
    assert [i.attempts for i in store.quarantine_items(status=None)] == [1, 1]
    assert [i.status for i in store.quarantine_items(status=None)] == ["pending", "resolved"]
    assert store.status()["messages"] == 1


def test_runs_count_batch_by_batch_and_record_their_outcome(store: Store) -> None:
    run = store.begin_run(["a", "b"], [{"name": "x"}])
    first = batch(run, 4, quarantine=1)
    first.records_read = 5
    store.write_batch(first)
    assert store.runs(1)[0]["messages_added"] == 4, "counts stand even if the run is killed now"
    again = batch(run, 2)
    again.records_read = 2
    store.write_batch(again)
    store.finish_run(run, "done", {"skipped": 3, "skipped_reasons": {"service": 3}, "duration_s": 0.5})
    last = store.runs(1)[0]
    assert (last["status"], last["records_read"], last["messages_added"], last["duplicates"], last["quarantined"]) == (
        "done",
        7,
        4,
        2,
        1,
    )
    assert last["skipped"] == 3 and last["finished_at"]


def test_a_run_whose_process_died_is_marked_interrupted(store: Store) -> None:
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    run = store.begin_run(["a"], [])
    store.conn.execute("UPDATE ingest_runs SET pid = ? WHERE id = ?", (int(dead.stdout), run))  # type: ignore[attr-defined]
    alive = store.begin_run(["b"], [])
    statuses = {r["id"]: r["status"] for r in store.runs()}
    assert statuses == {run: "interrupted", alive: "running"}
