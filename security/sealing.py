"""Sealing a short text with the key ring (issue 14: the register's free text at rest).

A sealed value is a self-describing text token, `sro-sealed:1:<key id>:<base64url>`, the
base64 holding a random 12-byte nonce and the AES-256-GCM ciphertext. It opens with whichever
key of the ring it names, so a ring rotated (a new current key, the old one kept) still opens
every value. The caller gives a context (which table, column and row the value belongs to): it
is bound to the ciphertext as associated data with the key id, so a value copied to another row
or column does not open.

Each ring key is used through two keys derived from it once (HKDF-SHA256), one to seal and one
for lookups (`lookup`: an HMAC that stays equal for equal text, for a column that must be
matched, such as part of a primary key), so neither shares a key with the payload codec.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from security.keys import KeyRing

PREFIX = "sro-sealed:1:"
NONCE_BYTES = 12
_SEAL_INFO = b"sro register sealing 1"
_LOOKUP_INFO = b"sro register lookup 1"


class SealError(ValueError):
    """A sealed value that does not open: its key is not in the ring, or it was altered or
    moved to another row."""


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _derive(key: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


class Sealer:
    """Seals and opens with one key ring. Build one per ring and keep it: the keys are derived
    and the AES-GCM objects made here, once, not per value."""

    def __init__(self, ring: KeyRing) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.current = ring.current
        self._ciphers: dict[str, AESGCM] = {
            key_id: AESGCM(_derive(key, _SEAL_INFO)) for key_id, key in ring.keys.items()
        }
        self._lookup_keys = {
            key_id: _derive(key, _LOOKUP_INFO) for key_id, key in ring.keys.items()
        }

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def seal(self, text: str, context: bytes) -> str:
        """The text sealed with the current key, bound to `context`."""
        key_id = self.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, text.encode(), _associated(key_id, context))
        return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, value: str, context: bytes) -> str:
        """The text of a sealed value; a value that is not sealed (written before sealing, or a
        marker such as a disposal's) is returned as it is."""
        if not is_sealed(value):
            return value
        key_id, _, encoded = value[len(PREFIX) :].partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            known = ", ".join(sorted(self._ciphers))
            raise SealError(
                f"sealed with key {key_id!r}, which is not in the key ring (keys: {known}); "
                "keep old keys in SRO_CODEC_KEYS while the register holds values they sealed"
            )
        try:
            data = base64.urlsafe_b64decode(encoded)
            plain = cipher.decrypt(
                data[:NONCE_BYTES], data[NONCE_BYTES:], _associated(key_id, context)
            )
        except Exception:
            raise SealError(
                f"does not open with key {key_id!r}: altered, or moved from another row"
            ) from None
        return plain.decode()

    def sealed_with(self, value: str) -> str | None:
        """The key id a sealed value names (None: not sealed)."""
        if not is_sealed(value):
            return None
        return value[len(PREFIX) :].partition(":")[0]

    def lookup(self, text: str, context: bytes, key_id: str | None = None) -> str:
        """A keyed hash of the text (equal for equal text and context under one key), prefixed
        with the key id: `<key id>:<64 hex digits>`."""
        key_id = key_id or self.current
        digest = hmac.new(
            self._lookup_keys[key_id], context + b"\x00" + text.encode(), hashlib.sha256
        )
        return f"{key_id}:{digest.hexdigest()}"

    def lookups(self, text: str, context: bytes) -> list[str]:
        """The text's lookup under every key of the ring (a value hashed before a rotation)."""
        return [self.lookup(text, context, key_id) for key_id in self._lookup_keys]


def _associated(key_id: str, context: bytes) -> bytes:
    return PREFIX.encode() + key_id.encode() + b"\x00" + context


__all__ = ["PREFIX", "SealError", "Sealer", "is_sealed"]
