"""The streaming splitter for VK files: bytes in, one raw record (or split error) per post out.

It exists apart from the parser because the two jobs differ. A ``wall.get`` dump can be 1 GB of
one JSON document, so the splitter never loads it whole: it walks the text through a small window
(``_Window``) in constant memory and cuts each post out as its exact bytes. When one post's JSON is
broken, it does not give up on the file: it resynchronises, finding where the broken post ends and
the next post begins, so one damaged post costs that post alone. ``groups`` and ``profiles``, which
VK writes after the items, are collected first in a pre-pass (``Directory``) so that each record
carries the names its post needs. Parsing a record into messages is ``vk.py``'s job.

Example:
    >>> import io
    >>> data = b'{"items": [{"id": 1, "date": 1}, {"id": 2, "date": oops}, {"id": 3, "date": 3}]}'
    >>> [type(r).__name__ for r in document_records("wall.json", io.BytesIO(data), 0)]
    ['RawRecord', 'SplitError', 'RawRecord']
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from flashpoint.model import RawRecord
from flashpoint.sources.base import SplitError, as_int

BOM = b"\xef\xbb\xbf"
MAX_SPLIT_BYTES = 1 << 20  # bytes a SplitError carries to quarantine
MAX_FIRST_LINE = 8 << 20  # a longer first line is read as one JSON document, not as JSON Lines
MAX_DIRECTORY = 200_000  # profiles and groups kept from a pre-pass over one big response
MAX_VALUE_CHARS = 4 << 20  # one post (or name entry) longer than this is refused: a page is far smaller
MAX_DEPTH = 256
CHUNK = 1 << 16  # characters decoded at a time
NAME_KEYS = (b'"groups"', b'"profiles"')
BODY_KEYS = frozenset({"count", "items", "next_from", "profiles", "groups"})

_NONBLANK = re.compile(r"[^ \t\n\r]")
# A whole string, or a lone quote (a string the window cuts), or a bracket (and a comma).
_STRUCT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|"|[\[\]{}]', re.S)
_STRUCT_COMMA = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|"|[\[\]{},]', re.S)
_STRING_INSIDE = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.S)
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*")
_NEXT_OBJECT = re.compile(r"\}[ \t\n\r]*,[ \t\n\r]*\{")
_BODY_LINE = re.compile(rb'[ \t]*\{[ \t]*"(?:response|count|items|next_from|profiles|groups)"')
_DECODER = json.JSONDecoder(strict=False)


@dataclass
class Directory:
    """Names of communities (``groups``, by positive id) and people (``profiles``) of a response."""

    groups: dict[int, dict[str, str]] = field(default_factory=dict)
    profiles: dict[int, str] = field(default_factory=dict)

    def add_group(self, group: Any) -> None:
        group_id = as_int(group.get("id")) if isinstance(group, Mapping) else None
        if group_id is not None and group_id != 0 and len(self.groups) < MAX_DIRECTORY:
            names = {k: v for k in ("screen_name", "name") if (v := _clean_name(group.get(k)))}
            self.groups[abs(group_id)] = names

    def add_profile(self, profile: Any) -> None:
        profile_id = as_int(profile.get("id")) if isinstance(profile, Mapping) else None
        if profile_id is not None and profile_id > 0 and len(self.profiles) < MAX_DIRECTORY:
            name = " ".join(n for k in ("first_name", "last_name") if (n := _clean_name(profile.get(k))))
            if name:
                self.profiles[profile_id] = name

    def context_for(self, post: Mapping[str, Any]) -> dict[str, Any]:
        """The small part of the directory one post needs: its communities, and its authors' names."""
        communities, authors = _referenced_ids(post)
        groups = {str(i): self.groups[i] for i in sorted(communities) if i in self.groups}
        profiles = {str(i): self.profiles[i] for i in sorted(authors) if i in self.profiles}
        context: dict[str, Any] = {}
        if groups:
            context["groups"] = groups
        if profiles:
            context["profiles"] = profiles
        return context


# -- splitting: where the file is -------------------------------------------------------------------------


def bom_length(stream: BinaryIO) -> int:
    stream.seek(0)
    length = len(BOM) if stream.read(len(BOM)) == BOM else 0
    stream.seek(0)
    return length


def is_json_lines(stream: BinaryIO, start: int) -> bool:
    """JSON Lines when the first non-blank line is one {...} object and another object follows.

    Only the edges of the lines are kept, so a 1 GB single-line document costs no memory here."""
    stream.seek(start)
    try:
        first = _next_line_edges(stream)
        if first != (b"{", b"}"):
            return False
        second = _next_line_edges(stream)
        return second is not None and second[0] == b"{"
    finally:
        stream.seek(start)


def _next_line_edges(stream: BinaryIO) -> tuple[bytes, bytes] | None:
    """The first and last non-blank bytes of the next non-blank line (None at the end or too long)."""
    first = last = b""
    read = 0
    while read < MAX_FIRST_LINE:
        piece = stream.readline(1 << 16)
        if not piece:
            return (first, last) if first else None
        read += len(piece)
        stripped = piece.strip()
        if stripped:
            first = first or stripped[:1]
            last = stripped[-1:]
        if piece.endswith(b"\n") and first:
            return first, last
    return None


def line_records(source_file: str, stream: BinaryIO, start: int) -> Iterator[RawRecord | SplitError]:
    """A line holding a post is one record, its exact bytes; a line holding a response is walked."""
    ordinal, offset = 0, start
    stream.seek(start)
    for number, line in enumerate(stream, start=1):
        data = line.rstrip(b"\r\n")
        if data.strip() and _BODY_LINE.match(data):
            directory = _directory(source_file, io.BytesIO(data), 0)
            reader = _Reader(source_file, io.BytesIO(data), 0, directory, ordinal, f"line {number}: ", offset)
            yield from reader.run()
            ordinal = reader.ordinal
        elif data.strip():  # a single post, or a bad line that parse() will reject with its reason
            yield RawRecord(source_file, ordinal, f"line {number}", data)
            ordinal += 1
        offset += len(line)


def document_records(source_file: str, stream: BinaryIO, start: int) -> Iterator[RawRecord | SplitError]:
    directory = _directory(source_file, stream, start)
    yield from _Reader(source_file, stream, start, directory).run()


def _directory(source_file: str, stream: BinaryIO, start: int) -> Directory:
    """Collect ``groups`` and ``profiles``, which VK writes after the items, in a pre-pass; skipped
    after one quick byte scan when the file has neither."""
    directory = Directory()
    if _contains(stream, start, NAME_KEYS):
        for _ in _Reader(source_file, stream, start, directory, names_only=True).run():
            pass
    stream.seek(start)
    return directory


def _contains(stream: BinaryIO, start: int, needles: tuple[bytes, ...]) -> bool:
    overlap = max(len(n) for n in needles)
    tail = b""
    stream.seek(start)
    try:
        while chunk := stream.read(1 << 18):
            window = tail + chunk
            if any(n in window for n in needles):
                return True
            tail = window[-overlap:]
        return False
    finally:
        stream.seek(start)


class _FaultError(Exception):
    """The JSON cannot be read on: ``kind`` says why; ``at`` and ``start`` are the byte offsets of
    the fault and of the value it lies in."""

    def __init__(self, kind: str, at: int, start: int, rel: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind  # truncated, bad, too_deep, too_large, not_vk
        self.at = at
        self.start = start
        self.rel = rel  # the fault, in characters after the window's position when it was found


class _Window:
    """The file decoded as UTF-8 a window at a time. Undecodable bytes stay as lone surrogates
    (``surrogateescape``), so every slice encodes back to its exact bytes and a bad byte inside a
    string is no JSON error. Offsets (``rel``) count characters after ``pos``, the earliest point
    still needed: reading on drops what lies before it."""

    def __init__(self, stream: BinaryIO, start: int) -> None:
        stream.seek(start)
        self.stream = stream
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.buf = ""
        self.pos = 0
        self.base = start  # byte offset of buf[0] in the stream
        self.eof = False

    def more(self) -> bool:
        """Read on (at least as much again as is held, so a big value costs linear time)."""
        if self.eof:
            return False
        if self.pos:
            self.base += byte_len(self.buf[: self.pos])
            self.buf = self.buf[self.pos :]
            self.pos = 0
        chunk = self.stream.read(max(CHUNK, len(self.buf)))
        text = self.decoder.decode(chunk, final=not chunk)
        self.eof = not chunk
        self.buf += text
        return bool(chunk or text)

    def byte_at(self, rel: int) -> int:
        return self.base + byte_len(self.buf[: self.pos + rel])

    def char_at(self, rel: int) -> tuple[str, int]:
        """The first non-blank character at or after ``rel`` ("" at the end, or after an endless
        run of blanks) and its offset."""
        while True:
            match = _NONBLANK.search(self.buf, self.pos + rel)
            if match is not None:
                return match.group(), match.start() - self.pos
            rel = len(self.buf) - self.pos
            if rel > MAX_VALUE_CHARS or not self.more():
                return "", rel

    def next_char(self) -> str:
        """Move to the next non-blank character and return it ("" at the end)."""
        while True:
            match = _NONBLANK.search(self.buf, self.pos)
            if match is not None:
                self.pos = match.start()
                return match.group()
            self.pos = len(self.buf)
            if not self.more():
                return ""

    def expect(self, char: str) -> None:
        if self.next_char() != char:
            raise self.broken("truncated" if self.eof and self.pos >= len(self.buf) else "bad", 0)
        self.pos += 1

    def broken(self, kind: str, rel: int, start_rel: int = 0) -> _FaultError:
        return _FaultError(kind, self.byte_at(rel), self.byte_at(start_rel), rel)

    def decode(self, rel: int = 0) -> tuple[Any, int]:
        """The JSON value at ``rel`` and the offset just past it, reading on as far as it needs."""
        while True:
            at = self.pos + rel
            try:
                value, end = _DECODER.raw_decode(self.buf, at)
            except json.JSONDecodeError as exc:
                fault = exc.pos - self.pos
                cut = exc.msg.startswith("Unterminated string")
                at_end = exc.pos >= len(self.buf)
                if not (cut or exc.pos >= len(self.buf) - 6):  # a fault well inside what is read
                    raise self.broken("bad", fault, rel) from None
                if len(self.buf) - at > MAX_VALUE_CHARS:
                    raise self.broken("too_large", fault, rel) from None
                if self.more():
                    continue
                raise self.broken("truncated" if cut or at_end else "bad", fault, rel) from None
            except RecursionError:
                raise self.broken("too_deep", rel, rel) from None
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and _NUMBER_TAIL.fullmatch(self.buf, end)) or not self.more():
                return value, end - self.pos  # (a number that the window's edge may have cut is read again)

    def skip(self) -> None:
        """Pass over the value at ``pos`` without building it: brackets are counted outside strings,
        so memory stays flat whatever its size or depth."""
        char = self.next_char()
        start = self.byte_at(0)
        if char not in ("{", "[", '"'):
            _, end = self.decode(0)
            self.pos += end
            return
        depth, in_string = 0, char == '"'
        if in_string:
            self.pos += 1
        while True:
            if in_string:  # a string the window cut: pass over its inside as it comes
                inside = _STRING_INSIDE.match(self.buf, self.pos)
                end = inside.end() if inside is not None else self.pos
                in_string = not (end < len(self.buf) and self.buf[end] == '"')
                self.pos = end if in_string else end + 1
                if not in_string and depth == 0:
                    return
            else:
                self.pos, depth, in_string = self._count_brackets(depth)
                if depth == 0:
                    return
            if (in_string or self.pos >= len(self.buf)) and not self.more():
                raise _FaultError("truncated", self.byte_at(len(self.buf) - self.pos), start)

    def _count_brackets(self, depth: int) -> tuple[int, int, bool]:
        """(where counting stopped, the depth there, whether a string goes on past the window)."""
        for match in _STRUCT.finditer(self.buf, self.pos):
            token = match.group()
            if token == '"':
                return match.end(), depth, True
            if token in ("{", "["):
                depth += 1
            elif token in ("}", "]"):
                depth -= 1
                if depth == 0:
                    return match.end(), 0, False
        return len(self.buf), depth, False

    def boundary(self) -> int | None:
        """Where the array element at ``pos`` ends (the ``,`` or ``]`` after it), by counting brackets
        outside strings; None when the count goes wrong or runs too far."""
        depth, rel = 0, 0
        while True:
            resume = len(self.buf)
            for match in _STRUCT_COMMA.finditer(self.buf, self.pos + rel):
                token = match.group()
                if token == '"':
                    resume = match.start()
                    break
                if token == ",":
                    if depth == 0:
                        return match.start() - self.pos
                elif token in ("{", "["):
                    depth += 1
                elif token in ("}", "]"):
                    depth -= 1
                    if depth < 0:
                        return match.start() - self.pos if token == "]" else None
            rel = resume - self.pos
            if len(self.buf) - self.pos > MAX_VALUE_CHARS or not self.more():
                return None

    def next_object(self, rel: int, accept: Callable[[Any], bool]) -> int | None:
        """The first ``},{`` after ``rel`` whose object reads whole and is accepted: the offset of
        its comma. Used when counting brackets could not find where a broken post ends."""
        while True:
            match = _NEXT_OBJECT.search(self.buf, self.pos + rel)
            if match is None:
                rel = max(rel, len(self.buf) - self.pos - 64)  # a boundary may straddle the edge
                if len(self.buf) - self.pos > MAX_VALUE_CHARS or not self.more():
                    return None
                continue
            comma = self.buf.index(",", match.start()) - self.pos
            candidate = match.end() - 1 - self.pos
            try:
                value, _ = self.decode(candidate)
            except _FaultError as broken:
                if broken.kind == "truncated":
                    return comma
                value = None
            if accept(value):
                return comma
            rel = candidate


class _Reader:
    """Walks one JSON text (a file, or one line of JSON Lines) and yields its posts in order.

    With ``names_only`` it yields nothing and fills the directory from ``groups`` and ``profiles``.
    """

    def __init__(
        self,
        source_file: str,
        stream: BinaryIO,
        start: int,
        directory: Directory,
        ordinal: int = 0,
        prefix: str = "",
        offset: int = 0,
        *,
        names_only: bool = False,
    ) -> None:
        self.source_file = source_file
        self.stream = stream
        self.w = _Window(stream, start)
        self.directory = directory
        self.ordinal = ordinal
        self.prefix = prefix
        self.offset = offset  # added to byte offsets in messages (a line's place in its file)
        self.names_only = names_only
        self.locator = prefix + "document" if prefix else "file"

    def run(self) -> Iterator[RawRecord | SplitError]:
        try:
            yield from self._documents()
        except _FaultError as broken:
            if not self.names_only:
                yield self._give_up(broken)

    def _documents(self) -> Iterator[RawRecord | SplitError]:
        count = 0
        while char := self.w.next_char():
            where = self.prefix if count == 0 else f"{self.prefix}document {count + 1}: "
            alone = f"{self.prefix}document {count + 1}" if count else self.prefix + "document"
            self.locator = alone
            if char == "[":
                yield from self._array(where)
            elif char == "{":
                yield from self._object(where, alone)
            else:
                self.locator = "file" if count == 0 else alone
                raise self.w.broken("not_vk" if count == 0 else "bad", 0)
            count += 1
        if count == 0:
            self.locator = "file"
            raise self.w.broken("not_vk", 0)

    def _array(self, where: str) -> Iterator[RawRecord | SplitError]:
        """A top-level array: of responses, of bodies, or of posts."""
        w = self.w
        w.pos += 1
        index = 0
        char = w.next_char()
        while char != "]":
            element = f"{where}[{index}]"
            self.locator = element
            if char == "{":
                yield from self._object(element + ".", element)
            else:
                yield from self._element(element)
            char = self._separator()
            index += 1
        w.pos += 1

    def _separator(self) -> str:
        """After an array element: the next element's first character, or "]"."""
        char = self.w.next_char()
        if char == ",":
            self.w.pos += 1
            char = self.w.next_char()
        if not char:
            raise self.w.broken("truncated", 0)
        return char  # anything else is read as the next element (a missing comma costs nothing)

    def _object(self, where: str, alone: str) -> Iterator[RawRecord | SplitError]:
        """An object: a wrapped response, a bare body, or (by its first key) a post or an error."""
        char, rel = self.w.char_at(1)
        key = None
        if char == '"':
            try:
                key, _ = self.w.decode(rel)
            except _FaultError:
                key = None
        if key == "response":
            yield from self._keys(lambda name: self._response_value(name, where))
        elif key in BODY_KEYS:
            yield from self._body(where)
        else:
            self.locator = alone
            yield from self._element(alone)

    def _keys(self, on_value: Callable[[str], Iterator[RawRecord | SplitError]]) -> Iterator[RawRecord | SplitError]:
        """The members of the object at ``pos``; ``on_value`` reads (or skips) each value."""
        w = self.w
        w.pos += 1
        char = w.next_char()
        while char != "}":
            if char != '"':
                raise w.broken("truncated" if not char else "bad", 0)
            key, end = w.decode(0)
            w.pos += end
            w.expect(":")
            w.next_char()
            yield from on_value(key)
            char = w.next_char()
            if char == ",":
                w.pos += 1
                char = w.next_char()
            elif char != "}":
                raise w.broken("truncated" if not char else "bad", 0)
        w.pos += 1

    def _response_value(self, key: str, where: str) -> Iterator[RawRecord | SplitError]:
        if key != "response":
            self.w.skip()
        elif self.w.next_char() == "{":
            yield from self._body(where + "response.")
        else:
            yield from self._not_a_list(where + "response", "the response is not an object holding posts")

    def _body(self, where: str) -> Iterator[RawRecord | SplitError]:
        """``{"count": N, "items": [...], "profiles": [...], "groups": [...]}``."""
        start = self.w.byte_at(0)
        seen: list[str] = []

        def on_value(key: str) -> Iterator[RawRecord | SplitError]:
            seen.append(key)
            self.locator = where + key if key in BODY_KEYS else where.rstrip(".") or "document"  # keys are input
            char = self.w.next_char()
            if key == "items" and char == "[":
                yield from self._items(where)
            elif key == "items":
                yield from self._not_a_list(where + "items", "the items of the response are not a list of posts")
            elif key in ("groups", "profiles") and char == "[" and self.names_only:
                self._names(key)
            else:
                self.w.skip()

        yield from self._keys(on_value)
        if "items" not in seen and not self.names_only:
            self.locator = where + "items"
            end = self.w.byte_at(0)
            data = self._bytes(start, end)
            yield self._split("not_vk", f"the response at byte {self.offset + start} holds no list of posts", data)

    def _items(self, where: str) -> Iterator[RawRecord | SplitError]:
        w = self.w
        w.pos += 1
        index = 0
        char = w.next_char()
        while char != "]":
            self.locator = f"{where}items[{index}]"
            yield from self._element(self.locator)
            char = self._separator()
            index += 1
        w.pos += 1

    def _names(self, key: str) -> None:
        """The entries of ``groups`` or ``profiles``, in the pre-pass."""
        w = self.w
        add = self.directory.add_group if key == "groups" else self.directory.add_profile
        w.pos += 1
        char = w.next_char()
        while char != "]":
            value, end = w.decode(0)
            w.pos += end
            add(value)
            char = self._separator()
        w.pos += 1

    def _element(self, locator: str) -> Iterator[RawRecord | SplitError]:
        """One post (or any value standing where a post should): a record, or a split error after
        which reading goes on at the next element."""
        w = self.w
        try:
            value, end = w.decode(0)
        except _FaultError as broken:
            if broken.kind == "truncated":
                raise
            error = self._resync(broken)
            if not self.names_only:
                yield error
            return
        if self.names_only:
            w.pos += end
            return
        text = w.buf[w.pos : w.pos + end]
        data = text.encode("utf-8", "surrogateescape")
        if _too_deep(text):
            at = self.offset + w.byte_at(0)
            w.pos += end
            sentence = f"the post at byte {at} is nested deeper than {MAX_DEPTH} levels; reading went on after it"
            yield self._split("too_deep", sentence, data[:MAX_SPLIT_BYTES], len(data) - MAX_SPLIT_BYTES)
            return
        w.pos += end
        try:
            context = self.directory.context_for(value) if isinstance(value, dict) else {}
        except Exception:  # a bug here must cost this post, not the rest of the file
            yield self._split("split_failed", "the reader could not prepare this post; reading went on", data)
            return
        yield RawRecord(self.source_file, self.ordinal, locator, data, context)
        self.ordinal += 1

    def _resync(self, broken: _FaultError) -> SplitError:
        """Find where the broken element at ``pos`` ends and move there; raise when nothing after
        it can be found."""
        w = self.w
        if broken.kind in ("too_large", "too_deep"):
            data = self._bytes(broken.start, broken.start + MAX_SPLIT_BYTES)
            try:
                w.skip()
            except _FaultError:
                raise broken from None
            end = w.byte_at(0)
        else:
            rel = self._boundary(broken)
            if rel is None:
                raise broken
            raw = w.buf[w.pos : w.pos + rel].encode("utf-8", "surrogateescape")
            w.pos += rel
            data, end = raw[:MAX_SPLIT_BYTES], broken.start + len(raw)
        sentence = (
            f"{_FAULTS[broken.kind]} at byte {self.offset + broken.at}; reading went on at byte {self.offset + end}"
        )
        return self._split(_CODES[broken.kind], sentence, data, end - broken.start - len(data))

    def _boundary(self, broken: _FaultError) -> int | None:
        """The offset of the ``,`` or ``]`` that ends the broken element, checked by reading on."""
        rel = self.w.boundary()
        if rel is not None and self._plausible_after(rel):
            return rel
        return self.w.next_object(broken.rel, _is_post)

    def _plausible_after(self, rel: int) -> bool:
        """After a ``,`` a post must follow; after a ``]`` the enclosing object or array goes on."""
        w = self.w
        if w.buf[w.pos + rel] == "]":
            return w.char_at(rel + 1)[0] in (",", "}", "]", "")
        char, next_rel = w.char_at(rel + 1)
        if char != "{":
            return False
        try:
            return _is_post(w.decode(next_rel)[0])
        except _FaultError as broken:
            return broken.kind == "truncated"

    def _not_a_list(self, locator: str, sentence: str) -> Iterator[SplitError]:
        start = self.w.byte_at(0)
        self.w.skip()
        if not self.names_only:
            self.locator = locator
            yield self._split(
                "not_vk", f"{sentence} (byte {self.offset + start})", self._bytes(start, self.w.byte_at(0))
            )

    def _give_up(self, broken: _FaultError) -> SplitError:
        data = self._bytes(broken.start, broken.start + MAX_SPLIT_BYTES)
        unread = max(0, self._size() - broken.start - len(data))
        if broken.kind == "not_vk":
            sentence = "the file is not a VK wall.get response, an array of them, or VK posts"
        elif broken.kind == "truncated":
            sentence = f"the file ends at byte {self.offset + broken.at} before its JSON is complete (truncated)"
        else:
            sentence = f"{_FAULTS[broken.kind]} at byte {self.offset + broken.at}"
        if unread:
            sentence += f"; no post could be found after it, so the {unread} bytes after it were not read"
        if self.ordinal:
            sentence += "; the posts before it were read"
        return self._split(_CODES[broken.kind], sentence, data, unread)

    def _split(self, code: str, sentence: str, data: bytes, unread: int = 0) -> SplitError:
        error = SplitError(
            code,
            sentence,
            source_file=self.source_file,
            locator=self.locator,
            ordinal=self.ordinal,
            data=data,
            unread_bytes=max(0, unread),
        )
        self.ordinal += 1
        return error

    def _bytes(self, start: int, end: int) -> bytes:
        """Bytes of the stream (at most MAX_SPLIT_BYTES), read aside without moving the window."""
        saved = self.stream.tell()
        self.stream.seek(start)
        data = self.stream.read(max(0, min(end - start, MAX_SPLIT_BYTES)))
        self.stream.seek(saved)
        return data

    def _size(self) -> int:
        saved = self.stream.tell()
        size = self.stream.seek(0, io.SEEK_END)
        self.stream.seek(saved)
        return size


_CODES = {
    "truncated": "truncated_json",
    "bad": "bad_json",
    "too_deep": "too_deep",
    "too_large": "too_large",
    "not_vk": "not_vk",
}
_FAULTS = {
    "bad": "the JSON is broken",
    "too_deep": f"the JSON is nested deeper than {MAX_DEPTH} levels",
    "too_large": f"one post is longer than {MAX_VALUE_CHARS >> 20} Mi characters",
}


def _is_post(value: Any) -> bool:
    return isinstance(value, dict) and "date" in value and ("id" in value or "owner_id" in value)


def _too_deep(text: str) -> bool:
    if text.count("{") + text.count("[") <= MAX_DEPTH:
        return False
    depth = 0
    for match in _STRUCT.finditer(text):
        token = match.group()
        if token in ("{", "["):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif token in ("}", "]"):
            depth -= 1
    return False


def byte_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def _clean_name(value: Any) -> str | None:
    """A name as stored: a non-empty string that is valid Unicode."""
    if not isinstance(value, str) or not value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


# -- repost chains, which the directory reads for the names a post needs -------------------------------


def history(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    history = node.get("copy_history")
    return [c for c in history if isinstance(c, Mapping)] if isinstance(history, list) else []


def repost_chain(post: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The reposted posts, nearest first: VK's flat ``copy_history`` and scrapers' nested copies."""
    chain: list[Mapping[str, Any]] = []
    seen: set[tuple[int | None, int | None]] = set()

    def walk(node: Mapping[str, Any], depth: int) -> None:
        if depth > 20:
            return
        for original in history(node):
            key = (as_int(original.get("owner_id")), as_int(original.get("id")))
            if key not in seen:
                seen.add(key)
                chain.append(original)
            walk(original, depth + 1)

    walk(post, 0)
    return chain


def _referenced_ids(post: Mapping[str, Any]) -> tuple[set[int], set[int]]:
    """(communities, by positive id; people who wrote or signed) named by a post and its originals."""
    communities: set[int] = set()
    authors: set[int] = set()
    for node in (post, *repost_chain(post)):
        for key in ("owner_id", "from_id", "signer_id"):
            ref = as_int(node.get(key))
            if ref is not None and ref < 0:
                communities.add(-ref)
            elif ref is not None and ref > 0 and key != "owner_id":
                authors.add(ref)
    return communities, authors
