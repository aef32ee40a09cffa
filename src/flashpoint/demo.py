"""The demo: ingest the bundled fictional scenario into a fresh store and show what was found.

The scenario (``flashpoint/data/demo``) is a set of real-format exports with a manifest that names
each source, its reader options and the onset of violence. Later issues extend the report with
speech signals, rumours, risk and alerts; this one shows ingest, quarantine and the evidence archive.

Example:
    >>> manifest = load_manifest()
    >>> manifest.onset.tzinfo is not None
    True
"""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from flashpoint.charts import hourly_bars_png, hourly_timeline_svg
from flashpoint.config import Config, StoreConfig
from flashpoint.errors import ConfigError
from flashpoint.rumours.claims import demo_claims
from flashpoint.runners.embedded import EmbeddedRunner, IngestStats
from flashpoint.runners.rumours import check_stories, story_of
from flashpoint.speech.signals import SEVERITIES
from flashpoint.store import MessageQuery, SqliteStore

# Moments of the manifest's timeline drawn on the picture, besides the onset.
FLAGGED = ("medium", "high", "critical")
MARKED = ("dispute", "first_false_claim", "first_call_to_gather", "official_denial")


@dataclass(frozen=True)
class DemoSource:
    path: Path
    format: str
    options: dict[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class Manifest:
    name: str
    description: str
    onset: datetime
    onset_place: str
    sources: list[DemoSource]
    timeline: dict[str, datetime]
    home_area: str = ""

    @property
    def local_offset(self) -> timedelta:
        return self.onset.utcoffset() or timedelta(0)


def demo_dir() -> Path:
    return Path(str(resources.files("flashpoint") / "data" / "demo"))


def load_manifest(folder: Path | None = None) -> Manifest:
    """Read manifest.toml; paths in it are relative to its folder."""
    folder = folder or demo_dir()
    path = folder / "manifest.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        sources = [
            DemoSource(
                path=folder / s["path"],
                format=s["format"],
                options=dict(s.get("options", {})),
                label=s.get("name") or s.get("label") or Path(s["path"]).name,
            )
            for s in data["sources"]
        ]
        timeline = {k: _moment(v) for k, v in data.get("timeline", {}).items() if isinstance(v, str | datetime)}
        return Manifest(
            name=data.get("name", "demo"),
            description=data.get("description", ""),
            onset=_moment(data["onset"]),
            onset_place=str(data.get("onset_place", "")),
            sources=sources,
            timeline=timeline,
            home_area=str(data.get("home_area", "")),
        )
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("bad_manifest", f"{path}: cannot read the scenario manifest: {exc}") from exc


def _moment(value: str | datetime) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value} has no UTC offset")
    return moment


def fresh_store(config: Config, store_dir: Path | None) -> tuple[Config, SqliteStore]:
    """A new, empty demo store (in ``store_dir`` or a temporary folder), keys beside it."""
    folder = store_dir or Path(tempfile.mkdtemp(prefix="flashpoint-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    demo_config = replace(config, store=StoreConfig(path=str(db)))
    return demo_config, SqliteStore.from_config(demo_config)


def run_demo(
    config: Config,
    *,
    store_dir: Path | None,
    timeline_path: Path | None,
    console: Console,
    progress_console: Console,
) -> IngestStats:
    manifest = load_manifest()
    if manifest.home_area and not config.places.home_area:
        config = replace(config, places=replace(config.places, home_area=manifest.home_area))
    demo_config, store = fresh_store(config, store_dir)
    runner = EmbeddedRunner(store, demo_config)
    for claim in demo_claims():  # the fact-checkers' registry, as a team would keep it
        store.put_claim(claim.as_record())
    console.rule(f"[bold]{manifest.name}[/bold]")
    console.print(manifest.description.strip(), markup=False)
    per_source = Table(title="ingest")
    for column in ("source", "format", "read", "messages", "skipped", "quarantined"):
        per_source.add_column(column, justify="left" if column in {"source", "format"} else "right")
    total = IngestStats()
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} sources"))
    with Progress(*columns, console=progress_console, transient=True, disable=not progress_console.is_terminal) as bar:
        task = bar.add_task("ingesting", total=len(manifest.sources))
        for source in manifest.sources:
            stats = runner.ingest([source.path], fmt=source.format, options=source.options)
            per_source.add_row(
                source.label,
                source.format,
                str(stats.records_read),
                str(stats.messages_added),
                str(stats.skipped),
                str(stats.quarantined),
            )
            _accumulate(total, stats)
            bar.advance(task)
    per_source.add_row(
        "[bold]all[/bold]",
        "",
        str(total.records_read),
        str(total.messages_added),
        str(total.skipped),
        str(total.quarantined),
    )
    console.print(per_source)
    for error in total.errors:
        console.print(f"[red]error:[/red] {error}")
    _print_languages(store, console)
    _print_quarantine(store, console)
    _print_onset_window(store, manifest, console)
    _print_speech(store, manifest, console)
    _print_places(store, console)
    _print_rumours(store, manifest, console, timeline_path)
    report = store.verify_archive()
    console.print(
        f"evidence archive: {report.entries} raw records, hash chain "
        f"{'[green]intact[/green]' if report.ok else '[red]BROKEN[/red]'}, head {report.head[:16]}…"
    )
    if timeline_path:
        timeline_path.parent.mkdir(parents=True, exist_ok=True)
        named = [(manifest.timeline[name], name.replace("_", " ")) for name in MARKED if name in manifest.timeline]
        marks = [*named, (manifest.onset, f"onset: {manifest.onset_place}")]
        timeline_path.write_text(
            hourly_timeline_svg(
                store.hourly_counts(),
                title=f"{manifest.name}: messages per hour by source (local time UTC{_offset(manifest.local_offset)})",
                marks=marks,
                display_offset=manifest.local_offset,
            ),
            encoding="utf-8",
        )
        speech_path = timeline_path.with_name(f"{timeline_path.stem}-speech{timeline_path.suffix}")
        speech_path.write_text(
            hourly_timeline_svg(
                store.hourly_speech_counts(FLAGGED),
                title=f"{manifest.name}: messages flagged by the speech rules per hour, by severity "
                f"(local time UTC{_offset(manifest.local_offset)})",
                marks=marks,
                display_offset=manifest.local_offset,
            ),
            encoding="utf-8",
        )
        console.print(f"timeline pictures: {timeline_path}, {speech_path}")
    console.print(f"store: {demo_config.store.path}  (try: flashpoint --store {demo_config.store.path} status)")
    console.print("[dim]Risk scores and alerts join this report as issue 6 lands.[/dim]")
    return total


def _accumulate(total: IngestStats, stats: IngestStats) -> None:
    for name in ("files", "records_read", "messages_added", "duplicates", "skipped", "quarantined"):
        setattr(total, name, getattr(total, name) + getattr(stats, name))
    total.skipped_reasons.update(stats.skipped_reasons)
    total.errors.extend(stats.errors)


def _print_languages(store: SqliteStore, console: Console) -> None:
    by_language = store.status()["by_language"]
    table = Table(title="messages by language (und: no text to tell, such as media alone)")
    table.add_column("language")
    table.add_column("messages", justify="right")
    for language, count in by_language.items():
        table.add_row(str(language), str(count))
    console.print(table)


def _print_quarantine(store: SqliteStore, console: Console) -> None:
    items = store.quarantine_items()
    if not items:
        return
    table = Table(title="quarantined records (flashpoint quarantine list)")
    for column in ("id", "file", "where", "reason"):
        table.add_column(column, overflow="fold")
    for item in items[:10]:
        table.add_row(str(item.id), Path(item.source_file).name, item.locator, f"{item.reason} [{item.code}]")
    console.print(table)


def _print_onset_window(store: SqliteStore, manifest: Manifest, console: Console) -> None:
    """Messages per hour in the twelve hours before the onset and six after, per source."""
    since, until = manifest.onset - timedelta(hours=12), manifest.onset + timedelta(hours=6)
    counts = store.hourly_counts(MessageQuery(since=since, until=until))
    sources = sorted({s for _, s, _ in counts})
    by_hour: dict[str, dict[str, int]] = {}
    for hour, source, n in counts:
        by_hour.setdefault(hour, {})[source] = n
    offset = manifest.local_offset
    table = Table(title=f"messages per hour around the onset ({manifest.onset.isoformat()}, {manifest.onset_place})")
    table.add_column(f"hour (UTC{_offset(offset)})")
    for source in sources:
        table.add_column(source, justify="right")
    table.add_column("all", justify="right")
    for hour in sorted(by_hour):
        start = datetime.fromisoformat(hour + ":00:00+00:00")
        marker = " ← onset" if start <= manifest.onset < start + timedelta(hours=1) else ""
        row = by_hour[hour]
        table.add_row(
            f"{start + offset:%d %b %H:00}{marker}", *(str(row.get(s, 0)) for s in sources), str(sum(row.values()))
        )
    console.print(table)


def _print_speech(store: SqliteStore, manifest: Manifest, console: Console) -> None:
    """Severity counts, the first flagged call before the onset, and the most dangerous messages with
    the signals and rules behind them."""
    by_severity = store.status()["by_severity"]
    counts = ", ".join(f"{name} {by_severity.get(name, 0)}" for name in reversed(SEVERITIES))
    console.print(f"speech signals: {counts}")
    flagged = store.speech_flags(FLAGGED[1:], limit=10_000)
    early = [f for f in flagged if datetime.fromisoformat(f["sent_at"]) < manifest.onset]
    if early:
        first = min(early, key=lambda f: f["sent_at"])
        lead = manifest.onset - datetime.fromisoformat(first["sent_at"])
        console.print(
            f"first high or critical message: {lead.total_seconds() / 3600:.1f} hours before the onset "
            f"({first['speech']['severity']}, {first['source']}, id {first['id']})"
        )
    table = Table(title="most dangerous messages (flashpoint analyze shows every span and rule)")
    for column in ("local time", "severity", "signals", "place", "text"):
        table.add_column(column, overflow="fold")
    for flag in flagged[:8]:
        speech = flag["speech"]
        signals = [s for s in speech["signals"] if s["name"] not in ("target", "model")]
        places = store.enrichments(flag["id"]).get("places", {}).get("places", [])
        call = ", ".join(p["name"] for p in places[:2])
        when = datetime.fromisoformat(flag["sent_at"]) + manifest.local_offset
        text = flag["text"] if len(flag["text"]) <= 70 else flag["text"][:69] + "…"
        names = ", ".join(s["name"].replace("_", " ") for s in signals[:3])
        table.add_row(f"{when:%d %b %H:%M}", speech["severity"], names, call, text)
    console.print(table)


def _print_places(store: SqliteStore, console: Console) -> None:
    """The settlements the messages name most (flashpoint messages --place ID lists them)."""
    table = Table(title="places named most (messages; as the scene)")
    for column in ("place", "district", "country", "messages", "as scene", "id"):
        table.add_column(column, justify="right" if column in ("messages", "as scene") else "left")
    for row in store.place_counts(10):
        table.add_row(
            row["name"], row["district"] or "", row["country"], str(row["messages"]), str(row["as_scene"]), row["id"]
        )
    console.print(table)


def _print_rumours(store: SqliteStore, manifest: Manifest, console: Console, timeline_path: Path | None) -> None:
    """The false claim's cluster: where it started, how it spread, and the registered correction."""
    stories = [story_of(store, c["cluster_id"]) for c in store.rumour_clusters(min_size=5, limit=10_000)]
    checked = check_stories(store, stories)
    false = [c for c in checked if c.claim is not None and c.claim.verdict == "false"]
    console.print(
        f"rumours: {len(stories)} clusters of 5+ forwarded copies; {len(false)} match a claim registered as false"
    )
    if not false:
        return
    top = max(false, key=lambda c: c.story.size)
    story, first = top.story, top.story.first[0]
    lead = (manifest.onset - first.sent_at).total_seconds() / 3600
    console.print(
        f"the false claim [bold]{top.claim.claim_id if top.claim else ''}[/bold]: {story.size} copies in "
        f"{story.channels} channels, first seen {first.sent_at + manifest.local_offset:%d %b %H:%M} in "
        f"{first.channel} ({lead:.1f} hours before the onset); severity {story.severity}; "
        f"per hour: {', '.join(str(p.messages) for p in story.curve)}"
    )
    console.print(f"correction to send: {top.correction}", markup=False)
    if timeline_path:
        png = timeline_path.with_name(f"{timeline_path.stem}-rumour.png")
        png.write_bytes(
            hourly_bars_png(
                [(p.hour, p.messages) for p in story.curve],
                title=f"false claim {top.claim.claim_id if top.claim else ''}: copies per hour (UTC)",
                marks=[(manifest.onset.astimezone(UTC).strftime("%Y-%m-%dT%H"), "onset")],
            )
        )
        console.print(f"rumour picture: {png}")


def _offset(offset: timedelta) -> str:
    hours = offset.total_seconds() / 3600
    return f"{hours:+g}"
