"""Behaviour of the Telegram Desktop export reader beyond the golden samples.

Streaming on a large export, text entities, timestamps and their offsets, forwards, and what a
truncated or broken export yields.
"""

from __future__ import annotations

import contextlib
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
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
    raw = RawRecord("result.json", 0, "messages[0]", json.dumps(message).encode(), CONTEXT)
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
    assert channels == ["user:user5550000002", "user:user5550000002", "tg:1712345678", "tg:1712345678", "tg:1598765432"]


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


@settings(deadline=None)
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


def test_a_forward_with_a_name_and_no_id_is_a_person_who_hides_their_account() -> None:
    # Telegram writes name-only forwards for users who hide their account; channels carry an id.
    message = one(base(forwarded_from="Айгерим С."))
    assert message.forwarded_from == "user:Айгерим С."
    assert "forwarded_from_name" not in message.extra
    stored = Pseudonymise(Pseudonymiser(b"k" * 32))(Enriched(message)).message
    assert stored.forwarded_from is not None and stored.forwarded_from.startswith("user:au_")
    assert "Айгерим" not in repr(stored)


def test_a_name_with_a_colon_stays_one_person_reference() -> None:
    message = one(base(forwarded_from="Асель: Масанчи"))
    assert message.forwarded_from == "user:Асель%3A Масанчи"
    stored = Pseudonymise(Pseudonymiser(b"k" * 32))(Enriched(message)).message
    assert "Масанчи" not in str(stored.forwarded_from)


def personal(message: dict[str, Any], context: dict[str, Any]) -> Message:
    [out] = SOURCE.parse(RawRecord("result.json", 0, "messages[0]", orjson.dumps(message), context), {})
    assert isinstance(out, Message)
    return out


def test_a_personal_chat_without_an_id_is_named_by_the_person_and_pseudonymised() -> None:
    context = {"chat_name": "Асель Н.", "chat_type": "personal_chat", "chat_id": None}
    first = personal(base(id=7), context)
    reply = personal(base(id=8, reply_to_message_id=7), context)
    assert first.channel == reply.channel == "user:Асель Н."
    assert first.id == "telegram:user:Асель Н.:7"
    assert reply.reply_to == first.id  # the reply is built on the same user: channel
    assert "chat_name" not in first.extra
    pseudonymise = Pseudonymise(Pseudonymiser(b"k" * 32))
    stored_first = pseudonymise(Enriched(first)).message
    stored_reply = pseudonymise(Enriched(reply)).message
    assert stored_reply.reply_to == stored_first.id
    assert stored_first.channel.startswith("user:au_")
    assert "Асель" not in repr(stored_first) + repr(stored_reply)


def test_a_reply_to_a_message_in_a_persons_chat_names_that_chat_as_a_person() -> None:
    message = one(base(reply_to_message_id=31, reply_to_peer_id="user5550000002"))
    assert message.reply_to == "telegram:user:user5550000002:31"
    channel = personal(base(id=31), {"chat_name": "Асель Н.", "chat_type": "personal_chat", "chat_id": 5550000002})
    assert message.reply_to == channel.id


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
    assert message.channel == "user:user5550000002"  # pseudonymised by the stage
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
    assert error.data.startswith(b'{\n   "id": 42\n') and error.data.endswith(b"}")  # that message, exactly
    assert error.unread_bytes == 0


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
        (b'{"name": "X" "messages": [{"id": 1, "text": "x"}]}', "bad_json"),
        (b'{"name": "\xff\xfe", "messages": [{"id": 1, "text": "x"}]}', "bad_encoding"),
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


# -- resynchronising after a broken message -------------------------------------------------------------


def broken_at(data: bytes, text: str, replacement: bytes = b"\xff") -> bytes:
    """``data`` with the first byte of ``text`` replaced (by default with a byte that is never UTF-8)."""
    at = data.index(text.encode())
    return data[:at] + replacement + data[at + 1 :]


def outline(items: list[RawRecord | SplitError]) -> list[tuple[str, int, str]]:
    return [(type(i).__name__, i.ordinal, i.locator) for i in items]


@pytest.mark.parametrize("pipe", [False, True], ids=["file", "pipe"])
def test_one_bad_byte_in_one_message_costs_only_that_message(pipe: bool) -> None:
    messages = list(village_messages(3000))
    data, ends = export_bytes(messages)
    bad = broken_at(data, "хабар 1700 ")
    stream = io.BufferedReader(_Pipe(bad)) if pipe else io.BytesIO(bad)
    items = list(SOURCE.records(Path("result.json"), stream, {}))
    assert outline(items) == [("SplitError" if i == 1700 else "RawRecord", i, f"messages[{i}]") for i in range(3000)]
    error = items[1700]
    assert isinstance(error, SplitError) and error.code == "bad_encoding" and error.unread_bytes == 0
    assert error.data == bad[ends[1699] + 2 : ends[1700]]  # the bad message's own bytes, after ",\n"
    assert [r.data for r in items if isinstance(r, RawRecord)] == [
        orjson.dumps(m) for i, m in enumerate(messages) if i != 1700
    ]


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=400),
    picks=st.sets(st.floats(min_value=0, max_value=1, exclude_max=True), min_size=1, max_size=6),
)
def test_any_set_of_broken_messages_costs_only_those_messages(count: int, picks: set[float]) -> None:
    data, _ = export_bytes(list(village_messages(count)))
    broken = {int(p * count) for p in picks}
    for index in broken:
        data = broken_at(data, f"хабар {index} ")
    items = read(Path("result.json"), data)
    assert outline(items) == [("SplitError" if i in broken else "RawRecord", i, f"messages[{i}]") for i in range(count)]


def test_a_hand_edit_that_breaks_the_json_of_one_message_costs_only_that_message() -> None:
    data, ends = export_bytes(list(village_messages(50)))
    missing_comma = data.replace(b'"id": 21,', b'"id": 21', 1)
    lost_quote = broken_at(data, '"хабар 30', b" ")  # the quotes after it no longer pair up
    for bad, index in ((missing_comma, 20), (lost_quote, 30)):
        items = read(Path("result.json"), bad)
        assert outline(items) == [("SplitError" if i == index else "RawRecord", i, f"messages[{i}]") for i in range(50)]
        error = items[index]
        assert isinstance(error, SplitError) and error.code == "bad_json"
        assert error.data == bad[ends[index - 1] + 2 : ends[index] + len(bad) - len(data)]


def test_broken_messages_in_several_chats_of_a_full_account_export() -> None:
    data = (DATA / "full_account.json").read_bytes()
    bad = broken_at(broken_at(data, "Да, в акимате"), "Спасибо, что")
    good = read(DATA / "full_account.json")
    broken = [g.locator for g in good if "Да, в акимате".encode() in g.data or "Спасибо, что".encode() in g.data]
    assert broken == ["chats.list[0].messages[1]", "chats.list[1].messages[2]"]
    items = read(Path("result.json"), bad)
    assert outline(items) == [
        ("SplitError" if locator in broken else "RawRecord", ordinal, locator) for _, ordinal, locator in outline(good)
    ]
    assert [i.code for i in items if isinstance(i, SplitError)] == ["bad_encoding", "bad_encoding"]
    assert all(i.data == g.data for i, g in zip(items, good, strict=True) if isinstance(i, RawRecord))


def test_a_number_beyond_64_bits_does_not_break_the_file_and_is_dropped_from_the_message() -> None:
    messages = list(village_messages(3))
    messages[1] = {**messages[1], "photo": "photos/p.jpg", "photo_file_size": "BIG"}
    data, _ = export_bytes(messages)
    data = data.replace(b'"BIG"', str(10**30).encode())
    items = read(Path("result.json"), data)
    assert outline(items) == [("RawRecord", i, f"messages[{i}]") for i in range(3)]
    [message] = SOURCE.parse(items[1], {})  # type: ignore[arg-type]
    assert isinstance(message, Message)
    assert message.attachments[0].kind == "photo" and message.attachments[0].size is None


def test_a_file_broken_outside_the_messages_gives_up_and_counts_what_it_could_not_keep() -> None:
    data, _ = export_bytes(list(village_messages(8000)))
    assert len(data) > 2 * (1 << 20)
    bad = data.replace('"name": "Масанчи",'.encode(), b'"name": "x" ', 1)
    for stream in (io.BytesIO(bad), io.BufferedReader(_Pipe(bad))):
        [error] = list(SOURCE.records(Path("result.json"), stream, {}))
        assert isinstance(error, SplitError) and error.code == "bad_json"
        assert error.data == bad[: 1 << 20]
        assert error.unread_bytes == len(bad) - (1 << 20)


# -- nesting --------------------------------------------------------------------------------------------


def test_deep_nesting_is_refused_in_bounded_memory() -> None:
    data = b'{"messages":[' + b"[" * 100_000
    tracemalloc.start()
    try:
        items = read(Path("result.json"), data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(type(i).__name__, getattr(i, "code", None)) for i in items] == [("SplitError", "too_deep")]
    assert peak < 32 << 20


def test_a_message_nested_too_deep_is_one_split_error_and_the_next_messages_are_read() -> None:
    first, second = (orjson.dumps(m) for m in village_messages(2))
    deep = b'{"id": 9, "text": ' + b"[" * 300 + b"]" * 300 + b"}"
    data = b'{"name": "x", "type": "private_group", "id": 1, "messages": [' + first + b", " + deep + b", "
    data += second + b"]}"
    items = read(Path("result.json"), data)
    assert [(type(i).__name__, getattr(i, "code", None)) for i in items] == [
        ("RawRecord", None),
        ("SplitError", "too_deep"),
        ("RawRecord", None),
    ]
    assert items[1].data == deep and items[2].data == second


def test_deep_nesting_outside_the_messages_is_refused() -> None:
    data = b'{"name": "x", "other": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1000 + b', "messages": []}'
    [error] = read(Path("result.json"), data)
    assert isinstance(error, SplitError) and error.code == "too_deep"


# -- what error messages may say ------------------------------------------------------------------------

SECRET = "Жасырын-Бауыржан"


@pytest.mark.parametrize(
    "data",
    [
        f'{{"name": "X", "messages": [{{"id": 1, "text": "{SECRET} \\x"}}]}}'.encode(),
        f'{{"name": "X", "messages": [{{"id": 1 "text": "{SECRET}"}}]}}'.encode(),
        f'{{"name": "X", "messages": [{{"id": 1, "text": "{SECRET}'.encode() + b'\xff"}]}',
        f'{{"name": "{SECRET}" "messages": []}}'.encode(),
        f'{{"name": "X", "messages": [{{"id": 1, "text": "{SECRET}"}}]}} {SECRET}'.encode(),
    ],
)
def test_split_errors_say_where_and_why_without_quoting_the_input(data: bytes) -> None:
    errors = [i for i in read(Path("result.json"), data) if isinstance(i, SplitError)]
    assert errors
    for error in errors:
        assert SECRET not in str(error) and "byte" in str(error)


def test_record_errors_do_not_quote_the_record() -> None:
    for fields in (
        {"date_unixtime": SECRET},
        {"date_unixtime": None, "date": SECRET},
        {"text": {"x": SECRET}},
        {"text": [{"text": "a"}, [SECRET]]},
    ):
        with pytest.raises(RecordError) as caught:
            parse(base(**fields))
        assert SECRET not in str(caught.value)
    raw = RawRecord("result.json", 0, "messages[0]", f'{{"text": "{SECRET}"'.encode(), CONTEXT)
    with pytest.raises(RecordError) as caught:
        SOURCE.parse(raw, {})
    assert caught.value.code == "bad_json" and SECRET not in str(caught.value)


# -- wrong types ----------------------------------------------------------------------------------------


def test_a_messages_value_that_is_not_an_array_is_a_split_error() -> None:
    items = read(Path("result.json"), b'{"name":"g","messages":{"a":1}}')
    assert [(type(i).__name__, getattr(i, "code", None), i.data) for i in items] == [
        ("SplitError", "bad_messages", b'{"a":1}')
    ]
    [error] = read(Path("result.json"), b'{"name":"g","messages":"none"}')
    assert isinstance(error, SplitError) and error.code == "bad_messages"


@pytest.mark.parametrize(
    ("fields", "check"),
    [
        ({"photo": "p.jpg", "photo_file_size": "much"}, lambda m: m.attachments[0].size is None),
        ({"photo": "p.jpg", "photo_file_size": 2**70}, lambda m: m.attachments[0].size is None),
        ({"file": "f.pdf", "file_size": 1e300, "mime_type": ["x"]}, lambda m: m.attachments[0].mime_type is None),
        ({"poll": {"question": "Кім?", "answers": {"a": 1}}}, lambda m: m.extra["poll"]["answers"] == []),
        ({"poll": {"question": {"q": 1}, "answers": "abc"}}, lambda m: m.extra["poll"]["question"] == ""),
        ({"from_id": {"id": 1}, "from": ["Ержан"]}, lambda m: m.author_raw is None and m.author_name is None),
        ({"forwarded_from": {"name": "x"}}, lambda m: m.forwarded_from is None),
        ({"location_information": {"latitude": 1e308, "longitude": "east"}}, lambda m: "location" not in m.extra),
        ({"sticker_emoji": {"e": 1}}, lambda m: "sticker_emoji" not in m.extra),
        ({"edited_unixtime": 10**30}, lambda m: m.edited_at is None),
    ],
)
def test_wrong_types_in_fields_are_left_out_not_crashes(fields: dict[str, Any], check: Any) -> None:
    message = one(base(**fields))
    assert check(message)
    orjson.dumps(dict(message.extra))  # storable


@pytest.mark.parametrize(
    "fields",
    [
        {"date_unixtime": str(10**30)},
        {"date_unixtime": -62135596800},  # the year 1: no room for an offset
        {"date_unixtime": [1]},
        {"date_unixtime": None, "date": "0001-01-01T00:00:00"},
        {"date_unixtime": None, "date": 10**30},
        {"date_unixtime": None, "date": {"d": 1}},
    ],
)
def test_impossible_times_are_bad_timestamps(fields: dict[str, Any]) -> None:
    with pytest.raises(RecordError) as caught:
        parse({k: v for k, v in base(**fields).items() if v is not None}, {"timezone": "Asia/Almaty"})
    assert caught.value.code == "bad_timestamp"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
MESSAGE_FIELDS = [
    "id",
    "type",
    "date",
    "date_unixtime",
    "edited",
    "edited_unixtime",
    "from",
    "from_id",
    "text",
    "text_entities",
    "reply_to_message_id",
    "reply_to_peer_id",
    "forwarded_from",
    "forwarded_from_id",
    "photo",
    "photo_file_size",
    "file",
    "file_name",
    "file_size",
    "media_type",
    "mime_type",
    "sticker_emoji",
    "contact_information",
    "contact_vcard",
    "poll",
    "location_information",
    "place_name",
    "address",
]
CONTEXT_FIELDS = ["chat_name", "chat_type", "chat_id"]


def storable(message: Message) -> None:
    """What the store and the pseudonymise stage will do with a message must work."""
    orjson.dumps(dict(message.extra))
    for attachment in message.attachments:
        assert attachment.size is None or -(2**63) <= attachment.size < 2**63
    assert message.local_sent_at.tzinfo is not None
    Pseudonymise(Pseudonymiser(b"k" * 32))(Enriched(message))


@settings(max_examples=400, deadline=None)
@given(
    fields=st.dictionaries(st.sampled_from(MESSAGE_FIELDS), json_values, max_size=8),
    context=st.dictionaries(st.sampled_from(CONTEXT_FIELDS), json_values),
)
def test_any_json_in_any_field_parses_or_is_a_record_error(fields: dict[str, Any], context: dict[str, Any]) -> None:
    data = json.dumps({**base(), **fields}).encode()
    raw = RawRecord("result.json", 0, "messages[0]", data, {**CONTEXT, **context})
    try:
        out = SOURCE.parse(raw, {"timezone": "Asia/Almaty"})
    except RecordError:
        return
    for item in out:
        assert isinstance(item, Message | Skipped)
        if isinstance(item, Message):
            storable(item)


@settings(max_examples=200, deadline=None)
@given(
    header=st.dictionaries(st.sampled_from(["name", "type", "id"]), json_values),
    messages=json_values | st.lists(st.dictionaries(st.sampled_from(MESSAGE_FIELDS), json_values), max_size=4),
)
def test_any_json_in_an_export_splits_without_raising(header: dict[str, Any], messages: Any) -> None:
    data = json.dumps({**header, "messages": messages}).encode()
    items = read(Path("result.json"), data)
    assert [i.ordinal for i in items] == list(range(len(items)))
    for item in items:
        assert isinstance(item, RawRecord | SplitError)
        if isinstance(item, RawRecord):
            orjson.dumps(dict(item.context))
            with contextlib.suppress(RecordError):
                SOURCE.parse(item, {})


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=12),
    edits=st.lists(st.tuples(st.floats(min_value=0, max_value=1), st.binary(max_size=3)), min_size=1, max_size=4),
)
def test_any_damage_to_the_bytes_of_an_export_splits_without_raising(
    count: int, edits: list[tuple[float, bytes]]
) -> None:
    data, _ = export_bytes(list(village_messages(count)))
    damaged = bytearray(data)
    for where, replacement in edits:
        at = int(where * (len(damaged) - 1))
        damaged[at : at + len(replacement) or at + 1] = replacement
    items = read(Path("result.json"), bytes(damaged))
    assert [i.ordinal for i in items] == list(range(len(items)))
    for item in items:
        assert isinstance(item, RawRecord | SplitError)
        if isinstance(item, RawRecord):
            with contextlib.suppress(RecordError):
                SOURCE.parse(item, {})


def test_a_person_has_one_pseudonym_as_author_and_as_one_to_one_chat() -> None:
    from flashpoint.model import Enriched
    from flashpoint.stages.privacy import Pseudonymise, Pseudonymiser

    raw = RawRecord(
        "result.json",
        0,
        "messages[0]",
        b'{"id": 1, "type": "message", "date_unixtime": "1742047200", "from": "A", "from_id": "user777", "text": "hi"}',
        {"chat_name": "A", "chat_type": "personal_chat", "chat_id": 777},
    )
    (message,) = SOURCE.parse(raw, {})
    assert isinstance(message, Message)
    out = Pseudonymise(Pseudonymiser(b"k" * 32))(Enriched(message)).message
    assert out.channel == f"user:{out.author}"
