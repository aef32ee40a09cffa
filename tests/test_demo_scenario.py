"""Structural facts about the bundled demo scenario that the demo and the analytics rely on.

The scenario (src/flashpoint/data/demo/) is fictional and written by scripts/make_demo_scenario.py.
These tests read the files with small readers of their own, not with flashpoint.sources, so that a
reader's bug shows up in that reader's tests and a broken scenario shows up here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "src" / "flashpoint" / "data" / "demo"
SCRIPT = ROOT / "scripts" / "make_demo_scenario.py"

# "(the elder was) killed" in the ways the claim is written: Russian, Kazakh, Kyrgyz, Latin letters.
CLAIM = re.compile(r"\bубил|өлтір|өлтүр|oltir|\bubil", re.IGNORECASE)
KAZAKH_LETTERS = re.compile(r"[әғқңөұүһі]", re.IGNORECASE)
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
LATIN = re.compile(r"[a-z]", re.IGNORECASE)

WA_STAMPS = (
    re.compile(r"^(\d\d)\.(\d\d)\.(\d\d), (\d\d):(\d\d) - (.*)$"),  # Android, Russian
    re.compile(r"^(\d\d)/(\d\d)/(\d{4}), (\d\d):(\d\d) - (.*)$"),  # Android, day first
    re.compile(r"^\[(\d\d)\.(\d\d)\.(\d{4}), (\d\d):(\d\d):\d\d\] (.*)$"),  # iPhone
)


@dataclass(frozen=True)
class Item:
    source: str
    at: datetime | None
    text: str


@cache
def manifest() -> dict[str, Any]:
    return tomllib.loads((DEMO / "manifest.toml").read_text(encoding="utf-8"))


def when(key: str) -> datetime:
    return datetime.fromisoformat(manifest()["timeline"][key])


def onset() -> datetime:
    return datetime.fromisoformat(manifest()["onset"])


def flatten(text: str | list[Any]) -> str:
    if isinstance(text, str):
        return text
    return "".join(part if isinstance(part, str) else part["text"] for part in text)


def read_telegram(key: str, path: Path, _options: dict[str, Any]) -> Iterator[Item]:
    for message in json.loads(path.read_bytes())["messages"]:
        if message["type"] == "message":
            stamp = message.get("date_unixtime")
            at = datetime.fromtimestamp(int(stamp), UTC) if stamp else None
            yield Item(key, at, flatten(message["text"]))


def read_whatsapp(key: str, path: Path, options: dict[str, Any]) -> Iterator[Item]:
    zone = ZoneInfo(options["timezone"])
    chat = path.parent.name.removeprefix("WhatsApp Chat - ") if path.name == "_chat.txt" else ""
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        for pattern in WA_STAMPS:
            if match := pattern.match(line):
                day, month, year, hour, minute, rest = match.groups()
                sender, sep, body = rest.partition(": ")
                if not sep or (chat and chat in sender):  # notices: no sender, or the chat itself on iPhone
                    break
                year_full = int(year) + (2000 if len(year) == 2 else 0)
                at = datetime(year_full, int(month), int(day), int(hour), int(minute), tzinfo=zone)
                yield Item(key, at, body)
                break


def read_vk(key: str, path: Path, _options: dict[str, Any]) -> Iterator[Item]:
    for item in json.loads(path.read_bytes())["response"]["items"]:
        at = datetime.fromtimestamp(item["date"], UTC) if "date" in item else None
        copies = " ".join(copy["text"] for copy in item.get("copy_history", []))
        yield Item(key, at, f"{item['text']} {copies}".strip())


READERS = {"telegram": read_telegram, "whatsapp": read_whatsapp, "vk": read_vk}


@cache
def items_by_source() -> dict[str, list[Item]]:
    return {
        src["key"]: list(READERS[src["format"]](src["key"], DEMO / src["path"], src.get("options", {})))
        for src in manifest()["sources"]
    }


def dated_or_not() -> list[Item]:
    return [item for items in items_by_source().values() for item in items]


def dated() -> list[Item]:
    return [item for item in dated_or_not() if item.at is not None]


def test_manifest_describes_a_fictional_scenario() -> None:
    m = manifest()
    assert m["fictional"] is True
    assert "FICTIONAL" in m["description"]
    assert m["licence"] == "CC0-1.0"
    assert m["timezone"] == "Asia/Almaty"
    assert onset().utcoffset() == timedelta(hours=5)  # Kazakhstan's single zone since March 2024
    assert m["onset_place"] == "Masanchi"
    assert 6 <= len(m["sources"]) <= 10
    assert {src["format"] for src in m["sources"]} == {"telegram", "whatsapp", "vk"}
    readme = (DEMO / "README.md").read_text(encoding="utf-8")
    assert "FICTIONAL" in readme and "CC0-1.0" in readme


def test_the_timeline_runs_in_story_order() -> None:
    order = ["dispute", "first_false_claim", "first_call_to_gather", "official_denial", "crowd_gathers", "onset"]
    times = [when(key) for key in order]
    assert times == sorted(times)
    assert when("onset") == onset()


@pytest.mark.parametrize("source", manifest()["sources"], ids=lambda src: src["key"])
def test_every_source_file_exists_with_the_count_the_manifest_gives(source: dict[str, Any]) -> None:
    path = DEMO / source["path"]
    assert path.is_file()
    assert source["channel_home"]
    assert len(items_by_source()[source["key"]]) == source["messages"]


def test_total_message_count() -> None:
    total = sum(len(items) for items in items_by_source().values())
    assert 2_500 <= total <= 5_000
    assert total == manifest()["messages"]


def test_onset_lies_within_the_data() -> None:
    times = [item.at for item in dated() if item.at is not None]
    assert min(times) + timedelta(hours=24) < onset() < max(times) - timedelta(hours=12)


def test_false_claim_spreads_through_several_channels_before_the_onset() -> None:
    claims = [item for item in dated() if CLAIM.search(item.text)]
    assert claims
    assert min(item.at for item in claims if item.at) == when("first_false_claim").replace(second=0)
    before = {item.source for item in claims if item.at and item.at < onset()}
    assert len(before) >= 5, before


def test_the_official_denial_comes_before_the_onset() -> None:
    official = [src["key"] for src in manifest()["sources"] if "akimat" in src["role"]]
    assert official
    denials = [
        item
        for item in items_by_source()[official[0]]
        if item.at and when("first_false_claim") < item.at < onset() and "тірі" in item.text and "жив" in item.text
    ]
    assert denials
    assert min(item.at for item in denials if item.at) == when("official_denial")


def test_control_villages_keep_talking_through_the_same_hours() -> None:
    control = [src for src in manifest()["sources"] if src["control"]]
    assert len({src["channel_home"] for src in control}) >= 3
    keys = {src["key"] for src in control}
    start, end = when("first_false_claim"), onset() + timedelta(hours=12)
    times = [item.at for item in dated() if item.source in keys and item.at and start <= item.at < end]
    block = start
    while block < end:
        assert any(block <= t < block + timedelta(hours=2) for t in times), f"no control message from {block}"
        block += timedelta(hours=2)


def test_russian_and_kazakh_are_both_well_represented() -> None:
    texts = [item.text for items in items_by_source().values() for item in items if item.text.strip()]
    kazakh = sum(1 for text in texts if KAZAKH_LETTERS.search(text))
    russian_only = sum(1 for text in texts if CYRILLIC.search(text) and not KAZAKH_LETTERS.search(text))
    latin_only = sum(1 for text in texts if LATIN.search(text) and not CYRILLIC.search(text))
    assert kazakh >= 0.15 * len(texts)
    assert russian_only >= 0.3 * len(texts)
    assert latin_only >= 50  # Kazakh and Russian in Latin letters, English


def test_the_malformed_records_are_there_for_the_quarantine() -> None:
    listed = {entry["path"] for entry in manifest()["malformed"]}
    assert len(listed) == 3
    undated = {item.source for item in dated_or_not() if item.at is None}
    assert {"tg_masanchi", "vk_podslushano"} <= undated
    whatsapp = next(src for src in manifest()["sources"] if src["path"] in listed and src["format"] == "whatsapp")
    with pytest.raises(UnicodeDecodeError):
        (DEMO / whatsapp["path"]).read_bytes().decode("utf-8")


def test_the_script_rewrites_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("make_demo_scenario", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    module.write(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    shipped = sorted(p.relative_to(DEMO) for p in DEMO.rglob("*") if p.is_file())
    assert written == shipped
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (DEMO / rel).read_bytes(), rel
