"""Field mapping shared by the tabular formats (CSV and JSONL from listening tools).

A mapping names, for each message field, the column (CSV) or key path (JSONL, dotted) that holds it.
Unmapped fields fall back to common column names used by listening tools and scrapers.

Example:
    >>> m = FieldMap.from_options({"map": {"text": "body"}})
    >>> m.lookup({"body": "hi", "created_at": "2020-02-07T10:00:00Z"}, "text")
    'hi'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flashpoint.errors import ConfigError, RecordError
from flashpoint.model import Attachment, Message, MessageKind, RawRecord, SourceKind
from flashpoint.sources.base import Options, parse_timestamp, person, timezone_option

FIELDS = (
    "id",
    "channel",
    "author",
    "author_name",
    "timestamp",
    "text",
    "reply_to",
    "forwarded_from",
    "url",
    "title",
    "edited",
    "kind",
)

DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "message_id", "msg_id", "post_id", "uuid", "guid"),
    "channel": ("channel", "channel_id", "chat", "chat_id", "group", "group_id", "page", "source_name"),
    "author": ("author_id", "user_id", "from_id", "author", "user", "username", "screen_name", "sender"),
    "author_name": ("author_name", "user_name", "from", "name", "sender_name"),
    "timestamp": ("timestamp", "date", "datetime", "created_at", "created", "time", "published", "published_at"),
    "text": ("text", "message", "content", "body", "full_text", "post_text", "caption"),
    "reply_to": ("reply_to", "reply_to_id", "reply_to_message_id", "in_reply_to", "parent_id"),
    "forwarded_from": ("forwarded_from", "fwd_from", "repost_of", "shared_from"),
    "url": ("url", "link", "permalink", "post_url"),
    "title": ("title", "headline"),
    "edited": ("edited", "edited_at", "edit_date"),
    "kind": ("kind", "type"),
}


@dataclass(frozen=True)
class FieldMap:
    explicit: Mapping[str, str]

    @staticmethod
    def from_options(options: Options) -> FieldMap:
        explicit = dict(options.get("map") or {})
        unknown = set(explicit) - set(FIELDS)
        if unknown:
            raise ConfigError(
                "bad_mapping", f"unknown field(s) in the column mapping: {sorted(unknown)}; known: {', '.join(FIELDS)}"
            )
        return FieldMap(explicit)

    def lookup(self, row: Mapping[str, Any], name: str) -> Any:
        column = self.explicit.get(name)
        if column is not None:
            return _dig(row, column)
        for candidate in DEFAULT_COLUMNS[name]:
            value = row.get(candidate)
            if value not in (None, ""):
                return value
        return None


def _dig(row: Mapping[str, Any], path: str) -> Any:
    if path in row:
        return row[path]
    value: Any = row
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def message_from_row(
    row: Mapping[str, Any], raw: RawRecord, options: Options, kind: SourceKind, fields: FieldMap
) -> Message:
    """Build a message from one mapped row; a missing timestamp or text is a record error."""
    where = {"source_file": raw.source_file, "locator": raw.locator}
    stamp = fields.lookup(row, "timestamp")
    if stamp in (None, ""):
        raise RecordError("no_timestamp", "no timestamp column or key found; map one with --map timestamp=COLUMN", **where)
    tz = timezone_option(options)
    try:
        sent_at, had_offset = parse_timestamp(stamp, tz)
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError("bad_timestamp", f"cannot read the timestamp {str(stamp)[:40]!r}: {exc}", **where) from exc
    text = fields.lookup(row, "text")
    if text is not None and not isinstance(text, str):
        text = _text(text)
        if text is None:
            raise RecordError("bad_text", "the text field is not a string", **where)
    attachments = _attachments(row.get("attachments"))
    if not text and not attachments:
        raise RecordError("empty_text", "the message has no text and no attachments", **where)
    channel = _text(fields.lookup(row, "channel")) or str(options.get("channel") or Path(raw.source_file).stem)
    edited = fields.lookup(row, "edited")
    edited_at = None
    if edited not in (None, "", False, True):
        try:
            edited_at = parse_timestamp(edited, tz)[0]
        except (ValueError, OverflowError, OSError):
            edited_at = None
    message_kind = MessageKind.NEWS if str(fields.lookup(row, "kind") or "").lower() in {"news", "article"} else MessageKind.MESSAGE
    return Message.create(
        source=kind,
        channel=channel,
        native_id=_text(fields.lookup(row, "id")) or None,
        sent_at=sent_at,
        text=text or "",
        raw_sha256=raw.sha256,
        author=person(fields.lookup(row, "author")),
        author_name=person(fields.lookup(row, "author_name")),
        reply_to=_text(fields.lookup(row, "reply_to")) or None,
        forwarded_from=_text(fields.lookup(row, "forwarded_from")) or None,
        url=_text(fields.lookup(row, "url")) or None,
        title=_text(fields.lookup(row, "title")) or None,
        edited_at=edited_at,
        kind=message_kind,
        attachments=attachments,
        extra={} if had_offset else {"offset_assumed": True},
    )


def _attachments(value: Any) -> tuple[Attachment, ...]:
    if not isinstance(value, list):
        return ()
    found = []
    for item in value:
        if isinstance(item, Mapping):
            size = item.get("size")
            found.append(
                Attachment(
                    kind=str(item.get("kind") or item.get("type") or "other"),
                    file_name=_text(item.get("file_name") or item.get("name")),
                    size=int(size) if isinstance(size, int | float) and not isinstance(size, bool) else None,
                    sha256=_text(item.get("sha256")),
                    mime_type=_text(item.get("mime_type")),
                )
            )
    return tuple(found)
