"""VK wall posts as the API method ``wall.get`` returns them, and as scrapers save them.

VK is where much of the local talk in Korday district happens in public, and reposts are how a
rumour travels from one community wall to the next; so a repost is kept as a forward of the
original, and the original is kept too (once, by its own id, however many walls repost it).

Accepted shapes, all streamed with ijson so that memory stays flat for a 1 GB file:

- one response, ``{"response": {"count": N, "items": [...], "profiles": [...], "groups": [...]}}``
  (``extended=1`` or not), or the bare body ``{"count": N, "items": [...]}``;
- a JSON array of responses (or of bodies, or of posts); each element is read whole, which is safe
  because one ``wall.get`` page holds at most 100 posts;
- JSON Lines where each line is a response or a single post.

Each post is one raw record. Posts inside a JSON response are re-serialised with orjson (sorted
keys); a post that is a whole JSON line keeps its exact bytes. The names of the communities and
people a post refers to (from ``groups``/``profiles``) travel in the record's context, so that a
quarantined post parses again on its own.

Example:
    >>> from pathlib import Path
    >>> VkSource().sniff(Path("wall.json"), b'{"response": {"count": 1, "items": [{"id": 1, '
    ...     b'"owner_id": -5, "from_id": -5, "date": 1709600000, "text": "hi"}]}}')
    0.95
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import ijson
import orjson

from flashpoint.errors import RecordError
from flashpoint.model import Attachment, Message, RawRecord, Skipped, SourceKind
from flashpoint.sources.base import Options, Parsed, SplitError, as_int, parse_timestamp, person

MAX_SPLIT_BYTES = 1 << 20  # bytes a SplitError carries to quarantine
MAX_FIRST_LINE = 8 << 20  # a longer first line is read as one JSON document, not as JSON Lines
MAX_DIRECTORY = 200_000  # profiles and groups kept from a pre-pass over one big response
POST_KEYS = frozenset({"id", "owner_id", "from_id", "date", "text", "post_type", "copy_history"})
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


@dataclass
class Directory:
    """Names of communities (``groups``, by positive id) and people (``profiles``) of a response."""

    groups: dict[int, dict[str, str]] = field(default_factory=dict)
    profiles: dict[int, str] = field(default_factory=dict)

    def add_group(self, group: Any) -> None:
        if isinstance(group, Mapping) and as_int(group.get("id")) is not None and len(self.groups) < MAX_DIRECTORY:
            names = {k: str(group[k]) for k in ("screen_name", "name") if isinstance(group.get(k), str) and group[k]}
            self.groups[abs(int(group["id"]))] = names

    def add_profile(self, profile: Any) -> None:
        if (
            isinstance(profile, Mapping)
            and as_int(profile.get("id")) is not None
            and len(self.profiles) < MAX_DIRECTORY
        ):
            name = " ".join(str(profile[k]) for k in ("first_name", "last_name") if profile.get(k))
            if name:
                self.profiles[int(profile["id"])] = name

    @staticmethod
    def of_response(body: Mapping[str, Any]) -> Directory:
        directory = Directory()
        for group in body.get("groups") or ():
            directory.add_group(group)
        for profile in body.get("profiles") or ():
            directory.add_profile(profile)
        return directory

    def context_for(self, post: Mapping[str, Any]) -> dict[str, Any]:
        """The small part of the directory one post needs: its owners, authors and signers."""
        groups: dict[str, dict[str, str]] = {}
        profiles: dict[str, str] = {}
        for ref in _referenced_ids(post):
            if ref < 0 and -ref in self.groups:
                groups[str(-ref)] = self.groups[-ref]
            elif ref > 0 and ref in self.profiles:
                profiles[str(ref)] = self.profiles[ref]
        context: dict[str, Any] = {}
        if groups:
            context["groups"] = groups
        if profiles:
            context["profiles"] = profiles
        return context


class VkSource:
    format: ClassVar[str] = "vk"
    kind: ClassVar[SourceKind] = SourceKind.VK
    option_names: ClassVar[frozenset[str]] = frozenset()

    def sniff(self, path: Path, head: bytes) -> float:
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
        if _is_json_lines(stream):
            yield from _line_records(str(path), stream)
        else:
            yield from _document_records(str(path), stream)

    def parse(self, raw: RawRecord, options: Options) -> Parsed:
        where = {"source_file": raw.source_file, "locator": raw.locator}
        post = _load_object(raw.data, where)
        if "error" in post and "id" not in post:
            error = post["error"] if isinstance(post["error"], Mapping) else {}
            raise RecordError(
                "vk_error", f"the VK API returned error {error.get('error_code')}: {error.get('error_msg')}", **where
            )
        return _post_messages(post, raw, where)


# -- splitting ---------------------------------------------------------------------------------------


class _TrackingReader:
    """Counts the bytes ijson has read, so that a split error can carry the part it could not split."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.position = 0
        self.last_chunk_start = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        if chunk:
            self.last_chunk_start = self.position
            self.position += len(chunk)
        return chunk


def _is_json_lines(stream: BinaryIO) -> bool:
    """JSON Lines when the first non-blank line is one {...} object and another object follows.

    Only the edges of the lines are kept, so a 1 GB single-line document costs no memory here."""
    try:
        first = _next_line_edges(stream)
        if first != (b"{", b"}"):
            return False
        second = _next_line_edges(stream)
        return second is not None and second[0] == b"{"
    finally:
        stream.seek(0)


def _next_line_edges(stream: BinaryIO) -> tuple[bytes, bytes] | None:
    """The first and last non-blank bytes of the next non-blank line (None at the end or too long)."""
    first = last = b""
    read = 0
    while read < MAX_FIRST_LINE:
        piece = stream.readline(1 << 16)
        if not piece:
            return (first, last) if first else None
        read += len(piece)
        stripped = piece.strip()
        if stripped:
            first = first or stripped[:1]
            last = stripped[-1:]
        if piece.endswith(b"\n") and first:
            return first, last
    return None


def _line_records(source_file: str, stream: BinaryIO) -> Iterator[RawRecord]:
    ordinal = 0
    for number, line in enumerate(stream, start=1):
        data = line.rstrip(b"\r\n")
        if not data.strip():
            continue
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            value = None
        body = _response_body(value)
        if body is None:  # a single post, or a bad line that parse() will reject with its reason
            yield RawRecord(source_file, ordinal, f"line {number}", data)
            ordinal += 1
            continue
        prefix = f"line {number}: " + ("response.items" if "response" in value else "items")
        for post in _records_of_body(source_file, body, prefix, ordinal):
            yield post
            ordinal += 1


def _document_records(source_file: str, stream: BinaryIO) -> Iterator[RawRecord | SplitError]:
    shape = _peek_shape(stream)
    stream.seek(0)
    if shape in ("response", "body"):
        yield from _streamed_items(source_file, stream, "response." if shape == "response" else "")
    elif shape in ("post", "error"):
        yield from _whole_items(source_file, stream, "", single=True)
    elif shape == "array":
        yield from _whole_items(source_file, stream, "item", single=False)
    else:
        data = stream.read(MAX_SPLIT_BYTES)
        yield SplitError(
            "not_vk",
            "the file is not a VK wall.get response, an array of them, or VK posts",
            source_file=source_file,
            locator="file",
            ordinal=0,
            data=data,
        )


def _peek_shape(stream: BinaryIO) -> str:
    """What the document holds, from its first events: response, body, post, error, array or unknown."""
    try:
        for seen, (prefix, event, value) in enumerate(ijson.parse(stream)):
            if seen == 0 and event == "start_array":
                return "array"
            if prefix == "" and event == "map_key":
                if value == "response":
                    return "response"
                if value == "items":
                    return "body"
                if value == "error":
                    return "error"
                if value in POST_KEYS:
                    return "post"
            if seen > 100_000:
                break
    except ijson.JSONError:
        return "unknown"
    return "unknown"


def _streamed_items(source_file: str, stream: BinaryIO, root: str) -> Iterator[RawRecord | SplitError]:
    """Posts of one (possibly huge) response, one at a time; names come from a pre-pass."""
    directory = _directory_prepass(stream, root)
    reader = _TrackingReader(stream)
    ordinal, safe = 0, 0
    locator = f"{root}items"
    try:
        for post in ijson.items(reader, f"{root}items.item", use_float=True):
            context = directory.context_for(post) if isinstance(post, Mapping) else {}
            yield RawRecord(source_file, ordinal, f"{locator}[{ordinal}]", _canonical(post), context)
            ordinal += 1
            safe = reader.last_chunk_start
    except ijson.JSONError as exc:
        yield _split_error(source_file, stream, exc, locator=f"{locator}[{ordinal}]", ordinal=ordinal, safe=safe)


def _whole_items(source_file: str, stream: BinaryIO, prefix: str, *, single: bool) -> Iterator[RawRecord | SplitError]:
    """Top-level values read whole: the elements of an array, or one post or error object."""
    reader = _TrackingReader(stream)
    ordinal, index, safe = 0, 0, 0
    try:
        for value in ijson.items(reader, prefix, use_float=True):
            where = "document" if single else f"[{index}]"
            body = _response_body(value)
            if body is None:
                yield RawRecord(source_file, ordinal, where, _canonical(value))
                ordinal += 1
            else:
                inner = "response.items" if "response" in value else "items"
                for record in _records_of_body(source_file, body, f"{where}.{inner}", ordinal):
                    yield record
                    ordinal += 1
            index += 1
            safe = reader.last_chunk_start
    except ijson.JSONError as exc:
        where = "document" if single else f"[{index}]"
        yield _split_error(source_file, stream, exc, locator=where, ordinal=ordinal, safe=safe)


def _records_of_body(source_file: str, body: Mapping[str, Any], prefix: str, first: int) -> Iterator[RawRecord]:
    directory = Directory.of_response(body)
    for index, post in enumerate(body.get("items") or ()):
        context = directory.context_for(post) if isinstance(post, Mapping) else {}
        yield RawRecord(source_file, first + index, f"{prefix}[{index}]", _canonical(post), context)


def _directory_prepass(stream: BinaryIO, root: str) -> Directory:
    """Collect ``groups`` and ``profiles``, which VK writes after the items, in quick C-level passes."""
    directory = Directory()
    present = _contains(stream, (b'"groups"', b'"profiles"'))
    for key, add in (("groups", directory.add_group), ("profiles", directory.add_profile)):
        if f'"{key}"'.encode() not in present:
            continue
        stream.seek(0)
        try:
            for item in ijson.items(stream, f"{root}{key}.item", use_float=True):
                add(item)
        except ijson.JSONError:
            pass  # a broken tail: the main pass reports it
    stream.seek(0)
    return directory


def _contains(stream: BinaryIO, needles: tuple[bytes, ...]) -> set[bytes]:
    found: set[bytes] = set()
    overlap = max(len(n) for n in needles)
    tail = b""
    stream.seek(0)
    while len(found) < len(needles):
        chunk = stream.read(1 << 18)
        if not chunk:
            break
        window = tail + chunk
        found.update(n for n in needles if n in window)
        tail = window[-overlap:]
    stream.seek(0)
    return found


def _split_error(
    source_file: str, stream: BinaryIO, exc: Exception, *, locator: str, ordinal: int, safe: int
) -> SplitError:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    truncated = "premature eof" in message.lower() or "incomplete" in message.lower()
    stream.seek(safe)
    data = stream.read(MAX_SPLIT_BYTES)
    reason = "the file ends inside a post (truncated JSON)" if truncated else f"invalid JSON: {message}"
    return SplitError(
        "truncated_json" if truncated else "bad_json",
        f"{reason}; the posts before it were read",
        source_file=source_file,
        locator=locator,
        ordinal=ordinal,
        data=data,
    )


def _response_body(value: Any) -> Mapping[str, Any] | None:
    """The body holding ``items`` when the value is a wall.get response (wrapped or bare)."""
    if not isinstance(value, Mapping):
        return None
    inner = value.get("response")
    if isinstance(inner, Mapping) and isinstance(inner.get("items"), list):
        return inner
    if "response" not in value and isinstance(value.get("items"), list) and "owner_id" not in value:
        return value
    return None


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


# -- parsing ------------------------------------------------------------------------------------------


def _load_object(data: bytes, where: Mapping[str, str]) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        text = str(exc).lower()
        code = "truncated_json" if "unexpected end" in text else "bad_json"
        if "utf-8" in text or "surrogate" in text:
            code = "bad_encoding"
        raise RecordError(code, f"not valid JSON: {exc}", **where) from exc
    if not isinstance(value, dict):
        raise RecordError("not_a_post", f"expected a VK post (a JSON object), found {type(value).__name__}", **where)
    return value


def _post_messages(post: Mapping[str, Any], raw: RawRecord, where: Mapping[str, str]) -> list[Message | Skipped]:
    if _is_deleted(post):
        return [Skipped("deleted")]
    if post.get("marked_as_ads"):
        return [Skipped("ad")]
    chain = _repost_chain(post)
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


def _repost_chain(post: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The reposted posts, nearest first: VK's flat ``copy_history`` and scrapers' nested copies."""
    chain: list[Mapping[str, Any]] = []
    seen: set[tuple[Any, Any]] = set()

    def walk(node: Mapping[str, Any], depth: int) -> None:
        for original in node.get("copy_history") or ():
            if not isinstance(original, Mapping) or depth > 20:
                continue
            key = (original.get("owner_id"), original.get("id"))
            if key not in seen:
                seen.add(key)
                chain.append(original)
            walk(original, depth + 1)

    walk(post, 0)
    return chain


def _direct_source(node: Mapping[str, Any], chain: list[Mapping[str, Any]], position: int) -> Mapping[str, Any] | None:
    """The post this one reposted: its own first copy, else the next one in the flat chain."""
    own = [c for c in node.get("copy_history") or () if isinstance(c, Mapping)]
    if own:
        return own[0]
    return chain[position + 1] if position + 1 < len(chain) else None


def _message(
    post: Mapping[str, Any], source: Mapping[str, Any] | None, raw: RawRecord, where: Mapping[str, str]
) -> Message:
    owner, post_id = as_int(post.get("owner_id")), as_int(post.get("id"))
    if owner is None or post_id is None:
        raise RecordError("no_id", "the post has no numeric owner_id and id", **where)
    sent_at = _timestamp(post.get("date"), "date", where)
    text = post.get("text") if isinstance(post.get("text"), str) else ""
    attachments, links = _attachments(post.get("attachments"))
    forwarded = _post_ref(source) if source is not None else None
    if not text and not attachments and forwarded is None:
        raise RecordError("empty_text", "the post has no text, no attachments and reposts nothing", **where)
    author = as_int(post.get("signer_id")) or as_int(post.get("from_id"))
    groups, profiles = raw.context.get("groups") or {}, raw.context.get("profiles") or {}
    extra = _extra(post, owner, groups, links)
    if forwarded is not None:
        extra["forwarded_post"] = forwarded[1]
    edited = post.get("edited")
    reply_id = as_int(post.get("reply_post_id"))
    return Message.create(
        source=SourceKind.VK,
        channel=f"vk:{owner}",
        native_id=f"{owner}_{post_id}",
        sent_at=sent_at,
        text=str(text),
        raw_sha256=raw.sha256,
        author=person(author),
        author_name=_name_of(author, groups, profiles),
        reply_to=f"{as_int(post.get('reply_owner_id')) or owner}_{reply_id}" if reply_id else None,
        forwarded_from=forwarded[0] if forwarded is not None else None,
        edited_at=_timestamp(edited, "edited", where) if edited else None,
        url=f"https://vk.com/wall{owner}_{post_id}",
        attachments=attachments,
        extra=extra,
    )


def _post_ref(post: Mapping[str, Any]) -> tuple[str, str] | None:
    """(forwarded_from, "<owner>_<id>") of a reposted post: communities as channels, people as users."""
    owner, post_id = as_int(post.get("owner_id")), as_int(post.get("id"))
    if owner is None:
        return None
    who = f"vk:{owner}" if owner < 0 else f"user:{owner}"
    return who, f"{owner}_{post_id}"


def _extra(post: Mapping[str, Any], owner: int, groups: Mapping[str, Any], links: list[str]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    group = groups.get(str(-owner)) if owner < 0 else None
    if isinstance(group, Mapping):
        if group.get("screen_name"):
            extra["channel_screen_name"] = group["screen_name"]
        if group.get("name"):
            extra["channel_name"] = group["name"]
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
        vk_type = str(item.get("type") or "other")
        found_body = item.get(vk_type)
        body: Mapping[str, Any] = found_body if isinstance(found_body, Mapping) else {}
        kind = ATTACHMENT_KINDS.get(vk_type, "other")
        if kind == "document":
            title, ext = body.get("title"), body.get("ext")
            mime = mimetypes.types_map.get(f".{str(ext).lower()}") if isinstance(ext, str) else None
            name = title if isinstance(title, str) else None
            found.append(Attachment(kind, name, as_int(body.get("size")), None, mime))
        else:
            found.append(Attachment(kind))
        if kind == "link" and isinstance(body.get("url"), str):
            links.append(body["url"])
    return tuple(found), links


def _name_of(author: int | None, groups: Mapping[str, Any], profiles: Mapping[str, Any]) -> str | None:
    if author is None:
        return None
    if author < 0:
        group = groups.get(str(-author))
        return str(group["name"]) if isinstance(group, Mapping) and group.get("name") else None
    name = profiles.get(str(author))
    return str(name) if name else None


def _timestamp(value: Any, name: str, where: Mapping[str, str]) -> datetime:
    if value in (None, ""):
        raise RecordError("no_timestamp", f"the post has no {name} (unix seconds)", **where)
    try:
        return parse_timestamp(value)[0]
    except (ValueError, OverflowError, OSError) as exc:
        raise RecordError("bad_timestamp", f"cannot read the {name} {str(value)[:40]!r}: {exc}", **where) from exc


def _is_deleted(post: Mapping[str, Any]) -> bool:
    return bool(post.get("is_deleted") or post.get("deleted")) or post.get("post_type") == "deleted"


def _referenced_ids(post: Mapping[str, Any]) -> set[int]:
    ids = {i for i in (as_int(post.get(k)) for k in ("owner_id", "from_id", "signer_id")) if i is not None}
    for original in _repost_chain(post):
        ids |= {i for i in (as_int(original.get(k)) for k in ("owner_id", "from_id", "signer_id")) if i is not None}
    return ids
