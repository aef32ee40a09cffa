"""Telegram Desktop exports (``result.json``): one chat, or the whole account with all its chats.

Monitoring teams receive these exports from volunteers and partner groups; a busy village group
over a few years easily reaches a gigabyte. The file is one JSON document, so it is read as a
stream of ijson events: memory holds one message at a time, never the ``messages`` array. Each
message becomes a raw record whose bytes are the message object re-serialised by orjson, with the
chat's name, type and id (written before ``messages`` in the file) carried in its context.

Timestamps: ``date_unixtime`` is exact UTC; ``date`` is the wall-clock time of the machine that made
the export, so the difference between the two is kept as the message's original UTC offset. Old
exports without ``date_unixtime`` fall back to ``date`` in the ``timezone`` option.

Broken files: a message that cannot be read (a byte that is not UTF-8, a hand edit that broke the
JSON, nesting deeper than 256 levels) becomes one split error holding that message's bytes, and
reading starts again at the next message of the same ``messages`` array, so one bad message never
costs the rest of the file. A file that ends in the middle of a message (a copy cut short) gives
every complete message first, then one split error holding the bytes after the last complete one.

People: a one-to-one chat and a forward from a person are written ``user:<id or name>`` so that
the pseudonymise stage replaces them; only channels and groups keep their names.

Example:
    >>> from pathlib import Path
    >>> head = b'{"name": "Masanchi", "type": "private_group", "id": 1, "messages": [{"id": 1, "type": "message"'
    >>> TelegramSource().sniff(Path("result.json"), head)
    0.95
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import orjson

from flashpoint.errors import RecordError
from flashpoint.model import Attachment, Message, RawRecord, Skipped, SourceKind, message_id
from flashpoint.sources.base import Options, Parsed, SplitError, as_int, parse_timestamp, timezone_option
from flashpoint.sources.telegram_split import MESSAGES, Splitter, json_type

CHAT_TYPES = (
    "personal_chat",
    "private_group",
    "private_supergroup",
    "public_supergroup",
    "private_channel",
    "public_channel",
    "bot_chat",
    "saved_messages",
)
# Chat types whose name is a person's display name: it is not copied into ``extra``.
PERSON_CHAT_TYPES = frozenset({"personal_chat", "bot_chat", "saved_messages"})

NOT_INCLUDED = ("(File not included", "(File exceeds maximum size")
MEDIA_KINDS = {
    "voice_message": "voice",
    "video_message": "video",
    "video_file": "video",
    "audio_file": "audio",
    "sticker": "sticker",
    "animation": "animation",
}
# Entity types that carry a URL, and the key that holds it.
LINK_ENTITIES = {"text_link": "href", "link": "text"}
PEER_ID = re.compile(r"(?:channel|chat|group)?(\d+)")
USER_PEER = re.compile(r"user(\d+)")
MAX_OFFSET_MINUTES = 14 * 60
YEARS = (1900, 2200)  # a send time outside these years is a broken record, not a message

_HEAD_OBJECT = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*\{")
_MESSAGE_HINT = re.compile(rb'"date_unixtime"\s*:|"type"\s*:\s*"message"')
_CHAT_TYPE = re.compile(rb'"type"\s*:\s*"(?:' + b"|".join(t.encode() for t in CHAT_TYPES) + rb')"')
_CHAT_LIST = re.compile(rb'"chats"\s*:\s*\{[^{}\[\]]*"list"\s*:\s*\[')
_ACCOUNT = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"about"\s*:\s*"[^"]*"\s*,\s*"personal_information"\s*:')


class TelegramSource:
    format: ClassVar[str] = "telegram"
    kind: ClassVar[SourceKind] = SourceKind.TELEGRAM
    option_names: ClassVar[frozenset[str]] = frozenset({"timezone"})

    def sniff(self, path: Path, head: bytes) -> float:
        if not _HEAD_OBJECT.match(head):
            return 0.0
        if _CHAT_LIST.search(head) or _ACCOUNT.match(head):
            return 0.95
        if MESSAGES.search(head) and _MESSAGE_HINT.search(head) and _CHAT_TYPE.search(head):
            return 0.95
        return 0.6 if path.name == "result.json" else 0.0

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        yield from Splitter(str(path), stream).run()

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        try:
            message = orjson.loads(raw.data)
        except orjson.JSONDecodeError as exc:
            raise RecordError("bad_json", f"the record is not valid JSON (at byte {exc.pos})", **where) from exc
        if not isinstance(message, dict):
            raise RecordError("not_an_object", f"a message must be a JSON object, found {json_type(message)}", **where)
        if message.get("type") == "service":
            return [Skipped("service")]
        try:
            return [_message(message, raw, options)]
        except RecordError as exc:
            raise exc.at(raw.source_file, raw.locator) from exc


# -- parsing ----------------------------------------------------------------------------------------------


def _message(message: Mapping[str, Any], raw: RawRecord, options: Options) -> Message:
    sent_at, offset, assumed = _sent_at(message, timezone_option(options))
    channel = _channel(raw.context, raw.source_file)
    text, links = _text(message)
    attachments = _attachments(message)
    extra = _extra(message, raw.context, links, assumed)
    if not text.strip() and "poll" in extra:
        text = extra["poll"]["question"]
    if not text.strip() and not attachments and "location" not in extra:
        raise RecordError("empty_text", "the message has no text, no media, no poll and no location")
    return Message.create(
        source=SourceKind.TELEGRAM,
        channel=channel,
        native_id=_scalar(message.get("id")),
        sent_at=sent_at,
        text=text,
        raw_sha256=raw.sha256,
        author=_scalar(message.get("from_id")),
        author_name=_scalar(message.get("from")),
        reply_to=_reply_to(message, channel, sent_at),
        forwarded_from=_forwarded_from(message),
        edited_at=_edited_at(message, offset),
        attachments=attachments,
        extra=extra,
        utc_offset_minutes=offset,
    )


def _sent_at(message: Mapping[str, Any], tz: tzinfo) -> tuple[datetime, int | None, bool]:
    """(aware send time, original UTC offset in minutes or None, whether the offset was assumed)."""
    unix, local = message.get("date_unixtime"), message.get("date")
    if unix not in (None, ""):
        utc = _from_unix(unix, "date_unixtime")
        offset = _offset(local, utc)
        if offset is None:
            return utc, None, False
        return utc.astimezone(timezone(timedelta(minutes=offset))), offset, False
    if local in (None, ""):
        raise RecordError("no_timestamp", "the message has neither 'date_unixtime' nor 'date'")
    try:
        sent_at, had_offset = parse_timestamp(local if isinstance(local, int | float) else str(local), tz)
        utc = sent_at.astimezone(UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError("bad_timestamp", "'date' is neither an ISO date nor epoch seconds") from exc
    _check_year(utc, "date")
    offset_delta = sent_at.utcoffset()
    offset = int(offset_delta.total_seconds() // 60) if offset_delta is not None else None
    return sent_at, offset, not had_offset


def _from_unix(value: Any, key: str) -> datetime:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(key)
        moment = datetime.fromtimestamp(float(str(value).strip()), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError("bad_timestamp", f"'{key}' is not epoch seconds") from exc
    _check_year(moment, key)
    return moment


def _check_year(moment: datetime, key: str) -> None:
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise RecordError("bad_timestamp", f"'{key}' is not between the years {YEARS[0]} and {YEARS[1]}")


def _offset(local: Any, utc: datetime) -> int | None:
    """The offset of the exporting machine's clock, from the local ``date`` beside the exact time."""
    if not isinstance(local, str) or not local:
        return None
    try:
        wall = datetime.fromisoformat(local)
    except ValueError:
        return None
    if wall.tzinfo is not None:
        delta = wall.utcoffset()
        return int(delta.total_seconds() // 60) if delta is not None else None
    minutes = round((wall - utc.replace(tzinfo=None)).total_seconds() / 60)
    return minutes if abs(minutes) <= MAX_OFFSET_MINUTES else None


def _edited_at(message: Mapping[str, Any], offset: int | None) -> datetime | None:
    unix, local = message.get("edited_unixtime"), message.get("edited")
    try:
        if unix not in (None, ""):
            return _from_unix(unix, "edited_unixtime")
        if isinstance(local, str) and local and offset is not None:
            wall = datetime.fromisoformat(local)
            if wall.tzinfo is None:
                wall = wall.replace(tzinfo=timezone(timedelta(minutes=offset)))
            edited = wall.astimezone(UTC)
            _check_year(edited, "edited")
            return edited
    except (RecordError, ValueError, OverflowError):
        return None  # a broken edit time does not make the message unreadable
    return None


def _text(message: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The plain text and the links of a message whose text is a string or a list of entities."""
    value = message.get("text")
    if value in (None, "") and isinstance(message.get("text_entities"), list):
        value = message["text_entities"]
    if value is None:
        return "", []
    if isinstance(value, str):
        return value, []
    if not isinstance(value, list):
        raise RecordError("bad_text", f"'text' is {json_type(value)}, not a string or a list of entities")
    parts: list[str] = []
    links: list[str] = []
    for part in value:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, Mapping):
            piece = part.get("text")
            parts.append(piece if isinstance(piece, str) else "")
            link = part.get(LINK_ENTITIES.get(str(part.get("type")), ""))
            if isinstance(link, str) and link:
                links.append(link)
        else:
            raise RecordError("bad_text", f"a part of 'text' is {json_type(part)}, not a string or an entity")
    return "".join(parts), links


def _channel(context: Mapping[str, Any], source_file: str) -> str:
    """``tg:<chat id>``; a one-to-one chat is named by a person (id, else display name), so it is
    written ``user:<id or name>`` and the pseudonymise stage replaces it with the ids built on it."""
    chat_id = _scalar(context.get("chat_id"))
    name = _scalar(context.get("chat_name"))
    if _scalar(context.get("chat_type")) in PERSON_CHAT_TYPES and (chat_id or name):
        # "user<id>", as the person's from_id reads, so that chat and author share one pseudonym
        return f"user:user{chat_id}" if chat_id else _person_ref(name or "")
    if chat_id:
        return f"tg:{chat_id}"
    return name or f"tg:{Path(source_file).stem}"


def _person_ref(name: str) -> str:
    """A person known only by display name, as a ``user:`` reference. The pseudonymise stage reads
    the reference inside a message id up to the next ':', so a colon in the name is escaped."""
    return "user:" + name.replace("%", "%25").replace(":", "%3A")


def _reply_to(message: Mapping[str, Any], channel: str, sent_at: datetime) -> str | None:
    """The full id of the message replied to: in this chat (built on the same channel string,
    ``user:`` included), or in the chat that ``reply_to_peer_id`` names."""
    target = _scalar(message.get("reply_to_message_id"))
    if not target:
        return None
    peer = _scalar(message.get("reply_to_peer_id")) or ""
    if USER_PEER.fullmatch(peer):
        channel = f"user:{peer}"
    elif chat := PEER_ID.fullmatch(peer):
        channel = f"tg:{chat.group(1)}"
    return message_id(SourceKind.TELEGRAM, channel, target, sent_at, None, "")


def _forwarded_from(message: Mapping[str, Any]) -> str | None:
    """A channel as ``tg:<id>``, a person as ``user:<id>`` so that it is pseudonymised. A forward
    with a name and no id comes from a person who hides their account (channels always carry an id
    in current exports): it is written ``user:<name>``."""
    peer = _scalar(message.get("forwarded_from_id"))
    if peer is not None:
        if peer.startswith("user"):
            return f"user:{peer}"
        match = PEER_ID.fullmatch(peer)
        return f"tg:{match.group(1)}" if match else peer
    name = _scalar(message.get("forwarded_from"))
    return _person_ref(name) if name else None


def _attachments(message: Mapping[str, Any]) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    if "photo" in message:
        size = as_int(message.get("photo_file_size"))
        found.append(Attachment("photo", file_name=_file_path(message.get("photo")), size=size))
    if "file" in message or "media_type" in message:
        mime = _scalar(message.get("mime_type"))
        found.append(
            Attachment(
                MEDIA_KINDS.get(str(message.get("media_type")), _kind_from_mime(mime)),
                file_name=_file_path(message.get("file")) or _scalar(message.get("file_name")),
                size=as_int(message.get("file_size")),
                mime_type=mime,
            )
        )
    if "contact_information" in message:
        found.append(Attachment("other", file_name=_file_path(message.get("contact_vcard")), mime_type="text/vcard"))
    return tuple(found)


def _kind_from_mime(mime: str | None) -> str:
    family = (mime or "").partition("/")[0]
    return {"video": "video", "audio": "audio", "image": "photo"}.get(family, "document" if mime else "other")


def _file_path(value: Any) -> str | None:
    text = _scalar(value)
    if text is None or text.startswith(NOT_INCLUDED):
        return None
    return text


def _extra(message: Mapping[str, Any], context: Mapping[str, Any], links: list[str], assumed: bool) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    chat_type = _scalar(context.get("chat_type"))
    if chat_type:
        extra["chat_type"] = chat_type
    chat_name = _scalar(context.get("chat_name"))
    if chat_name and chat_type not in PERSON_CHAT_TYPES:
        extra["chat_name"] = chat_name
    if assumed:
        extra["offset_assumed"] = True
    if links:
        extra["links"] = links
    forwarded_id = _scalar(message.get("forwarded_from_id")) or ""
    forwarded_name = _scalar(message.get("forwarded_from"))
    if forwarded_name and forwarded_id and not forwarded_id.startswith("user"):
        extra["forwarded_from_name"] = forwarded_name
    sticker_emoji = _scalar(message.get("sticker_emoji"))
    if sticker_emoji:
        extra["sticker_emoji"] = sticker_emoji
    poll = _poll(message.get("poll"))
    if poll:
        extra["poll"] = poll
    location = _location(message)
    if location:
        extra["location"] = location
    return extra


def _poll(value: Any) -> dict[str, Any] | None:
    """The question, answers and vote counts; the exporting user's own vote ("chosen") is left out."""
    if not isinstance(value, Mapping):
        return None
    answers = value.get("answers")
    return {
        "question": _scalar(value.get("question")) or "",
        "answers": [
            {"text": _scalar(a.get("text")) or "", "voters": as_int(a.get("voters"))}
            for a in (answers if isinstance(answers, list) else [])
            if isinstance(a, Mapping)
        ],
        "total_voters": as_int(value.get("total_voters")),
        "closed": value.get("closed") is True,
    }


def _location(message: Mapping[str, Any]) -> dict[str, Any] | None:
    info = message.get("location_information")
    if not isinstance(info, Mapping):
        return None
    location: dict[str, Any] = {}
    for key, limit in (("latitude", 90), ("longitude", 180)):
        value = info.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) <= limit:
            location[key] = value
    for key in ("place_name", "address"):
        text = _scalar(message.get(key))
        if text:
            location[key] = text
    return location or None


def _scalar(value: Any) -> str | None:
    """A string or number as a non-empty string; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        value = int(value)
    if isinstance(value, int | float | str):
        return str(value).strip() or None
    return None
