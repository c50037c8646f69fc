"""AES-GCM payload encryption for every Temporal payload (workflow inputs, decisions, queries,
activity inputs and results, history, and the summaries of timers and activities, which the SDK
passes through the codec too: the Web UI shows them through the codec server). The search
attributes and ids stay in clear: they never carry personal data.

A case's payloads (those of a `referral-<case ref>` workflow and of its activities) are sealed
with the case's own data key (`security/case_keys.py`), so that destroying that key disposes of
every copy of them; everything else with the ring's current key. Decoding reads which key from
the payload's metadata, never from the context, so histories sealed before case keys existed
still decode.

A payload of `COMPRESS_FROM` bytes or more is compressed (raw deflate) before it is sealed, when
that makes it smaller (`COMPRESSED` in its metadata, bound to the ciphertext): the partnership's
settings, decisions' replies with their deadlines, and notices shrink by half or more, and a
case's history by about a sixth (issue 16). Compressing before encrypting lets a payload's length
say a little about how repetitive its content is; only people who hold a key can put text in a
payload, and only operators see lengths (DATA-PROTECTION.md).
"""

from __future__ import annotations

import copy
import logging
import os
import re
import zlib
from collections.abc import Sequence
from typing import Self

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from security.case_keys import (
    CaseDisposed,
    CaseKeys,
    CaseKeyUnavailable,
    DecryptionError,
    case_ref_of,
)
from security.keys import KeyRing
from security.marks import UNSEALED

logger = logging.getLogger(__name__)

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
#: The metadata naming the case key a payload is sealed with (instead of KEY_ID).
CASE_KEY = "sro-case-key"
NONCE_BYTES = 12
#: The metadata saying the sealed bytes are raw deflate (its value names the method).
COMPRESSED = "sro-compressed"
DEFLATE = b"deflate"
#: Smaller payloads gain too little for the compression's cost (about 10 us a payload).
COMPRESS_FROM = 256
#: A 4 KiB window and a small hash table: a payload is a few KiB at most, and the default
#: (32 KiB, memLevel 8) spends 50 us setting up its state for each one, against 8 here.
_WINDOW_BITS = 12
_MEM_LEVEL = 4
#: What a compressed payload may open to: far above Temporal's 2 MB payload limit, low enough
#: that a payload cannot exhaust a process's memory (only a key holder can make one).
MAX_OPENED_BYTES = 16 * 1024 * 1024
_CASE_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,40}")
#: What the codec server shows for a payload whose case key is destroyed.
DISPOSED = "disposed: personal data"

__all__ = [
    "CASE_KEY",
    "COMPRESSED",
    "DISPOSED",
    "ENCODING",
    "KEY_ID",
    "CaseDisposed",
    "CaseKeyUnavailable",
    "DecryptionError",
    "EncryptionCodec",
]


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """`mark_unsealed` (every client's and worker's codec; not the codec server's, which
    shows people what is there): a payload not encrypted by a key from the ring is passed on
    marked (`security/marks.py`). `mark_unreadable` (a worker's): a payload that cannot be
    decrypted (an unknown key id, a ciphertext that does not open) is marked unsealed with
    nothing readable left in it, instead of failing: a forged payload in a signal would
    otherwise fail every workflow task of its case for good (the signal stays in the
    history). Clients and replayers raise.

    `case_keys` (every process's codec but a few tests'): in a case's context (`with_context`)
    payloads are sealed with the case's key; without it the codec seals with the ring only and
    cannot open a case-sealed payload (`CaseKeyUnavailable`). `show_disposed` (the codec
    server's): a payload of a disposed case decodes to the `DISPOSED` placeholder. `seal_cases`
    False (a replayer's): case keys open payloads but seal none (a replay's commands are thrown
    away: replaying must not create keys)."""

    def __init__(
        self,
        ring: KeyRing,
        *,
        mark_unsealed: bool = False,
        mark_unreadable: bool = False,
        case_keys: CaseKeys | None = None,
        show_disposed: bool = False,
        seal_cases: bool = True,
    ) -> None:
        self._ring = ring
        self._mark_unsealed = mark_unsealed
        self._mark_unreadable = mark_unreadable
        self._case_keys = case_keys
        self._show_disposed = show_disposed
        self._seal_cases = seal_cases
        self._case_ref: str | None = None
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    def case_for(self, context: SerializationContext) -> str | None:
        """The case whose key `with_context(context)` seals with (None: the ring's)."""
        if self._case_keys is None or not self._seal_cases:
            return None
        if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            return case_ref_of(context.workflow_id)
        return None

    def with_context(self, context: SerializationContext) -> Self:
        """A copy sealing with the case's key when the context is a case's workflow (its own
        payloads, or its activities'); this codec itself otherwise."""
        case_ref = self.case_for(context)
        if case_ref == self._case_ref:
            return self
        found = copy.copy(self)
        found._case_ref = case_ref
        return found

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if self._case_ref is None or self._case_keys is None:
            return [self.encrypt(p) for p in payloads]
        found = await self._case_keys.for_case(self._case_ref)
        if found is None:  # a worker meeting a case without a key (opened before case keys)
            return [self.encrypt(p) for p in payloads]
        key_id, cipher = found
        return [_seal(cipher, {CASE_KEY: key_id.encode()}, key_id, p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            try:
                decoded.append(await self._decode_one(payload))
            except CaseDisposed as err:
                if self._show_disposed:
                    decoded.append(_placeholder())
                else:
                    decoded.append(self._unreadable(err))
            except DecryptionError as err:
                decoded.append(self._unreadable(err))
        return decoded

    async def _decode_one(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(CASE_KEY)
        if key_id is None or payload.metadata.get("encoding") != ENCODING:
            return self._decrypt(payload)
        found = key_id.decode(errors="replace")
        if not _CASE_KEY_ID.fullmatch(found):  # from the payload: bounded before any lookup
            raise DecryptionError(f"payload names a malformed case key id {found[:60]!r}")
        if self._case_keys is None:
            raise CaseKeyUnavailable(
                f"payload is sealed with case key {found!r} and this process has no case key "
                "store (the register)"
            )
        return _open(await self._case_keys.for_key(found), found, payload)

    def encrypt(self, payload: Payload) -> Payload:
        """Seal with the ring's current key (no case key: synchronous)."""
        key_id = self._ring.current
        return _seal(self._ciphers[key_id], {KEY_ID: key_id.encode()}, key_id, payload)

    def decrypt(self, payload: Payload) -> Payload:
        """Open a payload sealed by the ring (a case-sealed one needs `decode`)."""
        try:
            return self._decrypt(payload)
        except DecryptionError as err:
            return self._unreadable(err)

    def _unreadable(self, err: DecryptionError) -> Payload:
        if not self._mark_unreadable:
            raise err
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
        if CASE_KEY in payload.metadata:
            raise DecryptionError("a case-sealed payload is opened by `decode`, not `decrypt`")
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            known = ", ".join(sorted(self._ciphers))
            raise DecryptionError(
                f"payload was encrypted with key {key_id!r}, which is not configured "
                f"(keys: {known}); keep old keys in SRO_CODEC_KEYS while histories use them"
            )
        return _open(cipher, key_id, payload, "key")


def _seal(cipher: AESGCM, names: dict[str, bytes], key_id: str, payload: Payload) -> Payload:
    nonce = os.urandom(NONCE_BYTES)
    plain = payload.SerializeToString()
    metadata = {"encoding": ENCODING, **names}
    if len(plain) >= COMPRESS_FROM:
        deflate = zlib.compressobj(zlib.Z_BEST_SPEED, zlib.DEFLATED, -_WINDOW_BITS, _MEM_LEVEL)
        packed = deflate.compress(plain) + deflate.flush()
        if len(packed) + len(COMPRESSED) + len(DEFLATE) < len(plain):
            plain, metadata[COMPRESSED] = packed, DEFLATE
    # The key id (and whether it is compressed) is bound to the ciphertext as associated data:
    # neither can be swapped or dropped.
    sealed = cipher.encrypt(nonce, plain, _bound(key_id, metadata.get(COMPRESSED)))
    return Payload(metadata=metadata, data=nonce + sealed)


def _open(cipher: AESGCM, key_id: str, payload: Payload, kind: str = "case key") -> Payload:
    data = payload.data
    method = payload.metadata.get(COMPRESSED)
    if method not in (None, DEFLATE):
        raise DecryptionError(f"payload is compressed by an unknown method {method[:20]!r}")
    try:
        plain = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], _bound(key_id, method))
    except Exception:
        raise DecryptionError(f"payload does not decrypt with {kind} {key_id!r}") from None
    if method is not None:
        plain = _inflate(plain)
    return Payload.FromString(plain)


def _bound(key_id: str, method: bytes | None) -> bytes:
    """The associated data: the key id, and the compression after a NUL (which a key id cannot
    hold), so a payload sealed before compression existed opens as it did."""
    return key_id.encode() if method is None else key_id.encode() + b"\0" + method


def _inflate(packed: bytes) -> bytes:
    inflate = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        plain = inflate.decompress(packed, MAX_OPENED_BYTES)
    except zlib.error:
        raise DecryptionError("payload's compressed data is corrupt") from None
    if inflate.unconsumed_tail or not inflate.eof:
        raise DecryptionError(
            f"payload opens to more than {MAX_OPENED_BYTES} bytes, or its compressed data is cut"
        )
    return plain


def _placeholder() -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{DISPOSED}"'.encode())
