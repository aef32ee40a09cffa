"""Behaviour of the Telegram Desktop export reader beyond the golden samples.

Streaming on a large export, text entities, timestamps and their offsets, forwards, and what a
truncated or broken export yields.
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashpoint.config import Config
from flashpoint.errors import RecordError
from flashpoint.model import Enriched, Message, RawRecord, Skipped
from flashpoint.runners.embedded import EmbeddedRunner
from flashpoint.sources.base import SplitError
from flashpoint.sources.telegram import TelegramSource
from flashpoint.stages.privacy import Pseudonymise, Pseudonymiser
from flashpoint.store import SqliteStore

DATA = Path(__file__).resolve().parents[1] / "data" / "telegram"
SOURCE = TelegramSource()
CONTEXT = {"chat_name": "Сортөбе ауылы", "chat_type": "private_supergroup", "chat_id": 1890123456}


def parse(message: dict[str, Any], options: dict[str, Any] | None = None) -> list[Message | Skipped]:
    raw = RawRecord("result.json", 0, "messages[0]", orjson.dumps(message), CONTEXT)
    return list(SOURCE.parse(raw, options or {}))


def one(message: dict[str, Any], options: dict[str, Any] | None = None) -> Message:
    [out] = parse(message, options)
    assert isinstance(out, Message)
    return out


def base(**fields: Any) -> dict[str, Any]:
    return {
        "id": 7,
        "type": "message",
        "date": "2025-03-08T18:55:03",
        "date_unixtime": "1741442103",
        "from": "Ержан Т.",
        "from_id": "user5550002001",
        "text": "Сәлем!",
        **fields,
    }


def read(path: Path, data: bytes | None = None) -> list[RawRecord | SplitError]:
    stream = io.BytesIO(data) if data is not None else path.open("rb")
    with stream:
        return list(SOURCE.records(path, stream, {}))


def export_bytes(messages: list[dict[str, Any]], chat_type: str = "private_supergroup") -> tuple[bytes, list[int]]:
    """A single-chat export laid out like Telegram Desktop's, and the byte offset where each message ends."""
    out = bytearray(f'{{\n "name": "Масанчи",\n "type": "{chat_type}",\n "id": 1890123456,\n "messages": [\n'.encode())
    ends = []
    for i, message in enumerate(messages):
        if i:
            out += b",\n"
        out += orjson.dumps(message, option=orjson.OPT_INDENT_2)
        ends.append(len(out))
    out += b"\n ]\n}\n"
    return bytes(out), ends


def village_messages(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {
            "id": i + 1,
            "type": "message",
            "date": "2025-03-01T10:00:00",
            "date_unixtime": str(1740805200 + i),
            "from_id": f"user55500{i % 97:05d}",
            "text": ["Масанчи: ", {"type": "bold", "text": f"хабар {i} {{жиналыс}}"}, ' "ертең"'],
        }


# -- sniff ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b'{\n "name": "X",\n "type": "public_channel",\n "id": 1,\n "messages": [\n  {\n   "id": 1,\n'
        b'   "type": "message",\n   "date": "2025-03-01T10:00:00",\n   "date_unixtime": "1740805200"',
        b'\xef\xbb\xbf{"name": "X", "type": "private_group", "id": 1, "messages": [{"id": 1, "type": "message"',
        b'{\n "about": "Here is the data you requested.",\n "personal_information": {\n  "user_id": 1',
        b'{"chats": {"about": "This page lists all chats from this export.", "list": [{"name": "X"',
    ],
)
def test_sniff_is_confident_on_telegram_exports(head: bytes) -> None:
    assert SOURCE.sniff(Path("export.json"), head) == 0.95


@pytest.mark.parametrize(
    "head",
    [
        b"07.02.2020, 23:10 - \xd0\x90: \xd1\x81\xd3\x99\xd0\xbb\xd0\xb5\xd0\xbc\n",
        b"id;date;text\n1;2025-03-01;hi\n",
        b'{"id": 1, "date": "2025-03-01T10:00:00Z", "text": "hi"}\n{"id": 2}\n',
        b'{"response": {"count": 1, "items": [{"id": 1, "date": 1740805200, "text": "hi"}]}}',
        b'[{"name": "X", "type": "public_channel", "messages": []}]',
    ],
)
def test_sniff_refuses_other_files(head: bytes) -> None:
    assert SOURCE.sniff(Path("export.json"), head) == 0.0


# -- streaming ------------------------------------------------------------------------------------------


def test_a_large_export_streams_in_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    with path.open("wb") as out:
        out.write(b'{\n "name": "Big",\n "type": "private_supergroup",\n "id": 42,\n "messages": [\n')
        for i, message in enumerate(village_messages(50_000)):
            out.write((b",\n" if i else b"") + orjson.dumps(message))
        out.write(b"\n ]\n}\n")
    tracemalloc.start()
    try:
        count, last = 0, None
        with path.open("rb") as stream:
            for item in SOURCE.records(path, stream, {}):
                assert isinstance(item, RawRecord)
                count, last = count + 1, item
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 50_000
    assert last is not None and last.locator == "messages[49999]" and last.ordinal == 49_999
    assert path.stat().st_size > 10 << 20
    assert peak < 20 << 20, f"peak {peak / 2**20:.1f} MiB while reading a {path.stat().st_size >> 20} MiB export"


def test_each_record_is_the_canonical_message_with_the_chat_in_its_context() -> None:
    data, _ = export_bytes(list(village_messages(3)), chat_type="public_channel")
    records = read(Path("result.json"), data)
    assert [r.locator for r in records] == ["messages[0]", "messages[1]", "messages[2]"]
    first = records[0]
    assert isinstance(first, RawRecord)
    assert first.data == orjson.dumps(next(village_messages(1)))
    assert first.context == {"chat_name": "Масанчи", "chat_type": "public_channel", "chat_id": 1890123456}


def test_a_full_account_export_reads_every_chat_with_its_own_header() -> None:
    records = read(DATA / "full_account.json")
    assert [r.locator for r in records] == [
        "chats.list[0].messages[0]",
        "chats.list[0].messages[1]",
        "chats.list[0].messages[2]",
        "chats.list[1].messages[0]",
        "chats.list[1].messages[1]",
        "chats.list[1].messages[2]",
        "left_chats.list[0].messages[0]",
    ]
    assert [r.ordinal for r in records] == list(range(7))
    channels = [
        m.channel for r in records if isinstance(r, RawRecord) for m in SOURCE.parse(r, {}) if isinstance(m, Message)
    ]
    assert channels == ["user:5550000002", "user:5550000002", "tg:1712345678", "tg:1712345678", "tg:1598765432"]


# -- text -----------------------------------------------------------------------------------------------


def test_text_entities_are_joined_in_order_and_links_kept() -> None:
    message = one(
        base(
            text=[
                {"type": "bold", "text": "Внимание!"},
                " Сбор у школы в ",
                {"type": "text_link", "text": "Сортобе", "href": "https://example.kz/sortobe"},
                ", подробнее ",
                {"type": "link", "text": "https://example.kz/news"},
                " ",
                {"type": "hashtag", "text": "#Кордай"},
            ]
        )
    )
    assert message.text == "Внимание! Сбор у школы в Сортобе, подробнее https://example.kz/news #Кордай"
    assert message.extra["links"] == ["https://example.kz/sortobe", "https://example.kz/news"]


def test_text_entities_stand_in_when_text_is_missing() -> None:
    message = one(
        {
            **base(),
            "text": None,
            "text_entities": [{"type": "plain", "text": "Ертең "}, {"type": "bold", "text": "жиналыс"}],
        }
    )
    assert message.text == "Ертең жиналыс"


entity = st.builds(
    lambda kind, text: {"type": kind, "text": text},
    st.sampled_from(["plain", "bold", "italic", "mention", "hashtag", "code"]),
    st.text(),
)


@given(st.lists(st.one_of(st.text(), entity)))
def test_joined_text_is_the_concatenation_of_the_parts(parts: list[Any]) -> None:
    expected = "".join(p if isinstance(p, str) else p["text"] for p in parts)
    outcome = parse(base(text=parts, photo="photos/p.jpg"))  # a photo so that empty text is accepted
    assert isinstance(outcome[0], Message) and outcome[0].text == expected


def test_empty_text_is_kept_with_media_and_refused_without() -> None:
    sticker = one(
        base(
            text="",
            file="(File not included. Change data exporting settings to download.)",
            media_type="sticker",
            sticker_emoji="😡",
            mime_type="image/webp",
            file_size=30000,
        )
    )
    assert sticker.text == ""
    assert [(a.kind, a.file_name, a.size) for a in sticker.attachments] == [("sticker", None, 30000)]
    assert sticker.extra["sticker_emoji"] == "😡"
    with pytest.raises(RecordError) as caught:
        parse(base(text="", text_entities=[]))
    assert caught.value.code == "empty_text" and caught.value.locator == "messages[0]"


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"media_type": "voice_message", "mime_type": "audio/ogg"}, "voice"),
        ({"media_type": "video_message", "mime_type": "video/mp4"}, "video"),
        ({"media_type": "audio_file", "mime_type": "audio/mpeg"}, "audio"),
        ({"media_type": "animation", "mime_type": "video/mp4"}, "animation"),
        ({"mime_type": "application/pdf"}, "document"),
        ({"mime_type": "image/png"}, "photo"),
        ({}, "other"),
    ],
)
def test_media_kinds(fields: dict[str, Any], kind: str) -> None:
    message = one(base(file="files/f.bin", **fields))
    assert [a.kind for a in message.attachments] == [kind]
    assert message.attachments[0].file_name == "files/f.bin"


# -- time -----------------------------------------------------------------------------------------------


def test_the_offset_of_the_exporting_machine_is_kept() -> None:
    message = one(base())  # 18:55:03 local is 13:55:03 UTC: the export was made at UTC+5
    assert message.sent_at == datetime(2025, 3, 8, 13, 55, 3, tzinfo=UTC)
    assert message.utc_offset_minutes == 300
    assert "offset_assumed" not in message.extra


@given(
    st.integers(min_value=946_684_800, max_value=2_000_000_000),
    st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda quarters: quarters * 15),
)
def test_any_offset_and_instant_round_trip(epoch: int, offset: int) -> None:
    local = datetime.fromtimestamp(epoch, timezone(timedelta(minutes=offset))).replace(tzinfo=None)
    message = one(base(date=local.isoformat(), date_unixtime=str(epoch)))
    assert message.sent_at == datetime.fromtimestamp(epoch, UTC)
    assert message.utc_offset_minutes == offset


def test_unixtime_alone_gives_exact_time_and_no_offset() -> None:
    message = one({k: v for k, v in base().items() if k != "date"})
    assert message.sent_at == datetime(2025, 3, 8, 13, 55, 3, tzinfo=UTC)
    assert message.utc_offset_minutes is None


def test_old_exports_without_unixtime_take_the_timezone_option() -> None:
    old = {
        k: v for k, v in base(date="2020-02-07T21:40:18", edited="2020-02-07T21:47:30").items() if k != "date_unixtime"
    }
    message = one(old, {"timezone": "Asia/Almaty"})
    assert message.sent_at == datetime(2020, 2, 7, 15, 40, 18, tzinfo=UTC)
    assert message.utc_offset_minutes == 360
    assert message.extra["offset_assumed"] is True
    assert message.edited_at == datetime(2020, 2, 7, 15, 47, 30, tzinfo=UTC)


def test_edit_time_prefers_unixtime() -> None:
    message = one(base(edited="2025-03-08T19:00:00", edited_unixtime="1741442400"))
    assert message.edited_at == datetime(2025, 3, 8, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "code"),
    [({"date": None, "date_unixtime": None}, "no_timestamp"), ({"date_unixtime": "кеше"}, "bad_timestamp")],
)
def test_a_message_without_a_usable_date_is_a_record_error(fields: dict[str, Any], code: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse({k: v for k, v in base(**fields).items() if v is not None})
    assert caught.value.code == code
    assert caught.value.source_file == "result.json" and caught.value.locator == "messages[0]"


# -- people, replies, forwards --------------------------------------------------------------------------


def test_author_is_left_raw_for_the_pseudonymise_stage() -> None:
    message = one(base())
    assert message.author is None
    assert (message.author_raw, message.author_name) == ("user5550002001", "Ержан Т.")


def test_a_reply_points_at_the_full_id_of_the_message_in_the_same_chat() -> None:
    parsed = [
        m
        for r in read(DATA / "private_group.json")
        if isinstance(r, RawRecord)
        for m in SOURCE.parse(r, {})
        if isinstance(m, Message)
    ]
    ids = {m.id for m in parsed}
    replies = [m.reply_to for m in parsed if m.reply_to]
    assert replies == [
        "telegram:tg:1890123456:103",
        "telegram:tg:1890123456:103",
        "telegram:tg:1890123456:107",
        "telegram:tg:1890123456:108",
    ]
    assert set(replies) <= ids


def test_a_forward_from_a_person_is_marked_and_then_pseudonymised_like_an_author() -> None:
    message = one(base(forwarded_from="Айгерим С.", forwarded_from_id="user5550001234"))
    assert message.forwarded_from == "user:user5550001234"
    assert "Айгерим" not in orjson.dumps(dict(message.extra)).decode()
    pseudonymiser = Pseudonymiser(b"k" * 32)
    stored = Pseudonymise(pseudonymiser)(Enriched(message)).message
    assert stored.forwarded_from == "user:" + pseudonymiser.pseudonym("telegram", "user5550001234")
    # the same person as an author gets the same pseudonym, so spread across forwards can be traced
    authored = Pseudonymise(pseudonymiser)(Enriched(one(base(from_id="user5550001234")))).message
    assert stored.forwarded_from == "user:" + str(authored.author)


def test_a_forward_from_a_channel_keeps_the_channel() -> None:
    by_id = one(base(forwarded_from="Кордай Жаңалықтары", forwarded_from_id="channel1598765432"))
    assert by_id.forwarded_from == "tg:1598765432"
    assert by_id.extra["forwarded_from_name"] == "Кордай Жаңалықтары"
    by_name = one(base(forwarded_from="Sortobe Chat"))
    assert by_name.forwarded_from == "Sortobe Chat"


def test_a_personal_chat_name_is_not_copied_into_extra() -> None:
    raw = RawRecord(
        "result.json",
        0,
        "messages[0]",
        orjson.dumps(base()),
        {"chat_name": "Асель Н.", "chat_type": "personal_chat", "chat_id": 5550000002},
    )
    [message] = SOURCE.parse(raw, {})
    assert isinstance(message, Message)
    assert message.channel == "user:5550000002"  # pseudonymised by the stage
    assert message.extra == {"chat_type": "personal_chat"}


# -- service messages -----------------------------------------------------------------------------------


def test_service_messages_are_skipped() -> None:
    out = parse(
        {
            "id": 4,
            "type": "service",
            "date": "2025-03-01T12:30:00",
            "date_unixtime": "1740814200",
            "actor": "Масанчи",
            "actor_id": "channel1",
            "action": "pin_message",
            "message_id": 2,
            "text": "",
        }
    )
    assert out == [Skipped("service")]


def test_service_messages_are_counted_by_the_runner(tmp_path: Path) -> None:
    config = Config.from_mapping({"store": {"path": str(tmp_path / "s.db")}, "privacy": {"pseudonym_key": "k" * 40}})
    store = SqliteStore(config.store.path)
    try:
        stats = EmbeddedRunner(store, config).ingest([DATA / "private_group.json"], fmt="telegram")
    finally:
        store.close()
    assert stats.skipped_reasons["service"] == 3
    assert stats.messages_added == 11 and stats.quarantined == 0


# -- broken files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut_into", [1, 9, 40, 150])
@pytest.mark.parametrize("message_index", [0, 1, 700, 1999])
def test_a_truncated_export_yields_every_complete_message_then_one_split_error(
    message_index: int, cut_into: int
) -> None:
    data, ends = export_bytes(list(village_messages(2000)))
    start = ends[message_index - 1] if message_index else data.index(b"[") + 1
    cut = data[: start + cut_into]
    items = read(Path("result.json"), cut)
    *records, error = items
    assert [r.locator for r in records] == [f"messages[{i}]" for i in range(message_index)]
    assert all(isinstance(r, RawRecord) for r in records)
    assert isinstance(error, SplitError) and error.code == "truncated_json"
    assert error.ordinal == message_index
    # exactly the bytes after the last complete message; before the first one, the whole file
    assert error.data == (cut[start:] if message_index else cut)


def test_a_file_cut_inside_a_character_is_truncated_not_badly_encoded() -> None:
    data, ends = export_bytes(list(village_messages(3)))
    cut = data[: data.index("хабар 1".encode()) + 1]  # the first byte of a two-byte letter
    *records, error = read(Path("result.json"), cut)
    assert len(records) == 1
    assert isinstance(error, SplitError) and error.code == "truncated_json"
    assert error.data == cut[ends[0] :]


def test_a_truncated_sample_keeps_what_follows_the_last_message() -> None:
    items = read(DATA / "truncated.json")
    assert [type(i).__name__ for i in items] == ["RawRecord"] * 3 + ["SplitError"]
    error = items[-1]
    assert isinstance(error, SplitError) and error.locator == "messages[3]"
    assert error.data.startswith(b',\n  {\n   "id": 34,')
    assert error.data == (DATA / "truncated.json").read_bytes()[-len(error.data) :]


def test_invalid_json_in_the_middle_is_one_split_error_after_the_good_messages() -> None:
    items = read(DATA / "invalid_middle.json")
    assert [i.locator for i in items] == ["messages[0]", "messages[1]", "messages[2]"]
    error = items[-1]
    assert isinstance(error, SplitError) and error.code == "bad_json" and error.ordinal == 2
    assert error.data.startswith(b',\n  {\n   "id": 42\n')


def test_a_bare_value_in_the_messages_array_is_a_record_error_not_a_silent_drop() -> None:
    data, _ = export_bytes([next(village_messages(1)), 42])  # type: ignore[list-item]
    items = read(Path("result.json"), data)
    assert [i.locator for i in items] == ["messages[0]", "messages[1]"]
    with pytest.raises(RecordError) as caught:
        SOURCE.parse(items[1], {})  # type: ignore[arg-type]
    assert caught.value.code == "not_an_object"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b'[{"id": 1}]', "not_telegram_export"),
        (b'{"about": "x", "contacts": {"list": []}}', "no_messages"),
        (b'{"name": "X", "messages": [{"id": 1, "text": "\xff\xfe"}]}', "bad_encoding"),
    ],
)
def test_files_that_are_not_exports_give_one_split_error(data: bytes, code: str) -> None:
    items = read(Path("result.json"), data)
    assert [(type(i).__name__, getattr(i, "code", None)) for i in items] == [("SplitError", code)]
    assert items[0].data == data


class _Pipe(io.RawIOBase):
    """A stream that cannot seek, like an export piped in from another tool."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_truncated_export_read_from_a_pipe_gives_the_same_split() -> None:
    data, ends = export_bytes(list(village_messages(1500)))
    cut = data[: ends[1200] + 30]
    items = list(SOURCE.records(Path("result.json"), io.BufferedReader(_Pipe(cut)), {}))
    assert len(items) == 1202
    error = items[-1]
    assert isinstance(error, SplitError) and error.code == "truncated_json"
    assert error.data == cut[ends[1200] :]


def test_an_export_re_saved_with_a_byte_order_mark_is_read() -> None:
    data, _ = export_bytes(list(village_messages(2)))
    items = read(Path("result.json"), b"\xef\xbb\xbf" + data)
    assert [type(i).__name__ for i in items] == ["RawRecord", "RawRecord"]
