"""Error types with a code and a sentence a user can act on.

Every error that reaches a user names where it happened (file, record) and why. Record-level
errors never stop a run: the runner puts the record in quarantine and carries on.

Example:
    >>> e = RecordError("bad_json", "expecting ',' at column 17", source_file="a.jsonl", locator="line 3")
    >>> str(e)
    "a.jsonl, line 3: expecting ',' at column 17 [bad_json]"
"""

from __future__ import annotations


class FlashpointError(Exception):
    """Base of all errors Flashpoint raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


class ConfigError(FlashpointError):
    """The configuration or the command line asks for something impossible."""

    exit_code = 2


class FormatError(FlashpointError):
    """A whole file cannot be read: unknown format, not a file, undecidable auto-detection."""

    exit_code = 3


class StoreError(FlashpointError):
    """The store cannot be opened or migrated."""

    exit_code = 4


class IntegrityError(FlashpointError):
    """The evidence archive fails verification."""

    exit_code = 5


class RecordError(FlashpointError):
    """One record cannot be parsed; it goes to quarantine with this reason."""

    def __init__(self, code: str, message: str, *, source_file: str = "", locator: str = "") -> None:
        super().__init__(code, message)
        self.source_file = source_file
        self.locator = locator

    def at(self, source_file: str, locator: str) -> RecordError:
        """The same error, placed in a file and record."""
        return RecordError(self.code, self.message, source_file=source_file, locator=locator)

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.source_file, self.locator) if part)
        return f"{where}: {self.message} [{self.code}]" if where else super().__str__()
