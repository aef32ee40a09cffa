"""The embedded runner: read sources, run the stages, write the store in batches through one writer.

Resumable and idempotent: each file is known by a fingerprint and a checkpoint (the ordinal of the
next record to read) that commits in the same transaction as the batch it ends. A run killed at any
point restarts at the last committed batch; records read again are recognised by their ids.
Bad records never stop a run: they go to quarantine with the file, the record and the reason.

Example:
    >>> from flashpoint.config import Config
    >>> from flashpoint.store import SqliteStore
    >>> runner = EmbeddedRunner(SqliteStore(":memory:"), Config.from_mapping({"privacy": {"pseudonym_key": "k" * 32}}))
    >>> runner.pipeline.stages[0].name
    'pseudonymise'
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from flashpoint.config import Config
from flashpoint.errors import ConfigError, FlashpointError, RecordError
from flashpoint.model import Enriched, RawRecord, Skipped
from flashpoint.places.stage import ResolvePlaces
from flashpoint.rumours.cluster import Clusterer
from flashpoint.runners.rumours import cluster_new_messages
from flashpoint.sources import detect_format, expand_paths, source_for
from flashpoint.sources.base import Options, Source, SplitError
from flashpoint.speech.lexicon import load_lexicon
from flashpoint.speech.model import SpeechModel
from flashpoint.speech.stage import DetectSpeech
from flashpoint.stages import Pipeline, Stage
from flashpoint.stages.privacy import Pseudonymise, Pseudonymiser
from flashpoint.stages.text import ContentHash, NormaliseUnicode
from flashpoint.store.base import Batch, QuarantineItem, Store
from flashpoint.text.language import IdentifyLanguage
from flashpoint.text.normalise import NormaliseEvasion

log = logging.getLogger("flashpoint.ingest")

FINGERPRINT_BLOCK = 1 << 20


def default_stages(config: Config) -> list[Stage]:
    """The stages every ingested message goes through, in order; later issues append theirs."""
    return [
        *foundation_stages(config),
        IdentifyLanguage(),
        NormaliseEvasion(),
        speech_stage(config),
        ResolvePlaces(home_areas=config.places.home_areas, home_area=config.places.home_area),
    ]


def speech_stage(config: Config) -> DetectSpeech:
    """The speech stage with the packaged and configured lexicons and, when there is one, the model."""
    lexicon = load_lexicon(tuple(Path(d) for d in config.speech.lexicons))
    model_dir = config.speech.model_dir(config.store.path)
    return DetectSpeech(lexicon, SpeechModel.load(model_dir) if model_dir else None)


def foundation_stages(config: Config) -> list[Stage]:
    """The stages no later one can do without: pseudonyms first, then clean text and its hash."""
    return [
        Pseudonymise(Pseudonymiser(config.pseudonym_key()), config.privacy.keep_raw_authors),
        NormaliseUnicode(),
        ContentHash(),
    ]


def fingerprint(path: Path) -> str:
    """Identify a file by its size and sampled content (first and last MiB and 16 blocks between),
    so that a moved or renamed file is still known, without reading a 1 GB file twice."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        if size <= 18 * FINGERPRINT_BLOCK:
            for block in iter(lambda: handle.read(FINGERPRINT_BLOCK), b""):
                digest.update(block)
        else:
            offsets = [0] + [size * i // 17 for i in range(1, 17)] + [size - FINGERPRINT_BLOCK]
            for offset in offsets:
                handle.seek(offset)
                digest.update(handle.read(FINGERPRINT_BLOCK if offset in (0, size - FINGERPRINT_BLOCK) else 4096))
    return digest.hexdigest()


@dataclass
class IngestStats:
    files: int = 0
    files_skipped: int = 0
    records_read: int = 0
    messages_added: int = 0
    duplicates: int = 0
    skipped: int = 0
    quarantined: int = 0
    skipped_reasons: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "files_skipped": self.files_skipped,
            "records_read": self.records_read,
            "messages_added": self.messages_added,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "quarantined": self.quarantined,
            "skipped_reasons": dict(self.skipped_reasons),
            "errors": list(self.errors),
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(frozen=True)
class Progress:
    path: str
    bytes_done: int
    bytes_total: int
    stats: IngestStats


ProgressCallback = Callable[[Progress], None]


@dataclass
class Admitted:
    """What admission made of one raw record."""

    records: list[Enriched] = field(default_factory=list)
    quarantined: list[QuarantineItem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def archive(self) -> bool:
        return bool(self.records or self.skipped)


class EmbeddedRunner:
    """Ingest on one machine: sources are read in order, stages run in this process, and one writer
    commits a batch at a time. ``admit`` is the pure core a distributed runner would share."""

    def __init__(self, store: Store, config: Config, stages: Sequence[Stage] | None = None) -> None:
        self.store = store
        self.config = config
        self.pipeline = Pipeline(list(stages) if stages is not None else default_stages(config))
        self.stage_adds = [(s.name, s.version, s.adds) for s in self.pipeline.stages]
        self._clusterer: Clusterer | None = None

    # -- admission: the pure part shared by ingest and quarantine retry ---------------------------------

    def admit(self, raw: RawRecord, source: Source, options: Options, now: datetime | None = None) -> Admitted:
        """Parse, validate and enrich one raw record. Never raises for bad input."""
        result = Admitted()

        def reject(code: str, reason: str) -> None:
            result.quarantined.append(
                QuarantineItem(
                    raw.source_file,
                    raw.locator,
                    raw.ordinal,
                    source.format,
                    dict(options),
                    dict(raw.context),
                    code,
                    reason,
                    raw.data,
                )
            )

        if len(raw.data) > self.config.ingest.max_record_bytes:
            reject("too_large", f"the record is {len(raw.data)} bytes, over ingest.max_record_bytes")
            return result
        try:
            parsed = source.parse(raw, options)
        except RecordError as exc:
            reject(exc.code, exc.message)
            return result
        except Exception as exc:  # a parser bug must not stop the run or lose the record
            log.exception("parser error in %s at %s (sha256 %s)", source.format, raw.locator, raw.sha256[:16])
            reject("parser_error", f"the {source.format} reader failed on this record: {type(exc).__name__}")
            return result
        earliest, latest = self.config.ingest.earliest_dt, self.config.latest_allowed(now)
        for item in parsed:
            if isinstance(item, Skipped):
                result.skipped.append(item.reason)
            elif item.sent_at.tzinfo is None:
                reject("naive_timestamp", "the reader produced a timestamp without a timezone")
            elif not earliest <= item.sent_at <= latest:
                reject(
                    "timestamp_out_of_range",
                    f"timestamp {item.sent_at.isoformat()} is outside {earliest.date()} .. {latest.date()}",
                )
            else:
                try:
                    enriched = self.pipeline.run(Enriched(item))
                except Exception as exc:  # a stage bug, like a reader bug, costs one record, not the run
                    log.exception("stage error at %s (sha256 %s)", raw.locator, raw.sha256[:16])
                    reject("stage_error", f"a stage failed on this record: {type(exc).__name__}")
                    continue
                problem = _unstorable(enriched)
                if problem:
                    reject("unstorable_value", problem)
                else:
                    result.records.append(enriched)
        return result

    # -- ingest -------------------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[Path],
        fmt: str | None = None,
        options: Mapping[str, Any] | None = None,
        progress: ProgressCallback | None = None,
        force: bool = False,
    ) -> IngestStats:
        """Ingest files; file-level problems are recorded in ``errors`` and the run goes on."""
        started = time.perf_counter()
        files = expand_paths(list(paths))
        run_id = self.store.begin_run([str(p) for p in files], self.pipeline.describe())
        stats = IngestStats()
        status = "interrupted"
        try:
            for path in files:
                try:
                    self._ingest_file(path, fmt, dict(options or {}), run_id, stats, progress, force)
                except FlashpointError as exc:
                    stats.errors.append(str(exc) if str(path) in str(exc) else f"{path}: {exc}")
                    log.warning("file skipped: %s (%s)", path, exc.code)
                except OSError as exc:
                    stats.errors.append(f"{path}: cannot read the file: {exc.strerror or exc}")
            self._cluster()
            status = "done" if not stats.errors else "done_with_errors"
        finally:
            stats.duration_s = time.perf_counter() - started
            self.store.finish_run(run_id, status, stats.as_dict())
        return stats

    def _cluster(self) -> None:
        """Cluster what this run added into rumours (see :mod:`flashpoint.runners.rumours`). A
        clustering failure is logged and left for the next run's catch-up; it never fails ingest."""
        try:
            if self._clusterer is None:
                self._clusterer = Clusterer.rebuild(self.store.rumour_replay())
            cluster_new_messages(self.store, self._clusterer)
        except Exception:
            log.exception("rumour clustering failed; the next run catches up")
            self._clusterer = None

    def _ingest_file(
        self,
        path: Path,
        fmt: str | None,
        options: dict[str, Any],
        run_id: int,
        stats: IngestStats,
        progress: ProgressCallback | None,
        force: bool,
    ) -> None:
        source = source_for(fmt) if fmt else detect_format(path)
        options = self.config.options_for(source.format, {k: v for k, v in options.items() if k in source.option_names})
        _check_options(source, options)
        size = path.stat().st_size
        fp = fingerprint(path)
        state = self.store.file_state(fp)
        if state and state.complete and not force:
            stats.files_skipped += 1
            log.info("already ingested: file %s", fp[:16])
            return
        state = self.store.register_file(fp, str(path), source.format, size, options, run_id)
        start = 0 if force else state.next_ordinal
        stats.files += 1
        batch = self._new_batch(run_id, source)
        next_ordinal = start
        with path.open("rb") as stream:
            items = source.records(path, stream, options)
            while True:
                try:
                    item = next(items)
                except StopIteration:
                    break
                except FlashpointError:  # the file cannot be read on (a bad option, say): keep what was read
                    self._flush(batch, fp, next_ordinal, stats)
                    raise
                except Exception as exc:  # a reader bug: keep what was read, report the file, go on
                    log.exception(
                        "the %s reader failed in file %s after record %d", source.format, fp[:16], next_ordinal
                    )
                    stats.errors.append(
                        f"{path}: the {source.format} reader failed after record {next_ordinal} "
                        f"({type(exc).__name__}); the records before it are kept, the rest of the file is not read"
                    )
                    self._flush(batch, fp, next_ordinal, stats)
                    return
                if item.ordinal < start:
                    continue
                next_ordinal = item.ordinal + 1
                stats.records_read += 1
                batch.records_read += 1
                if isinstance(item, SplitError):
                    batch.quarantined.append(_split_quarantine(item, source.format, options))
                    if item.unread_bytes:
                        stats.errors.append(
                            f"{path}: {item.unread_bytes} bytes after {item.locator} could not be read "
                            f"({item.message}) [{item.code}]"
                        )
                else:
                    admitted = self.admit(item, source, options)
                    batch.records.extend(admitted.records)
                    batch.quarantined.extend(admitted.quarantined)
                    stats.skipped += len(admitted.skipped)
                    stats.skipped_reasons.update(admitted.skipped)
                    if admitted.archive:
                        batch.raws.append(item)
                if len(batch.raws) + len(batch.quarantined) >= self.config.ingest.batch_size:
                    self._flush(batch, fp, next_ordinal, stats)
                    batch = self._new_batch(run_id, source)
                    if progress:
                        progress(Progress(str(path), stream.tell(), size, stats))
            self._flush(batch, fp, next_ordinal, stats)
        self.store.mark_file_complete(fp)
        if progress:
            progress(Progress(str(path), size, size, stats))

    def _new_batch(self, run_id: int, source: Source) -> Batch:
        return Batch(run_id=run_id, format=source.format, stage_adds=self.stage_adds)

    def _flush(self, batch: Batch, fp: str, next_ordinal: int, stats: IngestStats) -> None:
        batch.checkpoint = (fp, next_ordinal)
        result = self.store.write_batch(batch)
        stats.messages_added += result.messages_added
        stats.duplicates += result.duplicates
        stats.quarantined += result.quarantined
        for item in batch.quarantined:  # file names can name people: log the file's fingerprint
            log.info("quarantined file %s %s: %s (sha256 %s)", fp[:16], item.locator, item.code, item.sha256[:16])

    # -- quarantine retry -----------------------------------------------------------------------------------

    def retry(self, item_id: int, overrides: Mapping[str, Any] | None = None) -> tuple[bool, str]:
        """Parse a quarantined record again with the current code and, optionally, changed options.
        Returns (resolved, what happened)."""
        store = self.store
        item = store.quarantine_item(item_id)
        if item is None:
            return False, f"no quarantined record with id {item_id}"
        if item.status == "resolved":
            return True, f"record {item_id} was already resolved"
        source = source_for(item.format)
        options = {**item.options, **(overrides or {})}
        raw = RawRecord(item.source_file, item.ordinal, item.locator, item.data, item.context)
        admitted = self.admit(raw, source, options)
        if admitted.quarantined:
            failure = admitted.quarantined[0]
            store.record_retry_failure(item_id, failure.code, failure.reason)
            return False, f"still rejected: {failure.reason} [{failure.code}]"
        run_id = store.begin_run([f"quarantine:{item_id}"], self.pipeline.describe())
        batch = self._new_batch(run_id, source)
        batch.raws.append(raw)
        batch.records.extend(admitted.records)
        batch.records_read = 1
        store.resolve_quarantine(item_id, batch)
        store.finish_run(run_id, "done", {"skipped": len(admitted.skipped)})
        return True, f"resolved: {len(admitted.records)} message(s), {len(admitted.skipped)} skipped"


def _split_quarantine(item: SplitError, fmt: str, options: Mapping[str, Any]) -> QuarantineItem:
    return QuarantineItem(
        item.source_file, item.locator, item.ordinal, fmt, options, {}, item.code, item.message, item.data
    )


def _unstorable(record: Enriched) -> str | None:
    """Why a record cannot be written (a lone surrogate in a text, an integer past 64 bits), so
    that it is quarantined alone instead of failing its whole batch; None when it can."""
    m = record.message
    try:
        for text in (m.text, m.channel, m.title, m.url, m.author, m.forwarded_from, m.reply_to):
            if text:
                text.encode("utf-8")
        orjson.dumps((m.attachments, dict(m.extra), dict(record.values)), option=orjson.OPT_NON_STR_KEYS)
    except UnicodeEncodeError:
        return "a text field holds characters that are not valid Unicode (a lone surrogate)"
    except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
        return f"a field holds a value that cannot be stored: {str(exc)[:80]}"
    return None


def _check_options(source: Source, options: Mapping[str, Any]) -> None:
    unknown = set(options) - set(source.option_names)
    if unknown:
        raise ConfigError(
            "unknown_option",
            f"the {source.format} reader has no option(s) {sorted(unknown)}; it knows {sorted(source.option_names)}",
        )
