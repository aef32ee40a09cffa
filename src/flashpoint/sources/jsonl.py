"""JSON Lines from listening tools and scrapers: one JSON object per line, fields mapped.

Each line is a raw record (its exact bytes are archived), so one bad line costs one record: a line
that is not a JSON object, is cut short, or is not valid in the file's encoding is rejected alone.
Blank lines are ignored. Nested keys are reached with dotted paths (``--map text=content.body``).

Example:
    >>> from pathlib import Path
    >>> JsonlSource().sniff(Path("x.jsonl"), b'{"text": "hi"}\\n')
    0.8
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import orjson

from flashpoint.errors import FormatError, RecordError
from flashpoint.model import RawRecord, SourceKind
from flashpoint.sources.base import HEAD_BYTES, Options, Parsed, SplitError, decode_text
from flashpoint.sources.mapped import (
    COMMON_OPTIONS,
    MAX_RECORD_BYTES,
    FieldMap,
    Oversize,
    check_options,
    encoding_option,
    guess_encoding,
    line_codec,
    message_from_row,
    physical_lines,
    record_encoding,
    without_terminator,
)

JSONL_SUFFIXES = {".jsonl", ".ndjson"}


class JsonlSource:
    format: ClassVar[str] = "jsonl"
    kind: ClassVar[SourceKind] = SourceKind.JSONL
    option_names: ClassVar[frozenset[str]] = COMMON_OPTIONS

    def sniff(self, path: Path, head: bytes) -> float:
        # A generic format: at most 0.8, so that a source that knows the keys (a VK scraper dump
        # in JSON Lines) wins auto-detection by the required margin.
        try:
            text = head.decode(line_codec(guess_encoding(head)), errors="replace")
        except FormatError:
            return 0.0
        lines = [line.strip() for line in text.removeprefix("\ufeff").split("\n")[:20] if line.strip()]
        if len(head) >= HEAD_BYTES and len(lines) > 1:
            lines = lines[:-1]  # the last line of a full head may be cut
        if not lines or not lines[0].startswith("{"):
            return 0.0
        share = sum(1 for line in lines if _is_object(line)) / len(lines)
        if path.suffix.lower() in JSONL_SUFFIXES:
            return 0.8 if share >= 0.5 else 0.6
        if len(lines) == 1:
            return 0.4 if share else 0.0  # one object on one line is as likely a minified JSON document
        if share >= 0.8:
            return 0.75 if path.suffix.lower() in {".json", ".txt", ""} else 0.7
        return 0.0

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        check_options(options)
        encoding = guess_encoding(stream.read(HEAD_BYTES), encoding_option(options))
        stream.seek(0)
        context = {"encoding": encoding}
        ordinal = 0
        for line_number, line in enumerate(physical_lines(stream, MAX_RECORD_BYTES), start=1):
            if isinstance(line, Oversize):
                yield SplitError(
                    "too_large",
                    f"the line is {line.size} bytes, over the {MAX_RECORD_BYTES} bytes a record may have",
                    source_file=str(path),
                    locator=f"line {line_number}",
                    ordinal=ordinal,
                    data=line.head,
                )
            else:
                data = without_terminator(line)
                if not data.strip():
                    continue
                yield RawRecord(str(path), ordinal, f"line {line_number}", data, context)
            ordinal += 1

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        row = _load(raw, record_encoding(raw, options))
        return [message_from_row(row, raw, options, self.kind, FieldMap.from_options(options))]


def _load(raw: RawRecord, encoding: str) -> dict[str, Any]:
    where = {"source_file": raw.source_file, "locator": raw.locator}
    data: bytes | str = raw.data.removeprefix(codecs.BOM_UTF8)
    if encoding not in {"utf-8", "utf-8-sig"}:
        data = decode_text(raw.data, encoding, **where)
    try:
        row = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        reason = str(exc).lower()
        if "utf-8" in reason or "surrogate" in reason:
            raise RecordError(
                "bad_encoding",
                f"the line is not valid UTF-8 ({exc}); pass --option encoding=... if the file uses another encoding",
                **where,
            ) from exc
        code = "truncated_json" if "unexpected end" in reason else "bad_json"
        raise RecordError(code, f"not valid JSON: {exc}", **where) from exc
    if not isinstance(row, dict):
        raise RecordError("not_an_object", f"expected a JSON object, found a JSON {_json_type(row)}", **where)
    return row


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _is_object(line: str) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False
