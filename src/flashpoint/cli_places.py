"""`flashpoint places find TEXT` and `flashpoint places show NAME`: the gazetteer for analysts.

Example:
    >>> from click.testing import CliRunner
    >>> result = CliRunner().invoke(places, ["find", "--json", "все едем в Масанчи"])
    >>> import json; json.loads(result.output)[0]["name"]
    'Masanchi'
"""

from __future__ import annotations

import click
import orjson
from rich.console import Console
from rich.table import Table

from flashpoint.places.extract import PlaceResolver
from flashpoint.places.gazetteer import Place, load_gazetteer
from flashpoint.text.normalise import normalise_for_matching

out = Console()


@click.group()
def places() -> None:
    """Find settlements in text, and look them up in the gazetteer."""


@places.command("find")
@click.argument("text")
@click.option("--channel", help="The channel the text came from (its home area helps to decide).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def places_find(text: str, channel: str | None, as_json: bool) -> None:
    """The settlements TEXT names, with confidence, role (scene, origin, mention) and span."""
    refs = PlaceResolver(load_gazetteer()).resolve(normalise_for_matching(text), channel)
    if as_json:
        out.print_json(orjson.dumps([r.as_value() for r in refs]).decode())
        return
    table = Table(title=f"{len(refs)} place(s)")
    for column in ("name", "id", "district", "region", "country", "role", "confidence", "text", "other candidates"):
        table.add_column(column, overflow="fold")
    for r in refs:
        table.add_row(
            r.name, r.place_id, r.district, r.region, r.country, r.role, f"{r.confidence:.2f}", r.text,
            ", ".join(r.alternatives),
        )  # fmt: skip
    out.print(table)


@places.command("show")
@click.argument("name")
@click.option("--radius", type=float, default=25.0, show_default=True, help="Neighbours within this many km.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def places_show(name: str, radius: float, as_json: bool) -> None:
    """Every settlement called NAME (any spelling, script or former name, or an id), with its names,
    district, region, coordinates, population, minorities, source and neighbours."""
    gazetteer = load_gazetteer()
    found = [gazetteer.by_id[name]] if name in gazetteer.by_id else gazetteer.candidates(name)
    if not found:
        raise click.ClickException(f"no settlement called {name!r} in the gazetteer")
    shown = [_describe(p, [n.id for n in gazetteer.neighbours(p, radius)]) for p in found]
    if as_json:
        out.print_json(orjson.dumps(shown).decode())
        return
    for item in shown:
        table = Table(title=f"{item['name']} ({item['id']})", show_header=False)
        for key, value in item.items():
            text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            table.add_row(key, text)
        out.print(table)


def _describe(place: Place, neighbours: list[str]) -> dict[str, object]:
    return {
        "id": place.id,
        "name": place.name,
        "kind": place.kind,
        "names": list(place.names),
        "former_names": list(place.former_names),
        "country": place.country,
        "region": place.region,
        "district": place.district,
        "lat": place.lat,
        "lon": place.lon,
        "population": place.population,
        "minorities": list(place.context),
        "source": place.source,
        "neighbours": neighbours,
    }
