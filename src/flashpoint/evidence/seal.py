"""Encryption at rest for raw records: the archive keeps evidence without exposing identities.

Raw records hold raw author ids and phone numbers, which Flashpoint otherwise never stores. The
archive and the quarantine therefore keep each raw record sealed with AES-256-GCM under the archive
key (from config or environment, else a key file beside the store). The SHA-256 that addresses a
record is of its plaintext, so verification with the key proves the record unchanged; the GCM tag
catches any change to the sealed bytes.

Example:
    >>> s = Sealer(b"k" * 32)
    >>> s.open(s.seal(b"raw record")) == b"raw record"
    True
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flashpoint.errors import IntegrityError

MAGIC = b"FPS1"
NONCE_BYTES = 12


class Sealer:
    """Seals and opens raw records. ``Sealer(None)`` stores plaintext (when the user turns
    ``privacy.encrypt_archive`` off)."""

    def __init__(self, key: bytes | None) -> None:
        self._aead = AESGCM(hashlib.sha256(b"flashpoint-archive\x1f" + key).digest()) if key else None

    @property
    def encrypts(self) -> bool:
        return self._aead is not None

    def seal(self, data: bytes) -> bytes:
        if self._aead is None:
            return data
        nonce = os.urandom(NONCE_BYTES)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, MAGIC)

    def open(self, blob: bytes) -> bytes:
        if not blob.startswith(MAGIC):
            return blob
        if self._aead is None:
            raise IntegrityError("archive_key_missing", "this record is sealed; set privacy.archive_key to open it")
        nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES :], MAGIC)
        except InvalidTag as exc:
            raise IntegrityError(
                "sealed_record_changed",
                "a sealed record fails its authentication tag: it was changed, or the key is wrong",
            ) from exc
