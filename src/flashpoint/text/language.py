"""Language identification for Central Asian chat: ru, kk, ky, en, with uz, ug, zh and "other".

Why a vote: no single offline tool is good at the short, code-switched messages these chats hold.
pycld2 and heliport (both ship their models) see the whole message; letter rules see what they
miss (ә ғ қ ұ і һ only occur in Kazakh; ң ө ү without them lean Kyrgyz; Uyghur and Chinese are told
by script); a word tagger finds Russian and Kazakh words in one message (code-switching); and a
small character n-gram model, trained on transliterated Cyrillic, reads Kazakh and Russian written
informally in Latin letters, which no packaged tool recognises. Nothing here raises on any input.

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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

import heliport  # type: ignore[import-untyped]
import pycld2  # type: ignore[import-untyped]

from flashpoint.model import Enriched

LANGUAGES = frozenset({"ru", "kk", "ky", "en", "uz", "ug", "zh", "other", "und"})
# Longer messages are judged on their head: language rarely changes after 2,000 characters, and the
# cap keeps a 100 KB paste as fast as a chat line.
_MAX_CHARS = 2000

_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|@\w+", re.IGNORECASE)
_CYRL = re.compile(r"[\u0400-\u052f]")
_LATN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_ARAB = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]")
_HANI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CYRL_WORD = re.compile(r"[\u0400-\u052f]+")
_LATN_WORD = re.compile(r"[a-z\u00c0-\u024f0-9']+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

_KK_ONLY = frozenset("әғқұіһ")
# қ and ғ are also Uzbek, і also Ukrainian: alone they are weaker evidence of Kazakh.
_KK_STRONG = frozenset("әұһ")
_UZ_CYRL = frozenset("ўҳ")
_UK_CYRL = frozenset("їєґ")
_UZ_LATN = re.compile(r"[og][ʻ'‘’`]")
# Frequent Kazakh words written without Kazakh-only letters.
_KK_WORDS = frozenset(["рахмет", "жарайды", "болады", "барамыз", "келеді", "айтшы", "ертең"])
_KY_LEAN = frozenset("ңөү")
_UG_LETTERS = frozenset("ۇۈۆېىەڭۋ")
_KY_DOUBLE = re.compile(r"(?:оо|өө|уу|үү|ээ|аа|ыы|ии)")
# Russian words that are not also Kazakh or Kyrgyz words ("да", "не", "он", "а" are, so are absent).
_RU_WORDS = frozenset(
    [
        "и",
        "в",
        "с",
        "по",
        "на",
        "что",
        "как",
        "это",
        "уже",
        "все",
        "всё",
        "всем",
        "всех",
        "есть",
        "будет",
        "был",
        "была",
        "были",
        "если",
        "когда",
        "где",
        "кто",
        "мы",
        "вы",
        "они",
        "мне",
        "меня",
        "нас",
        "нам",
        "вас",
        "вам",
        "для",
        "от",
        "из",
        "без",
        "так",
        "тоже",
        "только",
        "очень",
        "надо",
        "нужно",
        "можно",
        "нет",
        "сегодня",
        "завтра",
        "вчера",
        "там",
        "тут",
        "здесь",
        "сейчас",
        "потом",
        "еще",
        "ещё",
        "или",
        "но",
        "же",
        "бы",
        "ли",
        "вот",
        "чтобы",
        "почему",
        "зачем",
        "сколько",
        "привет",
        "спасибо",
        "пожалуйста",
        "люди",
        "его",
        "ее",
        "её",
        "их",
        "у",
        "к",
        "о",
        "об",
        "при",
        "про",
        "через",
        "после",
        "перед",
        "над",
        "под",
        "между",
        "я",
        "ты",
        "свет",
        "воды",
        "вода",
        "дорогу",
        "дорога",
        "дороги",
        "село",
        "селе",
        "района",
        "район",
        "вечером",
        "утром",
        "днем",
        "днём",
        "давай",
        "хочу",
        "может",
        "знаю",
        "понял",
        "поняла",
        "сказал",
        "сказала",
        "сказали",
        "говорит",
        "мама",
        "папа",
        "короче",
    ]
)
_RU_ENDINGS = (
    "ого", "его", "ему", "ому", "ться", "тся", "ешь", "ишь", "ают", "яют", "ует", "ющий", "ая", "ые", "ий",
    "ите", "йте", "ся",
)  # fmt: skip

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


@dataclass(frozen=True)
class LanguageResult:
    """The decision, how sure it is, the languages of a code-switched message, and who voted."""

    language: str
    confidence: float
    mixed: tuple[str, ...] = ()
    script: str = "none"
    votes: tuple[tuple[str, str, float], ...] = ()

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
        return _identify(text)
    except Exception:  # a language guess must never stop a pipeline
        return _UND


def _identify(text: str) -> LanguageResult:
    text = _CONTROL.sub(" ", _URL.sub(" ", text[:_MAX_CHARS]))
    counts = {
        "Cyrl": len(_CYRL.findall(text)),
        "Latn": len(_LATN.findall(text)),
        "Arab": len(_ARAB.findall(text)),
        "Hani": len(_HANI.findall(text)),
    }
    letters = sum(counts.values())
    if letters == 0:
        return _UND
    script = _script(counts, letters)
    votes = _tool_votes(text)
    if counts["Hani"] * 2 >= letters:
        votes.append(("script", "zh", 2.0))
    elif counts["Arab"] * 2 >= letters:
        ug = any(c in _UG_LETTERS for c in text)
        votes.append(("script", "ug" if ug else "other", 2.0))
    elif counts["Cyrl"] >= counts["Latn"]:
        return _cyrillic(text, script, votes)
    else:
        return _latin(text, script, votes)
    return _decide(votes, script, ())


def _script(counts: Mapping[str, int], letters: int) -> str:
    present = [name for name, n in counts.items() if n * 4 >= letters]
    return present[0] if len(present) == 1 else "mixed"


def _tool_votes(text: str) -> list[tuple[str, str, float]]:
    votes: list[tuple[str, str, float]] = []
    try:
        reliable, _, details = pycld2.detect(text, bestEffort=True)
        code = details[0][1]
        if code not in _NO_ANSWER:
            votes.append(("cld2", _CLD2_MAP.get(code, "other"), (0.7 if reliable else 0.4) * details[0][2] / 100))
    except pycld2.error:
        pass
    code, score = _heliport().identify_with_score(text)
    if code not in _NO_ANSWER:
        votes.append(("heliport", _HELI_MAP.get(code, "other"), min(1.0, 0.5 + score / 4)))
    return votes


@lru_cache(maxsize=1)
def _heliport() -> Any:
    return heliport.Identifier()


def _cyrillic(text: str, script: str, votes: list[tuple[str, str, float]]) -> LanguageResult:
    lower = text.lower()
    words = _CYRL_WORD.findall(lower)
    kk = sum(1 for w in words if w in _KK_WORDS or not _KK_ONLY.isdisjoint(w))
    ru = sum(1 for w in words if _is_russian_word(w))
    ky = 0
    if kk == 0:
        ky = sum(1 for w in words if not _KY_LEAN.isdisjoint(w) or _KY_DOUBLE.search(w))
    n = max(len(words), 1)
    tools = {language for _, language, _ in votes}
    # In Cyrillic the tools' "other" is mostly Tatar, Bashkir, Bulgarian or Mari heard in short Turkic
    # or Russian lines; it counts half.
    votes = [(v, lang, w * 0.5 if lang == "other" else w) for v, lang, w in votes]
    if not _UK_CYRL.isdisjoint(lower):
        votes.append(("letters", "other", 2.0))
    if not _UZ_CYRL.isdisjoint(lower):
        votes.append(("letters", "uz", 2.0))
    if kk:
        strong = not _KK_STRONG.isdisjoint(lower) or not _KY_LEAN.isdisjoint(lower) or "kk" in tools
        votes.append(("letters", "kk", (0.6 if strong else 0.2) + 1.6 * kk / n))
    elif ky:
        # ң ө ү are Kazakh letters too: when the tools hear Kazakh, the words are counted as Kazakh.
        lean = "kk" if "kk" in tools and "ky" not in tools else "ky"
        votes.append(("letters", lean, 0.3 + 0.8 * ky / n))
        kk, ky = (ky, 0) if lean == "kk" else (0, ky)
    if ru:
        votes.append(("words", "ru", 0.3 + 1.6 * ru / n - (0.8 * kk / n)))
    mixed: tuple[str, ...] = ()
    other = "kk" if kk else "ky" if ky else ""
    if other and ru and min(kk or ky, ru) / n >= 0.15:
        mixed = (other, "ru") if (kk or ky) >= ru else ("ru", other)
    result = _decide(votes, script, mixed)
    if mixed and result.language not in ("kk", "ky", "ru"):
        return LanguageResult(result.language, result.confidence, (), script, result.votes)
    if mixed and result.language not in mixed:
        return LanguageResult(mixed[0], result.confidence, mixed, script, result.votes)
    return result


def _is_russian_word(word: str) -> bool:
    if word in _RU_WORDS or "ё" in word or "ъ" in word or "щ" in word or "ь" in word:
        return True
    return len(word) > 4 and _KK_ONLY.isdisjoint(word) and word.endswith(_RU_ENDINGS)


def _latin(text: str, script: str, votes: list[tuple[str, str, float]]) -> LanguageResult:
    words = _LATN_WORD.findall(text.lower())
    model_language, probability = latin_model().classify(words)
    if _UZ_LATN.search(text.lower()):
        votes.append(("letters", "uz", 2.0))
    # cld2 knows Uzbek in Latin letters well; the n-gram model does not know it at all.
    votes = [(v, lang, w * 3 if v == "cld2" and lang == "uz" else w) for v, lang, w in votes]
    if model_language:
        # The tools call Latin Kazakh English or Turkish; the model was trained for exactly this.
        weight = 2.5 * probability if model_language in ("kk", "ru") else 0.8 * probability
        votes.append(("latin_ngram", model_language, weight))
    return _decide(votes, script, ())


def _decide(votes: list[tuple[str, str, float]], script: str, mixed: tuple[str, ...]) -> LanguageResult:
    totals: dict[str, float] = {}
    for _, language, weight in votes:
        if weight > 0:
            totals[language] = totals.get(language, 0.0) + weight
    if not totals:
        return LanguageResult("und", 0.0, mixed, script, tuple(votes))
    best = max(totals, key=lambda k: totals[k])
    confidence = totals[best] / sum(totals.values())
    return LanguageResult(best, round(min(1.0, confidence), 4), mixed, script, tuple(votes))


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

    def classify(self, words: list[str]) -> tuple[str, float]:
        """The best class and its posterior (uniform prior); ("", 0.0) when there is nothing to read."""
        grams = [g for w in words for g in ngrams(w)]
        if not grams or not self.classes:
            return "", 0.0
        scores = {cls: sum(self.logp[cls].get(g, self.floor[cls]) for g in grams) for cls in self.classes}
        best = max(scores, key=lambda k: scores[k])
        # Scale by the gram count so a long message is not infinitely sure of itself.
        scale = 1.0 / max(1.0, len(grams) / 20)
        z = sum(math.exp((s - scores[best]) * scale) for s in scores.values())
        return best, 1.0 / z


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
    version: ClassVar[int] = 1
    needs: ClassVar[frozenset[str]] = frozenset({"text_clean"})
    adds: ClassVar[frozenset[str]] = frozenset({"language"})

    def __call__(self, record: Enriched) -> Enriched:
        return record.with_values(language=identify(record.values["text_clean"]).as_value())
