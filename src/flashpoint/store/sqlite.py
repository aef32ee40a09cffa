"""The embedded store: one SQLite file in WAL mode, numbered migrations, one writer.

Every batch (raw archive entries, messages, enrichments, quarantine rows and the file checkpoint)
is one transaction, so a process killed at any moment leaves the store at a batch boundary and the
next run resumes from the checkpoint. WAL with ``synchronous=NORMAL`` survives a killed process;
set ``FLASHPOINT_SQLITE_SYNC=FULL`` to survive power loss as well, at some cost in speed.

Example:
    >>> store = SqliteStore(":memory:")
    >>> store.status()["messages"]
    0
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from flashpoint.config import Config, key_check_value
from flashpoint.errors import IntegrityError, StoreError
from flashpoint.evidence.chain import GENESIS, ArchiveEntry, VerifyReport, verify_chain
from flashpoint.evidence.seal import Sealer
from flashpoint.model import Enriched, Message
from flashpoint.store.base import Batch, BatchResult, FileState, MessageQuery, QuarantineItem

SQL_CHUNK = 500  # parameters per IN (...) lookup, under SQLite's limit


def utc_text(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so that text order is time order.

    >>> utc_text(datetime(2020, 2, 7, 22, 5, tzinfo=UTC))
    '2020-02-07T22:05:00.000000+00:00'
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now_text() -> str:
    return utc_text(datetime.now(UTC))


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, sql) for every file in store/migrations, in order."""
    found = []
    for entry in resources.files("flashpoint.store.migrations").iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _message_row(m: Message, run_id: int, ingested_at: str) -> tuple[Any, ...]:
    return (
        m.id,
        m.source.value,
        m.kind.value,
        m.channel,
        m.native_id,
        utc_text(m.sent_at),
        m.utc_offset_minutes,
        m.author,
        m.author_raw,
        m.author_name,
        m.text,
        m.reply_to,
        m.forwarded_from,
        utc_text(m.edited_at) if m.edited_at else None,
        m.title,
        m.url,
        _json(list(m.attachments)) if m.attachments else "[]",
        _json(dict(m.extra)) if m.extra else "{}",
        m.raw_sha256,
        run_id,
        ingested_at,
    )


MESSAGE_COLUMNS = (
    "id, source, kind, channel, native_id, sent_at, utc_offset_min, author, author_raw, author_name, text, "
    "reply_to, forwarded_from, edited_at, title, url, attachments, extra, raw_sha256, run_id, ingested_at"
)


class SqliteStore:
    """The default store. Open it once per process; it migrates the file on open."""

    def __init__(self, path: str | Path, sealer: Sealer | None = None) -> None:
        self.path = str(path)
        self.sealer = sealer or Sealer(None)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=60, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            sync = os.environ.get("FLASHPOINT_SQLITE_SYNC", "NORMAL").upper()
            self.conn.execute(f"PRAGMA synchronous={'FULL' if sync == 'FULL' else 'NORMAL'}")
            self.conn.execute("PRAGMA busy_timeout=60000")
            # Random-keyed indexes (message ids, record hashes) dirty many pages per commit; a larger
            # cache and rarer checkpoints halve the cost of a batch (benchmarks/ingest_bench.py).
            self.conn.execute("PRAGMA cache_size=-65536")
            self.conn.execute("PRAGMA wal_autocheckpoint=20000")
            self.conn.create_function("fp_casefold", 1, _casefold, deterministic=True)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError("store_open", f"cannot open the store {self.path}: {exc}") from exc

    @staticmethod
    def existing(config: Config) -> SqliteStore:
        """The store a config names, which must exist: commands that only read refuse to create one
        at a mistyped path."""
        if config.store.path != ":memory:" and not Path(config.store.path).exists():
            raise StoreError(
                "no_store",
                f"there is no store at {config.store.path}: check --store or $FLASHPOINT_STORE, "
                "or create one with `flashpoint ingest`",
            )
        return SqliteStore.from_config(config)

    @staticmethod
    def from_config(config: Config) -> SqliteStore:
        """The store a config names, sealing raw records with its archive key. Refuses keys other
        than those the store was first written with."""
        checks = {"pseudonym_key_check": key_check_value(config.pseudonym_key())}
        archive_key = config.archive_key()
        if archive_key is not None:
            checks["archive_key_check"] = key_check_value(archive_key)
        store = SqliteStore(config.store.path, Sealer(archive_key))
        store.check_keys(checks)
        return store

    def check_keys(self, checks: Mapping[str, str]) -> None:
        """Record key check values on first use; refuse a store written with other keys."""
        for name, value in checks.items():
            row = self.conn.execute("SELECT value FROM store_meta WHERE key=?", (name,)).fetchone()
            if row is None:
                self.conn.execute("INSERT INTO store_meta (key, value) VALUES (?, ?)", (name, value))
            elif row[0] != value:
                which = name.removesuffix("_check").replace("_", " ")
                raise StoreError(
                    "wrong_key",
                    f"the store {self.path} was written with another {which}: pseudonyms or sealed records would "
                    "not match. Use the store's own key (its key file, or the environment variable it was made "
                    "with); see docs/configuration.md",
                )

    # -- schema -----------------------------------------------------------------------------

    def _migrate(self) -> None:
        current = self.conn.execute("PRAGMA user_version").fetchone()[0]
        for number, name, sql in migrations():
            if number <= current:
                continue
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                for statement in _statements(sql):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version={number}")
                self.conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self.conn.execute("ROLLBACK")
                raise StoreError("migration_failed", f"migration {name} failed on {self.path}: {exc}") from exc

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    # -- runs and files -------------------------------------------------------------------------

    def begin_run(self, paths: Sequence[str], pipeline: Sequence[Mapping[str, object]]) -> int:
        """Open a run; runs left 'running' by a process of this host that no longer exists are
        marked 'interrupted' first (their counts stand as of their last batch)."""
        host = socket.gethostname()
        for run_id, pid in self.conn.execute(
            "SELECT id, pid FROM ingest_runs WHERE status='running' AND host=?", (host,)
        ).fetchall():
            if not _process_alive(int(pid)):
                self.conn.execute("UPDATE ingest_runs SET status='interrupted' WHERE id=?", (run_id,))
        cur = self.conn.execute(
            "INSERT INTO ingest_runs (started_at, status, host, pid, paths, pipeline) "
            "VALUES (?, 'running', ?, ?, ?, ?)",
            (now_text(), host, os.getpid(), _json(list(paths)), _json(list(pipeline))),
        )
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, stats: Mapping[str, Any]) -> None:
        """Close a run. The counts of messages, duplicates, quarantined and records read were
        added batch by batch; the rest is written here."""
        self.conn.execute(
            "UPDATE ingest_runs SET finished_at=?, status=?, skipped=?, skipped_reasons=?, errors=?, duration_s=? "
            "WHERE id=?",
            (
                now_text(),
                status,
                stats.get("skipped", 0),
                _json(stats.get("skipped_reasons", {})),
                _json(stats.get("errors", [])),
                stats.get("duration_s"),
                run_id,
            ),
        )

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM ingest_runs ORDER BY id DESC LIMIT ?", (limit,))
        return [_row_dict(rows, r) for r in rows.fetchall()]

    def file_state(self, fingerprint: str) -> FileState | None:
        row = self.conn.execute(
            "SELECT fingerprint, path, format, next_ordinal, complete FROM ingest_files WHERE fingerprint=?",
            (fingerprint,),
        ).fetchone()
        return FileState(row[0], row[1], row[2], int(row[3]), bool(row[4])) if row else None

    def register_file(
        self, fingerprint: str, path: str, fmt: str, size: int, options: Mapping[str, Any], run_id: int
    ) -> FileState:
        self.conn.execute(
            "INSERT INTO ingest_files (fingerprint, path, format, size, options, run_id, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(fingerprint) DO UPDATE SET run_id=excluded.run_id, "
            "path=excluded.path, updated_at=excluded.updated_at",
            (fingerprint, path, fmt, size, _json(dict(options)), run_id, now_text()),
        )
        state = self.file_state(fingerprint)
        assert state is not None
        return state

    def mark_file_complete(self, fingerprint: str) -> None:
        self.conn.execute(
            "UPDATE ingest_files SET complete=1, updated_at=? WHERE fingerprint=?", (now_text(), fingerprint)
        )

    # -- the one write path -----------------------------------------------------------------------

    def write_batch(self, batch: Batch) -> BatchResult:
        """Write a batch atomically: archive entries, messages, enrichments, quarantine, checkpoint."""
        conn = self.conn
        captured = now_text()
        conn.execute("BEGIN IMMEDIATE")
        try:
            raw_added = self._append_raw(batch, captured)
            added = self._insert_messages(batch, captured)
            before = conn.total_changes
            conn.executemany(
                "INSERT OR IGNORE INTO quarantine (run_id, source_file, locator, ordinal, format, options, context, "
                "code, reason, data, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        batch.run_id,
                        q.source_file,
                        q.locator,
                        q.ordinal,
                        q.format,
                        _json(dict(q.options)),
                        self.sealer.seal(_json(dict(q.context)).encode()),
                        q.code,
                        q.reason,
                        self.sealer.seal(q.data),
                        q.sha256,
                        captured,
                    )
                    for q in batch.quarantined
                ],
            )
            quarantined = conn.total_changes - before
            conn.execute(
                "UPDATE ingest_runs SET records_read = records_read + ?, messages_added = messages_added + ?, "
                "duplicates = duplicates + ?, quarantined = quarantined + ? WHERE id = ?",
                (batch.records_read, added, len(batch.records) - added, quarantined, batch.run_id),
            )
            if batch.checkpoint:
                fingerprint, next_ordinal = batch.checkpoint
                conn.execute(
                    "UPDATE ingest_files SET next_ordinal=MAX(next_ordinal, ?), updated_at=? WHERE fingerprint=?",
                    (next_ordinal, captured, fingerprint),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return BatchResult(added, len(batch.records) - added, raw_added, quarantined)

    def _existing(self, table: str, column: str, keys: list[str]) -> set[str]:
        """Which of these keys the table already holds (looked up in chunks)."""
        found: set[str] = set()
        for start in range(0, len(keys), SQL_CHUNK):
            chunk = keys[start : start + SQL_CHUNK]
            rows = self.conn.execute(
                f"SELECT {column} FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk
            )
            found.update(key for (key,) in rows)
        return found

    def _insert_messages(self, batch: Batch, captured: str) -> int:
        """Insert the batch's new messages with rowids handed out in order, and their enrichments
        keyed by those rowids (appends, not random inserts). Returns how many were new."""
        fresh: dict[str, Enriched] = {}
        for record in batch.records:
            fresh.setdefault(record.message.id, record)
        for known in self._existing("messages", "id", list(fresh)):
            del fresh[known]
        if not fresh:
            return 0
        last = self.conn.execute("SELECT coalesce(max(rowid_), 0) FROM messages").fetchone()[0]
        rowids = range(last + 1, last + 1 + len(fresh))
        self.conn.executemany(
            f"INSERT INTO messages (rowid_, {MESSAGE_COLUMNS}) VALUES (?, {', '.join('?' * 21)})",
            [
                (rowid, *_message_row(r.message, batch.run_id, captured))
                for rowid, r in zip(rowids, fresh.values(), strict=True)
            ],
        )
        self.conn.executemany(
            "INSERT INTO enrichments (message_rowid, stage, version, data) VALUES (?, ?, ?, ?)",
            [
                (rowid, stage, version, _json({k: r.values[k] for k in sorted(adds) if k in r.values}))
                for rowid, r in zip(rowids, fresh.values(), strict=True)
                for stage, version, adds in batch.stage_adds
                if adds
            ],
        )
        return len(fresh)

    def _append_raw(self, batch: Batch, captured: str) -> int:
        """Chain the batch's new raw records onto the archive; records already there are skipped."""
        by_hash: dict[str, Any] = {}
        for raw in batch.raws:
            by_hash.setdefault(raw.sha256, raw)
        if not by_hash:
            return 0
        for known in self._existing("raw_archive", "sha256", list(by_hash)):
            del by_hash[known]
        head = self.conn.execute("SELECT seq, entry_hash FROM raw_archive ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
        rows = []
        for sha, raw in by_hash.items():
            seq += 1
            entry = ArchiveEntry(seq, sha, captured, raw.source_file, raw.locator, prev, "").sealed()
            rows.append(
                (
                    seq,
                    sha,
                    captured,
                    raw.source_file,
                    raw.locator,
                    raw.ordinal,
                    batch.format,
                    len(raw.data),
                    self.sealer.seal(raw.data),
                    prev,
                    entry.entry_hash,
                )
            )
            prev = entry.entry_hash
        self.conn.executemany(
            "INSERT INTO raw_archive (seq, sha256, captured_at, source_file, locator, ordinal, format, size, data, "
            "prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return len(rows)

    # -- reads --------------------------------------------------------------------------------------

    def messages(self, query: MessageQuery) -> Iterator[dict[str, Any]]:
        where, params = _where(query)
        places = (
            "(SELECT json_extract(e.data, '$.places') FROM enrichments e "
            "WHERE e.message_rowid = messages.rowid_ AND e.stage = 'places')"
        )
        sql = f"SELECT {MESSAGE_COLUMNS}, {places} AS places FROM messages WHERE {where} ORDER BY sent_at, id"
        if query.limit is not None:
            sql += " LIMIT ?"
            params.append(query.limit)
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description]
        for row in cursor:
            record = dict(zip(names, row, strict=True))
            record["attachments"] = orjson.loads(record["attachments"])
            record["extra"] = orjson.loads(record["extra"])
            record["places"] = orjson.loads(record["places"]) if record["places"] else []
            yield record

    def enrichments(self, message_id: str) -> dict[str, Any]:
        rows = self.conn.execute(
            "SELECT e.stage, e.data FROM enrichments e JOIN messages m ON m.rowid_ = e.message_rowid WHERE m.id = ?",
            (message_id,),
        )
        return {stage: orjson.loads(data) for stage, data in rows}

    def status(self) -> dict[str, Any]:
        c = self.conn
        by_source = dict(c.execute("SELECT source, count(*) FROM messages GROUP BY source ORDER BY source").fetchall())
        by_day = dict(
            c.execute("SELECT substr(sent_at, 1, 10) d, count(*) FROM messages GROUP BY d ORDER BY d").fetchall()
        )
        by_language = dict(
            c.execute(
                "SELECT json_extract(data, '$.language.language') l, count(*) FROM enrichments WHERE stage='language' "
                "GROUP BY l ORDER BY count(*) DESC"
            ).fetchall()
        )
        by_severity = dict(
            c.execute(
                "SELECT json_extract(data, '$.speech.severity') s, count(*) FROM enrichments WHERE stage='speech' "
                "GROUP BY s ORDER BY count(*) DESC"
            ).fetchall()
        )
        return {
            "store": self.path,
            "schema_version": self.schema_version,
            "messages": c.execute("SELECT count(*) FROM messages").fetchone()[0],
            "news_items": c.execute("SELECT count(*) FROM messages WHERE kind='news'").fetchone()[0],
            "channels": c.execute("SELECT count(DISTINCT channel) FROM messages").fetchone()[0],
            "raw_records": c.execute("SELECT count(*) FROM raw_archive").fetchone()[0],
            "quarantine_pending": c.execute("SELECT count(*) FROM quarantine WHERE status='pending'").fetchone()[0],
            "runs": c.execute("SELECT count(*) FROM ingest_runs").fetchone()[0],
            "by_source": by_source,
            "by_day": by_day,
            "by_language": by_language,
            "by_severity": by_severity,
        }

    def hourly_counts(self, query: MessageQuery | None = None) -> list[tuple[str, str, int]]:
        """(hour as 'YYYY-MM-DDTHH' UTC, source, messages) for the messages a query selects."""
        where, params = _where(query or MessageQuery())
        rows = self.conn.execute(
            f"SELECT substr(sent_at, 1, 13) h, source, count(*) FROM messages WHERE {where} "
            "GROUP BY h, source ORDER BY h, source",
            params,
        )
        return [(str(h), str(s), int(n)) for h, s, n in rows]

    # -- quarantine ---------------------------------------------------------------------------------

    def quarantine_items(self, status: str | None = "pending", limit: int = 100) -> list[QuarantineItem]:
        sql = "SELECT * FROM quarantine"
        params: list[Any] = []
        if status:
            sql += " WHERE status = ?"
            params.append(status)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        cursor = self.conn.execute(sql, params)
        return [self._quarantine(_row_dict(cursor, row)) for row in cursor.fetchall()]

    def quarantine_item(self, item_id: int) -> QuarantineItem | None:
        cursor = self.conn.execute("SELECT * FROM quarantine WHERE id = ?", (item_id,))
        row = cursor.fetchone()
        return self._quarantine(_row_dict(cursor, row)) if row else None

    def resolve_quarantine(self, item_id: int, batch: Batch | None) -> None:
        """Write what a successful retry produced, and mark the item resolved, atomically enough:
        the batch commits first; a crash between the two leaves a pending item whose retry adds
        nothing new (writes are idempotent)."""
        if batch is not None:
            self.write_batch(batch)
        self.conn.execute(
            "UPDATE quarantine SET status='resolved', resolved_at=?, attempts=attempts+1 WHERE id=?",
            (now_text(), item_id),
        )

    def record_retry_failure(self, item_id: int, code: str, reason: str) -> None:
        self.conn.execute(
            "UPDATE quarantine SET attempts=attempts+1, code=?, reason=? WHERE id=?", (code, reason, item_id)
        )

    def speech_flags(self, severities: Sequence[str], limit: int = 20) -> list[dict[str, Any]]:
        """Messages whose speech severity is one of ``severities``, highest score first, with the
        message's id, time, source, channel, text and its ``speech`` enrichment."""
        marks = ",".join("?" * len(severities))
        rows = self.conn.execute(
            "SELECT m.id, m.sent_at, m.source, m.channel, m.text, json_extract(e.data, '$.speech') "
            "FROM enrichments e JOIN messages m ON m.rowid_ = e.message_rowid "
            f"WHERE e.stage = 'speech' AND json_extract(e.data, '$.speech.severity') IN ({marks}) "
            "ORDER BY json_extract(e.data, '$.speech.score') DESC, m.sent_at LIMIT ?",
            (*severities, limit),
        )
        names = ("id", "sent_at", "source", "channel", "text", "speech")
        return [{**dict(zip(names, row, strict=True)), "speech": orjson.loads(row[5])} for row in rows]

    def place_counts(self, limit: int = 20) -> list[dict[str, Any]]:
        """The settlements messages name most, with the count of messages naming each (and of those
        where it is the scene)."""
        rows = self.conn.execute(
            "SELECT json_extract(p.value, '$.id') i, json_extract(p.value, '$.name'), "
            "json_extract(p.value, '$.district'), json_extract(p.value, '$.country'), count(*), "
            "sum(json_extract(p.value, '$.role') = 'scene') "
            "FROM enrichments e, json_each(e.data, '$.places') p WHERE e.stage = 'places' "
            "GROUP BY i ORDER BY count(*) DESC, i LIMIT ?",
            (limit,),
        )
        names = ("id", "name", "district", "country", "messages", "as_scene")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def hourly_speech_counts(self, severities: Sequence[str]) -> list[tuple[str, str, int]]:
        """(hour as 'YYYY-MM-DDTHH' UTC, severity, messages) for the given speech severities."""
        marks = ",".join("?" * len(severities))
        rows = self.conn.execute(
            "SELECT substr(m.sent_at, 1, 13) h, json_extract(e.data, '$.speech.severity') s, count(*) "
            "FROM enrichments e JOIN messages m ON m.rowid_ = e.message_rowid "
            f"WHERE e.stage = 'speech' AND s IN ({marks}) GROUP BY h, s ORDER BY h, s",
            tuple(severities),
        )
        return [(str(h), str(s), int(n)) for h, s, n in rows]

    # -- rumour clusters (migration 0004) -------------------------------------------------------------

    def rumour_replay(self) -> Iterator[tuple[str, str, str, datetime]]:
        """(message id, cluster id, text_norm, sent_at) of every clustered message, in arrival order."""
        rows = self.conn.execute(
            "SELECT m.id, r.cluster_id, coalesce(json_extract(e.data, '$.text_norm'), ''), m.sent_at "
            "FROM rumour_members r JOIN messages m ON m.rowid_ = r.message_rowid "
            "LEFT JOIN enrichments e ON e.message_rowid = r.message_rowid AND e.stage = 'normalise_evasion' "
            "ORDER BY r.seq"
        )
        for message_id, cluster_id, text, sent_at in rows:
            yield message_id, cluster_id, text, datetime.fromisoformat(sent_at)

    def unclustered(self, limit: int = 10_000) -> list[tuple[int, str, str, datetime]]:
        """(rowid, message id, text_norm, sent_at) of messages not yet in a cluster, oldest first."""
        rows = self.conn.execute(
            "SELECT m.rowid_, m.id, coalesce(json_extract(e.data, '$.text_norm'), ''), m.sent_at FROM messages m "
            "LEFT JOIN enrichments e ON e.message_rowid = m.rowid_ AND e.stage = 'normalise_evasion' "
            "WHERE m.kind = 'message' AND NOT EXISTS (SELECT 1 FROM rumour_members r WHERE r.message_rowid = m.rowid_) "
            "ORDER BY m.sent_at, m.rowid_ LIMIT ?",
            (limit,),
        )
        return [(rowid, mid, text, datetime.fromisoformat(at)) for rowid, mid, text, at in rows]

    def record_rumour_members(self, rows: Sequence[tuple[int, str, float]], merges: Mapping[str, str]) -> None:
        """Add (rowid, cluster id, similarity) in arrival order and move merged clusters' members to
        their survivor, in one transaction."""
        with self.conn:
            start = self.conn.execute("SELECT coalesce(max(seq), 0) FROM rumour_members").fetchone()[0]
            self.conn.executemany(
                "INSERT INTO rumour_members (message_rowid, seq, cluster_id, similarity) VALUES (?, ?, ?, ?)",
                [(rowid, start + i + 1, cluster, sim) for i, (rowid, cluster, sim) in enumerate(rows)],
            )
            self.conn.executemany(
                "UPDATE rumour_members SET cluster_id = ? WHERE cluster_id = ?",
                [(survivor, old) for old, survivor in merges.items()],
            )

    def rumour_clusters(self, min_size: int = 2, limit: int = 50) -> list[dict[str, Any]]:
        """Clusters of at least ``min_size`` messages: id, size, channels, first and last time."""
        rows = self.conn.execute(
            "SELECT r.cluster_id, count(*), count(DISTINCT m.channel), min(m.sent_at), max(m.sent_at) "
            "FROM rumour_members r JOIN messages m ON m.rowid_ = r.message_rowid "
            "GROUP BY r.cluster_id HAVING count(*) >= ? ORDER BY count(*) DESC, min(m.sent_at) LIMIT ?",
            (min_size, limit),
        )
        names = ("cluster_id", "size", "channels", "first_at", "last_at")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def rumour_members(self, cluster_id: str) -> list[dict[str, Any]]:
        """The messages of a cluster with what the stages found: language, speech, places."""
        rows = self.conn.execute(
            "SELECT m.id, m.sent_at, m.channel, m.author, m.text, "
            "(SELECT data FROM enrichments WHERE message_rowid = m.rowid_ AND stage = 'language'), "
            "(SELECT data FROM enrichments WHERE message_rowid = m.rowid_ AND stage = 'speech'), "
            "(SELECT data FROM enrichments WHERE message_rowid = m.rowid_ AND stage = 'places') "
            "FROM rumour_members r JOIN messages m ON m.rowid_ = r.message_rowid WHERE r.cluster_id = ? ORDER BY r.seq",
            (cluster_id,),
        )
        out = []
        for mid, at, channel, author, text, language, speech, places in rows:
            out.append(
                {
                    "id": mid,
                    "sent_at": at,
                    "channel": channel,
                    "author": author,
                    "text": text,
                    "language": (orjson.loads(language)["language"] or {}).get("language", "und")
                    if language
                    else "und",
                    "speech": orjson.loads(speech)["speech"] if speech else {},
                    "places": orjson.loads(places)["places"] if places else [],
                }
            )
        return out

    # -- speech labels (migration 0002) ---------------------------------------------------------------

    def record_speech_label(
        self, message_id: str, label: str, target: str | None = None, analyst: str | None = None
    ) -> None:
        """Record an analyst's label for a message; labelling a message again replaces its label."""
        if not label.strip():
            raise StoreError("bad_label", f"an empty label for message {message_id} was not recorded")
        row = self.conn.execute("SELECT rowid_ FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise StoreError("unknown_message", f"there is no message {message_id} in the store {self.path}")
        self.conn.execute(
            "INSERT INTO speech_labels (message_rowid, label, target, analyst, labelled_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(message_rowid) DO UPDATE SET label=excluded.label, target=excluded.target, "
            "analyst=excluded.analyst, labelled_at=excluded.labelled_at",
            (row[0], label.strip(), (target or "").strip() or None, (analyst or "").strip() or None, now_text()),
        )

    def remove_speech_label(self, message_id: str) -> bool:
        """Remove a message's label (an analyst's undo); False when it had none."""
        cursor = self.conn.execute(
            "DELETE FROM speech_labels WHERE message_rowid = (SELECT rowid_ FROM messages WHERE id = ?)",
            (message_id,),
        )
        return cursor.rowcount > 0

    def speech_labels(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Labels joined with their message's text, in the order they were first labelled (by message
        rowid): message_id, rowid, text, label, target, analyst, labelled_at."""
        sql = (
            "SELECT m.id AS message_id, l.message_rowid AS rowid, m.text, l.label, l.target, l.analyst, l.labelled_at "
            "FROM speech_labels l JOIN messages m ON m.rowid_ = l.message_rowid ORDER BY l.message_rowid"
        )
        params: list[Any] = []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        cursor = self.conn.execute(sql, params)
        for row in cursor:
            yield _row_dict(cursor, row)

    def speech_label_counts(self) -> dict[str, int]:
        """How many messages carry each label."""
        rows = self.conn.execute("SELECT label, count(*) FROM speech_labels GROUP BY label ORDER BY label")
        return {str(label): int(n) for label, n in rows}

    def speech_label_candidates(self, after_rowid: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        """One batch of unlabelled messages with text, in rowid order after ``after_rowid``: rowid,
        message_id, text, language (or None) and the ``speech`` enrichment (or None when no speech
        stage has run on the message yet). Page with the last rowid of the previous batch."""
        cursor = self.conn.execute(
            "SELECT m.rowid_ AS rowid, m.id AS message_id, m.text, "
            "(SELECT json_extract(e.data, '$.language.language') FROM enrichments e "
            " WHERE e.message_rowid = m.rowid_ AND e.stage = 'language') AS language, "
            "(SELECT json_extract(e.data, '$.speech') FROM enrichments e "
            " WHERE e.message_rowid = m.rowid_ AND json_type(e.data, '$.speech') = 'object' LIMIT 1) AS speech "
            "FROM messages m WHERE m.rowid_ > ? AND trim(m.text) != '' "
            "AND NOT EXISTS (SELECT 1 FROM speech_labels l WHERE l.message_rowid = m.rowid_) "
            "ORDER BY m.rowid_ LIMIT ?",
            (after_rowid, limit),
        )
        found = []
        for row in cursor.fetchall():
            record = _row_dict(cursor, row)
            record["speech"] = orjson.loads(record["speech"]) if record["speech"] is not None else None
            found.append(record)
        return found

    # -- claims (migration 0003) ----------------------------------------------------------------------

    def put_claim(self, record: Mapping[str, Any], replace: bool = False) -> str:
        """Register a claim (``flashpoint.rumours.claims.Claim.as_record()``). Returns "added",
        "unchanged" (the same id says the same thing), "replaced" (``replace``), or "conflict" (the id
        exists with other content and ``replace`` is false: nothing is written)."""
        row = self.conn.execute("SELECT content_sha256 FROM claims WHERE id = ?", (record["id"],)).fetchone()
        if row is not None and row[0] == record["content_sha256"]:
            return "unchanged"
        if row is not None and not replace:
            return "conflict"
        now = now_text()
        self.conn.execute(
            "INSERT INTO claims (id, verdict, texts, corrections, sources, tags, claimed_at, checked_at, "
            "content_sha256, added_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
            "SET verdict=excluded.verdict, texts=excluded.texts, corrections=excluded.corrections, "
            "sources=excluded.sources, tags=excluded.tags, claimed_at=excluded.claimed_at, "
            "checked_at=excluded.checked_at, content_sha256=excluded.content_sha256, updated_at=excluded.updated_at",
            (
                record["id"],
                record["verdict"],
                _json(dict(record["texts"])),
                _json(dict(record.get("corrections") or {})),
                _json(list(record.get("sources") or [])),
                _json(list(record.get("tags") or [])),
                record.get("claimed_at"),
                record.get("checked_at"),
                record["content_sha256"],
                now,
                now,
            ),
        )
        return "added" if row is None else "replaced"

    def claims(self, verdict: str | None = None) -> list[dict[str, Any]]:
        """Registered claims in id order (JSON columns decoded), optionally of one verdict."""
        sql, params = "SELECT * FROM claims", []
        if verdict:
            sql, params = sql + " WHERE verdict = ?", [verdict]
        cursor = self.conn.execute(sql + " ORDER BY id", params)
        return [_claim_record(_row_dict(cursor, row)) for row in cursor.fetchall()]

    def claim(self, claim_id: str) -> dict[str, Any] | None:
        """One registered claim, or None."""
        cursor = self.conn.execute("SELECT * FROM claims WHERE id = ?", (claim_id,))
        row = cursor.fetchone()
        return _claim_record(_row_dict(cursor, row)) if row else None

    # -- archive --------------------------------------------------------------------------------------

    def archive_entries(self, with_data: bool = True) -> Iterator[tuple[ArchiveEntry, bytes | None]]:
        columns = "seq, sha256, captured_at, source_file, locator, prev_hash, entry_hash"
        cursor = self.conn.execute(f"SELECT {columns}{', data' if with_data else ''} FROM raw_archive ORDER BY seq")
        for row in cursor:
            yield ArchiveEntry(*row[:7]), (self._open_or_empty(bytes(row[7])) if with_data else None)

    def _open_or_empty(self, blob: bytes) -> bytes:
        """A sealed record that fails authentication reads as empty, which no SHA-256 in the
        archive matches, so verification reports the entry instead of stopping."""
        try:
            return self.sealer.open(blob)
        except IntegrityError:
            return b""

    def verify_archive(self, expected_head: str | None = None) -> VerifyReport:
        return verify_chain(self.archive_entries(), expected_head)

    def raw_record(self, sha256: str) -> bytes | None:
        row = self.conn.execute("SELECT data FROM raw_archive WHERE sha256=?", (sha256,)).fetchone()
        return self.sealer.open(bytes(row[0])) if row else None

    def _quarantine(self, row: dict[str, Any]) -> QuarantineItem:
        return _quarantine_item(row, self.sealer.open(bytes(row["data"])), self.sealer.open(bytes(row["context"])))

    def close(self) -> None:
        self.conn.close()


_PLACE_KEYS = ("id", "name", "district_id", "district", "region_id", "region")


def _where(query: MessageQuery) -> tuple[str, list[Any]]:
    """The WHERE clause (never empty) and parameters that select a query's messages; the limit is
    left to the caller."""
    where: list[str] = ["1=1"]
    params: list[Any] = []
    if query.since:
        where.append("sent_at >= ?")
        params.append(utc_text(query.since))
    if query.until:
        where.append("sent_at < ?")
        params.append(utc_text(query.until))
    if query.sources:
        where.append(f"source IN ({','.join('?' * len(query.sources))})")
        params.extend(query.sources)
    if query.channels:
        where.append(f"channel IN ({','.join('?' * len(query.channels))})")
        params.extend(query.channels)
    if query.kind:
        where.append("kind = ?")
        params.append(query.kind)
    if query.text:
        where.append("instr(fp_casefold(text), ?) > 0")
        params.append(query.text.casefold())
    if query.places:
        marks = ",".join("?" * len(query.places))
        where.append(
            "EXISTS (SELECT 1 FROM enrichments e, json_each(e.data, '$.places') p "
            "WHERE e.message_rowid = messages.rowid_ AND e.stage = 'places' AND ("
            + " OR ".join(f"json_extract(p.value, '$.{key}') IN ({marks})" for key in _PLACE_KEYS)
            + "))"
        )
        params.extend(list(query.places) * len(_PLACE_KEYS))
    return " AND ".join(where), params


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _casefold(value: str | None) -> str | None:
    return value.casefold() if value is not None else None


def _statements(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, current = [], []
    for line in sql.splitlines():
        if line.strip().startswith("--") or not line.strip():
            continue
        current.append(line)
        joined = "\n".join(current)
        if sqlite3.complete_statement(joined):
            statements.append(joined)
            current = []
    if current:
        raise StoreError("migration_syntax", f"unterminated statement in a migration: {current[0][:60]}")
    return statements


def _row_dict(cursor: sqlite3.Cursor, row: Sequence[Any]) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


def _claim_record(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("texts", "corrections", "sources", "tags"):
        row[key] = orjson.loads(row[key])
    return row


def _quarantine_item(row: dict[str, Any], data: bytes, context: bytes) -> QuarantineItem:
    return QuarantineItem(
        id=row["id"],
        source_file=row["source_file"],
        locator=row["locator"],
        ordinal=row["ordinal"],
        format=row["format"],
        options=orjson.loads(row["options"]),
        context=orjson.loads(context),
        code=row["code"],
        reason=row["reason"],
        data=data,
        status=row["status"],
        attempts=row["attempts"],
        created_at=row["created_at"],
    )


__all__ = ["Enriched", "SqliteStore", "utc_text"]
