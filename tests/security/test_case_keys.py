"""Per-case data keys (issue 14, point 3; DATA-PROTECTION.md section 5): a case's payloads are
sealed with its own key, kept wrapped by the ring in the register (SQLite and PostgreSQL);
another case's key does not open them; destroying the key (the disposal run's `personal_data`
rule, refused under a legal hold) leaves them unreadable; rotation re-wraps the keys and the
old payloads still open; a payload without a case's context stays sealed by the ring."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import ActivitySerializationContext, WorkflowSerializationContext

from register import case_keys, disposal
from register.case_keys import SqlCaseKeyStore
from security.case_keys import CaseKeys, Rewrapped, rewrap_all
from security.codec import (
    CASE_KEY,
    DISPOSED,
    KEY_ID,
    CaseDisposed,
    CaseKeyUnavailable,
    DecryptionError,
    EncryptionCodec,
)
from security.keys import KeyRing
from security.marks import UNSEALED

OLD = KeyRing(keys={"old": b"O" * 32}, current="old")
ROTATED = KeyRing(keys={"old": b"O" * 32, "new": b"N" * 32}, current="new")
CASE_A, CASE_B = "LSCP-2026-AAAAAA", "LSCP-2026-BBBBBB"
PERSONAL_DATA = {"personal_data": "7 years after closure (test)"}
#: Tests of one database's connections or locks (a server's connections; SQLite's file lock).
ON_POSTGRESQL = pytest.mark.parametrize("register_url", ["postgresql"], indirect=True)
ON_SQLITE = pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)


def plain(text: str = "Olwen Fairweather, born 2019-03-02") -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


def codec(ring: KeyRing = OLD, **flags: bool) -> EncryptionCodec:
    return EncryptionCodec(ring, case_keys=CaseKeys(ring, SqlCaseKeyStore()), **flags)


def in_case(found: EncryptionCodec, case_ref: str) -> EncryptionCodec:
    return found.with_context(WorkflowSerializationContext("default", f"referral-{case_ref}"))


@pytest.fixture(autouse=True)
def _no_cached_rows() -> None:
    case_keys.forget()  # each test's register is new: no row read from another one


async def test_a_cases_payloads_are_sealed_with_its_own_key(register_url: str) -> None:
    [sealed] = await in_case(codec(), CASE_A).encode([plain()])
    assert sealed.metadata[CASE_KEY] == case_keys.key_id(CASE_A).encode()
    assert KEY_ID not in sealed.metadata and b"Olwen" not in sealed.data
    row = SqlCaseKeyStore().fetch(case_keys.key_id(CASE_A))
    assert row is not None and row.wrapped_by == "old" and len(row.wrapped or b"") == 12 + 48
    # Decoding reads the key from the payload, in any context or none, in a new process.
    case_keys.forget()
    assert await codec().decode([sealed]) == [plain()]
    assert await in_case(codec(), CASE_B).decode([sealed]) == [plain()]
    # An activity of the case seals with the case's key too.
    activity = ActivitySerializationContext(
        "default", "1", "record", "q", f"referral-{CASE_A}", "ReferralWorkflow", False
    )
    [by_activity] = await codec().with_context(activity).encode([plain()])
    assert by_activity.metadata[CASE_KEY] == sealed.metadata[CASE_KEY]


async def test_another_cases_key_does_not_open_a_payload(register_url: str) -> None:
    [sealed] = await in_case(codec(), CASE_A).encode([plain()])
    await in_case(codec(), CASE_B).encode([plain("B's own")])  # B has a key too
    relabelled = Payload()
    relabelled.CopyFrom(sealed)
    relabelled.metadata[CASE_KEY] = case_keys.key_id(CASE_B).encode()
    with pytest.raises(DecryptionError, match="does not decrypt with case key"):
        await codec().decode([relabelled])


async def test_one_key_per_case_whoever_creates_it_first(register_url: str) -> None:
    # Two processes (two codecs, no shared cache) seal the same new case at once: one key wins.
    first, second = codec(), codec()
    sealed = await asyncio.gather(
        in_case(first, CASE_A).encode([plain("1")]), in_case(second, CASE_A).encode([plain("2")])
    )
    case_keys.forget()
    assert await codec().decode([sealed[0][0], sealed[1][0]]) == [plain("1"), plain("2")]
    assert len(SqlCaseKeyStore().rows()) == 1


async def test_without_a_cases_context_payloads_stay_sealed_by_the_ring(
    register_url: str,
) -> None:
    escalation = WorkflowSerializationContext("default", "escalation-LSCP-2026-AAAAAA-1")
    for found in (codec(), codec().with_context(escalation)):
        [sealed] = await found.encode([plain()])
        assert sealed.metadata[KEY_ID] == b"old" and CASE_KEY not in sealed.metadata
        assert await EncryptionCodec(OLD).decode([sealed]) == [plain()]  # no register needed
    assert SqlCaseKeyStore().rows() == []


async def test_disposal_destroys_the_key_and_the_payloads_cannot_be_decoded(
    register_url: str,
) -> None:
    client = codec()
    [sealed] = await in_case(client, CASE_A).encode([plain()])
    [other] = await in_case(client, CASE_B).encode([plain("B")])
    done = disposal.dispose(CASE_A, PERSONAL_DATA, run_id="r1", by="bm", url=register_url)
    assert "case key destroyed" in done.details["personal_data"]
    row = SqlCaseKeyStore().fetch(case_keys.key_id(CASE_A))
    assert row is not None and row.wrapped is None and row.destroyed_by_run == "r1"
    # The same process (its cache) and any other: the case is gone, the other case is not.
    for found in (client, codec()):
        with pytest.raises(CaseDisposed, match=r"disposed of on .*\(disposal run r1"):
            await found.decode([sealed])
        assert await found.decode([other]) == [plain("B")]
    # No new key is made for a disposed case; the codec server shows a placeholder; a worker
    # marks the payload unreadable (the workflow refuses it) rather than failing forever.
    with pytest.raises(CaseDisposed):
        await in_case(client, CASE_A).encode([plain()])
    shown = await codec(show_disposed=True).decode([sealed, other])
    assert shown == [plain(DISPOSED), plain("B")]
    [marked] = await codec(mark_unreadable=True).decode([sealed])
    assert marked.metadata[UNSEALED] == b"1" and not marked.data


async def test_a_legal_hold_keeps_the_key(register_url: str) -> None:
    from register import db
    from tests.register.seeding import REF, seed

    with db.session(register_url) as session:
        seed(session)
    case_ref = REF["C"]
    [sealed] = await in_case(codec(), case_ref).encode([plain()])
    disposal.set_hold(case_ref, by="bm", reason="police investigation", url=register_url)
    done = disposal.dispose(case_ref, PERSONAL_DATA, run_id="r1", by="bm", url=register_url)
    assert done.outcome == "refused"
    case_keys.forget()
    assert await codec().decode([sealed]) == [plain()]


async def test_a_case_sealed_before_case_keys_gets_a_tombstone(register_url: str) -> None:
    # Its history is sealed by the ring (nothing to shred); no key may be made for it later.
    done = disposal.dispose(CASE_A, PERSONAL_DATA, run_id="r1", by="bm", url=register_url)
    assert "no case key" in done.details["personal_data"]
    with pytest.raises(CaseDisposed):
        await in_case(codec(), CASE_A).encode([plain()])


async def test_rotation_rewraps_every_key_and_old_payloads_still_open(register_url: str) -> None:
    [a] = await in_case(codec(), CASE_A).encode([plain("a")])
    [b] = await in_case(codec(), CASE_B).encode([plain("b")])
    disposal.dispose(CASE_B, PERSONAL_DATA, run_id="r1", by="bm", url=register_url)
    store = SqlCaseKeyStore()
    assert rewrap_all(ROTATED, store) == Rewrapped(rewrapped=1, current=0, destroyed=1)
    assert rewrap_all(ROTATED, store) == Rewrapped(0, 1, 1)  # idempotent
    assert {r.wrapped_by for r in store.rows() if r.wrapped} == {"new"}
    # The old ring key can go: the case's payloads open with the new one alone.
    case_keys.forget()
    only_new = KeyRing(keys={"new": b"N" * 32}, current="new")
    assert await codec(only_new).decode([a]) == [plain("a")]
    with pytest.raises(CaseDisposed):
        await codec(only_new).decode([b])
    # Before a rewrap, a ring without the wrapping key says which key it misses.
    [c] = await in_case(codec(), "LSCP-2026-CCCCCC").encode([plain("c")])
    case_keys.forget()
    with pytest.raises(DecryptionError, match="wrapped by ring key 'old'"):
        await codec(only_new).decode([c])


async def test_without_a_key_store_a_case_payload_fails_loudly(register_url: str) -> None:
    [sealed] = await in_case(codec(), CASE_A).encode([plain()])
    ring_only = EncryptionCodec(OLD, mark_unreadable=True)  # even a worker's: not "unreadable"
    with pytest.raises(CaseKeyUnavailable, match="no case key store"):
        await ring_only.decode([sealed])
    # A ring-only codec has no case context: it seals with the ring, never in clear.
    [ringed] = await in_case(ring_only, CASE_A).encode([plain()])
    assert ringed.metadata[KEY_ID] == b"old"


async def test_an_unreachable_register_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(CaseKeyUnavailable, match="the register cannot be read"):
        await in_case(codec(), CASE_A).encode([plain()])


async def test_a_cached_key_costs_little_per_payload(register_url: str) -> None:
    # Not a timing assertion: the figure is printed for BENCHMARKS (pytest -s).
    warm = in_case(codec(), CASE_A)
    ring = codec()
    await warm.encode([plain()])
    payloads = [plain("x" * 400)] * 200
    for name, found in (("case key", warm), ("ring", ring)):
        start = time.perf_counter()
        for _ in range(10):
            await found.decode(await found.encode(payloads))
        each = (time.perf_counter() - start) / 2000 * 1e6
        print(f"{name}: {each:.1f} us per payload (encode + decode)")


async def test_a_key_read_before_is_used_while_the_register_is_down(
    register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(case_keys, "TTL", -1.0)  # every row read is out of date at once
    client = in_case(codec(), CASE_A)
    [sealed] = await client.encode([plain()])

    def down(*_: object, **__: object) -> None:
        raise OSError("the register is down")

    monkeypatch.setattr(case_keys, "_connect", down)
    assert await client.decode([sealed]) == [plain()]  # the row it read before
    with pytest.raises(CaseKeyUnavailable, match="the register is down"):
        await in_case(codec(), CASE_B).encode([plain()])  # a case it never read: no key


async def test_replaying_a_recorded_history_creates_no_case_key(register_url: str) -> None:
    from temporalio.worker import Replayer

    from gateway.connection import data_converter
    from tests.histories import files, load
    from worker import WORKFLOWS

    path = next(p for p in files() if load(p).history.workflow_id.startswith("referral-"))
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(seal_cases=False))
    result = await replayer.replay_workflow(load(path).history, raise_on_replay_failure=False)
    assert result.replay_failure is None
    assert SqlCaseKeyStore().rows() == []  # its commands were sealed by the ring, and dropped


async def test_the_codec_server_says_so_when_the_case_keys_cannot_be_read(
    register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.protobuf import json_format
    from starlette.testclient import TestClient
    from temporalio.api.common.v1 import Payloads

    from security import codec_server

    [sealed] = await in_case(codec(), CASE_A).encode([plain()])
    case_keys.forget()
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    token = "case-keys-token-0000001"
    app = codec_server.build_app(codec(show_disposed=True), token, ["http://127.0.0.1:8233"])
    with TestClient(app) as web:
        body = json_format.MessageToJson(Payloads(payloads=[sealed]))
        answer = web.post(f"/{token}/decode", content=body)
    assert answer.status_code == 503 and "cannot be read now" in answer.text
    assert b"Olwen" not in answer.content


async def test_a_forged_case_key_id_is_unreadable_not_unavailable(register_url: str) -> None:
    # A payload naming a key the register never had (or a malformed id) is a decryption error:
    # a worker marks it unreadable and the workflow refuses it, rather than retrying for good.
    [sealed] = await in_case(codec(), CASE_A).encode([plain()])
    for bogus in (case_keys.key_id("LSCP-2026-NEVER1").encode(), b"x" * 500, b"\xff"):
        forged = Payload()
        forged.CopyFrom(sealed)
        forged.metadata[CASE_KEY] = bogus
        with pytest.raises(DecryptionError):
            await codec().decode([forged])
        [marked] = await codec(mark_unreadable=True).decode([forged])
        assert marked.metadata[UNSEALED] == b"1"


async def test_a_worker_never_makes_a_case_key(register_url: str) -> None:
    from gateway.connection import data_converter

    worker = data_converter(worker=True).payload_codec
    assert isinstance(worker, EncryptionCodec)
    # A case opened before case keys (no key): its new payloads stay on the ring.
    [old] = await in_case(worker, CASE_A).encode([plain()])
    assert KEY_ID in old.metadata  # the tests' ring key
    assert CASE_KEY not in old.metadata and SqlCaseKeyStore().rows() == []
    # A case whose key the client made: the worker seals with it.
    await in_case(data_converter().payload_codec, CASE_B).encode([plain()])  # type: ignore[arg-type]
    [new] = await in_case(worker, CASE_B).encode([plain()])
    assert new.metadata[CASE_KEY] == case_keys.key_id(CASE_B).encode()


async def test_a_threads_connection_is_kept_for_the_next_key(
    register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each key read used to open a connection: on PostgreSQL a new backend process on the
    # server, on SQLite a read of the register's whole schema (about 0.45 ms of CPU); a client
    # opened two for each case it started.
    import sqlite3

    import psycopg

    driver: Any = sqlite3 if register_url.startswith("sqlite") else psycopg
    opened: list[object] = []
    connect = driver.connect

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        return connect(*args, **kwargs)

    monkeypatch.setattr(driver, "connect", counting)
    store = SqlCaseKeyStore()
    client = CaseKeys(OLD, store)

    def on_one_thread() -> None:
        for case_ref in (CASE_A, CASE_B, "LSCP-2026-CCCCCC"):
            client._read_or_create(case_keys.key_id(case_ref), True)  # a read, an insert
        case_keys.forget()
        for case_ref in (CASE_A, CASE_B):
            row = store.fetch(case_keys.key_id(case_ref))
            assert row is not None and row.wrapped is not None

    await asyncio.to_thread(on_one_thread)
    assert len(opened) == 1  # eight statements, one connection (the thread's)


@ON_POSTGRESQL
def test_a_dropped_postgresql_connection_is_replaced_on_the_next_read(
    register_url: str,
) -> None:
    import psycopg

    store = SqlCaseKeyStore()
    made = CaseKeys(OLD, store)._read_or_create(case_keys.key_id(CASE_A), True)
    kept = case_keys._kept.connections[case_keys._where(None)[1]]
    with psycopg.connect(case_keys._where(None)[1], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (kept.info.backend_pid,))
    case_keys.forget()
    assert store.fetch(made.key_id) == made  # read again on a new connection
    assert case_keys._kept.connections[case_keys._where(None)[1]] is not kept


@ON_SQLITE
def test_a_register_replaced_at_the_same_path_is_read_afresh(register_url: str) -> None:
    import shutil
    import sqlite3

    path = Path(register_url.removeprefix("sqlite:///"))
    empty = path.with_name("empty.db")
    with sqlite3.connect(path) as register:  # the register before any key, whole
        register.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(path, empty)
    store = SqlCaseKeyStore()
    made = CaseKeys(OLD, store)._read_or_create(case_keys.key_id(CASE_A), True)
    assert made.wrapped is not None
    for journal in ("-wal", "-shm"):  # restored from a backup taken before the key, say
        path.with_name(path.name + journal).unlink(missing_ok=True)
    os.replace(empty, path)
    case_keys.forget()
    assert store.fetch(made.key_id) is None  # the new file, not the kept connection's


@ON_SQLITE
def test_a_new_key_waits_for_the_registers_write_lock(register_url: str) -> None:
    # SQLite's own busy handler sleeps up to 100 ms between tries; the key store tries every
    # few milliseconds, and gives up after `_SQLITE_WAIT`.
    import sqlite3
    import threading

    path = register_url.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")  # the register's writer, mid-transaction
    releasing = threading.Timer(0.2, writer.execute, ("COMMIT",))
    releasing.start()
    try:
        made = CaseKeys(OLD, SqlCaseKeyStore())._read_or_create(case_keys.key_id(CASE_A), True)
    finally:
        releasing.join()
        writer.close()
    assert made.wrapped is not None
    case_keys.forget()
    assert SqlCaseKeyStore().fetch(made.key_id) == made


@ON_SQLITE
def test_a_key_gives_up_on_a_lock_held_too_long(
    register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    monkeypatch.setattr(case_keys, "_SQLITE_WAIT", 0.05)
    writer = sqlite3.connect(register_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            CaseKeys(OLD, SqlCaseKeyStore())._read_or_create(case_keys.key_id(CASE_A), True)
    finally:
        writer.close()


@ON_POSTGRESQL
def test_a_statements_error_keeps_the_connection_a_connection_error_does_not(
    register_url: str,
) -> None:
    import psycopg

    target = case_keys._where(None)[1]
    SqlCaseKeyStore().fetch(case_keys.key_id(CASE_A))
    kept = case_keys._kept.connections[target]
    with (
        pytest.raises(psycopg.errors.UndefinedTable),
        case_keys._connect("postgresql", target) as cur,
    ):
        cur.execute("SELECT 1 FROM no_such_table")
    assert case_keys._kept.connections[target] is kept  # rolled back, and still good
    with pytest.raises(psycopg.OperationalError), case_keys._connect("postgresql", target) as cur:
        cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    assert target not in case_keys._kept.connections and kept.closed
