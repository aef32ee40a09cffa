"""VK wall posts as the API method ``wall.get`` returns them, and as scrapers save them.

VK is where much of the local talk in Korday district happens in public, and reposts are how a
rumour travels from one community wall to the next; so a repost is kept as a forward of the
original, and the original is kept too (once, by its own id, however many walls repost it).

Accepted shapes, all streamed so that memory stays flat for a 1 GB file:

- one response, ``{"response": {"count": N, "items": [...], "profiles": [...], "groups": [...]}}``
  (``extended=1`` or not), or the bare body ``{"count": N, "items": [...]}``;
- a JSON array of responses (or of bodies, or of posts), each page streamed too;
- several such JSON documents one after another, and JSON Lines where each line is a response or
  a single post. A UTF-8 byte order mark is read past.

Each post is one raw record holding the post's exact bytes in the file. The splitter reads the
file as UTF-8 with undecodable bytes kept (``surrogateescape``), so a bad byte inside one post costs
that post alone: its bytes go to quarantine (``bad_encoding``) and the posts after it are read. A
post whose JSON is broken becomes a split error and reading goes on at the next post; where no next
post can be found the split error counts the bytes left unread. Nesting deeper than 256 levels is a
``too_deep`` split error. A post whose text holds a lone UTF-16 surrogate (an unpaired ``\\ud83d``
escape: half an emoji cut off by a scraper) is quarantined as ``bad_text`` with its bytes unchanged:
the store cannot hold such text, and replacing the character would alter the evidence.

People are referred to as the privacy stage expects: a post on a person's wall (``owner_id`` > 0)
is in channel ``user:<owner_id>`` with the post number as its native id and no URL (the wall address
names the person), and replies and reposts point at the message id the target is stored under
(``vk:user:<owner_id>:<post>``, ``vk:vk:-<community>:-<community>_<post>``). Community names (from
``groups``) go to ``extra``; people's names (from ``profiles``) travel in the record's context only
for the post's authors and end up only in ``author_name``, which is dropped unless kept on purpose.

Example:
    >>> from pathlib import Path
    >>> VkSource().sniff(Path("wall.json"), b'{"response": {"count": 1, "items": [{"id": 1, '
    ...     b'"owner_id": -5, "from_id": -5, "date": 1709600000, "text": "hi"}]}}')
    0.95
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import orjson

from flashpoint.errors import RecordError
from flashpoint.model import Attachment, Message, RawRecord, Skipped, SourceKind
from flashpoint.sources.base import Options, Parsed, SplitError, as_int, parse_timestamp, person
from flashpoint.sources.vk_split import (
    BOM,
    bom_length,
    byte_len,
    document_records,
    history,
    is_json_lines,
    line_records,
    repost_chain,
)

ATTACHMENT_KINDS = {
    "photo": "photo",
    "posted_photo": "photo",
    "graffiti": "photo",
    "album": "photo",
    "video": "video",
    "clip": "video",
    "audio": "audio",
    "audio_message": "voice",
    "doc": "document",
    "link": "link",
    "sticker": "sticker",
}
COUNTERS = ("comments", "likes", "reposts", "views")


class VkSource:
    format: ClassVar[str] = "vk"
    kind: ClassVar[SourceKind] = SourceKind.VK
    option_names: ClassVar[frozenset[str]] = frozenset()

    def sniff(self, path: Path, head: bytes) -> float:
        head = head.removeprefix(BOM)
        start = head.lstrip()[:1]
        if start not in (b"{", b"["):
            return 0.0
        post_like = b'"owner_id"' in head and b'"from_id"' in head and b'"date"' in head
        if not post_like:
            return 0.0
        if b'"response"' in head or b'"post_type"' in head or b'"copy_history"' in head:
            return 0.95
        return 0.8

    def records(self, path: Path, stream: BinaryIO, options: Options) -> Iterator[RawRecord | SplitError]:
        start = bom_length(stream)
        if is_json_lines(stream, start):
            yield from line_records(str(path), stream, start)
        else:
            yield from document_records(str(path), stream, start)

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        post = _load_object(raw.data, where)
        if "error" in post and "id" not in post:
            error = post["error"] if isinstance(post["error"], Mapping) else {}
            code, text = str(error.get("error_code"))[:20], str(error.get("error_msg"))[:200]
            raise RecordError("vk_error", f"the VK API returned error {code}: {text}", **where)
        return _post_messages(post, raw, where)


# -- parsing ------------------------------------------------------------------------------------------


def _load_object(data: bytes, where: Mapping[str, str]) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        value = _load_leniently(data, where)  # lone surrogates, numbers past 64 bits
    if not isinstance(value, dict):
        raise RecordError("not_a_post", f"expected a VK post (a JSON object), found {type(value).__name__}", **where)
    return value


def _load_leniently(data: bytes, where: Mapping[str, str]) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(
            "bad_encoding", f"byte {exc.start} of the post is not valid UTF-8; the post is kept unchanged", **where
        ) from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise RecordError("too_deep", "the post is nested too deeply to read", **where) from None
    except ValueError as exc:
        pos = exc.pos if isinstance(exc, json.JSONDecodeError) else 0
        at = byte_len(text[:pos])
        if isinstance(exc, json.JSONDecodeError) and (
            exc.msg.startswith("Unterminated string") or pos >= len(text.rstrip())
        ):
            raise RecordError("truncated_json", f"the post breaks off at byte {at} (truncated JSON)", **where) from None
        raise RecordError("bad_json", f"the post is not valid JSON at byte {at}", **where) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _post_messages(post: Mapping[str, Any], raw: RawRecord, where: Mapping[str, str]) -> list[Message | Skipped]:
    if _is_deleted(post):
        return [Skipped("deleted")]
    if post.get("marked_as_ads"):
        return [Skipped("ad")]
    chain = repost_chain(post)
    out: list[Message | Skipped] = [_message(post, _direct_source(post, chain, -1), raw, where)]
    for position, original in enumerate(chain):
        if _is_deleted(original):
            out.append(Skipped("deleted"))
            continue
        try:
            out.append(_message(original, _direct_source(original, chain, position), raw, where))
        except RecordError as exc:  # an incomplete original must not cost the repost that carries it
            out.append(Skipped(f"original_{exc.code}"))
    return out


def _direct_source(node: Mapping[str, Any], chain: list[Mapping[str, Any]], position: int) -> Mapping[str, Any] | None:
    """The post this one reposted: its own first copy, else the next one in the flat chain."""
    own = history(node)
    if own:
        return own[0]
    return chain[position + 1] if position + 1 < len(chain) else None


def _channel(owner: int) -> str:
    """A community's wall is a channel; a person's wall is the person, for the privacy stage."""
    return f"vk:{owner}" if owner < 0 else f"user:{owner}"


def _native_id(owner: int, post_id: int) -> str:
    return f"{owner}_{post_id}" if owner < 0 else str(post_id)


def _message_ref(owner: int, post_id: int) -> str:
    """The id Message.create gives the post ``owner``/``post_id``."""
    return f"{SourceKind.VK.value}:{_channel(owner)}:{_native_id(owner, post_id)}"


def _message(
    post: Mapping[str, Any], source: Mapping[str, Any] | None, raw: RawRecord, where: Mapping[str, str]
) -> Message:
    owner, post_id = as_int(post.get("owner_id")), as_int(post.get("id"))
    if not owner or post_id is None:
        raise RecordError("no_id", "the post has no numeric owner_id and id", **where)
    sent_at = _timestamp(post.get("date"), "date", where)
    text = post.get("text") if isinstance(post.get("text"), str) else ""
    attachments, links = _attachments(post.get("attachments"))
    forwarded_from, forwarded_post = _forward(source)
    if not text and not attachments and forwarded_from is None:
        raise RecordError("empty_text", "the post has no text, no attachments and reposts nothing", **where)
    author = as_int(post.get("signer_id")) or as_int(post.get("from_id"))
    context = raw.context
    groups, profiles = _mapping(context.get("groups")), _mapping(context.get("profiles"))
    extra = _extra(post, owner, groups, links)
    if forwarded_post is not None:
        extra["forwarded_post"] = forwarded_post
    edited = post.get("edited")
    reply_id, reply_owner = as_int(post.get("reply_post_id")), as_int(post.get("reply_owner_id")) or owner
    message = Message.create(
        source=SourceKind.VK,
        channel=_channel(owner),
        native_id=_native_id(owner, post_id),
        sent_at=sent_at,
        text=str(text),
        raw_sha256=raw.sha256,
        author=person(author),
        author_name=_name_of(author, groups, profiles),
        reply_to=_message_ref(reply_owner, reply_id) if reply_id else None,
        forwarded_from=forwarded_from,
        edited_at=_timestamp(edited, "edited", where) if edited else None,
        url=f"https://vk.com/wall{owner}_{post_id}" if owner < 0 else None,
        attachments=attachments,
        extra=extra,
    )
    _check_storable(message, where)
    return message


def _forward(source: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(forwarded_from, the reposted post's message id) for a repost; communities as channels,
    people as users."""
    if source is None:
        return None, None
    owner, post_id = as_int(source.get("owner_id")), as_int(source.get("id"))
    if not owner:
        return None, None
    return f"vk:{owner}" if owner < 0 else f"user:{owner}", _message_ref(
        owner, post_id
    ) if post_id is not None else None


def _check_storable(message: Message, where: Mapping[str, str]) -> None:
    """Refuse text the store cannot hold rather than alter it: a lone surrogate from a ``\\ud83d``
    escape (half an emoji) is kept, with the post's bytes, in quarantine."""
    files = [(a.file_name, a.mime_type) for a in message.attachments]
    try:
        orjson.dumps((message.text, message.author_name, files, dict(message.extra)))
    except TypeError:  # orjson.JSONEncodeError: a lone surrogate (integers were made range-safe)
        raise RecordError(
            "bad_text",
            "the post holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape, often half an emoji cut "
            "off by a scraper); it cannot be stored as text, so the post is kept here unchanged",
            **where,
        ) from None


def _extra(post: Mapping[str, Any], owner: int, groups: Mapping[str, Any], links: list[str]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    group = groups.get(str(-owner)) if owner < 0 else None
    if isinstance(group, Mapping):
        for key, name in (("screen_name", "channel_screen_name"), ("name", "channel_name")):
            if isinstance(group.get(key), str) and group[key]:
                extra[name] = group[key]
    for counter in COUNTERS:
        value = post.get(counter)
        count = as_int(value.get("count")) if isinstance(value, Mapping) else as_int(value)
        if count is not None:
            extra[counter] = count
    if isinstance(post.get("post_type"), str):
        extra["post_type"] = post["post_type"]
    if post.get("is_pinned"):
        extra["is_pinned"] = True
    geo = _geo(post.get("geo"))
    if geo:
        extra["geo"] = geo
    if links:
        extra["links"] = links
    return extra


def _geo(value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    geo: dict[str, str] = {}
    if isinstance(value.get("coordinates"), str):
        geo["coordinates"] = value["coordinates"]
    place = value.get("place")
    if isinstance(place, Mapping) and isinstance(place.get("title"), str):
        geo["place"] = place["title"]
    return geo or None


def _attachments(value: Any) -> tuple[tuple[Attachment, ...], list[str]]:
    if not isinstance(value, list):
        return (), []
    found: list[Attachment] = []
    links: list[str] = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        vk_type = str(item["type"]) if isinstance(item.get("type"), str) else "other"
        found_body = item.get(vk_type)
        body: Mapping[str, Any] = found_body if isinstance(found_body, Mapping) else {}
        kind = ATTACHMENT_KINDS.get(vk_type, "other")
        if kind == "document":
            title, ext = body.get("title"), body.get("ext")
            mime = mimetypes.types_map.get(f".{ext.lower()}") if isinstance(ext, str) else None
            name = title if isinstance(title, str) else None
            found.append(Attachment(kind, name, as_int(body.get("size")), None, mime))
        else:
            found.append(Attachment(kind))
        if kind == "link" and isinstance(body.get("url"), str):
            links.append(body["url"])
    return tuple(found), links


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _name_of(author: int | None, groups: Mapping[str, Any], profiles: Mapping[str, Any]) -> str | None:
    if author is None:
        return None
    if author < 0:
        group = groups.get(str(-author))
        return str(group["name"]) if isinstance(group, Mapping) and group.get("name") else None
    name = profiles.get(str(author))
    return str(name) if name else None


def _timestamp(value: Any, name: str, where: Mapping[str, str]) -> datetime:
    if value is None or value == "":
        raise RecordError("no_timestamp", f"the post has no {name} (unix seconds)", **where)
    try:
        return parse_timestamp(value)[0]
    except (ValueError, OverflowError, OSError):
        raise RecordError("bad_timestamp", f"cannot read the post's {name} as a time", **where) from None


def _is_deleted(post: Mapping[str, Any]) -> bool:
    return bool(post.get("is_deleted") or post.get("deleted")) or post.get("post_type") == "deleted"
