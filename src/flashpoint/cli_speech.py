"""``flashpoint train speech`` and ``flashpoint label``: the analyst's side of the speech model.

``label`` shows stored messages one at a time, most uncertain first, and records the key the
analyst presses; ``train speech`` fits the model on a labelled CSV and/or the store's labels,
prints held-out precision, recall and F1 per class, and saves the model beside the store. The
commands take the store from the group's context object (``flashpoint``'s own, which has
``config`` and ``store``), so ``flashpoint.cli`` registers them; ``speech_cli`` is the same
commands under a group of their own, for tests and embedding.

Example:
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(speech_cli, ["train", "speech", "--help"]).exit_code
    0
"""

from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flashpoint.cli_common import StoreAccess, StoreContext, console, errors, fail
from flashpoint.config import Config
from flashpoint.errors import ConfigError
from flashpoint.speech.labelling import (
    DEFAULT_LABELS,
    LabelCandidate,
    ProbabilityModel,
    RankedCandidate,
    key_legend,
    parse_key,
    parse_label_set,
    uncertainty_order,
)
from flashpoint.speech.model import (
    LabelledData,
    LabelledRow,
    RejectedRow,
    SpeechModel,
    TrainReport,
    read_labelled_csv,
)
from flashpoint.speech.model import train as train_model
from flashpoint.store import SqliteStore

EXIT_NOTHING_USABLE = 3
CANDIDATE_BATCH = 500
SHOWN_CHARS = 2000  # of a message's text; the rest is counted, not shown
# Control and bidi-override characters would move the cursor or reorder what the analyst reads:
# they are shown as escapes (which also reveals them as possible evasion).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

out = Console()


# -- flashpoint train speech ----------------------------------------------------------------------------


@click.group()
def train() -> None:
    """Train models on the analysts' labels."""


@train.command("speech")
@click.option(
    "--data",
    "data_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Labelled CSV (text, label, optional target); repeat for several files.",
)
@click.option("--from-store", is_flag=True, help="Also train on the labels recorded with `flashpoint label`.")
@click.option("--text-column", default="text", show_default=True, help="The CSV column with the message text.")
@click.option("--label-column", default="label", show_default=True, help="The CSV column with the label.")
@click.option(
    "--target-column", default="target", show_default=True, help="The CSV column with the targeted group (optional)."
)
@click.option(
    "--test-size",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0, 1, max_open=True),
    help="Share of rows held out to score the model (0: score nothing).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the held-out split.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the model (default: the config's speech.model, else models/speech beside the store).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def train_speech(
    obj: StoreAccess,
    data_paths: tuple[Path, ...],
    from_store: bool,
    text_column: str,
    label_column: str,
    target_column: str,
    test_size: float,
    seed: int,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Fit the speech model on labelled messages, report held-out precision, recall and F1 per
    class, then refit on every row and save the model. Rows that cannot be used are listed with
    their row number and reason; exit code 3 when nothing usable is left."""
    if not data_paths and not from_store:
        fail(ConfigError("no_training_data", "give --data labelled.csv, --from-store, or both"))
    with errors():
        data = LabelledData(())
        for path in data_paths:
            data = data + read_labelled_csv(path, text_column, label_column, target_column)
        if from_store:
            data = data + store_labelled_data(obj.store)
        _print_rejected(data.rejected)
        if len(set(data.labels)) < 2:
            console.print(
                f"[red]error:[/red] nothing usable to train on: {len(data.rows)} usable rows with labels "
                f"{sorted(set(data.labels))}; training needs rows of at least two labels",
                highlight=False,
            )
            sys.exit(EXIT_NOTHING_USABLE)
        report = train_model(data, test_size=test_size, seed=seed)
        target = report.model.save(out_dir or obj.config.speech.model_path(obj.config.store.path))
    if as_json:
        result = {**report.as_dict(), "model": str(target), "rejected": [_rejected(r) for r in data.rejected]}
        out.print_json(orjson.dumps(result).decode())
        return
    _print_report(report, data)
    out.print(f"Model written to {target}", highlight=False)


def store_labelled_data(store: SqliteStore) -> LabelledData:
    """The store's labels as training rows (row = the message's rowid)."""
    rows: list[LabelledRow] = []
    rejected: list[RejectedRow] = []
    for record in store.speech_labels():
        text = str(record["text"] or "").strip()
        if text:
            rows.append(LabelledRow(int(record["rowid"]), text, str(record["label"]), record["target"], "store"))
        else:
            rejected.append(RejectedRow(int(record["rowid"]), "empty text", "store"))
    return LabelledData(tuple(rows), tuple(rejected), "utf-8", "store")


def _rejected(row: RejectedRow) -> dict[str, Any]:
    return {"source": row.source, "row": row.row, "reason": row.reason}


def _print_rejected(rejected: tuple[RejectedRow, ...]) -> None:
    """On standard error, so that --json output stays clean; never the rows' text."""
    if not rejected:
        return
    console.print(f"{len(rejected)} rows were not used:", highlight=False)
    for row in rejected:
        where = "message rowid" if row.source == "store" else "row"
        console.print(f"  {row.source or 'data'} {where} {row.row}: {row.reason}", highlight=False, markup=False)


def _print_report(report: TrainReport, data: LabelledData) -> None:
    counts = data.counts()
    out.print(
        f"Trained on {len(report.train_rows) + len(report.held_out_rows)} rows "
        f"({', '.join(f'{label} {n}' for label, n in counts.items())}); "
        f"{len(report.held_out_rows)} held out",
        highlight=False,
    )
    if report.scores:
        table = Table(title="Held-out scores")
        for column in ("class", "precision", "recall", "F1", "support"):
            table.add_column(column, justify="left" if column == "class" else "right")
        for s in report.scores:
            table.add_row(s.label, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support))
        if report.macro:
            m = report.macro
            table.add_row("macro", f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.support))
        out.print(table)
        out.print(f"accuracy {report.accuracy:.3f}", highlight=False)
        confusion = Table(title="Confusion (rows: labelled, columns: predicted)")
        confusion.add_column("")
        for label in report.classes:
            confusion.add_column(label, justify="right")
        for label, row in zip(report.classes, report.confusion, strict=True):
            confusion.add_row(label, *(str(n) for n in row))
        out.print(confusion)
    if report.model.target_classes:
        out.print(f"target head: {', '.join(report.model.target_classes)}", highlight=False)
    for note in report.notes:
        out.print(f"note: {note}", highlight=False)


# -- flashpoint label ---------------------------------------------------------------------------------


@click.command()
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many labels.")
@click.option(
    "--labels",
    "label_spec",
    default=",".join(DEFAULT_LABELS),
    show_default=True,
    help="The labels keys 1..9 stand for, comma-separated.",
)
@click.option("--analyst", help="Your name or initials, kept with each label.")
@click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="A trained speech model to order by (default: the pipeline's, models/speech beside the store).",
)
@click.option("--target", "ask_target", is_flag=True, help="After each label, ask for the targeted group.")
@click.option(
    "--pool",
    default=2000,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many unlabelled messages are ranked at a time.",
)
@click.pass_obj
def label(
    obj: StoreAccess,
    limit: int | None,
    label_spec: str,
    analyst: str | None,
    model_dir: Path | None,
    ask_target: bool,
    pool: int,
) -> None:
    """Label stored messages one at a time, most uncertain first: a key 1..9 labels, s skips,
    u undoes the last label, q quits."""
    with errors():
        labels = parse_label_set(label_spec)
        model = _labelling_model(model_dir, obj.config)
        store = obj.store
        out.print(
            "Ordered by the model's uncertainty" if model else "Ordered by the rule score (no trained model)",
            highlight=False,
        )
        recorded = _label_loop(store, labels, model, analyst, ask_target, limit, pool)
        counts = store.speech_label_counts()
    summary = ", ".join(f"{name} {n}" for name, n in counts.items()) or "none"
    out.print(
        f"{recorded} labels this session; the store holds {sum(counts.values())} labels: {summary}",
        highlight=False,
    )


def _labelling_model(model_dir: Path | None, config: Config) -> SpeechModel | None:
    """The model named on the command line, else the one the pipeline uses (none when the config
    turns the model off or none has been trained)."""
    if model_dir is not None:
        return SpeechModel.load(model_dir)
    configured = config.speech.model_dir(config.store.path)
    return SpeechModel.load(configured) if configured is not None else None


def _label_loop(
    store: SqliteStore,
    labels: tuple[str, ...],
    model: ProbabilityModel | None,
    analyst: str | None,
    ask_target: bool,
    limit: int | None,
    pool: int,
) -> int:
    """Show, read, record until q, the end of input, the limit or the last candidate. Returns the
    number of labels recorded (net of undos)."""
    queue = ranked_candidates(store, model, pool)
    again: deque[RankedCandidate] = deque()  # shown again first (after an undo)
    done: list[RankedCandidate] = []  # labelled this session, in order (for undo)
    shown = 0
    while limit is None or len(done) < limit:
        current = again.popleft() if again else next(queue, None)
        if current is None:
            out.print("No unlabelled messages left.", highlight=False)
            break
        shown += 1
        _show(current, shown, labels)
        while True:
            key = _read_key("key: ", single=True)
            action = parse_key(key, labels) if key is not None else None
            if action is None or action.kind == "quit":
                return len(done)
            if action.kind == "invalid":
                out.print(f"? {key_legend(labels)}", highlight=False)
                continue
            break
        if action.kind == "label" and action.label:
            target = None
            if ask_target:
                target = (_read_key("target group (Enter for none): ", single=False) or "").strip().casefold() or None
            store.record_speech_label(current.candidate.message_id, action.label, target, analyst)
            done.append(current)
        elif action.kind == "undo":
            again.appendleft(current)
            if done:
                previous = done.pop()
                store.remove_speech_label(previous.candidate.message_id)
                again.appendleft(previous)
                out.print(f"undone: message {previous.candidate.message_id}", highlight=False)
            else:
                out.print("nothing to undo", highlight=False)
    return len(done)


def ranked_candidates(store: SqliteStore, model: ProbabilityModel | None, pool: int) -> Iterator[RankedCandidate]:
    """Unlabelled messages, ranked most uncertain first within each pool of ``pool`` messages read
    from the store in rowid order (so a store of millions is never ranked in memory at once)."""
    after = 0
    while True:
        candidates: list[LabelCandidate] = []
        while len(candidates) < pool:
            rows = store.speech_label_candidates(after, min(CANDIDATE_BATCH, pool - len(candidates)))
            if not rows:
                break
            after = int(rows[-1]["rowid"])
            candidates.extend(
                LabelCandidate(int(r["rowid"]), str(r["message_id"]), str(r["text"]), r["language"], r["speech"])
                for r in rows
            )
        if not candidates:
            return
        yield from uncertainty_order(candidates, model)


def _show(ranked: RankedCandidate, number: int, labels: tuple[str, ...]) -> None:
    c = ranked.candidate
    header = Text(f"\n#{number}  message {c.message_id}", style="bold")
    header.append(f"  language {c.language or 'und'}  severity {c.severity}  score {c.rule_score:.2f}")
    out.print(header)
    out.print(f"signals: {', '.join(c.signals) or 'none'}", highlight=False, markup=False)
    if c.groups:
        out.print(f"groups: {', '.join(c.groups)}", highlight=False, markup=False)
    if ranked.probabilities:
        ordered = sorted(ranked.probabilities.items(), key=lambda item: -item[1])
        out.print("model: " + ", ".join(f"{name} {p:.2f}" for name, p in ordered), highlight=False, markup=False)
    out.print(Text(_printable(c.text[:SHOWN_CHARS])))
    if len(c.text) > SHOWN_CHARS:
        out.print(f"… ({len(c.text) - SHOWN_CHARS} more characters)", highlight=False)
    out.print(key_legend(labels), highlight=False, markup=False)


def _printable(text: str) -> str:
    r"""The text with control and bidi characters shown as escapes.

    >>> print(_printable("a\x1b[2Jb\u202ec\nd"))
    a\x1b[2Jb\u202ec
    d
    """
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def _read_key(prompt: str, single: bool) -> str | None:
    """A key press (``single``) or a line from a terminal, or one line from piped input (how tests
    and scripts drive the command); None at the end of input or on Ctrl-C / Ctrl-D."""
    stdin = sys.stdin
    if stdin.isatty() and single:
        out.print(prompt, end="", highlight=False)
        key = click.getchar()
        out.print(_printable(key), highlight=False, markup=False)
        return None if key in ("\x03", "\x04") else key
    if stdin.isatty():
        return str(click.prompt(prompt.rstrip(": "), default="", show_default=False))
    out.print(prompt, end="", highlight=False)
    line = stdin.readline()
    out.print("", highlight=False)
    return None if line == "" else line.rstrip("\r\n")


# -- the commands under a group of their own -----------------------------------------------------------------


@click.group("flashpoint-speech", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML config file (default: $FLASHPOINT_CONFIG, else ./flashpoint.toml if present).",
)
@click.option("--store", "store_path", help="Store file (default: $FLASHPOINT_STORE, else the config's store.path).")
@click.pass_context
def speech_cli(ctx: click.Context, config_path: str | None, store_path: str | None) -> None:
    """The speech commands of `flashpoint`, alone: train speech, label."""
    with errors():
        ctx.obj = StoreContext(Config.load(config_path).with_store(store_path))


speech_cli.add_command(train)
speech_cli.add_command(label)
