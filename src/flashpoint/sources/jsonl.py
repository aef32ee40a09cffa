"""JSON Lines from listening tools and scrapers: one JSON object per line, fields mapped.

Each line is a raw record (its exact bytes are archived). Blank lines are ignored; a line that is
not a JSON object, or not valid in the file's encoding, is a record error.

Example:
    >>> from pathlib import Path
    >>> JsonlSource().sniff(Path("x.jsonl"), b'{"text": "hi"}\\n')
    0.9
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

import orjson

from flashpoint.errors import RecordError
from flashpoint.model import RawRecord, SourceKind
from flashpoint.sources.base import HEAD_BYTES, Options, Parsed, SplitError, decode_text, detect_encoding
from flashpoint.sources.mapped import FieldMap, message_from_row


class JsonlSource:
    format: ClassVar[str] = "jsonl"
    kind: ClassVar[SourceKind] = SourceKind.JSONL
    option_names: ClassVar[frozenset[str]] = frozenset({"map", "encoding", "timezone", "channel"})

    def sniff(self, path: Path, head: bytes) -> float:
        lines = [line.strip() for line in head.splitlines()[:5] if line.strip()]
        if not lines or not all(line.startswith(b"{") for line in lines):
            return 0.0
        complete = lines[:-1] if len(head) >= HEAD_BYTES else lines
        ok = sum(1 for line in complete if _is_object(line))
        if complete and ok == len(complete):
            return 0.9 if path.suffix.lower() in {".jsonl", ".ndjson", ".json", ".txt", ""} else 0.7
        return 0.5 if path.suffix.lower() in {".jsonl", ".ndjson"} else 0.2

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        encoding = detect_encoding(stream.read(HEAD_BYTES), options.get("encoding"))
        stream.seek(0)
        context = {"encoding": encoding}
        ordinal = 0
        for line_number, line in enumerate(stream, start=1):
            data = line.rstrip(b"\r\n")
            if not data.strip():
                continue
            yield RawRecord(str(path), ordinal, f"line {line_number}", data, context)
            ordinal += 1

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        encoding = str(raw.context.get("encoding") or "utf-8")
        data = raw.data if encoding in {"utf-8", "utf-8-sig"} else decode_text(raw.data, encoding, **where).encode()
        try:
            row = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            code = "truncated_json" if "unexpected end" in str(exc).lower() else "bad_json"
            if "utf-8" in str(exc).lower() or "surrogate" in str(exc).lower():
                code = "bad_encoding"
            raise RecordError(code, f"not valid JSON: {exc}", **where) from exc
        if not isinstance(row, dict):
            raise RecordError("not_an_object", f"expected a JSON object, found {type(row).__name__}", **where)
        return [message_from_row(row, raw, options, self.kind, FieldMap.from_options(options))]


def _is_object(line: bytes) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False
