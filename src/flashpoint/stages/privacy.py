"""Author pseudonymisation at ingest: a keyed hash replaces every person id before anything is stored.

The key comes from configuration or the ``FLASHPOINT_PSEUDONYM_KEY`` environment variable. The
same person in the same source gets the same pseudonym across runs, so analytics can count distinct
authors; without the key nobody can test a guessed id against the store. Raw ids and display names
are kept only when the user turns ``keep_raw_authors`` on.

Sources mark every other reference to a person the same way: ``user:<id or name>``, alone (a
forward from a person, a one-to-one chat used as a channel) or inside a message id
(``vk:user:<id>:<post>``). This stage replaces each such reference in the channel, the id, the
reply-to, the forwarded-from and the string values of ``extra``.

Example:
    >>> p = Pseudonymiser(b"k" * 32)
    >>> p.pseudonym("telegram", "user123")[:3]
    'au_'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from flashpoint.model import Enriched, Message, message_id

PERSON_PREFIX = "user:"
PSEUDONYM_PREFIX = "au_"
_PSEUDONYM = re.compile(r"au_[0-9a-f]{24}")


class Pseudonymiser:
    """Keyed BLAKE2b over source and person id: stable, one-way without the key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._key = hashlib.blake2b(key, digest_size=32).digest()

    def pseudonym(self, source: str, person: str) -> str:
        digest = hashlib.blake2b(f"{source}\x1f{person}".encode(), key=self._key, digest_size=12)
        return PSEUDONYM_PREFIX + digest.hexdigest()

    def references(self, source: str, value: str) -> str:
        """A string with every ``user:<ref>`` person reference replaced by its pseudonym.

        >>> Pseudonymiser(b"k" * 32).references("vk", "vk:user:42:7").startswith("vk:user:au_")
        True
        """
        if value.startswith(PERSON_PREFIX):  # a person on their own: the rest is the id or name
            ref = value[len(PERSON_PREFIX) :]
            return value if _PSEUDONYM.fullmatch(ref) else PERSON_PREFIX + self.pseudonym(source, ref)
        head = f"{source}:{PERSON_PREFIX}"
        if value.startswith(head):  # a message id on a person's channel: the ref runs to the next ":"
            ref, sep, rest = value[len(head) :].partition(":")
            if not _PSEUDONYM.fullmatch(ref):
                return head + self.pseudonym(source, ref) + sep + rest
        return value


class Pseudonymise:
    """Replaces ``author_raw`` with its pseudonym in ``author`` and every person reference with
    its pseudonym; drops raw ids and names unless kept. Content-hash ids are derived again from
    the pseudonym, so no stored id depends on a raw person id."""

    name: ClassVar[str] = "pseudonymise"
    version: ClassVar[int] = 2
    needs: ClassVar[frozenset[str]] = frozenset()
    adds: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, pseudonymiser: Pseudonymiser, keep_raw_authors: bool = False) -> None:
        self.pseudonymiser = pseudonymiser
        self.keep_raw_authors = keep_raw_authors

    def __call__(self, record: Enriched) -> Enriched:
        m = record.message
        source = m.source.value
        refs = self.pseudonymiser.references
        author = self.pseudonymiser.pseudonym(source, m.author_raw) if m.author_raw else None
        changes: dict[str, Any] = {"author": author}
        if not self.keep_raw_authors:
            changes["author_raw"] = None
            changes["author_name"] = None
        channel = refs(source, m.channel)
        if channel != m.channel:
            changes["channel"] = channel
        for name in ("reply_to", "forwarded_from"):
            value = getattr(m, name)
            if value and PERSON_PREFIX in value:
                changes[name] = refs(source, value)
        if m.extra and any(isinstance(v, str) and PERSON_PREFIX in v for v in m.extra.values()):
            changes["extra"] = _extra_refs(m.extra, source, refs)
        changes["id"] = (
            message_id(m.source, channel, None, m.local_sent_at, author, m.text, int(m.extra.get("occurrence", 0)))
            if m.native_id is None
            else refs(source, m.id)
        )
        return Enriched(m.with_changes(**changes), record.values)


def _extra_refs(extra: Mapping[str, Any], source: str, refs: Any) -> dict[str, Any]:
    return {k: refs(source, v) if isinstance(v, str) else v for k, v in extra.items()}


__all__ = ["PERSON_PREFIX", "Message", "Pseudonymise", "Pseudonymiser"]
