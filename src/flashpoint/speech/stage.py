"""The speech stage: lexicons and rules on every message, the trained model on the candidates.

Why a cascade: the rules cost a few microseconds and say why; a linear model over character n-grams
costs more and says less, but learns what a team labels. So the model reads only the messages in
which the rules found a group, a hallmark or a call (the candidates: a few per cent of chat), and its
probability joins the rules' result as the ``model`` signal. With no trained model the rules alone
decide.

A label counts as dangerous for the model signal unless it is one of :data:`BENIGN_LABELS`; so a
team may label with "dangerous"/"not_dangerous" or with finer classes ("threat", "counter_speech").

Example:
    >>> from flashpoint.model import Enriched, Message
    >>> from datetime import datetime, UTC
    >>> m = Message.create(source="jsonl", native_id="1", channel="c", sent_at=datetime(2020, 2, 7, tzinfo=UTC),
    ...     text="", raw_sha256="")
    >>> stage = DetectSpeech()
    >>> out = stage(Enriched(m, {"text_norm": "все едем в масанчи, они убили нашего аксакала",
    ...     "language": {"language": "ru"}}))
    >>> out.values["speech"]["severity"]
    'critical'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from flashpoint.model import Enriched
from flashpoint.speech.lexicon import Lexicon, load_lexicon
from flashpoint.speech.model import SpeechModel
from flashpoint.speech.signals import SEVERITIES, SpeechResult, SpeechSignal, analyse, severity_of

BENIGN_LABELS = frozenset(
    {"not_dangerous", "none", "neutral", "benign", "ok", "counter_speech", "counter", "news", "fact_check", "0", "no"}
)


def danger_probability(probabilities: Mapping[str, float]) -> float:
    """The model's probability that a message is dangerous: the mass on non-benign labels.

    >>> danger_probability({"dangerous": 0.7, "counter_speech": 0.2, "not_dangerous": 0.1})
    0.7
    """
    return round(sum(p for label, p in probabilities.items() if label.lower() not in BENIGN_LABELS), 6)


MITIGATING = frozenset({"counter_speech", "fact_check", "news"})


def with_model(result: SpeechResult, probabilities: Mapping[str, float]) -> SpeechResult:
    """The rules' result with the model's opinion added as the ``model`` signal.

    The rules know contexts (counter-speech, fact-checks, news) and the model knows wording the
    lexicons lack: so the model may raise the score to its probability, but not where the rules
    found a mitigating context; there the rules decide. Critical stays the rules' to give (it needs
    a call to gather joined to hate).
    """
    danger = danger_probability(probabilities)
    label = max(probabilities, key=lambda k: probabilities[k])
    signal = SpeechSignal("model", danger, (), (f"label:{label}",), {"probabilities": dict(probabilities)})
    score, severity = result.score, result.severity
    if danger > score and not MITIGATING.intersection(result.contexts):
        score = round(min(danger, 0.89), 3)
        severity = SEVERITIES[max(SEVERITIES.index(severity), SEVERITIES.index(severity_of(score)))]
    return SpeechResult(severity, score, (*result.signals, signal), result.targets, result.contexts)


def is_candidate(result: SpeechResult) -> bool:
    """Whether the heavier model should read the message: the rules found a group, a hallmark or a
    call (a negation or an "our" alone is not enough)."""
    return bool(result.signals)


class DetectSpeech:
    """Adds ``speech``: severity, score, signals with spans and rules, target groups, contexts."""

    name: ClassVar[str] = "speech"
    version: ClassVar[int] = 1
    needs: ClassVar[frozenset[str]] = frozenset({"text_norm", "language"})
    adds: ClassVar[frozenset[str]] = frozenset({"speech"})

    def __init__(self, lexicon: Lexicon | None = None, model: SpeechModel | None = None) -> None:
        self.lexicon = lexicon or load_lexicon()
        self.model = model

    def __call__(self, record: Enriched) -> Enriched:
        return self.run_batch([record])[0]

    def run_batch(self, records: Sequence[Enriched]) -> list[Enriched]:
        """The stage over a batch: the model reads all the batch's candidates in one call."""
        results = [self.analyse(r.values["text_norm"], r.values.get("language") or {}) for r in records]
        if self.model is not None:
            results = self.add_model(results, [r.values["text_norm"] for r in records])
        return [r.with_values(speech=res.as_value()) for r, res in zip(records, results, strict=True)]

    def analyse(self, text: str, language: Mapping[str, Any]) -> SpeechResult:
        return analyse(text, str(language.get("language") or ""), self.lexicon)

    def add_model(self, results: list[SpeechResult], texts: Sequence[str]) -> list[SpeechResult]:
        assert self.model is not None
        chosen = [i for i, result in enumerate(results) if is_candidate(result)]
        if not chosen:
            return results
        probabilities = self.model.predict_proba([texts[i] for i in chosen])
        out = list(results)
        for i, p in zip(chosen, probabilities, strict=True):
            out[i] = with_model(results[i], p)
        return out
