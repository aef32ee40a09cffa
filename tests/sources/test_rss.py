"""Behaviour of the feed reader and of the date and HTML helpers news sources share."""

from __future__ import annotations

import contextlib
import io
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashpoint.errors import RecordError
from flashpoint.model import Message, MessageKind, RawRecord
from flashpoint.sources import detect_format
from flashpoint.sources.base import SplitError
from flashpoint.sources.newstext import html_to_text, parse_news_date
from flashpoint.sources.rss import RssSource

SOURCE = RssSource()
DATA = Path(__file__).parent.parent / "data" / "rss"
RU_MONTHS = ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"]
RU_GENITIVE = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]
EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a news reader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def read(data: bytes, options: dict[str, Any] | None = None) -> list[Message | str]:
    found: list[Message | str] = []
    for item in SOURCE.records(Path("feed.xml"), io.BytesIO(data), options or {}):
        if isinstance(item, SplitError):
            found.append(f"split:{item.code}")
            continue
        try:
            found.extend(m for m in SOURCE.parse(item, options or {}) if isinstance(m, Message))
        except RecordError as exc:
            found.append(exc.code)
    return found


def rss(*items: str, channel: str = "<title>Test outlet</title><link>https://www.outlet.example/</link>") -> bytes:
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{channel}{"".join(items)}</channel></rss>'.encode()


def item(date: str | None = "Tue, 05 Mar 2024 21:40:00 +0500", **fields: str) -> str:
    body = "".join(
        f"<{k}>{v}</{k}>" for k, v in {"title": "Заголовок", "link": "https://outlet.example/1", **fields}.items()
    )
    return f"<item>{body}{f'<pubDate>{date}</pubDate>' if date else ''}</item>"


def messages(data: bytes, options: dict[str, Any] | None = None) -> list[Message]:
    return [m for m in read(data, options) if isinstance(m, Message)]


# -- dates ------------------------------------------------------------------------------------------------

offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 1, 1)).map(
    lambda d: d.replace(microsecond=0)
)


def zone_text(moment: datetime, colon: bool) -> str:
    offset = moment.utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"{sign}{minutes // 60:02d}{':' if colon else ''}{minutes % 60:02d}"


@given(moment=moments, tz=offsets, style=st.sampled_from(["iso", "rfc822", "rfc822-ru", "dotted", "genitive"]))
def test_dates_outlets_write_keep_their_instant_and_offset(moment: datetime, tz: timezone, style: str) -> None:
    moment = moment.replace(tzinfo=tz)
    clock = f"{moment:%H:%M:%S}"
    text = {
        "iso": moment.isoformat(),
        "rfc822": f"{moment:%a}, {moment.day:02d} {EN_MONTHS[moment.month - 1]} {moment.year} {clock} "
        f"{zone_text(moment, colon=False)}",
        "rfc822-ru": f"Ср, {moment.day:02d} {RU_MONTHS[moment.month - 1]} {moment.year} {clock} "
        f"{zone_text(moment, colon=False)}",
        "dotted": f"{moment:%d.%m.%Y} {clock} {zone_text(moment, colon=True)}",
        "genitive": f"{moment.day} {RU_GENITIVE[moment.month - 1]} {moment.year}, {clock} {zone_text(moment, True)}",
    }[style]
    parsed, had_offset = parse_news_date(text)
    assert had_offset
    assert parsed == moment
    assert parsed.utcoffset() == moment.utcoffset()


@given(moment=moments)
def test_dates_without_an_offset_take_the_given_zone(moment: datetime) -> None:
    almaty = timezone(timedelta(hours=5))
    parsed, had_offset = parse_news_date(f"{moment:%d.%m.%Y %H:%M}", almaty)
    assert not had_offset
    assert parsed == moment.replace(second=0, tzinfo=almaty)


@pytest.mark.parametrize("text", ["вчера", "", "32.13.2024 10:00", "5 brumaire 2024"])
def test_unreadable_dates_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_news_date(text)


def test_kazakh_month_names_are_read() -> None:
    assert parse_news_date("6 наурыз 2024 14:20 +05:00")[0] == datetime(2024, 3, 6, 9, 20, tzinfo=UTC)


# -- HTML to text -----------------------------------------------------------------------------------------


def test_html_becomes_lines_of_plain_text_without_scripts() -> None:
    markup = "<p>Задержаны <b>11</b>&nbsp;человек.</p><script>alert(1)</script><ul><li>один</li><li>два</li></ul>x<br>y"
    assert html_to_text(markup) == "Задержаны 11 человек.\nодин\nдва\nx\ny"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=200))
def test_html_to_text_never_fails_and_never_leaves_tags(text: str) -> None:
    out = html_to_text(f"<div><p>{text}</p></div>")
    assert "<p>" not in out and "</div>" not in out


# -- feeds ------------------------------------------------------------------------------------------------


def test_entries_are_news_with_title_url_and_the_offset_the_outlet_wrote() -> None:
    first = messages(rss(item(description="&lt;p&gt;Текст&lt;/p&gt;")))[0]
    assert first.kind is MessageKind.NEWS
    assert (first.title, first.url, first.text) == ("Заголовок", "https://outlet.example/1", "Текст")
    assert first.utc_offset_minutes == 300
    assert first.sent_at == datetime(2024, 3, 5, 16, 40, tzinfo=UTC)
    assert first.channel == "rss:outlet.example"
    assert first.extra["outlet"] == "Test outlet"


def test_an_entry_without_a_date_is_an_error_unless_the_feed_date_is_asked_for() -> None:
    build_date = "<lastBuildDate>Fri, 08 Mar 2024 10:00:00 +0500</lastBuildDate>"
    feed = rss(item(date=None), channel=f"<title>T</title>{build_date}")
    assert read(feed) == ["no_timestamp"]
    dated = messages(feed, {"undated": "feed_date"})[0]
    assert dated.sent_at == datetime(2024, 3, 8, 5, 0, tzinfo=UTC)
    assert dated.extra["date_from"] == "feed"
    assert dated.channel == "rss:T", "without a link the channel is the feed title"


def test_an_unknown_undated_option_is_a_record_error() -> None:
    assert read(rss(item()), {"undated": "now"}) == ["bad_option"]


def test_a_date_without_offset_takes_the_timezone_option_and_is_marked() -> None:
    found = messages(rss(item(date="2024-03-05T21:40:00")), {"timezone": "Asia/Aqtobe"})[0]
    assert found.utc_offset_minutes == 300 and found.extra["offset_assumed"] is True


def test_the_rss_author_email_is_dropped_for_the_byline_name() -> None:
    found = messages(rss(item(author="desk@outlet.example (Асель Примерова)")))[0]
    assert found.author_raw == "Асель Примерова" and found.author is None


def test_guid_is_the_native_id_and_the_link_stands_in_without_one() -> None:
    with_guid, without = messages(rss(item(guid="kh-114"), item(link="https://outlet.example/2")))
    assert with_guid.native_id == "kh-114"
    assert without.native_id == "https://outlet.example/2"


def test_updated_atom_entries_keep_both_dates() -> None:
    atom = (DATA / "steppe_wire_en.atom").read_bytes()
    first = messages(atom)[0]
    assert first.utc_offset_minutes == 360
    assert first.edited_at == datetime(2024, 3, 6, 13, 10, tzinfo=UTC)
    assert first.extra["categories"] == ["Kazakhstan", "Security"]


def test_enclosures_become_attachments() -> None:
    enclosure = '<enclosure url="https://outlet.example/img/masanchi.jpg" length="48213" type="image/jpeg"/>'
    found = messages(rss(item().replace("</item>", enclosure + "</item>")))[0]
    assert [(a.kind, a.file_name, a.size, a.mime_type) for a in found.attachments] == [
        ("photo", "masanchi.jpg", 48213, "image/jpeg")
    ]


def test_a_file_that_is_not_a_feed_is_one_split_error_and_a_cut_feed_keeps_its_entries() -> None:
    assert read(b"\x00\x01 not xml at all <<<") == ["split:bad_feed"]
    assert read(b"<rss><channel><item><title>cut short") == ["no_timestamp"]


def test_entries_reparse_alone_from_their_json_and_context() -> None:
    record = next(iter(SOURCE.records(Path("f.xml"), io.BytesIO(rss(item())), {})))
    assert isinstance(record, RawRecord)
    alone = RawRecord("elsewhere.xml", 0, record.locator, bytes(record.data), dict(record.context))
    assert SOURCE.parse(alone, {}) == SOURCE.parse(record, {})


def feeds() -> Iterator[Path]:
    return (p for p in sorted(DATA.iterdir()) if p.suffix in {".xml", ".atom", ".rdf"})


def test_reading_every_feed_uses_no_network(no_network: None) -> None:
    for path in feeds():
        with path.open("rb") as stream:
            for record in SOURCE.records(path, stream, {}):
                assert isinstance(record, RawRecord)
                with contextlib.suppress(RecordError):  # the undated sample entry
                    SOURCE.parse(record, {})
    assert read(b"https://example.com/feed.xml") == ["split:bad_feed"], "a URL is bytes, never fetched"


@pytest.mark.parametrize(
    ("head", "score"),
    [
        (b'<?xml version="1.0"?>\n<rss version="2.0"><channel>', 0.95),
        (b'<?xml version="1.0"?><!-- c --><feed xmlns="http://www.w3.org/2005/Atom">', 0.95),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">', 0.95),
        (b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description/>", 0.0),
        (b"<feed><entry/></feed>", 0.0),
        (b'<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head>', 0.0),
        (b'{"response": {"items": []}}', 0.0),
    ],
)
def test_sniff_claims_only_feeds(head: bytes, score: float) -> None:
    assert SOURCE.sniff(Path("x.xml"), head) == score


@pytest.mark.parametrize("path", list(feeds()), ids=lambda p: p.name)
def test_feed_samples_are_detected(path: Path) -> None:
    assert detect_format(path).format == "rss"
