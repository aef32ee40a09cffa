"""CSV exports from listening tools, with any delimiter, UTF-8 or cp1251, and a column mapping.

Monitoring teams get CSV from many tools and from Excel: comma, semicolon (Russian Excel), tab or
pipe separated, UTF-8 with or without a BOM, or cp1251. The delimiter is taken from the options, an
Excel ``sep=`` line, or the header row; the encoding from the options or a line-by-line guess.

The raw record of a row is the exact bytes of the line or lines it spans (quoted fields may hold
newlines). The header, delimiter and encoding travel in each record's context so that a quarantined
row can be parsed again alone. A row that cannot be split (or grows past the record size limit
through an unclosed quote) becomes a split error and reading goes on at the next line.

Example:
    >>> from pathlib import Path
    >>> CsvSource().sniff(Path("x.csv"), b"id;date;text\\n1;2020-02-07;hi\\n") >= 0.5
    True
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import BinaryIO, ClassVar

from flashpoint.errors import ConfigError, FormatError, RecordError
from flashpoint.model import RawRecord, SourceKind
from flashpoint.sources.base import HEAD_BYTES, Options, Parsed, SplitError, decode_text
from flashpoint.sources.mapped import (
    COMMON_OPTIONS,
    DEFAULT_COLUMNS,
    MAX_RECORD_BYTES,
    SPLIT_SAMPLE_BYTES,
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

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
CSV_SUFFIXES = {".csv", ".tsv", ".tab", ".psv"}
KNOWN_COLUMNS = frozenset().union(*DEFAULT_COLUMNS.values())
_EXCEL_SEPARATOR = re.compile(r'"?sep=(.)"?[,;\t|]*')


def sniff_delimiter(sample: str) -> str:
    """The delimiter that gives the header most columns while the rows below keep its width.

    Rows are split as CSV (quoted fields may hold delimiters and newlines), not line by line.

    >>> sniff_delimiter('a;b;c\\n1;"x, y";3\\n')
    ';'
    """
    best, best_score = ",", (0.0, 1)
    for delimiter in DELIMITERS:
        rows = [row for row in _sample_rows(sample, delimiter) if any(cell.strip() for cell in row)]
        if len(rows) > 2:
            rows = rows[:-1]  # the sample may end inside the last row
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(1 for row in rows if len(row) == width) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_rows(sample: str, delimiter: str, limit: int = 50) -> list[list[str]]:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    with contextlib.suppress(csv.Error):  # a broken row ends the sample; the rows before it still count
        for row in islice(reader, limit):
            rows.append(row)
    return rows


def excel_separator(line: str) -> str | None:
    """The delimiter an Excel ``sep=;`` first line declares, or None.

    >>> excel_separator("sep=;")
    ';'
    """
    match = _EXCEL_SEPARATOR.fullmatch(line.strip().removeprefix("\ufeff"))
    return match.group(1) if match else None


def delimiter_option(options: Options) -> str | None:
    """The ``delimiter`` option as one character (``tab``, ``\\t``, ``pipe``... are understood)."""
    value = options.get("delimiter")
    if value in (None, ""):
        return None
    delimiter = DELIMITER_NAMES.get(str(value).lower(), str(value))
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ConfigError("bad_delimiter", f"the delimiter must be one character (or tab), not {value!r}")
    return delimiter


class RowTooLargeError(Exception):
    """Raised into the CSV reader when a row grows past MAX_RECORD_BYTES (an unclosed quote)."""


class LineFeeder:
    """Feeds decoded physical lines to ``csv.reader`` and keeps the bytes of the row being read,
    so that each record's data is exactly what the file held."""

    def __init__(self, lines: Iterator[bytes | Oversize], codec: str) -> None:
        self.lines = lines
        self.codec = codec
        self.pending: list[bytes | Oversize] = []
        self.consumed: list[bytes] = []
        self.size = 0
        self.line_number = 0

    def peek(self) -> bytes | Oversize | None:
        if not self.pending:
            line = next(self.lines, None)
            if line is None:
                return None
            self.pending.append(line)
        return self.pending[0]

    def __iter__(self) -> LineFeeder:
        return self

    def __next__(self) -> str:
        line = self.pending.pop() if self.pending else next(self.lines)
        self.line_number += 1
        if isinstance(line, Oversize):
            self.consumed.append(line.head)
            self.size += line.size
            raise RowTooLargeError(f"a line of {line.size} bytes")
        self.consumed.append(line)
        self.size += len(line)
        if self.size > MAX_RECORD_BYTES:
            raise RowTooLargeError(f"the row passed {MAX_RECORD_BYTES} bytes; a quote may be missing")
        text = line.decode(self.codec, errors="replace")  # strict decoding happens in parse, per record
        return text.removeprefix("\ufeff") if self.line_number == 1 else text

    def take(self) -> bytes:
        """The bytes consumed since the last call."""
        data = b"".join(self.consumed)
        self.consumed.clear()
        self.size = 0
        return data


class CsvSource:
    format: ClassVar[str] = "csv"
    kind: ClassVar[SourceKind] = SourceKind.CSV
    option_names: ClassVar[frozenset[str]] = COMMON_OPTIONS | {"delimiter"}

    def sniff(self, path: Path, head: bytes) -> float:
        # A generic format: at most 0.8, so that a source that knows its columns can win.
        if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[", b"<"):
            return 0.0
        if path.suffix.lower() in CSV_SUFFIXES:
            return 0.8
        try:
            text = head.decode(line_codec(guess_encoding(head)), errors="replace").removeprefix("\ufeff")
        except FormatError:
            return 0.0
        if excel_separator(text.split("\n", 1)[0]):
            return 0.8
        delimiter = sniff_delimiter(text)
        rows = _sample_rows(text, delimiter)
        if not rows:
            return 0.0
        known = len({cell.strip().casefold() for cell in rows[0]} & KNOWN_COLUMNS)
        consistent = all(len(row) == len(rows[0]) for row in rows[1:-1] if row)
        if known >= 3 and consistent:
            return 0.75
        return 0.6 if known >= 2 else 0.0

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        fields = check_options(options)
        _allow_big_fields()
        head = stream.read(HEAD_BYTES)
        stream.seek(0)
        encoding = guess_encoding(head, encoding_option(options))
        feeder = LineFeeder(physical_lines(stream, MAX_RECORD_BYTES), line_codec(encoding))
        declared = _skip_excel_separator(feeder)
        head_text = head.decode(line_codec(encoding), errors="replace").removeprefix("\ufeff")
        if declared:
            head_text = head_text.split("\n", 1)[-1]
        delimiter = delimiter_option(options) or declared or sniff_delimiter(head_text)
        reader = csv.reader(feeder, delimiter=delimiter)
        header = _read_header(reader, feeder, path)
        if header is None:
            return
        missing = fields.missing_columns(header)
        if missing:
            raise ConfigError(
                "bad_mapping",
                f"{path.name}: the column mapping names {missing}, which the header lacks; the header has {header}",
            )
        context = {"encoding": encoding, "delimiter": delimiter, "header": header}
        yield from _rows(reader, feeder, path, context)

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        _allow_big_fields()
        text = decode_text(raw.data, line_codec(record_encoding(raw, options)), **where)
        header = [str(name) for name in raw.context.get("header") or []]
        try:
            rows = list(csv.reader(io.StringIO(text), delimiter=str(raw.context.get("delimiter") or ",")))
        except csv.Error as exc:
            raise RecordError("bad_csv", f"cannot split the row: {exc}", **where) from exc
        if len(rows) != 1:
            raise RecordError("bad_csv", f"expected one row, found {len(rows)}", **where)
        cells = rows[0]
        if len(cells) != len(header):
            raise RecordError(
                "field_count",
                f"the row has {len(cells)} fields, the header has {len(header)}; a field holding the "
                "delimiter may lack its quotes",
                **where,
            )
        row = dict(zip(header, cells, strict=True))
        return [message_from_row(row, raw, options, self.kind, FieldMap.from_options(options))]


def _allow_big_fields() -> None:
    # The csv module's limit is process-wide; raise it only as far as the record size limit.
    if csv.field_size_limit() < MAX_RECORD_BYTES:
        csv.field_size_limit(MAX_RECORD_BYTES)


def _skip_excel_separator(feeder: LineFeeder) -> str | None:
    first = feeder.peek()
    if not isinstance(first, bytes):
        return None
    declared = excel_separator(first.decode(feeder.codec, errors="replace"))
    if declared:
        next(feeder)
        feeder.take()
    return declared


def _read_header(reader: Iterator[list[str]], feeder: LineFeeder, path: Path) -> list[str] | None:
    """The first non-blank row, stripped; None for a file without one."""
    try:
        for row in reader:
            feeder.take()
            if any(cell.strip() for cell in row):
                return [cell.strip() for cell in row]
    except (csv.Error, RowTooLargeError) as exc:
        raise FormatError("bad_header", f"{path}: cannot read the header row: {exc}") from exc
    return None


def _rows(
    reader: Iterator[list[str]], feeder: LineFeeder, path: Path, context: Mapping[str, object]
) -> Iterator[RawRecord | SplitError]:
    ordinal = 0
    while True:
        start = feeder.line_number + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, RowTooLargeError) as exc:
            yield SplitError(
                "too_large" if isinstance(exc, RowTooLargeError) else "bad_csv",
                f"cannot split the row: {exc}",
                source_file=str(path),
                locator=_locator(start, feeder.line_number),
                ordinal=ordinal,
                data=feeder.take()[:SPLIT_SAMPLE_BYTES],
            )
            ordinal += 1
            continue
        data = without_terminator(feeder.take())
        if not any(cell.strip() for cell in row):
            continue
        yield RawRecord(str(path), ordinal, _locator(start, feeder.line_number), data, context)
        ordinal += 1


def _locator(start: int, end: int) -> str:
    return f"line {start}" if start >= end else f"lines {start}-{end}"
