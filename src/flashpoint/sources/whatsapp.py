"""WhatsApp "Export chat" text files from Android and iOS, in English, Russian and Kazakh locales.

Why a parser of its own: WhatsApp writes local time with no offset, in the phone's locale (day or
month first, 12 or 24 hours, ``AM``/``ДП``/``ТД``, invisible U+200E and U+202F characters), and a
message may span many lines. A record is one message: the line with its date stamp and every line
after it that has none. The date order is inferred once per file from a bounded look-ahead (a first
field over 12 means day first, a second field over 12 means month first, then the chronology of the
stamps, then day first) and travels in each record's context, so a quarantined message parses
again on its own. System lines ("X added Y", "… вышел(-ла)") and deleted messages are skipped and
counted; omitted media become attachments.

A line is a message when it has a "Sender: " part; only a line without one is matched against the
system notices, so a person named "Removed Ivanov" or "Бауыржан Left" still has messages. (Notices
that quote a group name, which may hold ": ", are recognised by their quotes.)

Ids: WhatsApp gives messages no id, so the id is a hash of the chat, the stamp, the sender and the
text. People send the same "+" three times in a minute; ``records`` counts such repeats within one
stamp and the 2nd, 3rd... get ``extra["occurrence"]`` 1, 2..., so that none is lost as a duplicate.

Privacy: a one-to-one chat is exported under the other person's name or number. A chat named by a
phone number becomes the channel ``user:<digits>``, which the pseudonymise stage replaces. A chat
named by a person's saved name cannot be told from a group's name and is kept as written.

Example:
    >>> infer_date_order(match_stamp(line) for line in ["2/13/20, 10:15 PM - Асем: салем"])
    ('mdy', 'evidence')
    >>> stamp = match_stamp("[07.02.20, 22:15:03] Асем: салем")
    >>> stamp.to_datetime("dmy").isoformat() if stamp else None
    '2020-02-07T22:15:03'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from flashpoint.errors import ConfigError, RecordError
from flashpoint.model import Attachment, Message, RawRecord, Skipped, SourceKind
from flashpoint.sources.base import Options, Parsed, SplitError, as_int, decode_text, timezone_option

DATE_ORDERS = ("dmy", "mdy", "ymd")
LOOKAHEAD_BYTES = 4 * 1024 * 1024  # how far records() reads ahead to infer the date order
LOOKAHEAD_LINES = 10_000
LOOKAHEAD_STAMPS = 2_000
MAX_LINE_PIECE = 256 * 1024  # a longer line is read in pieces, so memory stays flat
MAX_RECORD_BYTES = 1024 * 1024  # WhatsApp caps a message near 65,536 characters; more is not a message
ENCODING = "utf-8"
YEARS = (1900, 2200)  # a stamp outside these years is broken, not a message

BIDI_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"

_STAMP = re.compile(
    r"[\u200e\u200f\ufeff]*"
    r"(?P<open>\[)?"
    r"(?P<first>\d{1,4})(?P<sep>[./-])(?P<second>\d{1,2})(?P=sep)(?P<third>\d{2,4})"
    r",?[ \u00a0]"
    r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<seconds>\d{2}))?"
    r"(?:[ \u00a0\u202f]?(?P<meridiem>[ap]\.?[ \u00a0]?m\.?|дп|пп|тд|тк|тң))?"
    r"(?(open)\][ \u00a0]?|[ \u00a0\u202f][-–][ \u00a0])",
    re.IGNORECASE,
)
_PM = frozenset({"pm", "пп", "тк"})

# The sender runs up to the first colon that a space, a line end or the end follows.
_SENDER = re.compile(r"(?P<sender>[^:\n]{1,200}?):(?:[ \u00a0]|(?=\n)|$)")
_PHONE = re.compile(r"\+?[\d \u00a0()\-]{6,}")
_PHONE_CHAT = re.compile(r"\+?[\d \u00a0()\-.]+")

_SYSTEM = re.compile(
    "|".join(
        (
            # English
            r"end-to-end encrypted",
            r"\bcreated (?:the |this )?group\b",
            r"\badded\b",
            r"\bremoved\b",
            r"\bleft$",
            r"\bchanged (?:the subject|this group's icon|the group description|the group settings|their phone number)",
            r"\bdeleted this group's icon\b",
            r"\bjoined using this group's invite link\b",
            r"\b(?:is|are|you're) now an admin\b",
            r"\bsecurity code (?:with .+ )?changed\b",
            r"^missed (?:voice|video|group voice|group video) call\b",
            r"\bdisappearing messages\b",
            r"\bpinned a message\b",
            # Russian
            r"защищены сквозным шифрованием",
            r"\bсоздал(?:\(-?а\)|а)? (?:группу|эту группу)",
            r"\bдобавил(?:\(-?а\)|а|и)?(?=\s|$)",
            r"\bудалил(?:\(-?а\)|а)? (?!это сообщение)",
            r"\bвышел(?:\(-?ла\)|\(-?а\))?$|\bвышла$|\bвышли$",
            r"\bизменил(?:\(-?а\)|а|и)? (?:тему|описание группы|изображение группы|настройки группы|номер)",
            r"\bприсоединил(?:ся|ась|ись|ся\(-ась\)|\(ся\)|\(ась\)) (?:к группе )?по ссылке-приглашению",
            r"\bвступил(?:\(-?а\)|а|и)? в группу\b",
            r"\bкод безопасности .*изменился\b",
            r"\bтеперь администратор\b",
            r"^пропущенный (?:аудио|видео)?звонок\b",
            r"\bисчезающие сообщения\b",
            # Kazakh (plausible wordings of the same notices)
            r"өтпелі шифрлаумен қорғалған",
            r"\b(?:топ|топты|тобын) құрды\b",
            r"\bқосты$",
            r"\bшықты$",
            r"\bшығарды$",
            r"\bтақырыбын өзгертті\b",
            r"\bшақыру сілтемесі арқылы қосыл",
            r"\bқауіпсіздік коды өзгерді\b",
            r"\bенді әкімші\b",
            r"^қабылданбаған (?:дауыстық|бейне) қоңырау\b",
        )
    ),
    re.IGNORECASE,
)
_QUOTE = r"[\"“”«»„]"
# Notices that quote a group name or subject, which may hold ": " and so look like "Sender: text".
_QUOTED_NOTICE = re.compile(
    r"[^:\n]{1,200}? (?:"
    + "|".join(
        (
            rf"created group {_QUOTE}.*{_QUOTE}",
            rf"changed (?:the subject|the group name|this group's name)(?: from {_QUOTE}.*{_QUOTE})?"
            rf" to {_QUOTE}.*{_QUOTE}",
            rf"создал(?:\(-?а\)|а)? группу {_QUOTE}.*{_QUOTE}",
            rf"изменил(?:\(-?а\)|а|и)? (?:тему|название группы)(?: с {_QUOTE}.*{_QUOTE})? на {_QUOTE}.*{_QUOTE}",
            rf"{_QUOTE}.*{_QUOTE} (?:тобын|топты|топ) құрды",
            rf"тақырыбын {_QUOTE}.*{_QUOTE}.* өзгертті",
        )
    )
    + ")",
    re.IGNORECASE | re.DOTALL,
)
_ENCRYPTION_NOTICE = re.compile(
    r"messages and calls are end-to-end encrypted|сообщения и звонки защищены|хабарлар мен қоңыраулар",
    re.IGNORECASE,
)
_DELETED = re.compile(
    r"(?:this message was deleted|you deleted this message|вы удалили это сообщение|данное сообщение удалено"
    r"|это сообщение удалено|сообщение удалено|бұл хабарлама жойылды|сіз бұл хабарламаны жойдыңыз)\.?",
    re.IGNORECASE,
)
_EDITED = re.compile(
    r"[ \u00a0\u200e]*<(?:this message was edited|сообщение изменено|сообщение было изменено|хабарлама өзгертілді"
    r"|бұл хабарлама өзгертілді)>\s*$",
    re.IGNORECASE,
)
_ATTACHED = re.compile(r"\u200e?<(?:attached|прикреплено|вложение|тіркелген): (?P<name>[^<>\n]+?)>", re.IGNORECASE)
_FILE_ATTACHED = re.compile(
    r"(?P<name>\S(?:[^\n]*?\S)?) \((?:file attached|файл добавлен|файл прикрепл[её]н|файл тіркелді)\)(?P<rest>.*)",
    re.IGNORECASE,
)
_MEDIA_OMITTED = re.compile(
    r"<(?:media omitted|медиа отсутствуют|медиафайл отсутствует|без медиафайлов|медиафайл жоқ|медиа файлдар жоқ)>",
    re.IGNORECASE,
)
_WORD_KINDS: dict[str, str] = {
    "image": "photo", "photo": "photo", "изображение": "photo", "фото": "photo", "сурет": "photo",
    "video": "video", "видео": "video", "бейне": "video", "gif": "video",
    "audio": "audio", "аудио": "audio", "аудиофайл": "audio", "voice message": "voice", "голосовое сообщение": "voice",
    "sticker": "sticker", "стикер": "sticker",
    "document": "document", "документ": "document", "құжат": "document",
    "contact card": "other", "карточка контакта": "other", "media": "other", "медиа": "other",
}  # fmt: skip
_WORD_OMITTED = re.compile(
    r"(?:(?P<name>[^\n•]+?)\s+•\s+[^\n]*?\s*)?<?(?P<word>"
    + "|".join(sorted((re.escape(word) for word in _WORD_KINDS), key=len, reverse=True))
    + r")\s+(?:omitted|отсутствует|опущено|опущен|жоқ)>?",
    re.IGNORECASE,
)
_NAME_KINDS = (
    (re.compile(r"PHOTO|^IMG", re.I), "photo"),
    (re.compile(r"STICKER|^STK", re.I), "sticker"),
    (re.compile(r"GIF|VIDEO|^VID", re.I), "video"),
    (re.compile(r"^PTT", re.I), "voice"),
    (re.compile(r"AUDIO|^AUD", re.I), "audio"),
    (re.compile(r"^DOC|\.(?:pdf|docx?|xlsx?|pptx?|txt|zip|rar)$", re.I), "document"),
    (re.compile(r"\.(?:jpe?g|png|heic)$", re.I), "photo"),
    (re.compile(r"\.webp$", re.I), "sticker"),
    (re.compile(r"\.(?:mp4|mov|3gp)$", re.I), "video"),
    (re.compile(r"\.(?:opus|ogg|m4a|mp3|aac|amr|wav)$", re.I), "audio"),
)
_CHAT_PREFIX = re.compile(
    r"^(?:WhatsApp Chat with |WhatsApp Chat [-–] |Чат WhatsApp с |Чат WhatsApp [-–] |WhatsApp чаты [-–] )",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Stamp:
    """The date stamp at the start of a message line, as written (fields not yet ordered)."""

    first: str
    second: str
    third: str
    hour: int
    minute: int
    seconds: int | None
    meridiem: str | None
    end: int  # where the text after the stamp begins

    def date_fields(self, order: str) -> tuple[int, int, int]:
        """(year, month, day) under a date order; a four-digit year fixes its own position."""
        if len(self.first) == 4 or (order == "ymd" and len(self.third) != 4):
            year, month, day = self.first, self.second, self.third
        elif order == "mdy":
            month, day, year = self.first, self.second, self.third
        else:
            day, month, year = self.first, self.second, self.third
        if len(year) not in (2, 4):
            raise ValueError(f"{year!r} is not a year")
        return (2000 + int(year) if len(year) == 2 else int(year)), int(month), int(day)

    def to_datetime(self, order: str) -> datetime:
        """The naive local datetime; ValueError if the fields make no date under this order."""
        hour = self.hour
        if self.meridiem is not None:
            if hour > 12:
                raise ValueError(f"hour {hour} with {self.meridiem}")
            hour = hour % 12 + (12 if _meridiem_key(self.meridiem) in _PM else 0)
        year, month, day = self.date_fields(order)
        return datetime(year, month, day, hour, self.minute, self.seconds or 0)


def _meridiem_key(value: str) -> str:
    return re.sub(r"[.\s\u00a0]", "", value).casefold()


def match_stamp(line: str) -> Stamp | None:
    """The date stamp that starts a message line, or None for a continuation line.

    >>> match_stamp("2/7/20, 10:15\\u202fPM - Асем: салем").to_datetime("mdy").isoformat()
    '2020-02-07T22:15:00'
    """
    found = _STAMP.match(line)
    if found is None:
        return None
    seconds = found["seconds"]
    return Stamp(
        first=found["first"],
        second=found["second"],
        third=found["third"],
        hour=int(found["hour"]),
        minute=int(found["minute"]),
        seconds=int(seconds) if seconds is not None else None,
        meridiem=found["meridiem"],
        end=found.end(),
    )


def infer_date_order(stamps: Iterable[Stamp | None]) -> tuple[str, str]:
    """The date order of a file and why: ("dmy" | "mdy" | "ymd", "evidence" | "chronology" | "default").

    A first field over 12 votes day first, a second field over 12 votes month first. Without such
    votes, the order under which the stamps run forward in time wins; without that, day first.
    """
    seen = [stamp for stamp in stamps if stamp is not None]
    if any(len(stamp.first) == 4 for stamp in seen):
        return "ymd", "evidence"
    day_first = sum(1 for stamp in seen if int(stamp.first) > 12)
    month_first = sum(1 for stamp in seen if int(stamp.second) > 12)
    if day_first or month_first:
        return ("dmy" if day_first >= month_first else "mdy"), "evidence"
    backwards = {order: _steps_back(seen, order) for order in ("dmy", "mdy")}
    if backwards["mdy"] < backwards["dmy"]:
        return "mdy", "chronology"
    if backwards["dmy"] < backwards["mdy"]:
        return "dmy", "chronology"
    return "dmy", "default"


def _steps_back(stamps: list[Stamp], order: str) -> int:
    """How often the date goes backwards (or makes no date) reading the stamps under an order."""
    count = 0
    previous: tuple[int, int, int] | None = None
    for stamp in stamps:
        try:
            year, month, day = stamp.date_fields(order)
            current = (year, month, day)
            datetime(year, month, day)
        except ValueError:
            count += 1
            continue
        if previous is not None and current < previous:
            count += 1
        previous = current
    return count


def chat_name(path: Path) -> str:
    """The chat's name from the export's file name (or its folder, for iOS ``_chat.txt``).

    >>> chat_name(Path("WhatsApp Chat with Masanchi jamaat.txt"))
    'Masanchi jamaat'
    >>> chat_name(Path("WhatsApp Chat - Сортобе/_chat.txt"))
    'Сортобе'
    """
    stem = path.stem
    if path.name.casefold() in {"_chat.txt", "chat.txt"} and path.parent.name:
        stem = path.parent.name
    name = re.sub(r" \(\d+\)$", "", _CHAT_PREFIX.sub("", stem)).strip()
    return name or stem


def date_order_option(options: Options) -> str | None:
    """The ``date_order`` option, checked."""
    value = options.get("date_order")
    if value in (None, ""):
        return None
    order = str(value).strip().lower()
    if order not in DATE_ORDERS:
        raise ConfigError("bad_option", f"date_order must be one of {', '.join(DATE_ORDERS)}, not {value!r}")
    return order


class WhatsAppSource:
    format: ClassVar[str] = "whatsapp"
    kind: ClassVar[SourceKind] = SourceKind.WHATSAPP
    option_names: ClassVar[frozenset[str]] = frozenset({"timezone", "channel", "date_order"})

    def sniff(self, path: Path, head: bytes) -> float:
        text = head.decode(ENCODING, errors="replace").lstrip("\ufeff")
        lines = [line for line in text.splitlines()[:40] if line.strip()]
        hits = sum(1 for line in lines if match_stamp(line) is not None)
        # Multi-line messages make stamp lines a minority at times, so a quarter of the lines will do.
        return 0.95 if hits and hits >= min(2, len(lines)) and hits >= 0.25 * len(lines) else 0.0

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        forced = date_order_option(options)
        pieces = _pieces(stream)
        head, stamps = _look_ahead(pieces)
        order, why = (forced, "option") if forced else infer_date_order(stamps)
        context = {"chat": chat_name(path), "date_order": order, "date_order_from": why}
        yield from _split(path, chain(head, pieces), context)

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        text = decode_text(raw.data, ENCODING, **where).replace("\r\n", "\n")
        stamp = match_stamp(text)
        if stamp is None:
            raise RecordError("no_timestamp", "the record does not start with a WhatsApp date stamp", **where)
        order = date_order_option(options) or str(raw.context.get("date_order") or "dmy")
        try:
            local = stamp.to_datetime(order)
        except ValueError as exc:
            raise RecordError(
                "bad_timestamp",
                f"the date stamp makes no date read as {order} (a day, month or hour out of range); "
                "pass --option date_order=dmy|mdy|ymd",
                **where,
            ) from exc
        if not YEARS[0] <= local.year <= YEARS[1]:
            raise RecordError("bad_timestamp", f"the date stamp is not between {YEARS[0]} and {YEARS[1]}", **where)
        content = _content(text[stamp.end :])
        if isinstance(content, Skipped):
            return [content]
        sender, body, attachments, edited = content
        if not body and not attachments:
            raise RecordError("empty_text", "the message has no text and no attachment", **where)
        extra: dict[str, Any] = {}
        if not options.get("timezone"):
            extra["offset_assumed"] = True
        if edited:
            extra["edited"] = True
        occurrence = as_int(raw.context.get("occurrence"))
        if occurrence is not None and occurrence >= 1:
            extra["occurrence"] = occurrence
        return [
            Message.create(
                source=self.kind,
                channel=_channel(raw, options),
                native_id=None,
                sent_at=local.replace(tzinfo=timezone_option(options)),
                text=body,
                raw_sha256=raw.sha256,
                author=_phone_digits(sender) or sender,
                author_name=None if _PHONE.fullmatch(sender) else sender,
                attachments=attachments,
                extra=extra,
            )
        ]


def _channel(raw: RawRecord, options: Options) -> str:
    """The ``channel`` option, else the chat's name; a chat named by a phone number is a one-to-one
    chat with that person, written ``user:<digits>`` so that the pseudonymise stage replaces it."""
    if options.get("channel"):
        return str(options["channel"])
    name = str(raw.context.get("chat") or chat_name(Path(raw.source_file)))
    digits = _phone_digits(name)
    return f"user:{digits}" if digits else name


def _phone_digits(text: str) -> str | None:
    """The digits of a phone number, so that "+7 700 000 0052" and "+77000000052" are one person
    (as a sender and as a one-to-one chat); None when the text is not a phone number.

    >>> _phone_digits("+7 (700) 000-00-52"), _phone_digits("Айгерім")
    ('77000000052', None)
    """
    bare = _without_marks(text)
    digits = "".join(str(int(ch)) for ch in bare if ch.isdecimal())
    return digits if _PHONE_CHAT.fullmatch(bare) and 6 <= len(digits) <= 15 else None


def _pieces(stream: BinaryIO) -> Iterator[tuple[bool, bytes]]:
    """(starts a line, bytes) for each line of the stream, a very long line in several pieces."""
    starts_line = True
    first = True
    while True:
        piece = stream.readline(MAX_LINE_PIECE)
        if not piece:
            return
        if first and piece.startswith(b"\xef\xbb\xbf"):
            piece = piece[3:]
        first = False
        yield starts_line, piece
        starts_line = piece.endswith(b"\n")


def _look_ahead(pieces: Iterator[tuple[bool, bytes]]) -> tuple[list[tuple[bool, bytes]], list[Stamp]]:
    """Read a bounded head of the file; return its pieces (to replay) and the stamps found in it."""
    head: list[tuple[bool, bytes]] = []
    stamps: list[Stamp] = []
    size = 0
    for starts_line, piece in pieces:
        head.append((starts_line, piece))
        size += len(piece)
        stamp = _line_stamp(piece) if starts_line else None
        if stamp is not None:
            stamps.append(stamp)
        if size >= LOOKAHEAD_BYTES or len(head) >= LOOKAHEAD_LINES or len(stamps) >= LOOKAHEAD_STAMPS:
            break
    return head, stamps


def _line_stamp(piece: bytes) -> Stamp | None:
    return match_stamp(piece[:80].decode(ENCODING, errors="replace"))


@dataclass
class _Pending:
    """The lines of the record being gathered."""

    start: int
    orphan: bool  # lines before the first date stamp
    pieces: list[bytes]
    size: int = 0
    end: int = 0
    kept: int = 0  # pieces up to the last one with content
    overflow: bool = False
    stamp: Stamp | None = None

    def add(self, line_number: int, piece: bytes) -> None:
        if self.size + len(piece) > MAX_RECORD_BYTES:
            self.overflow = True
        if not self.overflow:
            self.pieces.append(piece)
            self.size += len(piece)
        if piece.strip():
            self.end = line_number
            self.kept = len(self.pieces)

    def emit(self, path: Path, ordinal: int, context: dict[str, Any]) -> RawRecord | SplitError:
        data = b"".join(self.pieces[: self.kept]).rstrip(b"\r\n")
        locator = f"line {self.start}" if self.start == self.end else f"lines {self.start}-{self.end}"
        if self.orphan:
            return SplitError(
                "no_date",
                f"{locator} of {path.name}: text before the first date stamp belongs to no message; "
                "it was kept in quarantine",
                source_file=str(path), locator=locator, ordinal=ordinal, data=data,
            )  # fmt: skip
        if self.overflow:
            return SplitError(
                "too_large",
                f"the message at {locator} is longer than {MAX_RECORD_BYTES} bytes, more than WhatsApp allows; "
                "its first bytes were kept in quarantine",
                source_file=str(path), locator=locator, ordinal=ordinal, data=data,
            )  # fmt: skip
        return RawRecord(str(path), ordinal, locator, data, context)


def _split(
    path: Path, pieces: Iterable[tuple[bool, bytes]], context: dict[str, Any]
) -> Iterator[RawRecord | SplitError]:
    ordinal = 0
    line_number = 0
    pending: _Pending | None = None
    repeats = _Repeats()
    for starts_line, piece in pieces:
        if starts_line:
            line_number += 1
            stamp = _line_stamp(piece)
            if stamp is not None:
                if pending is not None:
                    yield repeats.number(pending.emit(path, ordinal, context), pending.stamp)
                    ordinal += 1
                pending = _Pending(line_number, orphan=False, pieces=[], stamp=stamp)
            elif pending is None:
                if not piece.strip():
                    continue  # blank lines before anything hold nothing to keep
                pending = _Pending(line_number, orphan=True, pieces=[])
        if pending is not None:
            pending.add(line_number, piece)
    if pending is not None:
        yield repeats.number(pending.emit(path, ordinal, context), pending.stamp)


class _Repeats:
    """Numbers the repeats of one message within one stamp: the 2nd, 3rd... message with the same
    stamp, sender and text (so the same content-hash id) gets ``occurrence`` 1, 2... in its context.

    Only the current stamp's messages are remembered, so memory stays flat; and a message is parsed
    for its sender and text only when another one shares its stamp.
    """

    def __init__(self) -> None:
        self.stamp: tuple[Any, ...] | None = None
        self.first: bytes | None = None  # the stamp's first record, not yet parsed
        self.seen: dict[tuple[str, str], int] = {}

    def number(self, record: RawRecord | SplitError, stamp: Stamp | None) -> RawRecord | SplitError:
        if not isinstance(record, RawRecord) or stamp is None:
            return record
        key = (stamp.first, stamp.second, stamp.third, stamp.hour, stamp.minute, stamp.seconds, stamp.meridiem)
        if key != self.stamp:
            self.stamp, self.first, self.seen = key, record.data, {}
            return record
        if self.first is not None:
            first = _identity(self.first)
            self.first = None
            if first is not None:
                self.seen[first] = 1
        identity = _identity(record.data)
        if identity is None:
            return record
        count = self.seen.get(identity, 0)
        self.seen[identity] = count + 1
        if not count:
            return record
        return RawRecord(
            record.source_file, record.ordinal, record.locator, record.data, {**record.context, "occurrence": count}
        )


def _identity(data: bytes) -> tuple[str, str] | None:
    """(sender, text) of a record that parses to a message, as its content-hash id takes them."""
    try:
        text = data.decode(ENCODING).replace("\r\n", "\n")
    except UnicodeDecodeError:
        return None
    stamp = match_stamp(text)
    content = _content(text[stamp.end :]) if stamp is not None else None
    if content is None or isinstance(content, Skipped):
        return None
    return content[0], content[1]


def _without_marks(value: str) -> str:
    return " ".join(value.translate({ord(mark): None for mark in BIDI_MARKS}).replace("\u202f", " ").split())


def _content(rest: str) -> tuple[str, str, tuple[Attachment, ...], bool] | Skipped:
    """(sender, text, attachments, edited) of what follows a message's stamp, or Skipped."""
    outcome = _sender_and_body(rest)
    if isinstance(outcome, Skipped):
        return outcome
    sender, body = outcome
    body, edited = _strip_edited(body)
    body, attachments = _extract_media(body)
    return sender, body, attachments, edited


def _sender_and_body(rest: str) -> tuple[str, str] | Skipped:
    """The sender and the body of a message, or Skipped for a system line or a deleted message.

    Only a line without a "Sender: " part is a notice (bar notices that quote a group name); the
    notice patterns are never matched against a sender's name.
    """
    found = _SENDER.match(rest)
    sender = _without_marks(found["sender"]) if found else ""
    if found is None or not sender or _QUOTED_NOTICE.fullmatch(_without_marks(rest)):
        notice = _without_marks(rest)
        return Skipped("deleted" if _DELETED.fullmatch(notice) else "system")
    body = rest[found.end() :]
    marked = body.lstrip(" \u00a0").startswith("\u200e")  # iOS marks notices and media with U+200E
    notice = _without_marks(body)
    if _DELETED.fullmatch(notice):
        return Skipped("deleted")
    if _ENCRYPTION_NOTICE.match(notice) or (marked and _SYSTEM.search(notice) and not _line_media(notice)[1]):
        return Skipped("system")
    return sender, body


def _strip_edited(body: str) -> tuple[str, bool]:
    stripped = _EDITED.sub("", body)
    return stripped, stripped != body


def _extract_media(body: str) -> tuple[str, tuple[Attachment, ...]]:
    """The text without media markers, and an attachment for each marker."""
    kept: list[str] = []
    found: list[Attachment] = []
    for line in body.split("\n"):
        text, attachments = _line_media(line)
        found.extend(attachments)
        if not attachments or text.strip():
            kept.append(text)
    return "\n".join(kept).strip().lstrip("\u200e").strip(), tuple(found)


def _line_media(line: str) -> tuple[str, list[Attachment]]:
    found: list[Attachment] = []

    def attached(match: re.Match[str]) -> str:
        found.append(Attachment(kind=attachment_kind(match["name"]), file_name=match["name"]))
        return ""

    line = _ATTACHED.sub(attached, line)
    bare = line.strip(" \u00a0\t" + BIDI_MARKS)
    if _MEDIA_OMITTED.fullmatch(bare):
        return "", [*found, Attachment(kind="other")]
    omitted = _WORD_OMITTED.fullmatch(bare)
    if omitted:
        name = omitted["name"].strip(BIDI_MARKS + " ") if omitted["name"] else None
        return "", [*found, Attachment(kind=_WORD_KINDS[omitted["word"].casefold()], file_name=name or None)]
    file_attached = _FILE_ATTACHED.fullmatch(bare)
    if file_attached:
        name = file_attached["name"]
        return file_attached["rest"], [*found, Attachment(kind=attachment_kind(name), file_name=name)]
    return line, found


def attachment_kind(file_name: str) -> str:
    """The kind of an attached file from the word WhatsApp puts in its name, else its extension.

    >>> attachment_kind("00000012-PHOTO-2020-02-07-22-15-03.jpg"), attachment_kind("PTT-20200207-WA0001.opus")
    ('photo', 'voice')
    """
    for pattern, kind in _NAME_KINDS:
        if pattern.search(file_name):
            return kind
    return "other"
