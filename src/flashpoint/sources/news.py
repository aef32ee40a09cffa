"""News for the incident register: RSS/Atom/RDF feeds and single saved articles (HTML or text).

Monitors compare what chats say with what outlets report (arrests, injuries, official denials),
so news items are kept as messages of kind ``news`` with a title, a URL and the article's plain
text. Nothing here touches the network: feedparser reads bytes from memory, trafilatura gets a
parsed lxml tree (so neither it nor htmldate can mistake a string for a URL to fetch).

A feed is small: it is read whole (up to 32 MiB), parsed with feedparser, and each entry becomes
one raw record holding its fields as canonical JSON, with the feed's title, link, language and
date in the context. A saved article is one record holding the file's bytes.

Dates keep the offset the outlet wrote; a date without one takes the ``timezone`` option and is
marked ``offset_assumed``. An entry or article without any date is a record error, unless the
``undated=feed_date`` (feeds) or ``published=...`` (articles) option says what to use.

Example:
    >>> parse_news_date("Ср, 06 мар 2024 23:05:00 +0500")[0].isoformat()
    '2024-03-06T23:05:00+05:00'
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar
from urllib.parse import urlparse

import feedparser
import lxml.etree
import lxml.html
import orjson
import trafilatura

from flashpoint.errors import RecordError
from flashpoint.model import Attachment, Message, MessageKind, RawRecord, SourceKind
from flashpoint.sources.base import (
    HEAD_BYTES,
    Options,
    Parsed,
    SplitError,
    as_int,
    decode_text,
    detect_encoding,
    person,
    timezone_option,
)

MAX_FEED_BYTES = 32 << 20
MAX_ARTICLE_BYTES = 16 << 20  # the runner's default ingest.max_record_bytes
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


# -- RSS, RDF and Atom feeds ----------------------------------------------------------------------------

ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)([^>]*)>")


class RssSource:
    format: ClassVar[str] = "rss"
    kind: ClassVar[SourceKind] = SourceKind.RSS
    option_names: ClassVar[frozenset[str]] = frozenset({"timezone", "undated"})

    def sniff(self, path: Path, head: bytes) -> float:
        match = ROOT_TAG.search(_skip_prolog(head))
        if match is None:
            return 0.0
        name, attributes = match.group(1).lower(), match.group(2)
        if name == b"rss":
            return 0.95
        if name == b"feed" and b"http://www.w3.org/2005/Atom" in attributes:
            return 0.95
        if name.endswith(b":rdf") or name == b"rdf":
            return 0.95 if b"http://purl.org/rss/1.0/" in head else 0.0
        return 0.0

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        data = stream.read(MAX_FEED_BYTES + 1)
        if len(data) > MAX_FEED_BYTES:
            message = f"the feed is over {MAX_FEED_BYTES >> 20} MiB; split it or read it as JSONL"
            yield _whole_file_error(path, "too_large", message, data)
            return
        feed = feedparser.parse(io.BytesIO(data))
        if not feed.entries:
            if feed.get("bozo"):
                reason = f"cannot read the feed: {feed.get('bozo_exception')}"
                yield _whole_file_error(path, "bad_feed", reason, data)
            return
        context = _feed_context(feed, path)
        for index, entry in enumerate(feed.entries):
            fields = _entry_fields(entry)
            yield RawRecord(
                str(path), index, f"entries[{index}]", orjson.dumps(fields, option=orjson.OPT_SORT_KEYS), context
            )

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        entry = _load_object(raw.data, where)
        context = raw.context
        undated = str(options.get("undated") or "error")
        if undated not in {"error", "feed_date"}:
            raise RecordError("bad_option", f"undated={undated!r}: use 'error' (the default) or 'feed_date'", **where)
        sent_at, extra = _entry_date(entry, context, timezone_option(options), undated == "feed_date", where)
        title = _entry_title(entry)
        text = _entry_text(entry) or title or ""
        if not text:
            raise RecordError("empty_text", "the entry has no title, summary or content", **where)
        extra.update(_feed_extra(entry, context))
        author = _byline(entry.get("author"))
        return [
            Message.create(
                source=SourceKind.RSS,
                channel=_feed_channel(context),
                native_id=_str(entry.get("id")) or _str(entry.get("link")),
                sent_at=sent_at,
                text=text,
                raw_sha256=raw.sha256,
                author=author,
                author_name=author,
                edited_at=_updated_at(entry, sent_at, timezone_option(options)),
                title=title,
                url=_str(entry.get("link")),
                kind=MessageKind.NEWS,
                attachments=_enclosures(entry.get("enclosures")),
                extra=extra,
            )
        ]


def _whole_file_error(path: Path, code: str, message: str, data: bytes) -> SplitError:
    return SplitError(code, message, source_file=str(path), locator="file", ordinal=0, data=data[:MAX_SPLIT_BYTES])


def _skip_prolog(head: bytes) -> bytes:
    """The head from its first element on: BOM, XML declaration, comments and doctype skipped."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    while text.startswith((b"<?", b"<!")):
        end = text.find(b"-->") + 3 if text.startswith(b"<!--") else text.find(b">") + 1
        if end <= 0:
            return b""
        text = text[end:].lstrip()
    return text[:4096]


def _feed_context(feed: Any, path: Path) -> dict[str, Any]:
    meta = _raw(feed, "feed")
    context = {
        "feed_title": _str(_raw(meta, "title")),
        "feed_link": _str(_raw(meta, "link")),
        "feed_language": _str(_raw(meta, "language")),
        "feed_date": _str(_raw(meta, "published")) or _str(_raw(meta, "updated")),
        "feed_date_utc": _utc_text(_raw(meta, "published_parsed") or _raw(meta, "updated_parsed")),
        "feed_version": _str(_raw(feed, "version")),
        "file_stem": path.stem,
    }
    return {k: v for k, v in context.items() if v}


def _entry_fields(entry: Any) -> dict[str, Any]:
    """The parts of a feedparser entry that parse() needs, as plain JSON values.

    Keys are read with ``dict.get``: feedparser's own ``get`` maps missing keys to others (a missing
    ``updated`` to ``published``), which would invent dates."""
    fields: dict[str, Any] = {
        k: _str(_raw(entry, k)) for k in ("id", "link", "title", "author", "published", "updated")
    }
    title_detail, summary_detail = _raw(entry, "title_detail") or {}, _raw(entry, "summary_detail") or {}
    fields["title_type"] = _str(_raw(title_detail, "type"))
    fields["published_utc"] = _utc_text(_raw(entry, "published_parsed"))
    fields["updated_utc"] = _utc_text(_raw(entry, "updated_parsed"))
    fields["content"] = [
        {"type": _str(_raw(c, "type")), "value": _str(_raw(c, "value")), "language": _str(_raw(c, "language"))}
        for c in _raw(entry, "content") or ()
    ]
    fields["summary"] = _str(_raw(entry, "summary"))
    fields["summary_type"] = _str(_raw(summary_detail, "type"))
    fields["language"] = _str(_raw(summary_detail, "language")) or _str(_raw(title_detail, "language"))
    fields["categories"] = [_raw(t, "term") for t in _raw(entry, "tags") or () if _str(_raw(t, "term"))]
    fields["enclosures"] = [
        {"href": _str(_raw(link, "href")), "type": _str(_raw(link, "type")), "length": _str(_raw(link, "length"))}
        for link in _raw(entry, "links") or ()
        if _raw(link, "rel") == "enclosure"
    ]
    return {k: v for k, v in fields.items() if v not in (None, [], "")}


def _raw(mapping: Any, key: str) -> Any:
    return dict.get(mapping, key) if isinstance(mapping, dict) else None


def _entry_date(
    entry: Mapping[str, Any], context: Mapping[str, Any], tz: tzinfo, feed_date: bool, where: Mapping[str, str]
) -> tuple[datetime, dict[str, Any]]:
    candidates = [("published", "published_utc"), ("updated", "updated_utc")]
    if feed_date:
        candidates.append(("feed_date", "feed_date_utc"))
    for key, fallback in candidates:
        source = context if key == "feed_date" else entry
        extra: dict[str, Any] = {"date_from": "feed"} if key == "feed_date" else {}
        found = _read_date(source.get(key), source.get(fallback), tz, where)
        if found is not None:
            sent_at, had_offset = found
            return sent_at, extra if had_offset else {**extra, "offset_assumed": True}
    hint = "" if feed_date else "; pass --option undated=feed_date to date it by the feed"
    raise RecordError("no_timestamp", f"the entry has no published or updated date{hint}", **where)


def _read_date(text: Any, utc_text: Any, tz: tzinfo, where: Mapping[str, str]) -> tuple[datetime, bool] | None:
    if not text:
        return None
    try:
        return parse_news_date(str(text), tz)
    except (ValueError, OverflowError) as exc:
        if utc_text:  # feedparser read a format we do not know; its reading is in UTC, offset unknown
            return datetime.fromisoformat(str(utc_text)), False
        raise RecordError("bad_timestamp", f"cannot read the date {str(text)[:60]!r}", **where) from exc


def _updated_at(entry: Mapping[str, Any], sent_at: datetime, tz: tzinfo) -> datetime | None:
    if not entry.get("published") or not entry.get("updated"):
        return None
    try:
        updated = parse_news_date(str(entry["updated"]), tz)[0]
    except (ValueError, OverflowError):
        return None
    return updated.astimezone(UTC) if updated != sent_at else None


def _entry_title(entry: Mapping[str, Any]) -> str | None:
    title = _str(entry.get("title"))
    if title is None:
        return None
    return (html_to_text(title) if "html" in str(entry.get("title_type") or "") else tidy_lines(title)) or None


def _entry_text(entry: Mapping[str, Any]) -> str:
    """The fullest body the entry has: its longest content, else its summary."""
    bodies = [(c.get("value") or "", c.get("type") or "") for c in entry.get("content") or ()]
    bodies.sort(key=lambda body: len(body[0]), reverse=True)
    bodies.append((entry.get("summary") or "", entry.get("summary_type") or "text/html"))
    for value, kind in bodies:
        text = html_to_text(value) if "html" in kind else tidy_lines(value)
        if text:
            return text
    return ""


def _feed_extra(entry: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if context.get("feed_title"):
        extra["outlet"] = context["feed_title"]
    language = entry.get("language") or context.get("feed_language")
    if language:
        extra["language"] = language
    if entry.get("categories"):
        extra["categories"] = list(entry["categories"])
    return extra


def _feed_channel(context: Mapping[str, Any]) -> str:
    host = _host(context.get("feed_link"))
    return f"rss:{host or context.get('feed_title') or context.get('file_stem') or 'feed'}"


def _byline(value: Any) -> str | None:
    """An RSS author is often "email (Name)": keep the name, the part a reader sees."""
    text = _str(value)
    if text is None:
        return None
    match = re.match(r"^\S+@\S+\s*\((.+)\)\s*$", text)
    return person(match.group(1) if match else text)


def _enclosures(value: Any) -> tuple[Attachment, ...]:
    found = []
    for item in value or ():
        mime = str(item.get("type") or "")
        kind = {"image": "photo", "video": "video", "audio": "audio"}.get(mime.split("/", maxsplit=1)[0], "document")
        length = str(item.get("length") or "")
        name = Path(urlparse(str(item.get("href") or "")).path).name or None
        found.append(Attachment(kind, name, as_int(length), None, mime or None))
    return tuple(found)


def _utc_text(value: Any) -> str | None:
    if not isinstance(value, time.struct_time):
        return None
    return datetime(*value[:6], tzinfo=UTC).isoformat()


# -- single saved articles ------------------------------------------------------------------------------

HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HEADER_KEYS = {
    "date": {"date", "дата", "published", "опубликовано", "күні", "жарияланды", "pubdate"},
    "url": {"url", "link", "ссылка", "сілтеме"},
    "outlet": {"source", "источник", "outlet", "издание", "дереккөз"},
    "author": {"author", "автор", "by", "авторы"},
}
HEADER_LINE = re.compile(r"^[*_\s]*(?P<key>[^\W\d][\w ]{0,24}?)[*_\s]*:[*_\s]*(?P<value>.+?)\s*$")
CHAT_LINE = re.compile(rb"^\[?\d{1,4}[./-]\d{1,2}[./-]\d{2,4},?\s+\d{1,2}:\d{2}")
META_DATE_KEYS = ("article:published_time", "og:published_time", "datepublished", "date", "pubdate", "dc.date")


class ArticleSource:
    format: ClassVar[str] = "article"
    kind: ClassVar[SourceKind] = SourceKind.ARTICLE
    option_names: ClassVar[frozenset[str]] = frozenset({"timezone", "published", "encoding"})

    def sniff(self, path: Path, head: bytes) -> float:
        suffix = path.suffix.lower()
        if suffix in HTML_SUFFIXES:
            return 0.9 if re.search(rb"<(html|article)[\s>]", head, re.IGNORECASE) else 0.5
        if suffix in TEXT_SUFFIXES:
            return 0.55 if _looks_like_prose(head) else 0.0
        return 0.0

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        data = stream.read(MAX_ARTICLE_BYTES + 1)
        if len(data) > MAX_ARTICLE_BYTES:
            message = f"an article over {MAX_ARTICLE_BYTES >> 20} MiB is not an article"
            yield _whole_file_error(path, "too_large", message, data)
            return
        markup = (
            "html" if path.suffix.lower() in HTML_SUFFIXES or _skip_prolog(data[:HEAD_BYTES])[:1] == b"<" else "text"
        )
        declared = options.get("encoding") or (_declared_charset(data[:HEAD_BYTES]) if markup == "html" else None)
        context = {
            "markup": markup,
            "encoding": detect_encoding(data[:HEAD_BYTES], declared),
            "file_name": path.name,
            "folder": path.parent.name,
        }
        yield RawRecord(str(path), 0, "file", data, context)

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        text = decode_text(raw.data, str(raw.context.get("encoding") or "utf-8"), **where).lstrip("\ufeff")
        tz = timezone_option(options)
        article = _html_article(text) if raw.context.get("markup") == "html" else _text_article(text, raw.context)
        if not article.get("text"):
            raise RecordError("empty_text", "no article text found in the file", **where)
        sent_at, extra = _article_date(article, options, tz, where)
        url = article.get("url")
        outlet = article.get("outlet")
        channel = outlet or _host(url) or raw.context.get("folder") or "local"
        for key in ("outlet", "language", "categories"):
            if article.get(key):
                extra[key] = article[key]
        return [
            Message.create(
                source=SourceKind.ARTICLE,
                channel=f"article:{channel}",
                native_id=url,
                sent_at=sent_at,
                text=article["text"],
                raw_sha256=raw.sha256,
                author=person(article.get("author")),
                author_name=person(article.get("author")),
                edited_at=_optional_date(article.get("modified"), tz),
                title=article.get("title"),
                url=url,
                kind=MessageKind.NEWS,
                extra=extra,
            )
        ]


def _looks_like_prose(head: bytes) -> bool:
    """Not JSON, markup, a chat export or a delimited table: what is left may be an article."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped or stripped[:1] in (b"{", b"[", b"<") or b"\x00" in head[:4096]:
        return False
    lines = [line.strip() for line in stripped.splitlines()[:40] if line.strip()]
    if sum(1 for line in lines[:10] if CHAT_LINE.match(line)) >= 2:
        return False
    sample = lines[:6]
    if len(sample) >= 3:
        for delimiter in (b",", b";", b"\t", b"|"):
            counts = {line.count(delimiter) for line in sample}
            if len(counts) == 1 and counts != {0}:
                return False
    return True


def _declared_charset(head: bytes) -> str | None:
    match = re.search(rb"""<meta[^>]+charset=["']?([\w-]+)""", head, re.IGNORECASE)
    if match is None:
        return None
    name = match.group(1).decode("ascii").lower()
    return "utf-8" if name in {"utf8", "utf-8"} else name


def _html_article(markup: str) -> dict[str, Any]:
    """Main text by trafilatura (no fetching: it gets a tree), metadata from the page's own tags."""
    markup = re.sub(r"^\s*<\?xml[^>]*>", "", markup)  # lxml refuses str with an encoding declaration
    try:
        tree = lxml.html.document_fromstring(markup)
    except (lxml.etree.ParserError, ValueError):
        return {}
    meta = _html_meta(tree)
    language = tree.get("lang") or meta.get("og:locale")
    fallback = html_to_text(lxml.html.tostring(_main_element(tree), encoding="unicode"))
    doc = trafilatura.bare_extraction(
        tree, favor_precision=True, include_comments=False, include_tables=True, with_metadata=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )  # fmt: skip
    title = getattr(doc, "title", None) or meta.get("og:title") or meta.get("title")
    text = tidy_lines(getattr(doc, "text", None) or "") or fallback
    if title and text.split("\n", 1)[0] == title:
        text = text.split("\n", 1)[1] if "\n" in text else text
    categories = [meta[k] for k in ("article:section",) if meta.get(k)] + meta.get("article:tag", [])
    return {
        "text": text,
        "title": title,
        "url": _absolute(meta.get("og:url"))
        or _absolute(meta.get("canonical"))
        or _absolute(getattr(doc, "url", None)),
        "outlet": meta.get("og:site_name") or getattr(doc, "sitename", None),
        "author": meta.get("author") or getattr(doc, "author", None),
        "date": next((meta[k] for k in META_DATE_KEYS if meta.get(k)), None)
        or meta.get("time")
        or getattr(doc, "date", None),
        "modified": meta.get("article:modified_time"),
        "language": language,
        "categories": categories or list(getattr(doc, "categories", None) or []),
    }


def _html_meta(tree: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"article:tag": []}
    for element in tree.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        value = (element.get("content") or "").strip()
        if not key or not value:
            continue
        if key == "article:tag":
            meta["article:tag"].append(value)
        else:
            meta.setdefault(key, value)
    for link in tree.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
            meta.setdefault("canonical", link.get("href"))
    title = tree.find(".//title")
    if title is not None and title.text_content().strip():
        meta["title"] = " ".join(title.text_content().split())
    stamp = tree.xpath("(//article//time[@datetime] | //time[@datetime])[1]/@datetime")
    if stamp:
        meta["time"] = str(stamp[0])
    return meta


def _main_element(tree: Any) -> Any:
    for path in ("//article", "//main", "//body"):
        found = tree.xpath(path)
        if found:
            return found[0]
    return tree


def _text_article(text: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """First non-empty line is the title; "Date: ...", "Дата: ...", "URL: ..." lines below it are read."""
    lines = [line.rstrip() for line in text.splitlines()]
    body_start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if body_start == len(lines):
        return {}
    title = lines[body_start].strip()
    title = title.lstrip("#").strip()  # a Markdown heading
    article: dict[str, Any] = {"title": title}
    index = body_start + 1
    while index < len(lines):
        line = lines[index]
        match = HEADER_LINE.match(line)
        field = _header_field(match["key"]) if match else None
        if line.strip() and field is None:
            break
        if field is not None and match is not None:
            article.setdefault(field, match["value"].strip("*_ "))
        index += 1
    article["text"] = "\n".join(line.strip() for line in lines[index:] if line.strip())
    return article


def _header_field(key: str) -> str | None:
    folded = key.strip().lower()
    return next((field for field, names in HEADER_KEYS.items() if folded in names), None)


def _article_date(
    article: Mapping[str, Any], options: Options, tz: tzinfo, where: Mapping[str, str]
) -> tuple[datetime, dict[str, Any]]:
    extra: dict[str, Any] = {}
    value, origin = article.get("date"), "article"
    if not value and options.get("published"):
        value, origin = options["published"], "option"
        extra["date_from"] = "option"
    if not value:
        raise RecordError(
            "no_timestamp",
            "the article has no publication date (file times are not publication dates); "
            "pass --option published=YYYY-MM-DDTHH:MM+05:00",
            **where,
        )
    try:
        sent_at, had_offset = parse_news_date(str(value), tz)
    except (ValueError, OverflowError) as exc:
        raise RecordError("bad_timestamp", f"cannot read the {origin} date {str(value)[:60]!r}", **where) from exc
    if not had_offset:
        extra["offset_assumed"] = True
    return sent_at, extra


def _optional_date(value: Any, tz: tzinfo) -> datetime | None:
    if not value:
        return None
    try:
        return parse_news_date(str(value), tz)[0].astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# -- shared helpers -------------------------------------------------------------------------------------


def _load_object(data: bytes, where: Mapping[str, str]) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError("bad_json", f"the stored feed entry is not valid JSON: {exc}", **where) from exc
    if not isinstance(value, dict):
        raise RecordError("bad_json", "the stored feed entry is not a JSON object", **where)
    return value


def _host(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    host = (urlparse(url).hostname or "").lower()
    return host.removeprefix("www.") or None


def _absolute(url: Any) -> str | None:
    if isinstance(url, str) and urlparse(url.strip()).scheme in {"http", "https"}:
        return url.strip()
    return None


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


__all__: Sequence[str] = ("ArticleSource", "RssSource", "html_to_text", "parse_news_date")
