"""Stages: pure functions from one enriched record to a richer one, chained by a pipeline.

A stage declares the value names it ``needs`` and those it ``adds``. The pipeline checks at
construction that every need is met by an earlier stage, so a mis-ordered pipeline fails before any
data flows. Stages do no I/O: the embedded runner and a distributed runner call the same objects.

Example:
    >>> from flashpoint.stages.text import NormaliseUnicode, ContentHash
    >>> pipeline = Pipeline([NormaliseUnicode(), ContentHash()])
    >>> sorted(pipeline.adds)
    ['content_hash', 'text_clean']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar, Protocol, runtime_checkable

from flashpoint.errors import ConfigError
from flashpoint.model import Enriched


@runtime_checkable
class Stage(Protocol):
    """One enrichment step. ``version`` changes when its output for the same input changes."""

    name: ClassVar[str]
    version: ClassVar[int]
    needs: ClassVar[frozenset[str]]
    adds: ClassVar[frozenset[str]]

    def __call__(self, record: Enriched) -> Enriched: ...


class Pipeline:
    """An ordered chain of stages, validated once and run over batches."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        available: set[str] = set()
        names: set[str] = set()
        for stage in stages:
            if stage.name in names:
                raise ConfigError("duplicate_stage", f"stage {stage.name!r} appears twice in the pipeline")
            missing = stage.needs - available
            if missing:
                raise ConfigError(
                    "stage_order",
                    f"stage {stage.name!r} needs {sorted(missing)}, which no earlier stage adds",
                )
            available |= stage.adds
            names.add(stage.name)
        self.stages: tuple[Stage, ...] = tuple(stages)
        self.adds = frozenset(available)

    def run(self, record: Enriched) -> Enriched:
        for stage in self.stages:
            record = stage(record)
        return record

    def run_batch(self, records: Iterable[Enriched]) -> list[Enriched]:
        return [self.run(record) for record in records]

    def describe(self) -> list[dict[str, object]]:
        return [
            {"name": s.name, "version": s.version, "needs": sorted(s.needs), "adds": sorted(s.adds)}
            for s in self.stages
        ]
