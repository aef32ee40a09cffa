"""Behaviour of the JSON Lines reader: mapping, encodings, bad lines one by one, sizes, sniffing."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashpoint.errors import ConfigError, FormatError, RecordError
from flashpoint.model import Message, RawRecord
from flashpoint.sources import jsonl as jsonl_module
from flashpoint.sources.base import SplitError
from flashpoint.sources.jsonl import JsonlSource
from flashpoint.sources.mapped import COMMON_OPTIONS
from tests.sources.outcomes import outcomes

SOURCE = JsonlSource()
PATH = Path("listening-export.jsonl")
STAMP = 1581095700000  # 2020-02-07T17:15:00Z in epoch milliseconds


def split(data: bytes, options: Mapping[str, Any] | None = None) -> list[RawRecord | SplitError]:
    return list(SOURCE.records(PATH, io.BytesIO(data), options or {}))


def read(data: bytes, options: Mapping[str, Any] | None = None) -> list[Message | str]:
    return outcomes(SOURCE, PATH, data, options)


def line(**fields: Any) -> bytes:
    return orjson.dumps(fields) + b"\n"


def only_message(data: bytes, options: Mapping[str, Any] | None = None) -> Message:
    [out] = read(data, options)
    assert isinstance(out, Message), out
    return out


# --- mapping -------------------------------------------------------------------------------------

NESTED = line(
    id="sl-1",
    meta={"created": "2020-02-07T21:40:12+06:00"},
    content={"body": "Говорят, у моста в Сортобе собирается толпа"},
    user={"id": "vk:100000201"},
    source={"name": "vk.com/public_sortobe_life"},
)
NESTED_MAP = {"text": "content.body", "timestamp": "meta.created", "author": "user.id", "channel": "source.name"}


@pytest.mark.parametrize(
    "mapping",
    [
        NESTED_MAP,  # a table in the config file, or --map flags gathered by the CLI
        [f"{k}={v}" for k, v in NESTED_MAP.items()],  # repeated --map FIELD=KEY flags
        ",".join(f"{k}={v}" for k, v in NESTED_MAP.items()),  # one --option map=... string
    ],
    ids=["table", "flag-list", "flag-string"],
)
def test_nested_keys_are_mapped_from_a_table_or_from_flags(mapping: Any) -> None:
    message = only_message(NESTED, {"map": mapping})
    assert message.text == "Говорят, у моста в Сортобе собирается толпа"
    assert message.sent_at == datetime(2020, 2, 7, 15, 40, 12, tzinfo=UTC)
    assert message.utc_offset_minutes == 360
    assert message.author_raw == "vk:100000201"
    assert message.channel == "vk.com/public_sortobe_life"
    assert message.native_id == "sl-1"


def test_without_the_mapping_the_nested_export_has_no_timestamp() -> None:
    assert read(NESTED) == ["no_timestamp"]


@pytest.mark.parametrize(
    "mapping",
    [{"txt": "body"}, ["text"], "text=", 42],
    ids=["unknown-field", "no-equals", "no-column", "not-a-mapping"],
)
def test_a_bad_mapping_stops_the_file_with_a_config_error(mapping: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        split(NESTED, {"map": mapping})
    assert caught.value.code == "bad_mapping"


def test_default_names_match_whatever_their_case() -> None:
    message = only_message(line(ID=9, Date="2020-02-07T23:30:00+06:00", Text="Қордайда жол жөндеу", Author="u-1"))
    assert (message.native_id, message.text, message.author_raw) == ("9", "Қордайда жол жөндеу", "u-1")
    assert message.sent_at == datetime(2020, 2, 7, 17, 30, tzinfo=UTC)


def test_a_nested_user_object_gives_its_id_not_its_repr() -> None:
    message = only_message(line(timestamp=STAMP, text="x", user={"id": 100000202, "name": "masanchi_bazar"}))
    assert message.author_raw == "100000202"


def test_the_channel_falls_back_to_the_option_then_to_the_file_name() -> None:
    data = line(timestamp=STAMP, text="x")
    assert only_message(data).channel == "listening-export"
    assert only_message(data, {"channel": "kordai-monitoring"}).channel == "kordai-monitoring"


def test_epoch_milliseconds_seconds_and_naive_times_with_a_timezone() -> None:
    data = (
        line(timestamp=STAMP, text="ms")
        + line(timestamp=STAMP // 1000, text="s")
        + line(timestamp="2020-02-07 23:15:00", text="naive")
    )
    ms, s, naive = read(data, {"timezone": "Asia/Almaty"})
    assert isinstance(ms, Message) and isinstance(s, Message) and isinstance(naive, Message)
    assert ms.sent_at == s.sent_at == naive.sent_at == datetime(2020, 2, 7, 17, 15, tzinfo=UTC)
    assert ms.extra == {} and naive.extra == {"offset_assumed": True}
    assert naive.utc_offset_minutes == 360


# --- bad input, one record at a time -------------------------------------------------------------


def test_every_kind_of_bad_line_costs_only_its_own_record() -> None:
    data = b"".join(
        [
            line(timestamp=STAMP, text="первое"),
            b"\n",  # blank: not a record
            line(text="нет даты"),
            b"[1, 2, 3]\n",
            b'{"timestamp": 1581095700000, "text": "\xcf\xf0\xee\xe4\xe0\xec"}\n',  # cp1251 bytes in a UTF-8 file
            line(timestamp=STAMP, text=""),
            line(timestamp=STAMP, text=" \t "),
            line(timestamp=STAMP, text={"html": "<p>x</p>"}),
            b'"just a string"\n',
            line(timestamp=STAMP, text="последнее"),
            b'{"timestamp": 1581095700000, "text": "\xd0\x9e\xd0\xb1',  # cut short at the end of the file
        ]
    )
    outcomes = [o if isinstance(o, str) else o.text for o in read(data)]
    assert outcomes == [
        "первое",
        "no_timestamp",
        "not_an_object",
        "bad_encoding",
        "empty_text",
        "empty_text",
        "bad_text",
        "not_an_object",
        "последнее",
        "truncated_json",
    ]


def test_a_corrupt_line_does_not_turn_the_rest_of_a_utf8_file_into_mojibake() -> None:
    data = line(timestamp=STAMP, text="Масанчи") + b'{"text": "\xff\xfe"}\n' + line(timestamp=STAMP, text="Сортобе")
    assert [o if isinstance(o, str) else o.text for o in read(data)] == ["Масанчи", "bad_encoding", "Сортобе"]


@pytest.mark.parametrize(
    "stamp",
    [99999999999999999, -1e20, 1e300, "0001-01-01T00:00:00+06:00", "9999-12-31T23:59:59-06:00", "NaN", "вчера", True],
)
def test_timestamps_out_of_range_or_unreadable_are_record_errors(stamp: Any) -> None:
    assert read(line(timestamp=stamp, text="x")) == ["bad_timestamp"]


def test_a_utf8_bom_and_crlf_line_ends_are_read() -> None:
    data = (
        b"\xef\xbb\xbf" + line(timestamp=STAMP, text="бір").rstrip(b"\n") + b"\r\n" + line(timestamp=STAMP, text="екі")
    )
    records = split(data)
    assert [o.text for o in read(data) if isinstance(o, Message)] == ["бір", "екі"]
    assert isinstance(records[0], RawRecord) and not records[0].data.endswith(b"\r")


def test_the_encoding_option_reads_a_cp1251_file() -> None:
    data = line(timestamp=STAMP, text="Продам мёд, звоните +7 700 000 0042").decode().encode("cp1251")
    assert only_message(data, {"encoding": "windows-1251"}).text == "Продам мёд, звоните +7 700 000 0042"
    assert only_message(data).text == "Продам мёд, звоните +7 700 000 0042"  # guessed from the whole head


def test_an_unknown_encoding_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        split(line(timestamp=STAMP, text="x"), {"encoding": "no-such-codec"})


@pytest.mark.parametrize(("option", "value"), [("timezone", "Mars/Olympus"), ("date_order", "ydm")])
def test_bad_options_stop_the_file_before_any_record(option: str, value: str) -> None:
    with pytest.raises(ConfigError):
        split(line(timestamp=STAMP, text="x"), {option: value})


# --- sizes ---------------------------------------------------------------------------------------


def test_a_10_mb_message_is_accepted_by_the_source() -> None:
    text = "Масанчи " * (10 * 1024 * 1024 // 15)
    data = line(id=1, timestamp=STAMP, text=text)
    assert len(data) > 10 * 1024 * 1024
    [record] = split(data)
    assert isinstance(record, RawRecord)
    assert only_message(data).text == text


def test_a_line_over_the_record_limit_is_a_split_error_and_reading_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl_module, "MAX_RECORD_BYTES", 1000)
    data = line(timestamp=STAMP, text="a") + line(timestamp=STAMP, text="x" * 5000) + line(timestamp=STAMP, text="b")
    items = split(data)
    assert [type(i).__name__ for i in items] == ["RawRecord", "SplitError", "RawRecord"]
    assert [i.ordinal for i in items] == [0, 1, 2]
    error = items[1]
    assert isinstance(error, SplitError) and error.code == "too_large" and error.locator == "line 2"
    assert [o.text for o in read(data) if isinstance(o, Message)] == ["a", "b"]


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.text(), min_size=1, max_size=5))
def test_any_text_written_with_orjson_reads_back_the_same(texts: list[str]) -> None:
    data = b"".join(line(id=i, timestamp=STAMP, text=t) for i, t in enumerate(texts))
    outcomes = read(data)
    assert len(outcomes) == len(texts)
    for text, outcome in zip(texts, outcomes, strict=True):
        if text.strip():
            assert isinstance(outcome, Message) and outcome.text == text
        else:
            assert outcome == "empty_text"


@settings(max_examples=300)
@given(data=st.binary(max_size=400))
def test_any_bytes_split_and_parse_without_an_unexpected_exception(data: bytes) -> None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        with pytest.raises(FormatError):  # UTF-16: the whole file is refused with a reason
            split(data)
        return
    for item in split(data):
        if isinstance(item, RawRecord):
            with contextlib.suppress(RecordError):
                SOURCE.parse(item, {})


# --- sniffing and options ------------------------------------------------------------------------


def test_sniff_keeps_a_file_with_a_bad_line_and_refuses_json_documents() -> None:
    mixed = line(timestamp=STAMP, text="a") + b"[1]\n" + line(timestamp=STAMP, text="b")
    assert SOURCE.sniff(Path("x.jsonl"), mixed) >= 0.5
    assert SOURCE.sniff(Path("x.txt"), line(a=1) + line(b=2)) >= 0.5
    assert SOURCE.sniff(Path("result.json"), b'{\n  "name": "Kordai 24",\n  "messages": []\n}\n') == 0.0
    assert SOURCE.sniff(Path("wall.json"), b'{"response": {"items": []}}') < 0.5
    assert SOURCE.sniff(Path("x.csv"), b"id,text\n1,hi\n") == 0.0


def test_sniff_stays_below_specific_formats() -> None:
    assert SOURCE.sniff(PATH, line(timestamp=STAMP, text="x")) <= 0.8


def test_option_names_are_the_options_the_reader_reads() -> None:
    assert JsonlSource.option_names == COMMON_OPTIONS == {"map", "encoding", "timezone", "channel", "date_order"}


def test_an_encoding_option_at_parse_time_wins_over_the_split_guess() -> None:
    """What ``quarantine retry --option encoding=cp1251`` relies on."""
    data = line(timestamp=STAMP, text="Масанчи").decode().encode("cp1251")
    [record] = split(data, {"encoding": "utf-8"})
    assert isinstance(record, RawRecord)
    with pytest.raises(RecordError):
        SOURCE.parse(record, {"encoding": "utf-8"})
    [message] = SOURCE.parse(record, {"encoding": "cp1251"})
    assert isinstance(message, Message) and message.text == "Масанчи"
