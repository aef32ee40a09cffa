"""Language identification for Central Asian chat: ru, kk, ky, en, with uz, ug, zh and "other".

Why a vote: no single offline tool is good at the short, code-switched messages these chats hold.
pycld2 and heliport (both ship their models) see the whole message; letter rules see what they
miss (ә ғ қ ұ і һ only occur in Kazakh; ң ө ү without them lean Kyrgyz; Uyghur and Chinese are told
by script); a word tagger finds Russian and Kazakh words in one message (code-switching); and a
small character n-gram model, trained on transliterated Cyrillic, reads Kazakh and Russian written
informally in Latin letters, which no packaged tool recognises. Nothing here raises on any input.

Why it is fast: the cheap votes (letters, word lists, the n-gram model) are counted first, and a
tool is asked only while its vote could still change the decision, that is while the leader's
margin is no more than the most the tools not yet asked could add to a rival (pycld2 0.7, heliport
1.0, plus the letter votes that depend on what the tools hear). pycld2 (~5 µs) is asked for about
nine messages in ten, heliport (~8 µs) for one in five. The decision is the one the full vote
reaches (a test compares them); only ``confidence`` (the winner's share of the votes cast) and
``votes`` show which tools were asked. Word tests are cached per word and whole results per text
(chats forward the same message many times). Measured on one core of the 2-core development
machine, µs per message, in one run: demo scenario as exported 12 (46 before), its 1,322 unique
texts 24 (51), tests/data/language/test_set.tsv 20 (48); pycld2 alone 5. Word lists live in
``flashpoint/data/language/*.tsv``.

Example:
    >>> identify("Сәлеметсіз бе, бүгін жиналыс болады ма?").language
    'kk'
    >>> r = identify("Сәлем, как дела? Бүгін кездесеміз бе?")
    >>> r.language, r.mixed
    ('kk', ('kk', 'ru'))
    >>> identify("Salem, qalaisyn? Bugin auylda jinalys bolady").language
    'kk'
    >>> identify("🙂 123").language
    'und'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, ClassVar, NamedTuple

import heliport  # type: ignore[import-untyped]
import pycld2  # type: ignore[import-untyped]

from flashpoint.model import Enriched

LANGUAGES = frozenset({"ru", "kk", "ky", "en", "uz", "ug", "zh", "other", "und"})
# Longer messages are judged on their head: language rarely changes after 2,000 characters, and the
# cap keeps a 100 KB paste as fast as a chat line.
_MAX_CHARS = 2000
# Results for texts up to this long are remembered (bounded: at most ~8 MB of keys).
_CACHE_CHARS = 500
_CACHE_SIZE = 4096

Vote = tuple[str, str, float]  # (voter, language, weight)

_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|@\w+", re.IGNORECASE)
_MAYBE_WWW = re.compile(r"www\.", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CYRL_WORD = re.compile(r"[\u0400-\u052f]+")
_LATN_RUN = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_ARAB_RUN = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]+")
_HANI_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_NOT_CYRILLIC = re.compile(
    r"[A-Za-z\u00c0-\u024f\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)
_LATN_WORD = re.compile(r"[a-z\u00c0-\u024f0-9']+")

KAZAKH_ONLY_LETTERS = frozenset("әғқұіһ")
_KK_ONLY = KAZAKH_ONLY_LETTERS
# қ and ғ are also Uzbek, і also Ukrainian: alone they are weaker evidence of Kazakh.
_KK_STRONG = frozenset("әұһ")
_UZ_CYRL = frozenset("ўҳ")
_UK_CYRL = frozenset("їєґ")
_KY_LEAN = frozenset("ңөү")
# The letters whose mere presence in a message matters, found in one pass.
_TELLING = re.compile("[" + "".join(sorted(_KK_STRONG | _UZ_CYRL | _UK_CYRL | _KY_LEAN)) + "]")
_UZ_LATN = re.compile(r"[og][ʻ'‘’`]")
_UG_LETTERS = frozenset("ۇۈۆېىەڭۋ")
_KY_DOUBLE = re.compile(r"(?:оо|өө|уу|үү|ээ|аа|ыы|ии)")

_CLD2_MAP = {"ru": "ru", "kk": "kk", "ky": "ky", "en": "en", "uz": "uz", "ug": "ug", "zh": "zh", "zh-Hant": "zh"}
_HELI_MAP = {
    "rus": "ru",
    "kaz": "kk",
    "kir": "ky",
    "eng": "en",
    "uzb": "uz",
    "uzn": "uz",
    "uzs": "uz",
    "uig": "ug",
    "cmn": "zh",
    "zho": "zh",
    "yue": "zh",
    "wuu": "zh",
}
_NO_ANSWER = frozenset({"un", "und", "zxx", "xx"})


@cache
def load_word_list(name: str) -> tuple[str, ...]:
    """The entries of ``flashpoint/data/language/<name>`` (first column; ``#`` lines are comments).

    >>> "когда" in load_word_list("ru_words.tsv")
    True
    """
    path = resources.files("flashpoint").joinpath("data", "language", name)
    rows = (line.split("\t", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(row for row in rows if row and not row.startswith("#"))


@cache
def _word_lists() -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """Russian words, Kazakh words written without Kazakh-only letters, Russian endings."""
    return (
        frozenset(load_word_list("ru_words.tsv")),
        frozenset(load_word_list("kk_words.tsv")),
        load_word_list("ru_endings.tsv"),
    )


@dataclass(frozen=True)
class LanguageResult:
    """The decision, how sure it is, the languages of a code-switched message, and who voted."""

    language: str
    confidence: float
    mixed: tuple[str, ...] = ()
    script: str = "none"
    votes: tuple[Vote, ...] = ()

    def as_value(self) -> dict[str, Any]:
        """The JSON-able value the ``language`` stage stores."""
        return {
            "language": self.language,
            "confidence": round(self.confidence, 3),
            "mixed": list(self.mixed),
            "script": self.script,
        }


_UND = LanguageResult("und", 0.0)


def identify(text: str) -> LanguageResult:
    """Identify the language of one message; never raises, returns ``und`` when there is nothing to read."""
    try:
        if len(text) <= _CACHE_CHARS:
            return _identify_cached(text)
        return _identify(text)
    except Exception:  # a language guess must never stop a pipeline
        return _UND


def _identify(text: str) -> LanguageResult:
    text = text[:_MAX_CHARS]
    if _may_hold_url(text):
        text = _URL.sub(" ", text)
    text = _CONTROL.sub(" ", text)
    lower = text.lower()
    if text.isascii():
        latn = sum(map(len, _LATN_RUN.findall(text)))
        return _latin(text, lower, "Latn") if latn else _UND
    words = _CYRL_WORD.findall(lower)
    cyrl = sum(map(len, words))
    if not _NOT_CYRILLIC.search(text):  # the common case: Cyrillic letters only
        return _cyrillic(text, lower, words, "Cyrl") if cyrl else _UND
    latn = sum(map(len, _LATN_RUN.findall(text)))
    arab = sum(map(len, _ARAB_RUN.findall(text)))
    hani = sum(map(len, _HANI_RUN.findall(text)))
    letters = cyrl + latn + arab + hani
    if letters == 0:
        return _UND
    script = _script({"Cyrl": cyrl, "Latn": latn, "Arab": arab, "Hani": hani}, letters)
    if hani * 2 >= letters:
        return _by_script(script, "zh")
    if arab * 2 >= letters:
        return _by_script(script, "ug" if not _UG_LETTERS.isdisjoint(text) else "other")
    if cyrl >= latn:
        return _cyrillic(text, lower, words, script)
    return _latin(text, lower, script)


def _may_hold_url(text: str) -> bool:
    """A cheap test before the URL pattern: most messages have no "@", "://" or "www."."""
    return "@" in text or "://" in text or (("w" in text or "W" in text) and _MAYBE_WWW.search(text) is not None)


_identify_cached = lru_cache(maxsize=_CACHE_SIZE)(_identify)


def _script(counts: Mapping[str, int], letters: int) -> str:
    present = [name for name, n in counts.items() if n * 4 >= letters]
    return present[0] if len(present) == 1 else "mixed"


# --- the tools, cheapest first, each with the most weight its vote can carry ---------------------


def _cld2_vote(text: str) -> list[Vote]:
    try:
        reliable, _, details = pycld2.detect(text, bestEffort=True)
    except pycld2.error:
        return []
    code = details[0][1]
    if code in _NO_ANSWER:
        return []
    return [("cld2", _CLD2_MAP.get(code, "other"), (0.7 if reliable else 0.4) * details[0][2] / 100)]


def _heliport_vote(text: str) -> list[Vote]:
    code, score = _heliport().identify_with_score(text)
    if code in _NO_ANSWER:
        return []
    return [("heliport", _HELI_MAP.get(code, "other"), min(1.0, 0.5 + score / 4))]


_TOOLS: tuple[tuple[Callable[[str], list[Vote]], float], ...] = ((_cld2_vote, 0.7), (_heliport_vote, 1.0))
_TOOLS_WEIGHT = sum(weight for _, weight in _TOOLS)


@lru_cache(maxsize=1)
def _heliport() -> Any:
    return heliport.Identifier()


Tally = tuple[dict[str, float], str]  # weight per language, and the leader ("" when nobody voted)


def _tally(votes: Iterable[Vote]) -> Tally:
    totals: dict[str, float] = {}
    for _, language, weight in votes:
        if weight > 0:
            totals[language] = totals.get(language, 0.0) + weight
    return totals, max(totals, key=totals.__getitem__) if totals else ""


def _settled(tally: Tally, gain: float, bonus_language: str = "", bonus: float = 0.0) -> bool:
    """True when no rival can overtake the leader, even given ``gain`` more weight (and ``bonus`` more
    for ``bonus_language``): the tools still to be asked cannot change the decision."""
    totals, best = tally
    if not best:
        return False
    # A language nobody voted for ("und" at least) could still get ``gain``.
    reach = totals[best] - gain - 1e-9
    if reach <= 0 or (bonus_language and bonus_language != best and totals.get(bonus_language, 0.0) + bonus >= reach):
        return False
    return all(total < reach for language, total in totals.items() if language != best)


def _by_script(script: str, language: str) -> LanguageResult:
    # The script vote (2.0) outweighs both tools together (0.7 + 1.0): they are not asked.
    votes: list[Vote] = [("script", language, 2.0)]
    return _decide(votes, _tally(votes), script)


# --- Cyrillic -----------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def _word_class(word: str) -> tuple[int, int, int]:
    """Whether a lowercase Cyrillic word is Kazakh evidence, Russian evidence, leaning Kyrgyz (0 or 1 each)."""
    ru_words, kk_words, _ = _word_lists()
    kazakh = word in kk_words or not _KK_ONLY.isdisjoint(word)
    kyrgyz = not _KY_LEAN.isdisjoint(word) or _KY_DOUBLE.search(word) is not None
    return int(kazakh), int(_is_russian_word(word, ru_words)), int(kyrgyz)


def _is_russian_word(word: str, ru_words: frozenset[str]) -> bool:
    if word in ru_words or "ё" in word or "ъ" in word or "щ" in word or "ь" in word:
        return True
    return len(word) > 4 and _KK_ONLY.isdisjoint(word) and word.endswith(_word_lists()[2])


class _CyrillicEvidence(NamedTuple):
    """What the letters and words of a Cyrillic message say, before any tool is asked."""

    kk: int  # words with Kazakh evidence
    ru: int  # Russian words
    ky: int  # words leaning Kyrgyz, counted only when no word is Kazakh
    n: int  # words
    telling: frozenset[str]  # which of the telling letters occur

    @classmethod
    def of(cls, words: list[str], lower: str) -> _CyrillicEvidence:
        kk, ru, ky = map(sum, zip(*map(_word_class, words), strict=True)) if words else (0, 0, 0)
        telling = frozenset(_TELLING.findall(lower))
        return cls(kk, ru, 0 if kk else ky, max(len(words), 1), telling)

    @property
    def strong_letters(self) -> bool:
        return not _KK_STRONG.isdisjoint(self.telling) or not _KY_LEAN.isdisjoint(self.telling)

    def best_without_tools(self) -> float:
        """The most weight any one language gets from letters and words alone."""
        kk = (0.6 + 1.6 * self.kk / self.n) if self.kk else 0.3 + 0.8 * self.ky / self.n
        ru = 0.3 + 1.6 * self.ru / self.n if self.ru else 0.0
        return max(kk, ru, 2.0 if self.telling else 0.0)

    def votes(self, tools: list[Vote]) -> tuple[list[Vote], tuple[str, ...]]:
        """The vote (tools + letters + words) and the code-switching languages, given the tools' votes."""
        kk, ru, ky, n = self.kk, self.ru, self.ky, self.n
        heard = {language for _, language, _ in tools}
        # In Cyrillic the tools' "other" is mostly Tatar, Bashkir, Bulgarian or Mari heard in short
        # Turkic or Russian lines; it counts half.
        votes = [(v, lang, w * 0.5 if lang == "other" else w) for v, lang, w in tools]
        if self.telling:
            if not _UK_CYRL.isdisjoint(self.telling):
                votes.append(("letters", "other", 2.0))
            if not _UZ_CYRL.isdisjoint(self.telling):
                votes.append(("letters", "uz", 2.0))
        if kk:
            strong = self.strong_letters or "kk" in heard
            votes.append(("letters", "kk", (0.6 if strong else 0.2) + 1.6 * kk / n))
        elif ky:
            # ң ө ү are Kazakh letters too: when the tools hear Kazakh, the words are counted as Kazakh.
            lean = "kk" if "kk" in heard and "ky" not in heard else "ky"
            votes.append(("letters", lean, 0.3 + 0.8 * ky / n))
            kk, ky = (ky, 0) if lean == "kk" else (0, ky)
        if ru:
            votes.append(("words", "ru", 0.3 + 1.6 * ru / n - (0.8 * kk / n)))
        mixed: tuple[str, ...] = ()
        other = "kk" if kk else "ky" if ky else ""
        if other and ru and min(kk or ky, ru) / n >= 0.15:
            mixed = (other, "ru") if (kk or ky) >= ru else ("ru", other)
        return votes, mixed

    def settled(self, tally: Tally, tools: list[Vote], gain: float) -> bool:
        """Whether tools still to be asked, worth ``gain`` together, can no longer change the decision."""
        heard = {language for _, language, _ in tools}
        if not self.kk and self.ky and "ky" not in heard:
            return False  # a tool's kk or ky decides whether these words count as Kazakh or Kyrgyz
        if self.kk and not self.strong_letters and "kk" not in heard:
            return _settled(tally, gain, "kk", 0.4)  # a tool's "kk" also makes the letter vote strong
        return _settled(tally, gain)


def _cyrillic(text: str, lower: str, words: list[str], script: str) -> LanguageResult:
    evidence = _CyrillicEvidence.of(words, lower)
    tools: list[Vote] = []
    votes: list[Vote] = []
    mixed: tuple[str, ...] = ()
    tally: Tally = ({}, "")
    # Letters and words alone rarely outweigh both tools (1.7): skip the test when they cannot.
    if evidence.best_without_tools() > _TOOLS_WEIGHT:
        votes, mixed = evidence.votes(tools)
        tally = _tally(votes)
    if not tally[1] or not evidence.settled(tally, tools, _TOOLS_WEIGHT):
        for i, (tool, _) in enumerate(_TOOLS):
            tools.extend(tool(text))
            votes, mixed = evidence.votes(tools)
            tally = _tally(votes)
            if i + 1 == len(_TOOLS) or evidence.settled(tally, tools, sum(w for _, w in _TOOLS[i + 1 :])):
                break
    language = tally[1]
    if mixed and language not in ("kk", "ky", "ru"):
        mixed = ()
    elif mixed and language not in mixed:
        language = mixed[0]
    return _decide(votes, tally, script, mixed, language)


# --- Latin --------------------------------------------------------------------------------------


def _latin(text: str, lower: str, script: str) -> LanguageResult:
    votes: list[Vote] = []
    if _UZ_LATN.search(lower):
        votes.append(("letters", "uz", 2.0))
    model_language, probability = latin_model().classify(_LATN_WORD.findall(lower))
    if model_language:
        # The tools call Latin Kazakh English or Turkish; the model was trained for exactly this.
        weight = 2.5 * probability if model_language in ("kk", "ru") else 0.8 * probability
        votes.append(("latin_ngram", model_language, weight))
    tally = _tally(votes)
    for i, (tool, _) in enumerate(_TOOLS):
        gain = sum(weight for _, weight in _TOOLS[i:])
        # cld2 knows Uzbek in Latin letters well, the n-gram model not at all: its "uz" counts three times.
        if _settled(tally, gain, "uz", 2 * 0.7) if tool is _cld2_vote else _settled(tally, gain):
            break
        votes.extend((v, lang, w * 3 if v == "cld2" and lang == "uz" else w) for v, lang, w in tool(text))
        tally = _tally(votes)
    return _decide(votes, tally, script)


def _decide(
    votes: list[Vote], tally: Tally, script: str, mixed: tuple[str, ...] = (), language: str = ""
) -> LanguageResult:
    """The result: ``language`` (default: the leader) with the leader's share of the votes as confidence."""
    totals, best = tally
    if not best:
        return LanguageResult("und", 0.0, mixed, script, tuple(votes))
    confidence = totals[best] / sum(totals.values())
    return LanguageResult(language or best, round(min(1.0, confidence), 4), mixed, script, tuple(votes))


class LatinModel:
    """Naive Bayes over character 1-4-grams of words: Latin-script Kazakh, Russian translit, English."""

    def __init__(self, counts: Mapping[str, Mapping[str, int]]) -> None:
        self.classes = tuple(sorted(counts))
        self.logp: dict[str, dict[str, float]] = {}
        self.floor: dict[str, float] = {}
        # Additive smoothing over the shared vocabulary, so a small class is not favoured for unseen grams.
        vocabulary = len({gram for table in counts.values() for gram in table}) + 1
        for cls in self.classes:
            table = counts[cls]
            total = sum(table.values()) + 0.5 * vocabulary
            self.logp[cls] = {gram: math.log((n + 0.5) / total) for gram, n in table.items()}
            self.floor[cls] = math.log(0.5 / total)
        self._word_cache: dict[str, tuple[tuple[float, ...], int]] = {}

    def classify(self, words: list[str]) -> tuple[str, float]:
        """The best class and its posterior (uniform prior); ("", 0.0) when there is nothing to read."""
        if not self.classes or not words:
            return "", 0.0
        known = [self._word_cache.get(word) or self._score_word(word) for word in words]
        totals = [sum(column) for column in zip(*(scores for scores, _ in known), strict=True)]
        grams = sum(count for _, count in known)
        best = max(range(len(totals)), key=totals.__getitem__)
        # Scale by the gram count so a long message is not infinitely sure of itself.
        scale = 1.0 / max(1.0, grams / 20)
        z = sum(math.exp((s - totals[best]) * scale) for s in totals)
        return self.classes[best], 1.0 / z

    def _score_word(self, word: str) -> tuple[tuple[float, ...], int]:
        """Per class, the summed log-probabilities of a word's n-grams, and how many there are (cached)."""
        grams = ngrams(word)
        scores = tuple(sum(self.logp[c].get(g, self.floor[c]) for g in grams) for c in self.classes)
        if len(self._word_cache) >= 1 << 16:
            self._word_cache.clear()
        self._word_cache[word] = (scores, len(grams))
        return scores, len(grams)


def ngrams(word: str) -> list[str]:
    """The character 1- to 4-grams of a word padded with spaces.

    >>> ngrams("ok")
    ['o', 'k', ' o', 'ok', 'k ', ' ok', 'ok ', ' ok ']
    """
    padded = f" {word} "
    out = list(word)
    for n in (2, 3, 4):
        out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


@lru_cache(maxsize=1)
def latin_model() -> LatinModel:
    """The packaged model from ``flashpoint/data/language/latin_ngrams.tsv`` (class, n-gram, count)."""
    counts: dict[str, dict[str, int]] = {}
    path = resources.files("flashpoint").joinpath("data/language/latin_ngrams.tsv")
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        cls, gram, n = line.split("\t")
        counts.setdefault(cls, {})[gram] = int(n)
    return LatinModel(counts)


class IdentifyLanguage:
    """Adds ``language``: {"language", "confidence", "mixed", "script"} for the cleaned text."""

    name: ClassVar[str] = "language"
    version: ClassVar[int] = 2  # 2: tools are asked only when they can change the decision (confidence moves)
    needs: ClassVar[frozenset[str]] = frozenset({"text_clean"})
    adds: ClassVar[frozenset[str]] = frozenset({"language"})

    def __call__(self, record: Enriched) -> Enriched:
        return record.with_values(language=identify(record.values["text_clean"]).as_value())
