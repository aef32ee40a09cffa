"""Readers for the formats monitoring teams already hold, and format auto-detection.

The registry is an explicit table (no import-time self-registration): format name -> class path.
Modules load only when used, so one broken optional dependency never breaks another format.

Example:
    >>> sorted(FORMATS)[:3]
    ['article', 'csv', 'jsonl']
"""

from __future__ import annotations

import importlib
from pathlib import Path

from flashpoint.errors import FormatError
from flashpoint.sources.base import HEAD_BYTES, Source

FORMATS: dict[str, str] = {
    "jsonl": "flashpoint.sources.jsonl:JsonlSource",
    "csv": "flashpoint.sources.csv:CsvSource",
    "telegram": "flashpoint.sources.telegram:TelegramSource",
    "whatsapp": "flashpoint.sources.whatsapp:WhatsAppSource",
    "vk": "flashpoint.sources.vk:VkSource",
    "rss": "flashpoint.sources.rss:RssSource",
    "article": "flashpoint.sources.article:ArticleSource",
}

# Below this confidence auto-detection refuses to guess.
MIN_CONFIDENCE = 0.5


def source_for(fmt: str) -> Source:
    """An instance of the source for a format name."""
    try:
        module_name, class_name = FORMATS[fmt].split(":")
    except KeyError:
        raise FormatError(
            "unknown_format", f"unknown format {fmt!r}; known formats: {', '.join(sorted(FORMATS))}"
        ) from None
    source: Source = getattr(importlib.import_module(module_name), class_name)()
    return source


def detect_format(path: Path) -> Source:
    """Pick the source whose sniff is most confident; refuse with the reason when it is unclear."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.strip():
        raise FormatError("empty_file", f"{path}: the file is empty")
    scores = sorted(((source_for(fmt).sniff(path, head), fmt) for fmt in FORMATS), reverse=True)
    best_score, best = scores[0]
    runner_up_score, runner_up = scores[1]
    if best_score < MIN_CONFIDENCE:
        raise FormatError(
            "undetected_format",
            f"{path}: cannot tell the format (best guess {best} at {best_score:.2f}); pass --format "
            f"with one of {', '.join(sorted(FORMATS))}",
        )
    if best_score - runner_up_score < 0.1:
        raise FormatError(
            "ambiguous_format",
            f"{path}: could be {best} ({best_score:.2f}) or {runner_up} ({runner_up_score:.2f}); pass --format",
        )
    return source_for(best)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files to ingest: files as given; folders walked in name order, hidden files skipped. A
    folder holding a Telegram Desktop export (``result.json``) contributes that file alone: the
    photos and files beside it are the export's media, not inputs.

    >>> expand_paths([])
    []
    """
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        exports = sorted(p.parent for p in path.rglob("result.json") if _visible(p, path))
        for candidate in sorted(path.rglob("*")):
            if not candidate.is_file() or not _visible(candidate, path):
                continue
            inside = [e for e in exports if candidate.is_relative_to(e)]
            if not inside or candidate == inside[0] / "result.json":
                found.append(candidate)
    return found


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)


def known_options() -> set[str]:
    """Every option name some reader understands (to reject typos before a run starts)."""
    return set().union(*(source_for(fmt).option_names for fmt in FORMATS))
