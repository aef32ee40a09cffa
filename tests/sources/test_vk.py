"""Behaviour of the VK reader: reposts and their originals, names, skips, truncation, streaming."""

from __future__ import annotations

import io
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
    assert by_id["-100_1"].extra["forwarded_post"] == "-200_7"
    assert by_id["-100_2"].forwarded_from == "user:300"
    assert by_id["-100_2"].extra["forwarded_post"] == "300_8"
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
    assert [m.native_id for m in found] == ["-100_1", "300_5", "-200_7"]
    assert found[1].channel == "vk:300" and found[1].forwarded_from == "vk:-200"
    assert found[2].channel == "vk:-200" and found[2].forwarded_from is None
    assert found[2].url == "https://vk.com/wall-200_7"


def test_a_flat_copy_history_chains_each_original_to_the_next() -> None:
    chain = post(1, copy_history=[post(5, owner=-300), post(9, owner=400)])
    found = {m.native_id: m for m in messages(response([chain]))}
    assert found["-100_1"].forwarded_from == "vk:-300"
    assert found["-300_5"].forwarded_from == "user:400"
    assert found["400_9"].forwarded_from is None


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
    assert found.reply_to == "-100_7"


@given(owner=st.integers(min_value=-(10**10), max_value=10**10).filter(bool), post_id=st.integers(1, 10**9))
def test_ids_urls_and_forward_forms_follow_the_owner(owner: int, post_id: int) -> None:
    repost = post(1, copy_history=[{"id": post_id, "owner_id": owner, "from_id": owner, "date": DATE, "text": "x"}])
    first, original = messages(response([repost]))
    assert first.forwarded_from == (f"vk:{owner}" if owner < 0 else f"user:{owner}")
    assert original.id == f"vk:vk:{owner}:{owner}_{post_id}"
    assert original.url == f"https://vk.com/wall{owner}_{post_id}"


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
