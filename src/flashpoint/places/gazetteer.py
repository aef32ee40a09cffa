"""The gazetteer: every settlement Flashpoint can resolve a mention to, with its spellings, district and region.

Why: risk is local. Masanchi, Sortobe and Bular Batyr are villages a few kilometres apart on the Chu; no package
has them, reverse geocoding a point in Masanchi returns Tokmok in Kyrgyzstan, and "Георгиевка" is the old name of
more than one place. So the gazetteer is data the project owns, in ``data/places/`` (see its README.md):

- ``geonames.tsv``: the 462 GeoNames cities500 rows of KZ and KG (built by ``scripts/build_gazetteer.py``);
- ``villages.tsv``: curated villages of the border districts, and towns whose former names GeoNames lacks; a
  curated row with a ``geonameid`` replaces that GeoNames row and keeps its spellings;
- ``regions.tsv``, ``districts.tsv``: the areas places roll up to, with their names in ru, kk/ky and en;
- ``context.tsv``: settlements where a minority is the majority or a significant share;
- ``traps.tsv``: names that look like villages but are streets, markets, regions or shared former names.

Names are compared by ``name_key``: lowercase, ё→е, Kazakh and Kyrgyz letters folded to their Russian look-alikes
(Сортөбе = Сортобе), Latin diacritics dropped (Sortöbe = Sortobe), hyphens and dots as spaces, apostrophes
dropped. ``candidates`` also ignores spaces, so "Булар-Батыр", "булар батыр" and "буларбатыр" all find Bular Batyr.
Former names are searchable too; ``Place.former_names`` says which they are.

``load_gazetteer()`` reads and checks every file once per process (about 20 ms; the README has the measured
figure) and raises ``ConfigError`` naming file, line and reason for a bad row. Neighbours within a radius use the
haversine distance over a grid of 0.25° cells built on first use.

Example:
    >>> gaz = load_gazetteer()
    >>> [p.id for p in gaz.candidates("Масаншы")]
    ['kz-zhambyl-korday-masanchi']
    >>> korday = gaz.by_id["kz-zhambyl-korday-korday"]
    >>> "Георгиевка" in korday.former_names, gaz.rollup(korday).district.name
    (True, 'Korday District')
    >>> gaz.areas_named("жители Кордайского района Жамбылской области")
    ('kz-zhambyl-korday', 'kz-zhambyl')
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from flashpoint.errors import ConfigError

COUNTRIES = frozenset({"KZ", "KG"})
PLACE_KINDS = frozenset({"village", "town", "city", "district_centre", "settlement"})
GROUPS = frozenset(
    {"dungan", "uyghur", "uzbek", "tajik", "meskhetian_turk", "russian", "kazakh", "kyrgyz", "chechen", "kurdish"}
)
SHARE_LABELS = frozenset({"majority", "significant"})
TRAP_KINDS = frozenset(
    {"street", "microdistrict", "city_district", "market", "person", "landmark", "region_name", "same_name"}
    | {"former_name"}
)
EARTH_RADIUS_KM = 6371.0
_T = TypeVar("_T")
_CELL_DEGREES = 0.25

# --- names ------------------------------------------------------------------------------------------------------

_FOLD = {
    "ё": "е",
    "ә": "а",
    "ғ": "г",
    "қ": "к",
    "ң": "н",
    "ө": "о",
    "ұ": "у",
    "ү": "у",
    "һ": "х",
    "і": "и",
    "ı": "i",
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ß": "ss",
    "-": " ",
    "\u2010": " ",
    "\u2011": " ",
    "\u2013": " ",
    "\u2014": " ",
    ".": " ",
    ",": " ",
    "'": "",
    "’": "",
    "ʻ": "",
    "ʼ": "",
    "`": "",
    "´": "",
    "«": "",
    "»": "",
    '"': "",
}
# Latin letters with diacritics (ö ş ğ ñ ū ...) lose them; Cyrillic is left alone, where NFKD would split й into и.
for _code in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)):
    _letter = chr(_code).lower()
    if len(_letter) != 1 or _letter in _FOLD:  # "İ".lower() is two code points
        continue
    _base = "".join(c for c in unicodedata.normalize("NFKD", _letter) if not unicodedata.combining(c))
    if _base != _letter and _base.isascii() and _base.isalpha():
        _FOLD[_letter] = _base
# A list indexed by code point translates about twice as fast as the dict str.maketrans gives; code points past
# its end raise IndexError, a LookupError, which str.translate answers by keeping the character.
_FOLD_TABLE: list[str | int | None] = [chr(code) for code in range(0x2100)]
for _code, _target in str.maketrans(_FOLD).items():
    _FOLD_TABLE[_code] = _target


# The letters alone (no punctuation): for matching word by word, as the place resolver does.
_LETTER_FOLD: list[str | int | None] = [chr(code) for code in range(0x2100)]
for _code, _target in str.maketrans({k: v for k, v in _FOLD.items() if k.isalpha()}).items():
    _LETTER_FOLD[_code] = _target


def fold_letters(word: str) -> str:
    """A lowercase word with Kazakh and Kyrgyz letters and Latin diacritics folded, as ``name_key``
    folds them (punctuation left alone).

    >>> fold_letters("тоқмақта"), fold_letters("sortöbe")
    ('токмакта', 'sortobe')
    """
    return word.translate(_LETTER_FOLD)


def name_key(text: str) -> str:
    """The form names are compared in: lowercase, ё→е, kk/ky letters and Latin diacritics folded, single spaces.

    >>> name_key("  Сортөбе "), name_key("Bular-Batyr"), name_key("Masanşy"), name_key("Алматинская обл.")
    ('сортобе', 'bular batyr', 'masansy', 'алматинская обл')
    """
    if not isinstance(text, str):
        return ""
    return " ".join(text.lower().translate(_FOLD_TABLE).split())


def _compact(text: str) -> str:
    return name_key(text).replace(" ", "")


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (haversine, Earth radius 6371 km).

    >>> round(distance_km(42.9289, 75.3019, 42.8667, 75.2514), 1)  # Masanchi to Sortobe
    8.0
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


# --- records ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """A settlement. ``names`` holds every current spelling in every script, the English name first;
    ``context`` the minority groups recorded for it in context.tsv (details: ``Gazetteer.context_of``)."""

    id: str
    kind: str
    name: str
    names: tuple[str, ...]
    former_names: tuple[str, ...]
    country: str
    region: str
    district: str
    lat: float
    lon: float
    population: int | None
    source: str
    context: tuple[str, ...] = ()
    geonameid: int | None = None
    note: str = ""

    @property
    def curated(self) -> bool:
        """True for rows of villages.tsv, False for rows that come straight from GeoNames."""
        return not self.id.startswith("geonames-")

    def is_former_name(self, name: str) -> bool:
        """Whether ``name`` is one of this place's former names (and not also a current one)."""
        key = _compact(name)
        return any(_compact(n) == key for n in self.former_names) and not any(_compact(n) == key for n in self.names)


@dataclass(frozen=True, slots=True)
class Area:
    """A region (oblys, oblast, oblus, or a city of republican rank) or a district (audan, raion)."""

    id: str
    level: str
    country: str
    region: str
    name: str
    names: tuple[str, ...]
    former_names: tuple[str, ...]
    centre: str
    source: str


@dataclass(frozen=True, slots=True)
class ContextEntry:
    """A minority group that is the majority or a significant share of a settlement."""

    place: str
    group: str
    share: float | None
    label: str
    year: int | None
    source: str


@dataclass(frozen=True, slots=True)
class Trap:
    """A name that looks like a settlement but may be a street, market, person, region or shared former name."""

    name: str
    kind: str
    where: str
    confused_with: tuple[str, ...]
    note: str
    source: str


class Rollup(NamedTuple):
    """The district (None for GeoNames rows and cities of regional rank), region and country of a place."""

    district: Area | None
    region: Area | None
    country: str


# --- the gazetteer ----------------------------------------------------------------------------------------------


class Gazetteer:
    """Places, areas, context and traps, indexed by id and by name. Build it with ``load_gazetteer()``."""

    def __init__(
        self,
        places: Iterable[Place],
        regions: Iterable[Area],
        districts: Iterable[Area],
        context: Iterable[ContextEntry] = (),
        traps: Iterable[Trap] = (),
    ) -> None:
        self._places = tuple(places)
        self.by_id: Mapping[str, Place] = MappingProxyType({p.id: p for p in self._places})
        self.regions: Mapping[str, Area] = MappingProxyType({a.id: a for a in regions})
        self.districts: Mapping[str, Area] = MappingProxyType({a.id: a for a in districts})
        context_by_place: dict[str, list[ContextEntry]] = {}
        for entry in context:
            context_by_place.setdefault(entry.place, []).append(entry)
        self._context = {k: tuple(v) for k, v in context_by_place.items()}
        self.traps: tuple[Trap, ...] = tuple(traps)
        self._names = _index((p, (*p.names, *p.former_names)) for p in self._places)
        self._trap_names = _index((t, (t.name,)) for t in self.traps)
        self._area_patterns = _area_patterns((*self.regions.values(), *self.districts.values()))
        self._grid: dict[tuple[int, int], list[Place]] | None = None
        self._neighbours: dict[tuple[str, float], tuple[Place, ...]] = {}

    def __len__(self) -> int:
        return len(self._places)

    def __iter__(self) -> Iterator[Place]:
        return iter(self._places)

    @property
    def places(self) -> tuple[Place, ...]:
        """Every place: the curated rows first, then the GeoNames rows they do not replace."""
        return self._places

    def candidates(self, name: str) -> tuple[Place, ...]:
        """Every place with this spelling, current or former, most populous first (curated before GeoNames)."""
        found = self._names.get(_compact(name), ())
        return tuple(sorted(found, key=lambda p: (-(p.population or 0), not p.curated, p.id)))

    def areas_named(self, text: str | Sequence[str]) -> tuple[str, ...]:
        """Ids of the districts and regions named in ``text`` (a name, a message, or a message's words), in any case
        form: "Кордайского района", "Қордай ауданында", "Жамбылской области", "Chüy Region". In order of mention.

        A name word meets a text word that starts with the name word's stem (the word less a final adjective
        ending or vowel) and goes on for at most five letters; stems under three letters must match exactly. The
        longest name wins where names overlap ("Жамбылской области" is the region, not Zhambyl District).
        """
        joined = text if isinstance(text, str) else " ".join(text)
        if not isinstance(joined, str):
            return ()
        words = joined.lower().translate(_FOLD_TABLE).split()  # the words of name_key(joined)
        if not any(word[:3] in self._area_patterns for word in words):  # most messages name no area
            return ()
        found: dict[str, None] = {}
        i = 0
        while i < len(words):
            longest, ids = 0, list[str]()
            for pattern, area_id in self._area_patterns.get(words[i][:3], ()):
                size = len(pattern)
                fits = size >= longest and i + size <= len(words)
                if fits and all(_word_meets(words[i + j], stem, exact) for j, (stem, exact) in enumerate(pattern)):
                    ids = [*ids, area_id] if size == longest else [area_id]
                    longest = size
            found.update(dict.fromkeys(ids))
            i += max(1, longest)
        return tuple(found)

    def area(self, area_id: str) -> Area | None:
        """The region or district with this id."""
        return self.regions.get(area_id) or self.districts.get(area_id)

    def traps_named(self, name: str) -> tuple[Trap, ...]:
        """Known traps spelled like ``name`` (the Almaty street Масанчи, the market Ошский рынок...)."""
        return tuple(self._trap_names.get(_compact(name), ()))

    def context_of(self, place: Place | str) -> tuple[ContextEntry, ...]:
        """The minority groups recorded for a place, with share, year and source."""
        return self._context.get(place if isinstance(place, str) else place.id, ())

    def rollup(self, place: Place) -> Rollup:
        """District, region and country of a place."""
        return Rollup(self.districts.get(place.district), self.regions.get(place.region), place.country)

    def neighbours(self, place: Place, radius_km: float = 25.0) -> tuple[Place, ...]:
        """Other places within ``radius_km`` of ``place`` (haversine), across borders, nearest first.

        The grid of places is built on the first call and each answer is kept, so repeated calls are lookups."""
        radius = float(radius_km)
        cached = self._neighbours.get((place.id, radius))
        if cached is not None:
            return cached
        if self._grid is None:
            self._grid = {}
            for other in self._places:
                self._grid.setdefault(_cell(other.lat, other.lon), []).append(other)
        dlat = radius / 111.0
        dlon = radius / max(1.0, 111.0 * math.cos(math.radians(place.lat)))
        lo_r, lo_c = _cell(place.lat - dlat, place.lon - dlon)
        hi_r, hi_c = _cell(place.lat + dlat, place.lon + dlon)
        found = []
        for row in range(lo_r, hi_r + 1):
            for col in range(lo_c, hi_c + 1):
                for other in self._grid.get((row, col), ()):
                    km = distance_km(place.lat, place.lon, other.lat, other.lon)
                    if other.id != place.id and km <= radius:
                        found.append((km, other.id, other))
        result = tuple(other for _, _, other in sorted(found, key=lambda item: item[:2]))
        self._neighbours[(place.id, radius)] = result
        return result


_ADJECTIVE_ENDINGS = ("ский", "ская", "ское", "ские", "цкий", "цкая", "ый", "ий", "ой", "ая", "ое", "ые", "ие")


def _stem(word: str) -> str:
    """ "кордайский" -> "кордайск", "область" -> "област", "ауданы" -> "аудан", "район" -> "район"."""
    for ending in _ADJECTIVE_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: len(word) - len(ending) + (2 if ending[0] in "сц" else 0)]
    return word.rstrip("аеиоуыэюяйь")


def _area_patterns(areas: Iterable[Area]) -> dict[str, tuple[tuple[tuple[tuple[str, bool], ...], str], ...]]:
    """Name patterns of every area, (stem, exact) per word, indexed by the first three letters of the first word."""
    patterns: dict[str, set[tuple[tuple[tuple[str, bool], ...], str]]] = {}
    for area in areas:
        for name in {name_key(n) for n in (*area.names, *area.former_names)} - {""}:
            words = name.split()
            pattern = tuple((_stem(w), False) if len(_stem(w)) >= 3 else (w, True) for w in words)
            patterns.setdefault(words[0][:3], set()).add((pattern, area.id))
    return {k: tuple(sorted(v)) for k, v in patterns.items()}


def _word_meets(word: str, stem: str, exact: bool) -> bool:
    if exact or word == stem:
        return word == stem
    return word.startswith(stem) and len(word) - len(stem) <= 5 and word[len(stem) :].isalpha()


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEGREES), math.floor(lon / _CELL_DEGREES)


def _index(items: Iterable[tuple[_T, tuple[str, ...]]]) -> dict[str, tuple[_T, ...]]:
    index: dict[str, list[_T]] = {}
    for item, names in items:
        for key in {_compact(n) for n in names} - {""}:
            index.setdefault(key, []).append(item)
    return {k: tuple(v) for k, v in index.items()}


# --- reading the data files -------------------------------------------------------------------------------------

PLACES_COLUMNS = {
    "geonames.tsv": (
        "geonameid",
        "name",
        "names",
        "lat",
        "lon",
        "population",
        "country",
        "admin1",
        "region",
        "region_name",
        "region_basis",
    ),
    "villages.tsv": (
        "id",
        "kind",
        "name_en",
        "name_ru",
        "name_local",
        "latin",
        "variants",
        "former_names",
        "country",
        "region",
        "district",
        "lat",
        "lon",
        "population",
        "population_year",
        "geonameid",
        "source",
        "note",
    ),
    "regions.tsv": ("id", "country", "admin1", "name_en", "name_ru", "name_local", "aliases", "former_names"),
    "districts.tsv": (
        "id",
        "region",
        "name_en",
        "name_ru",
        "name_local",
        "aliases",
        "former_names",
        "centre",
        "source",
    ),
    "context.tsv": ("place", "group", "share", "year", "source", "note"),
    "traps.tsv": ("name", "kind", "where", "confused_with", "note", "source"),
}


@dataclass(frozen=True, slots=True)
class _Row:
    file: str
    line: int
    fields: dict[str, str]

    def fail(self, reason: str) -> ConfigError:
        return ConfigError("gazetteer_invalid", f"data/places/{self.file}, line {self.line}: {reason}")

    def text(self, column: str, *, required: bool = False) -> str:
        value = self.fields[column].strip()
        if required and not value:
            raise self.fail(f"{column} is empty")
        return value

    def split(self, column: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in self.fields[column].split(";") if v.strip())

    def number(self, column: str, low: float, high: float) -> float:
        raw = self.text(column, required=True)
        try:
            value = float(raw)
        except ValueError:
            raise self.fail(f"{column} {raw!r} is not a number") from None
        if not low <= value <= high:
            raise self.fail(f"{column} {value} is outside {low}..{high}")
        return value

    def whole(self, column: str) -> int | None:
        raw = self.text(column)
        if not raw:
            return None
        if not raw.isdigit():
            raise self.fail(f"{column} {raw!r} is not a whole number")
        return int(raw)


def _rows(directory: Traversable, file: str) -> list[_Row]:
    expected = PLACES_COLUMNS[file]
    try:
        text = directory.joinpath(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("gazetteer_unreadable", f"data/places/{file}: cannot be read: {exc}") from exc
    rows: list[_Row] = []
    header: tuple[str, ...] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if header is None:
            header = tuple(c.strip() for c in cells)
            if header != expected:
                raise ConfigError(
                    "gazetteer_invalid",
                    f"data/places/{file}, line {number}: header {list(header)} is not {list(expected)}",
                )
            continue
        if len(cells) != len(expected):
            raise ConfigError(
                "gazetteer_invalid",
                f"data/places/{file}, line {number}: {len(cells)} columns, expected {len(expected)}",
            )
        rows.append(_Row(file, number, dict(zip(expected, cells, strict=True))))
    if header is None:
        raise ConfigError("gazetteer_invalid", f"data/places/{file}: no header line")
    return rows


def _unique(names: Iterable[str], *, exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """Names in order without exact repeats (ignoring case), and without those that fold to an excluded name.

    Spellings that fold to the same key stay apart ("Кордай" and "Қордай" are both kept): ``names`` is meant to
    show every spelling in every script."""
    excluded = {_compact(n) for n in exclude}
    seen: set[str] = set()
    out = []
    for name in (n.strip() for n in names):
        if name and name.casefold() not in seen and _compact(name) not in excluded:
            seen.add(name.casefold())
            out.append(name)
    return tuple(out)


def _geonames_kind(population: int | None) -> str:
    if population is not None and population >= 100_000:
        return "city"
    if population is not None and population >= 10_000:
        return "town"
    return "settlement"


def read_gazetteer(directory: Traversable) -> Gazetteer:
    """Read and check the data files in ``directory`` (uncached; ``load_gazetteer`` is the cached entry point)."""
    regions: dict[str, Area] = {}
    admin1: dict[tuple[str, str], str] = {}
    for row in _rows(directory, "regions.tsv"):
        area_id, country = row.text("id", required=True), row.text("country", required=True)
        if country not in COUNTRIES:
            raise row.fail(f"country {country!r} is not KZ or KG")
        if area_id in regions:
            raise row.fail(f"region id {area_id!r} is used twice")
        name = row.text("name_en", required=True)
        names = (name, row.text("name_ru", required=True), row.text("name_local", required=True), *row.split("aliases"))
        regions[area_id] = Area(
            area_id,
            "region",
            country,
            area_id,
            name,
            _unique(names),
            _unique(row.split("former_names"), exclude=names),
            "",
            "regions.tsv",
        )
        admin1[(country, row.text("admin1", required=True))] = area_id

    districts: dict[str, Area] = {}
    district_rows = _rows(directory, "districts.tsv")
    for row in district_rows:
        area_id, region = row.text("id", required=True), row.text("region", required=True)
        if region not in regions:
            raise row.fail(f"region {region!r} is not in regions.tsv")
        if area_id in districts or area_id in regions:
            raise row.fail(f"area id {area_id!r} is used twice")
        name = row.text("name_en", required=True)
        names = (name, row.text("name_ru", required=True), row.text("name_local", required=True), *row.split("aliases"))
        districts[area_id] = Area(
            area_id,
            "district",
            regions[region].country,
            region,
            name,
            _unique(names),
            _unique(row.split("former_names"), exclude=names),
            row.text("centre"),
            row.text("source", required=True),
        )

    geonames: dict[int, Place] = {}
    for row in _rows(directory, "geonames.tsv"):
        gid = row.whole("geonameid")
        if gid is None:
            raise row.fail("geonameid is empty")
        country = row.text("country", required=True)
        region_id = admin1.get((country, row.text("admin1")))
        if region_id is None or region_id != row.text("region"):
            raise row.fail(f"admin1 {row.text('admin1')!r} of {country} does not match region {row.text('region')!r}")
        population = row.whole("population")
        geonames[gid] = Place(
            id=f"geonames-{gid}",
            kind=_geonames_kind(population),
            name=row.text("name", required=True),
            names=_unique((row.text("name"), *row.split("names"))),
            former_names=(),
            country=country,
            region=region_id,
            district="",
            lat=row.number("lat", -90, 90),
            lon=row.number("lon", -180, 180),
            population=population,
            source="GeoNames cities500 (CC BY 4.0)",
            geonameid=gid,
        )

    curated: list[Place] = []
    replaced: set[int] = set()
    for row in _rows(directory, "villages.tsv"):
        curated.append(_curated_place(row, regions, districts, geonames, replaced))

    context_rows, trap_rows = _rows(directory, "context.tsv"), _rows(directory, "traps.tsv")
    context = [_context_entry(row) for row in context_rows]
    traps = [_trap(row) for row in trap_rows]

    places = [*curated, *(p for gid, p in geonames.items() if gid not in replaced)]
    ids: set[str] = set()
    for place in places:
        if place.id in ids:
            raise ConfigError("gazetteer_invalid", f"data/places/villages.tsv: id {place.id!r} is used twice")
        ids.add(place.id)
    groups: dict[str, list[str]] = {}
    for entry, row in zip(context, context_rows, strict=True):
        if entry.place not in ids:
            raise row.fail(f"place {entry.place!r} is not in the gazetteer")
        groups.setdefault(entry.place, []).append(entry.group)
    places = [_with_groups(p, groups.get(p.id, ())) for p in places]
    area_ids = set(regions) | set(districts)
    for trap, row in zip(traps, trap_rows, strict=True):
        for ref in (trap.where, *trap.confused_with):
            if ref and ref not in ids and ref not in area_ids:
                raise row.fail(f"{ref!r} is neither a place nor an area id")
    for district, row in zip(districts.values(), district_rows, strict=True):
        if district.centre and district.centre not in ids:
            raise row.fail(f"centre {district.centre!r} is not a place id")
    return Gazetteer(places, regions.values(), districts.values(), context, traps)


def _curated_place(
    row: _Row,
    regions: Mapping[str, Area],
    districts: Mapping[str, Area],
    geonames: Mapping[int, Place],
    replaced: set[int],
) -> Place:
    place_id, kind = row.text("id", required=True), row.text("kind", required=True)
    if kind not in PLACE_KINDS:
        raise row.fail(f"kind {kind!r} is not one of {sorted(PLACE_KINDS)}")
    country, region, district = row.text("country"), row.text("region"), row.text("district")
    if region not in regions:
        raise row.fail(f"region {region!r} is not in regions.tsv")
    if regions[region].country != country:
        raise row.fail(f"region {region!r} is not in country {country!r}")
    if district and (district not in districts or districts[district].region != region):
        raise row.fail(f"district {district!r} is not a district of {region!r} in districts.tsv")
    source = row.text("source", required=True)
    gid = row.whole("geonameid")
    base: Place | None = None
    if gid is not None:
        base = geonames.get(gid)
        if base is None:
            raise row.fail(f"geonameid {gid} is not in geonames.tsv")
        if gid in replaced:
            raise row.fail(f"geonameid {gid} is replaced by two rows")
        replaced.add(gid)
    name = row.text("name_en", required=True)
    former = _unique(row.split("former_names"))
    own = (
        name,
        row.text("name_ru", required=True),
        row.text("name_local"),
        *row.split("latin"),
        *row.split("variants"),
    )
    names = _unique((*own, *(base.names if base else ())), exclude=former)
    if base is not None and not row.text("lat"):
        lat, lon = base.lat, base.lon
    else:
        lat, lon = row.number("lat", -90, 90), row.number("lon", -180, 180)
    population = row.whole("population")
    if population is None and base is not None:
        population = base.population
    return Place(
        id=place_id,
        kind=kind,
        name=name,
        names=names,
        former_names=former,
        country=country,
        region=region,
        district=district,
        lat=lat,
        lon=lon,
        population=population,
        source=source,
        geonameid=gid,
        note=row.text("note"),
    )


def _context_entry(row: _Row) -> ContextEntry:
    group = row.text("group", required=True)
    if group not in GROUPS:
        raise row.fail(f"group {group!r} is not one of {sorted(GROUPS)}")
    raw = row.text("share", required=True)
    share: float | None = None
    label = raw
    if raw not in SHARE_LABELS:
        share = row.number("share", 0.0, 1.0)
        label = "majority" if share > 0.5 else "significant"
    year = row.whole("year")
    return ContextEntry(row.text("place", required=True), group, share, label, year, row.text("source", required=True))


def _trap(row: _Row) -> Trap:
    kind = row.text("kind", required=True)
    if kind not in TRAP_KINDS:
        raise row.fail(f"kind {kind!r} is not one of {sorted(TRAP_KINDS)}")
    return Trap(
        row.text("name", required=True),
        kind,
        row.text("where"),
        row.split("confused_with"),
        row.text("note", required=True),
        row.text("source", required=True),
    )


def _with_groups(place: Place, groups: Iterable[str]) -> Place:
    ordered = tuple(dict.fromkeys(groups))
    return replace(place, context=ordered) if ordered else place


@cache
def load_gazetteer() -> Gazetteer:
    """The gazetteer from the data files shipped with Flashpoint, read once per process."""
    return read_gazetteer(resources.files("flashpoint").joinpath("data", "places"))
