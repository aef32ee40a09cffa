"""The places stage: every message gets the settlements it names, with a confidence and the span.

Example:
    >>> from datetime import UTC, datetime
    >>> from flashpoint.model import Enriched, Message
    >>> m = Message.create(source="jsonl", native_id="1", channel="c", sent_at=datetime(2020, 2, 7, tzinfo=UTC),
    ...     text="", raw_sha256="")
    >>> out = ResolvePlaces()(Enriched(m, {"text_norm": "бәріміз масаншыға барайық", "language": {"language": "kk"}}))
    >>> [p["name"] for p in out.values["places"]]
    ['Masanchi']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from flashpoint.model import Enriched
from flashpoint.places.extract import PlaceResolver
from flashpoint.places.gazetteer import load_gazetteer


class ResolvePlaces:
    """Adds ``places``: the settlements a message names, scene first (see :class:`PlaceRef`)."""

    name: ClassVar[str] = "places"
    version: ClassVar[int] = 1
    needs: ClassVar[frozenset[str]] = frozenset({"text_norm"})
    adds: ClassVar[frozenset[str]] = frozenset({"places"})

    def __init__(
        self, resolver: PlaceResolver | None = None, home_areas: Mapping[str, str] | None = None, home_area: str = ""
    ) -> None:
        self.resolver = resolver or PlaceResolver(load_gazetteer(), home_areas, home_area)

    def __call__(self, record: Enriched) -> Enriched:
        refs = self.resolver.resolve(record.values["text_norm"], record.message.channel)
        return record.with_values(places=[r.as_value() for r in refs])
