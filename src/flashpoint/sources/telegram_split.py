"""The streaming splitter of Telegram Desktop exports: the bytes of ``result.json`` in, raw records out.

An export is one JSON document that can reach a gigabyte, so it is never loaded whole: the splitter
walks ijson's event stream and assembles one message at a time, so memory stays constant whatever
the size of the file. Each message becomes a raw record (its object re-serialised by orjson, with
its chat's name, type and id in the context); parsing those records into messages is the business
of :mod:`flashpoint.sources.telegram`, which imports this module (never the reverse).

A broken message (a byte that is not UTF-8, a hand edit that broke the JSON, nesting too deep) must
not cost the rest of the file: the splitter scans the raw bytes for that message's end, keeps its
bytes in quarantine as one split error, and resynchronises the parser at the next message of the
same ``messages`` array.

Example:
    >>> import io
    >>> data = b'{"id": 1, "messages": [{"id": 1, "text": "hi"}, {"id": 2, "text": oops}, {"id": 3, "text": "ok"}]}'
    >>> [(type(item).__name__, item.locator) for item in Splitter("result.json", io.BytesIO(data)).run()]
    [('RawRecord', 'messages[0]'), ('SplitError', 'messages[1]'), ('RawRecord', 'messages[2]')]
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, BinaryIO

import ijson
import orjson

from flashpoint.model import RawRecord
from flashpoint.sources.base import SplitError, as_int

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

MESSAGES = re.compile(rb'"messages"\s*:\s*\[')

_STARTS = frozenset({"start_map", "start_array"})
_ENDS = frozenset({"end_map", "end_array"})
_SCALARS = frozenset({"string", "number", "null"})


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

    chat: str  # the key of its chat in Splitter.chats
    depth: int  # len(Splitter.path) inside it
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


class Splitter:
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
            f"'messages' of {'the chat' if chat.locator else 'the export'} is {json_type(value)}, not an array "
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
        for found in MESSAGES.finditer(window, low - window_start):
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


def json_type(value: Any) -> str:
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
