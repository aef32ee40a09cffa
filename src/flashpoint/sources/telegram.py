"""Telegram Desktop exports (``result.json``): one chat, or the whole account with all its chats.

Monitoring teams receive these exports from volunteers and partner groups; a busy village group
over a few years easily reaches a gigabyte. The file is one JSON document, so it is read as a
stream of ijson events: memory holds one message at a time, never the ``messages`` array. Each
message becomes a raw record whose bytes are the message object re-serialised by orjson, with the
chat's name, type and id (written before ``messages`` in the file) carried in its context.

Timestamps: ``date_unixtime`` is exact UTC; ``date`` is the wall-clock time of the machine that made
the export, so the difference between the two is kept as the message's original UTC offset. Old
exports without ``date_unixtime`` fall back to ``date`` in the ``timezone`` option.

A file that ends in the middle of a message (a copy cut short) gives every complete message first,
then one split error holding the bytes after the last complete message.

Example:
    >>> from pathlib import Path
    >>> head = b'{"name": "Masanchi", "type": "private_group", "id": 1, "messages": [{"id": 1, "type": "message"'
    >>> TelegramSource().sniff(Path("result.json"), head)
    0.95
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import ijson
import orjson

from flashpoint.errors import RecordError
from flashpoint.model import Attachment, Message, RawRecord, Skipped, SourceKind, message_id
from flashpoint.sources.base import Options, Parsed, SplitError, as_int, parse_timestamp, person, timezone_option

CHAT_TYPES = (
    "personal_chat",
    "private_group",
    "private_supergroup",
    "public_supergroup",
    "private_channel",
    "public_channel",
    "bot_chat",
    "saved_messages",
)
# Chat types whose name is a person's display name: it is not copied into ``extra``.
PERSON_CHAT_TYPES = frozenset({"personal_chat", "bot_chat", "saved_messages"})

# Where messages arrays live: "" for a single-chat export, the chat lists of a full-account export.
CHAT_LISTS = ("chats.list", "left_chats.list")
TOP_LEVEL_CONTAINERS = frozenset({"messages", "chats", "left_chats"})
HEADER_KEYS = ("name", "type", "id")

BOM = b"\xef\xbb\xbf"
SPLIT_CAP = 1 << 20  # bytes of a part that cannot be split kept in quarantine
RETAIN = 2 << 20  # bytes of recent input kept to find where the last complete message ended
SEARCH_BUDGET = 64 << 20  # characters the end-of-last-message search may scan at most

NOT_INCLUDED = ("(File not included", "(File exceeds maximum size")
MEDIA_KINDS = {
    "voice_message": "voice",
    "video_message": "video",
    "video_file": "video",
    "audio_file": "audio",
    "sticker": "sticker",
    "animation": "animation",
}
# Entity types that carry a URL, and the key that holds it.
LINK_ENTITIES = {"text_link": "href", "link": "text"}
PEER_ID = re.compile(r"(?:channel|chat|group)?(\d+)")
MAX_OFFSET_MINUTES = 14 * 60

_HEAD_OBJECT = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*\{")
_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
_MESSAGE_HINT = re.compile(rb'"date_unixtime"\s*:|"type"\s*:\s*"message"')
_CHAT_TYPE = re.compile(rb'"type"\s*:\s*"(?:' + b"|".join(t.encode() for t in CHAT_TYPES) + rb')"')
_CHAT_LIST = re.compile(rb'"chats"\s*:\s*\{[^{}\[\]]*"list"\s*:\s*\[')
_ACCOUNT = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"about"\s*:\s*"[^"]*"\s*,\s*"personal_information"\s*:')


class TelegramSource:
    format: ClassVar[str] = "telegram"
    kind: ClassVar[SourceKind] = SourceKind.TELEGRAM
    option_names: ClassVar[frozenset[str]] = frozenset({"timezone"})

    def sniff(self, path: Path, head: bytes) -> float:
        if not _HEAD_OBJECT.match(head):
            return 0.0
        if _CHAT_LIST.search(head) or _ACCOUNT.match(head):
            return 0.95
        if _MESSAGES.search(head) and _MESSAGE_HINT.search(head) and _CHAT_TYPE.search(head):
            return 0.95
        return 0.6 if path.name == "result.json" else 0.0

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        splitter = _Splitter(str(path), _RetainingReader(stream))
        yield from splitter.run()

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        try:
            message = orjson.loads(raw.data)
        except orjson.JSONDecodeError as exc:
            raise RecordError("bad_json", f"the record is not valid JSON: {exc}", **where) from exc
        if not isinstance(message, dict):
            raise RecordError(
                "not_an_object", f"a message must be a JSON object, found {type(message).__name__}", **where
            )
        if message.get("type") == "service":
            return [Skipped("service")]
        try:
            return [_message(message, raw, options)]
        except RecordError as exc:
            raise exc.at(raw.source_file, raw.locator) from exc


# -- splitting --------------------------------------------------------------------------------------------


class _RetainingReader:
    """A file wrapper for ijson that knows its offset and keeps the last few chunks it returned."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.pos = 0
        self.chunk_start = 0
        self.chunks: deque[tuple[int, bytes]] = deque()
        self.retained = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        first = self.pos == 0
        self.chunk_start = self.pos
        self.pos += len(data)
        if data:
            self.chunks.append((self.chunk_start, data))
            self.retained += len(data)
            while self.retained - len(self.chunks[0][1]) >= RETAIN:
                self.retained -= len(self.chunks.popleft()[1])
        if first and data.startswith(BOM):
            return data[len(BOM) :]  # a re-saved export; offsets here still count the BOM
        return data

    def ends_in_a_cut_character(self) -> bool:
        """Whether the input ends in the first bytes of a UTF-8 character: a file cut short there."""
        if not self.chunks or self.read(1):
            return False
        tail = self.window()[1][-4:]
        while tail and 0x80 <= tail[0] < 0xC0:  # continuation bytes of an earlier character
            tail = tail[1:]
        try:
            tail.decode("utf-8")
        except UnicodeDecodeError as exc:
            return exc.reason == "unexpected end of data"
        return False

    def window(self) -> tuple[int, bytes]:
        """The retained bytes and the offset of their first byte."""
        if not self.chunks:
            return self.pos, b""
        return self.chunks[0][0], b"".join(chunk for _, chunk in self.chunks)


@dataclass
class _Chat:
    locator: str  # "" or "chats.list[2]."
    header: dict[str, Any] = field(default_factory=dict)
    count: int = 0
    context: dict[str, Any] | None = None

    def record_context(self) -> dict[str, Any]:
        if self.context is None:
            self.context = {f"chat_{key}": self.header.get(key) for key in HEADER_KEYS}
        return self.context


class _Splitter:
    """Walks the ijson event stream of an export and cuts it into one raw record per message."""

    def __init__(self, source_file: str, reader: _RetainingReader) -> None:
        self.source_file = source_file
        self.reader = reader
        self.ordinal = 0
        self.chats = {"": _Chat("")}
        self.chat_counts = dict.fromkeys(CHAT_LISTS, -1)
        self.last_data: bytes | None = None
        self.last_end_lower = 0  # a byte offset at or before the end of the last complete record
        self.building: tuple[str, str, Any] | None = None  # (item prefix, chat key, builder)
        self.saw_container = False

    def run(self) -> Iterator[RawRecord | SplitError]:
        events = _backend().parse(self.reader, use_float=True)
        try:
            first = next(events, None)
            if first is None or first[:2] != ("", "start_map"):
                yield self._split_error("not_telegram_export", "the file is not a JSON object", 0, "byte 0")
                return
            for prefix, event, value in events:
                record = self._event(prefix, event, value)
                if record is not None:
                    yield record
        except (ijson.JSONError, ValueError) as exc:
            yield self._broken(exc)
            return
        if not self.saw_container:
            yield self._split_error(
                "no_messages",
                "the JSON object has no 'messages' array or 'chats' list of a Telegram export",
                0,
                "byte 0",
            )

    def _event(self, prefix: str, event: str, value: Any) -> RawRecord | None:
        if self.building is not None:
            item_prefix, chat_key, builder = self.building
            builder.event(event, value)
            if prefix == item_prefix and event in ("end_map", "end_array"):
                self.building = None
                return self._record(chat_key, builder.value)
            return None
        head, _, last = prefix.rpartition(".")
        if last == "item" and head.endswith("messages"):
            chat_key = head[: -len("messages")].rstrip(".")
            if chat_key in self.chats:
                return self._item(prefix, chat_key, event, value)
        if event == "start_map" and last == "item" and head in self.chat_counts:
            self.chat_counts[head] += 1
            self.chats = {prefix: _Chat(f"{head}[{self.chat_counts[head]}].")}
        elif event == "map_key" and prefix == "" and value in TOP_LEVEL_CONTAINERS:
            self.saw_container = True
        elif last in HEADER_KEYS and head in self.chats and event in ("string", "number", "null"):
            self.chats[head].header[last] = value
        return None

    def _item(self, prefix: str, chat_key: str, event: str, value: Any) -> RawRecord | None:
        if event in ("start_map", "start_array"):
            builder = ijson.ObjectBuilder()
            builder.event(event, value)
            self.building = (prefix, chat_key, builder)
            return None
        if event in ("end_map", "end_array"):
            return None
        return self._record(chat_key, value)  # a bare value where a message object belongs

    def _record(self, chat_key: str, value: Any) -> RawRecord:
        chat = self.chats[chat_key]
        data = _canonical(value)
        record = RawRecord(
            self.source_file, self.ordinal, f"{chat.locator}messages[{chat.count}]", data, chat.record_context()
        )
        chat.count += 1
        self.ordinal += 1
        self.last_data = data
        self.last_end_lower = self.reader.chunk_start
        return record

    def _broken(self, exc: Exception) -> SplitError:
        text = str(exc)
        if self.reader.pos == 0:
            return self._split_error("empty_file", "the file is empty", 0, "byte 0")
        utf8 = "UTF8" in text or isinstance(exc, UnicodeDecodeError)
        if "premature EOF" in text or "Incomplete" in text or (utf8 and self.reader.ends_in_a_cut_character()):
            code, why = "truncated_json", "the file ends in the middle of the export (a copy cut short?)"
        elif utf8:
            code, why = "bad_encoding", "the file holds bytes that are not UTF-8"
        else:
            code, why = "bad_json", "the file is not valid JSON here"
        start = self._end_of_last_record()
        locator = f"byte {start}"
        if self.building is not None:
            chat = self.chats[self.building[1]]
            locator = f"{chat.locator}messages[{chat.count}]"
        done = f"after {self.ordinal} complete record(s)" if self.ordinal else "before any complete message"
        return self._split_error(code, f"{why}; the bytes from byte {{start}} on, {done}, were kept", start, locator)

    def _end_of_last_record(self) -> int:
        if self.last_data is None:
            return 0  # nothing was read: keep the file from its start, header included
        window_start, window = self.reader.window()
        found = _find_end(window, self.last_data)
        if found is None:
            return max(window_start, self.last_end_lower)
        return window_start + found

    def _bytes_from(self, start: int) -> tuple[int, bytes]:
        """Up to SPLIT_CAP bytes of the file from ``start`` (from the retained chunks, else by seeking),
        and where they start: later than asked when the stream cannot seek back that far."""
        stream = self.reader.stream
        window_start, window = self.reader.window()
        if start < window_start:
            try:
                stream.seek(start)
                return start, stream.read(SPLIT_CAP)
            except (OSError, io.UnsupportedOperation):
                start = window_start
        data = window[start - window_start :][:SPLIT_CAP]
        if len(data) < SPLIT_CAP:
            data += stream.read(SPLIT_CAP - len(data))
        return start, data

    def _split_error(self, code: str, message: str, start: int, locator: str) -> SplitError:
        """A split error holding the file from ``start``; ``{start}`` in the message is filled in."""
        start, data = self._bytes_from(start)
        message = message.replace("{start}", str(start))
        size = _stream_size(self.reader.stream)
        if size is not None and size - start > len(data):
            message += f" (the first {len(data)} of {size - start} bytes)"
        error = SplitError(
            code, message, source_file=self.source_file, locator=locator, ordinal=self.ordinal, data=data
        )
        self.ordinal += 1
        return error


def _canonical(value: Any) -> bytes:
    """The record's bytes: orjson's compact form (json's for integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _find_end(window: bytes, last: bytes) -> int | None:
    """The offset in ``window`` just after the JSON object that re-serialises to ``last``.

    ijson gives no byte offsets, so the last complete record is looked for backwards from the point
    where parsing stopped: each ``{`` is tried as its start. Usually a handful of tries suffice.
    """
    text = window.decode("utf-8", "surrogateescape")
    decoder = json.JSONDecoder()
    pos, budget = len(text), SEARCH_BUDGET
    while budget > 0:
        pos = text.rfind("{", 0, pos)
        if pos < 0:
            return None
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            budget -= max(exc.pos - pos, 1)
            continue
        budget -= end - pos
        try:
            if orjson.dumps(value) == last:
                return len(text[:end].encode("utf-8", "surrogateescape"))
        except orjson.JSONEncodeError:
            continue
    return None


def _stream_size(stream: BinaryIO) -> int | None:
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None


@cache
def _backend() -> Any:
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:
        return ijson


# -- parsing ----------------------------------------------------------------------------------------------


def _message(message: Mapping[str, Any], raw: RawRecord, options: Options) -> Message:
    sent_at, offset, assumed = _sent_at(message, timezone_option(options))
    channel = _channel(raw.context, raw.source_file)
    text, links = _text(message)
    attachments = _attachments(message)
    extra = _extra(message, raw.context, links, assumed)
    if not text.strip() and "poll" in extra:
        text = str(extra["poll"].get("question") or "")
    if not text.strip() and not attachments and "location" not in extra:
        raise RecordError("empty_text", "the message has no text, no media, no poll and no location")
    native_id = _scalar(message.get("id"))
    return Message.create(
        source=SourceKind.TELEGRAM,
        channel=channel,
        native_id=native_id,
        sent_at=sent_at,
        text=text,
        raw_sha256=raw.sha256,
        author=person(message.get("from_id")),
        author_name=person(message.get("from")),
        reply_to=_reply_to(message, channel, sent_at),
        forwarded_from=_forwarded_from(message),
        edited_at=_edited_at(message, offset),
        attachments=attachments,
        extra=extra,
        utc_offset_minutes=offset,
    )


def _sent_at(message: Mapping[str, Any], tz: tzinfo) -> tuple[datetime, int | None, bool]:
    """(aware send time, original UTC offset in minutes or None, whether the offset was assumed)."""
    unix, local = message.get("date_unixtime"), message.get("date")
    if unix not in (None, ""):
        utc = _from_unix(unix, "date_unixtime")
        offset = _offset(local, utc)
        if offset is None:
            return utc, None, False
        return utc.astimezone(timezone(timedelta(minutes=offset))), offset, False
    if local in (None, ""):
        raise RecordError("no_timestamp", "the message has neither 'date_unixtime' nor 'date'")
    try:
        sent_at, had_offset = parse_timestamp(str(local), tz)
    except ValueError as exc:
        raise RecordError("bad_timestamp", f"cannot read the date {str(local)[:40]!r}: {exc}") from exc
    offset_delta = sent_at.utcoffset()
    offset = int(offset_delta.total_seconds() // 60) if offset_delta is not None else None
    return sent_at, offset, not had_offset


def _from_unix(value: Any, key: str) -> datetime:
    try:
        seconds = float(str(value).strip())
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError("bad_timestamp", f"'{key}' is not epoch seconds: {str(value)[:40]!r}") from exc


def _offset(local: Any, utc: datetime) -> int | None:
    """The offset of the exporting machine's clock, from the local ``date`` beside the exact time."""
    if not isinstance(local, str) or not local:
        return None
    try:
        wall = datetime.fromisoformat(local)
    except ValueError:
        return None
    if wall.tzinfo is not None:
        delta = wall.utcoffset()
        return int(delta.total_seconds() // 60) if delta is not None else None
    minutes = round((wall - utc.replace(tzinfo=None)).total_seconds() / 60)
    return minutes if abs(minutes) <= MAX_OFFSET_MINUTES else None


def _edited_at(message: Mapping[str, Any], offset: int | None) -> datetime | None:
    unix, local = message.get("edited_unixtime"), message.get("edited")
    try:
        if unix not in (None, ""):
            return _from_unix(unix, "edited_unixtime")
        if isinstance(local, str) and local and offset is not None:
            wall = datetime.fromisoformat(local)
            if wall.tzinfo is None:
                wall = wall.replace(tzinfo=timezone(timedelta(minutes=offset)))
            return wall.astimezone(UTC)
    except (RecordError, ValueError):
        return None  # a broken edit time does not make the message unreadable
    return None


def _text(message: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The plain text and the links of a message whose text is a string or a list of entities."""
    value = message.get("text")
    if value in (None, "") and isinstance(message.get("text_entities"), list):
        value = message["text_entities"]
    if value is None:
        return "", []
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        raise RecordError("bad_text", f"'text' is a {type(value).__name__}, not a string or a list of entities")
    parts: list[str] = []
    links: list[str] = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, Mapping):
            piece = part.get("text")
            parts.append(piece if isinstance(piece, str) else "")
            link = part.get(LINK_ENTITIES.get(str(part.get("type")), ""))
            if isinstance(link, str) and link:
                links.append(link)
        else:
            raise RecordError("bad_text", f"a part of 'text' is a {type(part).__name__}, not a string or entity")
    return "".join(parts), links


def _channel(context: Mapping[str, Any], source_file: str) -> str:
    """``tg:<chat id>``; a one-to-one chat is named by a person's id, so it is written
    ``user:<id>`` and the pseudonymise stage replaces it (with the ids built on it)."""
    chat_id = _scalar(context.get("chat_id"))
    if chat_id and context.get("chat_type") in PERSON_CHAT_TYPES:
        return f"user:{chat_id}"
    if chat_id:
        return f"tg:{chat_id}"
    return _scalar(context.get("chat_name")) or f"tg:{Path(source_file).stem}"


def _reply_to(message: Mapping[str, Any], channel: str, sent_at: datetime) -> str | None:
    target = _scalar(message.get("reply_to_message_id"))
    if not target:
        return None
    peer = PEER_ID.fullmatch(_scalar(message.get("reply_to_peer_id")) or "")
    if peer:
        channel = f"tg:{peer.group(1)}"
    return message_id(SourceKind.TELEGRAM, channel, target, sent_at, None, "")


def _forwarded_from(message: Mapping[str, Any]) -> str | None:
    """A channel as ``tg:<id>`` (or its name), a person as ``user:<id>`` so that it is pseudonymised."""
    peer = person(message.get("forwarded_from_id"))
    if peer is not None:
        if peer.startswith("user"):
            return f"user:{peer}"
        match = PEER_ID.fullmatch(peer)
        return f"tg:{match.group(1)}" if match else peer
    return person(message.get("forwarded_from"))


def _attachments(message: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    if "photo" in message:
        size = as_int(message.get("photo_file_size"))
        found.append(Attachment("photo", file_name=_file_path(message.get("photo")), size=size))
    if "file" in message or "media_type" in message:
        mime = person(message.get("mime_type"))
        found.append(
            Attachment(
                MEDIA_KINDS.get(str(message.get("media_type")), _kind_from_mime(mime)),
                file_name=_file_path(message.get("file")) or person(message.get("file_name")),
                size=as_int(message.get("file_size")),
                mime_type=mime,
            )
        )
    if "contact_information" in message:
        found.append(Attachment("other", file_name=_file_path(message.get("contact_vcard")), mime_type="text/vcard"))
    return tuple(found)


def _kind_from_mime(mime: str | None) -> str:
    family = (mime or "").partition("/")[0]
    return {"video": "video", "audio": "audio", "image": "photo"}.get(family, "document" if mime else "other")


def _file_path(value: Any) -> str | None:
    text = person(value)
    if text is None or text.startswith(NOT_INCLUDED):
        return None
    return text


def _extra(message: Mapping[str, Any], context: Mapping[str, Any], links: list[str], assumed: bool) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    chat_type = _scalar(context.get("chat_type"))
    if chat_type:
        extra["chat_type"] = chat_type
    if context.get("chat_name") and chat_type not in PERSON_CHAT_TYPES:
        extra["chat_name"] = str(context["chat_name"])
    if assumed:
        extra["offset_assumed"] = True
    if links:
        extra["links"] = links
    forwarded_id = person(message.get("forwarded_from_id")) or ""
    if message.get("forwarded_from") and forwarded_id and not forwarded_id.startswith("user"):
        extra["forwarded_from_name"] = str(message["forwarded_from"])
    if message.get("sticker_emoji"):
        extra["sticker_emoji"] = str(message["sticker_emoji"])
    poll = _poll(message.get("poll"))
    if poll:
        extra["poll"] = poll
    location = _location(message)
    if location:
        extra["location"] = location
    return extra


def _poll(value: Any) -> dict[str, Any] | None:
    """The question, answers and vote counts; the exporting user's own vote ("chosen") is left out."""
    if not isinstance(value, Mapping):
        return None
    answers = [
        {"text": str(a.get("text") or ""), "voters": as_int(a.get("voters"))}
        for a in value.get("answers") or []
        if isinstance(a, Mapping)
    ]
    return {
        "question": str(value.get("question") or ""),
        "answers": answers,
        "total_voters": as_int(value.get("total_voters")),
        "closed": bool(value.get("closed")),
    }


def _location(message: Mapping[str, Any]) -> dict[str, Any] | None:
    info = message.get("location_information")
    if not isinstance(info, Mapping):
        return None
    location: dict[str, Any] = {
        key: info[key] for key in ("latitude", "longitude") if isinstance(info.get(key), int | float)
    }
    for key in ("place_name", "address"):
        if message.get(key):
            location[key] = str(message[key])
    return location or None


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float | str):
        return str(value).strip() or None
    return None
