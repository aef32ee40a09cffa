"""Behaviour of the saved-article reader: boilerplate left out, metadata read, dates never guessed."""

from __future__ import annotations

import io
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flashpoint.errors import RecordError
from flashpoint.model import Message, MessageKind, RawRecord
from flashpoint.sources import detect_format
from flashpoint.sources.article import ArticleSource
from flashpoint.sources.base import SplitError

SOURCE = ArticleSource()
DATA = Path(__file__).parent.parent / "data" / "article"
HTML = DATA / "masanchi_arrests.html"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the article reader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def read_file(path: Path, options: dict[str, Any] | None = None) -> Message:
    with path.open("rb") as stream:
        (record,) = list(SOURCE.records(path, stream, options or {}))
    assert isinstance(record, RawRecord)
    (message,) = SOURCE.parse(record, options or {})
    assert isinstance(message, Message)
    return message


def parse_bytes(name: str, data: bytes, options: dict[str, Any] | None = None) -> Message:
    path = Path("folder") / name
    (record,) = list(SOURCE.records(path, io.BytesIO(data), options or {}))
    assert isinstance(record, RawRecord)
    (message,) = SOURCE.parse(record, options or {})
    assert isinstance(message, Message)
    return message


def error_code(name: str, data: bytes, options: dict[str, Any] | None = None) -> str:
    with pytest.raises(RecordError) as caught:
        parse_bytes(name, data, options)
    return caught.value.code


def test_boilerplate_stays_out_of_the_article_text(no_network: None) -> None:
    text = read_file(HTML).text
    for boilerplate in (
        "РЕКЛАМА",
        "Популярное",
        "Все права защищены",
        "cookie",
        "Политика",
        "Поделиться",
        "Комментарии",
        "Наконец-то",
        "Главная",
        "Кредит наличными",
        "Просмотров",
        "+4°C",
    ):
        assert boilerplate not in text, boilerplate
    assert text.startswith("Полиция Кордайского района сообщила о задержании 11 человек")
    assert "Четыре человека получили травмы" in text
    assert text.endswith("Следствие продолжается.")
    assert len(text.split("\n")) == 5, "one line per paragraph"


def test_html_metadata_gives_title_url_outlet_and_the_dated_offset() -> None:
    message = read_file(HTML)
    assert message.kind is MessageKind.NEWS
    assert message.title == "В Масанчи задержаны 11 человек после драки у арыка"
    assert message.url == "https://korday-habar.example/news/2024/03/06/masanchi-zaderzhany-11"
    assert message.native_id == message.url
    assert message.channel == "article:Кордай Хабар"
    assert message.sent_at == datetime(2024, 3, 6, 9, 20, tzinfo=UTC)
    assert message.utc_offset_minutes == 300
    assert message.edited_at == datetime(2024, 3, 6, 13, 5, tzinfo=UTC)
    assert message.extra["language"] == "ru"
    assert "offset_assumed" not in message.extra


def test_html_without_metadata_is_channelled_by_host_then_folder() -> None:
    page = (
        b"<html><head><link rel='canonical' href='https://www.outlet.example/a/1'></head><body><article>"
        b"<h1>Title</h1><p>" + "Жители Бұлар батыра обсуждали воду на сходе. ".encode() * 8 + b"</p>"
        b"<time datetime='2024-03-06T10:00:00+06:00'>6 March</time></article></body></html>"
    )
    message = parse_bytes("a.html", page)
    assert message.channel == "article:outlet.example"
    assert message.utc_offset_minutes == 360
    no_url = page.replace(b"https://www.outlet.example/a/1", b"/a/1")
    message = parse_bytes("a.html", no_url)
    assert message.channel == "article:folder" and message.native_id is None and message.url is None


def test_a_page_that_is_only_a_url_is_read_as_text_never_fetched(no_network: None) -> None:
    url = b"https://korday-habar.example/news/1"
    message = parse_bytes("page.html", url, {"published": "2024-03-06T10:00:00+05:00"})
    assert message.text == url.decode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Дата: 08.03.2024 19:10 +05:00", datetime(2024, 3, 8, 14, 10, tzinfo=UTC)),
        ("Date: 2024-03-08T19:10:00+06:00", datetime(2024, 3, 8, 13, 10, tzinfo=UTC)),
        ("Published: Fri, 08 Mar 2024 19:10:00 +0500", datetime(2024, 3, 8, 14, 10, tzinfo=UTC)),
        ("**Дата:** 8 марта 2024, 19:10 +05:00", datetime(2024, 3, 8, 14, 10, tzinfo=UTC)),
        ("Күні: 8 наурыз 2024 19:10 +05:00", datetime(2024, 3, 8, 14, 10, tzinfo=UTC)),
    ],
)
def test_text_articles_take_their_date_from_a_header_line(line: str, expected: datetime) -> None:
    text = f"Сход в Сортобе\n\n{line}\n\nТекст статьи про сход.\nВторой абзац.\n"
    message = parse_bytes("a.txt", text.encode())
    assert message.sent_at == expected
    assert message.title == "Сход в Сортобе"
    assert message.text == "Текст статьи про сход.\nВторой абзац."


def test_a_date_line_without_offset_takes_the_timezone_option() -> None:
    message = parse_bytes("a.txt", "Заголовок\nДата: 08.03.2024 19:10\n\nТекст.".encode(), {"timezone": "Asia/Aqtobe"})
    assert message.utc_offset_minutes == 300 and message.extra["offset_assumed"] is True


def test_markdown_headings_lose_their_hashes() -> None:
    message = parse_bytes("a.md", b"# Aukhatty market\n\nPublished: 2024-03-09T11:30:00+06:00\n\nBody.")
    assert message.title == "Aukhatty market"


def test_file_times_are_never_taken_for_the_publication_date(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("Объявление\n\nПриём граждан переносится.\n", encoding="utf-8")
    os.utime(path, (1709900000, 1709900000))
    with path.open("rb") as stream:
        (record,) = list(SOURCE.records(path, stream, {}))
    assert isinstance(record, RawRecord)
    with pytest.raises(RecordError) as caught:
        SOURCE.parse(record, {})
    assert caught.value.code == "no_timestamp"
    (message,) = SOURCE.parse(record, {"published": "2024-03-11T09:00:00+05:00"})
    assert isinstance(message, Message) and message.extra["date_from"] == "option"


def test_a_date_in_the_article_wins_over_the_published_option() -> None:
    text = "Заголовок\nДата: 08.03.2024 19:10 +05:00\n\nТекст.".encode()
    message = parse_bytes("a.txt", text, {"published": "2030-01-01T00:00:00+00:00"})
    assert message.sent_at == datetime(2024, 3, 8, 14, 10, tzinfo=UTC)


def test_an_unreadable_date_and_an_empty_article_are_record_errors() -> None:
    assert error_code("a.txt", "Заголовок\nДата: вчера вечером\n\nТекст.".encode()) == "bad_timestamp"
    assert error_code("a.txt", "Только заголовок\nДата: 08.03.2024 19:10\n".encode()) == "empty_text"


def test_cp1251_text_is_decoded() -> None:
    text = "Сход в Масанчи\nДата: 08.03.2024 19:10 +05:00\n\nЖители Масанчи и Сортобе договорились о воде."
    message = parse_bytes("a.txt", text.encode("cp1251"))
    assert message.text == "Жители Масанчи и Сортобе договорились о воде."


def test_files_over_the_size_cap_are_a_split_error() -> None:
    from flashpoint.sources import article, newstext

    big = b"a" * (article.MAX_ARTICLE_BYTES + 1)
    (item,) = list(SOURCE.records(Path("huge.txt"), io.BytesIO(big), {}))
    assert isinstance(item, SplitError) and item.code == "too_large"
    assert len(item.data) <= newstext.MAX_SPLIT_BYTES


@pytest.mark.parametrize(
    ("name", "head", "score"),
    [
        ("page.html", b"<!DOCTYPE html><html lang='ru'><body>", 0.9),
        ("page.htm", b"<div><article><p>x</p></article></div>", 0.9),
        ("note.txt", "Заголовок статьи\n\nДата: 08.03.2024\n\nТекст, с запятыми, разными.\n".encode(), 0.55),
        ("chat.txt", b"12.03.2024, 14:30 - A: hi\n12.03.2024, 14:31 - B: hello\n", 0.0),
        ("chat.txt", b"[12.03.24, 14:30:00] A: hi\n[12.03.24, 14:31:02] B: hello\n", 0.0),
        ("table.txt", b"id;date;text\n1;2024-03-08;a\n2;2024-03-08;b\n", 0.0),
        ("dump.txt", b'{"id": 1}\n{"id": 2}\n', 0.0),
        ("feed.xml", b"<rss version='2.0'>", 0.0),
    ],
)
def test_sniff_is_modest_for_text_and_leaves_chats_tables_and_json_to_others(
    name: str, head: bytes, score: float
) -> None:
    assert SOURCE.sniff(Path(name), head) == score


@pytest.mark.parametrize("name", ["masanchi_arrests.html", "sortobe_meeting.txt", "aukhatty_road_en.txt"])
def test_article_samples_are_detected(name: str) -> None:
    assert detect_format(DATA / name).format == "article"
