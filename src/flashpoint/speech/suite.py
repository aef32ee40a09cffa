"""A HateCheck-style functional suite: what a dangerous-speech detector gets right and wrong, per kind
of message and per language (ru, kk, ky, en).

Why: one accuracy figure hides the failures that matter. A detector that flags every message naming
Dungans scores well on threats and fails on news reports, fact-checks and counter-speech, the very
messages that calm a crisis; one that looks for swear words misses "they killed our elder, everyone
to Masanchi", which has none. Following HateCheck (Röttger et al., ACL 2021), the suite tests each
kind of message (a *functionality*: dehumanisation, mobilisation, fact-check, reclaimed slur...)
separately, with cases expanded from templates over 14 target groups, places and names, written per
language with its case endings and vowel harmony. No labelled Kazakh or Kyrgyz set exists elsewhere.

The data lives in ``flashpoint/data/speech/suite`` (its README.md gives the method, format and
licence); ``load_suite(path)`` reads a user's directory of the same shape instead. ``evaluate``
runs any predictor ``predict(texts, language) -> flags`` (True = dangerous) and ``report_markdown``
/ ``report_json`` format the result. Errors in the data name the file, the line and the reason.

Example:
    >>> suite = load_suite()
    >>> len(suite.functionalities) >= 25, suite.languages
    (True, ('ru', 'kk', 'ky', 'en'))
    >>> flag_nothing = lambda texts, language: [False] * len(texts)
    >>> report = evaluate(suite.cases, flag_nothing)
    >>> report.by_label["not_dangerous"].accuracy, report.by_label["dangerous"].accuracy
    (1.0, 0.0)
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

from flashpoint.errors import ConfigError

__all__ = [
    "DANGEROUS",
    "NOT_DANGEROUS",
    "Functionality",
    "Predict",
    "Score",
    "Suite",
    "SuiteCase",
    "SuiteReport",
    "disguise",
    "evaluate",
    "load_suite",
    "report_json",
    "report_markdown",
]

Label = Literal["dangerous", "not_dangerous"]
DANGEROUS: Label = "dangerous"
NOT_DANGEROUS: Label = "not_dangerous"
LABELS: tuple[Label, ...] = (DANGEROUS, NOT_DANGEROUS)
SPLITS = ("dev", "heldout")
STYLES = ("homoglyph", "leet", "spaced", "dotted")
# Forms that only some fillers have (a slur is attested for some groups only): a template that uses
# one expands over the fillers that have it. Any other form must exist for every filler of its kind.
OPTIONAL_FORM_PREFIX = "slur"
PREFERRED_LANGUAGES = ("ru", "kk", "ky", "en")

Predict = Callable[[Sequence[str], str], Sequence[bool]]
Directory = Traversable | Path
# kind ("group", "place", "person", ...) -> language -> filler id -> form -> text
Fillers = dict[str, dict[str, dict[str, dict[str, str]]]]

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDER_BODY = re.compile(
    r"(?P<kind>[a-z][a-z_]*)(?:=(?P<ident>[a-z0-9_]+))?\.(?P<form>[a-z0-9_]+)(?::(?P<style>[a-z]+))?"
)
_IDENT = re.compile(r"[a-z0-9_]+")
_TEMPLATE_FILE = re.compile(r"[a-z]{2,3}\.tsv")


@dataclass(frozen=True)
class Functionality:
    """One kind of message the suite tests, with its gold label and the contrasts to keep apart."""

    id: str
    label: Label
    description: str
    hatecheck: str
    contrasts: tuple[str, ...]


@dataclass(frozen=True)
class SuiteCase:
    """One test message. ``target`` is the group the template was filled with (None if no group)."""

    case_id: str
    language: str
    functionality: str
    label: Label
    text: str
    target: str | None
    template_id: str
    split: str


@dataclass(frozen=True)
class Suite:
    """The functionalities and every expanded case, in file order (language, then template)."""

    functionalities: tuple[Functionality, ...]
    cases: tuple[SuiteCase, ...]
    languages: tuple[str, ...]
    source: str

    def functionality(self, functionality_id: str) -> Functionality:
        """The functionality with this id (KeyError if unknown)."""
        for functionality in self.functionalities:
            if functionality.id == functionality_id:
                return functionality
        raise KeyError(functionality_id)

    def select(
        self, *, language: str | None = None, split: str | None = None, functionality: str | None = None
    ) -> tuple[SuiteCase, ...]:
        """The cases that match every filter given."""
        return tuple(
            case
            for case in self.cases
            if (language is None or case.language == language)
            and (split is None or case.split == split)
            and (functionality is None or case.functionality == functionality)
        )


@dataclass(frozen=True)
class Score:
    """Correct out of total; ``accuracy`` is 0.0 when there is nothing to score."""

    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class SuiteReport:
    """Accuracy of one predictor on a set of cases, sliced every way the README reports it."""

    overall: Score
    by_language: Mapping[str, Score]
    by_split: Mapping[str, Score]
    by_label: Mapping[str, Score]
    by_functionality: Mapping[str, Score]
    by_functionality_language: Mapping[tuple[str, str], Score]
    by_language_split: Mapping[tuple[str, str], Score]
    labels: Mapping[str, Label]
    failures: tuple[str, ...]

    def macro_accuracy(self, language: str | None = None) -> float:
        """The mean of the functionalities' accuracies (in one language, or overall), so that a
        functionality with 500 cases weighs no more than one with 40, as HateCheck reports."""
        if language is None:
            scores = [score.accuracy for score in self.by_functionality.values()]
        else:
            scores = [score.accuracy for (_, lang), score in self.by_functionality_language.items() if lang == language]
        return sum(scores) / len(scores) if scores else 0.0


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    where: str
    line: int
    cells: tuple[str, ...]

    def error(self, code: str, reason: str) -> ConfigError:
        return ConfigError(code, f"{self.where}, line {self.line}: {reason}")


def _read_table(
    directory: Directory, name: str, columns: tuple[str, ...], *, required: bool = True, may_be_empty: int = 0
) -> list[_Row]:
    """Rows of a TSV file after its header; '#' lines and blank lines are skipped.

    The last ``may_be_empty`` columns may be empty; every other cell must have text.
    """
    source = directory.joinpath(name)
    where = str(source)
    if not source.is_file():
        if required:
            raise ConfigError("suite_missing_file", f"{where}: the suite directory has no {name}")
        return []
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("suite_unreadable", f"{where}: cannot be read as UTF-8 text ({exc})") from exc
    rows: list[_Row] = []
    header_seen = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        cells = tuple(cell.strip() for cell in raw.split("\t"))
        row = _Row(where, number, cells)
        if not header_seen:
            if cells != columns:
                raise row.error(
                    "suite_bad_header", f"the header must be the columns {'|'.join(columns)}, not {'|'.join(cells)}"
                )
            header_seen = True
            continue
        if len(cells) != len(columns):
            raise row.error(
                "suite_bad_row",
                f"expected {len(columns)} tab-separated columns ({', '.join(columns)}), found {len(cells)}",
            )
        empty = [columns[i] for i, cell in enumerate(cells[: len(columns) - may_be_empty]) if not cell]
        if empty:
            raise row.error("suite_bad_row", f"empty {', '.join(empty)}")
        rows.append(row)
    return rows


def _load_functionalities(directory: Directory) -> tuple[Functionality, ...]:
    rows = _read_table(
        directory, "functionalities.tsv", ("id", "label", "description", "hatecheck", "contrasts"), may_be_empty=1
    )
    found: dict[str, tuple[Functionality, _Row]] = {}
    for row in rows:
        ident, label, description, hatecheck, contrasts = row.cells
        if not _IDENT.fullmatch(ident):
            raise row.error("suite_bad_id", f"functionality id {ident!r} must be lowercase letters, digits and _")
        if ident in found:
            raise row.error("suite_duplicate", f"functionality {ident!r} is defined twice")
        if label not in LABELS:
            raise row.error("suite_bad_label", f"label {label!r} is not one of {', '.join(LABELS)}")
        names = tuple(name.strip() for name in contrasts.split(",") if name.strip())
        found[ident] = (Functionality(ident, _as_label(label), description, hatecheck, names), row)
    for functionality, row in found.values():
        for name in functionality.contrasts:
            if name not in found:
                raise row.error("suite_unknown_functionality", f"contrast {name!r} is not a functionality")
            if found[name][0].label == functionality.label:
                raise row.error("suite_bad_contrast", f"contrast {name!r} has the same label ({functionality.label})")
    return tuple(functionality for functionality, _ in found.values())


def _as_label(label: str) -> Label:
    return DANGEROUS if label == DANGEROUS else NOT_DANGEROUS


def _load_fillers(directory: Directory) -> Fillers:
    """Groups, places and the other fillers, all keyed the same way."""
    fillers: Fillers = {}
    sources: list[tuple[str, list[_Row]]] = [
        ("group", _read_table(directory, "groups.tsv", ("group", "language", "form", "text"))),
        ("place", _read_table(directory, "places.tsv", ("place", "language", "form", "text"), required=False)),
    ]
    extra = _read_table(directory, "fillers.tsv", ("kind", "id", "language", "form", "text"), required=False)
    for kind, rows in sources:
        for row in rows:
            _add_filler(fillers, kind, row, *row.cells)
    for row in extra:
        kind, *rest = row.cells
        if kind in ("group", "place") or not _IDENT.fullmatch(kind):
            raise row.error("suite_bad_kind", f"kind {kind!r}: groups and places have their own files; use a_z_ names")
        _add_filler(fillers, kind, row, *rest)
    return fillers


def _add_filler(fillers: Fillers, kind: str, row: _Row, ident: str, language: str, form: str, text: str) -> None:
    for what, value in (("id", ident), ("language", language), ("form", form)):
        if not _IDENT.fullmatch(value):
            raise row.error("suite_bad_id", f"{kind} {what} {value!r} must be lowercase letters, digits and _")
    forms = fillers.setdefault(kind, {}).setdefault(language, {}).setdefault(ident, {})
    if form in forms:
        raise row.error("suite_duplicate", f"{kind} {ident!r} has form {form!r} in {language} twice")
    if "{" in text or "}" in text:
        raise row.error("suite_bad_text", "a filler's text cannot contain { or }")
    forms[form] = text


def _load_styles(directory: Directory) -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {"homoglyph": {}, "leet": {}}
    for row in _read_table(
        directory, "obfuscation.tsv", ("style", "from", "to", "comment"), required=False, may_be_empty=1
    ):
        style, source, target, _ = row.cells
        if style not in tables:
            raise row.error("suite_bad_style", f"style {style!r} is not one of {', '.join(tables)}")
        if len(source) != 1:
            raise row.error("suite_bad_style", f"'from' must be one character, not {source!r}")
        tables[style][source] = target
    return tables


# --- expansion ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    span: str
    kind: str
    ident: str | None
    form: str
    style: str | None


def disguise(text: str, style: str, table: Mapping[str, str] | None = None) -> str:
    """``text`` written the way an evader would: spaced, dotted, or every second replaceable letter
    of each word swapped by ``table`` (homoglyph, leet).

    >>> disguise("дунгане", "homoglyph", {"а": "a", "е": "e"}), disguise("бить их", "dotted")
    ('дунгaне', 'б.и.т.ь и.х')
    """
    words = text.split(" ")
    if style == "spaced":
        return "  ".join(" ".join(word) for word in words)
    if style == "dotted":
        return " ".join(".".join(word) for word in words)
    swaps = table or {}
    disguised = []
    for word in words:
        seen = 0
        letters = []
        for char in word:
            if char in swaps:
                letters.append(swaps[char] if seen % 2 == 0 else char)
                seen += 1
            else:
                letters.append(char)
        disguised.append("".join(letters))
    return " ".join(disguised)


def _slots(row: _Row, template: str, fillers: Fillers) -> list[_Slot]:
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        raise row.error("suite_bad_placeholder", "unbalanced { or } in the template")
    slots = []
    for match in _PLACEHOLDER.finditer(template):
        body = _PLACEHOLDER_BODY.fullmatch(match.group(1))
        if body is None:
            raise row.error(
                "suite_bad_placeholder",
                f"{match.group(0)} is not of the form {{kind.form}}, {{kind=id.form}} or {{kind.form:style}}",
            )
        kind, style = body["kind"], body["style"]
        if kind not in fillers:
            raise row.error(
                "suite_unknown_placeholder",
                f"{match.group(0)}: unknown kind {kind!r} (known: {', '.join(sorted(fillers))})",
            )
        if style is not None and style not in STYLES:
            raise row.error(
                "suite_unknown_placeholder", f"{match.group(0)}: unknown style {style!r} (known: {', '.join(STYLES)})"
            )
        slots.append(_Slot(match.group(0), kind, body["ident"], body["form"], style))
    return slots


def _candidates(row: _Row, language: str, kind: str, slots: list[_Slot], fillers: Fillers) -> list[str]:
    """The filler ids of ``kind`` that this template expands over in ``language``."""
    table = fillers[kind].get(language, {})
    fixed = {slot.ident for slot in slots}
    if len(fixed) > 1:
        raise row.error(
            "suite_bad_placeholder", f"the {kind} placeholders name different {kind}s: {sorted(map(str, fixed))}"
        )
    ident = fixed.pop()
    if not table:
        raise row.error("suite_unknown_placeholder", f"{slots[0].span}: no {kind} has forms in language {language!r}")
    if ident is not None and ident not in table:
        raise row.error("suite_unknown_group", f"{slots[0].span}: unknown {kind} {ident!r} in language {language!r}")
    candidates = [ident] if ident is not None else list(table)
    for slot in slots:
        if slot.form.startswith(OPTIONAL_FORM_PREFIX) and ident is None:
            candidates = [c for c in candidates if slot.form in table[c]]
            continue
        missing = [c for c in candidates if slot.form not in table[c]]
        if missing:
            raise row.error(
                "suite_unknown_form",
                f"{slot.span}: form {slot.form!r} is missing for {kind} {', '.join(missing)} in {language!r}",
            )
    if not candidates:
        raise row.error("suite_unknown_form", f"no {kind} in {language!r} has the forms this template uses")
    return candidates


def _expand(
    row: _Row,
    language: str,
    functionality: Functionality,
    fillers: Fillers,
    styles: Mapping[str, Mapping[str, str]],
) -> list[SuiteCase]:
    _, template_id, split, template = row.cells
    slots = _slots(row, template, fillers)
    kinds = list(dict.fromkeys(slot.kind for slot in slots))
    choices = [_candidates(row, language, kind, [s for s in slots if s.kind == kind], fillers) for kind in kinds]
    for slot in slots:
        if slot.style is not None and slot.style in styles and not styles[slot.style]:
            raise row.error("suite_bad_style", f"{slot.span}: style {slot.style!r} needs rows in obfuscation.tsv")
    cases = []
    for combination in itertools.product(*choices):
        chosen = dict(zip(kinds, combination, strict=True))

        def fill(match: re.Match[str], chosen: dict[str, str] = chosen) -> str:
            slot = next(s for s in slots if s.span == match.group(0))
            text = fillers[slot.kind][language][chosen[slot.kind]][slot.form]
            return disguise(text, slot.style, styles.get(slot.style)) if slot.style else text

        cases.append(
            SuiteCase(
                case_id="/".join((language, template_id, *combination)),
                language=language,
                functionality=functionality.id,
                label=functionality.label,
                text=_PLACEHOLDER.sub(fill, template),
                target=chosen.get("group"),
                template_id=template_id,
                split=split,
            )
        )
    return cases


def _load_language(
    directory: Directory,
    name: str,
    functionalities: Mapping[str, Functionality],
    fillers: Fillers,
    styles: Mapping[str, Mapping[str, str]],
) -> list[SuiteCase]:
    language = name.removesuffix(".tsv")
    cases: list[SuiteCase] = []
    template_ids: set[str] = set()
    for row in _read_table(directory, name, ("functionality", "template_id", "split", "template")):
        functionality_id, template_id, split, _ = row.cells
        if functionality_id not in functionalities:
            raise row.error("suite_unknown_functionality", f"{functionality_id!r} is not in functionalities.tsv")
        if not re.fullmatch(r"[a-z0-9_.\-]+", template_id):
            raise row.error("suite_bad_id", f"template id {template_id!r} must be lowercase letters, digits, _ . -")
        if template_id in template_ids:
            raise row.error("suite_duplicate", f"template id {template_id!r} is used twice in {name}")
        template_ids.add(template_id)
        if split not in SPLITS:
            raise row.error("suite_bad_split", f"split {split!r} is not one of {', '.join(SPLITS)}")
        cases.extend(_expand(row, language, functionalities[functionality_id], fillers, styles))
    return cases


def _language_files(directory: Directory) -> list[str]:
    if not directory.is_dir():
        raise ConfigError("suite_missing_file", f"{directory}: no such suite directory")
    names = [entry.name for entry in directory.iterdir() if _TEMPLATE_FILE.fullmatch(entry.name)]
    if not names:
        raise ConfigError("suite_missing_file", f"{directory}: no template files (named like ru.tsv)")
    order = {f"{code}.tsv": i for i, code in enumerate(PREFERRED_LANGUAGES)}
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def _read_suite(directory: Directory) -> Suite:
    functionalities = _load_functionalities(directory)
    fillers = _load_fillers(directory)
    styles = _load_styles(directory)
    by_id = {functionality.id: functionality for functionality in functionalities}
    cases: list[SuiteCase] = []
    files = _language_files(directory)
    for name in files:
        cases.extend(_load_language(directory, name, by_id, fillers, styles))
    languages = tuple(name.removesuffix(".tsv") for name in files)
    return Suite(functionalities, tuple(cases), languages, str(directory))


@cache
def _packaged_suite() -> Suite:
    return _read_suite(resources.files("flashpoint").joinpath("data", "speech", "suite"))


def load_suite(path: Path | None = None) -> Suite:
    """The suite shipped with Flashpoint, or the one in the directory ``path`` (same file layout).

    Raises ConfigError naming the file, line and reason when a data file is wrong.
    """
    return _packaged_suite() if path is None else _read_suite(Path(path))


# --- evaluation ---------------------------------------------------------------------------------


def _tally(outcomes: Iterable[tuple[Any, bool]]) -> dict[Any, Score]:
    counts: dict[Any, list[int]] = {}
    for key, correct in outcomes:
        count = counts.setdefault(key, [0, 0])
        count[0] += int(correct)
        count[1] += 1
    return {key: Score(correct, total) for key, (correct, total) in counts.items()}


def evaluate(cases: Iterable[SuiteCase], predict: Predict) -> SuiteReport:
    """Run ``predict(texts, language)`` once per language (True = dangerous) and score every case.

    Raises ValueError when the predictor returns a different number of flags than it was given texts.
    """
    by_language: dict[str, list[SuiteCase]] = {}
    for case in cases:
        by_language.setdefault(case.language, []).append(case)
    outcomes: list[tuple[SuiteCase, bool]] = []
    for language, group in by_language.items():
        flags = list(predict([case.text for case in group], language))
        if len(flags) != len(group):
            raise ValueError(f"the predictor returned {len(flags)} flags for {len(group)} {language} texts")
        outcomes.extend(
            (case, bool(flag) == (case.label == DANGEROUS)) for case, flag in zip(group, flags, strict=True)
        )
    return SuiteReport(
        overall=_tally(("all", ok) for _, ok in outcomes).get("all", Score(0, 0)),
        by_language=_tally((case.language, ok) for case, ok in outcomes),
        by_split=_tally((case.split, ok) for case, ok in outcomes),
        by_label=_tally((case.label, ok) for case, ok in outcomes),
        by_functionality=_tally((case.functionality, ok) for case, ok in outcomes),
        by_functionality_language=_tally(((case.functionality, case.language), ok) for case, ok in outcomes),
        by_language_split=_tally(((case.language, case.split), ok) for case, ok in outcomes),
        labels={case.functionality: case.label for case, _ in outcomes},
        failures=tuple(case.case_id for case, ok in outcomes if not ok),
    )


# --- reports ------------------------------------------------------------------------------------


def _cell(score: Score | None) -> str:
    return "–" if score is None or not score.total else f"{100 * score.accuracy:.1f} ({score.total})"


def report_markdown(report: SuiteReport) -> str:
    """A table: one row per functionality (dangerous first), one column per language, then totals.

    Cells are accuracy in % with the number of cases in brackets; the last row is the unweighted mean
    of the functionalities' accuracies.
    """
    languages = list(report.by_language)
    header = ["functionality", "label", *languages, "all"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---", "---"] + ["---:"] * (len(languages) + 1)) + "|"]
    ordered = [f for f in report.by_functionality if report.labels[f] == DANGEROUS]
    ordered += [f for f in report.by_functionality if report.labels[f] != DANGEROUS]
    for functionality in ordered:
        cells = [_cell(report.by_functionality_language.get((functionality, lang))) for lang in languages]
        row = [functionality, report.labels[functionality], *cells, _cell(report.by_functionality[functionality])]
        lines.append("| " + " | ".join(row) + " |")
    label_rows = {label: {lang: [0, 0] for lang in languages} for label in LABELS}
    for (functionality, lang), score in report.by_functionality_language.items():
        tally = label_rows[report.labels[functionality]][lang]
        tally[0] += score.correct
        tally[1] += score.total
    for label in LABELS:
        cells = [_cell(Score(*label_rows[label][lang])) for lang in languages]
        lines.append(
            f"| **all {label.replace('_', ' ')}** | {label} | "
            + " | ".join(cells)
            + f" | {_cell(report.by_label.get(label))} |"
        )
    for split in SPLITS:
        cells = [_cell(report.by_language_split.get((lang, split))) for lang in languages]
        lines.append(f"| **{split}** | | " + " | ".join(cells) + f" | {_cell(report.by_split.get(split))} |")
    cells = [_cell(report.by_language[lang]) for lang in languages]
    lines.append("| **all** | | " + " | ".join(cells) + f" | {_cell(report.overall)} |")
    cells = [f"{100 * report.macro_accuracy(lang):.1f}" for lang in languages]
    lines.append("| **mean of functionalities** | | " + " | ".join(cells) + f" | {100 * report.macro_accuracy():.1f} |")
    return "\n".join(lines) + "\n"


def _score_json(score: Score) -> dict[str, Any]:
    return {
        "correct": score.correct,
        "total": score.total,
        "accuracy": round(score.accuracy, 4) if score.total else None,
    }


def report_json(report: SuiteReport) -> dict[str, Any]:
    """The report as plain JSON-ready data (dicts, lists, numbers, strings)."""
    functionalities: dict[str, Any] = {}
    for functionality, score in report.by_functionality.items():
        functionalities[functionality] = {
            "label": report.labels[functionality],
            "all": _score_json(score),
            "by_language": {
                lang: _score_json(s) for (f, lang), s in report.by_functionality_language.items() if f == functionality
            },
        }
    by_language_split: dict[str, dict[str, Any]] = {}
    for (lang, split), score in report.by_language_split.items():
        by_language_split.setdefault(lang, {})[split] = _score_json(score)
    return {
        "overall": _score_json(report.overall),
        "mean_of_functionalities": {
            "all": round(report.macro_accuracy(), 4),
            **{lang: round(report.macro_accuracy(lang), 4) for lang in report.by_language},
        },
        "by_language": {lang: _score_json(s) for lang, s in report.by_language.items()},
        "by_split": {split: _score_json(s) for split, s in report.by_split.items()},
        "by_label": {label: _score_json(s) for label, s in report.by_label.items()},
        "by_language_split": by_language_split,
        "by_functionality": functionalities,
        "failures": list(report.failures),
    }
