"""`flashpoint claims add | list | show | import`: the analysts' registry of fact-checked claims.

A claim has a verdict, its text in ru/kk/en (one at least), a correction per language, sources and
dates (``flashpoint.rumours.claims.Claim``). ``import`` reads a CSV or TSV with the columns of
``flashpoint.rumours.claims.COLUMNS``; every row it cannot use is reported with its line number and
reason, and importing the same file again adds nothing. The commands take the store from the group's
context object (``flashpoint``'s own, which has ``config`` and ``store``); ``claims_cli`` is the same
group standing alone, for tests and embedding.

Example:
    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(claims, ["--help"]).exit_code
    0
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from flashpoint.cli_common import StoreAccess, StoreContext, console, errors
from flashpoint.config import Config
from flashpoint.errors import ConfigError
from flashpoint.rumours.claims import LANGUAGES, Claim, Verdict, claim_from_row, read_claims
from flashpoint.store.sqlite import SqliteStore

EXIT_BAD_ROWS = 3

out = Console()


def _writable_store(obj: StoreAccess) -> SqliteStore:
    """The store, created when it does not exist yet: registering claims may come before any ingest."""
    path = obj.config.store.path
    if path != ":memory:" and not Path(path).exists():
        return SqliteStore.from_config(obj.config)
    return obj.store


@click.group()
def claims() -> None:
    """Register fact-checked claims, and list or show them."""


@claims.command("add")
@click.option("--id", "claim_id", help="Claim id (a-z 0-9 . _ -); default: made from the texts.")
@click.option("--verdict", type=click.Choice([v.value for v in Verdict]), required=True)
@click.option("--text", "texts", multiple=True, metavar="LANG=TEXT", help="The claim in ru, kk or en; repeat.")
@click.option("--correction", "corrections", multiple=True, metavar="LANG=TEXT", help="Correction text; repeat.")
@click.option("--source", "sources", multiple=True, help="A URL that backs the verdict; repeat.")
@click.option("--tag", "tags", multiple=True, help="A tag; repeat.")
@click.option("--claimed-at", help="When the claim first circulated (YYYY-MM-DD).")
@click.option("--checked-at", help="When it was checked (YYYY-MM-DD).")
@click.option("--replace", is_flag=True, help="Replace a claim registered under the same id with other content.")
@click.pass_obj
def claims_add(
    obj: StoreAccess,
    claim_id: str | None,
    verdict: str,
    texts: tuple[str, ...],
    corrections: tuple[str, ...],
    sources: tuple[str, ...],
    tags: tuple[str, ...],
    claimed_at: str | None,
    checked_at: str | None,
    replace: bool,
) -> None:
    """Register one claim."""
    with errors():
        row: dict[str, str | None] = {
            "id": claim_id, "verdict": verdict, "sources": ";".join(sources), "tags": ";".join(tags),
            "claimed_at": claimed_at, "checked_at": checked_at,
        }  # fmt: skip
        row |= {f"text_{lang}": text for lang, text in _by_language(texts, "--text").items()}
        row |= {f"correction_{lang}": text for lang, text in _by_language(corrections, "--correction").items()}
        try:
            claim = claim_from_row(row)
        except ValueError as exc:
            raise ConfigError("bad_claim", str(exc)) from None
        outcome = _writable_store(obj).put_claim(claim.as_record(), replace=replace)
        if outcome == "conflict":
            raise ConfigError(
                "claim_exists", f"claim {claim.id} exists with other content; add --replace to replace it"
            )
        out.print(f"{outcome} {claim.id}", highlight=False, markup=False)


@claims.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace claims registered under the same id with other content.")
@click.pass_obj
def claims_import(obj: StoreAccess, path: Path, replace: bool) -> None:
    """Register the claims of a CSV or TSV file (UTF-8, header row; ``#`` lines are comments).

    Columns: id, verdict, claimed_at, checked_at, tags, sources, text_ru, text_kk, text_en, correction_ru,
    correction_kk, correction_en (any order); only one text column is needed. tags and sources are separated by
    ";". Rows that cannot be used are reported with their line number and the command exits with 3.
    """
    with errors():
        rows = read_claims(path)
        store = _writable_store(obj) if rows.claims else None
        outcomes: Counter[str] = Counter()
        for claim in rows.claims:
            assert store is not None
            outcome = store.put_claim(claim.as_record(), replace=replace)
            outcomes[outcome] += 1
            if outcome == "conflict":
                console.print(
                    f"{path}: claim {claim.id} exists with other content; not replaced (use --replace)",
                    highlight=False, markup=False,
                )  # fmt: skip
        for problem in rows.problems:
            console.print(f"{path}, line {problem.row}: {problem.reason}", highlight=False, markup=False)
        summary = ", ".join(f"{outcomes[k]} {k}" for k in ("added", "replaced", "unchanged", "conflict"))
        out.print(f"{summary}, {len(rows.problems)} bad row(s)", highlight=False, markup=False)
        if rows.problems or outcomes["conflict"]:
            sys.exit(EXIT_BAD_ROWS)


@claims.command("list")
@click.option("--verdict", type=click.Choice([v.value for v in Verdict]), help="Only claims with this verdict.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def claims_list(obj: StoreAccess, verdict: str | None, as_json: bool) -> None:
    """Registered claims: id, verdict, dates, languages and the text in the first language."""
    with errors():
        records = obj.store.claims(verdict)
        if as_json:
            out.print_json(orjson.dumps(records).decode())
            return
        table = Table(title=f"{len(records)} claim(s)")
        for column in ("id", "verdict", "checked", "languages", "text"):
            table.add_column(column, overflow="fold")
        for r in records:
            first = next((r["texts"][k] for k in LANGUAGES if k in r["texts"]), "")
            table.add_row(r["id"], r["verdict"], r["checked_at"] or "", ",".join(r["texts"]), first[:100])
        out.print(table)


@claims.command("show")
@click.argument("claim_id")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def claims_show(obj: StoreAccess, claim_id: str, as_json: bool) -> None:
    """Everything registered about one claim."""
    with errors():
        record = obj.store.claim(claim_id)
        if record is None:
            raise ConfigError("unknown_claim", f"there is no claim {claim_id!r}; see `flashpoint claims list`")
        if as_json:
            out.print_json(orjson.dumps(record).decode())
            return
        claim = Claim.from_record(record)
        table = Table(title=f"{claim.id} ({claim.verdict.value})", show_header=False)
        for key, value in _described(claim, record):
            table.add_row(key, value)
        out.print(table)


def _described(claim: Claim, record: dict[str, Any]) -> list[tuple[str, str]]:
    lines = [(f"claim {lang}", text) for lang, text in claim.texts.items()]
    lines += [(f"correction {lang}", text) for lang, text in claim.corrections.items()]
    lines += [
        ("sources", "\n".join(claim.sources)),
        ("tags", ", ".join(claim.tags)),
        ("claimed at", str(claim.claimed_at or "")),
        ("checked at", str(claim.checked_at or "")),
        ("registered", str(record.get("added_at", ""))),
    ]
    return lines


def _by_language(pairs: tuple[str, ...], option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        lang, sep, text = pair.partition("=")
        if not sep or lang.strip() not in LANGUAGES:
            raise ConfigError("bad_option", f"{option} {pair[:40]!r}: write LANG=TEXT with LANG one of ru, kk, en")
        found[lang.strip()] = text
    return found


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML config file.")
@click.option("--store", "store_path", help="Store file.")
@click.pass_context
def claims_cli(ctx: click.Context, config_path: str | None, store_path: str | None) -> None:
    """The claims commands of `flashpoint`, alone."""
    with errors():
        ctx.obj = StoreContext(Config.load(config_path).with_store(store_path))


claims_cli.add_command(claims)
