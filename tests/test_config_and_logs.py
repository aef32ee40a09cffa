"""Configuration is validated with actionable errors; logs never carry message text or authors."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from flashpoint.config import Config
from flashpoint.errors import ConfigError
from flashpoint.runners.embedded import EmbeddedRunner
from flashpoint.store import SqliteStore
from tests.conftest import write_jsonl


def test_unknown_keys_are_refused_with_their_name(tmp_path: Path) -> None:
    path = tmp_path / "fp.toml"
    path.write_text("[ingest]\nbatchsize = 10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="batchsize"):
        Config.load(path, env={})


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fp.toml"
    path.write_text('[store]\npath = "a.db"\n[privacy]\npseudonym_key = "from-file-0123456789"\n', encoding="utf-8")
    cfg = Config.load(path, env={"FLASHPOINT_STORE": "b.db", "FLASHPOINT_PSEUDONYM_KEY": "from-env-0123456789"})
    assert cfg.store.path == "b.db" and cfg.pseudonym_key() == b"from-env-0123456789"


def test_missing_keys_are_created_once_beside_the_store_and_private(tmp_path: Path) -> None:
    cfg = Config.from_mapping({"store": {"path": str(tmp_path / "s.db")}})
    first, again = cfg.pseudonym_key(), cfg.pseudonym_key()
    assert first == again and len(first) == 64
    mode = stat.S_IMODE(os.stat(tmp_path / "s.db.key").st_mode)
    assert mode == 0o600
    assert cfg.archive_key() != first


def test_source_defaults_merge_under_given_options() -> None:
    cfg = Config.from_mapping({"sources": {"csv": {"delimiter": ";", "map": {"text": "Текст", "author": "Автор"}}}})
    merged = cfg.options_for("csv", {"map": {"author": "user"}})
    assert merged == {"delimiter": ";", "map": {"text": "Текст", "author": "user"}}


def test_a_bad_option_in_config_is_reported_per_file(tmp_path: Path) -> None:
    cfg = Config.from_mapping({"privacy": {"pseudonym_key": "k" * 32}, "sources": {"jsonl": {"colour": "red"}}})
    stats = EmbeddedRunner(SqliteStore(tmp_path / "s.db"), cfg).ingest(
        [write_jsonl(tmp_path / "a.jsonl", [{"date": "2025-03-14T10:00:00Z", "text": "x"}])], fmt="jsonl"
    )
    assert stats.messages_added == 0 and "colour" in stats.errors[0]


def test_logs_hold_no_message_text_or_author(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = Config.from_mapping({"privacy": {"pseudonym_key": "k" * 32}})
    rows = [
        {"id": 1, "author": "informant_77", "date": "2025-03-14T10:00:00Z", "text": "секретный текст"},
        {"id": 2, "author": "informant_77", "date": "1900-01-01T00:00:00Z", "text": "второй секрет"},
    ]
    with caplog.at_level(logging.DEBUG, logger="flashpoint"):
        EmbeddedRunner(SqliteStore(tmp_path / "s.db"), cfg).ingest(
            [write_jsonl(tmp_path / "a.jsonl", rows)], fmt="jsonl"
        )
    assert caplog.records, "the runner logs what it does"
    logged = caplog.text
    assert "informant_77" not in logged and "секрет" not in logged


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"privacy": {"keep_raw_authors": "no"}}, "true or false"),
        ({"ingest": {"batch_size": "10"}}, "whole number"),
        ({"ingest": {"batch_size": True}}, "whole number"),
        ({"privacy": {"pseudonym_key": "short"}}, "at least 16 bytes"),
    ],
)
def test_values_of_the_wrong_type_are_refused(settings: dict[str, dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_mapping(settings)


def test_a_short_key_from_the_environment_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        Config.load(None, env={"FLASHPOINT_PSEUDONYM_KEY": "short"})
