"""Streaming near-duplicate clustering of forwarded messages: one rumour, one cluster.

A forwarded rumour comes back with a comment before or after it, emoji, a "Forwarded from" line,
cut short, with typos, a word dropped or two swapped, in capitals. Each new message either joins the
cluster of an earlier copy or starts a cluster of its own, at a cost that does not grow with the
cluster: only each cluster's first message and a few representatives (copies that drifted from
those already indexed) enter the index, so a rumour forwarded 100,000 times costs what one
forwarded ten times does.

How a message is placed (``Clusterer.add``):

1. Its text (already normalised upstream: homoglyphs, transliteration, case) is reduced to words:
   a leading forward header line is dropped, punctuation and emoji become spaces, and at most
   ``max_chars`` characters are kept (rumours are short; a 100 KB paste is not a forward).
2. An exact copy of an earlier message (same words) joins that message's cluster at once.
3. Otherwise its MinHash (rensa ``RMinHash``, 96 permutations in 32 bands, over character 5-grams)
   is looked up in an LSH index of representatives, and each
   candidate is verified with rapidfuzz: plain ``ratio`` for light edits; ``token_set_ratio`` for
   added comments, word drops and swaps; ``partial_ratio`` for truncation; the last two only when
   the shorter text is long enough to mean something and not tiny beside the longer one.
4. No verified candidate: a new cluster, indexed. One: it joins. Candidates in several clusters:
   it joins the best match, and when it matches several clusters almost exactly (``merge_threshold``:
   a message that contains two rumours whole) it bridges them and they merge into the oldest, whose
   id survives. A looser merge rule chained distinct claims, decorated with the same comments, into
   giant clusters at a million messages.

Cluster ids are the id of the cluster's first message. State is rebuilt, not serialised: the store
keeps (message_id, cluster_id, text_norm, at) for every message, and ``Clusterer.rebuild`` replays
them in arrival order; since ``add`` is deterministic, the replayed index equals the lost one.

Example:
    >>> from datetime import datetime, UTC
    >>> c = Clusterer()
    >>> at = datetime(2020, 2, 7, tzinfo=UTC)
    >>> c.add("m1", "в масанчи убили аксакала, его забили до смерти возле мечети", at).new_cluster
    True
    >>> a = c.add("m2", "срочно!!! в масанчи убили аксакала его забили до смерти возле мечети 😱", at)
    >>> a.cluster_id, a.new_cluster
    ('m1', False)
    >>> c.add("m3", "завтра в таразе не будет воды до вечера, ремонт водопровода", at).cluster_id
    'm3'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz
from rensa import RMinHash, RMinHashLSH

_HEADER = re.compile(
    r"^\s*(?:forwarded from|forwarded message|переслано от|пересланное сообщение|қайта жіберілген)[^\n]*\n",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[\W_]+")
EDGE_WORDS = 8  # words at each end of a text where forwarding comments are looked for
EDGE_TABLE_LIMIT = 200_000  # edge word pairs counted at most (see Clusterer._prune_edges)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a message went: its cluster, the similarity (0-1) to what it matched, merges it caused."""

    cluster_id: str
    similarity: float
    new_cluster: bool
    merged: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """Tuning of the clusterer; the defaults were measured on the forwarding chains (see tests)."""

    shingle: int = 5  # n-gram length
    word_shingles: bool = False  # n-grams of words instead of characters
    num_perm: int = 96
    num_bands: int = 32  # 3 rows per band: the S-curve's midpoint is near Jaccard 0.3
    seed: int = 2020
    threshold: float = 0.80  # verified similarity needed to join
    merge_threshold: float = 0.85  # a message merges clusters only when it matches each this well
    representative_below: float = 0.90  # a joiner less similar than this becomes a representative
    max_representatives: int = 4
    max_candidates: int = 40  # oldest first: bounds the verification cost of a crowded bucket
    min_chars: int = 12  # shorter texts are never matched ("+", "ок", an emoji)
    min_fuzzy_chars: int = 30  # token-set and partial matching need the shorter text this long
    min_length_ratio: float = 0.3  # ... and at least this share of the longer one
    min_shared_share: float = 0.4  # token-set matching needs shared words this share of the longer text
    partial_floor: float = 0.7  # partial_ratio (slow on unlike texts) only above this score
    max_chars: int = 2000
    boilerplate_clusters: int = 10  # an edge word pair that opened or closed this many new clusters is boilerplate


def canonical_text(text_norm: str, max_chars: int = 2000) -> str:
    """The words of a message: header line dropped, punctuation and emoji to single spaces, casefolded.

    >>> canonical_text("Forwarded from kordai_news\\nСРОЧНО!!! Убили аксакала 😱😱")
    'срочно убили аксакала'
    """
    text = _HEADER.sub("", text_norm[: max_chars * 2], count=1)
    return _NON_WORD.sub(" ", text).casefold()[:max_chars].strip()


def _shared_share(a: str, b: str) -> float:
    """Characters in words the two texts share, as a share of the longer text: a forwarded claim
    keeps most of its words, two unrelated texts share a few frequent ones."""
    shared = set(a.split()) & set(b.split())
    return sum(len(word) + 1 for word in shared) / (max(len(a), len(b)) + 1)


def similarity(a: str, b: str, settings: ClusterSettings = ClusterSettings(), enough: float = 1.0) -> float:
    """How alike two canonical texts are, 0-1, forgiving added comments, truncation and word order.

    The cheapest measure that reaches ``enough`` is returned without trying the costlier ones,
    so the result is exact only below ``enough``; candidates that cannot reach the threshold by
    length alone are scored by ``ratio`` only.

    >>> similarity("в масанчи убили аксакала возле мечети", "срочно в масанчи убили аксакала возле мечети")
    1.0
    """
    target = enough * 100.0
    score = fuzz.ratio(a, b)
    if score >= target:
        return score / 100.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= settings.min_fuzzy_chars and len(short) >= settings.min_length_ratio * len(long_):
        if _shared_share(a, b) >= settings.min_shared_share:
            score = max(score, fuzz.token_set_ratio(a, b, score_cutoff=score))
        if settings.partial_floor * 100.0 <= score < target:
            floor = max(score, settings.threshold * 100.0)
            score = max(score, fuzz.partial_ratio(short, long_, score_cutoff=floor))
    return score / 100.0


class Clusterer:
    """Assigns each message to a cluster as it arrives; pure and in memory, the caller persists rows.

    Internal numbering: clusters are numbered in order of creation (the oldest has the lowest
    number); representatives are numbered in order of indexing and are the LSH keys.
    """

    def __init__(self, settings: ClusterSettings | None = None) -> None:
        self.settings = settings or ClusterSettings()
        s = self.settings
        self._lsh = RMinHashLSH(s.threshold, s.num_perm, s.num_bands)
        self._parent: list[int] = []  # union-find over cluster numbers
        self._cluster_ids: list[str] = []
        self._representative_count: list[int] = []
        self._representative_text: list[str] = []
        self._representative_cluster: list[int] = []
        self._exact: dict[int, int] = {}  # hash of canonical text -> cluster number
        # How many new clusters each first and last word pair opened or closed: forwarding comments
        # ("срочно всем", "тараттыңдар ағайын") recur at the edges of many different rumours.
        self._edges: dict[str, int] = {}
        self.messages = 0

    # --- union-find ----------------------------------------------------------------------------------

    def _root(self, cluster: int) -> int:
        parent = self._parent
        root = cluster
        while parent[root] != root:
            root = parent[root]
        while parent[cluster] != root:  # path compression
            parent[cluster], cluster = root, parent[cluster]
        return root

    def current_ids(self) -> dict[str, str]:
        """Every cluster id ever given out, mapped to the id its cluster is known by now (after merges)."""
        return {cid: self._cluster_ids[self._root(n)] for n, cid in enumerate(self._cluster_ids)}

    @property
    def clusters(self) -> int:
        """Number of clusters created (merged ones included)."""
        return len(self._parent)

    @property
    def representatives(self) -> int:
        """Number of texts in the LSH index."""
        return len(self._representative_text)

    # --- placing a message ---------------------------------------------------------------------------

    def _new_cluster(self, message_id: str) -> int:
        number = len(self._parent)
        self._parent.append(number)
        self._cluster_ids.append(message_id)
        self._representative_count.append(0)
        return number

    def _index(self, cluster: int, text: str, minhash: RMinHash) -> None:
        key = len(self._representative_text)
        self._representative_text.append(text)
        self._representative_cluster.append(cluster)
        self._representative_count[cluster] += 1
        self._lsh.insert(key, minhash)

    def minhash(self, text: str) -> RMinHash:
        """The MinHash of a canonical text over its character n-grams."""
        n = self.settings.shingle
        if self.settings.word_shingles:
            words = text.split()
            shingles = [" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))]
        else:
            shingles = [text[i : i + n] for i in range(max(1, len(text) - n + 1))]
        minhash = RMinHash(self.settings.num_perm, self.settings.seed)
        minhash.update(shingles)
        return minhash

    def _verified(self, text: str, minhash: RMinHash) -> dict[int, float]:
        """Best similarity per cluster root among the LSH candidates that pass the threshold."""
        s = self.settings
        best: dict[int, float] = {}
        candidates = sorted(self._lsh.query(minhash))[: s.max_candidates]
        for key in candidates:
            root = self._root(self._representative_cluster[key])
            if best.get(root, 0.0) >= s.representative_below:
                continue  # this cluster is already matched well enough
            score = similarity(
                self._content(text), self._content(self._representative_text[key]), s, enough=s.representative_below
            )
            if score >= s.threshold and score > best.get(root, 0.0):
                best[root] = score
        return best

    def add(self, message_id: str, text_norm: str, at: datetime) -> Assignment:
        """Place one message (normalised text) and say where it went. Never raises on odd text."""
        del at  # arrival order is what counts; the time is the caller's to keep
        s = self.settings
        self.messages += 1
        text = canonical_text(text_norm, s.max_chars)
        if len(text) < s.min_chars:
            return Assignment(self._cluster_ids[self._new_cluster(message_id)], 0.0, True)
        exact_key = hash(text)
        known = self._exact.get(exact_key)
        if known is not None:
            return Assignment(self._cluster_ids[self._root(known)], 1.0, False)
        minhash = self.minhash(text)
        matches = self._verified(text, minhash)
        if not matches:
            cluster = self._new_cluster(message_id)
            self._count_edges(text)
            self._index(cluster, text, minhash)
            self._exact[exact_key] = cluster
            return Assignment(message_id, 0.0, True)
        best_root = max(matches, key=lambda root: (matches[root], -root))
        bridged = [root for root, score in matches.items() if score >= s.merge_threshold or root == best_root]
        target = min(bridged)  # the oldest cluster survives a merge
        merged = tuple(self._cluster_ids[root] for root in sorted(bridged) if root != target)
        for root in bridged:
            if root != target:
                self._parent[root] = target
                self._representative_count[target] += self._representative_count[root]
        score = max(matches.values())
        if score < s.representative_below and self._representative_count[target] < s.max_representatives:
            self._index(target, text, minhash)
        self._exact[exact_key] = target
        return Assignment(self._cluster_ids[target], score, False, merged)

    def _count_edges(self, text: str) -> None:
        """Count the word pairs of a new cluster's first and last eight words (a comment is rarely
        longer), as ``_content`` strips them pair by pair."""
        words = text.split()
        edge = min(EDGE_WORDS, (len(words) - 2) // 2)
        pairs = {" ".join(words[i : i + 2]) for i in range(0, edge - 1, 2)}
        pairs |= {" ".join(words[len(words) - i - 2 : len(words) - i]) for i in range(0, edge - 1, 2)}
        edges = self._edges
        for pair in pairs:
            edges[pair] = edges.get(pair, 0) + 1
        if len(edges) > EDGE_TABLE_LIMIT:
            self._prune_edges()

    def _prune_edges(self) -> None:
        """Keep the edge table bounded: forget the pairs seen least (once, then twice...) until it is
        half full. Comments recur, so they survive; pruning happens at the same points on replay."""
        floor = 1
        while len(self._edges) > EDGE_TABLE_LIMIT // 2:
            self._edges = {pair: n for pair, n in self._edges.items() if n > floor}
            floor += 1

    def _content(self, text: str) -> str:
        """The text without the boilerplate word pairs at its edges (repeatedly), so two different
        rumours forwarded with the same comment are compared on what they claim."""
        words = text.split()
        limit = self.settings.boilerplate_clusters
        edges = self._edges
        while len(words) > 4 and edges.get(" ".join(words[:2]), 0) >= limit:
            words = words[2:]
        while len(words) > 4 and edges.get(" ".join(words[-2:]), 0) >= limit:
            words = words[:-2]
        return " ".join(words)

    # --- restart -------------------------------------------------------------------------------------

    @classmethod
    def rebuild(
        cls,
        rows: Iterable[tuple[str, str | None, str, datetime]],
        settings: ClusterSettings | None = None,
    ) -> Clusterer:
        """Replay stored rows (message_id, cluster_id, text_norm, at) in arrival order.

        ``add`` is deterministic, so the result equals the clusterer that assigned them. The stored
        cluster id is not needed to replay; :meth:`rebuild_checked` compares it.
        """
        clusterer = cls(settings)
        for message_id, _cluster_id, text_norm, at in rows:
            clusterer.add(message_id, text_norm, at)
        return clusterer

    @classmethod
    def rebuild_checked(
        cls,
        rows: Iterable[tuple[str, str | None, str, datetime]],
        settings: ClusterSettings | None = None,
    ) -> tuple[Clusterer, list[str]]:
        """Like :meth:`rebuild`, and also the ids of messages whose stored cluster disagrees.

        A stored id may be an older id of the cluster (before a merge): it agrees if it now maps to
        the same cluster. Disagreement means the rows were made with other settings or out of order.
        """
        clusterer = cls(settings)
        assigned: list[tuple[str, str | None, str]] = []
        for message_id, cluster_id, text_norm, at in rows:
            assigned.append((message_id, cluster_id, clusterer.add(message_id, text_norm, at).cluster_id))
        current = clusterer.current_ids()
        disagree = [
            message_id
            for message_id, stored, replayed in assigned
            if stored is not None and current.get(stored, stored) != current[replayed]
        ]
        return clusterer, disagree
