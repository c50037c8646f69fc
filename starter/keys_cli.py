"""`sro keys rewrap`: after the key ring's current key changes (README, "Keys"), wrap every
case's data key with it (`security.case_keys.rewrap_all`), so the old ring key can be retired
without re-encrypting any history. Idempotent; says how many."""

from __future__ import annotations

import argparse
import asyncio

from register import db
from register.case_keys import SqlCaseKeyStore
from security.case_keys import DecryptionError, Rewrapped, rewrap_all
from security.keys import KeyError_, key_ring_from_env
from starter.common import CliError


def _rewrap() -> tuple[str, Rewrapped]:
    ring = key_ring_from_env()
    db.ensure_schema()  # a register from before case keys gets its table (empty)
    return ring.current, rewrap_all(ring, SqlCaseKeyStore())


async def dispatch(args: argparse.Namespace) -> int:
    assert args.keys_command == "rewrap"
    try:
        current, done = await asyncio.to_thread(_rewrap)
    except (KeyError_, DecryptionError) as err:
        raise CliError(f"nothing more re-wrapped: {err}") from None
    print(
        f"{done.rewrapped} case key(s) re-wrapped with ring key {current}; "
        f"{done.current} already were; {done.destroyed} destroyed (cases disposed of)"
    )
    return 0
