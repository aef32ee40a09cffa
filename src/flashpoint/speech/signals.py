"""Dangerous-speech signals from lexicons and rules, with the spans and the rules that fired.

Why rules first: they need no training data (none exists for Kazakh or Kyrgyz), they say why, and a
monitor can fix them by editing a lexicon. The hallmarks follow the Dangerous Speech Project's
framework (Benesch): a target group; dehumanisation; accusation in a mirror ("they are killing
ours"); threats; claimed attacks on women, children or elders; questioning in-group loyalty; and,
separately, mobilisation: the call to gather at a place and time, to bring something, to share.

What must not fire matters as much: counter-speech that quotes hate to condemn it, negation, news
reports, fact-checks, neutral mentions of groups and abuse aimed at one person. Each is a context
that lowers the hallmark scores, and the rule that lowered them is listed beside the signal.

Example:
    >>> result = analyse("они убили нашего аксакала, все едем в масанчи", "ru")
    >>> result.severity, [s.name for s in result.signals][:3]
    ('critical', ['accusation_in_mirror', 'attack_on_vulnerable', 'mobilisation'])
    >>> analyse("не верьте слухам: аксакал жив, он в больнице", "ru").severity
    'none'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flashpoint.speech.lexicon import Lexicon, Match, load_lexicon
from flashpoint.speech.mobilisation import find_clock, find_place
from flashpoint.text.morphology import Token, lemma, split_hyphenated, tokenize

SEVERITIES = ("none", "low", "medium", "high", "critical")
# The cap keeps a 100 KB paste as fast as a chat line; incitement sits in the first screens.
MAX_CHARS = 20_000
HALLMARKS = (
    "dehumanisation",
    "derogation",
    "slur",
    "threat",
    "violence_call",
    "expulsion",
    "accusation_in_mirror",
    "attack_on_vulnerable",
    "loyalty",
)
_SENTENCE_BREAK = frozenset(".!?\n;")
_QUOTES_OPEN = frozenset("«“„")
_QUOTES_CLOSE = frozenset("»”")
_QUOTES_BOTH = frozenset("\"'")
_POSTPOSED_NEGATION = frozenset({"емес", "эмес", "жоқ", "жок"})
_CLAUSE_BREAK = frozenset(",.!?;:—–")
_NIGHT_WORDS = frozenset({"ночью", "вечером", "түнде", "кешке", "түндө", "кечинде", "tonight", "this evening"})


@dataclass(frozen=True, slots=True)
class SpeechSignal:
    """One signal: a score in [0, 1], the character spans of the normalised text that carry it, the
    rules that fired (and those that lowered it), and details such as the place of a gathering."""

    name: str
    score: float
    spans: tuple[tuple[int, int], ...]
    rules: tuple[str, ...]
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_value(self) -> dict[str, Any]:
        value: dict[str, Any] = {"name": self.name, "score": self.score, "spans": [list(s) for s in self.spans]}
        value["rules"] = list(self.rules)
        if self.details:
            value["details"] = dict(self.details)
        return value


@dataclass(frozen=True, slots=True)
class TargetRef:
    """A mention of a group: its id, how it was named (name, derogatory...), and where."""

    group: str
    kind: str
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class SpeechResult:
    """Everything the rules found in one message, and the overall severity."""

    severity: str
    score: float
    signals: tuple[SpeechSignal, ...]
    targets: tuple[TargetRef, ...]
    contexts: tuple[str, ...]  # counter_speech, fact_check, news, report, quoted, individual

    @property
    def dangerous(self) -> bool:
        """Medium severity or above: what the functional suite calls dangerous."""
        return SEVERITIES.index(self.severity) >= 2

    def signal(self, name: str) -> SpeechSignal | None:
        return next((s for s in self.signals if s.name == name), None)

    def as_value(self) -> dict[str, Any]:
        groups = sorted({t.group for t in self.targets})
        return {
            "severity": self.severity,
            "score": self.score,
            "signals": [s.as_value() for s in self.signals],
            "targets": [{"group": t.group, "kind": t.kind, "span": list(t.span)} for t in self.targets],
            "groups": groups,
            "contexts": list(self.contexts),
        }


NOTHING = SpeechResult("none", 0.0, (), (), ())


@dataclass
class _Reading:
    """The tokens of one message with what the lexicon found, grouped for the rules."""

    text: str
    tokens: list[Token]
    words: list[str]
    sentence: list[int]
    quoted: list[bool]
    cues: dict[str, list[Match]]
    negated: dict[str, list[Match]]
    targets: list[Match]

    def span(self, match: Match) -> tuple[int, int]:
        return self.tokens[match.start].start, self.tokens[match.end - 1].end

    def near(self, match: Match, others: Sequence[Match], reach: int = 0) -> bool:
        here = self.sentence[match.start]
        return any(abs(self.sentence[o.start] - here) <= reach for o in others)

    def has(self, cue: str) -> bool:
        return bool(self.cues.get(cue))

    def strongest(self, cue: str) -> float:
        return max((m.weight for m in self.cues.get(cue, ())), default=0.0)


def analyse(text: str, language: str = "", lexicon: Lexicon | None = None) -> SpeechResult:
    """The signals of one message, given its normalised text (``text_norm``) and language.

    Never raises: empty, emoji-only or junk text gives severity "none".
    """
    reading = _read(text[:MAX_CHARS], language, lexicon or load_lexicon())
    if reading is None:
        return NOTHING
    builder = _Signals(reading)
    builder.hallmarks()
    builder.mobilisation()
    builder.contexts()
    return builder.result()


def _read(text: str, language: str, lexicon: Lexicon) -> _Reading | None:
    tokens = split_hyphenated(tokenize(text))
    if not tokens:
        return None
    words = [t.text for t in tokens]
    matches = lexicon.match(words, lambda word: lemma(word, language), language)
    if not matches:
        return None
    sentence, quoted = _structure(text, tokens)
    cues: dict[str, list[Match]] = {}
    negated: dict[str, list[Match]] = {}
    matches = _strongest_per_span(matches)
    negators = [m for m in matches if m.kind == "cue" and m.label == "negation"]
    targets = []
    for m in matches:
        if m.kind == "target":
            targets.append(m)
        elif m.label == "negation":
            cues.setdefault("negation", []).append(m)
        elif m.negated or _is_negated(m, negators, tokens, text):
            negated.setdefault(m.label, []).append(m)
        else:
            cues.setdefault(m.label, []).append(m)
    return _Reading(text, tokens, words, sentence, quoted, cues, negated, targets)


def _structure(text: str, tokens: Sequence[Token]) -> tuple[list[int], list[bool]]:
    """Sentence number and inside-quotes flag of each token, from the characters between tokens."""
    sentence, quoted = [], []
    number, inside, previous_end = 0, False, 0
    for token in tokens:
        gap = text[previous_end : token.start]
        if not _SENTENCE_BREAK.isdisjoint(gap) and not inside:
            number += 1
        for ch in gap:
            if ch in _QUOTES_OPEN:
                inside = True
            elif ch in _QUOTES_CLOSE:
                inside = False
            elif ch in _QUOTES_BOTH and (ch == '"' or gap.strip() == ch):
                inside = not inside
        sentence.append(number)
        quoted.append(inside)
        previous_end = token.end
    return sentence, quoted


def _is_negated(match: Match, negators: Sequence[Match], tokens: Sequence[Token], text: str) -> bool:
    """A negation one or two words before the cue in the same clause (ru, en: "не убьём", "won't
    kill"), or a postposed емес/жоқ right after it (kk, ky). A comma ends the negation's reach:
    in "терпеть их не могу, твари они" the "не" does not reach "твари"."""
    for n in negators:
        if 0 < match.start - n.start <= 2 and not _CLAUSE_BREAK.intersection(
            text[tokens[n.end - 1].end : tokens[match.start].start]
        ):
            return True
    after = match.end
    return after < len(tokens) and tokens[after].text in _POSTPOSED_NEGATION


def _strongest_per_span(matches: list[Match]) -> list[Match]:
    """One match per cue and span: a word listed in two languages' files counts once, at its
    strongest weight."""
    best: dict[tuple[str, str, int, int], Match] = {}
    for m in matches:
        key = (m.kind, m.label, m.start, m.end)
        if key not in best or m.weight > best[key].weight:
            best[key] = m
    return list(best.values()) if len(best) < len(matches) else matches


class _Signals:
    """Applies the rules to one reading; each method adds signals or lowers them with a reason."""

    def __init__(self, reading: _Reading) -> None:
        self.r = reading
        self.scores: dict[str, float] = {}
        self.spans: dict[str, list[tuple[int, int]]] = {}
        self.rules: dict[str, list[str]] = {}
        self.details: dict[str, dict[str, Any]] = {}
        self.context: list[str] = []
        self.pronouns = reading.cues.get("out_pronoun", [])

    def add(self, name: str, score: float, matches: Sequence[Match], rule: str) -> None:
        if score <= self.scores.get(name, 0.0) - 1e-9 and name in self.scores:
            self.rules[name].append(rule)
            return
        self.scores[name] = min(1.0, score)
        self.spans.setdefault(name, [])
        self.spans[name].extend(self.r.span(m) for m in matches)
        self.rules.setdefault(name, []).append(rule)

    def lower(self, names: Sequence[str], factor: float, rule: str) -> None:
        for name in names:
            if name in self.scores and factor < 1.0:
                self.scores[name] *= factor
                self.rules[name].append(f"{rule} x{factor:.2f}")

    def aimed(self, cue: Match, strong: float, pronoun: float, alone: float) -> tuple[float, str]:
        """The score of a cue by what it is aimed at: a named group, "them", or nothing."""
        if self.r.targets and self.r.near(cue, self.r.targets, reach=1):
            return strong * cue.weight, "group"
        if self.r.near(cue, self.pronouns) or (self.r.targets and self.r.near(cue, self.r.targets, reach=3)):
            return pronoun * cue.weight, "them"
        return alone * cue.weight, "alone"

    def hallmarks(self) -> None:
        r = self.r
        for cue, name, strong, pronoun, alone in (
            ("dehumanising", "dehumanisation", 0.9, 0.65, 0.3),
            ("derogation", "derogation", 0.8, 0.5, 0.15),
            ("threat", "threat", 0.95, 0.8, 0.55),
            ("violence_call", "violence_call", 0.95, 0.8, 0.55),
            ("expulsion", "expulsion", 0.85, 0.7, 0.35),
        ):
            for m in r.cues.get(cue, ()):
                score, aim = self.aimed(m, strong, pronoun, alone)
                self.add(name, score, [m], f"{cue}+{aim} ({m.origin})")
        for t in r.targets:
            if t.detail == "derogatory":
                self.add("slur", 0.6, [t], f"derogatory term for {t.label} ({t.origin})")
        if "slur" in self.scores and ("derogation" in self.scores or "dehumanisation" in self.scores):
            self.scores["slur"] = min(1.0, self.scores["slur"] + 0.2)
            self.rules["slur"].append("slur+derogation")
        self._claims()
        for m in r.cues.get("traitor", ()):
            aimed = r.targets or self.pronouns or r.cues.get("in_group")
            self.add("loyalty", (0.75 if aimed else 0.4) * m.weight, [m], f"traitor+{'aimed' if aimed else 'alone'}")

    def _claims(self) -> None:
        """Accusation in a mirror and claimed attacks: a violence claim with "ours" or the weak."""
        r = self.r
        ours = r.cues.get("in_group", [])
        weak = r.cues.get("vulnerable", [])
        for m in r.cues.get("accusation", ()):
            score, aim = self.aimed(m, 0.8, 0.65, 0.35)
            self.add("accusation_in_mirror", score, [m], f"accusation+{aim} ({m.origin})")
        for m in r.cues.get("violence_claim", ()):
            by_group = r.near(m, r.targets, reach=1) or r.near(m, self.pronouns)
            if ours and r.near(m, ours, reach=1):
                score = 0.85 if by_group else 0.75
                self.add("accusation_in_mirror", score * m.weight, [m, *ours[:1]], "violence_claim+in_group")
            elif by_group and r.targets:
                self.add("accusation_in_mirror", 0.65 * m.weight, [m], "violence_claim+group")
            if weak and r.near(m, weak, reach=1):
                score = 0.85 if ours else 0.7
                self.add("attack_on_vulnerable", score * m.weight, [m, *weak[:1]], "violence_claim+vulnerable")

    def mobilisation(self) -> None:
        r = self.r
        gather, bring, share = r.cues.get("gather", []), r.cues.get("bring", []), r.cues.get("share", [])
        if not (gather or bring or share):
            return
        kinds, score, matches = [], 0.0, [*gather, *bring, *share]
        if gather:
            kinds.append("gather")
            score = max(m.weight for m in gather) * 0.5
        if bring or (gather and r.has("weapon")):
            kinds.append("bring")
            score = max(score, 0.8)
            matches += r.cues.get("weapon", [])
        if share:
            kinds.append("share")
            score = max(score, 0.35 * max(m.weight for m in share))
        details: dict[str, Any] = {"kinds": kinds}
        place = find_place(r.words, [m.start for m in gather]) if gather else None
        if place is not None:
            token = r.tokens[place]
            details["place"] = {"text": token.text, "span": [token.start, token.end]}
            score += 0.15
        clock = find_clock(r.text)
        urgency = r.cues.get("urgency", [])
        if clock or urgency:
            span = clock or r.span(urgency[0])
            details["time"] = {"text": r.text[span[0] : span[1]], "span": list(span)}
            score += 0.1
        if r.has("grievance") and gather:
            kinds.append("grievance")
            score += 0.15
        if r.has("occasion") and not r.has("weapon"):
            details["occasion"] = r.words[r.cues["occasion"][0].start]
            score = min(score, 0.4)
        self.add("mobilisation", score, matches, "+".join(kinds))
        self.details["mobilisation"] = details

    def contexts(self) -> None:
        """Lower the hallmarks where the message condemns, debunks, reports, quotes or is personal."""
        r = self.r
        claims = ("accusation_in_mirror", "attack_on_vulnerable")
        counter, check = r.strongest("counter"), r.strongest("fact_check")
        report = r.strongest("report")
        # One word ("police") does not make a news report, and news does not call anyone out.
        news_cues = r.cues.get("news", [])
        news = r.strongest("news") if sum(m.weight for m in news_cues) >= 0.9 else 0.0
        calls = [*r.cues.get("gather", []), *r.cues.get("share", []), *r.cues.get("violence_call", [])]
        reported = r.cues.get("report", [])
        if any(not any(q.start < c.start for q in reported) for c in calls):
            news = 0.0  # news reports a call; it does not make one
        if counter:
            # A clear condemnation ("we condemn", "don't fall for provocations") outweighs the hate it
            # quotes; a bare modal ("нельзя", "болмайды") is as common in incitement as against it.
            self.context.append("counter_speech")
            self.lower([*HALLMARKS, "mobilisation"], 1 - (0.85 if counter >= 0.8 else 0.3) * counter, "counter_speech")
        if check:
            self.context.append("fact_check")
            self.lower(claims, 1 - 0.9 * check, "fact_check")
            self.lower(HALLMARKS, 1 - 0.5 * check, "fact_check")
        if news:
            self.context.append("news")
            self.lower([*claims, "threat", "violence_call", "expulsion"], 1 - 0.8 * news, "news_report")
        if report:
            self.context.append("report")
            self.lower(HALLMARKS, 1 - (0.7 if counter or news else 0.3) * report, "reported_speech")
        if any(r.quoted) and (counter or news or report):
            self.context.append("quoted")
            self.lower(HALLMARKS, 0.3, "quoted_to_condemn_or_report")
        if "slur" in self.scores and self._self_reference():
            self.context.append("reclaimed")
            self.lower(["slur"], 0.2, "reclaimed_term")
        if r.has("second_person") and not r.targets:
            self.context.append("individual")
            self.lower(["dehumanisation", "derogation", "threat", "violence_call"], 0.4, "aimed_at_a_person")
        if r.negated:
            self.context.append("negated")

    def _at_night(self) -> bool:
        """Whether the call is for the evening or the night: mobs gather after dark, civic protests
        in office hours."""
        time = self.details.get("mobilisation", {}).get("time", {}).get("text", "")
        hour = re.search(r"(\d{1,2})(?:[:.]\d\d)?", time)
        if hour:
            return int(hour[1]) >= 20 or int(hour[1]) <= 5
        return time in _NIGHT_WORDS

    def _self_reference(self) -> bool:
        """A slur used of oneself ("we kikes", "биз, мамбеттер", "proud to be"): a reclaimed term, when
        no threat or dehumanisation sits beside it."""
        r = self.r
        if any(self.scores.get(n, 0.0) >= 0.3 for n in ("threat", "violence_call", "dehumanisation", "expulsion")):
            return False
        first_person = [*r.cues.get("in_group", []), *r.cues.get("reclaim", [])]
        slurs = [t for t in r.targets if t.detail == "derogatory"]
        near = any(0 <= s.start - f.start <= 3 for s in slurs for f in first_person)
        return near or r.strongest("reclaim") >= 0.8

    def result(self) -> SpeechResult:
        signals = [
            SpeechSignal(
                name,
                round(self.scores[name], 3),
                tuple(sorted(set(self.spans[name]))),
                tuple(self.rules[name]),
                self.details.get(name, {}),
            )
            for name in sorted(self.scores, key=lambda n: -self.scores[n])
            if self.scores[name] >= 0.05
        ]
        targets = tuple(TargetRef(t.label, t.detail, self.r.span(t)) for t in self.r.targets)
        if targets:
            score = 0.3 if any(t.kind == "derogatory" for t in targets) else 0.1
            groups = tuple(sorted({f"group:{t.group}" for t in targets}))
            signals.append(SpeechSignal("target", score, tuple(t.span for t in targets), groups))
        hate = max((self.scores.get(n, 0.0) for n in HALLMARKS), default=0.0)
        mobilising = self.scores.get("mobilisation", 0.0)
        # Critical is kept for hate joined to a call to gather: the Masanchi pattern.
        danger = min(hate, 0.89)
        if hate >= 0.5 and mobilising >= 0.45:
            danger = min(1.0, hate + 0.3 * mobilising)
        elif mobilising >= 0.45 and self.r.targets and (hate >= 0.25 or (mobilising >= 0.6 and not self.context)):
            # A call to gather or to spread the word that names a group, with no condemnation, fact-check
            # or news around it: the shape of the Masanchi messages even when the words are mild.
            danger = max(hate, 0.55)
        elif (
            mobilising >= 0.6
            and "grievance" in self.details.get("mobilisation", {}).get("kinds", ())
            and (self.r.targets or self.pronouns or self.r.has("in_group") or self._at_night())
        ):
            # "Enough! Everyone to Masanchi tonight": a rallying cry, dangerous even with no group named.
            danger = max(danger, 0.6)
        else:
            danger = max(danger, min(mobilising, 0.45))
        return SpeechResult(severity_of(danger), round(danger, 3), tuple(signals), targets, tuple(self.context))


def severity_of(danger: float) -> str:
    """The severity a danger score in [0, 1] reads as (critical from 0.9)."""
    if danger >= 0.9:
        return "critical"
    if danger >= 0.7:
        return "high"
    if danger >= 0.5:
        return "medium"
    if danger >= 0.2:
        return "low"
    return "none"
