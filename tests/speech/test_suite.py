"""The functional suite: its data is complete and grammatical, evaluate() counts right, bad data is named."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import pytest

from flashpoint.errors import ConfigError
from flashpoint.speech.suite import (
    DANGEROUS,
    NOT_DANGEROUS,
    SuiteCase,
    disguise,
    evaluate,
    load_suite,
    report_json,
    report_markdown,
)

GROUPS = {
    "dungan", "kazakh", "uyghur", "uzbek", "russian", "kyrgyz", "tajik", "chinese", "chechen",
    "meskhetian_turk", "jew", "muslim", "christian", "migrant",
}  # fmt: skip
LANGUAGES = ("ru", "kk", "ky", "en")
SUITE_DIR = resources.files("flashpoint").joinpath("data", "speech", "suite")


def _forms(name: str, key_columns: int = 1) -> dict[tuple[str, ...], dict[str, str]]:
    """(kind?, id, language) -> form -> text, read straight from a data file."""
    table: dict[tuple[str, ...], dict[str, str]] = defaultdict(dict)
    lines = [line for line in SUITE_DIR.joinpath(name).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [line.split("\t") for line in lines if not line.startswith("#")][1:]
    for row in rows:
        *key, form, text = row
        table[tuple(key)][form] = text
    return table


# --- integrity ----------------------------------------------------------------------------------


def test_at_least_25_functionalities_with_both_labels() -> None:
    suite = load_suite()
    labels = Counter(f.label for f in suite.functionalities)
    assert len(suite.functionalities) >= 25
    assert labels[DANGEROUS] >= 10 and labels[NOT_DANGEROUS] >= 10
    assert suite.languages == LANGUAGES


def test_every_functionality_has_40_cases_and_3_templates_in_every_language() -> None:
    suite = load_suite()
    cases: Counter[tuple[str, str]] = Counter((c.functionality, c.language) for c in suite.cases)
    templates: dict[tuple[str, str], set[str]] = defaultdict(set)
    for case in suite.cases:
        templates[(case.functionality, case.language)].add(case.template_id)
    for functionality in suite.functionalities:
        for language in LANGUAGES:
            key = (functionality.id, language)
            assert cases[key] >= 40, key
            assert len(templates[key]) >= 3, key


def test_every_functionality_has_dev_and_heldout_templates_and_about_a_third_is_heldout() -> None:
    suite = load_suite()
    splits: dict[tuple[str, str], set[str]] = defaultdict(set)
    templates: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for case in suite.cases:
        splits[(case.functionality, case.language)].add(case.split)
        templates[case.split].add((case.language, case.template_id))
    assert all(found == {"dev", "heldout"} for found in splits.values()), [k for k, v in splits.items() if len(v) < 2]
    share = len(templates["heldout"]) / (len(templates["heldout"]) + len(templates["dev"]))
    assert 0.25 <= share <= 0.4


def test_every_placeholder_resolves_and_case_ids_are_unique() -> None:
    suite = load_suite()
    assert not [c.case_id for c in suite.cases if "{" in c.text or "}" in c.text or not c.text.strip()]
    assert len({c.case_id for c in suite.cases}) == len(suite.cases)
    by_id = {f.id: f for f in suite.functionalities}
    assert all(case.label == by_id[case.functionality].label for case in suite.cases)


def test_no_duplicate_texts_within_a_language() -> None:
    suite = load_suite()
    for language in LANGUAGES:
        texts = Counter(c.text for c in suite.select(language=language))
        assert [t for t, n in texts.items() if n > 1] == [], language


def test_each_dangerous_functionality_has_a_not_dangerous_contrast() -> None:
    suite = load_suite()
    by_id = {f.id: f for f in suite.functionalities}
    for functionality in suite.functionalities:
        if functionality.label == DANGEROUS:
            assert functionality.contrasts, functionality.id
            assert all(by_id[c].label == NOT_DANGEROUS for c in functionality.contrasts)
    contrasted = {c for f in suite.functionalities for c in f.contrasts}
    assert {f.id for f in suite.functionalities if f.label == NOT_DANGEROUS} - contrasted == set()


def test_every_group_appears_in_every_language() -> None:
    suite = load_suite()
    for language in LANGUAGES:
        targets = {c.target for c in suite.select(language=language)}
        assert targets >= GROUPS, (language, GROUPS - targets)
    assert {(key[0], key[1]) for key in _forms("groups.tsv")} >= {(g, lang) for g in GROUPS for lang in LANGUAGES}


def test_group_free_functionalities_have_no_target_and_group_ones_do() -> None:
    suite = load_suite()
    for case in suite.select(functionality="individual_abuse") + suite.select(functionality="non_protected_target"):
        assert case.target is None
    assert all(c.target in GROUPS for c in suite.select(functionality="dehumanisation"))


def test_obfuscated_cases_are_actually_disguised() -> None:
    suite = load_suite()
    mixed = re.compile(r"(?=\w*[a-zəɵ])(?=\w*[а-яёәғқңөұүһі])\w+", re.IGNORECASE)
    spaced = re.compile(r"(?:\w[ .]){3,}\w")
    leet = re.compile(r"\w[0-9@$]|[0-9@$]\w")
    for functionality, pattern in (
        ("obfuscation_homoglyph", mixed),
        ("obfuscation_spacing", spaced),
        ("obfuscation_leet", leet),
    ):
        undisguised = [c.case_id for c in suite.select(functionality=functionality) if not pattern.search(c.text)]
        assert undisguised == [], functionality


def test_kazakh_is_kazakh_and_kyrgyz_is_not_kazakh() -> None:
    suite = load_suite()
    kazakh_only = re.compile("[әғқұіһ]", re.IGNORECASE)
    kk_templates = {c.template_id: c.text for c in suite.select(language="kk")}
    with_letters = [t for t in kk_templates.values() if kazakh_only.search(t)]
    assert len(with_letters) / len(kk_templates) > 0.9
    assert [c.text for c in suite.select(language="ky") if kazakh_only.search(c.text)] == []


# --- grammar of the fillers ---------------------------------------------------------------------

KK_BACK, KK_FRONT = set("аоұы"), set("әеөүіэ")
VOWELS = set("аоұыәеөүіэиуюяё")
VOICELESS = set("кқптсшфхцчщ")
# Kyrgyz suffix vowels follow the stem's last vowel: (low, high) per vowel class.
KY_VOWELS = {"а": "аы", "ы": "аы", "у": "ау", "о": "оу", "е": "еи", "и": "еи", "э": "еи", "ө": "өү", "ү": "өү"}


def _kk_back(word: str) -> bool:
    for char in reversed(word):
        if char in KK_BACK or char in KK_FRONT:
            return char in KK_BACK
    raise AssertionError(word)


def _kk_plural(stem: str) -> str:
    last = stem[-1]
    consonant = "л" if last in VOWELS or last in "рй" else "д" if last in "лмнңзж" else "т"
    return stem + consonant + ("ар" if _kk_back(stem) else "ер")


def _pick(back: bool, back_suffix: str, front_suffix: str) -> str:
    return back_suffix if back else front_suffix


def _kk_plural_cases(plural: str) -> dict[str, str]:
    back = _kk_back(plural)

    def pick(b: str, f: str) -> str:
        return _pick(back, b, f)

    return {
        "acc_pl": plural + pick("ды", "ді"),
        "dat_pl": plural + pick("ға", "ге"),
        "gen_pl": plural + pick("дың", "дің"),
        "abl_pl": plural + pick("дан", "ден"),
        "loc_pl": plural + pick("да", "де"),
        "ins_pl": plural + "мен",
    }


def _kk_place_cases(name: str) -> dict[str, str]:
    word, last, back = name.lower(), name[-1], _kk_back(name.lower())

    def pick(b: str, f: str) -> str:
        return _pick(back, b, f)

    voiceless = last in VOICELESS
    dat = ("ке" if last == "к" else "қа" if last == "қ" else pick("қа", "ке")) if voiceless else pick("ға", "ге")
    gen = pick("тың", "тің") if voiceless else pick("ның", "нің") if last in VOWELS | set("мнң") else pick("дың", "дің")
    abl = pick("тан", "тен") if voiceless else pick("нан", "нен") if last in "мнң" else pick("дан", "ден")
    assert word
    return {
        "dat": name + dat,
        "loc": name + pick("та", "те") if voiceless else name + pick("да", "де"),
        "abl": name + abl,
        "gen": name + gen,
    }


def _ky_class(word: str) -> str:
    for char in reversed(word.lower()):
        if char in KY_VOWELS:
            return KY_VOWELS[char]
    raise AssertionError(word)


def _ky_plural(stem: str) -> str:
    last = stem[-1]
    consonant = "л" if last in VOWELS or last in "рй" else "т" if last in VOICELESS else "д"
    return stem + consonant + _ky_class(stem)[0] + "р"


def _ky_plural_cases(plural: str) -> dict[str, str]:
    low, high = _ky_class(plural)[0], _ky_class(plural)[1]
    return {
        "acc_pl": f"{plural}д{high}",
        "dat_pl": f"{plural}г{low}",
        "gen_pl": f"{plural}д{high}н",
        "abl_pl": f"{plural}д{low}н",
        "loc_pl": f"{plural}д{low}",
        "ins_pl": f"{plural} менен",
    }


def _ky_place_cases(name: str) -> dict[str, str]:
    low, high = _ky_class(name)[0], _ky_class(name)[1]
    last = name[-1]
    if last in VOICELESS:
        return {"dat": f"{name}к{low}", "loc": f"{name}т{low}", "abl": f"{name}т{low}н", "gen": f"{name}т{high}н"}
    first = "н" if last in VOWELS else "д"
    return {"dat": f"{name}г{low}", "loc": f"{name}д{low}", "abl": f"{name}д{low}н", "gen": f"{name}{first}{high}н"}


def _expected(expected: dict[str, str], forms: dict[str, str], keys: Sequence[str]) -> list[tuple[str, ...]]:
    return [(key, forms[key], expected[key]) for key in keys if key in forms and forms[key] != expected[key]]


@pytest.mark.parametrize("language", ["kk", "ky"])
def test_group_forms_follow_vowel_harmony_and_consonant_assimilation(language: str) -> None:
    plural_of, cases_of = (_kk_plural, _kk_plural_cases) if language == "kk" else (_ky_plural, _ky_plural_cases)
    wrong: list[tuple[str, ...]] = []
    checked = 0
    for (group, lang), forms in _forms("groups.tsv").items():
        if lang != language or group == "meskhetian_turk":  # a possessive phrase (ахыска түріктері), declined by hand
            continue
        if forms["nom_pl"] != plural_of(forms["sg"]):
            wrong.append((group, forms["nom_pl"], plural_of(forms["sg"])))
        wrong += [(group, *w) for w in _expected(cases_of(forms["nom_pl"]), forms, list(cases_of(forms["nom_pl"])))]
        if "slur_sg" in forms:
            if forms["slur_pl"] != plural_of(forms["slur_sg"]):
                wrong.append((group, forms["slur_pl"], plural_of(forms["slur_sg"])))
            if forms["slur_acc_pl"] != cases_of(forms["slur_pl"])["acc_pl"]:
                wrong.append((group, forms["slur_acc_pl"], cases_of(forms["slur_pl"])["acc_pl"]))
        checked += 1
    for (kind, ident, lang), forms in _forms("fillers.tsv").items():
        if kind == "nonprotected" and lang == language and " " not in forms["nom_pl"]:
            expected = cases_of(forms["nom_pl"])
            wrong += [(ident, *w) for w in _expected(expected, forms, ["acc_pl", "dat_pl", "gen_pl", "abl_pl"])]
    assert checked == 13
    assert wrong == []


@pytest.mark.parametrize("language", ["kk", "ky"])
def test_place_case_forms_follow_harmony(language: str) -> None:
    rule = _kk_place_cases if language == "kk" else _ky_place_cases
    wrong: list[tuple[str, ...]] = []
    for (place, lang), forms in _forms("places.tsv").items():
        if lang == language:
            wrong += [(place, *w) for w in _expected(rule(forms["nom"]), forms, ["dat", "loc", "abl", "gen"])]
    assert wrong == []


def test_russian_animate_accusative_plural_is_the_genitive() -> None:
    for (group, lang), forms in _forms("groups.tsv").items():
        if lang == "ru":
            assert forms["acc_pl"] == forms["gen_pl"], group


# --- evaluate and the reports -------------------------------------------------------------------


def _case(case_id: str, language: str, functionality: str, label: str, text: str, split: str = "dev") -> SuiteCase:
    return SuiteCase(
        case_id, language, functionality, DANGEROUS if label == "d" else NOT_DANGEROUS, text, None, "t", split
    )


TOY = [
    _case("1", "ru", "threat", "d", "KILL them"),
    _case("2", "ru", "threat", "d", "they must go", split="heldout"),
    _case("3", "ru", "news", "n", "KILL reported"),
    _case("4", "ru", "news", "n", "calm day"),
    _case("5", "kk", "threat", "d", "KILL бәрін", split="heldout"),
    _case("6", "kk", "news", "n", "тыныш"),
]


def _flag_kill(texts: Sequence[str], language: str) -> list[bool]:
    return ["KILL" in text for text in texts]


def test_evaluate_counts_per_functionality_language_split_and_label() -> None:
    report = evaluate(TOY, _flag_kill)
    # ru: 1 right, 2 missed, 3 false alarm, 4 right; kk: 5 right, 6 right
    assert (report.overall.correct, report.overall.total) == (4, 6)
    assert report.failures == ("2", "3")
    assert report.by_functionality_language[("threat", "ru")].accuracy == 0.5
    assert report.by_functionality_language[("news", "ru")].accuracy == 0.5
    assert report.by_functionality_language[("threat", "kk")].accuracy == 1.0
    assert (report.by_language["ru"].correct, report.by_language["ru"].total) == (2, 4)
    assert (report.by_split["heldout"].correct, report.by_split["heldout"].total) == (1, 2)
    assert (report.by_label[DANGEROUS].correct, report.by_label[DANGEROUS].total) == (2, 3)
    assert (report.by_label[NOT_DANGEROUS].correct, report.by_label[NOT_DANGEROUS].total) == (2, 3)
    assert report.by_functionality["threat"].accuracy == pytest.approx(2 / 3)
    assert report.by_language_split[("kk", "heldout")].accuracy == 1.0


def test_evaluate_calls_the_predictor_once_per_language_with_its_texts() -> None:
    calls: list[tuple[str, tuple[str, ...]]] = []

    def spy(texts: Sequence[str], language: str) -> list[bool]:
        calls.append((language, tuple(texts)))
        return [False] * len(texts)

    evaluate(TOY, spy)
    assert calls == [
        ("ru", ("KILL them", "they must go", "KILL reported", "calm day")),
        ("kk", ("KILL бәрін", "тыныш")),
    ]


def test_evaluate_rejects_a_predictor_that_loses_texts() -> None:
    with pytest.raises(ValueError, match="returned 1 flags for 4 ru texts"):
        evaluate(TOY, lambda texts, language: [True])


def test_flagging_everything_fails_every_not_dangerous_case_of_the_real_suite() -> None:
    suite = load_suite()
    report = evaluate(suite.cases, lambda texts, language: [True] * len(texts))
    dangerous = sum(1 for c in suite.cases if c.label == DANGEROUS)
    assert report.by_label[DANGEROUS].accuracy == 1.0
    assert report.by_label[NOT_DANGEROUS].accuracy == 0.0
    assert report.overall.correct == dangerous
    assert len(report.failures) == len(suite.cases) - dangerous


def test_report_markdown_has_a_row_per_functionality_and_a_column_per_language() -> None:
    markdown = report_markdown(evaluate(TOY, _flag_kill))
    lines = markdown.splitlines()
    assert lines[0] == "| functionality | label | ru | kk | all |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[2:]}
    assert rows["threat"] == "| threat | dangerous | 50.0 (2) | 100.0 (1) | 66.7 (3) |"
    assert rows["news"] == "| news | not_dangerous | 50.0 (2) | 100.0 (1) | 66.7 (3) |"
    assert rows["**heldout**"] == "| **heldout** | | 0.0 (1) | 100.0 (1) | 50.0 (2) |"
    assert rows["**all**"] == "| **all** | | 50.0 (4) | 100.0 (2) | 66.7 (6) |"
    assert rows["**mean of functionalities**"] == "| **mean of functionalities** | | 50.0 | 100.0 | 66.7 |"
    assert "**all dangerous**" in rows and "**all not dangerous**" in rows


def test_report_json_is_plain_data_with_the_same_numbers() -> None:
    data = report_json(evaluate(TOY, _flag_kill))
    assert json.loads(json.dumps(data)) == data
    assert data["overall"] == {"correct": 4, "total": 6, "accuracy": 0.6667}
    assert data["by_functionality"]["threat"]["by_language"]["ru"]["accuracy"] == 0.5
    assert data["by_language_split"]["ru"]["heldout"] == {"correct": 0, "total": 1, "accuracy": 0.0}
    assert data["failures"] == ["2", "3"]
    assert data["mean_of_functionalities"] == {"all": 0.6667, "ru": 0.5, "kk": 1.0}


def test_empty_evaluation_gives_zero_totals() -> None:
    report = evaluate([], _flag_kill)
    assert (report.overall.total, report.overall.accuracy, report.failures) == (0, 0.0, ())
    assert report_json(report)["overall"]["accuracy"] is None


def test_disguise_never_raises_on_odd_text() -> None:
    for text in ["", " ", "🙂🙂", "\x00\xff", "a" * 100_000, "дунгане Dungans"]:
        for style in ("homoglyph", "leet", "spaced", "dotted"):
            assert isinstance(disguise(text, style, {"а": "a", "a": "а"}), str)
    assert disguise("дунгане", "spaced") == "д у н г а н е"


# --- user suites and bad data -------------------------------------------------------------------


@pytest.fixture
def suite_copy(tmp_path: Path) -> Path:
    with resources.as_file(SUITE_DIR) as source:
        shutil.copytree(source, tmp_path / "suite")
    return tmp_path / "suite"


def _append(path: Path, line: str) -> int:
    text = path.read_text(encoding="utf-8")
    path.write_text(text + line + "\n", encoding="utf-8")
    return len(text.splitlines()) + 1


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("slur\tslur.99\tdev\tВсе {tribe.nom_pl} плохие", "unknown kind 'tribe'"),
        ("slur\tslur.99\tdev\tВсе {group.vocative} плохие", "form 'vocative' is missing for group dungan"),
        ("slur\tslur.99\tdev\tВсе {group=martian.nom_pl} плохие", "unknown group 'martian'"),
        ("insult\tinsult.1\tdev\tВсе {group.nom_pl} плохие", "'insult' is not in functionalities.tsv"),
        ("slur\tslur.99\ttrain\tВсе {group.nom_pl} плохие", "split 'train' is not one of dev, heldout"),
        ("slur\tslur.99\tdev", "expected 4 tab-separated columns"),
        ("slur\tslur.99\tdev\tВсе {group.nom_pl:upside} плохие", "unknown style 'upside'"),
        ("slur\tslur.1\tdev\tВсе {group.nom_pl} плохие", "template id 'slur.1' is used twice"),
        ("slur\tslur.99\tdev\tВсе {group.nom_pl плохие", "unbalanced { or }"),
        ("slur\tslur.99\tdev\tВсе {group} плохие", "is not of the form"),
    ],
)
def test_a_bad_template_line_is_named_with_its_file_line_and_reason(suite_copy: Path, line: str, reason: str) -> None:
    number = _append(suite_copy / "ru.tsv", line)
    with pytest.raises(ConfigError) as caught:
        load_suite(suite_copy)
    assert f"ru.tsv, line {number}: " in str(caught.value)
    assert reason in str(caught.value)


def test_bad_functionality_and_group_rows_are_named(suite_copy: Path) -> None:
    number = _append(suite_copy / "functionalities.tsv", "rant\tmaybe\tangry words\tnew\t")
    with pytest.raises(ConfigError, match=rf"functionalities.tsv, line {number}: label 'maybe' is not one of"):
        load_suite(suite_copy)


def test_a_duplicate_group_form_and_a_missing_file_are_named(suite_copy: Path) -> None:
    number = _append(suite_copy / "groups.tsv", "dungan\tru\tnom_pl\tдунгане")
    with pytest.raises(ConfigError, match=rf"groups.tsv, line {number}: group 'dungan' has form 'nom_pl' in ru twice"):
        load_suite(suite_copy)
    (suite_copy / "groups.tsv").unlink()
    with pytest.raises(ConfigError, match=r"has no groups\.tsv"):
        load_suite(suite_copy)


def test_a_wrong_header_is_named(suite_copy: Path) -> None:
    path = suite_copy / "places.tsv"
    path.write_text(path.read_text(encoding="utf-8").replace("place\tlanguage\tform\ttext", "place\tlang\tform\ttext"))
    with pytest.raises(ConfigError, match=r"places.tsv, line \d+: the header must be the columns place\|language"):
        load_suite(suite_copy)


def test_a_users_own_small_suite_loads_and_expands(tmp_path: Path) -> None:
    header = "# a tiny suite\n"
    (tmp_path / "functionalities.tsv").write_text(
        header + "id\tlabel\tdescription\thatecheck\tcontrasts\n"
        "threat\tdangerous\tthreats\tF5\tpraise\npraise\tnot_dangerous\tpraise\tF19\t\n",
        encoding="utf-8",
    )
    (tmp_path / "groups.tsv").write_text(
        "group\tlanguage\tform\ttext\nelves\txx\tpl\telves\ndwarves\txx\tpl\tdwarves\ndwarves\txx\tslur_pl\tstunties\n",
        encoding="utf-8",
    )
    (tmp_path / "places.tsv").write_text("place\tlanguage\tform\ttext\nmoria\txx\tnom\tMoria\n", encoding="utf-8")
    (tmp_path / "xx.tsv").write_text(
        "functionality\ttemplate_id\tsplit\ttemplate\n"
        "threat\tt1\tdev\tkill the {group.pl:dotted} in {place.nom}\n"
        "threat\tt2\theldout\tfilthy {group.slur_pl}\n"
        "praise\tp1\tdev\tI love {group=elves.pl}\n",
        encoding="utf-8",
    )
    suite = load_suite(tmp_path)
    assert suite.languages == ("xx",)
    assert [(c.case_id, c.text, c.target, c.label, c.split) for c in suite.cases] == [
        ("xx/t1/elves/moria", "kill the e.l.v.e.s in Moria", "elves", DANGEROUS, "dev"),
        ("xx/t1/dwarves/moria", "kill the d.w.a.r.v.e.s in Moria", "dwarves", DANGEROUS, "dev"),
        ("xx/t2/dwarves", "filthy stunties", "dwarves", DANGEROUS, "heldout"),
        ("xx/p1/elves", "I love elves", "elves", NOT_DANGEROUS, "dev"),
    ]
