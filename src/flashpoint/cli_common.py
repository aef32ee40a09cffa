"""What every command module shares: the context object with the store, and error handling.

Example:
    >>> from flashpoint.config import Config
    >>> StoreContext(Config()).config.store.path
    'flashpoint.db'
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn, Protocol

from rich.console import Console

from flashpoint.config import Config
from flashpoint.errors import FlashpointError, StoreError
from flashpoint.store.sqlite import SqliteStore

console = Console(stderr=True)


class StoreAccess(Protocol):
    """What the commands need from the group's context object."""

    config: Config

    @property
    def store(self) -> SqliteStore: ...


class StoreContext:
    """The configured store, opened on first use; commands that only read refuse to create one at
    a mistyped path."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._store: SqliteStore | None = None

    @property
    def store(self) -> SqliteStore:
        if self._store is None:
            self._store = SqliteStore.existing(self.config)
        return self._store


def fail(exc: FlashpointError) -> NoReturn:
    """Print the error a user can act on and exit with its code."""
    console.print(f"[red]error:[/red] {exc}", soft_wrap=True, markup=True, highlight=False)
    sys.exit(exc.exit_code)


@contextmanager
def errors() -> Iterator[None]:
    """Turn Flashpoint and SQLite errors into a message and an exit code."""
    try:
        yield
    except FlashpointError as exc:
        fail(exc)
    except sqlite3.Error as exc:
        fail(StoreError("store_error", f"the store failed: {exc}"))
