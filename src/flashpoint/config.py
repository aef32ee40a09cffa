"""Configuration: one TOML file, validated, with defaults that serve the embedded laptop case.

Lookup order for each setting: command-line flag, environment variable, config file, default.
Secrets (the pseudonym key) come from the environment or the config file; if neither is given, a
random key is created once in a file beside the store, readable by its owner only.

Example:
    >>> cfg = Config.from_mapping({"store": {"path": "x.db"}, "ingest": {"batch_size": 500}})
    >>> cfg.ingest.batch_size
    500
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flashpoint.errors import ConfigError

ENV_CONFIG = "FLASHPOINT_CONFIG"
ENV_STORE = "FLASHPOINT_STORE"
ENV_KEY = "FLASHPOINT_PSEUDONYM_KEY"


@dataclass(frozen=True)
class StoreConfig:
    path: str = "flashpoint.db"


@dataclass(frozen=True)
class PrivacyConfig:
    pseudonym_key: str | None = None
    keep_raw_authors: bool = False


@dataclass(frozen=True)
class IngestConfig:
    batch_size: int = 2000
    max_record_bytes: int = 16 * 1024 * 1024
    earliest: str = "2000-01-01T00:00:00+00:00"
    latest_skew_days: int = 2  # how far in the future a timestamp may lie (clock skew)

    @property
    def earliest_dt(self) -> datetime:
        return datetime.fromisoformat(self.earliest)


@dataclass(frozen=True)
class CsvConfig:
    """Column mapping for CSV and JSONL from listening tools: field name -> column or key."""

    mapping: Mapping[str, str] = field(default_factory=dict)
    delimiter: str | None = None
    encoding: str | None = None
    timezone: str | None = None  # for naive timestamps; UTC when unset


@dataclass(frozen=True)
class Config:
    store: StoreConfig = field(default_factory=StoreConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    csv: CsvConfig = field(default_factory=CsvConfig)

    @staticmethod
    def from_mapping(data: Mapping[str, Any], origin: str = "config") -> Config:
        sections = {"store": StoreConfig, "privacy": PrivacyConfig, "ingest": IngestConfig, "csv": CsvConfig}
        unknown = set(data) - set(sections)
        if unknown:
            raise ConfigError("config_unknown", f"{origin}: unknown section(s) {sorted(unknown)}")
        built: dict[str, Any] = {}
        for name, cls in sections.items():
            section = data.get(name, {})
            if not isinstance(section, Mapping):
                raise ConfigError("config_type", f"{origin}: [{name}] must be a table")
            known = {f.name: f for f in fields(cls)}
            bad = set(section) - set(known)
            if bad:
                raise ConfigError("config_unknown", f"{origin}: unknown key(s) in [{name}]: {sorted(bad)}")
            built[name] = cls(**section)
        cfg = Config(**built)
        cfg.validate(origin)
        return cfg

    def validate(self, origin: str = "config") -> None:
        if self.ingest.batch_size < 1:
            raise ConfigError("config_value", f"{origin}: ingest.batch_size must be at least 1")
        try:
            earliest = self.ingest.earliest_dt
        except ValueError as exc:
            raise ConfigError("config_value", f"{origin}: ingest.earliest is not an ISO date: {exc}") from exc
        if earliest.tzinfo is None:
            raise ConfigError("config_value", f"{origin}: ingest.earliest needs a UTC offset")

    @staticmethod
    def load(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
        """Read the config file (explicit path, $FLASHPOINT_CONFIG, ./flashpoint.toml) and env."""
        env = os.environ if env is None else env
        candidate = path or env.get(ENV_CONFIG) or ("flashpoint.toml" if Path("flashpoint.toml").exists() else None)
        data: dict[str, Any] = {}
        if candidate:
            p = Path(candidate)
            try:
                data = tomllib.loads(p.read_text(encoding="utf-8"))
            except FileNotFoundError as exc:
                raise ConfigError("config_missing", f"config file {p} does not exist") from exc
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError("config_syntax", f"{p}: {exc}") from exc
        cfg = Config.from_mapping(data, origin=str(candidate or "defaults"))
        if env.get(ENV_STORE):
            cfg = replace(cfg, store=StoreConfig(path=env[ENV_STORE]))
        if env.get(ENV_KEY):
            cfg = replace(cfg, privacy=replace(cfg.privacy, pseudonym_key=env[ENV_KEY]))
        return cfg

    def with_store(self, path: str | None) -> Config:
        return self if not path else replace(self, store=StoreConfig(path=path))

    def pseudonym_key(self) -> bytes:
        """The configured key, or a key file created once beside the store (mode 0600)."""
        if self.privacy.pseudonym_key:
            return self.privacy.pseudonym_key.encode()
        key_file = Path(self.store.path + ".key")
        if key_file.exists():
            return key_file.read_bytes().strip()
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_hex(32).encode())
        return key_file.read_bytes().strip()

    def latest_allowed(self, now: datetime | None = None) -> datetime:
        from datetime import timedelta

        return (now or datetime.now(timezone.utc)) + timedelta(days=self.ingest.latest_skew_days)
