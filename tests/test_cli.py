"""The `flashpoint` command, driven as a user would, with its exit codes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click
import orjson
import pytest
from click.testing import CliRunner, Result

from flashpoint.cli import main
from tests.conftest import chat_rows, write_jsonl

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FLASHPOINT_STORE", str(tmp_path / "cli.db"))
    monkeypatch.setenv("FLASHPOINT_PSEUDONYM_KEY", "p" * 32)
    monkeypatch.setenv("FLASHPOINT_ARCHIVE_KEY", "a" * 32)
    monkeypatch.delenv("FLASHPOINT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_ingest_status_and_export(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = write_jsonl(tmp_path / "chat.jsonl", chat_rows(20))
    result = cli("ingest", "--json", str(data))
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["messages_added"] == 20
    status = orjson.loads(cli("status", "--json").stdout)
    assert status["messages"] == 20 and status["by_source"] == {"jsonl": 20}
    exported = [orjson.loads(line) for line in cli("messages", "--export", "jsonl").stdout.splitlines()]
    assert len(exported) == 20 and all(m["author"].startswith("au_") for m in exported)
    assert all("user" not in (m.get("author_raw") or "") for m in exported)
    found = cli("messages", "--export", "jsonl", "--text", "НОМЕР 7 ИЗ МАСАНЧИ").stdout.splitlines()
    assert len(found) == 1
    window = cli("messages", "--export", "csv", "--since", "2025-03-14T05:00:00Z", "--until", "2025-03-14T06:00:00Z")
    lines = window.stdout.splitlines()
    assert lines[0].startswith("id,source") and len(lines) - 1 == sum(
        1 for r in chat_rows(20) if r["date"].startswith("2025-03-14T11:")
    )


def test_quarantine_list_show_and_retry(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        orjson.dumps(chat_rows(1)[0])
        + b"\n"
        + '{"id": 9, "date": "2025-03-14T10:00:00Z", "text": "Кордай"}'.encode("cp1251")
        + b"\n"
        + "Қордай".encode() * 20
    )
    assert cli("ingest", "--format", "jsonl", str(path)).exit_code == 0
    listed = orjson.loads(cli("quarantine", "list", "--json").stdout)
    assert [item["code"] for item in listed] == ["bad_encoding", "bad_json"]
    shown = cli("quarantine", "show", str(listed[0]["id"]))
    assert "line 2" in shown.stdout and "bad_encoding" in shown.stdout
    raw = cli("quarantine", "show", "--raw", str(listed[0]["id"])).stdout_bytes
    assert raw == '{"id": 9, "date": "2025-03-14T10:00:00Z", "text": "Кордай"}'.encode("cp1251")
    still = cli("quarantine", "retry", "--all")
    assert still.exit_code == 6
    assert cli("quarantine", "show", "999").exit_code == 2


def test_archive_verify_exit_codes(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("ingest", str(write_jsonl(tmp_path / "chat.jsonl", chat_rows(10))))
    ok = cli("archive", "verify", "--json")
    assert ok.exit_code == 0 and orjson.loads(ok.stdout)["entries"] == 10
    conn = sqlite3.connect(tmp_path / "cli.db")
    conn.execute("DROP TRIGGER raw_archive_no_update")
    conn.execute("UPDATE raw_archive SET locator = 'line 99' WHERE seq = 2")
    conn.commit()
    conn.close()
    bad = cli("archive", "verify")
    assert bad.exit_code == 5 and "entry 2" in bad.stdout


def test_usage_errors_exit_2_and_unreadable_files_exit_3(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = write_jsonl(tmp_path / "chat.jsonl", chat_rows(2))
    assert cli("ingest", "--option", "colour=red", str(data)).exit_code == 2
    assert cli("ingest", "--option", "no-equals-sign", str(data)).exit_code == 2
    weird = tmp_path / "weird.bin"
    weird.write_bytes(bytes(range(256)) * 10)
    result = cli("ingest", str(weird), str(data))
    assert result.exit_code == 3
    assert "cannot tell the format" in result.output
    assert orjson.loads(cli("status", "--json").stdout)["messages"] == 2


def _commands(group: click.Group, prefix: str = "flashpoint") -> list[str]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in _commands(main) if f"`{c}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_config_setting_is_documented() -> None:
    from dataclasses import fields

    from flashpoint.config import Config

    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section in fields(Config):
        if section.name == "sources":
            assert "[sources." in doc
            continue
        for setting in fields(
            section.type
            if not isinstance(section.type, str)
            else getattr(__import__("flashpoint.config", fromlist=["x"]), section.type)
        ):
            assert f"`{section.name}.{setting.name}`" in doc, f"{section.name}.{setting.name} is not documented"


def test_read_commands_refuse_a_store_that_does_not_exist(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    typo = tmp_path / "typo" / "flashpoint.db"
    for command in (["status"], ["archive", "verify"], ["quarantine", "list"], ["messages"]):
        result = cli("--store", str(typo), *command)
        assert result.exit_code == 4 and "no store" in result.output, command
    assert not typo.parent.exists()


def test_retrying_an_unknown_quarantine_id_is_a_usage_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("ingest", str(write_jsonl(tmp_path / "chat.jsonl", chat_rows(1))))
    result = cli("quarantine", "retry", "999")
    assert result.exit_code == 2 and "999" in result.output
