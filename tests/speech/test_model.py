"""The trainable speech model: held-out scores as scikit-learn computes them, a pickle-free save
that loads to the same probabilities and refuses changed files, labelled CSVs whose bad rows are
reported by row number, and `flashpoint train speech` driven as an analyst would."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import scipy.sparse as sp
from click.testing import CliRunner, Result
from numpy.typing import NDArray
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from flashpoint import __version__
from flashpoint.cli_speech import speech_cli
from flashpoint.errors import ConfigError, FormatError
from flashpoint.speech.model import (
    MODEL_FILE,
    WEIGHTS_FILE,
    LabelledData,
    LabelledRow,
    SpeechModel,
    TrainReport,
    read_labelled_csv,
    split_rows,
    train,
)
from flashpoint.text.normalise import normalise_for_matching

DATA = Path(__file__).resolve().parents[1] / "data" / "speech_training"
LABELLED = DATA / "labelled.csv"
BAD_INPUT = [
    "",
    "🙂🙂🙂",
    "\x00\xff\xfe binary \x07",
    "\ud800 lone surrogate",
    "a" * 100_000,
    "Масанчиге gather 集合 ✊",
]


@pytest.fixture(scope="module")
def data() -> LabelledData:
    return read_labelled_csv(LABELLED)


@pytest.fixture(scope="module")
def report(data: LabelledData) -> TrainReport:
    return train(data, test_size=0.2, seed=0)


# -- reading labelled CSVs -------------------------------------------------------------------------------


def test_the_sample_covers_four_languages_and_three_labels(data: LabelledData) -> None:
    assert len(data.rows) >= 150 and not data.rejected and data.encoding == "utf-8"
    assert set(data.counts()) == {"dangerous", "not_dangerous", "counter_speech"}
    languages = Counter(line.rsplit(",", 1)[-1] for line in LABELLED.read_text(encoding="utf-8").splitlines()[1:])
    assert {lang: n >= 50 for lang, n in languages.items()} == {"ru": True, "kk": True, "ky": True, "en": True}


def test_bad_rows_are_reported_with_their_row_numbers_and_never_dropped_silently() -> None:
    read = read_labelled_csv(DATA / "bad_rows.csv")
    assert [(r.row, r.reason.split(":")[0]) for r in read.rejected] == [
        (3, "empty text"),
        (5, "missing label"),
        (6, "bad encoding"),
        (9, "empty text"),
        (12, "missing label"),
    ]
    assert [(r.row, r.label) for r in read.rows] == [
        (2, "dangerous"),
        (4, "not_dangerous"),
        (8, "counter_speech"),
        (10, "dangerous"),
        (11, "not_dangerous"),
    ]
    assert read.rows[3].text.count("\n") == 1  # a quoted text across two lines is one row
    assert all(r.source == "bad_rows.csv" for r in read.rejected)


def test_a_cp1251_file_with_semicolons_and_its_own_column_names() -> None:
    read = read_labelled_csv(DATA / "labelled_cp1251.csv", text_column="сообщение", label_column="класс")
    assert read.encoding == "cp1251" and len(read.rows) == 16 and not read.rejected
    assert read.rows[0].text.startswith("Дунгане убили") and read.rows[0].target is None


def test_a_missing_column_names_the_columns_that_are_there() -> None:
    with pytest.raises(FormatError) as caught:
        read_labelled_csv(LABELLED, text_column="message")
    assert "'message'" in caught.value.message and "'text'" in caught.value.message
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(
    "content",
    [b"", b"\xff\xfe\x00\x01junk\x00", ("text,label\n" + "x" * 200_000 + ",dangerous\n").encode(), b"text,label\n\n\n"],
)
def test_hostile_files_give_a_result_or_a_format_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "hostile.csv"
    path.write_bytes(content)
    try:
        read = read_labelled_csv(path)
    except FormatError as exc:
        assert "hostile.csv" in exc.message
    else:
        assert len(read.rows) + len(read.rejected) <= 1


# -- training and held-out scores ------------------------------------------------------------------------


def test_the_split_is_stratified_disjoint_and_complete(data: LabelledData, report: TrainReport) -> None:
    train_at, held = set(report.train_rows), set(report.held_out_rows)
    assert not train_at & held and train_at | held == set(range(len(data.rows)))
    held_counts = Counter(data.labels[i] for i in held)
    for label, n in data.counts().items():
        assert abs(held_counts[label] - 0.2 * n) <= 1, label


def test_held_out_scores_are_sklearns_on_the_same_split(data: LabelledData, report: TrainReport) -> None:
    """A plain scikit-learn pipeline over all 2 x 2**18 columns, fitted on the report's training rows,
    predicts the held-out rows as the model did, and sklearn's metrics are the report's."""
    normalised = [normalise_for_matching(t) for t in data.texts]
    common = {"n_features": 2**18, "alternate_sign": False, "lowercase": False}
    features = sp.hstack(
        [
            HashingVectorizer(analyzer="word", ngram_range=(1, 2), **common).transform(normalised),
            HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common).transform(normalised),
        ],
        format="csr",
    )
    train_at, held = list(report.train_rows), list(report.held_out_rows)
    labels = np.array(data.labels)
    reference = LogisticRegression(C=10.0, class_weight="balanced", solver="newton-cg", max_iter=2000)
    reference.fit(features[train_at], labels[train_at])
    truth, predicted = labels[held], reference.predict(features[held])

    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(report.classes), zero_division=0
    )
    assert [s.label for s in report.scores] == list(report.classes) == sorted(data.counts())
    assert [s.precision for s in report.scores] == pytest.approx(list(precision))
    assert [s.recall for s in report.scores] == pytest.approx(list(recall))
    assert [s.f1 for s in report.scores] == pytest.approx(list(f1))
    assert [s.support for s in report.scores] == list(support)
    assert report.macro is not None and report.macro.f1 == pytest.approx(float(np.mean(f1)))
    assert report.accuracy == pytest.approx(float(np.mean(truth == predicted)))
    assert [list(row) for row in report.confusion] == confusion_matrix(
        truth, predicted, labels=list(report.classes)
    ).tolist()

    partial = SpeechModel().fit([data.texts[i] for i in train_at], [data.labels[i] for i in train_at])
    ours = partial.predict_proba([data.texts[i] for i in held])
    theirs = reference.predict_proba(features[held])
    assert np.array([[p[c] for c in report.classes] for p in ours]) == pytest.approx(theirs, abs=1e-4)


def test_the_saved_model_is_refitted_on_every_row_and_learns_the_sample(
    data: LabelledData, report: TrainReport
) -> None:
    model = report.model
    assert model.classes == ("counter_speech", "dangerous", "not_dangerous")
    assert model.summary["rows"] == len(data.rows) and model.summary["seed"] == 0
    training_accuracy = np.mean([p == t for p, t in zip(model.predict(data.texts), data.labels, strict=True)])
    assert training_accuracy > 0.95
    assert report.macro is not None and report.macro.f1 > 0.5  # far above chance (0.33) on 44 held-out rows
    assert "dungan" in model.target_classes and "uyghur" in model.target_classes


def test_training_is_deterministic_for_a_seed(data: LabelledData, report: TrainReport) -> None:
    again = train(data, test_size=0.2, seed=0)
    assert again.held_out_rows == report.held_out_rows and again.scores == report.scores
    assert train(data, test_size=0.2, seed=1).held_out_rows != report.held_out_rows


def test_a_class_with_one_row_is_trained_on_and_the_report_says_so() -> None:
    rows = [LabelledRow(i, f"продаю картошку номер {i}", "not_dangerous") for i in range(10)]
    rows += [LabelledRow(10 + i, f"все едем в масанчи бить их {i}", "dangerous") for i in range(10)]
    rows += [LabelledRow(99, "это фейк, не ведитесь", "counter_speech")]
    result = train(LabelledData(tuple(rows)), test_size=0.2, seed=0)
    assert 20 not in result.held_out_rows  # index of the one counter_speech row
    assert any("counter_speech" in note and "only 1 row" in note for note in result.notes)
    assert "counter_speech" in result.model.classes
    assert {s.label: s.support for s in result.scores}["counter_speech"] == 0


def test_a_solver_that_stops_early_is_reported(data: LabelledData) -> None:
    notes = train(data, model=SpeechModel(max_iter=1)).notes
    assert "the labels head stopped at 1 iterations before converging" in notes


def test_too_little_data_holds_nothing_out_and_says_why() -> None:
    assert split_rows(["a", "b", "a", "b"], 0.0, 0)[1] == []
    train_at, held, notes = split_rows(["a", "b"], 0.2, 0)
    assert held == [] and train_at == [0, 1] and "too few" in notes[-1]
    train_at, held, notes = split_rows(["a", "a", "b", "b"], 0.2, 0)
    assert len(held) == 1 and "not stratified" in notes[0]
    with pytest.raises(ConfigError):
        train(LabelledData((LabelledRow(2, "текст", "dangerous"),)))


def test_bad_input_gets_probabilities_never_an_exception(report: TrainReport) -> None:
    for probabilities in report.model.predict_proba(BAD_INPUT):
        assert set(probabilities) == set(report.model.classes)
        assert sum(probabilities.values()) == pytest.approx(1.0)
    assert report.model.predict([]) == [] and len(report.model.predict_target_proba(BAD_INPUT)) == len(BAD_INPUT)


def test_a_binary_model_works_like_a_multiclass_one() -> None:
    texts = ["бейте их всех", "продаю лук", "едем бить их", "лук и картошка"] * 3
    labels = ["dangerous", "not_dangerous"] * 6
    model = SpeechModel().fit(texts, labels)
    assert model.predict(["едем бить"]) == ["dangerous"] and model.predict(["картошка"]) == ["not_dangerous"]


# -- saving and loading ------------------------------------------------------------------------------------


def test_save_and_load_give_identical_probabilities(report: TrainReport, tmp_path: Path) -> None:
    folder = report.model.save(tmp_path / "model")
    loaded = SpeechModel.load(folder)
    texts = [*read_labelled_csv(LABELLED).texts[:40], *BAD_INPUT]
    assert loaded.predict_proba(texts) == report.model.predict_proba(texts)
    assert loaded.predict_target_proba(texts) == report.model.predict_target_proba(texts)
    assert (loaded.classes, loaded.target_classes) == (report.model.classes, report.model.target_classes)
    document = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
    assert document["format_version"] == 1 and document["flashpoint_version"] == __version__
    assert document["labels"] == list(report.model.classes) and document["created_at"]
    assert document["features"]["n_features"] == 2**18 and document["features"]["char_ngrams"] == [2, 5]
    assert document["training"]["per_class"]["dangerous"]["support"] > 0
    with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as weights:  # no pickled object inside
        assert weights["label_coef"].shape == (3, weights["label_columns"].shape[0])


def _edit_json(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        document = json.loads((folder / MODEL_FILE).read_text(encoding="utf-8"))
        change(document)
        (folder / MODEL_FILE).write_text(json.dumps(document), encoding="utf-8")

    return edit


def _replace_weights(arrays: dict[str, NDArray[Any]], allow_pickle: bool = False) -> Callable[[Path], None]:
    """New weights with the checksum updated to match: only the content checks can catch them."""

    def edit(folder: Path) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=allow_pickle, **arrays)
        (folder / WEIGHTS_FILE).write_bytes(buffer.getvalue())
        import hashlib

        _edit_json(lambda d: d["weights"].update(sha256=hashlib.sha256(buffer.getvalue()).hexdigest()))(folder)

    return edit


def _flip_a_byte(folder: Path) -> None:
    data = bytearray((folder / WEIGHTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / WEIGHTS_FILE).write_bytes(bytes(data))


TAMPERING: dict[str, tuple[Callable[[Path], object], str]] = {
    "model.json is not JSON": (lambda f: (f / MODEL_FILE).write_text("{not json", encoding="utf-8"), MODEL_FILE),
    "model.json is missing": (lambda f: (f / MODEL_FILE).unlink(), MODEL_FILE),
    "weights.npz is missing": (lambda f: (f / WEIGHTS_FILE).unlink(), WEIGHTS_FILE),
    "a newer format": (_edit_json(lambda d: d.update(format_version=99)), MODEL_FILE),
    "another format": (_edit_json(lambda d: d.update(format="something-else")), MODEL_FILE),
    "one label": (_edit_json(lambda d: d.update(labels=["dangerous"])), MODEL_FILE),
    "duplicate labels": (_edit_json(lambda d: d.update(labels=["a", "a", "b"])), MODEL_FILE),
    "four labels for three rows": (_edit_json(lambda d: d.update(labels=["a", "b", "c", "d"])), WEIGHTS_FILE),
    "bad n_features": (_edit_json(lambda d: d["features"].update(n_features="big")), MODEL_FILE),
    "bad ngrams": (_edit_json(lambda d: d["features"].update(char_ngrams=[5, 2])), MODEL_FILE),
    "another normaliser": (_edit_json(lambda d: d["features"].update(normaliser="str.lower")), MODEL_FILE),
    "a changed byte in the weights": (_flip_a_byte, WEIGHTS_FILE),
    "no checksum": (_edit_json(lambda d: d.pop("weights")), MODEL_FILE),
    "weights of the wrong shape": (
        _replace_weights(
            {"label_columns": np.arange(4), "label_coef": np.zeros((3, 5)), "label_intercept": np.zeros(3)}
        ),
        WEIGHTS_FILE,
    ),
    "columns out of range": (
        _replace_weights(
            {"label_columns": np.array([2**19]), "label_coef": np.zeros((3, 1)), "label_intercept": np.zeros(3)}
        ),
        WEIGHTS_FILE,
    ),
    "weights that are not finite": (
        _replace_weights(
            {"label_columns": np.array([1]), "label_coef": np.full((3, 1), np.nan), "label_intercept": np.zeros(3)}
        ),
        WEIGHTS_FILE,
    ),
    "a pickled object array": (
        _replace_weights(
            {
                "label_columns": np.array([1]),
                "label_coef": np.array([[object()]] * 3, dtype=object),
                "label_intercept": np.zeros(3),
            },
            allow_pickle=True,
        ),
        WEIGHTS_FILE,
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_a_changed_or_invalid_model_is_refused_naming_the_file(report: TrainReport, tmp_path: Path, case: str) -> None:
    folder = report.model.save(tmp_path / "model")
    tamper, blamed = TAMPERING[case]
    tamper(folder)
    with pytest.raises(ConfigError) as caught:
        SpeechModel.load(folder)
    assert blamed in caught.value.message, caught.value.message


# -- flashpoint train speech ------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("FLASHPOINT_STORE", str(tmp_path / "store" / "cli.db"))
    monkeypatch.setenv("FLASHPOINT_PSEUDONYM_KEY", "p" * 32)
    monkeypatch.delenv("FLASHPOINT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(speech_cli, list(args), catch_exceptions=False)

    return invoke


def test_train_speech_prints_the_table_and_writes_the_model_beside_the_store(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = cli("train", "speech", "--data", str(LABELLED), "--data", str(DATA / "bad_rows.csv"))
    assert result.exit_code == 0, result.output
    for word in ("precision", "recall", "F1", "support", "macro", "counter_speech", "not_dangerous"):
        assert word in result.stdout
    assert "5 rows were not used" in result.stderr and "bad_rows.csv row 6: bad encoding" in result.stderr
    assert "Дунгане" not in result.stderr  # rejected rows are named by number, never by text
    model = SpeechModel.load(tmp_path / "store" / "models" / "speech")
    assert model.summary["rows"] == 217 + 5 and model.summary["rejected_rows"] == 5


def test_train_speech_json_matches_the_report(cli: Callable[..., Result], tmp_path: Path, report: TrainReport) -> None:
    result = cli("train", "speech", "--data", str(LABELLED), "--out", str(tmp_path / "m"), "--json", "--seed", "0")
    assert result.exit_code == 0, result.output
    printed = orjson.loads(result.stdout)
    assert report.macro is not None and printed["macro"]["f1"] == pytest.approx(report.macro.f1)
    assert printed["per_class"]["dangerous"]["support"] == {s.label: s.support for s in report.scores}["dangerous"]
    assert printed["model"] == str(tmp_path / "m") and (tmp_path / "m" / MODEL_FILE).exists()


def test_train_speech_exits_3_when_nothing_is_usable(cli: Callable[..., Result], tmp_path: Path) -> None:
    one_label = tmp_path / "one.csv"
    one_label.write_text("text,label\nпривет,not_dangerous\nпока,not_dangerous\n,dangerous\n", encoding="utf-8")
    result = cli("train", "speech", "--data", str(one_label))
    assert result.exit_code == 3 and "row 4: empty text" in result.stderr
    assert cli("train", "speech", "--data", str(LABELLED), "--text-column", "body").exit_code == 3
    assert cli("train", "speech").exit_code == 2  # neither --data nor --from-store
    assert not (tmp_path / "store" / "models").exists()


def test_scoring_one_text_at_a_time_equals_the_batch_path() -> None:
    """The stage scores candidates one by one through a plain-Python path; it must agree with
    scikit-learn's sparse path to rounding, for two and for several classes."""
    from flashpoint.speech.suite import load_suite

    cases = load_suite().cases[::7][:400]
    texts = [c.text for c in cases]
    for labels in ([c.label for c in cases], [c.functionality[:3] for c in cases]):
        model = SpeechModel().fit(texts, labels)
        head = model.label_head
        assert head is not None
        batch = head.probabilities(model.transform(texts))
        one_by_one = [head.probabilities_of(model.features_of(t)) for t in texts]
        assert abs(batch - one_by_one).max() < 1e-9
