"""Telegram Desktop exports (``result.json``): one chat, or the whole account with all its chats.

Monitoring teams receive these exports from volunteers and partner groups; a busy village group
over a few years easily reaches a gigabyte. The file is one JSON document, so it is read as a
stream of ijson events: memory holds one message at a time, never the ``messages`` array. Each
message becomes a raw record whose bytes are the message object re-serialised by orjson, with the
chat's name, type and id (written before ``messages`` in the file) carried in its context.

Timestamps: ``date_unixtime`` is exact UTC; ``date`` is the wall-clock time of the machine that made
the export, so the difference between the two is kept as the message's original UTC offset. Old
exports without ``date_unixtime`` fall back to ``date`` in the ``timezone`` option.

Broken files: a message that cannot be read (a byte that is not UTF-8, a hand edit that broke the
JSON, nesting deeper than 256 levels) becomes one split error holding that message's bytes, and
reading starts again at the next message of the same ``messages`` array, so one bad message never
costs the rest of the file. A file that ends in the middle of a message (a copy cut short) gives
every complete message first, then one split error holding the bytes after the last complete one.

People: a one-to-one chat and a forward from a person are written ``user:<id or name>`` so that
the pseudonymise stage replaces them; only channels and groups keep their names.

Example:
    >>> from pathlib import Path
    >>> head = b'{"name": "Masanchi", "type": "private_group", "id": 1, "messages": [{"id": 1, "type": "message"'
    >>> TelegramSource().sniff(Path("result.json"), head)
    0.95
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import ijson
import orjson

from flashpoint.errors import RecordError
from flashpoint.model import Attachment, Message, RawRecord, Skipped, SourceKind, message_id
from flashpoint.sources.base import Options, Parsed, SplitError, as_int, parse_timestamp, timezone_option

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
CHAT_ITEMS = frozenset(f"{chat_list}.item" for chat_list in CHAT_LISTS)
HEADER_KEYS = frozenset({"name", "type", "id"})
MAX_HEADER_CHARS = 1024  # a chat name is at most 128 characters; more is not a name worth carrying

BOM = b"\xef\xbb\xbf"
SPLIT_CAP = 1 << 20  # bytes of a part that cannot be split kept in quarantine
RETAIN = 2 << 20  # bytes of recent input kept to find where the last complete message ended
SEARCH_TRIES = 4096  # '{' the end-of-last-message search tries at most
MAX_DEPTH = 256  # open arrays and objects; deeper nesting is refused (ijson's prefixes grow with it)
MAX_ITEM_SCAN = 8 << 20  # bytes the resynchronising scan reads for one broken message before giving up
SCAN_CHUNK = 64 << 10

# Openings that put the parser back inside a chat's messages array after a broken message.
RESTART_PREFIX = {
    "": b'{"messages":[',
    "chats.list.item": b'{"chats":{"list":[{"messages":[',
    "left_chats.list.item": b'{"left_chats":{"list":[{"messages":[',
}

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
USER_PEER = re.compile(r"user(\d+)")
MAX_OFFSET_MINUTES = 14 * 60
YEARS = (1900, 2200)  # a send time outside these years is a broken record, not a message

_HEAD_OBJECT = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*\{")
_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
_MESSAGE_HINT = re.compile(rb'"date_unixtime"\s*:|"type"\s*:\s*"message"')
_CHAT_TYPE = re.compile(rb'"type"\s*:\s*"(?:' + b"|".join(t.encode() for t in CHAT_TYPES) + rb')"')
_CHAT_LIST = re.compile(rb'"chats"\s*:\s*\{[^{}\[\]]*"list"\s*:\s*\[')
_ACCOUNT = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"about"\s*:\s*"[^"]*"\s*,\s*"personal_information"\s*:')

_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})
_SCALARS = frozenset({"string", "number", "null"})


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
        yield from _Splitter(str(path), stream).run()

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        try:
            message = orjson.loads(raw.data)
        except orjson.JSONDecodeError as exc:
            raise RecordError("bad_json", f"the record is not valid JSON (at byte {exc.pos})", **where) from exc
        if not isinstance(message, dict):
            raise RecordError("not_an_object", f"a message must be a JSON object, found {_json_type(message)}", **where)
        if message.get("type") == "service":
            return [Skipped("service")]
        try:
            return [_message(message, raw, options)]
        except RecordError as exc:
            raise exc.at(raw.source_file, raw.locator) from exc


# -- splitting --------------------------------------------------------------------------------------------


class _TooDeepError(Exception):
    """Nesting deeper than MAX_DEPTH: raised from the event loop, handled like a parse error."""


class _RetainingReader:
    """A file wrapper for ijson that knows its offset and keeps the last few chunks it returned.

    After a broken message, reading restarts at a later offset ``pos`` of the same stream: ``prefix``
    (not part of the file) reopens the arrays and objects around the messages, and ``pending`` holds
    the bytes from ``pos`` on that were already read from the stream.
    """

    def __init__(self, stream: BinaryIO, pos: int = 0, pending: bytes = b"", prefix: bytes = b"") -> None:
        self.stream = stream
        self.pos = pos
        self.chunk_start = pos
        self.pending = pending
        self.prefix = prefix
        self.chunks: deque[tuple[int, bytes]] = deque()
        self.retained = 0

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""
        if self.prefix:
            data, self.prefix = self.prefix, b""
            return data
        data = self.read_raw(size)
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

    def read_raw(self, size: int = -1) -> bytes:
        """The next bytes of the file, without keeping them."""
        if not self.pending:
            return self.stream.read(size)
        count = len(self.pending) if size < 0 else size
        data, self.pending = self.pending[:count], self.pending[count:]
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
            self.context = {f"chat_{key}": self.header.get(key) for key in ("name", "type", "id")}
        return self.context


@dataclass
class _Array:
    """The messages array being read."""

    chat: str  # the key of its chat in _Splitter.chats
    depth: int  # len(_Splitter.path) inside it
    resume_from: int | None  # the offset just after its '[', or where reading restarted in it
    records: int = 0  # records since resume_from


@dataclass
class _Building:
    """A value being assembled from events: a message, or a ``messages`` that is no array."""

    chat: str
    builder: Any  # ijson.ObjectBuilder
    depth: int = 1
    bad_messages: bool = False
    size: int = 0


class _Splitter:
    """Walks the ijson event stream of an export and cuts it into one raw record per message."""

    def __init__(self, source_file: str, stream: BinaryIO) -> None:
        self.source_file = source_file
        self.stream = stream
        self.reader = _RetainingReader(stream)
        self.ordinal = 0
        self.path: list[str] = []  # ijson-style path of the open containers outside a message
        self.chats = {"": _Chat("")}
        self.chat_counts = dict.fromkeys(CHAT_LISTS, -1)
        self.array: _Array | None = None
        self.building: _Building | None = None
        self.expect_messages: str | None = None  # the chat whose "messages" value comes next
        self.last_data: bytes | None = None
        self.last_end = (0, 0)  # the last complete record ended in this range of offsets
        self.last_bracket = -1
        self.floor = 0  # where reading last restarted: everything before is accounted for
        self.saw_container = False

    def run(self) -> Iterator[RawRecord | SplitError]:
        skip = 0
        while True:
            events = _backend().basic_parse(self.reader, use_float=True)
            try:
                for _ in range(skip):
                    next(events)  # the events of the restart prefix
                if not skip:
                    first = next(events, None)
                    if first is None or first[0] != "start_map":
                        yield self._split_error("not_telegram_export", "the file is not a JSON object", 0, "byte 0")
                        return
                    self.path.append("")
                for event, value in events:
                    item = self._event(event, value)
                    if item is not None:
                        yield item
            except (ijson.JSONError, ValueError, UnicodeDecodeError, _TooDeepError) as exc:
                code = self._classify(exc)
                if code == "empty_file":
                    yield self._split_error(code, "the file is empty", 0, "byte 0")
                    return
                if self.array is None or code == "truncated_json":
                    yield self._give_up(code)
                    return
                skip = yield from self._resync(code)
                if skip:
                    continue
                yield self._give_up(code)
                return
            break
        if not self.saw_container:
            yield self._split_error(
                "no_messages",
                "the JSON object has no 'messages' array or 'chats' list of a Telegram export",
                0,
                "byte 0",
            )

    # -- events

    def _event(self, event: str, value: Any) -> RawRecord | SplitError | None:
        building = self.building
        if building is not None:
            return self._build(building, event, value)
        path = self.path
        array = self.array
        if array is not None and len(path) == array.depth:
            if event == "end_array":
                path.pop()
                self.array = None
                return None
            if event in _STARTS:
                self._start_building(array.chat, event, value, bad_messages=False)
                return None
            return self._record(array.chat, value)  # a bare value where a message object belongs
        if self.expect_messages is not None:
            return self._messages_value(self.expect_messages, event, value)
        if event == "map_key":
            path[-1] = value
            if value == "messages":
                parent = ".".join(path[:-1])
                if parent in self.chats:
                    self.expect_messages = parent
        elif event in _STARTS:
            self._open(event)
        elif event in _ENDS:
            path.pop()
        elif event in _SCALARS and path[-1] in HEADER_KEYS:
            parent = ".".join(path[:-1])
            if parent in self.chats:
                self.chats[parent].header[path[-1]] = _header_value(value)
        return None

    def _open(self, event: str) -> None:
        prefix = ".".join(self.path)
        if event == "start_map":
            if prefix in CHAT_ITEMS:
                head = prefix[: -len(".item")]
                self.chat_counts[head] += 1
                self.chats = {prefix: _Chat(f"{head}[{self.chat_counts[head]}].")}
            self.path.append("")
        else:
            if prefix in CHAT_LISTS:
                self.saw_container = True
            self.path.append("item")
        if len(self.path) > MAX_DEPTH:
            raise _TooDeepError

    def _messages_value(self, chat: str, event: str, value: Any) -> SplitError | None:
        self.expect_messages = None
        self.saw_container = True
        if event == "start_array":
            self.path.append("item")
            if len(self.path) > MAX_DEPTH:
                raise _TooDeepError
            self.array = _Array(chat, len(self.path), self._after_bracket())
            return None
        if event in _STARTS:
            self._start_building(chat, event, value, bad_messages=True)
            return None
        return self._bad_messages(chat, value)

    def _start_building(self, chat: str, event: str, value: Any, *, bad_messages: bool) -> None:
        builder = ijson.ObjectBuilder()
        builder.event(event, value)
        self.building = _Building(chat, builder, bad_messages=bad_messages)
        if len(self.path) + 1 > MAX_DEPTH:
            raise _TooDeepError

    def _build(self, building: _Building, event: str, value: Any) -> RawRecord | SplitError | None:
        if event in _STARTS:
            building.depth += 1
            if len(self.path) + building.depth > MAX_DEPTH:
                raise _TooDeepError
        elif event in _ENDS:
            building.depth -= 1
        if building.bad_messages:
            # Not a message: keep only its first bytes for quarantine, whatever its size.
            building.size += len(value) if isinstance(value, str) else 8
            if building.size <= SPLIT_CAP:
                building.builder.event(event, value)
        else:
            building.builder.event(event, value)
        if building.depth:
            return None
        self.building = None
        if building.bad_messages:
            return self._bad_messages(building.chat, building.builder.value)
        return self._record(building.chat, building.builder.value)

    def _record(self, chat_key: str, value: Any) -> RawRecord:
        chat = self.chats[chat_key]
        data = _canonical(value)
        record = RawRecord(
            self.source_file, self.ordinal, f"{chat.locator}messages[{chat.count}]", data, chat.record_context()
        )
        chat.count += 1
        self.ordinal += 1
        self.last_data = data
        self.last_end = (self.reader.chunk_start, self.reader.pos)
        if self.array is not None:
            self.array.records += 1
        return record

    def _bad_messages(self, chat_key: str, value: Any) -> SplitError:
        chat = self.chats[chat_key]
        error = SplitError(
            "bad_messages",
            f"'messages' of {'the chat' if chat.locator else 'the export'} is {_json_type(value)}, not an array "
            "of messages; it was kept in quarantine",
            source_file=self.source_file,
            locator=f"{chat.locator}messages",
            ordinal=self.ordinal,
            data=_canonical(value)[:SPLIT_CAP],
        )
        self.ordinal += 1
        return error

    def _after_bracket(self) -> int | None:
        """The offset just after the '[' of the messages array whose start_array event just came.

        Events come chunk by chunk, so the bracket lies in the chunk read last; it is the first
        ``"messages": [`` there after the previous one found.
        """
        window_start, window = self.reader.window()
        chunk_start = self.reader.chunk_start
        low = max(self.last_bracket + 1, chunk_start - 4096, window_start)
        for found in _MESSAGES.finditer(window, low - window_start):
            bracket = window_start + found.end() - 1
            if bracket >= chunk_start:
                self.last_bracket = bracket
                return bracket + 1
        return None

    # -- broken input

    def _classify(self, exc: Exception) -> str:
        if isinstance(exc, _TooDeepError):
            return "too_deep"
        if self.reader.pos == 0:
            return "empty_file"
        text = str(exc)
        utf8 = "UTF8" in text or isinstance(exc, UnicodeDecodeError)
        if "premature EOF" in text or "Incomplete" in text or (utf8 and self.reader.ends_in_a_cut_character()):
            return "truncated_json"
        return "bad_encoding" if utf8 else "bad_json"

    def _resync(self, code: str) -> Generator[RawRecord | SplitError, None, int]:
        """Quarantine the broken message of the current messages array and restart parsing after it.

        Scans the raw bytes from the end of the last complete record, counting brackets outside
        strings, for the message's end at the array's depth. Returns how many events of the restart
        prefix to skip, or 0 if the bytes cannot be scanned (then the caller gives up on the file).
        """
        array = self.array
        start = self._resume_point()
        window_start, window = self.reader.window()
        if array is None or start is None or start < window_start:
            return 0
        cursor = _Cursor(window[start - window_start :], start, self.reader.read)
        while True:
            item = cursor.next_item()
            if item.terminator is None:  # a quote lost or added: brackets cannot be trusted
                item = cursor.cut_before_next_message(item.start)
            if item.terminator is None:
                return 0
            if item.data:
                yield self._broken_item(item, code, array)
                break
            if item.terminator == b"]":
                break
        restart = item.end + 1 if item.terminator == b"," else item.end
        return self._restart(restart, array)

    def _resume_point(self) -> int | None:
        array = self.array
        if array is None:
            return None
        if not array.records:
            return array.resume_from
        return self._end_of_last_record(exact=True)

    def _broken_item(self, item: _Item, code: str, array: _Array) -> RawRecord | SplitError:
        chat = self.chats[array.chat]
        if len(self.path) + item.depth > MAX_DEPTH:
            code, why = "too_deep", f"nests deeper than {MAX_DEPTH} levels"
        else:
            try:
                return self._record(array.chat, orjson.loads(item.data))  # ijson refused what orjson reads
            except orjson.JSONDecodeError:
                pass
            try:
                item.data.decode("utf-8")
                code, why = "bad_json", "is not valid JSON"
            except UnicodeDecodeError:
                code, why = "bad_encoding", "holds bytes that are not UTF-8"
        kept = item.data[:SPLIT_CAP]
        message = (
            f"message {chat.count} of the chat {why}; its {len(item.data)} bytes from byte {item.start} were "
            "kept in quarantine and reading went on with the next message"
        )
        if len(kept) < len(item.data):
            message += f" (the first {len(kept)} bytes only)"
        error = SplitError(
            code,
            message,
            source_file=self.source_file,
            locator=f"{chat.locator}messages[{chat.count}]",
            ordinal=self.ordinal,
            data=kept,
            unread_bytes=len(item.data) - len(kept),
        )
        chat.count += 1
        self.ordinal += 1
        return error

    def _restart(self, offset: int, array: _Array) -> int:
        """Parse again from ``offset``, inside the same messages array; returns the events to skip."""
        window_start, window = self.reader.window()
        pending = window[offset - window_start :] + self.reader.pending
        prefix = RESTART_PREFIX[array.chat]
        self.reader = _RetainingReader(self.stream, offset, pending, prefix)
        self.path = [*(array.chat.split(".") if array.chat else ()), "messages", "item"]
        self.building = None
        self.expect_messages = None
        array.resume_from = offset
        array.records = 0
        self.floor = offset
        return prefix.count(b"{") + prefix.count(b"[") + prefix.count(b":")

    def _give_up(self, code: str) -> SplitError:
        why = {
            "truncated_json": "the file ends in the middle of the export (a copy cut short?)",
            "bad_encoding": "the file holds bytes that are not UTF-8",
            "too_deep": f"the file nests arrays or objects deeper than {MAX_DEPTH} levels",
        }.get(code, "the file is not valid JSON here")
        start = self._end_of_last_record(exact=False) or 0
        locator = f"byte {start}"
        if self.array is not None:
            chat = self.chats[self.array.chat]
            locator = f"{chat.locator}messages[{chat.count}]"
        done = f"after {self.ordinal} record(s)" if self.ordinal else "before any complete message"
        return self._split_error(code, f"{why}; the bytes from byte {{start}} on, {done}, were kept", start, locator)

    def _end_of_last_record(self, *, exact: bool) -> int | None:
        """Where the last complete record ended (never before the last restart); 0 if none was read.
        Not ``exact``: a lower bound when the record cannot be found in the retained bytes."""
        if self.last_data is None:
            return self.floor
        window_start, window = self.reader.window()
        lower, upper = self.last_end
        found = None
        if upper > window_start:
            found = _find_end(window[: upper - window_start], self.last_data)
        if found is not None:
            return max(window_start + found, self.floor)
        if exact:
            return None
        return max(window_start, lower, self.floor)

    def _bytes_from(self, start: int) -> tuple[int, bytes]:
        """Up to SPLIT_CAP bytes of the file from ``start`` (from the retained chunks, else by seeking),
        and where they start: later than asked when the stream cannot seek back that far."""
        window_start, window = self.reader.window()
        if start < window_start:
            try:
                self.stream.seek(start)
                return start, self.stream.read(SPLIT_CAP)
            except (OSError, io.UnsupportedOperation):
                start = window_start
        data = window[start - window_start :][:SPLIT_CAP]
        if len(data) < SPLIT_CAP:
            data += self.reader.read_raw(SPLIT_CAP - len(data))
        return start, data

    def _bytes_after(self, offset: int) -> int:
        """How many bytes the file holds after ``offset``."""
        size = _stream_size(self.stream)
        if size is not None:
            return max(size - offset, 0)
        window_start, window = self.reader.window()
        count = max(window_start + len(window) - offset, 0) + len(self.reader.pending)
        self.reader.pending = b""
        while chunk := self.stream.read(1 << 20):
            count += len(chunk)
        return count

    def _split_error(self, code: str, message: str, start: int, locator: str) -> SplitError:
        """A split error holding the file from ``start``; ``{start}`` in the message is filled in."""
        start, data = self._bytes_from(start)
        message = message.replace("{start}", str(start))
        unread = self._bytes_after(start + len(data))
        if unread:
            message += f" (the first {len(data)} of {len(data) + unread} bytes)"
        error = SplitError(
            code,
            message,
            source_file=self.source_file,
            locator=locator,
            ordinal=self.ordinal,
            data=data,
            unread_bytes=unread,
        )
        self.ordinal += 1
        return error


@dataclass
class _Item:
    """One item of a JSON array as the resynchronising scan found it."""

    data: bytes  # its bytes, without surrounding whitespace
    start: int  # the file offset of ``data``
    end: int  # the file offset of the terminator
    terminator: bytes | None  # b"," or b"]"; None when the scan ran out of input or budget
    depth: int  # the deepest nesting inside it


_STRUCTURE = re.compile(rb'["\[\]{},]')
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_OPENERS = re.compile(rb"[\[{]+")
_CLOSERS = re.compile(rb"[\]}]+")
_WHITESPACE = b" \t\r\n"
_NEXT_MESSAGE = re.compile(rb',\s*\{\s*"id"\s*:\s*-?\d+\s*,\s*"type"\s*:\s*"')


class _Cursor:
    """Reads raw bytes forward and cuts them into array items at depth 0, strings skipped.

    It needs no valid JSON or UTF-8: only brackets, commas and quotes count, so it finds the end of
    a message whose text holds a broken byte or whose JSON a hand edit broke.
    """

    def __init__(self, buffer: bytes, base: int, read: Callable[[int], bytes]) -> None:
        self.buffer = buffer
        self.base = base  # the file offset of buffer[0]
        self.pos = base  # the file offset of the next byte to scan
        self.read = read

    def _more(self, keep_from: int) -> bool:
        chunk = self.read(max(SCAN_CHUNK, len(self.buffer)))
        if not chunk:
            return False
        self.buffer = self.buffer[keep_from - self.base :] + chunk
        self.base = keep_from
        return True

    def next_item(self) -> _Item:
        start = self.pos
        depth = deepest = 0
        while self.pos - start <= MAX_ITEM_SCAN:
            at = self.pos - self.base
            found = _STRUCTURE.search(self.buffer, at)
            if found is None:
                self.pos = self.base + len(self.buffer)
                if not self._more(start):
                    break
                continue
            at = found.start()
            char = self.buffer[at : at + 1]
            if char == b'"':
                string = _STRING.match(self.buffer, at)
                if string is None:  # the string goes on after what was read so far
                    self.pos = self.base + at
                    if not self._more(start):
                        break
                    continue
                self.pos = self.base + string.end()
            elif char in b"[{":
                run = _OPENERS.match(self.buffer, at)
                assert run is not None
                depth += run.end() - at
                deepest = max(deepest, depth)
                self.pos = self.base + run.end()
            elif char in b"]}" and depth:
                run = _CLOSERS.match(self.buffer, at)
                assert run is not None
                closed = min(depth, run.end() - at)
                depth -= closed
                self.pos = self.base + at + closed
            elif char == b"}" or depth:  # a comma inside the item, or a stray '}': part of the item
                self.pos = self.base + at + 1
            else:  # ',' or ']' at the array's depth
                return self._item(start, at, char, deepest)
        return _Item(b"", start, start, None, deepest)

    def cut_before_next_message(self, start: int) -> _Item:
        """The bytes from ``start`` up to the next ``, {"id": <n>, "type": "`` (how Telegram Desktop
        starts every message), as one item: for a message whose quotes no longer pair up."""
        found = _NEXT_MESSAGE.search(self.buffer, start - self.base + 1)
        if found is None:
            return _Item(b"", start, start, None, 0)
        return self._item(start, found.start(), b",", 0)

    def _item(self, start: int, at: int, terminator: bytes, depth: int) -> _Item:
        raw = self.buffer[start - self.base : at]
        data = raw.lstrip(_WHITESPACE)
        offset = start + len(raw) - len(data)
        self.pos = self.base + at + 1
        return _Item(data.rstrip(_WHITESPACE), offset, self.base + at, terminator, depth)


def _canonical(value: Any) -> bytes:
    """The record's bytes: orjson's compact form (json's for integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _header_value(value: Any) -> Any:
    """A chat's name, type or id as the context carries it: JSON-able, storable, short."""
    if isinstance(value, str):
        return value[:MAX_HEADER_CHARS]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int) and as_int(value) is None:
        return None  # beyond 64 bits: SQLite and orjson refuse the number
    return value


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _find_end(window: bytes, last: bytes) -> int | None:
    """The offset in ``window`` just after the JSON object that re-serialises to ``last``.

    ijson gives no byte offsets, so the last complete record is looked for backwards from the point
    where it ended: each ``{`` is tried as its start. Usually a handful of tries suffice.
    """
    text = window.decode("utf-8", "surrogateescape")
    decoder = json.JSONDecoder()
    pos = len(text)
    for _ in range(SEARCH_TRIES):
        pos = text.rfind("{", 0, pos)
        if pos < 0:
            return None
        try:
            value, end = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            continue
        if _canonical(value) == last:
            return len(text[:end].encode("utf-8", "surrogateescape"))
    return None


def _stream_size(stream: BinaryIO) -> int | None:
    """The size of a regular file or a seekable stream; None for a pipe."""
    try:
        status = os.fstat(stream.fileno())
        if stat.S_ISREG(status.st_mode):
            return status.st_size
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        pass
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        size = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return size
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
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
        text = extra["poll"]["question"]
    if not text.strip() and not attachments and "location" not in extra:
        raise RecordError("empty_text", "the message has no text, no media, no poll and no location")
    return Message.create(
        source=SourceKind.TELEGRAM,
        channel=channel,
        native_id=_scalar(message.get("id")),
        sent_at=sent_at,
        text=text,
        raw_sha256=raw.sha256,
        author=_scalar(message.get("from_id")),
        author_name=_scalar(message.get("from")),
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
        sent_at, had_offset = parse_timestamp(local if isinstance(local, int | float) else str(local), tz)
        utc = sent_at.astimezone(UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError("bad_timestamp", "'date' is neither an ISO date nor epoch seconds") from exc
    _check_year(utc, "date")
    offset_delta = sent_at.utcoffset()
    offset = int(offset_delta.total_seconds() // 60) if offset_delta is not None else None
    return sent_at, offset, not had_offset


def _from_unix(value: Any, key: str) -> datetime:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(key)
        moment = datetime.fromtimestamp(float(str(value).strip()), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError("bad_timestamp", f"'{key}' is not epoch seconds") from exc
    _check_year(moment, key)
    return moment


def _check_year(moment: datetime, key: str) -> None:
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise RecordError("bad_timestamp", f"'{key}' is not between the years {YEARS[0]} and {YEARS[1]}")


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
            edited = wall.astimezone(UTC)
            _check_year(edited, "edited")
            return edited
    except (RecordError, ValueError, OverflowError):
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
        raise RecordError("bad_text", f"'text' is {_json_type(value)}, not a string or a list of entities")
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
            raise RecordError("bad_text", f"a part of 'text' is {_json_type(part)}, not a string or an entity")
    return "".join(parts), links


def _channel(context: Mapping[str, Any], source_file: str) -> str:
    """``tg:<chat id>``; a one-to-one chat is named by a person (id, else display name), so it is
    written ``user:<id or name>`` and the pseudonymise stage replaces it with the ids built on it."""
    chat_id = _scalar(context.get("chat_id"))
    name = _scalar(context.get("chat_name"))
    if _scalar(context.get("chat_type")) in PERSON_CHAT_TYPES and (chat_id or name):
        return f"user:{chat_id}" if chat_id else _person_ref(name or "")
    if chat_id:
        return f"tg:{chat_id}"
    return name or f"tg:{Path(source_file).stem}"


def _person_ref(name: str) -> str:
    """A person known only by display name, as a ``user:`` reference. The pseudonymise stage reads
    the reference inside a message id up to the next ':', so a colon in the name is escaped."""
    return "user:" + name.replace("%", "%25").replace(":", "%3A")


def _reply_to(message: Mapping[str, Any], channel: str, sent_at: datetime) -> str | None:
    """The full id of the message replied to: in this chat (built on the same channel string,
    ``user:`` included), or in the chat that ``reply_to_peer_id`` names."""
    target = _scalar(message.get("reply_to_message_id"))
    if not target:
        return None
    peer = _scalar(message.get("reply_to_peer_id")) or ""
    if user := USER_PEER.fullmatch(peer):
        channel = f"user:{user.group(1)}"
    elif chat := PEER_ID.fullmatch(peer):
        channel = f"tg:{chat.group(1)}"
    return message_id(SourceKind.TELEGRAM, channel, target, sent_at, None, "")


def _forwarded_from(message: Mapping[str, Any]) -> str | None:
    """A channel as ``tg:<id>``, a person as ``user:<id>`` so that it is pseudonymised. A forward
    with a name and no id comes from a person who hides their account (channels always carry an id
    in current exports): it is written ``user:<name>``."""
    peer = _scalar(message.get("forwarded_from_id"))
    if peer is not None:
        if peer.startswith("user"):
            return f"user:{peer}"
        match = PEER_ID.fullmatch(peer)
        return f"tg:{match.group(1)}" if match else peer
    name = _scalar(message.get("forwarded_from"))
    return _person_ref(name) if name else None


def _attachments(message: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    if "photo" in message:
        size = as_int(message.get("photo_file_size"))
        found.append(Attachment("photo", file_name=_file_path(message.get("photo")), size=size))
    if "file" in message or "media_type" in message:
        mime = _scalar(message.get("mime_type"))
        found.append(
            Attachment(
                MEDIA_KINDS.get(str(message.get("media_type")), _kind_from_mime(mime)),
                file_name=_file_path(message.get("file")) or _scalar(message.get("file_name")),
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
    text = _scalar(value)
    if text is None or text.startswith(NOT_INCLUDED):
        return None
    return text


def _extra(message: Mapping[str, Any], context: Mapping[str, Any], links: list[str], assumed: bool) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    chat_type = _scalar(context.get("chat_type"))
    if chat_type:
        extra["chat_type"] = chat_type
    chat_name = _scalar(context.get("chat_name"))
    if chat_name and chat_type not in PERSON_CHAT_TYPES:
        extra["chat_name"] = chat_name
    if assumed:
        extra["offset_assumed"] = True
    if links:
        extra["links"] = links
    forwarded_id = _scalar(message.get("forwarded_from_id")) or ""
    forwarded_name = _scalar(message.get("forwarded_from"))
    if forwarded_name and forwarded_id and not forwarded_id.startswith("user"):
        extra["forwarded_from_name"] = forwarded_name
    sticker_emoji = _scalar(message.get("sticker_emoji"))
    if sticker_emoji:
        extra["sticker_emoji"] = sticker_emoji
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
    answers = value.get("answers")
    return {
        "question": _scalar(value.get("question")) or "",
        "answers": [
            {"text": _scalar(a.get("text")) or "", "voters": as_int(a.get("voters"))}
            for a in (answers if isinstance(answers, list) else [])
            if isinstance(a, Mapping)
        ],
        "total_voters": as_int(value.get("total_voters")),
        "closed": value.get("closed") is True,
    }


def _location(message: Mapping[str, Any]) -> dict[str, Any] | None:
    info = message.get("location_information")
    if not isinstance(info, Mapping):
        return None
    location: dict[str, Any] = {}
    for key, limit in (("latitude", 90), ("longitude", 180)):
        value = info.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) <= limit:
            location[key] = value
    for key in ("place_name", "address"):
        text = _scalar(message.get(key))
        if text:
            location[key] = text
    return location or None


def _scalar(value: Any) -> str | None:
    """A string or number as a non-empty string; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        value = int(value)
    if isinstance(value, int | float | str):
        return str(value).strip() or None
    return None
