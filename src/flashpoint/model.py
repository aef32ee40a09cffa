"""The records that flow through Flashpoint, as frozen dataclasses.

Data flows one way: a source turns bytes into :class:`RawRecord` objects, parses each into a
:class:`Message` (or a :class:`Skipped` note), stages enrich it into an :class:`Enriched`, and the
store writes it. Nothing here does I/O.

Example:
    >>> from datetime import datetime, timezone
    >>> m = Message.create(source="telegram", native_id="42", channel="chat:1",
    ...     sent_at=datetime(2020, 2, 7, 22, 5, tzinfo=timezone.utc), text="hi", raw_sha256="ab")
    >>> m.id
    'telegram:chat:1:42'
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class SourceKind(StrEnum):
    """Where a message came from; one value per source module."""

    JSONL = "jsonl"
    CSV = "csv"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    VK = "vk"
    RSS = "rss"
    ARTICLE = "article"
    TIPLINE = "tipline"


class MessageKind(StrEnum):
    """A social message (chat, post, comment) or a news item for the incident register."""

    MESSAGE = "message"
    NEWS = "news"


@dataclass(frozen=True, slots=True)
class Attachment:
    """Metadata of a file attached to a message; the file itself is never stored here."""

    kind: str  # photo, video, voice, audio, document, sticker, link, other
    file_name: str | None = None
    size: int | None = None
    sha256: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read from a file, before parsing.

    ``data`` is the exact bytes the record occupied (or a canonical re-serialisation for nested
    JSON formats), ``context`` carries what the parser needs from outside the record (the chat
    name of a Telegram export, the CSV header, the inferred date order of a WhatsApp chat).
    """

    source_file: str
    ordinal: int  # 0-based position among the records of the file; resume skips by it
    locator: str  # human-readable position: "line 12", "messages[45]", "item 3"
    data: bytes
    context: Mapping[str, Any] = field(default_factory=dict)
    sha256: str = field(init=False, repr=False, compare=False)  # of ``data``; the archive address

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that was read correctly and deliberately not kept (a service message)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Message:
    """A message in its source-neutral form.

    ``id`` is stable across re-ingests: ``source:channel:native_id`` when the source has an id,
    otherwise ``source:channel:h<content hash>``. ``author`` is the keyed pseudonym; the raw author
    id is kept only in ``author_raw`` and only when the user opted in.
    """

    id: str
    source: SourceKind
    channel: str
    native_id: str | None
    sent_at: datetime  # timezone-aware, UTC
    utc_offset_minutes: int | None  # the offset the source wrote, when it wrote one
    text: str
    raw_sha256: str  # pointer into the raw archive
    kind: MessageKind = MessageKind.MESSAGE
    author: str | None = None
    author_raw: str | None = None
    author_name: str | None = None  # display name, only with the same opt-in as author_raw
    reply_to: str | None = None
    forwarded_from: str | None = None
    edited_at: datetime | None = None
    title: str | None = None
    url: str | None = None
    attachments: tuple[Attachment, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @staticmethod
    def create(
        *,
        source: SourceKind | str,
        channel: str,
        native_id: str | None,
        sent_at: datetime,
        text: str,
        raw_sha256: str,
        author: str | None = None,
        **fields: Any,
    ) -> Message:
        """Build a message with its stable id and its timestamp in UTC.

        ``author`` here is the raw author id; it is moved to ``author_raw`` so that the
        pseudonymise stage can replace it (and re-derive a content-hash id from the pseudonym, so
        that no stored id is derived from a raw author id). ``sent_at`` must be timezone-aware.
        """
        if sent_at.tzinfo is None or sent_at.utcoffset() is None:
            raise ValueError("sent_at must be timezone-aware")
        offset = sent_at.utcoffset()
        kind = SourceKind(source)
        occurrence = int(fields.get("extra", {}).get("occurrence", 0))
        mid = message_id(kind, channel, native_id, sent_at, author, text, occurrence)
        return Message(
            id=mid,
            source=kind,
            channel=channel,
            native_id=native_id,
            sent_at=sent_at.astimezone(UTC),
            utc_offset_minutes=fields.pop(
                "utc_offset_minutes", int(offset.total_seconds() // 60) if offset is not None else None
            ),
            text=text,
            raw_sha256=raw_sha256,
            author_raw=author,
            **fields,
        )

    def with_changes(self, **changes: Any) -> Message:
        """A copy with some fields changed (what ``dataclasses.replace`` does, at half the cost:
        this sits on the ingest hot path)."""
        unknown = changes.keys() - _MESSAGE_SLOTS
        if unknown:
            raise TypeError(f"Message has no field(s) {sorted(unknown)}")
        copy = object.__new__(Message)
        for name in _MESSAGE_SLOTS:
            object.__setattr__(copy, name, changes[name] if name in changes else getattr(self, name))
        return copy

    @property
    def original_offset(self) -> timezone | None:
        if self.utc_offset_minutes is None:
            return None
        return timezone(timedelta(minutes=self.utc_offset_minutes))

    @property
    def local_sent_at(self) -> datetime:
        """The timestamp in the offset the source wrote (UTC where it wrote none)."""
        offset = self.original_offset
        return self.sent_at.astimezone(offset) if offset is not None else self.sent_at


_MESSAGE_SLOTS = frozenset(Message.__slots__)


def message_id(
    source: SourceKind,
    channel: str,
    native_id: str | None,
    sent_at: datetime,
    author: str | None,
    text: str,
    occurrence: int = 0,
) -> str:
    """The stable id of a message: native when there is one, else a content hash.

    The hash takes the wall-clock time as the source wrote it (so reading a WhatsApp chat again with
    another ``timezone`` option finds the same ids), the author (the pseudonym, once the pseudonymise
    stage has run), the text, and ``occurrence``: the 2nd, 3rd... identical message in the same
    minute from the same author (people do send "+" three times).

    >>> from datetime import datetime, timezone
    >>> message_id(SourceKind.WHATSAPP, "g", None, datetime(2020, 1, 1, tzinfo=timezone.utc), "a", "x")[:12]
    'whatsapp:g:h'
    """
    if native_id:
        return f"{source.value}:{channel}:{native_id}"
    parts = [channel, sent_at.replace(tzinfo=None).isoformat(), author or "", text]
    if occurrence:
        parts.append(str(occurrence))
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{source.value}:{channel}:h{digest}"


@dataclass(frozen=True, slots=True)
class Enriched:
    """A message with what the stages added, keyed by the names the stages declare."""

    message: Message
    values: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def with_values(self, **new: Any) -> Enriched:
        merged = dict(self.values)
        merged.update(new)
        return Enriched(self.message, MappingProxyType(merged))
