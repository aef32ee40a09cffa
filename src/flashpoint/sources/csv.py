"""CSV exports from listening tools, with any delimiter, UTF-8 or cp1251, and a column mapping.

The raw record of a row is the exact bytes of the line or lines it spans (quoted fields may hold
newlines). The header is carried in each record's context so a quarantined row can be parsed alone.

Example:
    >>> from pathlib import Path
    >>> CsvSource().sniff(Path("x.csv"), b"id;date;text\\n1;2020-02-07;hi\\n") >= 0.5
    True
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

from flashpoint.errors import RecordError
from flashpoint.model import RawRecord, SourceKind
from flashpoint.sources.base import HEAD_BYTES, Options, Parsed, SplitError, decode_text, detect_encoding
from flashpoint.sources.mapped import DEFAULT_COLUMNS, FieldMap, message_from_row

DELIMITERS = ",;\t|"
csv.field_size_limit(1 << 30)


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of fields.

    >>> sniff_delimiter("a;b;c\\n1;2;3\\n")
    ';'
    """
    lines = [line for line in sample.splitlines()[:20] if line.strip()][:-1] or sample.splitlines()[:1]
    best, best_width = ",", 1
    for delimiter in DELIMITERS:
        widths = {len(next(csv.reader([line], delimiter=delimiter))) for line in lines}
        width = min(widths) if widths else 1
        if width > best_width and len(widths) <= 2:
            best, best_width = delimiter, width
    return best


class CsvSource:
    format: ClassVar[str] = "csv"
    kind: ClassVar[SourceKind] = SourceKind.CSV
    option_names: ClassVar[frozenset[str]] = frozenset({"map", "delimiter", "encoding", "timezone", "channel"})

    def sniff(self, path: Path, head: bytes) -> float:
        if head.lstrip()[:1] in (b"{", b"[", b"<"):
            return 0.0
        text = head.decode(detect_encoding(head), errors="replace")
        first = text.splitlines()[0] if text.splitlines() else ""
        delimiter = sniff_delimiter(text)
        header = {h.strip().lower() for h in next(csv.reader([first], delimiter=delimiter), [])}
        known = set().union(*DEFAULT_COLUMNS.values())
        if path.suffix.lower() in {".csv", ".tsv"}:
            return 0.9
        return 0.6 if len(header & known) >= 2 else 0.0

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        encoding = detect_encoding(stream.read(HEAD_BYTES), options.get("encoding"))
        stream.seek(0)
        if encoding == "utf-8":
            encoding = "utf-8-sig"  # drop a BOM if one is there
        head = stream.read(HEAD_BYTES).decode(encoding, errors="replace")
        stream.seek(0)
        delimiter = str(options.get("delimiter") or sniff_delimiter(head))
        if delimiter == "\\t":
            delimiter = "\t"
        consumed: list[bytes] = []
        line_number = 0
        bad: list[tuple[int, bytes, UnicodeDecodeError]] = []

        def lines() -> Iterator[str]:
            nonlocal line_number
            for raw_line in stream:
                line_number += 1
                consumed.append(raw_line)
                try:
                    yield raw_line.decode(encoding)
                except UnicodeDecodeError as exc:
                    bad.append((line_number, raw_line, exc))
                    yield raw_line.decode(encoding, errors="replace")

        reader = csv.reader(lines(), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        consumed.clear()
        bad.clear()
        context = {"encoding": encoding, "delimiter": delimiter, "header": [h.strip() for h in header]}
        ordinal = 0
        start_line = line_number + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield SplitError(
                    "bad_csv", f"cannot split the row: {exc}", source_file=str(path),
                    locator=f"line {start_line}", ordinal=ordinal, data=b"".join(consumed),
                )
                ordinal += 1
                consumed.clear()
                start_line = line_number + 1
                continue
            data = b"".join(consumed).rstrip(b"\r\n")
            locator = f"line {start_line}" if start_line == line_number else f"lines {start_line}-{line_number}"
            consumed.clear()
            bad.clear()
            start_line = line_number + 1
            if not any(cell.strip() for cell in row):
                continue
            yield RawRecord(str(path), ordinal, locator, data, context)
            ordinal += 1

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        encoding = str(raw.context.get("encoding") or "utf-8")
        text = decode_text(raw.data, "utf-8" if encoding == "utf-8-sig" else encoding, **where)
        header = list(raw.context.get("header") or [])
        rows = list(csv.reader(io.StringIO(text), delimiter=str(raw.context.get("delimiter") or ",")))
        if len(rows) != 1:
            raise RecordError("bad_csv", f"expected one row, found {len(rows)}", **where)
        cells = rows[0]
        if len(cells) != len(header):
            raise RecordError(
                "bad_csv", f"the row has {len(cells)} fields, the header has {len(header)}", **where
            )
        return [message_from_row(dict(zip(header, cells, strict=True)), raw, options, self.kind, FieldMap.from_options(options))]
