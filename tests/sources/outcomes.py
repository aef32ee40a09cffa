"""What a reader makes of a whole file, for the focused reader tests."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flashpoint.errors import RecordError
from flashpoint.model import Message
from flashpoint.sources.base import Source, SplitError


def outcomes(source: Source, path: Path, data: bytes, options: Mapping[str, Any] | None = None) -> list[Message | str]:
    """Every outcome of a file, in order: messages, and error codes as strings."""
    found: list[Message | str] = []
    for item in source.records(path, io.BytesIO(data), options or {}):
        if isinstance(item, SplitError):
            found.append(item.code)
            continue
        try:
            found.extend(out for out in source.parse(item, options or {}) if isinstance(out, Message))
        except RecordError as exc:
            found.append(exc.code)
    return found
