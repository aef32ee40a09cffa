"""Rumour clustering after ingest: every new message joins a cluster of earlier copies or starts one.

Why after the batch and not as a stage: clustering is stateful (it needs every earlier message), and
stages are pure. The clusterer is rebuilt from the store by replaying the stored assignments in
arrival order (deterministic, so nothing is lost on restart), then the messages not yet clustered
are added oldest first. A run killed in between leaves them unclustered, and the next run picks them
up: the catch-up is the crash recovery.

Example:
    >>> from flashpoint.config import Config
    >>> from flashpoint.store import SqliteStore
    >>> cluster_new_messages(SqliteStore(":memory:")).messages
    0
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flashpoint.rumours.claims import Claim, ClaimMatch, ClaimMatcher
from flashpoint.rumours.cluster import Clusterer
from flashpoint.rumours.story import Member, Story, tell
from flashpoint.store.base import Store
from flashpoint.text.normalise import normalise_for_matching

log = logging.getLogger("flashpoint.rumours")


@dataclass
class ClusteringStats:
    messages: int = 0
    new_clusters: int = 0
    merges: int = 0


def cluster_new_messages(store: Store, clusterer: Clusterer | None = None, batch: int = 5000) -> ClusteringStats:
    """Cluster the store's unclustered messages; ``clusterer`` (rebuilt from the store when None)
    is updated in place, so a long-lived runner rebuilds it once."""
    clusterer = clusterer if clusterer is not None else Clusterer.rebuild(store.rumour_replay())
    stats = ClusteringStats()
    while True:
        rows = store.unclustered(batch)
        if not rows:
            break
        members: list[tuple[int, str, float]] = []
        merges: dict[str, str] = {}
        for rowid, message_id, text, at in rows:
            assignment = clusterer.add(message_id, text, at)
            members.append((rowid, assignment.cluster_id, assignment.similarity))
            stats.new_clusters += assignment.new_cluster
            for old in assignment.merged:
                merges[old] = assignment.cluster_id
        store.record_rumour_members(members, merges)
        stats.messages += len(rows)
        stats.merges += len(merges)
    if stats.messages:
        log.info("clustered %d messages: %d new clusters, %d merges", stats.messages, stats.new_clusters, stats.merges)
    return stats


@dataclass(frozen=True)
class CheckedStory:
    """A story with the registered claim it matches, if any, and that claim's correction."""

    story: Story
    claim: ClaimMatch | None
    correction: str

    def as_value(self) -> dict[str, Any]:
        value = self.story.as_value()
        value["claim"] = self.claim.as_value() if self.claim else None
        value["correction"] = self.correction
        return value


def check_stories(store: Store, stories: list[Story]) -> list[CheckedStory]:
    """Match each cluster's representative and first texts to the registered claims (a few
    embeddings per cluster, not one per message); a match brings the claim's correction, in the
    cluster's language."""
    registered = [Claim.from_record(r) for r in store.claims()]
    if not registered or not stories:
        return [CheckedStory(s, None, "") for s in stories]
    by_id = {c.id: c for c in registered}
    matcher = ClaimMatcher(registered)
    out = []
    for story in stories:
        language = next(iter(story.languages), "other")
        # the first copies and the most common one: a forward's comment can hide the claim in one of them
        texts = list(
            dict.fromkeys(normalise_for_matching(t) for t in (story.representative, *(m.text for m in story.first)))
        )
        best = _cluster_match(matcher, texts, language)
        correction = ""
        if best is not None:
            corrections = by_id[best.claim_id].corrections
            correction = corrections.get(language) or corrections.get("ru") or next(iter(corrections.values()), "")
        out.append(CheckedStory(story, best, correction))
    return out


CLUSTER_MARGIN = 0.05  # two or more copies agreeing on a claim may each fall this far under the threshold


def _cluster_match(matcher: ClaimMatcher, texts: list[str], language: str) -> ClaimMatch | None:
    """The claim a cluster matches: one copy over the language's threshold, or two copies that
    agree on the same claim within ``CLUSTER_MARGIN`` of it (copies of one rumour are more
    evidence than one message)."""
    tops = [ranked[0] for ranked in (matcher.rank(t, language) for t in texts) if ranked]
    threshold = matcher.threshold(language)
    over = [m for m in tops if m.score >= threshold]
    if over:
        return max(over, key=lambda m: m.score)
    near = [m for m in tops if m.score >= threshold - CLUSTER_MARGIN]
    agreeing = {m.claim_id for m in near if sum(n.claim_id == m.claim_id for n in near) >= 2}
    return max((m for m in near if m.claim_id in agreeing), key=lambda m: m.score, default=None)


def story_of(store: Store, cluster_id: str) -> Story:
    """A cluster's story from the store's members."""
    members = [
        Member(
            m["id"],
            datetime.fromisoformat(m["sent_at"]),
            m["channel"],
            m["author"],
            m["language"],
            m["text"],
            m["speech"],
            m["places"],
        )
        for m in store.rumour_members(cluster_id)
    ]
    return tell(cluster_id, members)


def by_growth(stories: list[Story], hours: int = 6) -> list[Story]:
    """Clusters going viral now first, then by messages in the last ``hours`` before the newest
    message of all. A cluster whose last copy is older than that window is not "viral now", whatever
    its last hour looked like, so its reasons are dropped."""
    if not stories:
        return stories
    newest = max(s.curve[-1].hour for s in stories)
    cut = (datetime.strptime(newest, "%Y-%m-%dT%H") - timedelta(hours=hours - 1)).strftime("%Y-%m-%dT%H")

    def recent(story: Story) -> int:
        return sum(p.messages for p in story.curve if p.hour >= cut)

    current = [s if s.curve[-1].hour >= cut else replace(s, viral=()) for s in stories]
    return sorted(current, key=lambda s: (not s.viral, -recent(s), -s.size))
