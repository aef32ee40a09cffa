"""The trainable speech model: a linear classifier an analyst fits on their own labels.

The lexicon-and-rules baseline needs no training; this model learns what a team's own labels say
about its own channels ("dangerous", "not_dangerous", "counter_speech", or any labels they use),
and optionally which group a message targets. It is small and fast on purpose: two hashing
vectorisers over the text as lexicon matching sees it (``normalise_for_matching``: look-alike
letters, leet, spaced letters folded, lowercase), word 1-2-grams and character 2-5-grams inside
word boundaries, feeding a class-balanced multinomial logistic regression.

Hashing makes the features stateless, so a saved model is its settings (``model.json``) and its
weights (``weights.npz``, only the columns that training saw), never a pickle: loading a model
runs no code from the file. The weights file's SHA-256 is recorded in ``model.json``, so a file
changed by hand is refused.

Example:
    >>> texts = ["все едем в масанчи, бейте их", "продаю картошку", "не верьте слухам, это фейк",
    ...          "берите палки, едем бить их", "картошка и лук недорого", "это фейк, не ведитесь"]
    >>> labels = ["dangerous", "not_dangerous", "counter_speech"] * 2
    >>> model = SpeechModel().fit(texts, labels)
    >>> model.classes
    ('counter_speech', 'dangerous', 'not_dangerous')
    >>> model.predict(["продаю лук и картошку"])
    ['not_dangerous']
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Self

import numpy as np
import orjson
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.special import expit

from flashpoint import __version__
from flashpoint.errors import ConfigError, FormatError
from flashpoint.text.normalise import normalise_for_matching

FORMAT = "flashpoint-speech-model"
FORMAT_VERSION = 1
MODEL_FILE = "model.json"
# newton-cg reaches the same optimum as lbfgs or saga (the loss is strictly convex) in a few
# Hessian-free Newton steps: 5-10x faster on these sparse features (measured on the sample data).
SOLVER = "newton-cg"
WEIGHTS_FILE = "weights.npz"
FEW_TEXTS = 16  # up to this many texts are scored one by one in Python; more go through scikit-learn
ENCODING_HEAD = 1 << 20  # bytes read to decide a CSV file's encoding
# A few multi-line records span many lines; the delimiter is decided on the header line alone.
DELIMITERS = (",", ";", "\t", "|")


# -- the model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureSettings:
    """How text becomes features. Everything a saved model needs to rebuild its vectorisers."""

    n_features: int = 2**18  # per vectoriser; the two are stacked side by side
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    max_chars: int = 20_000  # longer texts are read up to here: bounds the cost of a 100 KB message

    def as_dict(self) -> dict[str, Any]:
        return {
            "normaliser": "flashpoint.text.normalise.normalise_for_matching",
            "analyzers": ["word", "char_wb"],
            "n_features": self.n_features,
            "word_ngrams": list(self.word_ngrams),
            "char_ngrams": list(self.char_ngrams),
            "max_chars": self.max_chars,
            "alternate_sign": False,
            "norm": "l2",
        }


@dataclass(frozen=True)
class Head:
    """One linear classifier over the hashed features, kept sparse: ``columns`` are the feature
    columns training saw (no other column can get a non-zero weight under L2), ``coef`` their
    weights, one row per class (a single row for two classes, as scikit-learn keeps it)."""

    classes: tuple[str, ...]
    columns: NDArray[np.int64]
    coef: NDArray[np.float64]
    intercept: NDArray[np.float64]
    width: int  # feature columns in all

    @cached_property
    def weights(self) -> sp.csr_matrix:
        """The weights as a sparse (classes x width) matrix, built once."""
        rows, used = self.coef.shape
        pointers = np.arange(rows + 1, dtype=np.int64) * used
        return sp.csr_matrix((self.coef.ravel(), np.tile(self.columns, rows), pointers), shape=(rows, self.width))

    @cached_property
    def weight_table(self) -> dict[int, tuple[float, ...]]:
        """Column -> its weight in each row, for scoring one text in plain Python."""
        return {int(c): tuple(float(w) for w in self.coef[:, j]) for j, c in enumerate(self.columns)}

    def probabilities_of(self, features: Sequence[tuple[int, float]]) -> list[float]:
        """Class probabilities of one text's (column, value) features; equal to ``probabilities``."""
        decision = [float(b) for b in self.intercept]
        table = self.weight_table
        for column, value in features:
            weights = table.get(column)
            if weights is not None:
                for k, w in enumerate(weights):
                    decision[k] += value * w
        if len(self.classes) == 2:
            positive = 1.0 / (1.0 + math.exp(-decision[0])) if decision[0] > -700 else 0.0
            return [1.0 - positive, positive]
        top = max(decision)
        exp = [math.exp(d - top) for d in decision]
        total = sum(exp)
        return [e / total for e in exp]

    def probabilities(self, features: sp.csr_matrix) -> NDArray[np.float64]:
        """Class probabilities, computed as scikit-learn's LogisticRegression computes them:
        softmax of the decision values, or the logistic function for two classes."""
        decision = np.asarray((features @ self.weights.T).toarray(), dtype=np.float64) + self.intercept
        if len(self.classes) == 2:
            positive = expit(decision[:, 0])
            return np.column_stack([1.0 - positive, positive])
        decision -= decision.max(axis=1, keepdims=True)
        exp = np.exp(decision)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float64)


class SpeechModel:
    """A scikit-learn style classifier: the constructor stores settings, ``fit`` learns,
    ``predict_proba`` and ``predict`` apply. ``fit`` with ``targets`` also learns a second head
    that says which group a message targets (from the rows that name one)."""

    def __init__(
        self,
        *,
        features: FeatureSettings | None = None,
        c: float = 10.0,
        max_iter: int = 2000,
    ) -> None:
        self.features = features or FeatureSettings()
        self.c = c
        self.max_iter = max_iter
        self.label_head: Head | None = None
        self.target_head: Head | None = None
        self.summary: dict[str, Any] = {}
        self.created_at: str | None = None
        self.unconverged: list[str] = []  # heads whose solver stopped at max_iter

    # -- features

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The hashed features of the texts: word n-grams, then character n-grams, side by side."""
        from sklearn.feature_extraction.text import HashingVectorizer

        settings = self.features
        common: dict[str, Any] = {"n_features": settings.n_features, "alternate_sign": False, "lowercase": False}
        words = HashingVectorizer(analyzer="word", ngram_range=settings.word_ngrams, **common)
        chars = HashingVectorizer(analyzer="char_wb", ngram_range=settings.char_ngrams, **common)
        normalised = [normalise_for_matching(_readable(t)[: settings.max_chars]) for t in texts]
        return sp.hstack([words.transform(normalised), chars.transform(normalised)], format="csr")

    # -- learning

    def fit(self, texts: Sequence[str], labels: Sequence[str], targets: Sequence[str | None] | None = None) -> Self:
        """Learn the labels (at least two distinct ones) and, when given, the targets."""
        if len(texts) != len(labels):
            raise ConfigError("bad_training_data", f"{len(texts)} texts but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ConfigError("too_few_classes", f"training needs at least two labels; got {sorted(set(labels))}")
        features = self.transform(texts)
        self.unconverged = []
        self.label_head = self._fit_head(features, list(labels), "labels")
        self.target_head = None
        if targets is not None:
            chosen = [i for i, t in enumerate(targets) if t]
            if len({targets[i] for i in chosen}) >= 2:
                self.target_head = self._fit_head(features[chosen], [str(targets[i]) for i in chosen], "targets")
        self.created_at = datetime.now(UTC).isoformat(timespec="seconds")
        return self

    def _fit_head(self, features: sp.csr_matrix, labels: list[str], name: str) -> Head:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        columns = np.unique(features.indices).astype(np.int64)
        # Fitting on the columns the data uses gives the same weights as on all 2**19 (an unused
        # column's gradient is zero under L2) at a fraction of the cost.
        classifier = LogisticRegression(C=self.c, class_weight="balanced", solver=SOLVER, max_iter=self.max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # reported in the training notes instead
            classifier.fit(features[:, columns], labels)
        if int(np.max(classifier.n_iter_)) >= self.max_iter:
            self.unconverged.append(name)
        return Head(
            classes=tuple(str(c) for c in classifier.classes_),
            columns=columns,
            coef=np.ascontiguousarray(classifier.coef_, dtype=np.float64),
            intercept=np.ascontiguousarray(classifier.intercept_, dtype=np.float64),
            width=features.shape[1],
        )

    # -- applying

    @property
    def classes(self) -> tuple[str, ...]:
        return self._head().classes

    @property
    def target_classes(self) -> tuple[str, ...]:
        return self.target_head.classes if self.target_head else ()

    def _head(self) -> Head:
        if self.label_head is None:
            raise ConfigError("model_not_fitted", "the speech model has not been trained or loaded")
        return self.label_head

    def predict_proba(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """For each text, the probability of each class."""
        return _as_dicts(self._head(), self._probabilities(self._head(), texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """For each text, the most probable class."""
        head = self._head()
        return [head.classes[i] for i in self._probabilities(head, texts).argmax(axis=1)]

    def predict_target_proba(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """For each text, the probability of each targeted group; empty dicts when the model has
        no target head (its training data named fewer than two groups)."""
        if self.target_head is None:
            return [{} for _ in texts]
        return _as_dicts(self.target_head, self._probabilities(self.target_head, texts))

    def _probabilities(self, head: Head, texts: Sequence[str]) -> NDArray[np.float64]:
        if not texts:
            return np.zeros((0, len(head.classes)))
        if len(texts) <= FEW_TEXTS:
            return np.array([head.probabilities_of(self.features_of(t)) for t in texts], dtype=np.float64)
        return head.probabilities(self.transform(texts))

    @cached_property
    def _analyzers(self) -> tuple[Any, Any]:
        from sklearn.feature_extraction.text import HashingVectorizer

        settings = self.features
        common: dict[str, Any] = {"n_features": settings.n_features, "alternate_sign": False, "lowercase": False}
        words = HashingVectorizer(analyzer="word", ngram_range=settings.word_ngrams, **common)
        chars = HashingVectorizer(analyzer="char_wb", ngram_range=settings.char_ngrams, **common)
        return words.build_analyzer(), chars.build_analyzer()

    def features_of(self, text: str) -> list[tuple[int, float]]:
        """One text's non-zero features as (column, value): what ``transform`` gives for it, without
        scikit-learn's per-call overhead (about 1 ms), for the stage that scores one message at a time."""
        from sklearn.utils import murmurhash3_32

        width = self.features.n_features
        normalised = normalise_for_matching(_readable(text)[: self.features.max_chars])
        out: list[tuple[int, float]] = []
        for offset, analyze in zip((0, width), self._analyzers, strict=True):
            counts = Counter(_hashed_column(murmurhash3_32(f, seed=0), width) for f in analyze(normalised))
            norm = math.sqrt(sum(c * c for c in counts.values()))
            out.extend((offset + column, count / norm) for column, count in counts.items())
        return out

    # -- saving and loading

    def save(self, directory: str | Path) -> Path:
        """Write ``weights.npz`` then ``model.json`` (which names the weights' SHA-256) into the
        directory, each replaced atomically. Returns the directory."""
        head = self._head()
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, NDArray[Any]] = {
            "label_columns": head.columns,
            "label_coef": head.coef,
            "label_intercept": head.intercept,
        }
        if self.target_head is not None:
            arrays |= {
                "target_columns": self.target_head.columns,
                "target_coef": self.target_head.coef,
                "target_intercept": self.target_head.intercept,
            }
        buffer = io.BytesIO()
        np.savez_compressed(buffer, allow_pickle=False, **arrays)
        weights = buffer.getvalue()
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "flashpoint_version": __version__,
            "created_at": self.created_at or datetime.now(UTC).isoformat(timespec="seconds"),
            "features": self.features.as_dict(),
            "classifier": {
                "kind": "logistic_regression",
                "solver": SOLVER,
                "C": self.c,
                "class_weight": "balanced",
                "max_iter": self.max_iter,
            },
            "labels": list(head.classes),
            "targets": list(self.target_classes),
            "training": self.summary,
            "weights": {"file": WEIGHTS_FILE, "sha256": hashlib.sha256(weights).hexdigest()},
        }
        _write_atomic(folder / WEIGHTS_FILE, weights)
        _write_atomic(folder / MODEL_FILE, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
        return folder

    @classmethod
    def load(cls, directory: str | Path) -> SpeechModel:
        """Read a saved model; a missing, changed or malformed file raises ConfigError naming the
        file and what is wrong."""
        folder = Path(directory)
        document = _read_model_json(folder / MODEL_FILE)
        where = str(folder / MODEL_FILE)
        features = _feature_settings(document.get("features"), where)
        labels = _class_list(document.get("labels"), "labels", where, minimum=2)
        targets = _class_list(document.get("targets", []), "targets", where, minimum=0)
        classifier = document.get("classifier")
        c = classifier.get("C") if isinstance(classifier, dict) else None
        if not isinstance(c, int | float) or isinstance(c, bool) or not c > 0:
            raise ConfigError("model_invalid", f"{where}: classifier.C must be a positive number")
        declared = document.get("weights")
        sha = declared.get("sha256") if isinstance(declared, dict) else None
        if not isinstance(sha, str):
            raise ConfigError("model_invalid", f"{where}: weights.sha256 is missing")
        arrays = _read_weights(folder / WEIGHTS_FILE, sha)
        width = 2 * features.n_features
        max_iter = classifier.get("max_iter") if isinstance(classifier, dict) else None
        model = cls(
            features=features, c=float(c), max_iter=max_iter if isinstance(max_iter, int) and max_iter > 0 else 2000
        )
        model.label_head = _head_from(arrays, "label", labels, width, folder / WEIGHTS_FILE)
        if len(targets) >= 2:
            model.target_head = _head_from(arrays, "target", targets, width, folder / WEIGHTS_FILE)
        elif targets:
            raise ConfigError("model_invalid", f"{where}: targets must list at least two groups, or none")
        training = document.get("training", {})
        model.summary = training if isinstance(training, dict) else {}
        created = document.get("created_at")
        model.created_at = created if isinstance(created, str) else None
        return model


def _hashed_column(hashed: int, width: int) -> int:
    """The column scikit-learn's feature hasher gives a signed 32-bit MurmurHash3 value."""
    if hashed == -(2**31):  # abs() would overflow in C; scikit-learn maps it as below
        return (2**31 - 1 - (width - 1)) % width
    return abs(hashed) % width


def _readable(text: object) -> str:
    """Text as the vectorisers can take it: non-strings read as empty, lone surrogates dropped."""
    if not isinstance(text, str):
        return ""
    return text.encode("utf-8", "ignore").decode("utf-8") if not text.isascii() else text


def _as_dicts(head: Head, probabilities: NDArray[np.float64]) -> list[dict[str, float]]:
    return [{c: float(p) for c, p in zip(head.classes, row, strict=True)} for row in probabilities]


def _write_atomic(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_model_json(path: Path) -> dict[str, Any]:
    try:
        document = orjson.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise ConfigError(
            "model_missing", f"{path}: no such file; train a model with `flashpoint train speech`"
        ) from exc
    except OSError as exc:
        raise ConfigError("model_unreadable", f"{path}: cannot be read: {exc}") from exc
    except orjson.JSONDecodeError as exc:
        raise ConfigError("model_invalid", f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ConfigError("model_invalid", f"{path}: not a Flashpoint speech model (format is not {FORMAT!r})")
    if document.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            "model_version",
            f"{path}: format_version {document.get('format_version')!r}; this Flashpoint reads version "
            f"{FORMAT_VERSION}: retrain the model with `flashpoint train speech`",
        )
    return document


def _feature_settings(value: object, where: str) -> FeatureSettings:
    if not isinstance(value, dict):
        raise ConfigError("model_invalid", f"{where}: features is missing")

    def pair(name: str) -> tuple[int, int]:
        item = value.get(name)
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in item)
            or not 1 <= item[0] <= item[1] <= 10
        ):
            raise ConfigError("model_invalid", f"{where}: features.{name} must be [low, high] with 1 <= low <= high")
        return int(item[0]), int(item[1])

    n_features, max_chars = value.get("n_features"), value.get("max_chars")
    if not isinstance(n_features, int) or isinstance(n_features, bool) or not 2**4 <= n_features <= 2**24:
        raise ConfigError("model_invalid", f"{where}: features.n_features must be a whole number in [16, 2**24]")
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
        raise ConfigError("model_invalid", f"{where}: features.max_chars must be a positive whole number")
    expected = FeatureSettings().as_dict()
    for name in ("normaliser", "analyzers", "alternate_sign", "norm"):
        if value.get(name) != expected[name]:
            raise ConfigError("model_invalid", f"{where}: features.{name} must be {expected[name]!r}")
    return FeatureSettings(n_features, pair("word_ngrams"), pair("char_ngrams"), max_chars)


def _class_list(value: object, name: str, where: str, minimum: int) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not all(isinstance(c, str) and c for c in value)
        or len(set(value)) != len(value)
        or len(value) < minimum
    ):
        raise ConfigError("model_invalid", f"{where}: {name} must be a list of at least {minimum} distinct names")
    return tuple(value)


def _read_weights(path: Path, sha256: str) -> dict[str, NDArray[Any]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError("model_missing", f"{path}: no such file; the model directory is incomplete") from exc
    except OSError as exc:
        raise ConfigError("model_unreadable", f"{path}: cannot be read: {exc}") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ConfigError(
            "model_tampered", f"{path}: its SHA-256 differs from the one in {MODEL_FILE}; the weights were changed"
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except Exception as exc:  # a damaged archive raises anything from zipfile, numpy or ValueError
        raise ConfigError("model_invalid", f"{path}: not a readable weights archive: {exc}") from exc


def _head_from(
    arrays: Mapping[str, NDArray[Any]], prefix: str, classes: tuple[str, ...], width: int, path: Path
) -> Head:
    try:
        columns, coef, intercept = (arrays[f"{prefix}_{part}"] for part in ("columns", "coef", "intercept"))
    except KeyError as exc:
        raise ConfigError("model_invalid", f"{path}: the array {exc.args[0]} is missing") from exc
    rows = 1 if len(classes) == 2 else len(classes)
    problems = []
    if columns.ndim != 1 or columns.dtype.kind not in "iu":
        problems.append(f"{prefix}_columns must be a 1-D integer array")
    elif columns.size and (columns.min() < 0 or columns.max() >= width or np.any(np.diff(columns) <= 0)):
        problems.append(f"{prefix}_columns must be increasing feature columns below {width}")
    if coef.dtype.kind != "f" or coef.shape != (rows, columns.shape[0]):
        problems.append(f"{prefix}_coef must be a float array of shape ({rows}, {columns.shape[0]})")
    if intercept.dtype.kind != "f" or intercept.shape != (rows,):
        problems.append(f"{prefix}_intercept must be a float array of shape ({rows},)")
    if not problems and not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
        problems.append(f"{prefix} weights must be finite numbers")
    if problems:
        raise ConfigError("model_invalid", f"{path}: " + "; ".join(problems))
    return Head(classes, columns.astype(np.int64), coef.astype(np.float64), intercept.astype(np.float64), width)


# -- labelled data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledRow:
    """One usable training example. ``row`` is its place in the source: the record number in a
    CSV file with the header as row 1 (as a spreadsheet numbers it), or the message rowid."""

    row: int
    text: str
    label: str
    target: str | None = None
    source: str = ""


@dataclass(frozen=True)
class RejectedRow:
    """A row that could not be used, and why (never its text)."""

    row: int
    reason: str
    source: str = ""


@dataclass(frozen=True)
class LabelledData:
    rows: tuple[LabelledRow, ...]
    rejected: tuple[RejectedRow, ...] = ()
    encoding: str = "utf-8"
    source: str = ""

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.rows]

    @property
    def labels(self) -> list[str]:
        return [r.label for r in self.rows]

    @property
    def targets(self) -> list[str | None]:
        return [r.target for r in self.rows]

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.labels).items()))

    def __add__(self, other: LabelledData) -> LabelledData:
        return LabelledData(
            self.rows + other.rows,
            self.rejected + other.rejected,
            self.encoding,
            " + ".join(s for s in (self.source, other.source) if s),
        )


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """The text and the encoding: UTF-8 (with or without BOM) unless most non-ASCII bytes are not
    UTF-8, then the best Cyrillic guess (cp1251, koi8-r, cp866). Bytes that do not decode are kept
    as surrogate escapes, so their rows can be reported as badly encoded.

    >>> decode_csv_bytes("текст,метка".encode("cp1251"))
    ('текст,метка', 'cp1251')
    >>> decode_csv_bytes(b"\\xef\\xbb\\xbftext")
    ('text', 'utf-8-sig')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "surrogateescape"), "utf-8-sig"
    head = data[:ENCODING_HEAD]
    try:
        head.decode("utf-8")
        return data.decode("utf-8", "surrogateescape"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4 and len(head) == ENCODING_HEAD:
            return data.decode("utf-8", "surrogateescape"), "utf-8"
    decoded = head.decode("utf-8", errors="replace")
    broken = decoded.count("\ufffd")
    valid_non_ascii = sum(1 for ch in decoded if ord(ch) > 127) - broken
    # A UTF-8 file with a few broken rows still holds many valid multi-byte sequences, which text
    # in a single-byte Cyrillic encoding almost never forms by chance.
    if valid_non_ascii >= 4 * broken:
        return data.decode("utf-8", "surrogateescape"), "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head, cp_isolation=["cp1251", "koi8_r", "cp866", "utf_8"]).best()
    encoding = best.encoding if best is not None else "cp1251"
    return data.decode(encoding, "surrogateescape"), encoding


def read_labelled_csv(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    target_column: str = "target",
) -> LabelledData:
    """Read a labelled CSV (UTF-8 or a Cyrillic code page; comma, semicolon, tab or | separated).
    The text and label columns are required (FormatError naming the columns found); the target
    column is optional. Every row that cannot be used is listed in ``rejected`` with its reason."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise FormatError("unreadable_file", f"{source}: cannot be read: {exc.strerror or exc}") from exc
    text, encoding = decode_csv_bytes(data.replace(b"\x00", b""))
    header_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FormatError("bad_csv", f"{source}: the header row cannot be read: {exc}") from exc
    if not header or not any(name.strip() for name in header):
        raise FormatError("empty_file", f"{source}: no header row; the first row must name the columns")
    names = [name.strip().lstrip("\ufeff").casefold() for name in header]
    missing = [c for c in (text_column, label_column) if c.casefold() not in names]
    if missing:
        raise FormatError(
            "missing_column",
            f"{source}: no column named {', '.join(repr(m) for m in missing)}; the columns are "
            f"{', '.join(repr(n) for n in header)} (choose them with --text-column and --label-column)",
        )
    text_at, label_at = names.index(text_column.casefold()), names.index(label_column.casefold())
    target_at = names.index(target_column.casefold()) if target_column.casefold() in names else None
    rows: list[LabelledRow] = []
    rejected: list[RejectedRow] = []
    number = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number += 1
            rejected.append(RejectedRow(number, f"unreadable CSV: {exc}", source.name))
            continue
        number += 1
        if not record:
            continue  # a blank line: no example, but a row as a spreadsheet counts them
        result = _labelled_row(record, number, text_at, label_at, target_at, source.name)
        if isinstance(result, LabelledRow):
            rows.append(result)
        else:
            rejected.append(result)
    return LabelledData(tuple(rows), tuple(rejected), encoding, source.name)


def _labelled_row(
    record: list[str], number: int, text_at: int, label_at: int, target_at: int | None, source: str
) -> LabelledRow | RejectedRow:
    def cell(at: int | None) -> str:
        return record[at].strip() if at is not None and at < len(record) else ""

    text, label, target = cell(text_at), cell(label_at), cell(target_at)
    if any(_has_undecodable(value) for value in (text, label, target)):
        return RejectedRow(number, "bad encoding: bytes that are not text in the file's encoding", source)
    if not text:
        return RejectedRow(number, "empty text", source)
    if not label:
        return RejectedRow(number, "missing label", source)
    return LabelledRow(number, text, label.casefold(), target.casefold() or None, source)


def _has_undecodable(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value) if not value.isascii() else False


# -- training with a held-out report --------------------------------------------------------------------


@dataclass(frozen=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class TrainReport:
    """Held-out scores of a model fitted on the training part, and the model refitted on every row.
    ``scores`` and ``confusion`` are empty when nothing could be held out (``notes`` says why);
    ``confusion[i][j]`` counts held-out rows of class ``classes[i]`` predicted as ``classes[j]``."""

    model: SpeechModel
    classes: tuple[str, ...]
    scores: tuple[ClassScores, ...]
    macro: ClassScores | None
    accuracy: float | None
    confusion: tuple[tuple[int, ...], ...]
    train_rows: tuple[int, ...]  # indexes into the data's rows
    held_out_rows: tuple[int, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        def scores(s: ClassScores) -> dict[str, Any]:
            return {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}

        return {
            "classes": list(self.classes),
            "targets": list(self.model.target_classes),
            "rows": len(self.train_rows) + len(self.held_out_rows),
            "train_rows": len(self.train_rows),
            "held_out_rows": len(self.held_out_rows),
            "per_class": {s.label: scores(s) for s in self.scores},
            "macro": scores(self.macro) if self.macro else None,
            "accuracy": self.accuracy,
            "confusion": [list(row) for row in self.confusion],
            "notes": list(self.notes),
        }


def split_rows(labels: Sequence[str], test_size: float, seed: int) -> tuple[list[int], list[int], list[str]]:
    """Indexes of the training and held-out rows, and notes on any fallback. Stratified by label;
    a class with fewer than two rows is kept for training only.

    >>> train, held_out, notes = split_rows(["a"] * 5 + ["b"] * 5, 0.2, 0)
    >>> len(train), len(held_out), notes
    (8, 2, [])
    """
    from sklearn.model_selection import train_test_split

    everything = list(range(len(labels)))
    if not 0 < test_size < 1:
        return everything, [], [f"test size {test_size}: nothing held out, so no scores"]
    counts = Counter(labels)
    notes: list[str] = []
    rare = sorted(label for label, n in counts.items() if n < 2)
    for label in rare:
        notes.append(f"class {label!r} has only 1 row: it is used for training only, so it has no held-out score")
    pool = [i for i in everything if labels[i] not in rare]
    pool_labels = [labels[i] for i in pool]
    classes = len(set(pool_labels))
    held = math.ceil(test_size * len(pool))
    if classes < 2 or held < 1 or len(pool) - held < 1:
        notes.append(f"{len(labels)} rows are too few to hold any out: nothing held out, so no scores")
        return everything, [], notes
    stratify: list[str] | None = pool_labels
    if held < classes or len(pool) - held < classes:
        stratify = None
        notes.append(
            f"{held} held-out rows cannot include each of {classes} classes: the split is random, not stratified"
        )
    train, test = train_test_split(pool, test_size=test_size, random_state=seed, shuffle=True, stratify=stratify)
    return sorted([*train, *(i for i in everything if labels[i] in rare)]), sorted(test), notes


def train(data: LabelledData, test_size: float = 0.2, seed: int = 0, model: SpeechModel | None = None) -> TrainReport:
    """Hold out a stratified ``test_size`` of the rows, fit on the rest, score the held-out rows,
    then refit on every row: the returned model is the refitted one. Deterministic for a seed."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    template = model or SpeechModel()
    labels, texts, targets = data.labels, data.texts, data.targets
    if len(set(labels)) < 2:
        raise ConfigError(
            "too_few_classes",
            f"training needs rows of at least two labels; {data.source or 'the data'} has "
            f"{len(labels)} usable rows labelled {sorted(set(labels))}",
        )
    classes = tuple(sorted(set(labels)))
    train_at, test_at, notes = split_rows(labels, test_size, seed)
    scores: tuple[ClassScores, ...] = ()
    macro: ClassScores | None = None
    accuracy: float | None = None
    confusion: tuple[tuple[int, ...], ...] = ()
    if test_at and len({labels[i] for i in train_at}) >= 2:
        partial = _like(template).fit([texts[i] for i in train_at], [labels[i] for i in train_at])
        truth = [labels[i] for i in test_at]
        guess = partial.predict([texts[i] for i in test_at])
        precision, recall, f1, support = precision_recall_fscore_support(
            truth, guess, labels=list(classes), zero_division=0
        )
        scores = tuple(
            ClassScores(c, float(p), float(r), float(f), int(s))
            for c, p, r, f, s in zip(classes, precision, recall, f1, support, strict=True)
        )
        measured = [s for s in scores if s.support > 0]
        macro = ClassScores(
            "macro",
            float(np.mean([s.precision for s in measured])),
            float(np.mean([s.recall for s in measured])),
            float(np.mean([s.f1 for s in measured])),
            len(truth),
        )
        accuracy = float(np.mean([t == g for t, g in zip(truth, guess, strict=True)]))
        matrix = confusion_matrix(truth, guess, labels=list(classes))
        confusion = tuple(tuple(int(n) for n in row) for row in matrix)
        unmeasured = [s.label for s in scores if s.support == 0]
        if unmeasured:
            notes.append(f"no held-out rows of {unmeasured}: the macro average leaves them out")
    elif test_at:
        notes.append("the training part holds one class only: nothing scored")
        test_at = []
        train_at = list(range(len(labels)))
    named = [t for t in targets if t]
    if named and len(set(named)) < 2:
        notes.append(f"only one target group ({named[0]!r}) is labelled: no target head")
    final = _like(template).fit(texts, labels, targets if named else None)
    for head in final.unconverged:
        notes.append(f"the {head} head stopped at {final.max_iter} iterations before converging")
    report = TrainReport(
        final, classes, scores, macro, accuracy, confusion, tuple(train_at), tuple(test_at), tuple(notes)
    )
    final.summary = {
        **{k: v for k, v in report.as_dict().items() if k != "confusion"},
        "class_counts": data.counts(),
        "rejected_rows": len(data.rejected),
        "data": data.source,
        "data_sha256": _data_digest(data),
        "test_size": test_size,
        "seed": seed,
    }
    return report


def _like(model: SpeechModel) -> SpeechModel:
    return SpeechModel(features=model.features, c=model.c, max_iter=model.max_iter)


def _data_digest(data: LabelledData) -> str:
    """SHA-256 over the training rows: says which data a model was fitted on without keeping it."""
    digest = hashlib.sha256()
    for row in data.rows:
        digest.update(orjson.dumps([row.text, row.label, row.target]))
    return digest.hexdigest()
