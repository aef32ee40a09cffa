"""First text stages: Unicode clean-up and content hashing. The original text is never changed.

Example:
    >>> from datetime import datetime, timezone
    >>> from flashpoint.model import Enriched, Message
    >>> m = Message.create(source="jsonl", channel="c", native_id="1", raw_sha256="x",
    ...     sent_at=datetime(2020, 2, 7, tzinfo=timezone.utc), text="Ма\\u200bсан  чи\\n")
    >>> NormaliseUnicode()(Enriched(m)).values["text_clean"]
    'Масан чи'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import ClassVar

from flashpoint.model import Enriched

# Characters that carry no visible text but break matching: zero-width spaces and joiners, word
# joiner, BOM, soft hyphen, bidi marks and embeddings, Mongolian vowel separator, and C0/C1 controls
# other than the whitespace that whitespace folding handles.
_INVISIBLE = (
    [0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
    + [c for c in range(0x00, 0x20) if chr(c) not in "\t\n\r\x0b\x0c"]
    + list(range(0x7F, 0xA0))
)
_DELETE_INVISIBLE = dict.fromkeys(_INVISIBLE)
# str.translate is slow on non-ASCII text; a regex search finds the rare text that needs it.
_HAS_INVISIBLE = re.compile("[" + "".join(re.escape(chr(c)) for c in _INVISIBLE) + "]")


def clean_text(text: str) -> str:
    """NFC, invisible and control characters removed, every whitespace run folded to one space.

    >>> clean_text("  a\\u00a0\\tb\\n\\nc\\u200d ")
    'a b c'
    """
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _HAS_INVISIBLE.search(text):
        text = text.translate(_DELETE_INVISIBLE)
    return " ".join(text.split())


class NormaliseUnicode:
    """Adds ``text_clean``: the text in NFC with invisible characters removed and spaces folded."""

    name: ClassVar[str] = "normalise_unicode"
    version: ClassVar[int] = 1
    needs: ClassVar[frozenset[str]] = frozenset()
    adds: ClassVar[frozenset[str]] = frozenset({"text_clean"})

    def __call__(self, record: Enriched) -> Enriched:
        return record.with_values(text_clean=clean_text(record.message.text))


class ContentHash:
    """Adds ``content_hash``: SHA-256 of the cleaned text, the key for exact-duplicate lookups."""

    name: ClassVar[str] = "content_hash"
    version: ClassVar[int] = 1
    needs: ClassVar[frozenset[str]] = frozenset({"text_clean"})
    adds: ClassVar[frozenset[str]] = frozenset({"content_hash"})

    def __call__(self, record: Enriched) -> Enriched:
        digest = hashlib.sha256(record.values["text_clean"].encode("utf-8", "surrogatepass")).hexdigest()
        return record.with_values(content_hash=digest)
