"""A rumour cluster's story: where it started, how fast it grows, where it goes, what it says.

Why: an analyst needs one forwarded claim as one thing: its first messages (the patient-zero
candidates), a growth curve per hour (messages, channels, authors, places), its languages, a
representative text, the speech signals of its members, and whether it is going viral, with the
reason. Everything here is computed from the cluster's members, so the record can be rebuilt at
any time from the store.

Example:
    >>> from datetime import datetime, UTC
    >>> m = [Member("a", datetime(2025, 3, 15, 18, tzinfo=UTC), "c1", "au_1", "kk", "аксакалды өлтірді", {}, []),
    ...      Member("b", datetime(2025, 3, 15, 19, tzinfo=UTC), "c2", "au_2", "ru", "аксакала убили", {}, [])]
    >>> story = tell("r1", m)
    >>> story.first[0].message_id, story.size, story.channels
    ('a', 2, 2)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SEVERITY_ORDER = ("none", "low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Member:
    """One message of a cluster, as the store gives it."""

    message_id: str
    sent_at: datetime
    channel: str
    author: str | None
    language: str
    text: str
    speech: Mapping[str, Any]
    places: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class HourPoint:
    hour: str  # 'YYYY-MM-DDTHH' UTC
    messages: int
    channels: int
    authors: int
    new_channels: int
    places: tuple[str, ...]


@dataclass(frozen=True)
class Story:
    """A cluster's record; ``viral`` holds the reasons it is flagged, empty when it is not."""

    cluster_id: str
    size: int
    channels: int
    authors: int
    first: tuple[Member, ...]
    curve: tuple[HourPoint, ...]
    languages: Mapping[str, int]
    representative: str
    severity: str
    signals: Mapping[str, int]
    places: Mapping[str, int]
    viral: tuple[str, ...] = field(default=())

    def as_value(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "size": self.size,
            "channels": self.channels,
            "authors": self.authors,
            "first": [
                {"id": m.message_id, "sent_at": m.sent_at.isoformat(), "channel": m.channel, "language": m.language}
                for m in self.first
            ],
            "curve": [_point(p) for p in self.curve],
            "languages": dict(self.languages),
            "representative": self.representative,
            "severity": self.severity,
            "signals": dict(self.signals),
            "places": dict(self.places),
            "viral": list(self.viral),
        }


def _point(p: HourPoint) -> dict[str, Any]:
    return {
        "hour": p.hour,
        "messages": p.messages,
        "channels": p.channels,
        "authors": p.authors,
        "new_channels": p.new_channels,
        "places": list(p.places),
    }


def tell(cluster_id: str, members: Sequence[Member], first_n: int = 3) -> Story:
    """The story of a cluster from its members (any order)."""
    ordered = sorted(members, key=lambda m: (m.sent_at, m.message_id))
    curve = _curve(ordered)
    severities = [str(m.speech.get("severity", "none")) for m in ordered]
    signals: Counter[str] = Counter(
        s["name"] for m in ordered for s in m.speech.get("signals", ()) if s.get("name") not in ("target", "model")
    )
    places: Counter[str] = Counter(p["name"] for m in ordered for p in m.places[:1])
    texts = Counter(m.text for m in ordered if m.text)
    return Story(
        cluster_id=cluster_id,
        size=len(ordered),
        channels=len({m.channel for m in ordered}),
        authors=len({m.author for m in ordered if m.author}),
        first=tuple(ordered[:first_n]),
        curve=curve,
        languages=dict(Counter(m.language for m in ordered).most_common()),
        representative=texts.most_common(1)[0][0] if texts else "",
        severity=max(severities, key=SEVERITY_ORDER.index, default="none"),
        signals=dict(signals.most_common()),
        places=dict(places.most_common()),
        viral=virality(curve),
    )


def _curve(ordered: Sequence[Member]) -> tuple[HourPoint, ...]:
    by_hour: dict[str, list[Member]] = {}
    for m in ordered:
        by_hour.setdefault(m.sent_at.strftime("%Y-%m-%dT%H"), []).append(m)
    seen_channels: set[str] = set()
    points = []
    for hour in sorted(by_hour):
        group = by_hour[hour]
        channels = {m.channel for m in group}
        points.append(
            HourPoint(
                hour=hour,
                messages=len(group),
                channels=len(channels),
                authors=len({m.author for m in group if m.author}),
                new_channels=len(channels - seen_channels),
                places=tuple(sorted({p["name"] for m in group for p in m.places[:1]})),
            )
        )
        seen_channels |= channels
    return tuple(points)


def virality(
    curve: Sequence[HourPoint], *, window: int = 3, factor: float = 3.0, min_messages: int = 5
) -> tuple[str, ...]:
    """Why a cluster is going viral, judged on its last hour against the hours before it:
    growth ``factor`` times its own baseline, jumping to new channels or new places, or a doubling
    time that shortens. Empty when none applies (or the cluster is too small to say).

    >>> from flashpoint.rumours.story import HourPoint as P
    >>> virality([P("2025-03-15T18", 1, 1, 1, 1, ()), P("2025-03-15T19", 9, 4, 8, 3, ("Masanchi",))])
    ('growth x9.0 over the previous 1 h', 'jumped to 3 new channels', 'reached new places: Masanchi')
    """
    if not curve or sum(p.messages for p in curve) < min_messages:
        return ()
    last, before = curve[-1], list(curve[-1 - window : -1])
    reasons = []
    baseline = sum(p.messages for p in before) / len(before) if before else 0.0
    if before and baseline and last.messages >= factor * baseline:
        reasons.append(f"growth x{last.messages / baseline:.1f} over the previous {len(before)} h")
    if before and last.new_channels >= 2:
        reasons.append(f"jumped to {last.new_channels} new channels")
    earlier_places = {name for p in curve[:-1] for name in p.places}
    new_places = [name for name in last.places if name not in earlier_places]
    if before and new_places:
        reasons.append(f"reached new places: {', '.join(new_places)}")
    doubling = _doubling_hours(curve)
    if len(doubling) >= 2 and doubling[-1] < doubling[-2] and doubling[-1] <= 6:
        reasons.append(f"doubling time fell from {doubling[-2]:.0f} h to {doubling[-1]:.0f} h")
    return tuple(reasons)


def _doubling_hours(curve: Sequence[HourPoint]) -> list[float]:
    """Hours each doubling of the cumulative count took."""
    times: list[float] = []
    total, target, last_time = 0, 2, None
    start = datetime.strptime(curve[0].hour, "%Y-%m-%dT%H")
    for point in curve:
        total += point.messages
        at = (datetime.strptime(point.hour, "%Y-%m-%dT%H") - start) / timedelta(hours=1)
        while total >= target:
            if last_time is not None:
                times.append(max(at - last_time, 1.0))
            last_time = at
            target *= 2
    return times
