"""The hash chain over the raw archive: each entry commits to its record and to the entry before.

Changing, inserting or deleting any entry changes every later entry hash, so ``verify_chain`` finds
the first entry that no longer fits. Deleting entries at the end is caught by comparing the head
with one recorded elsewhere (``flashpoint archive verify --head``).

Example:
    >>> e = ArchiveEntry(1, "ab" * 32, "2020-02-07T00:00:00Z", "chat.txt", "line 3", GENESIS, "")
    >>> e2 = e.sealed()
    >>> len(e2.entry_hash)
    64
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    seq: int
    sha256: str  # of the raw bytes
    captured_at: str
    source_file: str
    locator: str
    prev_hash: str
    entry_hash: str

    def expected_hash(self) -> str:
        payload = "\x1f".join(
            (str(self.seq), self.prev_hash, self.sha256, self.captured_at, self.source_file, self.locator)
        )
        return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()

    def sealed(self) -> ArchiveEntry:
        """The entry with its hash filled in."""
        return ArchiveEntry(
            self.seq,
            self.sha256,
            self.captured_at,
            self.source_file,
            self.locator,
            self.prev_hash,
            self.expected_hash(),
        )


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    head: str
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    entries: Iterable[tuple[ArchiveEntry, bytes | None]], expected_head: str | None = None, max_problems: int = 20
) -> VerifyReport:
    """Check every entry's record hash, entry hash and link to the previous entry.

    ``entries`` yields (entry, raw bytes); bytes may be None where only the chain is checked.
    """
    problems: list[str] = []
    prev = GENESIS
    count = 0
    expected_seq = 1
    for entry, data in entries:
        count += 1
        if entry.seq != expected_seq:
            problems.append(f"entry {entry.seq}: expected sequence number {expected_seq} (an entry is missing)")
        expected_seq = entry.seq + 1
        if entry.prev_hash != prev:
            problems.append(f"entry {entry.seq}: does not link to the entry before it")
        if entry.entry_hash != entry.expected_hash():
            problems.append(f"entry {entry.seq}: its metadata was changed after it was written")
        if data is not None and hashlib.sha256(data).hexdigest() != entry.sha256:
            problems.append(f"entry {entry.seq}: the raw record no longer matches its SHA-256")
        prev = entry.entry_hash
        if len(problems) >= max_problems:
            problems.append("stopped after too many problems")
            break
    if expected_head is not None and prev != expected_head:
        problems.append(f"the chain ends at {prev[:16]}…, not at the expected head {expected_head[:16]}…")
    return VerifyReport(entries=count, head=prev, problems=problems)
