"""Field mapping, date reading and line reading shared by the tabular formats (CSV and JSONL).

Listening tools and scrapers all export "a row per message", each with its own column names, date
style and encoding. A mapping names, for each message field, the column (CSV) or dotted key path
(JSONL) that holds it; unmapped fields fall back to common column names, matched without regard to
case. Dates are read in the styles these tools write (ISO, epoch, ``07.02.2020 22:15``, RFC 2822),
and a file's encoding is guessed line by line so that one corrupt line cannot turn a UTF-8 file
into mojibake. The date styles themselves are read by :mod:`flashpoint.sources.datetimes`.

Example:
    >>> m = FieldMap.from_options({"map": {"text": "body"}})
    >>> m.lookup({"body": "hi", "Created_At": "2020-02-07T10:00:00Z"}, "text")
    'hi'
    >>> read_timestamp("07.02.2020 22:15")[0].isoformat()
    '2020-02-07T22:15:00+00:00'
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, BinaryIO

from flashpoint.errors import ConfigError, FormatError, RecordError
from flashpoint.model import Attachment, Message, MessageKind, RawRecord, SourceKind
from flashpoint.sources.base import HEAD_BYTES, Options, as_int, detect_encoding, timezone_option
from flashpoint.sources.datetimes import date_order_option, read_timestamp

# The options both tabular sources understand; each adds its own (csv: delimiter).
COMMON_OPTIONS = frozenset({"map", "encoding", "timezone", "channel", "date_order"})

# A record above this is cut off by the source itself; the runner's ingest.max_record_bytes
# (16 MiB by default) is the limit users tune, this one only keeps memory bounded on broken files.
MAX_RECORD_BYTES = 64 * 1024 * 1024
SPLIT_SAMPLE_BYTES = 1024 * 1024  # how much of an unsplittable part goes to quarantine

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

# Lower-case; a column matches whatever its case. Russian names are those of Russian-language tools.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "message_id", "msg_id", "post_id", "uuid", "guid"),
    "channel": ("channel", "channel_id", "chat", "chat_id", "group", "group_id", "page", "source_name"),
    "author": ("author_id", "user_id", "from_id", "author", "user", "username", "screen_name", "sender", "автор"),
    "author_name": ("author_name", "user_name", "from", "name", "sender_name"),
    "timestamp": (
        "timestamp",
        "date",
        "datetime",
        "created_at",
        "created",
        "time",
        "published",
        "published_at",
        "дата",
        "дата публикации",
    ),
    "text": ("text", "message", "content", "body", "full_text", "post_text", "caption", "текст"),
    "reply_to": ("reply_to", "reply_to_id", "reply_to_message_id", "in_reply_to", "parent_id"),
    "forwarded_from": ("forwarded_from", "fwd_from", "repost_of", "shared_from"),
    "url": ("url", "link", "permalink", "post_url", "ссылка"),
    "title": ("title", "headline", "заголовок"),
    "edited": ("edited", "edited_at", "edit_date"),
    "kind": ("kind", "type"),
}

# Keys of a nested person object ({"user": {"id": ..., "name": ...}}) that hold its id.
PERSON_ID_KEYS = ("id", "user_id", "username", "screen_name")


# -- options --------------------------------------------------------------------------------------------


def check_options(options: Options) -> FieldMap:
    """Validate the shared options once per file, so a bad option stops the file with one clear
    message instead of failing every record."""
    timezone_option(options)
    date_order_option(options)
    encoding_option(options)
    return FieldMap.from_options(options)


def encoding_option(options: Options) -> str | None:
    """The ``encoding`` option as Python's codec name, or None to guess."""
    name = options.get("encoding")
    if not name:
        return None
    try:
        return codecs.lookup(str(name)).name
    except LookupError as exc:
        raise ConfigError("bad_encoding", f"unknown encoding {name!r}; try utf-8 or cp1251") from exc


@dataclass(frozen=True)
class FieldMap:
    """Which column or key holds each message field; the rest are found by their common names."""

    explicit: Mapping[str, str]

    @staticmethod
    def from_options(options: Options) -> FieldMap:
        """Read ``map`` as a mapping (config file) or as ``field=column`` pairs (command-line flags:
        a comma-separated string or a list of pairs)."""
        explicit = _mapping_pairs(options.get("map"))
        unknown = set(explicit) - set(FIELDS)
        if unknown:
            raise ConfigError(
                "bad_mapping", f"unknown field(s) in the column mapping: {sorted(unknown)}; known: {', '.join(FIELDS)}"
            )
        return FieldMap(explicit)

    def missing_columns(self, header: list[str]) -> list[str]:
        """Mapped columns a CSV header lacks (a typo in the mapping would otherwise fail every row)."""
        row = Row(dict.fromkeys(header, ""))
        return [column for column in self.explicit.values() if row.get(column) is None]

    def extract(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Every message field's value in a row (None where absent), in one pass over the row."""
        data = row.data if isinstance(row, Row) else row
        plan = _default_keys(data)
        values: dict[str, Any] = {}
        for name in FIELDS:
            column = self.explicit.get(name)
            if column is not None:
                values[name] = (row if isinstance(row, Row) else Row(row)).dig(column)
                continue
            values[name] = None
            for key in plan[name]:
                value = data[key]
                if value not in (None, ""):
                    values[name] = value
                    break
        return values

    def lookup(self, row: Mapping[str, Any], name: str) -> Any:
        """The value of a message field in a row, or None."""
        found = row if isinstance(row, Row) else Row(row)
        column = self.explicit.get(name)
        if column is not None:
            return found.dig(column)
        data = found.data
        for key in _default_keys(data)[name]:
            value = data[key]
            if value not in (None, ""):
                return value
        return None


# Rows of one file share their keys, so which key holds each field is worked out once per key set.
_PLANS: dict[tuple[Any, ...], dict[str, tuple[Any, ...]]] = {}
_PLANS_MAX = 1024


def _default_keys(data: Mapping[str, Any]) -> dict[str, tuple[Any, ...]]:
    """For each field, the row's keys that match its common names (ignoring case), in order."""
    keys = tuple(data)
    plan = _PLANS.get(keys)
    if plan is None:
        folded: dict[str, Any] = {}
        for key in keys:
            folded.setdefault(str(key).strip().casefold(), key)  # the first of two same-named columns wins
        plan = {
            name: tuple(folded[c.casefold()] for c in candidates if c.casefold() in folded)
            for name, candidates in {**DEFAULT_COLUMNS, "attachments": ("attachments",)}.items()
        }
        if len(_PLANS) >= _PLANS_MAX:
            _PLANS.clear()
        _PLANS[keys] = plan
    return plan


def _mapping_pairs(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, str | list | tuple):
        items = value.split(",") if isinstance(value, str) else list(value)
        pairs = [_pair(item) for item in items if str(item).strip()]
    else:
        raise ConfigError("bad_mapping", "the column mapping must be a table or field=column pairs")
    mapping: dict[str, str] = {}
    for field_name, column in pairs:
        if not isinstance(column, str) or not column.strip():
            raise ConfigError("bad_mapping", f"the column mapping gives no column for {field_name!r}")
        mapping[str(field_name).strip()] = column.strip()
    return mapping


def _pair(item: Any) -> tuple[str, str]:
    field_name, sep, column = str(item).partition("=")
    if not sep:
        raise ConfigError("bad_mapping", f"expected field=column in the column mapping, found {str(item)!r}")
    return field_name.strip(), column.strip()


class Row(Mapping[str, Any]):
    """A row whose keys also match without regard to case or surrounding spaces."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self._folded: dict[str, Any] | None = None

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def get(self, key: str, default: Any = None) -> Any:
        if key in self.data:
            return self.data[key]
        if self._folded is None:
            self._folded = _folded(self.data)
        return self._folded.get(key.strip().casefold(), default)

    def dig(self, path: str) -> Any:
        """A top-level column, or a dotted path into nested objects and lists (``user.id``)."""
        value = self.get(path)
        if value is not None or "." not in path:
            return value
        found: Any = self
        for part in path.split("."):
            if isinstance(found, Mapping):
                found = (found if isinstance(found, Row) else Row(found)).get(part)
            elif isinstance(found, list) and part.isdigit() and int(part) < len(found):
                found = found[int(part)]
            else:
                return None
        return found


def _folded(data: Mapping[str, Any]) -> dict[str, Any]:
    folded: dict[str, Any] = {}
    for key, value in data.items():
        folded.setdefault(str(key).strip().casefold(), value)  # the first of two same-named columns wins
    return folded


# -- encodings and lines --------------------------------------------------------------------------------


def guess_encoding(head: bytes, declared: str | None = None) -> str:
    """The declared encoding, else UTF-8 unless most non-ASCII lines of the head are not UTF-8.

    Voting line by line keeps a UTF-8 file with one corrupt line in UTF-8 (the bad line alone is
    rejected) while a whole cp1251 file is still recognised.

    >>> guess_encoding("Масанчи\\n".encode() + b"\\xff bad\\n" + "Сортобе\\n".encode())
    'utf-8'
    >>> guess_encoding("Масанчи\\nСортобе\\n".encode("cp1251"))
    'cp1251'
    """
    if declared:
        return declared
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FormatError("unsupported_encoding", "the file is UTF-16; save it as UTF-8 and read it again")
    lines = head.split(b"\n")
    cut = len(head) >= HEAD_BYTES  # the last line of a full head may stop mid-character
    good = bad = 0
    for index, line in enumerate(lines):
        if line.isascii():
            continue
        if _is_utf8(line, partial=cut and index == len(lines) - 1):
            good += 1
        else:
            bad += 1
    if good >= bad:
        return "utf-8"
    return codecs.lookup(detect_encoding(head)).name


def _is_utf8(data: bytes, *, partial: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=not partial)
    except UnicodeDecodeError:
        return False
    return True


def record_encoding(raw: RawRecord, options: Options) -> str:
    """The encoding to decode a record with: an explicit option wins over what the split guessed,
    so that ``quarantine retry --option encoding=cp1251`` can fix a record read with the wrong one."""
    return encoding_option(options) or str(raw.context.get("encoding") or "utf-8")


def line_codec(encoding: str) -> str:
    """The codec that decodes one line: a BOM belongs to the file, not to each line."""
    return "utf-8" if encoding == "utf-8-sig" else encoding


@dataclass(frozen=True)
class Oversize:
    """A physical line longer than MAX_RECORD_BYTES: its first bytes and its full size."""

    head: bytes
    size: int


def physical_lines(stream: BinaryIO, limit: int = MAX_RECORD_BYTES) -> Iterator[bytes | Oversize]:
    """The lines of a binary stream with their terminators; a line over ``limit`` bytes is skipped
    past in chunks and reported as :class:`Oversize`, so memory stays bounded on any input."""
    while line := stream.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        size = len(line)
        while more := stream.readline(SPLIT_SAMPLE_BYTES):
            size += len(more)
            if more.endswith(b"\n"):
                break
        yield Oversize(line[:SPLIT_SAMPLE_BYTES], size)


def without_terminator(line: bytes) -> bytes:
    """A line without its final ``\\n`` or ``\\r\\n`` (and nothing more)."""
    if line.endswith(b"\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith(b"\n") else line


# -- rows to messages -----------------------------------------------------------------------------------


def message_from_row(
    row: Mapping[str, Any], raw: RawRecord, options: Options, kind: SourceKind, fields: FieldMap
) -> Message:
    """Build a message from one mapped row; a missing timestamp or text is a record error."""
    where = {"source_file": raw.source_file, "locator": raw.locator}
    found = fields.extract(row)
    tz = timezone_option(options)
    order = date_order_option(options)
    sent_at, had_offset = _sent_at(found["timestamp"], tz, order, where)
    text = found["text"]
    if text is not None and not isinstance(text, str):
        text = _text(text)
        if text is None:
            raise RecordError("bad_text", "the text field is not a string", **where)
    attachments = _attachments(next((row[k] for k in _default_keys(row)["attachments"]), None))
    if not (text or "").strip() and not attachments:
        raise RecordError("empty_text", "the message has no text and no attachments", **where)
    channel = _text(found["channel"]) or str(options.get("channel") or Path(raw.source_file).stem)
    news = str(found["kind"] or "").lower() in {"news", "article"}
    return Message.create(
        source=kind,
        channel=channel,
        native_id=_text(found["id"]) or None,
        sent_at=sent_at,
        text=text or "",
        raw_sha256=raw.sha256,
        author=_identity(found["author"], PERSON_ID_KEYS),
        author_name=_identity(found["author_name"], ("name", "display_name", "full_name")),
        reply_to=_text(found["reply_to"]) or None,
        forwarded_from=_text(found["forwarded_from"]) or None,
        url=_text(found["url"]) or None,
        title=_text(found["title"]) or None,
        edited_at=_edited_at(found["edited"], tz, order),
        kind=MessageKind.NEWS if news else MessageKind.MESSAGE,
        attachments=attachments,
        extra={} if had_offset else {"offset_assumed": True},
    )


def _sent_at(stamp: Any, tz: tzinfo, order: str, where: dict[str, str]) -> tuple[datetime, bool]:
    if stamp is None or (isinstance(stamp, str) and not stamp.strip()):
        raise RecordError(
            "no_timestamp", "no timestamp column or key found; map one with --map timestamp=COLUMN", **where
        )
    try:
        sent_at, had_offset = read_timestamp(stamp, tz, order)
        sent_at.astimezone(UTC)  # a date near year 1 or 9999 may not survive the shift to UTC
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise RecordError(
            "bad_timestamp",
            f"cannot read the timestamp {str(stamp)[:40]!r}: {exc}",
            **where,
        ) from exc
    return sent_at, had_offset


def _edited_at(value: Any, tz: tzinfo, order: str) -> datetime | None:
    if value in (None, "", False, True):
        return None
    try:
        edited, _ = read_timestamp(value, tz, order)
        return edited.astimezone(UTC)  # in UTC like sent_at
    except (ValueError, TypeError, OverflowError, OSError):
        return None  # an unreadable edit time loses only the edit time, not the message


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _identity(value: Any, keys: tuple[str, ...]) -> str | None:
    """A person's id or name as a non-empty string; a nested person object gives its id key."""
    if isinstance(value, Mapping):
        found = Row(value)
        value = next((found.get(key) for key in keys if found.get(key) not in (None, "")), None)
    text = _text(value)
    if text is None:
        return None
    return text.strip() or None


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
                    size=as_int(size),
                    sha256=_text(item.get("sha256")),
                    mime_type=_text(item.get("mime_type")),
                )
            )
    return tuple(found)
