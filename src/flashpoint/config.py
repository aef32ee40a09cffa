"""Configuration: one TOML file, validated, with defaults that serve the embedded laptop case.

Lookup order for each setting: command-line flag, environment variable, config file, default.
Secrets (the pseudonym key) come from the environment or the config file; if neither is given, a
random key is created once in a file beside the store, readable by its owner only.

Example:
    >>> cfg = Config.from_mapping({"ingest": {"batch_size": 500}, "sources": {"csv": {"delimiter": ";"}}})
    >>> cfg.ingest.batch_size, cfg.options_for("csv", {"encoding": "cp1251"})
    (500, {'delimiter': ';', 'encoding': 'cp1251'})
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flashpoint.errors import ConfigError

ENV_CONFIG = "FLASHPOINT_CONFIG"
ENV_STORE = "FLASHPOINT_STORE"
ENV_KEY = "FLASHPOINT_PSEUDONYM_KEY"
ENV_ARCHIVE_KEY = "FLASHPOINT_ARCHIVE_KEY"


@dataclass(frozen=True)
class StoreConfig:
    path: str = "flashpoint.db"


@dataclass(frozen=True)
class PrivacyConfig:
    pseudonym_key: str | None = None
    keep_raw_authors: bool = False
    archive_key: str | None = None
    encrypt_archive: bool = True


@dataclass(frozen=True)
class IngestConfig:
    batch_size: int = 5000
    max_record_bytes: int = 16 * 1024 * 1024
    earliest: str = "2000-01-01T00:00:00+00:00"
    latest_skew_days: int = 2  # how far in the future a timestamp may lie (clock skew)

    @property
    def earliest_dt(self) -> datetime:
        return datetime.fromisoformat(self.earliest)


@dataclass(frozen=True)
class SpeechConfig:
    # Directories of extra lexicon files (targets.tsv, cues/<language>.tsv), added to the packaged ones.
    lexicons: tuple[str, ...] = ()
    # A model saved by `flashpoint train speech`; "" means <store directory>/models/speech when it exists.
    model: str = ""
    use_model: bool = True

    def model_path(self, store_path: str) -> Path:
        """Where training writes the model and the pipeline looks for it: ``model``, else
        ``models/speech`` beside the store."""
        if self.model:
            return Path(self.model)
        folder = Path(".") if store_path == ":memory:" else Path(store_path).resolve().parent
        return folder / "models" / "speech"

    def model_dir(self, store_path: str) -> Path | None:
        """The trained model the pipeline runs, or None to run the rules alone."""
        path = self.model_path(store_path)
        if not self.use_model or not (self.model or (path / "model.json").is_file()):
            return None
        return path


@dataclass(frozen=True)
class PlacesConfig:
    # A channel's home area (a place id, district or region as the gazetteer writes it): a same-named
    # place there wins, e.g. {"Масанчи жамағат" = "Korday"}.
    home_areas: dict[str, str] = field(default_factory=dict)
    # The home area of every channel without its own: a team watching one district sets it once.
    home_area: str = ""


@dataclass(frozen=True)
class Config:
    store: StoreConfig = field(default_factory=StoreConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    speech: SpeechConfig = field(default_factory=SpeechConfig)
    places: PlacesConfig = field(default_factory=PlacesConfig)
    # Default reader options per format, e.g. [sources.whatsapp] timezone = "Asia/Almaty" or
    # [sources.csv.map] text = "Текст". Options given on the command line win.
    sources: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @staticmethod
    def from_mapping(data: Mapping[str, Any], origin: str = "config") -> Config:
        sections = {
            "store": StoreConfig,
            "privacy": PrivacyConfig,
            "ingest": IngestConfig,
            "speech": SpeechConfig,
            "places": PlacesConfig,
        }
        unknown = set(data) - set(sections) - {"sources"}
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
            for key, value in section.items():
                _check_type(origin, f"{name}.{key}", value, known[key].type)
            built[name] = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in section.items()})
        source_options = data.get("sources", {})
        if not isinstance(source_options, Mapping) or not all(isinstance(v, Mapping) for v in source_options.values()):
            raise ConfigError("config_type", f"{origin}: [sources.FORMAT] sections must be tables of options")
        cfg = Config(**built, sources={k: dict(v) for k, v in source_options.items()})
        cfg.validate(origin)
        return cfg

    def validate(self, origin: str = "config") -> None:
        for name, key in (("pseudonym_key", self.privacy.pseudonym_key), ("archive_key", self.privacy.archive_key)):
            if key is not None and len(key.encode()) < 16:
                raise ConfigError("config_value", f"{origin}: privacy.{name} must be at least 16 bytes long")
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
        if env.get(ENV_ARCHIVE_KEY):
            cfg = replace(cfg, privacy=replace(cfg.privacy, archive_key=env[ENV_ARCHIVE_KEY]))
        cfg.validate("the environment")
        return cfg

    def with_store(self, path: str | None) -> Config:
        return self if not path else replace(self, store=StoreConfig(path=path))

    def pseudonym_key(self) -> bytes:
        """The configured key, or a key file created once beside the store (mode 0600)."""
        return self._secret(self.privacy.pseudonym_key, ".key")

    def archive_key(self) -> bytes | None:
        """The key that seals raw records at rest, or None when encryption is turned off."""
        if not self.privacy.encrypt_archive:
            return None
        return self._secret(self.privacy.archive_key, ".archive-key")

    def _secret(self, configured: str | None, suffix: str) -> bytes:
        if configured:
            return configured.encode()
        if self.store.path == ":memory:":
            raise ConfigError("key_missing", "an in-memory store needs its keys in the config or the environment")
        key_file = Path(self.store.path + suffix)
        if not key_file.exists() and Path(self.store.path).exists():
            raise ConfigError(
                "key_missing",
                f"the store {self.store.path} exists but its key file {key_file} does not: copy the key file "
                "that came with the store, or set the key in the environment (see docs/configuration.md). "
                "A new key would make pseudonyms and sealed records that do not match the store's.",
            )
        if key_file.exists():
            return key_file.read_bytes().strip()
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_hex(32).encode())
        return key_file.read_bytes().strip()

    def latest_allowed(self, now: datetime | None = None) -> datetime:
        return (now or datetime.now(UTC)) + timedelta(days=self.ingest.latest_skew_days)

    def options_for(self, fmt: str, given: Mapping[str, Any]) -> dict[str, Any]:
        """Reader options for a format: the config's defaults under the options given; the column
        mapping ("map") merges key by key."""
        merged = {**self.sources.get(fmt, {}), **given}
        if "map" in given and "map" in self.sources.get(fmt, {}):
            merged["map"] = {**self.sources[fmt]["map"], **given["map"]}
        return merged


_TYPES = {
    "str": (str, "a string"),
    "str | None": (str, "a string"),
    "bool": (bool, "true or false"),
    "int": (int, "a whole number"),
    "tuple[str, ...]": (list, "a list of strings"),
    "dict[str, str]": (dict, "a table of strings"),
}


def _check_type(origin: str, name: str, value: Any, declared: Any) -> None:
    """Refuse a value of the wrong type ("no" for a boolean would otherwise read as true)."""
    expected, described = _TYPES.get(str(declared), (object, ""))
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    wrong_items = expected in (list, dict) and not all(isinstance(item, str) for item in items)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)) or wrong_items:
        raise ConfigError("config_type", f"{origin}: {name} must be {described}, not {value!r}")


def key_check_value(key: bytes) -> str:
    """A value that identifies a key without revealing it, kept in the store to refuse a wrong key.

    >>> key_check_value(b"k" * 32) == key_check_value(b"k" * 32) != key_check_value(b"j" * 32)
    True
    """
    return hashlib.blake2b(b"flashpoint key check", key=hashlib.sha256(key).digest(), digest_size=16).hexdigest()
