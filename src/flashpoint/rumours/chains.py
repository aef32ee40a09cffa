"""Forwarding chains for evaluating rumour clustering, and the pairwise score that judges it.

No public corpus follows a Russian or Kazakh rumour from chat to chat with each copy labelled, so the
evaluation set is made: each claim (``claims.tsv``) is posted once and then forwarded along a tree of
chats, every forward copying an earlier copy and applying one to three of the edits that forwarding
does in practice: a comment before or after ("Срочно!", "Ағайын, тараттыңдар"), emoji, a "Forwarded
from X" header line, truncation, typos, a dropped word, two words swapped, case changes, repeated
punctuation. Edits accumulate down the tree, so late copies drift from the first one as real ones do.
Unrelated messages (words of the claims shuffled into new sentences, so they share the vocabulary but
no claim) are mixed in. Everything depends on the seed alone: the same seed gives the same messages.

``pairwise_scores`` counts pairs of messages: precision is the share of pairs put in one cluster
that share a gold label, recall the share of gold pairs put in one cluster.

Example:
    >>> claims = [Claim("c1", "ru", "violence", "В Масанчи убили аксакала возле мечети вчера вечером")]
    >>> kit = EditKit(prefixes={"ru": ("Срочно!",)}, suffixes={"ru": ("Распространите!",)},
    ...               emoji=("😱",), headers={"any": ("Forwarded from {channel}",)})
    >>> chain = generate_chains(claims, kit, seed=1, unrelated=2, mean_forwards=4)
    >>> sorted({m.gold for m in chain if m.gold == "c1"}), len(chain) > 3
    (['c1'], True)
    >>> pairwise_scores({"a": "x", "b": "x", "c": "y"}, {"a": 1, "b": 1, "c": 1}).precision
    0.3333333333333333
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

START = datetime(2020, 2, 7, 18, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Claim:
    """One distinct claim: the first post of a forwarding chain."""

    claim_id: str
    language: str
    topic: str
    text: str


@dataclass(frozen=True, slots=True)
class EditKit:
    """What forwarders add, by language ("any" for all): comments, emoji and header lines."""

    prefixes: Mapping[str, tuple[str, ...]]
    suffixes: Mapping[str, tuple[str, ...]]
    emoji: tuple[str, ...]
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def pick(self, table: Mapping[str, tuple[str, ...]], language: str, rng: random.Random) -> str:
        choices = (*table.get(language, ()), *table.get("any", ()))
        return rng.choice(choices) if choices else ""


@dataclass(frozen=True, slots=True)
class ChainMessage:
    """A generated message with its gold label (the claim id, or ``u<n>`` for an unrelated message)."""

    message_id: str
    at: datetime
    channel: str
    gold: str
    text: str


@dataclass(frozen=True, slots=True)
class PairScores:
    """Pairwise clustering scores; the pair counts are kept so that a reader can check the ratios."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    gold_pairs: int


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        lines = (line for line in stream if not line.startswith("#"))
        yield from csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)


def load_claims(path: Path) -> list[Claim]:
    """Read ``claims.tsv`` (claim_id, language, topic, text; ``#`` lines are provenance)."""
    return [Claim(r["claim_id"], r["language"], r["topic"], r["text"]) for r in _rows(path)]


def load_edit_kit(path: Path) -> EditKit:
    """Read ``comments.tsv`` (kind, language, text) into an :class:`EditKit`."""
    tables: dict[str, dict[str, list[str]]] = {"prefix": {}, "suffix": {}, "emoji": {}, "header": {}}
    for row in _rows(path):
        tables[row["kind"]].setdefault(row["language"], []).append(row["text"])

    def frozen(kind: str) -> dict[str, tuple[str, ...]]:
        return {lang: tuple(texts) for lang, texts in tables[kind].items()}

    emoji = tuple(text for texts in tables["emoji"].values() for text in texts)
    return EditKit(frozen("prefix"), frozen("suffix"), emoji, frozen("header"))


# --- edits ------------------------------------------------------------------------------------------

_KEYBOARD_NEIGHBOURS = "йцукенгшщзхъфывапролджэячсмитьбю"


def _typo(text: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if not letters:
        return text
    i = rng.choice(letters)
    kind = rng.randrange(4)
    if kind == 0:  # a letter dropped
        return text[:i] + text[i + 1 :]
    if kind == 1:  # a letter doubled
        return text[:i] + text[i] + text[i:]
    if kind == 2 and i + 1 < len(text):  # two letters swapped
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + rng.choice(_KEYBOARD_NEIGHBOURS) + text[i + 1 :]


def _drop_word(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if len(words) < 6:
        return text
    del words[rng.randrange(len(words))]
    return " ".join(words)


def _swap_words(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if len(words) < 4:
        return text
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _truncate(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if len(words) < 10:
        return text
    keep = max(7, round(len(words) * rng.uniform(0.6, 0.9)))
    return " ".join(words[:keep]) + rng.choice(("...", "…", ""))


def _case(text: str, rng: random.Random) -> str:
    return rng.choice((text.upper(), text.lower(), text.capitalize()))


def _punctuation(text: str, rng: random.Random) -> str:
    return text.rstrip(".!?… ") + rng.choice(("!!!", "!!!!!", "???", "?!?!", "!!1"))


# weights by repetition: comments, emoji and typos are the commonest edits
_EDIT_KINDS: tuple[str, ...] = (
    *("prefix", "prefix", "suffix", "suffix", "emoji", "emoji", "header", "truncate", "typo", "typo"),
    *("drop", "swap", "case", "punctuation"),
)


def _apply_edit(text: str, language: str, kit: EditKit, rng: random.Random) -> str:
    kind = rng.choice(_EDIT_KINDS)
    if kind == "prefix":
        return f"{kit.pick(kit.prefixes, language, rng)}{rng.choice((' ', chr(10)))}{text}"
    if kind == "suffix":
        return f"{text}{rng.choice((' ', chr(10)))}{kit.pick(kit.suffixes, language, rng)}"
    if kind == "emoji" and kit.emoji:
        mark = rng.choice(kit.emoji)
        return f"{mark}{text}" if rng.random() < 0.5 else f"{text} {mark}"
    if kind == "header":
        header = kit.pick(kit.headers, language, rng).format(channel=f"channel_{rng.randrange(400)}")
        return f"{header}\n{text}" if header else text
    edits = {
        "truncate": _truncate,
        "typo": _typo,
        "drop": _drop_word,
        "swap": _swap_words,
        "case": _case,
        "punctuation": _punctuation,
    }
    return edits.get(kind, _typo)(text, rng)


def forward(text: str, language: str, kit: EditKit, rng: random.Random) -> str:
    """One forward: one to three edits applied to ``text``."""
    for _ in range(rng.choice((1, 1, 2, 3))):
        text = _apply_edit(text, language, kit, rng)
    return text


def unrelated_text(vocabulary: Sequence[str], rng: random.Random) -> str:
    """A message made of words drawn from ``vocabulary``: same words as the claims, no claim."""
    return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(6, 18)))


# --- chains -----------------------------------------------------------------------------------------


def _chain_size(rng: random.Random, mean_forwards: float) -> int:
    # heavy-tailed: most claims are forwarded a few times, a few go viral
    size = int(rng.expovariate(1 / mean_forwards)) + 1
    return min(size * (8 if rng.random() < 0.05 else 1), 400)


def generate_chains(
    claims: Sequence[Claim],
    kit: EditKit,
    *,
    seed: int = 2020,
    mean_forwards: float = 14.0,
    unrelated: int = 600,
) -> list[ChainMessage]:
    """Forwarding chains of every claim plus ``unrelated`` messages, in time order."""
    rng = random.Random(seed)
    messages: list[ChainMessage] = []
    for number, claim in enumerate(claims):
        posted = START + timedelta(minutes=rng.uniform(0, 72 * 60))
        copies = [(claim.text, posted)]
        for _ in range(_chain_size(rng, mean_forwards)):
            parent, parent_at = copies[rng.randrange(len(copies))] if rng.random() < 0.7 else copies[0]
            copies.append(
                (forward(parent, claim.language, kit, rng), parent_at + timedelta(minutes=rng.expovariate(1 / 40)))
            )
        for index, (text, at) in enumerate(copies):
            channel = f"channel_{rng.randrange(400)}"
            messages.append(ChainMessage(f"m{number:03d}-{index:03d}", at, channel, claim.claim_id, text))
    vocabulary = sorted({word for claim in claims for word in claim.text.split()})
    for index in range(unrelated):
        at = START + timedelta(minutes=rng.uniform(0, 96 * 60))
        messages.append(
            ChainMessage(
                f"u{index:04d}", at, f"channel_{rng.randrange(400)}", f"u{index}", unrelated_text(vocabulary, rng)
            )
        )
    messages.sort(key=lambda m: (m.at, m.message_id))
    return messages


def write_jsonl(messages: Sequence[ChainMessage], path: Path) -> None:
    """Write messages as JSON lines (message_id, at, channel, gold, text): texts carry newlines."""
    with path.open("wb") as stream:
        for m in messages:
            row = {
                "message_id": m.message_id,
                "at": m.at.isoformat(),
                "channel": m.channel,
                "gold": m.gold,
                "text": m.text,
            }
            stream.write(orjson.dumps(row) + b"\n")


def read_jsonl(path: Path) -> list[ChainMessage]:
    """Read what :func:`write_jsonl` wrote."""
    out = []
    with path.open("rb") as stream:
        for line in stream:
            row = orjson.loads(line)
            out.append(
                ChainMessage(
                    row["message_id"], datetime.fromisoformat(row["at"]), row["channel"], row["gold"], row["text"]
                )
            )
    return out


def _pairs(counts: Counter[Hashable] | Mapping[Hashable, int]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def pairwise_scores(gold: Mapping[str, Hashable], predicted: Mapping[str, Hashable]) -> PairScores:
    """Pairwise precision, recall and F1 of ``predicted`` clusters against ``gold`` labels (same keys)."""
    keys = gold.keys() & predicted.keys()
    gold_pairs = _pairs(Counter(gold[k] for k in keys))
    predicted_pairs = _pairs(Counter(predicted[k] for k in keys))
    true_pairs = _pairs(Counter((gold[k], predicted[k]) for k in keys))
    precision = true_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = true_pairs / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScores(precision, recall, f1, true_pairs, predicted_pairs, gold_pairs)
