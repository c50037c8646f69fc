"""Waiting for a SQLite lock where SQLite itself does not wait well.

SQLite's busy handler waits for a lock, but refuses some statements at once (switching a file
to WAL while another connection holds any lock), and backs off to 100 ms sleeps for a lock held
a few milliseconds. Those statements go through `when_unlocked`, which tries again in short
steps instead.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

#: How long the register's SQLite connections wait for a lock (busy timeout and `when_unlocked`).
SQLITE_WAIT = 30.0


def when_unlocked(statement: Callable[[], object], within: float, every: float) -> None:
    """Run `statement`, trying again every `every` seconds for up to `within` seconds while
    SQLite says the database is locked; any other error, or the lock still held, is raised."""
    waited_until = time.monotonic() + within
    while True:
        try:
            statement()
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > waited_until:
                raise
            time.sleep(every)
