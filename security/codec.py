"""AES-GCM payload encryption for every Temporal payload (workflow inputs, decisions, queries,
activity inputs and results, history). The search attributes, ids and summaries stay in clear:
they never carry personal data."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from security.keys import KeyRing
from security.marks import UNSEALED

logger = logging.getLogger(__name__)

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class DecryptionError(ValueError):
    pass


class EncryptionCodec(PayloadCodec):
    """`mark_unsealed` (every client's and worker's codec; not the codec server's, which
    shows people what is there): a payload not encrypted by a key from the ring is passed on
    marked (`security/marks.py`). `mark_unreadable` (a worker's): a payload that cannot be
    decrypted (an unknown key id, a ciphertext that does not open) is marked unsealed with
    nothing readable left in it, instead of failing: a forged payload in a signal would
    otherwise fail every workflow task of its case for good (the signal stays in the
    history). Clients and replayers raise."""

    def __init__(
        self, ring: KeyRing, *, mark_unsealed: bool = False, mark_unreadable: bool = False
    ) -> None:
        self._ring = ring
        self._mark_unsealed = mark_unsealed
        self._mark_unreadable = mark_unreadable
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._ring.current
        nonce = os.urandom(NONCE_BYTES)
        # The key id is bound to the ciphertext as associated data: it cannot be swapped.
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def decrypt(self, payload: Payload) -> Payload:
        try:
            return self._decrypt(payload)
        except DecryptionError as err:
            if not self._mark_unreadable:
                raise
            logger.warning("payload treated as unsealed: %s", err)
            return Payload(metadata={"encoding": b"binary/null", UNSEALED: b"1"})

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            if not payload.metadata or not self._mark_unsealed:
                return payload  # an empty system payload (nothing to read), or for people
            # Not sealed by a key from the ring: readable, but marked so that workflows refuse
            # it as a decision, a signal or a new case (security/marks.py).
            marked = Payload()
            marked.CopyFrom(payload)
            marked.metadata[UNSEALED] = b"1"
            return marked
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            known = ", ".join(sorted(self._ciphers))
            raise DecryptionError(
                f"payload was encrypted with key {key_id!r}, which is not configured "
                f"(keys: {known}); keep old keys in SRO_CODEC_KEYS while histories use them"
            )
        data = payload.data
        try:
            plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except Exception:
            raise DecryptionError(f"payload does not decrypt with key {key_id!r}") from None
        return Payload.FromString(plain)
