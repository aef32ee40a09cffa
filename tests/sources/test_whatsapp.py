"""Behaviour of the WhatsApp chat-export reader: stamps, date order, splitting, system lines, media."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashpoint.config import Config
from flashpoint.errors import ConfigError, RecordError
from flashpoint.model import Attachment, Enriched, Message, RawRecord, Skipped
from flashpoint.runners.embedded import EmbeddedRunner
from flashpoint.sources.base import SplitError
from flashpoint.sources.csv import CsvSource
from flashpoint.sources.jsonl import JsonlSource
from flashpoint.sources.whatsapp import LOOKAHEAD_BYTES, MAX_LINE_PIECE, WhatsAppSource
from flashpoint.stages.privacy import Pseudonymise, Pseudonymiser
from flashpoint.store import SqliteStore
from tests.golden import samples

SOURCE = WhatsAppSource()
CHAT = Path("WhatsApp Chat with Masanchi jamaat.txt")


def split(data: bytes, options: Mapping[str, Any] | None = None, path: Path = CHAT) -> list[RawRecord | SplitError]:
    return list(SOURCE.records(path, io.BytesIO(data), options or {}))


def read(data: bytes, options: Mapping[str, Any] | None = None) -> list[Message | Skipped | str]:
    """Every outcome of a file: messages, skips, and error codes as strings."""
    found: list[Message | Skipped | str] = []
    for item in split(data, options):
        if isinstance(item, SplitError):
            found.append(item.code)
            continue
        try:
            found.extend(SOURCE.parse(item, options or {}))
        except RecordError as exc:
            found.append(exc.code)
    return found


def parse_line(line: str, order: str = "dmy", options: Mapping[str, Any] | None = None) -> list[Message | Skipped]:
    raw = RawRecord(str(CHAT), 0, "line 1", line.encode(), {"chat": "Masanchi jamaat", "date_order": order})
    return list(SOURCE.parse(raw, options or {}))


def only_message(line: str, order: str = "dmy", options: Mapping[str, Any] | None = None) -> Message:
    [out] = parse_line(line, order, options)
    assert isinstance(out, Message)
    return out


# --- stamp layouts: render a datetime the way each kind of export writes it ----------------------


def _h12(t: datetime) -> int:
    return t.hour % 12 or 12


def _mark(t: datetime, am: str, pm: str) -> str:
    return am if t.hour < 12 else pm


Layout = tuple[Callable[[datetime], str], str, bool]  # render, date order, has seconds

LAYOUTS: dict[str, Layout] = {
    "android dd/mm/yyyy 24h": (lambda t: f"{t:%d/%m/%Y}, {t:%H:%M} - ", "dmy", False),
    "android m/d/yy 12h": (
        lambda t: f"{t.month}/{t.day}/{t:%y}, {_h12(t)}:{t:%M} {_mark(t, 'AM', 'PM')} - ",
        "mdy",
        False,
    ),
    "android m/d/yy 12h narrow nbsp": (
        lambda t: f"{t.month}/{t.day}/{t:%y}, {_h12(t)}:{t:%M}\u202f{_mark(t, 'AM', 'PM')} - ",
        "mdy",
        False,
    ),
    "android dd.mm.yy 24h": (lambda t: f"{t:%d.%m.%y}, {t:%H:%M} - ", "dmy", False),
    "android dd.mm.yyyy 24h": (lambda t: f"{t:%d.%m.%Y}, {t:%H:%M} - ", "dmy", False),
    "android en dash": (lambda t: f"{t:%d/%m/%Y}, {t:%H:%M} – ", "dmy", False),
    "android a.m./p.m.": (lambda t: f"{t:%d/%m/%Y}, {_h12(t)}:{t:%M} {_mark(t, 'a.m.', 'p.m.')} - ", "dmy", False),
    "android ru ДП/ПП": (lambda t: f"{t:%d.%m.%y}, {_h12(t)}:{t:%M} {_mark(t, 'ДП', 'ПП')} - ", "dmy", False),
    "android kk ТД/ТК": (lambda t: f"{t:%d/%m/%Y}, {_h12(t)}:{t:%M} {_mark(t, 'ТД', 'ТК')} - ", "dmy", False),
    "android yyyy-mm-dd": (lambda t: f"{t:%Y-%m-%d} {t:%H:%M} - ", "ymd", False),
    "ios dd/mm/yyyy seconds": (lambda t: f"[{t:%d/%m/%Y}, {t:%H:%M:%S}] ", "dmy", True),
    "ios m/d/yy 12h seconds lrm narrow nbsp": (
        lambda t: f"\u200e[{t.month}/{t.day}/{t:%y}, {_h12(t)}:{t:%M:%S}\u202f{_mark(t, 'AM', 'PM')}] ",
        "mdy",
        True,
    ),
    "ios dd.mm.yy seconds": (lambda t: f"[{t:%d.%m.%y}, {t:%H:%M:%S}] ", "dmy", True),
}

moments = st.datetimes(min_value=datetime(2009, 1, 1), max_value=datetime(2099, 9, 30, 23, 59, 59)).map(
    lambda t: t.replace(microsecond=0)
)


@st.composite
def chats(draw: st.DrawFn) -> list[datetime]:
    """Stamps of one chat in time order; half the time every day and month is <= 12, so that only the
    chronology of the stamps can tell the date order."""
    if draw(st.booleans()):
        year = draw(st.integers(min_value=2009, max_value=2099))
        small = st.integers(min_value=1, max_value=12)
        fields = st.tuples(small, small, st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
        return sorted(datetime(year, *f) for f in draw(st.lists(fields, min_size=1, max_size=30)))
    start = draw(moments)
    gaps = draw(st.lists(st.integers(min_value=0, max_value=40 * 24 * 60), max_size=29))
    stamps = [start]
    for gap in gaps:
        stamps.append(stamps[-1] + timedelta(minutes=gap))
    return stamps


@settings(max_examples=300)
@given(moment=moments, layout=st.sampled_from(sorted(LAYOUTS)))
def test_a_rendered_stamp_parses_back_to_the_same_moment(moment: datetime, layout: str) -> None:
    render, order, seconds = LAYOUTS[layout]
    [raw] = split(f"{render(moment)}Асем: салем".encode(), {"date_order": order})
    assert isinstance(raw, RawRecord)
    message = SOURCE.parse(raw, {})[0]
    assert isinstance(message, Message)
    expected = moment if seconds else moment.replace(second=0)
    assert message.sent_at == expected.replace(tzinfo=UTC)
    assert message.text == "салем"


ambiguous_layouts = [name for name, (_, order, _) in LAYOUTS.items() if order != "ymd"]


@settings(max_examples=150)
@given(
    stamps=chats(),
    layout=st.sampled_from(ambiguous_layouts),
)
def test_date_order_is_inferred_when_a_stamp_tells(stamps: list[datetime], layout: str) -> None:
    render, order, _ = LAYOUTS[layout]
    if not any(t.day > 12 for t in stamps):
        stamps = [*stamps, stamps[-1].replace(day=28)]  # a later stamp whose day tells the order
    data = "\n".join(f"{render(t)}Асем: салем" for t in stamps).encode()
    records = split(data)
    assert {r.context["date_order"] for r in records if isinstance(r, RawRecord)} == {order}


@settings(max_examples=150)
@given(stamps=chats(), layout=st.sampled_from(ambiguous_layouts))
def test_the_inferred_order_never_makes_time_run_backwards(stamps: list[datetime], layout: str) -> None:
    render, _, _ = LAYOUTS[layout]
    data = "\n".join(f"{render(t)}Асем: салем" for t in stamps).encode()
    times = [m.sent_at for m in read(data) if isinstance(m, Message)]
    assert len(times) == len(stamps)
    assert times == sorted(times)


# --- date order: examples ------------------------------------------------------------------------


def orders(lines: list[str], options: Mapping[str, Any] | None = None) -> tuple[str, str]:
    [first, *_] = split("\n".join(lines).encode(), options)
    assert isinstance(first, RawRecord)
    return first.context["date_order"], first.context["date_order_from"]


def test_a_first_field_over_12_means_day_first() -> None:
    assert orders(["07/02/2020, 22:15 - A: x", "13/02/2020, 08:00 - A: y"]) == ("dmy", "evidence")


def test_a_second_field_over_12_means_month_first() -> None:
    assert orders(["2/7/20, 10:15 PM - A: x", "2/13/20, 8:00 AM - A: y"]) == ("mdy", "evidence")


def test_the_order_in_which_dates_run_forward_wins_without_a_field_over_12() -> None:
    assert orders(["3/9/21, 7:15 PM - A: x", "3/10/21, 8:02 AM - A: y", "4/2/21, 9:00 AM - A: z"]) == (
        "mdy",
        "chronology",
    )


@pytest.mark.parametrize(
    "lines",
    [
        ["07.02.20, 18:40 - Ахмед: салем", "08.02.20, 07:02 - Ахмед: қалайсың"],
        ["03/02/2020, 08:00 - Серік: сәлем"],
    ],
)
def test_without_evidence_day_first_is_assumed(lines: list[str]) -> None:
    assert orders(lines) == ("dmy", "default")


def test_a_four_digit_first_field_means_year_first() -> None:
    assert orders(["2020-02-07 22:15 - A: x"]) == ("ymd", "evidence")


def test_the_option_forces_the_order_over_the_evidence() -> None:
    lines = ["07/02/2020, 22:15 - A: x", "13/02/2020, 08:00 - A: y"]
    assert orders(lines, {"date_order": "mdy"}) == ("mdy", "option")
    # 13/02 makes no date month first: that record is a bad timestamp, the other one reads as July 2.
    outcomes = read("\n".join(lines).encode(), {"date_order": "mdy"})
    assert isinstance(outcomes[0], Message)
    assert outcomes[0].sent_at == datetime(2020, 7, 2, 22, 15, tzinfo=UTC)
    assert outcomes[1] == "bad_timestamp"


def test_an_unknown_date_order_option_is_refused() -> None:
    with pytest.raises(ConfigError):
        split(b"07/02/2020, 22:15 - A: x", {"date_order": "dym"})


def test_the_order_is_inferred_from_a_bounded_look_ahead_and_given_to_every_record() -> None:
    early = [f"0{1 + i % 9}/02/2020, 10:{i % 60:02d} - A: x" for i in range(20)]
    data = "\n".join([*early, "13/02/2020, 10:00 - A: y"]).encode()
    assert {r.context["date_order"] for r in split(data) if isinstance(r, RawRecord)} == {"dmy"}


# --- splitting -----------------------------------------------------------------------------------

MULTI = (
    b"12/02/2020, 08:30 - Bolat: first\n"
    b"12/02/2020, 09:00 - Bolat: Market opens late today.\r\n"
    b"Traders from Masanchi are not coming,\n"
    b"\n"
    b"please share.\n"
    b"12/02/2020, 09:05 - Zarina: ok\n"
    b"\n"
)


def test_a_multi_line_message_is_one_record_with_its_exact_bytes() -> None:
    records = split(MULTI)
    assert [r.locator for r in records] == ["line 1", "lines 2-5", "line 6"]
    assert records[1].data == (
        b"12/02/2020, 09:00 - Bolat: Market opens late today.\r\nTraders from Masanchi are not coming,\n\nplease share."
    )
    assert records[2].data == b"12/02/2020, 09:05 - Zarina: ok"
    assert [r.ordinal for r in records] == [0, 1, 2]
    assert isinstance(records[1], RawRecord)
    message = SOURCE.parse(records[1], {})[0]
    assert isinstance(message, Message)
    assert message.text == "Market opens late today.\nTraders from Masanchi are not coming,\n\nplease share."


def test_lines_before_the_first_stamp_are_a_split_error_naming_them() -> None:
    data = b"\xef\xbb\xbf\non the bridge\nbring water\n12/02/2020, 08:30 - Bolat: hi\n"
    first, second = split(data)
    assert isinstance(first, SplitError)
    assert (first.code, first.locator, first.ordinal, first.data) == (
        "no_date",
        "lines 2-3",
        0,
        b"on the bridge\nbring water",
    )
    assert "lines 2-3" in str(first)
    assert isinstance(second, RawRecord)
    assert (second.locator, second.ordinal) == ("line 4", 1)


def test_a_byte_order_mark_does_not_hide_the_first_stamp() -> None:
    [record] = split(b"\xef\xbb\xbf12/02/2020, 08:30 - Bolat: hi\n")
    assert isinstance(record, RawRecord)
    assert record.data == b"12/02/2020, 08:30 - Bolat: hi"


def test_invalid_utf8_fails_only_its_own_message() -> None:
    data = (
        b"12/02/2020, 09:12 - Zarina: before\n"
        b"12/02/2020, 09:15 - Zarina: \xff\xfe broken\n"
        b"12/02/2020, 09:16 - Zarina: after\n"
    )
    outcomes = read(data)
    assert outcomes[1] == "bad_encoding"
    assert [m.text for m in outcomes if isinstance(m, Message)] == ["before", "after"]


def test_a_message_longer_than_whatsapp_allows_is_a_split_error_and_the_next_one_survives() -> None:
    data = (
        b"12/02/2020, 09:12 - Zarina: start\n"
        + b"x" * 700_000
        + b"\n"
        + b"y" * 700_000
        + b"\n12/02/2020, 09:20 - Bolat: next\n"
    )
    first, second = split(data)
    assert isinstance(first, SplitError)
    assert (first.code, first.locator) == ("too_large", "lines 1-3")
    assert isinstance(second, RawRecord)
    assert second.locator == "line 4"


def test_a_line_longer_than_a_read_piece_keeps_line_numbers_right() -> None:
    long_text = b"z" * (MAX_LINE_PIECE + 10)
    data = b"12/02/2020, 09:12 - Zarina: " + long_text[:-30] + b"\n12/02/2020, 09:20 - Bolat: next\n"
    first, second = split(data)
    assert isinstance(first, RawRecord)
    assert first.locator == "line 1"
    assert isinstance(second, RawRecord)
    assert second.locator == "line 2"


class _LazyChat(io.RawIOBase):
    """A big chat produced on demand, counting the bytes handed out."""

    def __init__(self, lines: int) -> None:
        self.served = 0
        self._chunks: Iterator[bytes] = (
            f"{1 + i % 28:02d}/02/2020, 10:{i % 60:02d} - +7 700 000 00{i % 90 + 10}: сообщение номер {i}\n".encode()
            for i in range(lines)
        )
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = chunk
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        self.served += size
        return size


def test_records_stream_after_a_bounded_look_ahead() -> None:
    chat = _LazyChat(200_000)  # about 14 MB
    records = SOURCE.records(CHAT, io.BufferedReader(chat), {})
    first = next(records)
    assert isinstance(first, RawRecord)
    assert chat.served <= LOOKAHEAD_BYTES + MAX_LINE_PIECE
    assert chat.served < 2_000_000  # the line cap of the look-ahead comes first here
    assert sum(1 for _ in records) == 199_999
    assert chat.served > 10_000_000


# --- what a line means ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rest",
    [
        "Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read them.",
        'Bolat created group "Kordai market"',
        "Bolat added +7 700 000 0012",
        "Zarina left",
        'Bolat changed the subject from "Kordai bazaar" to "Kordai market: news"',
        "You joined using this group's invite link",
        "Сообщения и звонки защищены сквозным шифрованием. Никто вне этого чата не может их прочитать.",
        "Ахмед добавил(а) +7 700 000 0021",
        "+7 700 000 0021 вышел(-ла)",
        'Ахмед создал(а) группу "Масанчи жамааты"',
        "Ахмед изменил(а) тему с «Масанчи» на «Масанчи: новости»",
        "Хабарлар мен қоңыраулар өтпелі шифрлаумен қорғалған.",
        "Серік +7 700 000 0031 қосты",
        "+7 700 000 0031 топтан шықты",
        "Masanchi jamaat: \u200eAsel added \u202a+7 700 000 0041\u202c",
        "Masanchi jamaat: \u200eMessages and calls are end-to-end encrypted.",
        "Asel: \u200eMissed voice call",
    ],
)
def test_system_lines_are_skipped_as_system(rest: str) -> None:
    assert parse_line(f"12/02/2020, 08:31 - {rest}") == [Skipped("system")]


@pytest.mark.parametrize(
    "body",
    [
        "This message was deleted",
        "You deleted this message",
        "\u200eThis message was deleted.",
        "Вы удалили это сообщение",
        "Данное сообщение удалено",
        "Бұл хабарлама жойылды",
    ],
)
def test_deleted_messages_are_skipped_as_deleted(body: str) -> None:
    assert parse_line(f"12/02/2020, 08:31 - Zarina: {body}") == [Skipped("deleted")]


@pytest.mark.parametrize("body", ["Bolat left", "Is WhatsApp end-to-end encrypted?", "Аслан добавил(а) фото в альбом"])
def test_a_user_writing_like_a_notice_is_still_a_message(body: str) -> None:
    assert only_message(f"12/02/2020, 08:31 - Zarina: {body}").text == body


def test_an_ios_document_whose_name_reads_like_a_notice_is_still_an_attachment() -> None:
    message = only_message("[12/02/2020, 08:31:00] Zarina: \u200eNames added.pdf • 1 page \u200edocument omitted")
    assert message.attachments == (Attachment("document", "Names added.pdf"),)


@pytest.mark.parametrize(
    ("body", "text", "attachment"),
    [
        ("<Media omitted>", "", Attachment("other")),
        ("<Медиа отсутствуют>", "", Attachment("other")),
        ("<Без медиафайлов>", "", Attachment("other")),
        ("<Медиафайл жоқ>", "", Attachment("other")),
        ("\u200eimage omitted", "", Attachment("photo")),
        ("\u200evideo omitted", "", Attachment("video")),
        ("\u200eaudio omitted", "", Attachment("audio")),
        ("\u200esticker omitted", "", Attachment("sticker")),
        ("\u200eGIF omitted", "", Attachment("video")),
        ("\u200edocument omitted", "", Attachment("document")),
        ("\u200eMinutes.pdf • 2 pages \u200edocument omitted", "", Attachment("document", "Minutes.pdf")),
        ("\u200eизображение отсутствует", "", Attachment("photo")),
        ("\u200eстикер отсутствует", "", Attachment("sticker")),
        (
            "\u200e<attached: 00000012-PHOTO-2020-02-07-22-15-03.jpg>",
            "",
            Attachment("photo", "00000012-PHOTO-2020-02-07-22-15-03.jpg"),
        ),
        (
            "List\u200e<attached: 00000013-VIDEO-2020-02-07-22-16-00.mp4>",
            "List",
            Attachment("video", "00000013-VIDEO-2020-02-07-22-16-00.mp4"),
        ),
        (
            "<вложение: 00000014-AUDIO-2020-02-07-22-17-00.opus>",
            "",
            Attachment("audio", "00000014-AUDIO-2020-02-07-22-17-00.opus"),
        ),
        (
            "IMG-20200207-WA0003.jpg (file attached)\nQueue at the petrol station",
            "Queue at the petrol station",
            Attachment("photo", "IMG-20200207-WA0003.jpg"),
        ),
        ("VID-20200207-WA0004.mp4 (файл добавлен)", "", Attachment("video", "VID-20200207-WA0004.mp4")),
        ("PTT-20200207-WA0005.opus (file attached)", "", Attachment("voice", "PTT-20200207-WA0005.opus")),
        ("STK-20200207-WA0006.webp (file attached)", "", Attachment("sticker", "STK-20200207-WA0006.webp")),
        ("Price list.pdf (file attached)", "", Attachment("document", "Price list.pdf")),
        ("contact.vcf (file attached)", "", Attachment("other", "contact.vcf")),
    ],
)
def test_media_markers_become_attachments(body: str, text: str, attachment: Attachment) -> None:
    message = only_message(f"07/02/2020, 22:15 - Асем: {body}")
    assert message.text == text
    assert message.attachments == (attachment,)


def test_a_message_without_text_or_attachment_is_an_error() -> None:
    with pytest.raises(RecordError) as caught:
        parse_line("07/02/2020, 22:15 - Асем: ")
    assert caught.value.code == "empty_text"


@pytest.mark.parametrize(
    "marker", ["<This message was edited>", "\u200e<This message was edited>", "<Сообщение изменено>"]
)
def test_an_edited_marker_is_stripped_and_noted(marker: str) -> None:
    message = only_message(f"07/02/2020, 22:15 - Асем: Жиналыс сағат 10-да {marker}")
    assert message.text == "Жиналыс сағат 10-да"
    assert message.extra["edited"] is True


def test_an_unedited_message_has_no_edited_note() -> None:
    assert "edited" not in only_message("07/02/2020, 22:15 - Асем: салем").extra


def test_a_colon_in_the_text_stays_in_the_text() -> None:
    message = only_message("07/02/2020, 22:15 - Bolat: Meeting at 10:30: bring receipts")
    assert (message.author_raw, message.text) == ("Bolat", "Meeting at 10:30: bring receipts")


def test_a_phone_number_sender_is_its_digits_without_direction_marks_and_is_no_display_name() -> None:
    message = only_message("[07/02/2020, 22:15:03] \u202a+7 700 000 0041\u202c: салем")
    assert message.author_raw == "77000000041", "one person however the number is spaced"
    assert only_message("[07/02/2020, 22:15:03] +77000000041: салем").author_raw == "77000000041"
    assert message.author_name is None
    assert message.author is None
    assert message.native_id is None
    assert message.id.startswith("whatsapp:Masanchi jamaat:h")


# --- time zone and channel -----------------------------------------------------------------------


def test_local_time_is_read_in_the_timezone_option() -> None:
    message = only_message("07/02/2020, 22:15 - Асем: салем", options={"timezone": "Asia/Almaty"})
    assert message.sent_at == datetime(2020, 2, 7, 16, 15, tzinfo=UTC)
    assert message.original_offset == timezone(timedelta(hours=6))
    assert "offset_assumed" not in message.extra


def test_without_a_timezone_option_utc_is_assumed_and_noted() -> None:
    message = only_message("07/02/2020, 22:15 - Асем: салем")
    assert message.sent_at == datetime(2020, 2, 7, 22, 15, tzinfo=UTC)
    assert message.extra["offset_assumed"] is True


@pytest.mark.parametrize(
    ("path", "channel"),
    [
        ("WhatsApp Chat with Masanchi jamaat.txt", "Masanchi jamaat"),
        ("Чат WhatsApp с Масанчи жамааты.txt", "Масанчи жамааты"),
        ("WhatsApp Chat - Sortobe.txt", "Sortobe"),
        ("WhatsApp Chat - Aukhatty volunteers/_chat.txt", "Aukhatty volunteers"),
        ("exports/Kordai/_chat.txt", "Kordai"),
        ("WhatsApp Chat with Masanchi jamaat (1).txt", "Masanchi jamaat"),
        ("kordai-market.txt", "kordai-market"),
    ],
)
def test_the_channel_is_the_chat_name_from_the_file_name(path: str, channel: str) -> None:
    [record] = split(b"07/02/2020, 22:15 - A: x", path=Path(path))
    assert isinstance(record, RawRecord)
    message = SOURCE.parse(record, {})[0]
    assert isinstance(message, Message)
    assert message.channel == channel


def test_the_channel_option_wins_over_the_file_name() -> None:
    assert only_message("07/02/2020, 22:15 - A: x", options={"channel": "masanchi-1"}).channel == "masanchi-1"


# --- sniffing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", samples("whatsapp"), ids=lambda p: p.name)
def test_every_golden_sample_is_recognised_and_not_claimed_by_the_tabular_readers(sample: Path) -> None:
    head = sample.read_bytes()[:65536]
    assert SOURCE.sniff(sample, head) == 0.95
    assert JsonlSource().sniff(sample, head) < 0.85
    assert CsvSource().sniff(sample, head) < 0.85


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("x.jsonl", b'{"text": "07/02/2020, 22:15 - A: x"}\n{"text": "hi"}\n'),
        ("x.csv", b"id,date,text\n1,07/02/2020 22:15,hi\n"),
        ("notes.txt", "Масанчи, 7 февраля 2020.\nВечером у мечети собрались люди.\n".encode()),
        ("x.txt", b""),
    ],
)
def test_sniff_refuses_other_files(name: str, head: bytes) -> None:
    assert SOURCE.sniff(Path(name), head) == 0.0


@pytest.mark.parametrize(
    "line",
    [
        "Айгерім добавил(-а) Бауыржан",
        "Айгерім удалил(-а) Бауыржан",
        "Бауыржан вышел(-а)",
        "Бауыржан вступил(-а) в группу",
        "Айгерім изменил(-а) тему с «А» на «Б»",
    ],
)
def test_gender_neutral_russian_system_lines_are_system(line: str) -> None:
    android = parse_line(f"15.03.25, 19:02 - {line}")
    ios = parse_line(f"[15.03.25, 19:02:11] Масанчи жамағат: \u200e{line}")
    assert android == [Skipped("system")] and ios == [Skipped("system")]


@pytest.mark.parametrize(
    ("sender", "body"),
    [
        ("Removed Ivanov", "they are coming from Sortobe, close the gate"),
        ("Бауыржан Left", "біз Масанчиден кеттік"),
        ("Added Sultan", "ok"),
        ("Вышла Замуж", "поздравляю всех"),
        ("Kordai market", "Bolat added +7 700 000 0012"),  # a quote of a notice in a message
    ],
)
def test_a_sender_whose_name_reads_like_a_notice_still_has_messages(sender: str, body: str) -> None:
    message = only_message(f"12/02/2020, 08:31 - {sender}: {body}")
    assert (message.author_raw, message.text) == (sender, body)


@pytest.mark.parametrize(
    "rest",
    [
        'Bolat created group "Kordai: market"',
        "Ахмед создал(-а) группу «Масанчи: жамағат»",
        'Bolat changed the group name from "Kordai" to "Kordai: news"',
        "Ахмед изменил(-а) тему на «Масанчи: новости»",
        'Серік "Бұлар Батыр: жаңалықтар" тобын құрды',
    ],
)
def test_notices_quoting_a_name_with_a_colon_are_system(rest: str) -> None:
    assert parse_line(f"12/02/2020, 08:31 - {rest}") == [Skipped("system")]


# --- repeats -------------------------------------------------------------------------------------


def messages_of(data: bytes, path: Path = CHAT) -> list[Message]:
    found: list[Message] = []
    for item in split(data, path=path):
        if isinstance(item, RawRecord):
            found.extend(m for m in SOURCE.parse(item, {}) if isinstance(m, Message))
    return found


def test_the_same_message_sent_three_times_in_a_minute_is_three_messages() -> None:
    data = (
        b"12/02/2020, 09:00 - Bolat: +\n"
        b"12/02/2020, 09:00 - Zarina: +\n"
        b"12/02/2020, 09:00 - Bolat: +\n"
        b"12/02/2020, 09:00 - Bolat: +\n"
        b"12/02/2020, 09:01 - Bolat: +\n"
    )
    found = messages_of(data)
    assert len({m.id for m in found}) == 5
    assert [m.extra.get("occurrence") for m in found] == [None, None, 1, 2, None]
    # the first one keeps the id it has alone: ids of messages that are not repeated do not change
    alone = messages_of(b"12/02/2020, 09:00 - Bolat: +\n")
    assert found[0].id == alone[0].id and "occurrence" not in found[0].extra


def test_photos_sent_in_a_burst_are_each_kept() -> None:
    data = (
        "[12/02/2020, 09:00:05] Asel: \u200e<attached: 00000012-PHOTO-2020-02-12-09-00-05.jpg>\n"
        "[12/02/2020, 09:00:05] Asel: \u200e<attached: 00000013-PHOTO-2020-02-12-09-00-05.jpg>\n"
        "12/02/2020, 09:01 - Bolat: IMG-20200212-WA0001.jpg (file attached)\n"
        "12/02/2020, 09:01 - Bolat: IMG-20200212-WA0002.jpg (file attached)\n"
        "12/02/2020, 09:01 - Bolat: <Media omitted>\n"
    ).encode()
    found = messages_of(data)
    assert len({m.id for m in found}) == 5
    assert [m.extra.get("occurrence") for m in found] == [None, 1, None, 1, 2]


def test_an_edited_repeat_counts_as_a_repeat() -> None:
    found = messages_of(b"12/02/2020, 09:00 - Bolat: ok\n12/02/2020, 09:00 - Bolat: ok <This message was edited>\n")
    assert len({m.id for m in found}) == 2


def test_repeats_survive_the_runner(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Masanchi jamaat.txt"
    chat.write_bytes(b"12/02/2020, 09:00 - Bolat: +\n" * 3 + b"12/02/2020, 09:00 - Zarina: \xd0\xb4\xd0\xb0\n")
    config = Config.from_mapping({"store": {"path": str(tmp_path / "s.db")}, "privacy": {"pseudonym_key": "k" * 40}})
    store = SqliteStore(config.store.path)
    try:
        stats = EmbeddedRunner(store, config).ingest([chat], fmt="whatsapp")
    finally:
        store.close()
    assert stats.messages_added == 4


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(["Bolat", "Zarina", "+7 700 000 0012"]), st.sampled_from("+?!")),
        min_size=1,
        max_size=40,
    )
)
def test_every_message_of_a_chat_gets_its_own_id(lines: list[tuple[int, str, str]]) -> None:
    lines.sort(key=lambda line: line[0])  # stamps in time order, as WhatsApp writes them
    data = "".join(f"12/02/2020, 09:0{minute} - {sender}: {text}\n" for minute, sender, text in lines).encode()
    found = messages_of(data)
    assert len(found) == len(lines)
    assert len({m.id for m in found}) == len(lines)


# --- one-to-one chats ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "WhatsApp Chat with +7 701 123 4567.txt",
        "Чат WhatsApp с +7 (701) 123-45-67.txt",
        "WhatsApp Chat - +7 701 123 4567/_chat.txt",
    ],
)
def test_a_chat_named_by_a_phone_number_is_a_person_channel_and_pseudonymised(path: str) -> None:
    [message] = messages_of("12/02/2020, 09:00 - Bolat: сәлем\n".encode(), path=Path(path))
    assert message.channel == "user:77011234567"
    stored = Pseudonymise(Pseudonymiser(b"k" * 32))(Enriched(message)).message
    assert stored.channel.startswith("user:au_") and stored.id.startswith(f"whatsapp:{stored.channel}:h")
    assert "701" not in stored.channel + stored.id


def test_a_chat_named_by_a_short_number_or_a_name_is_kept() -> None:
    [message] = messages_of(b"12/02/2020, 09:00 - Bolat: hi\n", path=Path("WhatsApp Chat with 112.txt"))
    assert message.channel == "112"


# --- robustness ----------------------------------------------------------------------------------


def test_a_stamp_too_far_in_the_past_is_a_bad_timestamp() -> None:
    assert read(b"01/01/0001, 00:00 - Bolat: hi\n", {"timezone": "Asia/Almaty"}) == ["bad_timestamp"]
    assert read(b"31/12/9999, 23:59 - Bolat: hi\n", {"timezone": "America/New_York"}) == ["bad_timestamp"]


line_parts = st.one_of(
    st.sampled_from(
        [
            "12/02/2020, 09:00 - ",
            "2/13/20, 10:15\u202fPM - ",
            "[07.02.20, 22:15:03] ",
            "\u200e[2/9/20, 8:01:12\u202fAM] ",
            "01/01/0001, 00:00 - ",
            "01/01/0001, 00:00 - Bolat: x",
            "31/12/9999, 23:59 - Bolat: x",
            "99/99/99, 99:99 - ",
            "2020-02-07 22:15 - ",
            "Bolat: ",
            "\u202a+7 700 000 0041\u202c: ",
            "Removed Ivanov: ",
            "Масанчи: \u200e",
            "<Media omitted>",
            "\u200eimage omitted",
            "IMG-1.jpg (file attached)",
            "<attached: 00000012-PHOTO.jpg>",
            "<This message was edited>",
            "This message was deleted",
            "added",
            "left",
            "вышел(-ла)",
            " • ",
            "\r",
            ":",
        ]
    ),
    st.text(max_size=12),
)
chat_lines = st.lists(st.lists(line_parts, max_size=5).map("".join), max_size=12).map("\n".join)


def check_outcomes(data: bytes, options: Mapping[str, Any]) -> None:
    """Everything records() and parse() give is a record, a split error, a message or a skip; the
    only exceptions are record errors."""
    items = list(SOURCE.records(CHAT, io.BytesIO(data), options))
    assert [i.ordinal for i in items] == list(range(len(items)))
    for item in items:
        assert isinstance(item, RawRecord | SplitError)
        if isinstance(item, SplitError):
            continue
        try:
            outcomes = SOURCE.parse(item, options)
        except RecordError:
            continue
        for outcome in outcomes:
            assert isinstance(outcome, Message | Skipped)
            if isinstance(outcome, Message):
                assert outcome.local_sent_at.tzinfo is not None


fuzz_options = st.sampled_from([{}, {"timezone": "Asia/Almaty"}, {"timezone": "America/Adak"}, {"date_order": "mdy"}])


@settings(max_examples=300, deadline=None)
@given(text=chat_lines, options=fuzz_options)
def test_any_lines_give_only_records_messages_skips_and_record_errors(text: str, options: dict[str, Any]) -> None:
    check_outcomes(text.encode("utf-8", "surrogatepass"), options)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400), options=fuzz_options)
def test_any_bytes_give_only_records_messages_skips_and_record_errors(data: bytes, options: dict[str, Any]) -> None:
    check_outcomes(b"12/02/2020, 09:00 - Bolat: " + data, options)
    check_outcomes(data, options)
