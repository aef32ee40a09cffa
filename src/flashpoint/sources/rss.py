"""News feeds for the incident register: RSS, RDF and Atom.

Monitors compare what chats say with what outlets report (arrests, injuries, official denials),
so news items are kept as messages of kind ``news`` with a title, a URL and the article's plain
text. Nothing here touches the network: feedparser reads bytes from memory.

A feed is small: it is read whole (up to 32 MiB), parsed with feedparser, and each entry becomes
one raw record holding its fields as canonical JSON, with the feed's title, link, language and
date in the context.

Dates keep the offset the outlet wrote; a date without one takes the ``timezone`` option and is
marked ``offset_assumed``. An entry without any date is a record error, unless the
``undated=feed_date`` option says to date it by the feed.

Example:
    >>> RssSource().sniff(Path("feed.xml"), b"<?xml version='1.0'?><rss version='2.0'><channel>")
    0.95
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, BinaryIO, ClassVar
from urllib.parse import urlparse

import feedparser
import orjson

from flashpoint.errors import RecordError
from flashpoint.model import Attachment, Message, MessageKind, RawRecord, SourceKind
from flashpoint.sources.base import Options, Parsed, SplitError, as_int, person, timezone_option
from flashpoint.sources.newstext import (
    html_to_text,
    parse_news_date,
    skip_prolog,
    tidy_lines,
    url_host,
    whole_file_error,
)

MAX_FEED_BYTES = 32 << 20

# -- RSS, RDF and Atom feeds ----------------------------------------------------------------------------

ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)([^>]*)>")


class RssSource:
    format: ClassVar[str] = "rss"
    kind: ClassVar[SourceKind] = SourceKind.RSS
    option_names: ClassVar[frozenset[str]] = frozenset({"timezone", "undated"})

    def sniff(self, path: Path, head: bytes) -> float:
        match = ROOT_TAG.search(skip_prolog(head))
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
            yield whole_file_error(path, "too_large", message, data)
            return
        feed = feedparser.parse(io.BytesIO(data))
        if not feed.entries:
            if feed.get("bozo"):
                reason = f"cannot read the feed: {feed.get('bozo_exception')}"
                yield whole_file_error(path, "bad_feed", reason, data)
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
    host = url_host(context.get("feed_link"))
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


# -- helpers --------------------------------------------------------------------------------------------


def _load_object(data: bytes, where: Mapping[str, str]) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError("bad_json", f"the stored feed entry is not valid JSON: {exc}", **where) from exc
    if not isinstance(value, dict):
        raise RecordError("bad_json", "the stored feed entry is not a JSON object", **where)
    return value


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


__all__: Sequence[str] = ("RssSource",)
