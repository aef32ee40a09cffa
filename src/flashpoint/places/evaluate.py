"""Top-1 accuracy of place resolution against a labelled set (``tests/data/places/eval.tsv``).

The gold of a text is ``Name|CC|District`` entries separated by ``;``, the scene first, or ``-``
when it names no settlement. A case is right when the first place the resolver returns is the
first gold settlement (same name among the place's spellings, country, and district when given),
or when both are empty.

Example:
    >>> case = GoldCase("1", "ru", "в Масанчи", (("Masanchi", "KZ", "Korday"),), "", "dev")
    >>> case.expects_nothing
    False
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flashpoint.errors import ConfigError
from flashpoint.places.gazetteer import Gazetteer, Place


@dataclass(frozen=True, slots=True)
class GoldCase:
    case_id: str
    language: str
    text: str
    gold: tuple[tuple[str, str, str], ...]  # (name, country, district)
    note: str
    split: str = "dev"  # every fourth case is "heldout": the resolver was not tuned on it

    @property
    def expects_nothing(self) -> bool:
        return not self.gold


@dataclass
class PlacesReport:
    correct: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # id, expected, got

    def accuracy(self, key: str = "all") -> float:
        return self.correct[key] / self.total[key] if self.total[key] else 0.0

    def as_value(self) -> dict[str, Any]:
        return {
            key: {"correct": self.correct[key], "total": self.total[key], "accuracy": round(self.accuracy(key), 4)}
            for key in sorted(self.total)
        }


def read_gold(path: Path) -> list[GoldCase]:
    """The labelled cases; a malformed line is an error naming the file and line."""
    cases: list[GoldCase] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) < 4:
            raise ConfigError("bad_gold", f"{path}:{number}: expected id, language, text, gold[, note]")
        case_id, language, text, gold = cells[:4]
        if case_id == "id":
            continue  # a header row
        entries = []
        for entry in gold.split(";") if gold.strip() != "-" else ():
            parts = [p.strip() for p in entry.split("|")]
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise ConfigError("bad_gold", f"{path}:{number}: gold entry {entry!r} is not Name|CC|District")
            entries.append((parts[0], parts[1], parts[2]))
        split = "heldout" if len(cases) % 4 == 3 else "dev"
        cases.append(GoldCase(case_id, language, text, tuple(entries), cells[4] if len(cells) > 4 else "", split))
    return cases


def matches(place_id: str, gold: tuple[str, str, str], gazetteer: Gazetteer) -> bool:
    """Whether the resolved place is the gold settlement."""
    place: Place | None = gazetteer.by_id.get(place_id)
    if place is None:
        return False
    name, country, district = gold
    spellings = {s.lower() for s in (place.name, *place.names, *place.former_names)}
    if name.lower().replace("-", " ") not in {s.replace("-", " ") for s in spellings}:
        return False
    if place.country != country:
        return False
    area = gazetteer.area(place.district) if place.district else None
    if not district or area is None:
        return True  # the gold names no district, or the gazetteer knows none for this place (GeoNames towns)
    area_names = {_bare(n) for n in (area.name, *area.names, *area.former_names)}
    return _bare(district) in area_names


def _bare(name: str) -> str:
    """A district's name without "District", "район", "ауданы" and hyphens, lowercase."""
    words = name.lower().replace("-", " ").split()
    return " ".join(w for w in words if w not in _AREA_WORDS)


_AREA_WORDS = frozenset({"district", "region", "район", "ауданы", "району", "oblast", "область", "облысы"})


def evaluate(cases: Sequence[GoldCase], resolve: Callable[[GoldCase], list[str]], gazetteer: Gazetteer) -> PlacesReport:
    """Resolve every case (``resolve`` gives the place ids found, best first); tally top-1 accuracy
    overall, per language, and for traps (cases with a note)."""
    report = PlacesReport()
    for case in cases:
        refs = resolve(case)
        right = not refs if case.expects_nothing else bool(refs) and matches(refs[0], case.gold[0], gazetteer)
        keys = ["all", f"language:{case.language}", f"split:{case.split}"]
        if "trap" in case.note:
            keys.append("traps")
        for key in keys:
            report.total[key] += 1
            report.correct[key] += right
        if not right:
            expected = "|".join(case.gold[0]) if case.gold else "-"
            report.failures.append((case.case_id, expected, refs[0] if refs else "-"))
    return report
