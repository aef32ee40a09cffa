"""The Source contract: split a file into raw records, parse one raw record into messages.

Splitting and parsing are separate so that a quarantined record can be parsed again from its raw
bytes alone (``flashpoint quarantine retry``) and so that a distributed runner can parse records on
other machines. ``records`` must stream: memory may not grow with the size of the file.

Example:
    >>> from flashpoint.sources import source_for
    >>> source_for("jsonl").kind.value
    'jsonl'
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flashpoint.errors import ConfigError, RecordError
from flashpoint.model import Message, RawRecord, Skipped, SourceKind

Options = Mapping[str, Any]
Parsed = Sequence[Message | Skipped]

HEAD_BYTES = 64 * 1024


@runtime_checkable
class Source(Protocol):
    """A real-world format. One module per format under ``flashpoint.sources``."""

    format: ClassVar[str]  # the name users pass to --format
    kind: ClassVar[SourceKind]
    option_names: ClassVar[frozenset[str]]  # the options it understands (for --option checks)

    def sniff(self, path: Path, head: bytes) -> float:
        """Confidence in [0, 1] that the file is in this format, from its name and first bytes."""
        ...

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        """Yield every record of the file in order, or a SplitError for a part that cannot be
        split (truncated JSON, an undecodable line), carrying its bytes in ``data``."""
        ...

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        """Turn one raw record into messages (or a Skipped note); raise RecordError if it is bad."""
        ...


class SplitError(RecordError):
    """A part of a file that could not be split into a record; its bytes go to quarantine."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        source_file: str,
        locator: str,
        ordinal: int,
        data: bytes,
        unread_bytes: int = 0,
    ) -> None:
        super().__init__(code, message, source_file=source_file, locator=locator)
        self.ordinal = ordinal
        self.data = data
        # Bytes after this point that the reader gave up on and that are NOT in ``data`` (a file
        # broken beyond resynchronisation); the runner reports them as a file error.
        self.unread_bytes = unread_bytes


def timezone_option(options: Options, default: tzinfo = UTC) -> tzinfo:
    """The ``timezone`` option as a tzinfo, for formats whose timestamps carry no offset."""
    name = options.get("timezone")
    if not name:
        return default
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError("bad_timezone", f"unknown timezone {name!r}; use an IANA name like Asia/Almaty") from exc


def parse_timestamp(value: Any, tz: tzinfo = UTC) -> tuple[datetime, bool]:
    """Parse an epoch number or an ISO-8601 string. Returns (aware datetime, had_own_offset).

    >>> parse_timestamp("2020-02-07T23:10:00+06:00")[0].isoformat()
    '2020-02-07T23:10:00+06:00'
    >>> parse_timestamp(1581095400)[0].isoformat()
    '2020-02-07T17:10:00+00:00'
    """
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value) / 1000 if value > 1e11 else float(value)  # milliseconds since epoch
        return datetime.fromtimestamp(seconds, UTC), True
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").replace(".", "", 1).isdigit():
            return parse_timestamp(float(text), tz)
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=tz), False
        return parsed, True
    raise ValueError(f"not a timestamp: {value!r}")


def decode_text(data: bytes, encoding: str, *, source_file: str, locator: str) -> str:
    """Decode bytes strictly; undecodable input is a record error, never mojibake."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise RecordError(
            "bad_encoding",
            f"bytes {exc.start}-{exc.end} are not valid {encoding}; pass --option encoding=... if the file "
            "uses another encoding",
            source_file=source_file,
            locator=locator,
        ) from exc


def detect_encoding(head: bytes, declared: str | None = None) -> str:
    """The declared encoding, else UTF-8 if the head decodes as UTF-8, else the best Cyrillic guess.

    >>> detect_encoding("Масанчи".encode("cp1251"))
    'cp1251'
    >>> detect_encoding("Масанчи и Сортобе".encode() + bytes([255]))
    'utf-8'
    """
    if declared:
        return declared
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4 and len(head) >= HEAD_BYTES - 4:
            return "utf-8"  # the head cut a multi-byte character in two
    # A UTF-8 file with a few broken records still holds many valid multi-byte sequences, which
    # text in a single-byte Cyrillic encoding almost never forms by chance.
    decoded = head.decode("utf-8", errors="replace")
    broken = decoded.count("\ufffd")
    valid_non_ascii = sum(1 for ch in decoded if ord(ch) > 127) - broken
    if valid_non_ascii >= 4 * broken:
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head, cp_isolation=["cp1251", "koi8_r", "cp866", "utf_8", "latin_1"]).best()
    return best.encoding if best is not None else "cp1251"


def person(value: Any) -> str | None:
    """A non-empty author id as a string, or None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


_ASCII_INTEGER = re.compile(r"\s*-?[0-9]{1,19}\s*")


def as_int(value: Any) -> int | None:
    """An integer from a JSON number or a string of ASCII digits; None for anything else (booleans,
    and numbers outside SQLite's 64-bit range, which would fail at storage).

    >>> as_int("-42"), as_int(3.0), as_int(True), as_int("3.5"), as_int(2**70), as_int("¹")
    (-42, 3, None, None, None, None)
    """
    if isinstance(value, bool):
        return None
    if (isinstance(value, float) and value.is_integer() and abs(value) < 2**63) or (
        isinstance(value, str) and _ASCII_INTEGER.fullmatch(value)
    ):
        value = int(value)
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    return None
