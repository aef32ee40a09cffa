"""Golden files for sources: every sample under tests/data/<format>/ has <sample>.expected.jsonl
beside it, holding what the source makes of it. Regenerate after a deliberate change with
``FLASHPOINT_UPDATE_GOLDEN=1 make test`` and review the diff.

A sample may have <sample>.options.json beside it: the options the source gets for it.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson

from flashpoint.model import Message, RawRecord, Skipped
from flashpoint.sources import source_for
from flashpoint.sources.base import SplitError

DATA = Path(__file__).parent / "data"
SIDE_SUFFIXES = (".expected.jsonl", ".options.json", ".md", ".LICENSE")
UPDATE = os.environ.get("FLASHPOINT_UPDATE_GOLDEN") == "1"


def samples(fmt: str) -> list[Path]:
    folder = DATA / fmt
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(SIDE_SUFFIXES))


def options_for(sample: Path) -> dict[str, Any]:
    side = sample.with_name(sample.name + ".options.json")
    return orjson.loads(side.read_bytes()) if side.exists() else {}


def source_options(sample: Path) -> dict[str, Any]:
    """The options a source gets: those of the side file, less the test-only keys (leading _)."""
    return {k: v for k, v in options_for(sample).items() if not k.startswith("_")}


def read_all(fmt: str, sample: Path) -> tuple[list[RawRecord | SplitError], list[dict[str, Any]]]:
    """Split and parse a sample; returns the raw items and one JSON-able line per outcome."""
    source = source_for(fmt)
    options = source_options(sample)
    with sample.open("rb") as stream:
        items = list(source.records(sample, stream, options))
    lines: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, SplitError):
            lines.append({"ordinal": item.ordinal, "split_error": item.code, "locator": item.locator})
            continue
        try:
            parsed = source.parse(item, options)
        except Exception as exc:
            lines.append(
                {"ordinal": item.ordinal, "error": getattr(exc, "code", type(exc).__name__), "locator": item.locator}
            )
            continue
        for out in parsed:
            lines.append({"ordinal": item.ordinal, **describe(out, sample)})
    return items, lines


def describe(out: Message | Skipped, sample: Path) -> dict[str, Any]:
    if isinstance(out, Skipped):
        return {"skipped": out.reason}
    record = asdict(out)
    record["sent_at"] = out.sent_at.isoformat()
    record["edited_at"] = out.edited_at.isoformat() if out.edited_at else None
    record["source"] = out.source.value
    record["kind"] = out.kind.value
    record["extra"] = dict(out.extra)
    return {"message": record}


def golden_path(sample: Path) -> Path:
    return sample.with_name(sample.name + ".expected.jsonl")


def dump(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(line, option=orjson.OPT_SORT_KEYS) + b"\n" for line in lines)


def relative(sample: Path) -> str:
    return str(sample.relative_to(DATA))
