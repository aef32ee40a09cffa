"""The Store contract: what the runner writes and what the faces read.

SQLite implements it for the embedded case; a PostgreSQL implementation can satisfy the same
protocol later (the SQL is kept portable: no SQLite-only types in the schema's meaning).

Example:
    >>> QuarantineItem(source_file="a.jsonl", locator="line 2", ordinal=1, format="jsonl",
    ...     options={}, context={}, code="bad_json", reason="...", data=b"{").sha256[:8]
    '021fb596'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flashpoint.evidence.chain import ArchiveEntry, VerifyReport
from flashpoint.model import Enriched, RawRecord


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    source_file: str
    locator: str
    ordinal: int
    format: str
    options: Mapping[str, Any]
    context: Mapping[str, Any]
    code: str
    reason: str
    data: bytes
    id: int | None = None
    status: str = "pending"
    attempts: int = 0
    created_at: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Batch:
    """Everything one batch of input produces, written in one transaction."""

    run_id: int
    format: str
    raws: list[RawRecord] = field(default_factory=list)
    records: list[Enriched] = field(default_factory=list)
    quarantined: list[QuarantineItem] = field(default_factory=list)
    stage_adds: Sequence[tuple[str, int, frozenset[str]]] = ()  # (stage, version, value names)
    checkpoint: tuple[str, int] | None = None  # (file fingerprint, next ordinal)
    records_read: int = 0  # records of the input this batch covers (the run's counter grows by it)


@dataclass(frozen=True)
class BatchResult:
    messages_added: int
    duplicates: int
    raw_added: int
    quarantined: int


@dataclass(frozen=True)
class FileState:
    fingerprint: str
    path: str
    format: str
    next_ordinal: int
    complete: bool


@dataclass(frozen=True)
class MessageQuery:
    since: datetime | None = None
    until: datetime | None = None
    sources: Sequence[str] = ()
    channels: Sequence[str] = ()
    text: str | None = None
    kind: str | None = None
    # Place ids, district or region names (as the gazetteer writes them): a message matches when one
    # of its resolved places is, or lies in, one of them.
    places: Sequence[str] = ()
    limit: int | None = None


class Store(Protocol):
    """What every store implementation provides. One writer at a time per store."""

    def begin_run(self, paths: Sequence[str], pipeline: Sequence[Mapping[str, object]]) -> int: ...

    def finish_run(self, run_id: int, status: str, stats: Mapping[str, Any]) -> None: ...

    def write_batch(self, batch: Batch) -> BatchResult: ...

    def file_state(self, fingerprint: str) -> FileState | None: ...

    def register_file(
        self, fingerprint: str, path: str, fmt: str, size: int, options: Mapping[str, Any], run_id: int
    ) -> FileState: ...

    def mark_file_complete(self, fingerprint: str) -> None: ...

    def messages(self, query: MessageQuery) -> Iterator[dict[str, Any]]: ...

    def enrichments(self, message_id: str) -> dict[str, Any]: ...

    def status(self) -> dict[str, Any]: ...

    def hourly_counts(self, query: MessageQuery | None = None) -> list[tuple[str, str, int]]: ...

    def runs(self, limit: int = 20) -> list[dict[str, Any]]: ...

    def quarantine_items(self, status: str | None = "pending", limit: int = 100) -> list[QuarantineItem]: ...

    def quarantine_item(self, item_id: int) -> QuarantineItem | None: ...

    def resolve_quarantine(self, item_id: int, batch: Batch | None) -> None: ...

    def record_retry_failure(self, item_id: int, code: str, reason: str) -> None: ...

    def archive_entries(self, with_data: bool = True) -> Iterator[tuple[ArchiveEntry, bytes | None]]: ...

    def verify_archive(self, expected_head: str | None = None) -> VerifyReport: ...

    def speech_flags(self, severities: Sequence[str], limit: int = 20) -> list[dict[str, Any]]: ...

    def hourly_speech_counts(self, severities: Sequence[str]) -> list[tuple[str, str, int]]: ...

    def place_counts(self, limit: int = 20) -> list[dict[str, Any]]: ...

    def rumour_replay(self) -> Iterator[tuple[str, str, str, datetime]]: ...

    def unclustered(self, limit: int = 10_000) -> list[tuple[int, str, str, datetime]]: ...

    def record_rumour_members(self, rows: Sequence[tuple[int, str, float]], merges: Mapping[str, str]) -> None: ...

    def rumour_clusters(self, min_size: int = 2, limit: int = 50) -> list[dict[str, Any]]: ...

    def rumour_members(self, cluster_id: str) -> list[dict[str, Any]]: ...

    def record_speech_label(
        self, message_id: str, label: str, target: str | None = None, analyst: str | None = None
    ) -> None: ...

    def remove_speech_label(self, message_id: str) -> bool: ...

    def speech_labels(self, limit: int | None = None) -> Iterator[dict[str, Any]]: ...

    def speech_label_counts(self) -> dict[str, int]: ...

    def speech_label_candidates(self, after_rowid: int = 0, limit: int = 500) -> list[dict[str, Any]]: ...

    def put_claim(self, record: Mapping[str, Any], replace: bool = False) -> str: ...

    def claims(self, verdict: str | None = None) -> list[dict[str, Any]]: ...

    def claim(self, claim_id: str) -> dict[str, Any] | None: ...

    def close(self) -> None: ...
