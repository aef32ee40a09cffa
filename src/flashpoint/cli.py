"""The ``flashpoint`` command: a thin face over the runner and the store; it holds no logic.

Exit codes: 0 success; 1 unexpected failure; 2 bad usage or configuration; 3 a file could not be
read (other files were still ingested); 4 the store cannot be opened; 5 the archive fails
verification; 6 quarantined records remain after a retry.

Example:
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(main, ["--help"]).exit_code
    0
"""

from __future__ import annotations

import csv
import logging
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from flashpoint import __version__
from flashpoint.cli_claims import claims
from flashpoint.cli_common import StoreContext, console, errors, fail
from flashpoint.cli_places import places
from flashpoint.cli_rumours import rumours
from flashpoint.cli_speech import label, train
from flashpoint.config import Config
from flashpoint.errors import ConfigError
from flashpoint.places.geojson import messages_geojson
from flashpoint.runners.embedded import EmbeddedRunner, IngestStats
from flashpoint.runners.embedded import Progress as IngestProgress
from flashpoint.sources import FORMATS, known_options
from flashpoint.speech.signals import SEVERITIES
from flashpoint.store import MessageQuery, SqliteStore

EXIT_FILE_ERROR = 3
EXIT_QUARANTINE_LEFT = 6

out = Console()


class Context(StoreContext):
    """The configured store (see :class:`StoreContext`) and a runner on it."""

    def runner(self, create: bool = False) -> EmbeddedRunner:
        """A runner on the store; ``create`` makes the store when it does not exist yet."""
        if self._store is None and create:
            self._store = SqliteStore.from_config(self.config)
        return EmbeddedRunner(self.store, self.config)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="TOML config file (default: $FLASHPOINT_CONFIG, else ./flashpoint.toml if present).",
)
@click.option("--store", "store_path", help="Store file (default: $FLASHPOINT_STORE, else the config's store.path).")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug). Logs never hold message text.")
@click.version_option(__version__, prog_name="flashpoint")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, store_path: str | None, verbose: int) -> None:
    """Flashpoint: see intercommunal violence forming online, and act on it."""
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    with errors():
        ctx.obj = Context(Config.load(config_path).with_store(store_path))


def _parse_pairs(pairs: tuple[str, ...], what: str) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(ConfigError("bad_option", f"{what} {pair!r} is not of the form key=value"))
        parsed[key.strip()] = value
    return parsed


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(sorted(FORMATS)), help="Skip auto-detection and read as this format."
)
@click.option(
    "--option",
    "-o",
    "option_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Reader option, e.g. timezone=Asia/Almaty, delimiter=';', encoding=cp1251, date_order=dmy.",
)
@click.option(
    "--map",
    "-m",
    "map_pairs",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Column mapping for CSV/JSONL, e.g. text=body, timestamp=created_at, author=user.id.",
)
@click.option(
    "--force", is_flag=True, help="Read files again even if an earlier run completed them (adds no duplicates)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_obj
def ingest(
    obj: Context,
    paths: tuple[Path, ...],
    fmt: str | None,
    option_pairs: tuple[str, ...],
    map_pairs: tuple[str, ...],
    force: bool,
    as_json: bool,
) -> None:
    """Read exports (files or folders) into the store. Safe to re-run: nothing is added twice, and
    an interrupted run resumes where it stopped."""
    options: dict[str, Any] = dict(_parse_pairs(option_pairs, "--option"))
    if map_pairs:
        options["map"] = _parse_pairs(map_pairs, "--map")
    unknown = set(options) - known_options()
    if unknown:
        fail(
            ConfigError(
                "unknown_option",
                f"no reader knows the option(s) {sorted(unknown)}; known: {', '.join(sorted(known_options()))}",
            )
        )
    with errors():
        runner = obj.runner(create=True)
        stats = _ingest_with_progress(runner, list(paths), fmt, options, force, quiet=as_json)
    if as_json:
        out.print_json(orjson.dumps(stats.as_dict()).decode())
    else:
        _print_stats(stats, obj.store.path)
    if stats.errors:
        sys.exit(EXIT_FILE_ERROR)


def _ingest_with_progress(
    runner: EmbeddedRunner,
    paths: list[Path],
    fmt: str | None,
    options: dict[str, Any],
    force: bool,
    quiet: bool = False,
) -> IngestStats:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[msgs]} msgs"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=quiet or not console.is_terminal, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(p: IngestProgress) -> None:
            if p.path not in tasks:
                tasks[p.path] = bar.add_task(Path(p.path).name[:40], total=p.bytes_total, msgs=0)
            bar.update(tasks[p.path], completed=p.bytes_done, msgs=p.stats.messages_added)

        return runner.ingest(paths, fmt=fmt, options=options, progress=update, force=force)


def _print_stats(stats: IngestStats, store_path: str) -> None:
    table = Table(title=f"ingest into {store_path}", show_header=False)
    for key, value in stats.as_dict().items():
        if key in {"errors", "skipped_reasons"}:
            continue
        table.add_row(key.replace("_", " "), str(value))
    if stats.skipped_reasons:
        table.add_row("skipped by reason", ", ".join(f"{k}: {v}" for k, v in sorted(stats.skipped_reasons.items())))
    out.print(table)
    if stats.quarantined:
        out.print(f"[yellow]{stats.quarantined} record(s) quarantined[/yellow]: see `flashpoint quarantine list`")
    for error in stats.errors:
        console.print(f"[red]error:[/red] {error}", soft_wrap=True, highlight=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """Counts by source, day and language, and what is waiting in quarantine."""
    with errors():
        info = obj.store.status()
        info["last_runs"] = obj.store.runs(limit=5)
    if as_json:
        out.print_json(orjson.dumps(info).decode())
        return
    head = Table(show_header=False, title="flashpoint store")
    for key in (
        "store",
        "schema_version",
        "messages",
        "news_items",
        "channels",
        "raw_records",
        "quarantine_pending",
        "runs",
    ):
        head.add_row(key.replace("_", " "), str(info[key]))
    out.print(head)
    for key, title in (
        ("by_source", "source"),
        ("by_day", "day (UTC)"),
        ("by_language", "language"),
        ("by_severity", "speech severity"),
    ):
        table = Table(title=f"messages by {title}")
        table.add_column(title)
        table.add_column("messages", justify="right")
        for name, count in info[key].items():
            table.add_row(str(name), str(count))
        if not info[key]:
            table.add_row("(none yet)", "")
        out.print(table)


def _when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(ConfigError("bad_date", f"{name} {value!r} is not an ISO date or date-time"))
        raise
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


EXPORT_COLUMNS = (
    "id",
    "source",
    "kind",
    "channel",
    "sent_at",
    "utc_offset_min",
    "author",
    "text",
    "reply_to",
    "forwarded_from",
    "url",
    "title",
    "raw_sha256",
    "places",
)


@main.command()
@click.option("--since", help="From this time (ISO 8601; UTC if no offset).")
@click.option("--until", help="Up to this time, exclusive.")
@click.option(
    "--source", "sources", multiple=True, type=click.Choice(sorted({*FORMATS, "tipline"})), help="Only these sources."
)
@click.option("--channel", "channels", multiple=True, help="Only these channels.")
@click.option("--text", help="Only messages containing this text (case-insensitive, any script).")
@click.option("--news", is_flag=True, help="Only news items.")
@click.option(
    "--place",
    "places",
    multiple=True,
    help="Only messages naming this place id, or a place in this district or region.",
)
@click.option("--limit", type=int, default=None, help="At most this many messages.")
@click.option(
    "--export",
    "export_format",
    type=click.Choice(["table", "jsonl", "csv", "geojson"]),
    default="table",
    help="Output format (geojson: one point per message and place it names).",
)
@click.option(
    "--output", "-O", type=click.File("w", encoding="utf-8"), default="-", help="Write here (default stdout)."
)
@click.pass_obj
def messages(
    obj: Context,
    since: str | None,
    until: str | None,
    sources: tuple[str, ...],
    channels: tuple[str, ...],
    text: str | None,
    news: bool,
    places: tuple[str, ...],
    limit: int | None,
    export_format: str,
    output: TextIO,
) -> None:
    """List or export messages, filtered by time, source, channel, text and place."""
    query = MessageQuery(
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        sources=sources,
        channels=channels,
        text=text,
        kind="news" if news else None,
        places=places,
        limit=limit if limit is not None or export_format != "table" else 50,
    )
    with errors():
        rows = obj.store.messages(query)
        if export_format == "jsonl":
            for row in rows:
                output.write(orjson.dumps(_public(row)).decode() + "\n")
        elif export_format == "csv":
            writer = csv.DictWriter(output, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow({**_public(row), "places": ";".join(p["id"] for p in row["places"])})
        elif export_format == "geojson":
            output.write(messages_geojson(_public(row) for row in rows))
        else:
            table = Table()
            for column in ("sent_at", "source", "channel", "author", "text"):
                table.add_column(column, overflow="fold")
            for row in rows:
                table.add_row(
                    row["sent_at"][:19], row["source"], row["channel"], row["author"] or "", row["text"][:160]
                )
            Console(file=output).print(table)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A message as exported: raw author ids and names only where the store keeps them (opt-in)."""
    return {k: v for k, v in row.items() if v is not None or k not in {"author_raw", "author_name"}}


@main.group()
def quarantine() -> None:
    """Inspect and replay records that could not be read."""


@quarantine.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include resolved records.")
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many records.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def quarantine_list(obj: Context, show_all: bool, limit: int, as_json: bool) -> None:
    """Quarantined records: where they came from and why they were rejected."""
    with errors():
        items = obj.store.quarantine_items(status=None if show_all else "pending", limit=limit)
    if as_json:
        out.print_json(
            orjson.dumps(
                [
                    {
                        "id": i.id,
                        "file": i.source_file,
                        "locator": i.locator,
                        "format": i.format,
                        "code": i.code,
                        "reason": i.reason,
                        "status": i.status,
                        "attempts": i.attempts,
                        "sha256": i.sha256,
                        "size": len(i.data),
                    }
                    for i in items
                ]
            ).decode()
        )
        return
    table = Table(title="quarantine")
    for column in ("id", "file", "where", "format", "code", "reason", "status"):
        table.add_column(column, overflow="fold")
    for i in items:
        table.add_row(str(i.id), i.source_file, i.locator, i.format, i.code, i.reason, i.status)
    out.print(table)


@quarantine.command("show")
@click.argument("item_id", type=int)
@click.option("--raw", is_flag=True, help="Write the raw bytes to stdout, exactly as read.")
@click.pass_obj
def quarantine_show(obj: Context, item_id: int, raw: bool) -> None:
    """One quarantined record with its reason and raw content."""
    with errors():
        item = obj.store.quarantine_item(item_id)
    if item is None:
        fail(ConfigError("not_found", f"no quarantined record with id {item_id}"))
        return
    if raw:
        sys.stdout.buffer.write(item.data)
        return
    for key, value in (
        ("id", item.id),
        ("file", item.source_file),
        ("where", item.locator),
        ("format", item.format),
        ("code", item.code),
        ("reason", item.reason),
        ("status", item.status),
        ("attempts", item.attempts),
        ("captured", item.created_at),
        ("sha256", item.sha256),
        ("size", f"{len(item.data)} bytes"),
        ("options", dict(item.options)),
    ):
        out.print(f"[bold]{key}:[/bold] {value}")
    preview = item.data[:2000].decode("utf-8", errors="backslashreplace")
    out.print("[bold]raw (first 2000 bytes, undecodable bytes escaped):[/bold]")
    out.print(preview, markup=False, highlight=False)


@quarantine.command("retry")
@click.argument("item_ids", nargs=-1, type=int)
@click.option("--all", "retry_all", is_flag=True, help="Retry every pending record.")
@click.option(
    "--option",
    "-o",
    "option_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change a reader option for the retry, e.g. encoding=cp1251 or timezone=Asia/Almaty.",
)
@click.pass_obj
def quarantine_retry(obj: Context, item_ids: tuple[int, ...], retry_all: bool, option_pairs: tuple[str, ...]) -> None:
    """Parse quarantined records again (after a fix to the reader or with changed options)."""
    overrides = _parse_pairs(option_pairs, "--option")
    with errors():
        ids = list(item_ids) or (
            [i.id for i in obj.store.quarantine_items(limit=1_000_000) if i.id] if retry_all else []
        )
        if not ids:
            fail(ConfigError("nothing_to_retry", "name quarantined record ids, or pass --all"))
        missing = [i for i in ids if obj.store.quarantine_item(i) is None]
        if missing:
            fail(ConfigError("not_found", f"no quarantined record with id {', '.join(map(str, missing))}"))
        runner = obj.runner()
        failed = 0
        for item_id in ids:
            ok, note = runner.retry(item_id, overrides)
            failed += not ok
            out.print(f"{item_id}: {note}")
    if failed:
        sys.exit(EXIT_QUARANTINE_LEFT)


@main.group()
def archive() -> None:
    """The evidence archive: every raw record, hash-chained."""


@archive.command("verify")
@click.option("--head", "expected_head", help="Also check that the chain ends at this head hash (recorded earlier).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def archive_verify(obj: Context, expected_head: str | None, as_json: bool) -> None:
    """Recompute every record hash and chain link; report the first entries that do not fit."""
    with errors():
        report = obj.store.verify_archive(expected_head)
    if as_json:
        out.print_json(
            orjson.dumps(
                {"ok": report.ok, "entries": report.entries, "head": report.head, "problems": report.problems}
            ).decode()
        )
    elif report.ok:
        out.print(f"[green]archive intact[/green]: {report.entries} entries, head {report.head}")
    else:
        for problem in report.problems:
            out.print(f"[red]{problem}[/red]")
        out.print(f"archive verification failed: {report.entries} entries checked")
    if not report.ok:
        sys.exit(5)


@main.command()
@click.option("--limit", type=int, default=20, show_default=True, help="How many recent runs.")
@click.pass_obj
def runs(obj: Context, limit: int) -> None:
    """Recent ingest runs: what was read, counts, errors, duration."""
    table = Table(title="ingest runs")
    for column in ("id", "started", "status", "read", "added", "dups", "skipped", "quarantined", "seconds"):
        table.add_column(column)
    with errors():
        for run in obj.store.runs(limit):
            table.add_row(
                str(run["id"]),
                run["started_at"][:19],
                run["status"],
                str(run["records_read"]),
                str(run["messages_added"]),
                str(run["duplicates"]),
                str(run["skipped"]),
                str(run["quarantined"]),
                f"{run['duration_s'] or 0:.2f}",
            )
    out.print(table)


@main.command()
@click.option(
    "--store-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo store in this folder (default: a temporary folder).",
)
@click.option(
    "--timeline",
    "timeline_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the timeline picture (SVG).",
)
@click.pass_obj
def demo(obj: Context, store_dir: Path | None, timeline_path: Path | None) -> None:
    """Ingest the bundled fictional three-day scenario into a fresh store and show what it found."""
    from flashpoint.demo import run_demo

    with errors():
        run_demo(obj.config, store_dir=store_dir, timeline_path=timeline_path, console=out, progress_console=console)


@main.command()
@click.argument("texts", nargs=-1)
@click.option(
    "--input",
    "input_file",
    type=click.File("rb"),
    help='JSONL to read ({"id": ..., "text": ...} per line); default: standard input when no TEXT is given.',
)
@click.pass_obj
def analyze(obj: Context, texts: tuple[str, ...], input_file: BinaryIO | None) -> None:
    """Language, normalised text, speech signals, places and matched claims (those registered in the
    store) of each TEXT, or of each JSONL line, as JSON lines.

    Streams: each result is written as its line is read. A line that is not JSON or has no "text"
    gives an object with "error" naming the line; the stream goes on and the exit code is 3.
    """
    from flashpoint.rumours.claims import Claim
    from flashpoint.runners.analyze import Analyzer

    with errors():
        path = obj.config.store.path
        claims = (
            [Claim.from_record(r) for r in obj.store.claims()] if path != ":memory:" and Path(path).exists() else []
        )
        analyzer = Analyzer(obj.config, claims)
    sink = sys.stdout.buffer
    failed = 0
    if texts:
        results: Iterator[dict[str, Any]] = (analyzer.analyze_text(text) for text in texts)
    else:
        results = analyzer.analyze_lines(input_file or sys.stdin.buffer)
    for result in results:
        failed += "error" in result
        sink.write(orjson.dumps(result) + b"\n")
        sink.flush()
    if failed:
        console.print(f'[yellow]{failed} line(s) could not be analysed[/yellow] (see their "error" objects)')
        sys.exit(EXIT_FILE_ERROR)


@main.group("eval")
def eval_group() -> None:
    """Measure Flashpoint against its test suites."""


@eval_group.command("speech")
@click.option(
    "--suite",
    "suite_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A suite directory in the packaged layout (default: the packaged functional suite).",
)
@click.option("--language", "languages", multiple=True, help="Only these languages (ru, kk, ky, en).")
@click.option("--split", type=click.Choice(["all", "dev", "heldout"]), default="all", show_default=True)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Evaluate the rules with this trained model as their cascade (default: the pipeline's, if any).",
)
@click.option("--failures", type=int, default=0, help="Also list up to this many failing cases.")
@click.option(
    "--markdown", "markdown_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the table here."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def eval_speech(
    obj: Context,
    suite_dir: Path | None,
    languages: tuple[str, ...],
    split: str,
    model_dir: Path | None,
    failures: int,
    markdown_path: Path | None,
    as_json: bool,
) -> None:
    """Run the HateCheck-style functional suite through the speech stages; accuracy per functionality
    and language (a case counts as dangerous at severity medium or above)."""
    from flashpoint.runners.analyze import Analyzer
    from flashpoint.speech.suite import evaluate, load_suite, report_json, report_markdown

    config = obj.config
    if model_dir:
        config = replace(config, speech=replace(config.speech, model=str(model_dir), use_model=True))
    with errors():
        suite = load_suite(suite_dir)
        analyzer = Analyzer(config)
    cases = [c for c in suite.cases if (not languages or c.language in languages) and split in ("all", c.split)]
    if not cases:
        fail(ConfigError("empty_suite", "no suite cases match the --language and --split given"))

    def predict(texts: Sequence[str], language: str) -> list[bool]:
        return [SEVERITIES.index(analyzer.analyze_text(t)["speech"]["severity"]) >= 2 for t in texts]

    with console.status(f"evaluating {len(cases)} cases"):
        report = evaluate(cases, predict)
    table = report_markdown(report)
    if markdown_path:
        markdown_path.write_text(table, encoding="utf-8")
    if as_json:
        out.print_json(orjson.dumps(report_json(report)).decode())
    else:
        out.print(table, markup=False, highlight=False)
    by_id = {c.case_id: c for c in cases}
    for case_id in report.failures[:failures]:
        case = by_id[case_id]
        out.print(f"{case.case_id}\t{case.label}\t{case.text}", markup=False, highlight=False)


@eval_group.command("places")
@click.option(
    "--data",
    "data_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=Path("tests/data/places/eval.tsv"),
    show_default=True,
    help="Labelled texts: id, language, text, gold (Name|CC|District;... or -), note.",
)
@click.option("--failures", type=int, default=0, help="Also list up to this many wrong cases.")
@click.option(
    "--split",
    type=click.Choice(["all", "dev", "heldout"]),
    default="dev",
    show_default=True,
    help="Whose failures --failures lists (every fourth case is held out from tuning).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def eval_places(obj: Context, data_path: Path, failures: int, split: str, as_json: bool) -> None:
    """Top-1 settlement accuracy of place resolution on a labelled set, through the same stages as ingest."""
    from flashpoint.places.evaluate import evaluate, read_gold
    from flashpoint.places.gazetteer import load_gazetteer
    from flashpoint.runners.analyze import Analyzer

    with errors():
        cases = read_gold(data_path)
        analyzer = Analyzer(obj.config)
        report = evaluate(cases, lambda c: [p["id"] for p in analyzer.analyze_text(c.text)["places"]], load_gazetteer())
    if as_json:
        out.print_json(orjson.dumps(report.as_value()).decode())
    else:
        table = Table(title=f"place resolution, top-1 ({data_path})")
        for column in ("slice", "correct", "total", "accuracy"):
            table.add_column(column, justify="left" if column == "slice" else "right")
        for key, value in report.as_value().items():
            table.add_row(key, str(value["correct"]), str(value["total"]), f"{100 * value['accuracy']:.1f} %")
        out.print(table)
    by_id = {c.case_id: c for c in cases}
    shown = [f for f in report.failures if split in ("all", by_id[f[0]].split)]
    for case_id, expected, got in shown[:failures]:
        text = by_id[case_id].text
        out.print(f"{case_id}\texpected {expected}\tgot {got}\t{text}", markup=False, highlight=False)


main.add_command(train)
main.add_command(label)
main.add_command(places)
main.add_command(rumours)
main.add_command(claims)

if __name__ == "__main__":  # pragma: no cover
    main()
