"""Reading the many timestamp styles that listening tools and scrapers write.

This lives apart from the field mapping in :mod:`flashpoint.sources.mapped` because reading a date
is its own job: every tabular export picks its own style (ISO 8601, epoch seconds or milliseconds,
``07.02.2020 22:15``, ``02/07/2020 10:15 PM``, ``yyyy-mm-dd``, RFC 2822, compact ``yyyymmdd``,
``UTC``/``GMT`` suffixes), and keeping those rules in one small module keeps them testable on
their own and out of the code that maps columns to message fields.

Example:
    >>> read_timestamp("20200207221500")[0].isoformat()
    '2020-02-07T22:15:00+00:00'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any

from flashpoint.errors import ConfigError
from flashpoint.sources.base import Options, parse_timestamp

# -- options --------------------------------------------------------------------------------------------


def date_order_option(options: Options) -> str:
    """``dmy`` (default) or ``mdy``: the order of day and month in numeric dates ending in the year."""
    order = str(options.get("date_order") or "dmy").strip().lower()
    if order not in {"dmy", "mdy"}:
        raise ConfigError("bad_date_order", f"date_order must be dmy or mdy, not {order!r}")
    return order


# -- timestamps -----------------------------------------------------------------------------------------

_TIME = (
    r"(?:[T\s,]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6})\d*)?)?"
    r"\s*(?P<ampm>[AP]\.?M\.?)?)?"
)
_ZONE = r"\s*(?P<zone>Z|(?:UTC|GMT)?\s*[+-]\d{1,2}(?::?\d{2})?|UTC|GMT)?"
_YEAR_LAST = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})" + _TIME + _ZONE, re.I
)
_YEAR_FIRST = re.compile(r"(?P<year>\d{4})(?P<sep>[./-])(?P<a>\d{1,2})(?P=sep)(?P<b>\d{1,2})" + _TIME + _ZONE, re.I)
UNRECOGNISED = (
    "not a date style this reader knows (ISO 8601, epoch, dd.mm.yyyy HH:MM, dd/mm/yyyy HH:MM, RFC 2822); "
    "map another column with --map timestamp=COLUMN"
)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?")


def read_timestamp(value: Any, tz: tzinfo = UTC, date_order: str = "dmy") -> tuple[datetime, bool]:
    """Read a timestamp as listening tools write it. Returns (aware datetime, had_own_offset).

    Epoch seconds or milliseconds, ISO 8601, ``dd.mm.yyyy HH:MM[:SS]``, ``dd/mm/yyyy HH:MM`` (or
    ``mm/dd/yyyy`` with date_order="mdy"), ``yyyy-mm-dd HH:MM:SS [+0600]``, compact ``yyyymmdd``
    and RFC 2822. Naive times get ``tz``. Raises ValueError or OverflowError when unreadable.

    >>> read_timestamp("02/07/2020 10:15 PM", date_order="mdy")[0].isoformat()
    '2020-02-07T22:15:00+00:00'
    >>> read_timestamp("Fri, 07 Feb 2020 22:15:00 +0600")
    (datetime.datetime(2020, 2, 7, 22, 15, tzinfo=datetime.timezone(datetime.timedelta(seconds=21600))), True)
    """
    if not isinstance(value, str):
        return parse_timestamp(value, tz)
    text = value.strip()
    compact = _COMPACT.fullmatch(text)
    if compact:  # 8 or 14 digits: a date, never epoch seconds of 1970 or milliseconds of 2286
        year, month, day, hour, minute, second = (int(part or 0) for part in compact.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=tz), False
    try:
        return parse_timestamp(text, tz)
    except ValueError:
        pass
    for pattern, year_first in ((_YEAR_LAST, False), (_YEAR_FIRST, True)):
        match = pattern.fullmatch(text)
        if match:
            return _from_match(match, tz, "ymd" if year_first else date_order)
    if any(ch.isalpha() for ch in text):
        return _rfc2822(text, tz)
    raise ValueError(UNRECOGNISED)


def _from_match(match: re.Match[str], tz: tzinfo, order: str) -> tuple[datetime, bool]:
    first, second = int(match["a"]), int(match["b"])
    month, day = (first, second) if order in {"ymd", "mdy"} else (second, first)
    year = int(match["year"])
    if year < 100:
        year += 2000 if year < 70 else 1900
    hour = int(match["hour"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"hour {hour} with AM/PM")
        hour = hour % 12 + (12 if match["ampm"][0] in "Pp" else 0)
    fraction = (match["fraction"] or "").ljust(6, "0")
    stamp = datetime(year, month, day, hour, int(match["minute"] or 0), int(match["second"] or 0), int(fraction or 0))
    zone = _zone(match["zone"])
    if zone is None:
        return stamp.replace(tzinfo=tz), False
    return stamp.replace(tzinfo=zone), True


def _zone(text: str | None) -> tzinfo | None:
    if text is None:
        return None
    spec = re.sub(r"^(UTC|GMT)", "", text.strip(), flags=re.I).strip()
    if spec in {"", "Z", "z"}:
        return UTC
    sign = -1 if spec[0] == "-" else 1
    digits = spec[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def _rfc2822(text: str, tz: tzinfo) -> tuple[datetime, bool]:
    try:
        stamp = parsedate_to_datetime(text)
    except (TypeError, IndexError, ValueError) as exc:
        raise ValueError(UNRECOGNISED) from exc
    if stamp.tzinfo is None:  # no zone, or "-0000" which RFC 2822 defines as "offset unknown"
        return stamp.replace(tzinfo=tz), False
    return stamp, True
