"""Place mentions in chat and news, resolved to settlements of the gazetteer.

Why gazetteer matching on word forms: a named-entity model finds capitalised Russian place names,
but chat is lowercase, Kazakh and Kyrgyz add case endings to the name itself ("Масаншыда",
"Қордайға", "Масанчиге"), Russian declines it ("Кордая", "в Ивановке"), and people write the old
Soviet names. So every spelling in the gazetteer is indexed with the endings each language puts
on it, and a word matches when it is a spelling plus an allowed ending.

Then the words around a mention decide what it is: "ул. Масанчи" is a street of Almaty, not the
village; "из Сортобе" and "масанчинские ребята" name where people come from; "в Масанчи" and
"Масаншыда" the scene. Same-named places are told apart by the districts and regions the text
names, by the other places it names, by the channel's home area, and by population.

Example:
    >>> from flashpoint.places.gazetteer import load_gazetteer
    >>> resolver = PlaceResolver(load_gazetteer())
    >>> [(r.name, r.district, r.role) for r in resolver.resolve("все едем в масанчи, наших бьют")]
    [('Masanchi', 'Korday District', 'scene')]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from flashpoint.places.gazetteer import Gazetteer, Place, fold_letters
from flashpoint.text.morphology import Token, split_hyphenated, tokenize

# Kazakh and Kyrgyz letters are folded to their Russian neighbours on both sides of the match (the
# gazetteer has "Есик" and chat writes "Есікте", "Тоқмақта", "Ұзынағаш"), as the gazetteer folds them.
fold = fold_letters


# Endings a language puts on a place name written as one word: Russian cases and adjectives
# (кордайский, масанчинские), Kazakh and Kyrgyz cases, plural and "people of" (-лық, -лик).
RU_ENDINGS = (
    "а", "у", "е", "ом", "ой", "ы", "и", "ам", "ах", "ами", "ю", "ем", "я", "ей", "ою",
    "ский", "ского", "скому", "ском", "ским", "ская", "ской", "скую", "ские", "ских", "скими",
    "нский", "нского", "нском", "нская", "нской", "нские", "нских", "нцы", "нцев", "нцам", "нец",
    "цы", "цев", "ец",
)  # fmt: skip
TURKIC_ENDINGS = (
    "ға", "ге", "қа", "ке", "на", "не", "а", "е", "га", "го", "гө", "ка", "ко", "кө",
    "да", "де", "та", "те", "нда", "нде", "до", "дө", "то", "тө", "ндо", "ндө",
    "дан", "ден", "тан", "тен", "нан", "нен", "дон", "дөн", "тон", "төн", "нон", "нөн",
    "ның", "нің", "дың", "дің", "тың", "тің", "нын", "нин", "нун", "нүн", "дын", "дин", "дун", "дүн", "тын", "тин",
    "ны", "ні", "ды", "ді", "ты", "ті", "ну", "нү", "ду", "дү", "ту", "тү", "н",
    "мен", "бен", "пен", "лық", "лік", "дық", "дік", "тық", "тік", "лык", "лик", "лук", "лүк", "дык", "дик",
    "лықтар", "ліктер", "лыктар", "ликтер", "дағы", "дегі", "тағы", "тегі", "ндағы", "ндегі", "дагы", "деги",
    "сы", "сі", "сында", "сінде", "сына", "сіне", "сынан", "сінен", "сының", "сінің", "сын", "сін",
    "ында", "інде", "ына", "іне", "ынан", "інен", "су", "сү", "сунда", "сүндө", "суна", "сүнө",
)  # fmt: skip
EN_ENDINGS = ("'s", "s")
# Kazakh and Kyrgyz endings as chat writes them in Latin letters ("tokmokto", "masanshyga").
LATIN_ENDINGS = (
    "da", "de", "ta", "te", "do", "to", "nda", "nde", "ga", "ge", "ka", "ke", "go", "ko",
    "dan", "den", "tan", "ten", "don", "ton", "nan", "nen", "dagy", "degi", "tagy", "tegi",
)  # fmt: skip
ENDINGS = frozenset(fold(e) for e in ("", *RU_ENDINGS, *TURKIC_ENDINGS, *EN_ENDINGS, *LATIN_ENDINGS))
# Russian stems change at the end: Кордай → Кордая, Ивановка → Ивановке, Тараз is stable. A name
# ending in one of these letters is also indexed without it, with the endings that replace it.
_RU_CHANGING_LAST = frozenset("йаяь")
_RU_REPLACING_ENDINGS = frozenset(("я", "ю", "ем", "е", "и", "ы", "у", "ой", "ою", "ей", "ью"))
_MIN_NAME = 2


def _load_words() -> dict[str, frozenset[str]]:
    """The context words of ``data/places/context_words.tsv`` by kind."""
    words: dict[str, set[str]] = {}
    text = resources.files("flashpoint").joinpath("data/places/context_words.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#") and not line.startswith("kind\t"):
            kind, word = line.split("\t")[:2]
            words.setdefault(kind, set()).add(word.strip())
    return {kind: frozenset(fold(w) for w in found) for kind, found in words.items()}


_WORDS = _load_words()
TrapCheck = Callable[[str], bool]


def _no_trap(phrase: str) -> bool:
    return False


# The words around a name that say what it is (see the data file's header).
FEATURE_BEFORE = _WORDS["feature_before"]
FEATURE_AFTER = _WORDS["feature_after"]
FACILITY_AFTER = _WORDS["facility_after"]
NOT_A_PLACE = _WORDS["not_a_place"]
NEEDS_CONTEXT = _WORDS["needs_context"]
SETTLEMENT_BEFORE = _WORDS["settlement_before"]
STREET_BEFORE = _WORDS["street_before"]
STREET_AFTER = _WORDS["street_after"]
ORIGIN_BEFORE = _WORDS["origin_before"]
SCENE_BEFORE = _WORDS["scene_before"]
_SETTLEMENT_AFTER = tuple(sorted(_WORDS["settlement_after"]))  # word beginnings
_SETTLEMENT_AFTER_WORDS = _WORDS["settlement_after_word"]  # whole words: "а" (ауылы), "с"
_AREA_AFTER = tuple(sorted(_WORDS["area_after"]))  # word beginnings
_ORIGIN_ENDINGS_RAW = ("дан", "ден", "тан", "тен", "нан", "нен", "дон", "дөн", "тон", "төн", "нон", "нөн")
_DEMONYM_ENDINGS_RAW = (
    "ский", "ского", "скому", "ском", "ским", "ская", "ской", "скую", "ские", "ских", "скими",
    "нский", "нского", "нском", "нская", "нской", "нские", "нских", "нцы", "нцев", "нцам", "нец", "цы", "цев", "ец",
    "лық", "лік", "лык", "лик", "лук", "лүк", "лықтар", "ліктер", "лыктар", "ликтер",
)  # fmt: skip
# Where something happens or where people go: locative and dative (the destination is the scene).
_LOCATIVE_ENDINGS_RAW = (
    "да", "де", "та", "те", "нда", "нде", "до", "дө", "то", "тө", "ндо", "ндө", "дағы", "дегі",
    "ға", "ге", "қа", "ке", "га", "го", "гө", "ка", "ко", "кө", "на", "не",
    "сында", "сінде", "сына", "сіне", "ында", "інде", "ына", "іне", "сунда", "сүндө", "суна", "сүнө",
)  # fmt: skip


_ADJECTIVE_ENDINGS = frozenset(e for e in RU_ENDINGS if "ск" in e or e.startswith("н"))
_DEMONYM_ENDINGS = frozenset(fold(e) for e in _DEMONYM_ENDINGS_RAW)
_ORIGIN_ENDINGS = frozenset(fold(e) for e in _ORIGIN_ENDINGS_RAW)
_LOCATIVE_ENDINGS = frozenset(fold(e) for e in (*_LOCATIVE_ENDINGS_RAW, *LATIN_ENDINGS[:14]))


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A resolved mention: the settlement, how sure, where in the text, and its role there."""

    place_id: str
    name: str
    kind: str
    country: str
    region: str  # the region's name (English), "" when unknown
    district: str  # the district's name (English), "" when unknown (GeoNames towns carry none)
    region_id: str
    district_id: str
    lat: float
    lon: float
    confidence: float
    span: tuple[int, int]
    text: str
    role: str  # scene, origin or mention (streets and district names are not settlements: left out)
    alternatives: tuple[str, ...] = ()  # other places with this spelling, best first

    def as_value(self) -> dict[str, Any]:
        return {
            "id": self.place_id,
            "name": self.name,
            "kind": self.kind,
            "country": self.country,
            "region": self.region,
            "district": self.district,
            "region_id": self.region_id,
            "district_id": self.district_id,
            "lat": self.lat,
            "lon": self.lon,
            "confidence": self.confidence,
            "span": list(self.span),
            "text": self.text,
            "role": self.role,
            "alternatives": list(self.alternatives),
        }


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int  # token index
    end: int
    places: tuple[Place, ...]
    ending: str
    role: str


class PlaceResolver:
    """Finds and resolves place mentions; built once per gazetteer (indexing takes a moment)."""

    def __init__(self, gazetteer: Gazetteer, home_areas: Mapping[str, str] | None = None, home_area: str = "") -> None:
        self.gazetteer = gazetteer
        self.home_areas = dict(home_areas or {})
        self.home_area = home_area
        self._index: dict[str, list[tuple[tuple[str, ...], tuple[Place, ...], frozenset[str] | None]]] = {}
        self._lengths: list[int] = []
        self._build()

    def _build(self) -> None:
        by_spelling: dict[tuple[str, ...], list[Place]] = {}
        for place in self.gazetteer.places:
            for spelling in {*place.names, *place.former_names, place.name}:
                words = tuple(_words(spelling))
                if words and len(" ".join(words)) >= _MIN_NAME:
                    by_spelling.setdefault(words, []).append(place)
        for words, places in by_spelling.items():
            unique = tuple(dict.fromkeys(places))
            last = words[-1]
            self._index.setdefault(_key(words, last), []).append((words, unique, None))
            if last[-1] in _RU_CHANGING_LAST and len(last) > 4:
                self._index.setdefault(_key(words, last[:-1]), []).append((words, unique, _RU_REPLACING_ENDINGS))
        self._lengths = sorted({len(k) for k in self._index}, reverse=True)

    def resolve(self, text: str, channel: str | None = None) -> list[PlaceRef]:
        """The settlements ``text`` (already normalised: lowercase, ё→е) names, scene first."""
        tokens = [t for t in split_hyphenated(tokenize(text)) if not t.text.isdigit()]
        words = [fold(t.text) for t in tokens]
        dateline = bool(tokens) and text[tokens[0].end : tokens[0].end + 3].lstrip()[:1] in (":", "—", "-", ",")
        mentions = self._mentions(words, dateline)
        if not mentions:
            return []
        areas = self._areas(words, mentions, channel)
        refs = [self._choose(m, tokens, areas) for m in mentions if m.role != "skip" and _plausible(m, areas)]
        order = {"scene": 0, "mention": 1, "origin": 2}
        refs.sort(key=lambda r: (order[r.role], -r.confidence, r.span))
        return _unique(refs)

    # -- finding

    def _mentions(self, words: Sequence[str], dateline: bool = False) -> list[_Mention]:
        found: list[_Mention] = []
        i = 0
        while i < len(words):
            mention = self._longest_at(words, i, dateline and i == 0)
            if mention is None:
                i += 1
                continue
            found.append(mention)
            i = mention.end
        return found

    def _longest_at(self, words: Sequence[str], i: int, dateline: bool = False) -> _Mention | None:
        """The mention starting at word ``i``: the most words, then the longest stem."""
        best: _Mention | None = None
        best_size = (0, 0)
        first = words[i]
        for length in self._lengths:
            if length > len(first):
                continue
            for name, places, endings in self._index.get(first[:length], ()):
                end = i + len(name)
                if end > len(words) or any(words[i + k] != name[k] for k in range(len(name) - 1)):
                    continue
                last = words[end - 1]
                stem = name[-1] if endings is None else name[-1][:-1]
                if len(name) == 1 and stem != first[:length]:
                    continue
                if not last.startswith(stem):
                    continue
                ending = last[len(stem) :]
                if ending not in (endings if endings is not None else ENDINGS):
                    continue
                if (end - i, len(stem)) > best_size:
                    best_size = (end - i, len(stem))
                    role = _role(words, i, end, ending, dateline, self._is_trap)
                    best = _Mention(i, end, places, ending, role)
            if best is not None:
                return best
        return None

    def _is_trap(self, phrase: str) -> bool:
        return bool(self.gazetteer.traps_named(phrase))

    # -- deciding

    def _areas(self, words: Sequence[str], mentions: Sequence[_Mention], channel: str | None) -> set[str]:
        """Districts and regions the text points at: named ones, those of unambiguous places, home."""
        areas = set(self.gazetteer.areas_named(words))
        for m in mentions:
            if len(m.places) == 1:
                areas.update((m.places[0].district, m.places[0].region))
        home = self.home_areas.get(channel or "", self.home_area)
        if home:
            areas.add(home)
        areas.discard("")
        return areas

    def _choose(self, mention: _Mention, tokens: Sequence[Token], areas: set[str]) -> PlaceRef:
        scored = sorted(((self._score(p, areas), p) for p in mention.places), key=lambda x: -x[0])
        best_score, best = scored[0]
        if len(scored) == 1:
            confidence = 0.9 if mention.role != "mention" or mention.ending else 0.8
        else:
            total = sum(math.exp(4 * s) for s, _ in scored)
            confidence = math.exp(4 * best_score) / total * 0.95
        if areas and not {best.district, best.region, best.id} & areas:
            confidence *= 0.6  # far from everything else the message (or its channel's home) points at
        start, end = tokens[mention.start].start, tokens[mention.end - 1].end
        district, region = self.gazetteer.area(best.district), self.gazetteer.area(best.region)
        return PlaceRef(
            best.id, best.name, best.kind, best.country, region.name if region else "",
            district.name if district else "", best.region, best.district, best.lat, best.lon,
            round(confidence, 3), (start, end), " ".join(t.text for t in tokens[mention.start : mention.end]),
            mention.role, tuple(p.id for _, p in scored[1:4]),
        )  # fmt: skip

    @staticmethod
    def _score(place: Place, areas: set[str]) -> float:
        score = math.log10((place.population or 0) + 10) / 7  # 10 M people -> 1.0
        if place.district in areas:
            score += 1.0
        elif place.region in areas:
            score += 0.5
        return score


def _role(
    words: Sequence[str], start: int, end: int, ending: str, dateline: bool = False, known_trap: TrapCheck = _no_trap
) -> str:
    """What the mention is: scene, origin or mention; or "skip" for a street, a district, a lake,
    a pass, a market or a country named like a settlement, and for a name that is also a common word
    or a personal name when no case ending or word around it says "place"."""
    before = words[start - 1] if start else ""
    after = words[end] if end < len(words) else ""
    name = " ".join(words[start:end])[: len(" ".join(words[start:end])) - len(ending)]
    if before in STREET_BEFORE or before in FEATURE_BEFORE:
        return "skip"
    attributive = not ending or ending in _ADJECTIVE_ENDINGS  # "Масанчи көшесі", "Ошский базар", "Чуйская область"
    if attributive and after in FACILITY_AFTER and not known_trap(f"{name} {after}"):
        return "mention"  # "каракемир рынок": the village's market; "Ошский рынок" in Bishkek is a known trap
    if attributive and (after in STREET_AFTER or after in FEATURE_AFTER or after.startswith(_AREA_AFTER)):
        # "Масанчи көшесі", "Балқаш көлі", "Кордайского района": a name used for a street, a lake or
        # the district (which ``areas_named`` reads); "Қаракемерде базар" is still the village
        return "skip"
    before2 = words[start - 2] if start > 1 else ""
    settled = (
        before in SETTLEMENT_BEFORE
        or (before == "of" and before2 in SETTLEMENT_BEFORE)  # "the village of Kenen"
        or after in _SETTLEMENT_AFTER_WORDS
        or after.startswith(_SETTLEMENT_AFTER)
    )
    if name in NOT_A_PLACE and not settled:
        return "skip"
    placed = settled or dateline or before in SCENE_BEFORE or before in ORIGIN_BEFORE
    if (name in NEEDS_CONTEXT or len(name) <= 2) and not placed and not _place_case(ending):
        # a person or a thing named like a place ("песни Кенена", "читаю Канта"): only a word for
        # "in, to, from", a Turkic place case or a dateline ("Отар: ...") makes it the place
        return "skip"
    placed = placed or bool(ending)
    if ending in _DEMONYM_ENDINGS or ending in _ORIGIN_ENDINGS or before in ORIGIN_BEFORE:
        return "origin"
    if before in SCENE_BEFORE or settled or dateline or ending in _LOCATIVE_ENDINGS:
        return "scene"
    return "mention"


def _plausible(mention: _Mention, areas: set[str]) -> bool:
    """A bare word ("жақсы", good; "жарық", light) that is also the name of a small town far away is
    a word: a mention with no place case or place word counts only for curated settlements, towns of
    50,000 people or more, and places in a district or region the text names ("Аксу Павлодарской
    области")."""
    return mention.role != "mention" or any(
        p.curated or (p.population or 0) >= 50_000 or p.district in areas or p.region in areas for p in mention.places
    )


def _place_case(ending: str) -> bool:
    """A Kazakh or Kyrgyz locative, dative or ablative: said of places, not of people."""
    return (
        len(ending) >= 2 and (ending in _LOCATIVE_ENDINGS or ending in _ORIGIN_ENDINGS) and ending not in ("на", "не")
    )


def _words(spelling: str) -> list[str]:
    text = spelling.lower().replace("ё", "е").replace("-", " ")
    return [fold(t.text) for t in tokenize(text)]


def _key(words: tuple[str, ...], last: str) -> str:
    return words[0] if len(words) > 1 else last


def _unique(refs: Iterable[PlaceRef]) -> list[PlaceRef]:
    seen: set[str] = set()
    out = []
    for ref in refs:
        if ref.place_id not in seen:
            seen.add(ref.place_id)
            out.append(ref)
    return out
