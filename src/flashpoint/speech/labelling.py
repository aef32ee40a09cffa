"""Which message an analyst should label next, and what a key press means.

Labels teach the model most where it is least sure (uncertainty sampling). With a trained model,
the most uncertain message is the one whose two most probable classes are closest; with none yet,
it is the one whose rule score (the ``speech`` enrichment's ``score``) is closest to 0.5, the
middle of the rules' scale. A message no speech stage has scored counts as score 0: the rules saw
nothing there, so it comes late. Messages that already carry a label are left out.

Everything here is pure: the store and the terminal belong to ``flashpoint label`` (cli_speech).

Example:
    >>> calm = LabelCandidate(1, "m1", "продаю картошку", speech={"severity": "none", "score": 0.05})
    >>> torn = LabelCandidate(2, "m2", "все едем туда", speech={"severity": "medium", "score": 0.55})
    >>> [r.candidate.message_id for r in uncertainty_order([calm, torn])]
    ['m2', 'm1']
    >>> parse_key("2", ("dangerous", "not_dangerous"))
    KeyAction(kind='label', label='not_dangerous')
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from flashpoint.errors import ConfigError

DEFAULT_LABELS = ("dangerous", "not_dangerous", "counter_speech")
SEVERITIES = ("none", "low", "medium", "high", "critical")
MAX_LABELS = 9  # keys 1..9


class ProbabilityModel(Protocol):
    """What ordering needs from a model: class probabilities for texts (SpeechModel has it)."""

    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]: ...


@dataclass(frozen=True)
class LabelCandidate:
    """A stored message as the labeller sees it. ``speech`` is the message's ``speech``
    enrichment, or None when no speech stage has run; ``label`` its current label, if any."""

    rowid: int
    message_id: str
    text: str
    language: str | None = None
    speech: Mapping[str, Any] | None = None
    label: str | None = None

    @property
    def rule_score(self) -> float:
        """The rules' score in [0, 1]; 0 when there is none or it is not a number."""
        value = self.speech.get("score") if isinstance(self.speech, Mapping) else None
        if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
            return 0.0
        return min(1.0, max(0.0, float(value)))

    @property
    def severity(self) -> str:
        value = self.speech.get("severity") if isinstance(self.speech, Mapping) else None
        return value if isinstance(value, str) and value in SEVERITIES else "none"

    @property
    def signals(self) -> tuple[str, ...]:
        """Names of the signals that fired (strings, or the name of each signal object)."""
        found = self.speech.get("signals") if isinstance(self.speech, Mapping) else None
        if not isinstance(found, list):
            return ()
        return tuple(name for name in (_signal_name(s) for s in found) if name)

    @property
    def groups(self) -> tuple[str, ...]:
        """The target groups the rules found (``groups``, else the group of each ``targets`` item)."""
        speech = self.speech if isinstance(self.speech, Mapping) else {}
        named = speech.get("groups")
        if not isinstance(named, list):
            targets = speech.get("targets")
            named = (
                [t.get("group") if isinstance(t, Mapping) else t for t in targets] if isinstance(targets, list) else []
            )
        return tuple(dict.fromkeys(g for g in named if isinstance(g, str) and g))


def _signal_name(signal: object) -> str:
    if isinstance(signal, str):
        return signal
    if isinstance(signal, Mapping):
        for key in ("name", "signal", "kind", "rule"):
            if isinstance(signal.get(key), str):
                return str(signal[key])
    return ""


@dataclass(frozen=True)
class RankedCandidate:
    """A candidate with its margin: in [0, 1], smaller is more uncertain. With a model it is the
    gap between the two most probable classes; without one, twice the rule score's distance
    from 0.5. ``probabilities`` are the model's, when there is one."""

    candidate: LabelCandidate
    margin: float
    probabilities: Mapping[str, float] | None = None

    @property
    def suggestion(self) -> str | None:
        """The model's most probable class, if there is a model."""
        if not self.probabilities:
            return None
        return min(self.probabilities.items(), key=lambda item: (-item[1], item[0]))[0]


def probability_margin(probabilities: Mapping[str, float]) -> float:
    """The gap between the two largest probabilities (1.0 with fewer than two classes).

    >>> round(probability_margin({"a": 0.5, "b": 0.3, "c": 0.2}), 2)
    0.2
    """
    top = sorted((p for p in probabilities.values() if not math.isnan(p)), reverse=True)
    return top[0] - top[1] if len(top) >= 2 else 1.0


def uncertainty_order(items: Iterable[LabelCandidate], model: ProbabilityModel | None = None) -> list[RankedCandidate]:
    """The unlabelled candidates, most uncertain first (ties keep store order, by rowid)."""
    pending = [c for c in items if c.label is None]
    if model is None:
        ranked = [RankedCandidate(c, abs(c.rule_score - 0.5) * 2) for c in pending]
    else:
        probabilities = model.predict_proba([c.text for c in pending]) if pending else []
        ranked = [RankedCandidate(c, probability_margin(p), p) for c, p in zip(pending, probabilities, strict=True)]
    return sorted(ranked, key=lambda r: (r.margin, r.candidate.rowid))


def parse_label_set(spec: str) -> tuple[str, ...]:
    """The labels keys 1..9 stand for, from "dangerous,not_dangerous,...".

    >>> parse_label_set(" Dangerous, not_dangerous ")
    ('dangerous', 'not_dangerous')
    """
    labels = tuple(part.strip().casefold() for part in spec.split(","))
    if any(not label or any(ch.isspace() for ch in label) for label in labels):
        raise ConfigError("bad_labels", f"--labels {spec!r}: labels are comma-separated names without spaces")
    if len(set(labels)) != len(labels):
        raise ConfigError("bad_labels", f"--labels {spec!r}: a label appears twice")
    if not 2 <= len(labels) <= MAX_LABELS:
        raise ConfigError("bad_labels", f"--labels {spec!r}: give between 2 and {MAX_LABELS} labels (keys 1..9)")
    if set(labels) & set(_COMMAND_KEYS):
        raise ConfigError("bad_labels", f"--labels {spec!r}: s, u and q are keys, not labels")
    return labels


KeyKind = Literal["label", "skip", "undo", "quit", "invalid"]
_COMMAND_KEYS: dict[str, KeyKind] = {"s": "skip", "u": "undo", "q": "quit"}


@dataclass(frozen=True)
class KeyAction:
    kind: KeyKind
    label: str | None = None


def parse_key(key: str, labels: Sequence[str]) -> KeyAction:
    """What a key (or a typed line) means: 1..9 or a label's name labels; s skips; u undoes the
    last label; q quits.

    >>> parse_key("q", DEFAULT_LABELS).kind, parse_key("7", DEFAULT_LABELS).kind
    ('quit', 'invalid')
    """
    typed = key.strip().casefold()
    if typed.isdigit() and typed.isascii() and 1 <= int(typed) <= len(labels):
        return KeyAction("label", labels[int(typed) - 1])
    if typed in labels:
        return KeyAction("label", typed)
    return KeyAction(_COMMAND_KEYS.get(typed, "invalid"))


def key_legend(labels: Sequence[str]) -> str:
    """The line that tells the analyst which key does what.

    >>> key_legend(("dangerous", "not_dangerous"))
    '1 dangerous · 2 not_dangerous · s skip · u undo · q quit'
    """
    return " · ".join([*(f"{i} {label}" for i, label in enumerate(labels, 1)), "s skip", "u undo", "q quit"])
