"""What the news readers share: the dates outlets write, HTML made plain text, whole-file errors.

Feeds (``rss``) and saved articles (``article``) are read by separate modules, but both meet the
same dates and the same markup. Dates keep the offset the outlet wrote; a date without one takes
the reader's ``timezone`` and is reported as such, so that callers can mark it ``offset_assumed``.
Nothing here touches the network.

Example:
    >>> parse_news_date("Ср, 06 мар 2024 23:05:00 +0500")[0].isoformat()
    '2024-03-06T23:05:00+05:00'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import lxml.etree
import lxml.html

from flashpoint.sources.base import SplitError

MAX_SPLIT_BYTES = 1 << 20
BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "table",
     "section", "article", "header", "footer", "figure", "figcaption", "dd", "dt", "dl", "hr", "main", "aside", "nav"}
)  # fmt: skip
DROP_TAGS = ("script", "style", "noscript", "iframe", "template")

# -- dates ----------------------------------------------------------------------------------------------

# The first three letters of month names (English, Russian, Kazakh), as outlets abbreviate them.
MONTHS = {
    name: number
    for names in (
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        ("янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"),
        ("қаң", "ақп", "нау", "сәу", "мам", "мау", "шіл", "там", "қыр", "қаз", "қар", "жел"),
    )
    for number, name in enumerate(names, start=1)
} | {"май": 5}
ZONE = r"(?P<zone>[+-]\d{2}:?\d{2}|GMT|UTC|UT|Z)?"
TIME = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?"
NAMED_MONTH_DATE = re.compile(
    rf"^(?:[^\W\d_]+\.?,?\s+)?(?P<day>\d{{1,2}})\s+(?P<month>[^\W\d_]+)\.?\s+(?P<year>\d{{4}})"
    rf"(?:\s*(?:г\.|ж\.|года|жылы)?,?\s*(?:в\s+|at\s+)?{TIME})?\s*{ZONE}$",
    re.IGNORECASE,
)
DOTTED_DATE = re.compile(
    rf"^(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\.(?P<year>\d{{4}})(?:,?\s+{TIME})?\s*{ZONE}$", re.IGNORECASE
)


def parse_news_date(value: str, tz: tzinfo = UTC) -> tuple[datetime, bool]:
    """Read the dates outlets write: ISO 8601/W3CDTF, RFC 822 (also with Russian or Kazakh month
    names), "06.03.2024 14:20" and "6 марта 2024, 14:20". Returns (aware datetime, had_own_offset);
    a date without an offset takes ``tz``. Raises ValueError for anything else.

    >>> parse_news_date("2024-03-06T14:20:00+05:00")
    (datetime.datetime(2024, 3, 6, 14, 20, tzinfo=datetime.timezone(datetime.timedelta(seconds=18000))), True)
    """
    text = " ".join(value.split())
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
        return _localise(parsed, tz)
    for pattern in (NAMED_MONTH_DATE, DOTTED_DATE):
        match = pattern.match(text)
        if match:
            return _from_match(match, tz)
    try:
        return _localise(parsedate_to_datetime(text), tz)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"not a date: {value[:60]!r}") from exc


def _from_match(match: re.Match[str], tz: tzinfo) -> tuple[datetime, bool]:
    month_text = match["month"]
    month = int(month_text) if month_text.isdigit() else MONTHS.get(month_text.lower()[:3])
    if month is None:
        raise ValueError(f"unknown month name {month_text!r}")
    parsed = datetime(
        int(match["year"]), month, int(match["day"]),
        int(match["hour"] or 0), int(match["minute"] or 0), int(match["second"] or 0),
    )  # fmt: skip
    zone = match["zone"]
    if zone is None:
        return parsed.replace(tzinfo=tz), False
    if zone.upper() in {"GMT", "UTC", "UT", "Z"}:
        return parsed.replace(tzinfo=UTC), True
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return parsed.replace(tzinfo=timezone(sign * offset)), True


def _localise(parsed: datetime, tz: tzinfo) -> tuple[datetime, bool]:
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=tz), False
    return parsed, True


# -- HTML to text ---------------------------------------------------------------------------------------


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, one paragraph or list item per line.

    >>> html_to_text("<p>Задержаны <b>11</b> человек.</p><p>Пострадали&nbsp;4.</p>")
    'Задержаны 11 человек.\\nПострадали 4.'
    """
    if "<" not in markup and "&" not in markup:
        return tidy_lines(markup)
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return tidy_lines(markup)
    for element in root.iter(*DROP_TAGS):
        element.drop_tree()
    parts: list[str] = []
    for event, element in lxml.etree.iterwalk(root, events=("start", "end")):
        block = isinstance(element.tag, str) and element.tag.lower() in BLOCK_TAGS
        if event == "start":
            if block:
                parts.append("\n")
            if element.text and isinstance(element.tag, str):
                parts.append(element.text)
        else:
            if block:
                parts.append("\n")
            if element.tail and element is not root:
                parts.append(element.tail)
    return tidy_lines("".join(parts))


def tidy_lines(text: str) -> str:
    """Collapse spaces within lines and drop empty lines."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


# -- shared helpers -------------------------------------------------------------------------------------


def whole_file_error(path: Path, code: str, message: str, data: bytes) -> SplitError:
    return SplitError(code, message, source_file=str(path), locator="file", ordinal=0, data=data[:MAX_SPLIT_BYTES])


def skip_prolog(head: bytes) -> bytes:
    """The head from its first element on: BOM, XML declaration, comments and doctype skipped."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    while text.startswith((b"<?", b"<!")):
        end = text.find(b"-->") + 3 if text.startswith(b"<!--") else text.find(b">") + 1
        if end <= 0:
            return b""
        text = text[end:].lstrip()
    return text[:4096]


def url_host(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    host = (urlparse(url).hostname or "").lower()
    return host.removeprefix("www.") or None


__all__: Sequence[str] = (
    "MAX_SPLIT_BYTES",
    "html_to_text",
    "parse_news_date",
    "skip_prolog",
    "tidy_lines",
    "url_host",
    "whole_file_error",
)
