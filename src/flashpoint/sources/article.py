"""Single saved news articles for the incident register: HTML pages and plain-text notes.

Monitors compare what chats say with what outlets report (arrests, injuries, official denials),
so a saved article is kept as one message of kind ``news`` with a title, a URL and its plain text.
Nothing here touches the network: trafilatura gets a parsed lxml tree (so neither it nor htmldate
can mistake a string for a URL to fetch). A saved article is one record holding the file's bytes.

Dates keep the offset the outlet wrote; a date without one takes the ``timezone`` option and is
marked ``offset_assumed``. An article without any date is a record error, unless the
``published=...`` option says what to use.

Example:
    >>> ArticleSource().sniff(Path("page.html"), b"<!DOCTYPE html><html lang='ru'><body>")
    0.9
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, BinaryIO, ClassVar
from urllib.parse import urlparse

import lxml.etree
import lxml.html
import trafilatura

from flashpoint.errors import RecordError
from flashpoint.model import Message, MessageKind, RawRecord, SourceKind
from flashpoint.sources.base import (
    HEAD_BYTES,
    Options,
    Parsed,
    SplitError,
    decode_text,
    detect_encoding,
    person,
    timezone_option,
)
from flashpoint.sources.newstext import (
    html_to_text,
    parse_news_date,
    skip_prolog,
    tidy_lines,
    url_host,
    whole_file_error,
)

MAX_ARTICLE_BYTES = 16 << 20  # the runner's default ingest.max_record_bytes

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
            yield whole_file_error(path, "too_large", message, data)
            return
        markup = (
            "html" if path.suffix.lower() in HTML_SUFFIXES or skip_prolog(data[:HEAD_BYTES])[:1] == b"<" else "text"
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
        channel = outlet or url_host(url) or raw.context.get("folder") or "local"
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


# -- helpers --------------------------------------------------------------------------------------------


def _absolute(url: Any) -> str | None:
    if isinstance(url, str) and urlparse(url.strip()).scheme in {"http", "https"}:
        return url.strip()
    return None


__all__: Sequence[str] = ("MAX_ARTICLE_BYTES", "ArticleSource")
