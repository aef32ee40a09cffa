"""Rumour clustering at ingest (with catch-up after a crash), and the rumours commands."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from flashpoint.cli import main
from flashpoint.config import Config
from flashpoint.runners.rumours import cluster_new_messages
from flashpoint.store import SqliteStore

CLAIM = "Ағайын, Масаншыда ақсақалды өлтіріп кетті, аксакала убили прямо на дороге!!! Тараттыңдар"


def write_chat(path: Path) -> None:
    lines = []
    for i in range(8):
        prefix = ["", "Срочно! ", "Forwarded: ", "😡😡 "][i % 4]
        when = f"2025-03-15T{18 + i // 4}:{10 * (i % 4):02d}:00+05:00"
        lines.append({"id": i, "channel": f"chat{i % 4}", "date": when, "text": prefix + CLAIM})
    water = "Завтра в Таразе не будет воды"
    lines.append({"id": 100, "channel": "chat9", "date": "2025-03-15T18:00:00+05:00", "text": water})
    path.write_bytes(b"\n".join(orjson.dumps(line) for line in lines) + b"\n")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


def test_ingest_clusters_forwards_and_the_commands_tell_the_story(tmp_path: Path) -> None:
    chat = tmp_path / "chat.jsonl"
    write_chat(chat)
    store_path = str(tmp_path / "f.db")
    assert run("--store", store_path, "ingest", str(chat))[0] == 0
    code, out = run("--store", store_path, "rumours", "--json", "--min-size", "2")
    assert code == 0
    (story,) = orjson.loads(out)
    assert story["size"] == 8 and story["channels"] == 4
    assert story["first"][0]["id"].endswith(":0")
    assert story["severity"] in ("high", "critical") and "attack_on_vulnerable" in story["signals"]
    png = tmp_path / "r.png"
    code, out = run("--store", store_path, "rumours", "show", story["cluster_id"], "--png", str(png))
    assert code == 0 and "timeline" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run("--store", store_path, "rumours", "show", "nope")[0] != 0


def test_messages_left_unclustered_by_a_crash_are_caught_up(tmp_path: Path) -> None:
    chat = tmp_path / "chat.jsonl"
    write_chat(chat)
    config = Config.from_mapping({"store": {"path": str(tmp_path / "f.db")}})
    store = SqliteStore.from_config(config)
    assert run("--store", str(tmp_path / "f.db"), "ingest", str(chat))[0] == 0
    # forget the assignments of the last four messages, as if the process died before recording them
    store.conn.execute("DELETE FROM rumour_members WHERE seq > (SELECT max(seq) - 4 FROM rumour_members)")
    store.conn.commit()
    stats = cluster_new_messages(store)
    assert stats.messages == 4
    clusters = store.rumour_clusters(min_size=2)
    assert [c["size"] for c in clusters] == [8]


def test_analyze_shows_the_registered_claim_a_message_repeats(tmp_path: Path) -> None:
    store_path = str(tmp_path / "f.db")
    demo = Path(__file__).resolve().parents[2] / "src" / "flashpoint" / "data" / "rumours" / "claims_demo.tsv"
    assert run("--store", store_path, "claims", "import", str(demo))[0] == 0
    code, out = run("--store", store_path, "analyze", "В Масанчи дунгане убили аксакала, забили до смерти")
    assert code == 0
    matches = orjson.loads(out.splitlines()[0])["claims"]
    assert matches and matches[0]["claim_id"] == "masanchi-elder-killed" and matches[0]["verdict"] == "false"
    code, out = run("--store", store_path, "analyze", "Завтра в Таразе не будет воды")
    assert orjson.loads(out.splitlines()[0])["claims"] == []
