"""Language identification: per-language accuracy on a hand-written test set and on a held-out set,
code-switching, Latin Kazakh, the cascade (tools asked only when they can change the decision), the
word lists as data, and that no input (empty, emoji, huge, binary junk) makes it raise."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashpoint.model import Enriched, Message
from flashpoint.text import language as langid
from flashpoint.text.language import LANGUAGES, IdentifyLanguage, LanguageResult, identify, load_word_list

DATA = Path(__file__).resolve().parent.parent / "data" / "language"
TEST_SET = DATA / "test_set.tsv"
HELDOUT = DATA / "heldout.tsv"

# Measured when written: ru, kk, en 1.00; ky 0.98; short ru/kk/en 1.00, short ky 0.98; mixed 1.00;
# Latin kk 1.00; Latin ru 0.90; uz 0.73; ug, zh, other 1.00. Thresholds sit a few points under.
THRESHOLDS = {
    "ru": 0.95,
    "kk": 0.95,
    "ky": 0.93,
    "en": 0.95,
    "ru-short": 0.92,
    "kk-short": 0.92,
    "ky-short": 0.90,
    "en-short": 0.92,
    "kk+ru-mixed": 0.85,
    "kk-latin": 0.85,
    "ru-latin": 0.70,
    "uz": 0.66,
    "ug": 0.85,
    "zh": 0.85,
    "other": 0.6,
}


# Held out: written after the rules, weights and word lists were fixed, on other topics (markets,
# weddings, weather, football, school, prices, roads, border queues), and never used to tune them.
# Measured when written: ru, kk, en 1.00 (short ones too); ky 0.985 (short 0.93); Latin kk 1.00;
# Latin ru 0.90; uz 0.80; code-switched kk+ru found as mixed 0.60 (9/15: Russian words outside the
# word list, "помидоры подешевели", are not seen). Thresholds sit a little under.
HELDOUT_THRESHOLDS = {
    "ru": 0.95,
    "kk": 0.95,
    "ky": 0.93,
    "en": 0.95,
    "ru-short": 0.9,
    "kk-short": 0.9,
    "ky-short": 0.86,
    "en-short": 0.9,
    "kk+ru-mixed": 0.53,
    "kk-latin": 0.9,
    "ru-latin": 0.8,
    "uz": 0.73,
}


def _rows(path: Path = TEST_SET) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            expected, kind, text = line.split("\t")
            rows.append((expected, kind, text))
    return rows


def _accuracy(path: Path = TEST_SET) -> dict[str, float]:
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for expected, kind, text in _rows(path):
        result = identify(text)
        if kind == "mixed":
            groups, good = ["kk+ru-mixed"], set(result.mixed) == set(expected.split("+"))
        elif kind == "latin":
            groups, good = [f"{expected}-latin"], result.language == expected
        else:
            groups = [expected] + ([f"{expected}-short"] if kind == "short" else [])
            good = result.language == expected
        for group in groups:
            totals[group] += 1
            hits[group] += good
    return {group: hits[group] / totals[group] for group in totals}


def test_test_set_has_at_least_100_messages_per_main_language() -> None:
    counts = Counter(expected for expected, kind, _ in _rows() if kind in ("short", "sentence"))
    for language in ("ru", "kk", "ky", "en"):
        assert counts[language] >= 100, language


@pytest.mark.parametrize("group", sorted(THRESHOLDS))
def test_accuracy_per_language(group: str) -> None:
    accuracy = _accuracy_cached()
    assert accuracy[group] >= THRESHOLDS[group], f"{group}: {accuracy[group]:.3f}"


_CACHE: dict[str, float] = {}


def _accuracy_cached() -> dict[str, float]:
    if not _CACHE:
        _CACHE.update(_accuracy())
    return _CACHE


def test_heldout_set_size() -> None:
    counts = Counter(expected for expected, kind, _ in _rows(HELDOUT) if kind in ("short", "sentence"))
    kinds = Counter(f"{expected}-{kind}" for expected, kind, _ in _rows(HELDOUT) if kind in ("mixed", "latin"))
    for language_code in ("ru", "kk", "ky", "en"):
        assert counts[language_code] >= 60, language_code
    assert counts["uz"] >= 10
    assert kinds["kk+ru-mixed"] >= 10
    assert kinds["kk-latin"] >= 20


def test_heldout_set_shares_no_message_with_the_test_set() -> None:
    assert not {text for _, _, text in _rows(HELDOUT)} & {text for _, _, text in _rows(TEST_SET)}


def test_accuracy_on_heldout_set() -> None:
    accuracy = _accuracy(HELDOUT)
    print("held-out accuracy: " + ", ".join(f"{group} {accuracy[group]:.3f}" for group in sorted(accuracy)))
    below = {g: round(accuracy[g], 3) for g, threshold in HELDOUT_THRESHOLDS.items() if accuracy[g] < threshold}
    assert not below, below


def _full_vote(monkeypatch: pytest.MonkeyPatch, texts: list[str]) -> list[tuple[str, tuple[str, ...], str]]:
    with monkeypatch.context() as patch:
        patch.setattr(langid, "_settled", lambda *args, **kwargs: False)  # every tool is always asked
        return [(r.language, r.mixed, r.script) for r in map(langid._identify, texts)]


def test_asking_fewer_tools_never_changes_the_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [text for path in (TEST_SET, HELDOUT) for _, _, text in _rows(path)]
    texts += [" ".join(text.split()[:2]) for text in texts] + ["Масанчи road closed", "Қордай WhatsApp", "今天 ok"]
    cascade = [(r.language, r.mixed, r.script) for r in map(langid._identify, texts)]
    assert cascade == _full_vote(monkeypatch, texts)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһіўҳїє abcdefghijklmnopqrstuvwxyz'今ي", max_size=40))
def test_cascade_agrees_with_full_vote_on_any_letters(text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        cascade = langid._identify(text)
        patch.setattr(langid, "_settled", lambda *args, **kwargs: False)
        full = langid._identify(text)
    assert (cascade.language, cascade.mixed, cascade.script) == (full.language, full.mixed, full.script)


@pytest.mark.parametrize(
    "text",
    ["Сәлеметсіздер ме, бәріңізге үлкен рахмет, бауырлар", "今天市场关门", "ياخشىمۇسىز، بۈگۈن ھاۋا ياخشى"],
)
def test_clear_cut_messages_are_decided_without_the_costly_tool(text: str) -> None:
    voters = {voter for voter, _, _ in identify(text).votes}
    assert "heliport" not in voters


def test_a_close_call_asks_every_tool() -> None:
    voters = {voter for voter, _, _ in identify("Кезек узун").votes}  # no telling letter or listed word
    assert {"cld2", "heliport"} <= voters


def test_repeated_text_is_answered_from_the_cache() -> None:
    text = "Бүгін кешке клубта жиналыс болады, бәріңіз келіңіздер"
    assert identify(text) is identify(text)
    long_text = "Бүгін ауылда жиналыс болады. " * 100  # too long to keep: computed again, same answer
    assert identify(long_text) == identify(long_text)


@pytest.mark.parametrize("name", ["ru_words.tsv", "kk_words.tsv", "ru_endings.tsv", "en_words.tsv"])
def test_word_lists_are_data_with_provenance(name: str) -> None:
    text = (Path(langid.__file__).parent.parent / "data" / "language" / name).read_text(encoding="utf-8")
    assert any(line.startswith("# Source:") for line in text.splitlines())
    assert "Licence" in text
    entries = load_word_list(name)
    assert entries and len(entries) == len(set(entries))
    assert all(entry == entry.lower() and entry.isalpha() for entry in entries)


def test_word_lists_drive_the_vote() -> None:
    assert "когда" in load_word_list("ru_words.tsv")
    assert "рахмет" in load_word_list("kk_words.tsv")
    # "рахмет" has no Kazakh-only letter: only the Kazakh word list makes it Kazakh evidence.
    assert any(voter == "letters" and lang == "kk" for voter, lang, _ in identify("рахмет").votes)


@pytest.mark.parametrize(
    "text",
    [
        "Сәлем, как дела?",
        "Короче, мен үйге кеттім, завтра поговорим",
        "Қайдасың? Я уже жду у магазина",
    ],
)
def test_code_switched_russian_and_kazakh_is_marked_mixed(text: str) -> None:
    result = identify(text)
    assert set(result.mixed) == {"kk", "ru"}
    assert result.language in result.mixed


def test_russian_with_one_kazakh_place_name_is_not_mixed() -> None:
    result = identify("Сегодня вечером в клубе будет собрание по поводу дороги на Қордай, приходите все")
    assert result.language == "ru"
    assert result.mixed == ()


@pytest.mark.parametrize(
    "text",
    ["Salem, qalaisyn?", "Bugin keshke auylda jinalys bolady", "Agaiyn, tekserilmegen akparatty taratpañyzdar!"],
)
def test_latin_script_kazakh(text: str) -> None:
    result = identify(text)
    assert (result.language, result.script) == ("kk", "Latn")
    assert any(voter == "latin_ngram" and language == "kk" for voter, language, _ in result.votes)


def test_latin_script_russian_translit() -> None:
    assert identify("SROCHNO!!! V Masan4i ubili aksakala iz-za dorogi. Razoshlite vsem!!!").language == "ru"


def test_english_stays_english() -> None:
    assert identify("Please do not share unverified claims about the village").language == "en"


@pytest.mark.parametrize(
    ("text", "language", "script"),
    [
        ("ياخشىمۇسىز، بۈگۈن ھاۋا ياخشى", "ug", "Arab"),
        ("今天市场关门", "zh", "Hani"),
        ("Масанчи road closed", "", "mixed"),
    ],
)
def test_script_rules(text: str, language: str, script: str) -> None:
    result = identify(text)
    assert result.script == script
    if script != "mixed":
        assert result.language == language


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "123 456", "+7 700 000 00 11", "https://example.org/a", "!!!"])
def test_nothing_to_read_is_und(text: str) -> None:
    result = identify(text)
    assert result.language == "und"
    assert result.confidence == 0.0


def test_huge_message_is_judged_on_its_head() -> None:
    result = identify("Бүгін ауылда жиналыс болады. " * 4000)
    assert result.language == "kk"


def _check(result: LanguageResult) -> None:
    assert result.language in LANGUAGES
    assert 0.0 <= result.confidence <= 1.0
    assert set(result.mixed) <= LANGUAGES
    assert result.script in {"Cyrl", "Latn", "Arab", "Hani", "mixed", "none"}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(text: str) -> None:
    _check(identify(text))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from(["utf-8", "latin-1", "cp1251", "utf-16"]))
def test_never_raises_on_decoded_binary_junk(data: bytes, encoding: str) -> None:
    _check(identify(data.decode(encoding, errors="surrogateescape" if encoding == "utf-8" else "replace")))


def test_stage_adds_a_json_value_with_language_on_top() -> None:
    message = Message.create(
        source="jsonl",
        channel="c",
        native_id="1",
        raw_sha256="x",
        sent_at=datetime(2025, 3, 16, tzinfo=UTC),
        text="Қордай базары бүгін жабық",
    )
    stage = IdentifyLanguage()
    value = stage(Enriched(message).with_values(text_clean=message.text)).values["language"]
    assert value["language"] == "kk"
    assert set(value) == {"language", "confidence", "mixed", "script"}
    assert (stage.name, stage.version, stage.needs, stage.adds) == (
        "language",
        2,
        frozenset({"text_clean"}),
        frozenset({"language"}),
    )
