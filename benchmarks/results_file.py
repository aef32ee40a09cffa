"""Where every benchmark writes its JSON: benchmarks/results/<name>-<UTC stamp>.json and <name>-latest.json.

Example:
    write_results("speech", {"results": []})
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, report: dict[str, Any]) -> Path:
    """Write the report twice (dated and latest); returns the latest file's path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    for path in (RESULTS / f"{name}-{stamp}.json", RESULTS / f"{name}-latest.json"):
        path.write_text(text, encoding="utf-8")
    return RESULTS / f"{name}-latest.json"
