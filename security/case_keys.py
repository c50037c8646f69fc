"""Per-case data keys (envelope encryption, DATA-PROTECTION.md section 5): each case's payloads
are sealed with a data key of its own, and that key is kept only wrapped (AES-GCM) by the key
ring's current key, in the register's `case_keys` table. Destroying the wrapped key (the
disposal run) makes every copy of the case's history unreadable: crypto-shredding.

The store (rows of wrapped keys) is the register's, handed in by whoever builds the codec
(`gateway.connection`, the codec server, `sro keys rewrap`): this layer only seals and opens.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from security.keys import KEY_BYTES, KeyRing

NONCE_BYTES = 12
#: Workflow ids whose payloads are sealed with a case key: `referral-<case ref>`.
CASE_WORKFLOW_PREFIX = "referral-"
MAX_CIPHERS = 4096


class DecryptionError(ValueError):
    """A payload that cannot be opened."""


class CaseDisposed(DecryptionError):
    """The case's data key has been destroyed by a disposal run: its personal data is gone."""

    def __init__(self, key_id: str, destroyed_at: datetime | None, run: str | None) -> None:
        when = f" on {destroyed_at:%Y-%m-%d}" if destroyed_at else ""
        super().__init__(
            f"this case's personal data has been disposed of{when} (disposal run {run}, "
            f"rule personal_data): its key {key_id} is destroyed"
        )
        self.key_id, self.destroyed_at, self.run = key_id, destroyed_at, run


class UnknownCaseKey(DecryptionError):
    """A payload names a case key the register has never had (forged, or from another
    register): it cannot be opened, as a payload sealed by an unknown ring key cannot."""


class CaseKeyUnavailable(RuntimeError):
    """The case key store (the register) cannot be reached or has no such key: the payload is
    neither sealed nor opened (never written in clear, never sealed by the ring instead)."""


class Row(Protocol):
    @property
    def key_id(self) -> str: ...
    @property
    def wrapped(self) -> bytes | None: ...
    @property
    def wrapped_by(self) -> str: ...
    @property
    def destroyed_at(self) -> datetime | None: ...
    @property
    def destroyed_by_run(self) -> str | None: ...


class CaseKeyStore(Protocol):
    """`register.case_keys.SqlCaseKeyStore`."""

    def key_id(self, case_ref: str) -> str: ...
    def cached(self, found: str) -> Row | None: ...
    def fetch(self, found: str) -> Row | None: ...
    def insert_if_absent(self, row: NewKey) -> Row: ...
    def rows(self) -> Sequence[Row]: ...
    def rewrap(self, found: str, wrapped: bytes, wrapped_by: str, was: bytes) -> bool: ...


@dataclass(frozen=True)
class NewKey:
    """A row to insert (the store's row type has the same fields)."""

    key_id: str
    wrapped: bytes
    wrapped_by: str
    created_at: datetime
    destroyed_at: datetime | None = None
    destroyed_by_run: str | None = None


def case_ref_of(workflow_id: str | None) -> str | None:
    if workflow_id and workflow_id.startswith(CASE_WORKFLOW_PREFIX):
        return workflow_id.removeprefix(CASE_WORKFLOW_PREFIX) or None
    return None


def wrap(ring: KeyRing, key_id: str, data_key: bytes) -> bytes:
    """The data key sealed by the ring's current key, bound to its key id."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(ring.current_key).encrypt(nonce, data_key, key_id.encode())


def unwrap(ring: KeyRing, row: Row) -> bytes:
    if row.wrapped is None:
        raise CaseDisposed(row.key_id, row.destroyed_at, row.destroyed_by_run)
    ring_key = ring.keys.get(row.wrapped_by)
    if ring_key is None:
        raise DecryptionError(
            f"case key {row.key_id} is wrapped by ring key {row.wrapped_by!r}, which is not "
            "configured: keep it in SRO_CODEC_KEYS until `sro keys rewrap` has run"
        )
    data = row.wrapped
    try:
        return AESGCM(ring_key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], row.key_id.encode())
    except Exception:
        raise DecryptionError(f"case key {row.key_id} does not unwrap") from None


class CaseKeys:
    """Case keys for a codec: the AES-GCM cipher of a case (created on first use) or of a key
    id met in a payload. Ciphers are cached by (key id, wrapped bytes), so a rewrap or a
    destruction seen in the store is seen here; the store caches its rows for a few minutes.
    Shared by every copy of a codec (`EncryptionCodec.with_context`)."""

    def __init__(self, ring: KeyRing, store: CaseKeyStore, *, create: bool = True) -> None:
        """`create` False (a worker's): a case without a key is sealed by the ring rather than
        given one. Keys are made where cases start (the client's `start_workflow`), so a worker
        pointed at another register never makes a second key for a case; and a case opened
        before case keys stays on the ring, whose copies disposal could not shred anyway."""
        self.ring = ring
        self.store = store
        self.create = create
        self._ciphers: OrderedDict[tuple[str, bytes], AESGCM] = OrderedDict()
        self._lock = threading.Lock()

    def key_id(self, case_ref: str) -> str:
        return self.store.key_id(case_ref)

    async def for_case(self, case_ref: str) -> tuple[str, AESGCM] | None:
        """The case's key id and cipher, creating the key if the case has none (None if it has
        none and this process does not create keys)."""
        found = self.store.key_id(case_ref)
        try:
            return found, await self._cipher(found, create=self.create)
        except UnknownCaseKey:
            return None

    async def for_key(self, found: str) -> AESGCM:
        return await self._cipher(found, create=False)

    async def _cipher(self, found: str, *, create: bool) -> AESGCM:
        row = await self._row(found, create=create)
        cached = self._cached(row)
        if cached is not None:
            return cached
        cipher = AESGCM(unwrap(self.ring, row))
        with self._lock:
            assert row.wrapped is not None
            self._ciphers[(found, row.wrapped)] = cipher
            while len(self._ciphers) > MAX_CIPHERS:
                self._ciphers.popitem(last=False)
        return cipher

    def _cached(self, row: Row) -> AESGCM | None:
        if row.wrapped is None:
            raise CaseDisposed(row.key_id, row.destroyed_at, row.destroyed_by_run)
        return self._ciphers.get((row.key_id, row.wrapped))  # a dict read needs no lock

    async def _row(self, found: str, *, create: bool) -> Row:
        try:
            # The store answers from its cache without blocking; a miss reads the register in
            # a thread, so a worker's event loop is not held up by the database.
            row = self.store.cached(found)
            if row is None:
                row = await asyncio.to_thread(self._read_or_create, found, create)
        except (DecryptionError, CaseKeyUnavailable):
            raise
        except Exception as err:
            raise CaseKeyUnavailable(
                f"case key {found}: the register cannot be read ({err})"
            ) from None
        return row

    def _read_or_create(self, found: str, create: bool) -> Row:
        row = self.store.fetch(found)
        if row is not None:
            return row
        if not create:
            raise UnknownCaseKey(f"payload names case key {found!r}, which the register has not")
        data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        return self.store.insert_if_absent(
            NewKey(
                key_id=found,
                wrapped=wrap(self.ring, found, data_key),
                wrapped_by=self.ring.current,
                created_at=datetime.now(UTC).replace(tzinfo=None),
            )
        )


@dataclass(frozen=True)
class Rewrapped:
    rewrapped: int
    current: int
    destroyed: int


def rewrap_all(ring: KeyRing, store: CaseKeyStore) -> Rewrapped:
    """Wrap every live case key with the ring's current key (idempotent: a key already wrapped
    by it is left). Each key is unwrapped with the ring key that wrapped it, which must still be
    configured. Histories are not touched: their payloads name the case key, not the ring's."""
    done = current = destroyed = 0
    for row in store.rows():
        if row.wrapped is None:
            destroyed += 1
        elif row.wrapped_by == ring.current:
            current += 1
        else:
            fresh = wrap(ring, row.key_id, unwrap(ring, row))
            done += store.rewrap(row.key_id, fresh, ring.current, row.wrapped)
    return Rewrapped(done, current, destroyed)
