"""Place extraction: word forms in four languages, roles, traps, disambiguation, junk."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashpoint.places.extract import PlaceResolver
from flashpoint.places.gazetteer import load_gazetteer
from flashpoint.text.normalise import normalise_for_matching


@functools.cache
def shared_resolver() -> PlaceResolver:
    return PlaceResolver(load_gazetteer())


@pytest.fixture
def resolver() -> PlaceResolver:
    return shared_resolver()


def names(resolver: PlaceResolver, text: str, channel: str | None = None) -> list[str]:
    return [r.name for r in resolver.resolve(normalise_for_matching(text), channel)]


@pytest.mark.parametrize(
    "text",
    [
        "все едем в Масанчи",
        "в масанчи опять неспокойно",
        "Масаншыда жиналыс болады",
        "Бәріміз Масаншыға барайық!",
        "Масанчиге баралы",
        "from Masanchi with love",
        "masanshy auylynda",
        "с. Масанчи Кордайского района",
    ],
)
def test_masanchi_in_every_form(resolver: PlaceResolver, text: str) -> None:
    assert names(resolver, text)[:1] == ["Masanchi"], text


def test_russian_declension_of_a_name_ending_in_i_kratkoe(resolver: PlaceResolver) -> None:
    assert names(resolver, "из Кордая звонили")[:1] == ["Korday"]
    assert names(resolver, "Қордайға жиналайық")[:1] == ["Korday"]


def test_former_soviet_names(resolver: PlaceResolver) -> None:
    assert names(resolver, "в Георгиевке всё спокойно")[:1] == ["Korday"]
    assert names(resolver, "Пржевальск, 1985 год")[:1] == ["Karakol"]


def test_a_street_named_after_a_village_is_not_the_village(resolver: PlaceResolver) -> None:
    assert "Masanchi" not in names(resolver, "пробка на ул. Масанчи")
    assert "Masanchi" not in names(resolver, "Масанчи көшесінде жол жөндеу")


def test_the_scene_comes_before_the_origin(resolver: PlaceResolver) -> None:
    refs = resolver.resolve(normalise_for_matching("масанчинские ребята приехали в Токмок"))
    assert [r.role for r in refs][:1] == ["scene"] and refs[0].name.startswith("Tokmo")
    assert any(r.role == "origin" and r.name == "Masanchi" for r in refs)


def test_spans_point_at_the_mention(resolver: PlaceResolver) -> None:
    text = normalise_for_matching("Бәріміз Масаншыға барайық")
    (ref,) = resolver.resolve(text)
    assert text[ref.span[0] : ref.span[1]] == "масаншыға" == ref.text
    assert ref.district == "Korday District" or "Korday" in ref.district
    assert 42 < ref.lat < 44 and 74 < ref.lon < 76


def test_words_that_only_contain_a_name_are_not_places(resolver: PlaceResolver) -> None:
    assert names(resolver, "погода хорошая, едем на рыбалку") == []


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_list(text: str) -> None:
    assert isinstance(shared_resolver().resolve(text), list)
