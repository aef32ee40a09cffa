"""Behaviour of the VK reader: reposts and their originals, names, skips, truncation, streaming."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashpoint.errors import RecordError
from flashpoint.model import Message, RawRecord, Skipped
from flashpoint.runners.embedded import EmbeddedRunner
from flashpoint.sources import detect_format
from flashpoint.sources.base import SplitError
from flashpoint.sources.vk import VkSource
from flashpoint.store import SqliteStore

SOURCE = VkSource()
PATH = Path("wall.json")
DATA = Path(__file__).parent.parent / "data" / "vk"
DATE = 1709629920  # 2024-03-05T09:12:00Z


def post(post_id: int, owner: int = -100, **fields: Any) -> dict[str, Any]:
    return {"id": post_id, "owner_id": owner, "from_id": owner, "date": DATE, "text": f"пост {post_id}", **fields}


def response(items: list[Any], **extra: Any) -> bytes:
    return orjson.dumps({"response": {"count": len(items), "items": items, **extra}})


def split(data: bytes) -> list[RawRecord | SplitError]:
    return list(SOURCE.records(PATH, io.BytesIO(data), {}))


def outcomes(data: bytes) -> list[Message | Skipped | str]:
    found: list[Message | Skipped | str] = []
    for item in split(data):
        if isinstance(item, SplitError):
            found.append(f"split:{item.code}")
            continue
        try:
            found.extend(SOURCE.parse(item, {}))
        except RecordError as exc:
            found.append(exc.code)
    return found


def messages(data: bytes) -> list[Message]:
    return [m for m in outcomes(data) if isinstance(m, Message)]


def test_a_repost_forwards_a_community_as_a_channel_and_a_person_as_a_user() -> None:
    from_group = post(1, copy_history=[post(7, owner=-200)], text="")
    from_person = post(2, copy_history=[post(8, owner=300)])
    by_id = {m.native_id: m for m in messages(response([from_group, from_person]))}
    assert by_id["-100_1"].forwarded_from == "vk:-200"
    assert by_id["-100_1"].extra["forwarded_post"] == "vk:vk:-200:-200_7", "the id the original is stored under"
    assert by_id["-100_2"].forwarded_from == "user:300"
    assert by_id["-100_2"].extra["forwarded_post"] == "vk:user:300:8"
    assert by_id["-100_2"].text == "пост 2", "a repost keeps its own text"


def test_a_repost_with_no_text_of_its_own_is_kept_as_a_forward() -> None:
    repost = post(1, copy_history=[post(7, owner=-200)], text="")
    first = messages(response([repost]))[0]
    assert first.text == "" and first.forwarded_from == "vk:-200"


def test_a_post_with_nothing_in_it_is_an_error() -> None:
    assert outcomes(response([post(1, text="")])) == ["empty_text"]


def test_originals_are_emitted_as_their_own_messages_once_per_record() -> None:
    original = post(7, owner=-200, text="оригинал")
    nested = post(1, copy_history=[{**post(5, owner=300), "copy_history": [original]}, original])
    found = messages(response([nested]))
    assert [m.native_id for m in found] == ["-100_1", "5", "-200_7"]
    assert found[1].channel == "user:300" and found[1].forwarded_from == "vk:-200"
    assert found[2].channel == "vk:-200" and found[2].forwarded_from is None
    assert found[2].url == "https://vk.com/wall-200_7"


def test_a_flat_copy_history_chains_each_original_to_the_next() -> None:
    chain = post(1, copy_history=[post(5, owner=-300), post(9, owner=400)])
    found = {m.native_id: m for m in messages(response([chain]))}
    assert found["-100_1"].forwarded_from == "vk:-300"
    assert found["-300_5"].forwarded_from == "user:400"
    assert found["9"].forwarded_from is None and found["9"].channel == "user:400"


def test_an_original_reposted_by_many_walls_is_stored_once(
    tmp_path: Path, runner: EmbeddedRunner, store: SqliteStore
) -> None:
    stats = runner.ingest(fmt="vk", paths=[DATA / "community_wall_extended.json", DATA / "user_wall_pages.json"])
    assert stats.duplicates >= 2
    rows = store.conn.execute("SELECT count(*) FROM messages WHERE id = ?", ("vk:vk:-30000002:-30000002_4512",))
    assert rows.fetchone()[0] == 1


def test_ads_and_deleted_posts_are_skipped_with_a_reason() -> None:
    items = [post(1, marked_as_ads=1), {"id": 2, "owner_id": -100, "is_deleted": True, "deleted_reason": "x"}]
    assert [o.reason for o in outcomes(response(items)) if isinstance(o, Skipped)] == ["ad", "deleted"]


def test_a_post_without_a_date_is_a_record_error_and_the_rest_is_read() -> None:
    items = [post(1), {"id": 2, "owner_id": -100, "text": "без даты"}, post(3)]
    found = outcomes(response(items))
    assert [o.native_id if isinstance(o, Message) else o for o in found] == ["-100_1", "no_timestamp", "-100_3"]


def test_truncated_json_ends_with_a_split_error_after_the_complete_posts() -> None:
    whole = response([post(1), post(2), post(3, text="обрезанный пост про Сортобе")])
    cut = whole[: whole.index("обрезанный".encode())]
    items = split(cut)
    assert [type(i).__name__ for i in items] == ["RawRecord", "RawRecord", "SplitError"]
    error = items[-1]
    assert isinstance(error, SplitError)
    assert (error.code, error.ordinal, error.locator) == ("truncated_json", 2, "response.items[2]")
    assert b'"id":3' in error.data, "the unsplit tail goes to quarantine"


def test_locators_name_the_item_in_the_response() -> None:
    items = split(response([post(i) for i in range(13)]))
    assert items[12].locator == "response.items[12]"


def test_names_of_communities_go_to_extra_and_people_only_to_author_name() -> None:
    signed = post(1, signer_id=555)
    on_person_wall = post(2, owner=777)
    data = response(
        [signed, on_person_wall],
        profiles=[
            {"id": 555, "first_name": "Асем", "last_name": "Тестова"},
            {"id": 777, "first_name": "Ерлан", "last_name": "Примеров"},
        ],
        groups=[{"id": 100, "name": "Масанчи Онлайн", "screen_name": "masanchi_online"}],
    )
    first, second = messages(data)
    assert first.extra["channel_name"] == "Масанчи Онлайн"
    assert first.extra["channel_screen_name"] == "masanchi_online"
    assert (first.author_raw, first.author_name) == ("555", "Асем Тестова")
    assert second.author_name == "Ерлан Примеров"
    assert "Примеров" not in orjson.dumps(dict(second.extra)).decode(), "no person names in extra"


def test_names_travel_in_the_context_so_a_post_parses_again_alone() -> None:
    data = response([post(1)], groups=[{"id": 100, "name": "Масанчи Онлайн", "screen_name": "m"}])
    record = split(data)[0]
    assert isinstance(record, RawRecord)
    alone = RawRecord("other.json", 0, record.locator, bytes(record.data), orjson.loads(orjson.dumps(record.context)))
    parsed = SOURCE.parse(alone, {})[0]
    assert isinstance(parsed, Message) and parsed.extra["channel_name"] == "Масанчи Онлайн"


def test_json_lines_hold_single_posts_and_whole_responses() -> None:
    lines = orjson.dumps(post(1)) + b"\n\n" + response([post(2), post(3)]) + b"\n"
    items = split(lines)
    assert [i.locator for i in items] == ["line 1", "line 3: response.items[0]", "line 3: response.items[1]"]
    assert items[0].data == orjson.dumps(post(1)), "a post on its own line keeps its exact bytes"
    assert [i.ordinal for i in items] == [0, 1, 2]


def test_an_array_of_pages_carries_each_page_names() -> None:
    pages = orjson.dumps(
        [
            {"response": {"count": 1, "items": [post(1)], "groups": [{"id": 100, "name": "Сортобе"}]}},
            {"response": {"count": 1, "items": [post(2, owner=-300)], "groups": [{"id": 300, "name": "Бұлар батыр"}]}},
        ]
    )
    found = messages(pages)
    assert [m.extra["channel_name"] for m in found] == ["Сортобе", "Бұлар батыр"]
    assert [i.locator for i in split(pages)] == ["[0].response.items[0]", "[1].response.items[0]"]


def test_an_api_error_response_is_a_record_error() -> None:
    assert outcomes(orjson.dumps({"error": {"error_code": 15, "error_msg": "Access denied"}})) == ["vk_error"]


def test_attachments_keep_document_names_and_link_urls() -> None:
    attachments = [
        {"type": "doc", "doc": {"title": "протокол.pdf", "size": 1234, "ext": "pdf", "url": "https://vk.com/doc1"}},
        {"type": "link", "link": {"url": "https://example.kz/news/1", "title": "Новость"}},
        {"type": "photo", "photo": {"id": 1, "sizes": []}},
        {"type": "poll", "poll": {"question": "?"}},
    ]
    found = messages(response([post(1, attachments=attachments)]))[0]
    assert [a.kind for a in found.attachments] == ["document", "link", "photo", "other"]
    assert (found.attachments[0].file_name, found.attachments[0].size) == ("протокол.pdf", 1234)
    assert found.attachments[0].mime_type == "application/pdf"
    assert found.extra["links"] == ["https://example.kz/news/1"]


def test_counts_pin_and_edit_time_are_kept() -> None:
    full = post(1, is_pinned=1, edited=DATE + 60, likes={"count": 5}, views={"count": 90}, reply_post_id=7)
    found = messages(response([full]))[0]
    assert found.extra["is_pinned"] is True and found.extra["likes"] == 5 and found.extra["views"] == 90
    assert found.edited_at is not None and (found.edited_at - found.sent_at).total_seconds() == 60
    assert found.reply_to == "vk:vk:-100:-100_7", "the id the post replied to is stored under"


@given(owner=st.integers(min_value=-(10**10), max_value=10**10).filter(bool), post_id=st.integers(1, 10**9))
def test_ids_urls_and_forward_forms_follow_the_owner(owner: int, post_id: int) -> None:
    repost = post(1, copy_history=[{"id": post_id, "owner_id": owner, "from_id": owner, "date": DATE, "text": "x"}])
    first, original = messages(response([repost]))
    assert first.extra["forwarded_post"] == original.id
    if owner < 0:
        assert first.forwarded_from == f"vk:{owner}"
        assert original.id == f"vk:vk:{owner}:{owner}_{post_id}"
        assert original.url == f"https://vk.com/wall{owner}_{post_id}"
    else:
        assert first.forwarded_from == f"user:{owner}"
        assert original.id == f"vk:user:{owner}:{post_id}"
        assert original.url is None, "a person's wall address would name the person"


def test_sniff_claims_wall_get_and_auto_detection_beats_generic_json_lines(tmp_path: Path) -> None:
    assert SOURCE.sniff(PATH, response([post(1)])) == 0.95
    assert SOURCE.sniff(PATH, b'{"name": "chat", "messages": [{"id": 1, "from_id": "user1", "date": "x"}]}') == 0.0
    dump = tmp_path / "dump.jsonl"
    dump.write_bytes(b"".join(orjson.dumps(post(i, post_type="post")) + b"\n" for i in range(5)))
    assert detect_format(dump).format == "vk"


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.total = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.total += len(chunk)
        return chunk


def big_response(posts: int, **extra: Any) -> bytes:
    items = b",".join(orjson.dumps(post(i, text="Масанчи " * 40)) for i in range(posts))
    tail = orjson.dumps(extra)[1:-1]
    return b'{"response":{"count":%d,"items":[' % posts + items + b"]" + (b"," + tail if tail else b"") + b"}}"


def test_the_first_post_comes_after_one_quick_scan_not_a_full_parse() -> None:
    """One byte scan looks for "groups"/"profiles" (VK writes them after the items); then posts stream."""
    data = big_response(3000)
    stream = CountingStream(data)
    first = next(iter(SOURCE.records(PATH, stream, {})))
    assert isinstance(first, RawRecord)
    assert stream.total < len(data) * 1.25


def test_memory_stays_flat_on_a_big_extended_response() -> None:
    data = big_response(20000, groups=[{"id": 100, "name": "Масанчи Онлайн", "screen_name": "m"}])
    assert len(data) > 8_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in SOURCE.records(PATH, io.BytesIO(data), {}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20000
    assert peak < 2_000_000, f"peak {peak} bytes while splitting {len(data)} bytes"


@pytest.mark.parametrize("name", ["community_wall_extended.json", "user_wall_pages.json", "truncated_response.json"])
def test_samples_are_detected_as_vk(name: str) -> None:
    assert detect_format(DATA / name).format == "vk"


def context_of(record: RawRecord | SplitError) -> Mapping[str, Any]:
    assert isinstance(record, RawRecord)
    return record.context


def test_context_holds_only_the_names_a_post_needs() -> None:
    groups = [{"id": i, "name": f"group {i}"} for i in range(100, 160)]
    record = split(response([post(1, copy_history=[post(2, owner=-150)])], groups=groups))[0]
    assert set(context_of(record)["groups"]) == {"100", "150"}


# -- robustness and privacy (review fixes) -------------------------------------------------------------

ALLOWED = (RawRecord, SplitError)


def checked_outcomes(data: bytes) -> list[Message | Skipped | str]:
    """Split and parse, failing on anything but the contract's outcomes; messages must be storable."""
    found: list[Message | Skipped | str] = []
    ordinals = []
    for item in SOURCE.records(PATH, io.BytesIO(data), {}):
        assert isinstance(item, ALLOWED)
        item.locator.encode("utf-8")  # a locator quotes no input (it is stored as text)
        ordinals.append(item.ordinal)
        if isinstance(item, SplitError):
            orjson.dumps(item.message)  # a reason holds no raw bytes (orjson refuses lone surrogates)
            found.append(f"split:{item.code}")
            continue
        orjson.dumps(dict(item.context))
        try:
            parsed = SOURCE.parse(item, {})
        except RecordError as exc:
            found.append(exc.code)
            continue
        for out in parsed:
            assert isinstance(out, Message | Skipped)
            if isinstance(out, Message):
                row = (out.id, out.channel, out.text, out.author_raw, out.author_name, out.reply_to, out.url)
                orjson.dumps((row, out.forwarded_from, out.attachments, dict(out.extra)))
        found.extend(parsed)
    assert ordinals == list(range(len(ordinals)))
    return found


def test_a_copy_history_owner_that_is_an_object_or_a_string_count_does_not_break_the_reader() -> None:
    odd = post(1, copy_history=[{"id": 2, "owner_id": {"id": 5}, "date": DATE, "text": "x"}], views={"count": "90"})
    found = checked_outcomes(response([odd, post(3, copy_history=5, attachments={"a": 1})]))
    first, third = (m for m in found if isinstance(m, Message))
    assert first.extra["views"] == 90 and first.native_id == "-100_1"
    assert third.native_id == "-100_3" and third.attachments == ()


def test_integers_past_64_bits_are_left_out_not_stored() -> None:
    doc = {"type": "doc", "doc": {"title": "a.pdf", "size": 2**70, "ext": "pdf"}}
    big = post(1, views={"count": 2**70}, likes=-(2**64), attachments=[doc], reply_post_id=2**65)
    found = messages(json.dumps({"response": {"count": 1, "items": [big]}}).encode())[0]
    assert "views" not in found.extra and "likes" not in found.extra
    assert found.attachments[0].size is None and found.reply_to is None


JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec=None), max_size=6)
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)
POST_FIELDS = [
    "id",
    "owner_id",
    "from_id",
    "signer_id",
    "date",
    "edited",
    "text",
    "post_type",
    "copy_history",
    "attachments",
    "comments",
    "likes",
    "reposts",
    "views",
    "is_pinned",
    "marked_as_ads",
    "is_deleted",
    "deleted",
    "geo",
    "reply_post_id",
    "reply_owner_id",
    "error",
]


def fuzzed_attachment() -> st.SearchStrategy[Any]:
    body = st.fixed_dictionaries({}, optional={k: JSON_VALUE for k in ("title", "size", "ext", "url")})
    kinds = st.sampled_from(["doc", "link", "photo", "video", "poll"]) | JSON_VALUE
    return st.builds(lambda kind, inner: {"type": kind, kind if isinstance(kind, str) else "x": inner}, kinds, body)


def fuzzed_post(depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    values: dict[str, st.SearchStrategy[Any]] = {name: JSON_VALUE for name in POST_FIELDS}
    values["attachments"] = st.lists(fuzzed_attachment(), max_size=2) | JSON_VALUE
    values["views"] = st.fixed_dictionaries({"count": JSON_VALUE}) | JSON_VALUE
    values["geo"] = st.fixed_dictionaries({"coordinates": JSON_VALUE, "place": JSON_VALUE}) | JSON_VALUE
    if depth < 2:
        values["copy_history"] = st.lists(fuzzed_post(depth + 1), max_size=2) | JSON_VALUE
    sane = {"id": st.integers(1, 9), "owner_id": st.sampled_from([-100, 500]), "date": st.just(DATE)}
    return st.fixed_dictionaries({}, optional={**values, **{k: st.one_of(v, values[k]) for k, v in sane.items()}})


def fuzzed_names() -> st.SearchStrategy[Any]:
    entry = st.fixed_dictionaries({}, optional={k: JSON_VALUE for k in ("id", "name", "screen_name", "first_name")})
    return st.lists(entry | JSON_VALUE, max_size=3) | JSON_VALUE


@given(
    items=st.lists(fuzzed_post(), max_size=4) | JSON_VALUE,
    groups=fuzzed_names(),
    profiles=fuzzed_names(),
)
def test_wrong_typed_values_anywhere_give_only_errors_skips_and_messages(
    items: Any, groups: Any, profiles: Any
) -> None:
    body = {"count": 1, "items": items, "groups": groups, "profiles": profiles}
    checked_outcomes(json.dumps({"response": body}).encode())  # json escapes lone surrogates as \udxxx
    if isinstance(items, list):
        for item in items:
            checked_outcomes(json.dumps(item).encode() + b"\n" + json.dumps(item).encode() + b"\n")


@given(
    data=st.binary(max_size=40),
    at=st.integers(0, 10_000),
    cut=st.booleans(),
    chunk=st.sampled_from([2, 5, 64, 1 << 16]),
    pretty=st.booleans(),
)
def test_bytes_broken_anywhere_never_escape_as_exceptions(
    data: bytes, at: int, cut: bool, chunk: int, pretty: bool
) -> None:
    from flashpoint.sources import vk_split as vk

    items = [post(1), post(2, copy_history=[post(3, owner=400)]), post(4)]
    document = {"response": {"count": 3, "items": items, "groups": [{"id": 100, "name": "x"}]}}
    whole = orjson.dumps(document, option=orjson.OPT_INDENT_2 if pretty else 0)
    at = at % (len(whole) + 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vk, "CHUNK", chunk)
        checked_outcomes(whole[:at] + data + (b"" if cut else whole[at:]))


def test_a_person_wall_is_a_user_channel_and_no_id_or_address_names_the_person() -> None:
    wall = 500000007
    items = [
        post(1, owner=wall, reply_owner_id=500000099, reply_post_id=5, copy_history=[post(88, owner=500000003)]),
        post(2, owner=wall, copy_history=[post(7, owner=-300)]),
    ]
    first, original, second, community = messages(response(items))
    assert (first.channel, first.native_id, first.id) == ("user:500000007", "1", "vk:user:500000007:1")
    assert first.url is None and original.url is None
    assert first.reply_to == "vk:user:500000099:5"
    assert first.forwarded_from == "user:500000003"
    assert first.extra["forwarded_post"] == original.id == "vk:user:500000003:88"
    assert original.channel == "user:500000003"
    assert second.extra["forwarded_post"] == community.id == "vk:vk:-300:-300_7"
    assert community.url == "https://vk.com/wall-300_7"


def test_after_pseudonymisation_no_person_id_is_left_in_a_person_wall_message() -> None:
    from flashpoint.model import Enriched
    from flashpoint.stages.privacy import Pseudonymise, Pseudonymiser

    items = [post(1, owner=500000007, reply_post_id=5, copy_history=[post(88, owner=500000003)])]
    stage = Pseudonymise(Pseudonymiser(b"k" * 32))
    for message in messages(response(items)):
        stored = stage(Enriched(message)).message
        text = orjson.dumps([stored.id, stored.channel, stored.reply_to, stored.forwarded_from, dict(stored.extra)])
        assert b"500000007" not in text and b"500000003" not in text, text


def test_only_authors_names_travel_in_the_context() -> None:
    profiles = [{"id": 500000007, "first_name": "Владелец", "last_name": "Стены"}, {"id": 555, "first_name": "Автор"}]
    item = post(1, owner=500000007, from_id=555)
    record = split(response([item], profiles=profiles))[0]
    assert context_of(record) == {"profiles": {"555": "Автор"}}
    assert messages(response([item], profiles=profiles))[0].author_name == "Автор"


def test_a_split_error_reason_is_a_sentence_with_a_byte_offset_not_the_input() -> None:
    data = response([post(1)])[:-3] + b"\xff\xd1\x8f garbage" + response([post(1)])[-3:]
    errors = [i for i in split(data) if isinstance(i, SplitError)]
    assert errors, "a broken tail is reported"
    for error in errors:
        assert "byte" in error.message and "garbage" not in error.message and "\\x" not in error.message
        assert "lexical" not in error.message and "right here" not in error.message


def big_posts(count: int, bad: int, broken: bytes | None = None) -> bytes:
    parts = [orjson.dumps(post(i, text="Масанчи " * 30)) for i in range(count)]
    parts[bad] = broken if broken is not None else parts[bad].replace("М".encode(), b"\xff", 1)
    return b'{"response":{"count":%d,"items":[' % count + b",".join(parts) + b"]}}"


def test_one_bad_byte_in_a_big_response_costs_that_post_alone() -> None:
    data = big_posts(20000, bad=1)
    assert len(data) > 5_000_000
    found = outcomes(data)
    assert found.count("bad_encoding") == 1
    assert len([m for m in found if isinstance(m, Message)]) == 19999
    assert found[1] == "bad_encoding"


@pytest.mark.parametrize(
    "broken",
    [
        '{"id": 2, "owner_id": -100, "date": 1709629920 "text": "без запятой"}'.encode(),
        b'{"id": 2, "owner_id": -100, "text": "cut off',
        b'{"id": 2, "text": "oops" "x": [1, 2}',
        b"tru",
        b'{"id": 2, "text": "\xff\xfe" x}',
    ],
)
def test_a_structurally_broken_post_is_quarantined_and_reading_goes_on(broken: bytes) -> None:
    data = big_posts(50, bad=25, broken=broken)
    items = split(data)
    errors = [i for i in items if isinstance(i, SplitError)]
    assert [e.code for e in errors] == ["bad_json"]
    assert broken[:8] in errors[0].data and errors[0].locator == "response.items[25]"
    read = {m.native_id for m in messages(data)}
    lost = {f"-100_{i}" for i in range(50)} - read
    assert lost <= {"-100_25", "-100_26"}, "at most the post the broken one ran into is lost"
    assert "-100_49" in read and "-100_24" in read
    assert [i.ordinal for i in items] == list(range(len(items)))


def test_a_file_broken_beyond_repair_reports_the_bytes_it_could_not_read() -> None:
    data = response([post(1)])[:-2] + b'x"' + b"y" * 3_000_000
    error = [i for i in split(data) if isinstance(i, SplitError)][-1]
    assert len(error.data) <= 1 << 20 and len(error.data) + error.unread_bytes >= 3_000_000


@pytest.mark.parametrize("data", [b"[" * 100_000, b'{"response":{"items":[' + b"[" * 100_000, b'{"a":' * 50_000])
def test_deep_nesting_is_refused_in_bounded_memory(data: bytes) -> None:
    tracemalloc.start()
    try:
        items = split(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [i.code for i in items if isinstance(i, SplitError)][:1] == ["too_deep"]
    assert peak < 5_000_000


def test_nesting_past_256_levels_in_one_post_is_refused_and_the_next_post_is_read() -> None:
    deep = b'{"id": 2, "owner_id": -100, "date": 1709629920, "text": "x", "geo": ' + b'{"a": ' * 300 + b"1" + b"}" * 301
    data = b'{"response": {"items": [' + orjson.dumps(post(1)) + b", " + deep + b", " + orjson.dumps(post(3)) + b"]}}"
    found = outcomes(data)
    assert [m.native_id if isinstance(m, Message) else m for m in found] == ["-100_1", "split:too_deep", "-100_3"]
    error = split(data)[1]
    assert isinstance(error, SplitError) and error.data == deep


def test_an_array_of_pages_streams_in_flat_memory() -> None:
    page = big_response(8000, groups=[{"id": 100, "name": "Масанчи Онлайн"}])
    data = b"[" + b",".join([page] * 3) + b"]"
    assert len(data) > 8_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in SOURCE.records(PATH, io.BytesIO(data), {}))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 24000
    assert peak < 2_000_000, f"peak {peak} bytes while splitting {len(data)} bytes"


def test_a_byte_order_mark_is_read_past() -> None:
    bom = b"\xef\xbb\xbf"
    assert SOURCE.sniff(PATH, bom + response([post(1)])) == 0.95
    assert [m.native_id for m in messages(bom + response([post(1), post(2)]))] == ["-100_1", "-100_2"]
    lines = bom + orjson.dumps(post(1)) + b"\n" + orjson.dumps(post(2)) + b"\n"
    items = split(lines)
    assert [i.locator for i in items] == ["line 1", "line 2"] and items[0].data == orjson.dumps(post(1))


@pytest.mark.parametrize("body", [{"items": {"a": 1}}, {"items": "x"}, {"count": 3}, {"items": 5, "groups": []}])
def test_a_response_whose_items_are_not_a_list_is_a_split_error(body: dict[str, Any]) -> None:
    assert outcomes(orjson.dumps({"response": body})) == ["split:not_vk"]


def test_a_lone_surrogate_is_kept_byte_for_byte_and_quarantined_with_a_reason() -> None:
    raw_post = b'{"id": 1, "owner_id": -100, "from_id": -100, "date": 1709629920, "text": "half \\ud83d emoji"}'
    data = b'{"response": {"count": 2, "items": [' + raw_post + b", " + orjson.dumps(post(2)) + b"]}}"
    first, _ = split(data)
    assert isinstance(first, RawRecord) and first.data == raw_post, "the raw record holds the post's own bytes"
    with pytest.raises(RecordError) as caught:
        SOURCE.parse(first, {})
    assert caught.value.code == "bad_text" and "surrogate" in caught.value.message
    assert [m.native_id for m in messages(data)] == ["-100_2"]


def test_posts_keep_their_exact_bytes_in_a_pretty_printed_file() -> None:
    text = (DATA / "truncated_response.json").read_bytes()
    first = split(text)[0]
    assert isinstance(first, RawRecord) and first.data in text and first.data.startswith(b"{\n")


@given(
    items=st.lists(JSON_VALUE, max_size=5),
    indent=st.sampled_from([None, 1, "\t"]),
    chunk=st.sampled_from([1, 3, 7, 64]),
    wrap=st.sampled_from(["response", "body", "pages"]),
)
def test_a_valid_file_splits_into_exactly_its_items_wherever_the_window_cuts_it(
    items: list[Any], indent: int | str | None, chunk: int, wrap: str
) -> None:
    from flashpoint.sources import vk_split as vk

    body = {"count": len(items), "items": items, "groups": [{"id": 1, "name": "x"}]}
    document: Any = {"response": body} if wrap == "response" else body
    if wrap == "pages":
        document = [{"response": body}, {"response": body}]
    data = json.dumps(document, indent=indent).encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(vk, "CHUNK", chunk)
        found = split(data)
    assert all(isinstance(r, RawRecord) for r in found)
    assert [json.loads(r.data) for r in found] == items * (2 if wrap == "pages" else 1)
    assert all(r.data in data for r in found), "each record is a slice of the file"


def test_a_huge_post_is_refused_in_bounded_memory_and_the_next_post_is_read() -> None:
    huge = b'{"id": 2, "owner_id": -100, "date": 1709629920, "text": "' + b"x" * 60_000_000 + b'"}'
    data = b'{"response": {"junk": "' + b"y" * 30_000_000 + b'", "items": [' + huge + b", "
    data += orjson.dumps(post(3)) + b"]}}"
    tracemalloc.start()
    try:
        items = split(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [i.locator for i in items] == ["response.items[0]", "response.items[1]"]
    error = items[0]
    assert isinstance(error, SplitError) and error.code == "too_large"
    assert len(error.data) == 1 << 20 and len(error.data) + error.unread_bytes == len(huge)
    assert peak < 40_000_000, f"peak {peak} bytes"


def test_digits_that_are_not_decimal_are_not_numbers() -> None:
    odd = post(1, views={"count": "²"}, reply_post_id="¹", signer_id="³")
    found = checked_outcomes(response([odd, {**post(2), "owner_id": "¹"}], profiles=[{"id": "¹", "first_name": "x"}]))
    first = found[0]
    assert isinstance(first, Message) and "views" not in first.extra and first.reply_to is None
    assert found[1] == "no_id"


def test_locators_never_quote_the_input() -> None:
    data = b'{"response": {"count": 1, "\xff\xd1\\ud800": [1, 2, ' + b'{"\xff": 1}'
    for item in split(data):
        assert isinstance(item, SplitError)
        item.locator.encode("utf-8")
        assert "\udcff" not in item.locator and "\xff" not in item.locator
