"""Behaviour of the CSV reader: delimiters, encodings, exact row bytes, bad rows, sizes, and the date
styles of listening tools (shared with JSON Lines through flashpoint.sources.mapped)."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashpoint.errors import ConfigError, FormatError, RecordError
from flashpoint.model import Message, RawRecord
from flashpoint.sources import csv as csv_module
from flashpoint.sources.base import SplitError
from flashpoint.sources.csv import CsvSource, sniff_delimiter
from flashpoint.sources.datetimes import read_timestamp
from flashpoint.sources.mapped import COMMON_OPTIONS
from tests.sources.outcomes import outcomes

SOURCE = CsvSource()
PATH = Path("brand-monitoring.csv")
DELIMITERS = [",", ";", "\t", "|"]
RU_MAP = {"text": "Текст", "timestamp": "Дата", "author": "Автор", "channel": "Источник"}


def split(data: bytes, options: Mapping[str, Any] | None = None, path: Path = PATH) -> list[RawRecord | SplitError]:
    return list(SOURCE.records(path, io.BytesIO(data), options or {}))


def read(data: bytes, options: Mapping[str, Any] | None = None) -> list[Message | str]:
    return outcomes(SOURCE, PATH, data, options)


def table(rows: list[list[str]], delimiter: str = ",", lineterminator: str = "\r\n") -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerows(rows)
    return buffer.getvalue()


def first_context(data: bytes, options: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    first = split(data, options)[0]
    assert isinstance(first, RawRecord)
    return first.context


def texts(outcomes: list[Message | str]) -> list[str]:
    return [o if isinstance(o, str) else o.text for o in outcomes]


# --- delimiters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", DELIMITERS, ids=["comma", "semicolon", "tab", "pipe"])
def test_the_delimiter_is_sniffed_even_when_the_text_holds_other_delimiters(delimiter: str) -> None:
    rows = [
        ["id", "date", "author", "text"],
        ["1", "2020-02-07T22:15:00+06:00", "u1", "Масанчи; вечер, всё | спокойно\tпока"],
        ["2", "2020-02-07T22:20:00+06:00", "u2", "Многострочный,\nтекст; с | разделителями"],
        ["3", "2020-02-07T22:25:00+06:00", "u3", "просто текст"],
    ]
    data = table(rows, delimiter).encode()
    [first, second, third] = read(data)
    assert isinstance(first, Message) and first.text == rows[1][3]
    assert isinstance(second, Message) and second.text == rows[2][3]
    assert isinstance(third, Message) and third.author_raw == "u3"
    assert first_context(data)["delimiter"] == delimiter


@pytest.mark.parametrize("delimiter", DELIMITERS)
def test_sniff_delimiter_reads_quoted_rows_as_rows(delimiter: str) -> None:
    sample = table([["a", "b", "c"], ["1", "x,y;z|w\tv\nnext", "3"], ["4", "5", "6"]], delimiter)
    assert sniff_delimiter(sample) == delimiter


@pytest.mark.parametrize(("value", "delimiter"), [("tab", "\t"), ("\\t", "\t"), (";", ";"), ("pipe", "|")])
def test_the_delimiter_option_wins_and_understands_names(value: str, delimiter: str) -> None:
    data = table([["id", "date", "text"], ["1", "2020-02-07", "a,b"]], delimiter).encode()
    assert first_context(data, {"delimiter": value})["delimiter"] == delimiter


@pytest.mark.parametrize("value", ["", ";;", '"', "\n"])
def test_a_bad_delimiter_option_is_a_config_error_or_ignored_when_empty(value: Any) -> None:
    data = b"id,date,text\n1,2020-02-07,hi\n"
    if value == "":
        assert first_context(data, {"delimiter": value})["delimiter"] == ","
        return
    with pytest.raises(ConfigError):
        split(data, {"delimiter": value})


def test_an_excel_sep_line_sets_the_delimiter_and_is_not_a_record() -> None:
    data = b"sep=;\r\nid;date;text\r\n1;2020-02-07T22:15:00Z;a,b\r\n"
    [record] = split(data)
    assert isinstance(record, RawRecord)
    assert record.locator == "line 3"
    assert record.context["delimiter"] == ";"
    assert texts(read(data)) == ["a,b"]


# --- encodings -----------------------------------------------------------------------------------

CP1251_ROWS = [
    ["Дата", "Автор", "Источник", "Текст"],
    ["07.02.2020 22:15", "id100000301", "vk.com/masanchi_online", "Ёлки, опять «горячие новости» без источника"],
    [
        "07.02.2020 22:40",
        "id100000302",
        "vk.com/masanchi_online",
        "Просим сохранять спокойствие;\nне пересылайте слухи",
    ],
]


def test_a_whole_cp1251_file_is_detected_and_read() -> None:
    data = table(CP1251_ROWS, ";").encode("cp1251")
    records = split(data, {"map": RU_MAP})
    assert all(isinstance(r, RawRecord) and r.context["encoding"] == "cp1251" for r in records)
    first, second = read(data, {"map": RU_MAP, "timezone": "Asia/Almaty"})
    assert isinstance(first, Message) and isinstance(second, Message)
    assert first.text == CP1251_ROWS[1][3]
    assert second.text == CP1251_ROWS[2][3]
    assert first.author_raw == "id100000301" and first.channel == "vk.com/masanchi_online"
    assert first.sent_at == datetime(2020, 2, 7, 16, 15, tzinfo=UTC)
    assert first.extra == {"offset_assumed": True}


def test_russian_headers_are_found_without_a_mapping() -> None:
    data = table([["Дата", "Автор", "Текст"], ["07.02.2020 22:15", "id1", "Масанчи"]], ";").encode("cp1251")
    [message] = read(data)
    assert isinstance(message, Message) and (message.text, message.author_raw) == ("Масанчи", "id1")


def test_the_encoding_option_reads_what_the_guess_would_not() -> None:
    data = table([["date", "text"], ["2020-02-07T22:15:00Z", "Кордай"]]).encode("koi8-r")
    assert texts(read(data, {"encoding": "koi8-r"})) == ["Кордай"]


def test_an_unknown_encoding_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        split(b"date,text\n2020-02-07,x\n", {"encoding": "klingon"})


def test_a_corrupt_line_in_a_utf8_file_is_rejected_alone() -> None:
    data = (
        "date,text\n2020-02-07T22:15:00Z,Масанчи\n".encode()
        + b"2020-02-07T22:16:00Z,\xcd\xe5\xe2\xe5\xf0\xed\xee\n"
        + "2020-02-07T22:17:00Z,Сортобе\n".encode()
    )
    assert texts(read(data)) == ["Масанчи", "bad_encoding", "Сортобе"]


def test_a_utf8_bom_is_dropped_before_a_quoted_header() -> None:
    data = b'\xef\xbb\xbf"id","date","text"\r\n"1","2020-02-07T22:15:00Z","hi"\r\n'
    [record] = split(data)
    assert isinstance(record, RawRecord) and record.context["header"] == ["id", "date", "text"]


def test_a_utf16_file_is_refused_with_a_reason() -> None:
    with pytest.raises(FormatError) as caught:
        split("date\ttext\n2020-02-07\tx\n".encode("utf-16"))
    assert "UTF-8" in caught.value.message


# --- raw bytes and locators ----------------------------------------------------------------------


def test_the_raw_record_of_a_multi_line_row_is_the_exact_file_bytes() -> None:
    row = '7,2020-02-07T22:15:00+06:00,"Объявление:\r\nзавтра нет газа.\r\n""Сортобе"", с 9 до 14"'
    data = (
        "\ufeffid,date,text\r\n" + "1,2020-02-07T22:00:00+06:00,до\r\n" + row + "\r\n" + "8,2020-02-07,после\r\n"
    ).encode()
    records = split(data)
    second = records[1]
    assert isinstance(second, RawRecord)
    assert second.data == row.encode()
    assert second.data in data
    assert second.locator == "lines 3-5"
    assert records[2].locator == "line 6"
    [message] = SOURCE.parse(second, {})
    assert isinstance(message, Message)
    assert message.text == 'Объявление:\r\nзавтра нет газа.\r\n"Сортобе", с 9 до 14'


def test_blank_rows_are_not_records_and_keep_line_numbers_right() -> None:
    data = b"id,date,text\n\n1,2020-02-07,a\n,,\n\n2,2020-02-07,b\n"
    records = split(data)
    assert [r.locator for r in records] == ["line 3", "line 6"]
    assert [r.ordinal for r in records] == [0, 1]


# --- bad rows ------------------------------------------------------------------------------------


def test_each_bad_row_costs_only_itself() -> None:
    data = (
        "id,date,author,text\n"
        "1,2020-02-07T20:00:00+06:00,u1,Обычное сообщение\n"
        "2,2020-02-07T20:05:00+06:00,u2,Текст с запятой, без кавычек\n"
        "3,вчера вечером,u3,Дата словами\n"
        "4,31.02.2020 10:00,u4,Нет такого дня\n"
        "5,,u5,Нет даты\n"
        "6,2020-02-07T20:10:00+06:00,u6,\n"
        "7,0001-01-01T00:00:00+06:00,u7,Год первый\n"
        "8,2020-02-07T20:20:00+06:00\n"
        "9,2020-02-07T20:25:00+06:00,u9,Последнее\n"
    ).encode()
    assert texts(read(data)) == [
        "Обычное сообщение",
        "field_count",
        "bad_timestamp",
        "bad_timestamp",
        "no_timestamp",
        "empty_text",
        "bad_timestamp",
        "field_count",
        "Последнее",
    ]


def test_an_unclosed_quote_is_cut_off_at_the_record_limit_and_reading_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_module, "MAX_RECORD_BYTES", 200)
    lines = ["id,date,text", '1,2020-02-07T20:00:00Z,"unclosed quote swallows the lines below']
    lines += [f"{n},2020-02-07T20:00:00Z,filler row number {n} of the swallowed part" for n in range(2, 12)]
    data = ("\n".join(lines) + "\n").encode()
    items = split(data)
    assert isinstance(items[0], SplitError) and items[0].code == "too_large"
    assert items[0].locator.startswith("lines 2-")
    assert all(isinstance(i, RawRecord) for i in items[1:]) and len(items) > 2
    assert [i.ordinal for i in items] == list(range(len(items)))


def test_a_missing_mapped_column_stops_the_file_with_the_header_in_the_message() -> None:
    with pytest.raises(ConfigError) as caught:
        split(b"date,body\n2020-02-07,x\n", {"map": {"text": "message"}})
    assert caught.value.code == "bad_mapping" and "body" in caught.value.message


def test_headers_in_another_case_are_matched() -> None:
    data = b"ID,Date,Author,Text\nk1,2020-02-08 11:00:00,u-901,Kordai\n"
    [message] = read(data)
    assert isinstance(message, Message)
    assert (message.native_id, message.author_raw, message.text) == ("k1", "u-901", "Kordai")
    assert message.sent_at == datetime(2020, 2, 8, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "mapping", [RU_MAP, [f"{k}={v}" for k, v in RU_MAP.items()], ",".join(f"{k}={v}" for k, v in RU_MAP.items())]
)
def test_columns_are_mapped_from_a_table_or_from_flags(mapping: Any) -> None:
    rows = [
        ["Источник", "Автор", "Дата", "Текст", "Дата публикации"],
        ["ok.ru/kordai", "u1", "08.02.2020 09:30", "x", "y"],
    ]
    [message] = read(table(rows).encode(), {"map": mapping})
    assert isinstance(message, Message)
    assert (message.channel, message.author_raw, message.text) == ("ok.ru/kordai", "u1", "x")


# --- sizes ---------------------------------------------------------------------------------------


def test_a_10_mb_message_is_accepted_by_the_source() -> None:
    text = "Кордай, " * (10 * 1024 * 1024 // 14 + 1) + "\nконец"  # 14 bytes a repeat
    data = table([["id", "date", "text"], ["1", "2020-02-07T22:15:00Z", text]]).encode()
    [record] = split(data)
    assert isinstance(record, RawRecord) and len(record.data) > 10 * 1024 * 1024
    [message] = SOURCE.parse(record, {})
    assert isinstance(message, Message) and message.text == text


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(texts_in=st.lists(st.text(), min_size=1, max_size=4), delimiter=st.sampled_from(DELIMITERS))
def test_any_text_written_with_csv_writer_reads_back_the_same(texts_in: list[str], delimiter: str) -> None:
    rows = [["id", "timestamp", "text"]] + [[str(i), "2020-02-07T22:15:00+06:00", t] for i, t in enumerate(texts_in)]
    outcomes = read(table(rows, delimiter).encode())
    kept = [t for t in texts_in if t.strip()]
    assert [o.text for o in outcomes if isinstance(o, Message)] == kept
    assert [o for o in outcomes if isinstance(o, str)] == ["empty_text"] * (len(texts_in) - len(kept))


@settings(max_examples=200)
@given(data=st.binary(max_size=400))
def test_any_bytes_split_and_parse_without_an_unexpected_exception(data: bytes) -> None:
    try:
        items = split(data)
    except FormatError:
        return  # a UTF-16 BOM or an unreadable header: the whole file is refused with a reason
    for item in items:
        if isinstance(item, RawRecord):
            with contextlib.suppress(RecordError):
                SOURCE.parse(item, {})


# --- date styles of listening tools --------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)
ALMATY = ZoneInfo("Asia/Almaty")


@pytest.mark.parametrize(
    ("style", "order"),
    [
        ("%d.%m.%Y %H:%M:%S", "dmy"),
        ("%Y-%m-%d %H:%M:%S", "dmy"),
        ("%d/%m/%Y %H:%M:%S", "dmy"),
        ("%m/%d/%Y %H:%M:%S", "mdy"),
        ("%d-%m-%Y %H:%M:%S", "dmy"),
        ("%Y/%m/%d %H:%M:%S", "dmy"),
        ("%Y%m%d%H%M%S", "dmy"),
    ],
)
@settings(max_examples=60)
@given(moment=moments)
def test_naive_date_styles_read_back_in_the_given_timezone(style: str, order: str, moment: datetime) -> None:
    stamp, had_offset = read_timestamp(moment.strftime(style), ALMATY, order)
    assert not had_offset
    assert stamp.replace(tzinfo=None) == moment and stamp.tzinfo is ALMATY


@settings(max_examples=100)
@given(moment=moments, minutes=st.integers(-12 * 60, 14 * 60))
def test_dates_with_their_own_offset_keep_it(moment: datetime, minutes: int) -> None:
    zone = timezone(timedelta(minutes=minutes))
    aware = moment.replace(tzinfo=zone)
    for text in (aware.strftime("%a, %d %b %Y %H:%M:%S %z"), aware.strftime("%Y-%m-%d %H:%M:%S %z"), aware.isoformat()):
        stamp, had_offset = read_timestamp(text)
        assert had_offset and stamp == aware and stamp.utcoffset() == timedelta(minutes=minutes), text


@settings(max_examples=100)
@given(moment=moments)
def test_twelve_hour_clock_and_minutes_only(moment: datetime) -> None:
    hour = moment.hour % 12 or 12
    text = f"{moment:%m/%d/%Y} {hour}:{moment:%M} {'PM' if moment.hour >= 12 else 'AM'}"
    assert read_timestamp(text, UTC, "mdy")[0] == moment.replace(second=0, tzinfo=UTC)
    assert read_timestamp(f"{moment:%d.%m.%Y %H:%M}")[0] == moment.replace(second=0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1581095700", datetime(2020, 2, 7, 17, 15, tzinfo=UTC)),
        ("1581095700000", datetime(2020, 2, 7, 17, 15, tzinfo=UTC)),
        ("20200207", datetime(2020, 2, 7, tzinfo=UTC)),  # a compact date, not epoch seconds of 1970
        ("07.02.20 22:15", datetime(2020, 2, 7, 22, 15, tzinfo=UTC)),
        ("07.02.2020", datetime(2020, 2, 7, tzinfo=UTC)),
        ("2020-02-07 22:15:00 UTC", datetime(2020, 2, 7, 22, 15, tzinfo=UTC)),
        ("07.02.2020 22:15 GMT+6", datetime(2020, 2, 7, 16, 15, tzinfo=UTC)),
        ("Fri, 07 Feb 2020 22:15:00 -0000", datetime(2020, 2, 7, 22, 15, tzinfo=UTC)),
        ("2020-02-07 22:15:00.250", datetime(2020, 2, 7, 22, 15, 0, 250000, tzinfo=UTC)),
    ],
)
def test_listening_tool_date_examples(text: str, expected: datetime) -> None:
    assert read_timestamp(text)[0] == expected


@pytest.mark.parametrize(
    "text", ["13/25/2020 10:00", "31.02.2020", "07.02.2020 25:00", "0 PM", "вчера", "", "13:00 PM"]
)
def test_impossible_dates_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        read_timestamp(text)


def test_date_order_flips_slashed_dates() -> None:
    data = b"date,text\n02/07/2020 22:15,x\n"
    [dmy] = read(data)
    [mdy] = read(data, {"date_order": "mdy"})
    assert isinstance(dmy, Message) and isinstance(mdy, Message)
    assert (dmy.sent_at.month, dmy.sent_at.day) == (7, 2)
    assert (mdy.sent_at.month, mdy.sent_at.day) == (2, 7)


# --- sniffing and options ------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", DELIMITERS)
def test_a_txt_export_with_known_headers_is_recognised(delimiter: str) -> None:
    rows = [
        ["message_id", "published_at", "username", "text"],
        ["1", "2020-02-07", "u", "x"],
        ["2", "2020-02-07", "v", "y"],
    ]
    head = table(rows, delimiter).encode()
    assert 0.5 <= SOURCE.sniff(Path("export.txt"), head) <= 0.8


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("notes.txt", "Масанчи, 7 февраля 2020.\nВечером у мечети собрались люди.\n".encode()),
        ("chat.txt", b"07/02/2020, 22:15 - A: hello, all\n07/02/2020, 22:16 - B: hi, you\n"),
        ("x.csv", b'{"text": "hi"}\n'),
        ("feed.xml", b"<?xml version='1.0'?><rss/>"),
    ],
)
def test_sniff_refuses_other_files(name: str, head: bytes) -> None:
    assert SOURCE.sniff(Path(name), head) < 0.5


def test_option_names_are_the_options_the_reader_reads() -> None:
    assert CsvSource.option_names == COMMON_OPTIONS | {"delimiter"}
    assert CsvSource.option_names == {"map", "encoding", "timezone", "channel", "date_order", "delimiter"}


def test_an_encoding_option_at_parse_time_wins_over_the_split_guess() -> None:
    """What ``quarantine retry --option encoding=cp1251`` relies on."""
    data = b"id,date,text\n" + "1,2020-02-07T22:15:00Z,Сортобе\n".encode("cp1251")
    [record] = split(data, {"encoding": "utf-8"})
    assert isinstance(record, RawRecord)
    with pytest.raises(RecordError):
        SOURCE.parse(record, {})
    [message] = SOURCE.parse(record, {"encoding": "cp1251"})
    assert isinstance(message, Message) and message.text == "Сортобе"
