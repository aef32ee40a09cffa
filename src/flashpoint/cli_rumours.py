"""`flashpoint rumours` and `flashpoint rumours show ID`: forwarded claims as clusters, with their story.

Example:
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(rumours, ["--help"]).exit_code
    0
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import click
import orjson
from rich.console import Console
from rich.table import Table

from flashpoint.charts import hourly_bars_png
from flashpoint.runners.rumours import by_growth, check_stories, story_of
from flashpoint.store.base import Store

out = Console()


class StoreAccess(Protocol):
    @property
    def store(self) -> Store: ...


@click.group(invoke_without_command=True)
@click.option(
    "--min-size", type=int, default=3, show_default=True, help="Only clusters of at least this many messages."
)
@click.option("--limit", type=int, default=20, show_default=True, help="At most this many clusters.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def rumours(ctx: click.Context, min_size: int, limit: int, as_json: bool) -> None:
    """Forwarded claims as clusters, fastest growing first: first source, spread, severity, why viral."""
    if ctx.invoked_subcommand is not None:
        return
    store = _store(ctx)
    stories = by_growth([story_of(store, c["cluster_id"]) for c in store.rumour_clusters(min_size, 10 * limit)])[:limit]
    checked = check_stories(store, stories)
    if as_json:
        out.print_json(orjson.dumps([c.as_value() for c in checked]).decode())
        return
    table = Table(title=f"{len(stories)} rumour cluster(s) of {min_size}+ messages")
    for column in ("id", "size", "channels", "first seen (UTC)", "first channel", "severity", "viral", "claim", "text"):
        table.add_column(column, overflow="fold")
    for c in checked:
        s, first = c.story, c.story.first[0]
        text = s.representative if len(s.representative) <= 80 else s.representative[:79] + "…"
        claim = f"{c.claim.claim_id} ({c.claim.verdict}, {c.claim.score:.2f})" if c.claim else ""
        table.add_row(
            s.cluster_id, str(s.size), str(s.channels), f"{first.sent_at:%d %b %H:%M}", first.channel, s.severity,
            "; ".join(s.viral), claim, text,
        )  # fmt: skip
    out.print(table)


@rumours.command("show")
@click.argument("cluster_id")
@click.option("--png", "png_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the growth plot here.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def rumours_show(ctx: click.Context, cluster_id: str, png_path: Path | None, as_json: bool) -> None:
    """A cluster's story as a timeline: first messages, growth per hour, places, signals."""
    store = _store(ctx)
    members = store.rumour_members(cluster_id)
    if not members:
        raise click.ClickException(f"no rumour cluster {cluster_id!r} (see `flashpoint rumours`)")
    story = story_of(store, cluster_id)
    (checked,) = check_stories(store, [story])
    if png_path:
        png_path.write_bytes(
            hourly_bars_png(
                [(p.hour, p.messages) for p in story.curve],
                title=f"rumour {cluster_id}: messages per hour (UTC), {story.size} in {story.channels} channels",
            )
        )
    if as_json:
        value = checked.as_value()
        value["members"] = members
        out.print_json(orjson.dumps(value).decode())
        return
    out.print(f"[bold]{cluster_id}[/bold]: {story.size} messages, {story.channels} channels, {story.authors} authors")
    out.print(f"languages: {_pairs(story.languages)}; places: {_pairs(story.places) or '-'}")
    out.print(f"severity {story.severity}; signals: {_pairs(story.signals) or '-'}")
    if story.viral:
        out.print("[red]viral:[/red] " + "; ".join(story.viral))
    if checked.claim:
        out.print(
            f"matches registered claim {checked.claim.claim_id} "
            f"({checked.claim.verdict}, score {checked.claim.score:.2f})",
            markup=False,
        )
        if checked.correction:
            out.print(f"correction: {checked.correction}", markup=False)
    table = Table(title="timeline")
    for column in ("time (UTC)", "channel", "language", "severity", "text"):
        table.add_column(column, overflow="fold")
    for m in members:
        text = m["text"] if len(m["text"]) <= 90 else m["text"][:89] + "…"
        table.add_row(m["sent_at"][:16], m["channel"], m["language"], m["speech"].get("severity", ""), text)
    out.print(table)
    if png_path:
        out.print(f"growth plot: {png_path}")


def _pairs(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _store(ctx: click.Context) -> Store:
    """The store of the command's context object (``cli.Context`` or any object with ``store``)."""
    access: StoreAccess = ctx.obj
    return access.store
