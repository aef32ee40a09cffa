"""Author pseudonymisation at ingest: a keyed hash replaces the author id before anything is stored.

The key comes from configuration or the ``FLASHPOINT_PSEUDONYM_KEY`` environment variable. The
same author in the same source gets the same pseudonym across runs, so analytics can count distinct
authors; without the key nobody can test a guessed id against the store. Raw ids and display names
are kept only when the user turns ``keep_raw_authors`` on.

Example:
    >>> p = Pseudonymiser(b"k" * 32)
    >>> p.pseudonym("telegram", "user123")[:3]
    'au_'
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from flashpoint.model import Enriched, message_id

# Sources write ``forwarded_from`` as "user:<id or name>" when it names a person rather than a
# channel; the person part is pseudonymised like an author.
PERSON_PREFIX = "user:"


class Pseudonymiser:
    """Keyed BLAKE2b over source and author id: stable, one-way without the key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._key = hashlib.blake2b(key, digest_size=32).digest()

    def pseudonym(self, source: str, author: str) -> str:
        digest = hashlib.blake2b(f"{source}\x1f{author}".encode(), key=self._key, digest_size=12)
        return "au_" + digest.hexdigest()


class Pseudonymise:
    """Replaces ``author_raw`` with its pseudonym in ``author``; drops raw ids unless kept.

    A ``forwarded_from`` or a ``channel`` that names a person ("user:...", as a one-to-one chat
    does) is pseudonymised too, with the ids built on the channel. Messages without
    a native id get their content-hash id re-derived from the pseudonym, so no
    stored id depends on a raw author id.
    """

    name: ClassVar[str] = "pseudonymise"
    version: ClassVar[int] = 1
    needs: ClassVar[frozenset[str]] = frozenset()
    adds: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, pseudonymiser: Pseudonymiser, keep_raw_authors: bool = False) -> None:
        self.pseudonymiser = pseudonymiser
        self.keep_raw_authors = keep_raw_authors

    def __call__(self, record: Enriched) -> Enriched:
        m = record.message
        raw = m.author_raw
        author = self.pseudonymiser.pseudonym(m.source.value, raw) if raw else None
        changes: dict[str, object] = {"author": author}
        if not self.keep_raw_authors:
            changes["author_raw"] = None
            changes["author_name"] = None
        if m.forwarded_from and m.forwarded_from.startswith(PERSON_PREFIX):
            person = m.forwarded_from[len(PERSON_PREFIX) :]
            changes["forwarded_from"] = PERSON_PREFIX + self.pseudonymiser.pseudonym(m.source.value, person)
        channel = m.channel
        if channel.startswith(PERSON_PREFIX):
            channel = PERSON_PREFIX + self.pseudonymiser.pseudonym(m.source.value, channel[len(PERSON_PREFIX) :])
            changes["channel"] = channel
            old_prefix, new_prefix = f"{m.source.value}:{m.channel}:", f"{m.source.value}:{channel}:"
            changes["id"] = new_prefix + m.id.removeprefix(old_prefix)
            if m.reply_to and m.reply_to.startswith(old_prefix):
                changes["reply_to"] = new_prefix + m.reply_to.removeprefix(old_prefix)
        if m.native_id is None:
            changes["id"] = message_id(m.source, channel, None, m.sent_at, author, m.text)
        return type(record)(m.with_changes(**changes), record.values)
