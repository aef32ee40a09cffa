"""`flashpoint demo` ingests the bundled scenario, end to end, as `make demo` runs it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashpoint.cli import main
from flashpoint.config import Config
from flashpoint.demo import load_manifest
from flashpoint.runners.rumours import check_stories, story_of
from flashpoint.store import MessageQuery, SqliteStore


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(
        main, ["demo", "--store-dir", str(folder), "--timeline", str(folder / "timeline.svg")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_every_manifest_source_is_ingested_and_bad_records_quarantined(demo_run: tuple[Path, str]) -> None:
    folder, output = demo_run
    manifest = load_manifest()
    config = Config.from_mapping({"store": {"path": str(folder / "demo.db")}})
    store = SqliteStore.from_config(config)
    status = store.status()
    assert set(status["by_source"]) == {s.format for s in manifest.sources}
    assert 2_500 <= status["messages"] <= 5_000
    assert status["quarantine_pending"] >= 3, "the scenario carries malformed records on purpose"
    assert {q.code for q in store.quarantine_items()} >= {"bad_encoding"}
    assert store.verify_archive().ok
    before = list(store.messages(MessageQuery(until=manifest.onset)))
    assert before and max(m["sent_at"] for m in before) < manifest.onset.isoformat()
    assert "hash chain intact" in output and "onset" in output


def test_the_timeline_picture_marks_the_onset(demo_run: tuple[Path, str]) -> None:
    folder, _ = demo_run
    svg = (folder / "timeline.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "onset: Masanchi" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", ""), "no external resources"


def test_running_the_demo_again_starts_from_a_fresh_store(demo_run: tuple[Path, str]) -> None:
    folder, _ = demo_run
    again = CliRunner().invoke(main, ["demo", "--store-dir", str(folder)], catch_exceptions=False)
    assert again.exit_code == 0
    store = SqliteStore.from_config(Config.from_mapping({"store": {"path": str(folder / "demo.db")}}))
    assert store.status()["runs"] == len(load_manifest().sources)


def test_the_demo_flags_the_false_claim_and_the_calls_before_the_onset(demo_run: tuple[Path, str]) -> None:
    folder, output = demo_run
    store = SqliteStore.from_config(Config.from_mapping({"store": {"path": str(folder / "demo.db")}}))
    manifest = load_manifest()
    flagged = store.speech_flags(["high", "critical"], limit=1000)
    assert flagged, "the scenario's false claim and calls to gather must be flagged"
    first = min(datetime.fromisoformat(f["sent_at"]) for f in flagged)
    assert first < manifest.onset, "a warning after the violence is no warning"
    assert manifest.timeline["first_false_claim"] <= first + timedelta(hours=1)
    reasons = {s["name"] for f in flagged for s in f["speech"]["signals"]}
    assert {"attack_on_vulnerable", "accusation_in_mirror"} <= reasons
    assert "most dangerous messages" in output and "hours before the onset" in output
    speech_svg = (folder / "timeline-speech.svg").read_text(encoding="utf-8")
    assert speech_svg.startswith("<svg") and "high" in speech_svg


def test_the_demo_messages_resolve_to_their_villages(demo_run: tuple[Path, str]) -> None:
    folder, output = demo_run
    store = SqliteStore.from_config(Config.from_mapping({"store": {"path": str(folder / "demo.db")}}))
    top = {row["name"]: row for row in store.place_counts(20)}
    assert {"Masanchi", "Korday", "Sortobe"} <= set(top)
    assert top["Masanchi"]["as_scene"] >= 100, "the scenario happens in Masanchi"
    assert "places named most" in output
    flagged = store.speech_flags(["high", "critical"], limit=100)
    named = [p for f in flagged for p in store.enrichments(f["id"])["places"]["places"]]
    assert any(p["name"] == "Masanchi" and p["district"].startswith("Korday") for p in named)


def test_the_demo_shows_the_false_claims_cluster_and_its_correction(demo_run: tuple[Path, str]) -> None:
    folder, output = demo_run
    assert "the false claim masanchi-elder-killed" in output and "correction to send" in output
    assert (folder / "timeline-rumour.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    store = SqliteStore.from_config(Config.from_mapping({"store": {"path": str(folder / "demo.db")}}))
    stories = [story_of(store, c["cluster_id"]) for c in store.rumour_clusters(min_size=5, limit=1000)]
    false = [c for c in check_stories(store, stories) if c.claim and c.claim.claim_id == "masanchi-elder-killed"]
    assert false, "the rumour that the elder was killed is clustered and matched to its registered correction"
    spread = max(false, key=lambda c: c.story.size).story
    assert spread.size >= 10 and spread.channels >= 3 and spread.first[0].sent_at < load_manifest().onset
