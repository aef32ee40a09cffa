"""No raw person id, phone number or name reaches the store's tables, the logs or an export.

Each format gets an input seeded with identifying values; after ingest every table (as stored on
disk), the log and a JSONL export are searched for them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from flashpoint.cli import main

SEEDS = ("987654321", "Zarina Seedova", "7015551234", "701 555 1234", "seedauthor42", "Ivan Seedov")

TELEGRAM = {
    "name": "Zarina Seedova",
    "type": "personal_chat",
    "id": 987654321,
    "messages": [
        {
            "id": 1,
            "type": "message",
            "date": "2025-03-15T19:00:00",
            "date_unixtime": "1742047200",
            "from": "Zarina Seedova",
            "from_id": "user987654321",
            "text": "алло",
        },
        {
            "id": 2,
            "type": "message",
            "date": "2025-03-15T19:01:00",
            "date_unixtime": "1742047260",
            "from": "Me",
            "from_id": "user111",
            "text": "иду",
            "reply_to_message_id": 1,
            "forwarded_from": "Ivan Seedov",
        },
    ],
}
VK = {
    "response": {
        "count": 1,
        "items": [
            {
                "id": 5,
                "owner_id": 987654321,
                "from_id": 987654321,
                "date": 1742047200,
                "text": "пост",
                "copy_history": [
                    {"id": 9, "owner_id": 7015551234, "from_id": 7015551234, "date": 1742040000, "text": "оригинал"}
                ],
            }
        ],
        "profiles": [{"id": 987654321, "first_name": "Zarina", "last_name": "Seedova"}],
    }
}
WHATSAPP = "15.03.25, 19:00 - +7 701 555 1234: все в Масанчи\n15.03.25, 19:01 - Zarina Seedova: не надо\n"
JSONL = (
    orjson.dumps(
        {
            "id": 1,
            "author": "seedauthor42",
            "author_name": "Ivan Seedov",
            "date": "2025-03-15T19:00:00+05:00",
            "text": "hello",
        }
    )
    + b"\n"
)

FILES = {
    "telegram": ("result.json", orjson.dumps(TELEGRAM)),
    "vk": ("wall.json", orjson.dumps(VK)),
    "whatsapp": ("WhatsApp Chat with +7 701 555 1234.txt", WHATSAPP.encode()),
    "jsonl": ("listening.jsonl", JSONL),
}


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_no_identifier_is_stored_logged_or_exported(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("FLASHPOINT_STORE", str(tmp_path / "p.db"))
    monkeypatch.setenv("FLASHPOINT_PSEUDONYM_KEY", "p" * 32)
    monkeypatch.setenv("FLASHPOINT_ARCHIVE_KEY", "a" * 32)
    name, data = FILES[fmt]
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / name
    path.write_bytes(data)
    with caplog.at_level(logging.DEBUG, logger="flashpoint"):
        result = CliRunner().invoke(main, ["-vv", "ingest", "--format", fmt, str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    exported = CliRunner().invoke(main, ["messages", "--export", "jsonl"], catch_exceptions=False).stdout
    assert exported.strip(), "something was ingested"

    import sqlite3

    conn = sqlite3.connect(tmp_path / "p.db")
    tables = ["messages", "enrichments", "raw_archive", "quarantine"]
    stored = "".join(repr(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)
    stored = stored.replace(str(path), "<input path>")  # the file's own path is the user's, kept for provenance
    for seed in SEEDS:
        assert seed not in stored, f"{seed!r} stored in the clear ({fmt})"
        assert seed not in caplog.text, f"{seed!r} logged ({fmt})"
        assert seed not in exported, f"{seed!r} exported ({fmt})"
