"""Free ports for the servers the tests start, never from the kernel's ephemeral range.

Binding port 0 and closing the socket (what each test file used to do) hands back a port from
the ephemeral range, and the kernel may give that same port to any outgoing connection (every
test process's gRPC and database clients make them) before the server binds it: a full run
failed so (`listen tcp 127.0.0.1:45425: bind: address already in use` from a dev server's Web
UI). The kernel never hands out a port below the range, so the tests take theirs from there:
each pytest-xdist process its own slice, never the same port twice in one process, and only a
port that binds when it is chosen. No library does this slicing (the SDK and pytest plugins
bind port 0 too), hence these few lines.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from pathlib import Path

HOST = "127.0.0.1"
#: Above the well-known ports and the usual fixed ones (PostgreSQL 5432, 8000, 8233...).
FIRST = 20_000
#: Each process's slice stays at least this wide, or the ephemeral range is used as before.
MIN_SLICE = 200

_given: set[int] = set()
_lock = threading.Lock()


def ephemeral_low(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    """The lowest port the kernel gives outgoing connections (32768 where it cannot be read)."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def process_slice(low: int | None = None) -> range:
    """This test process's ports: its share of those between `FIRST` and the ephemeral range
    (`PYTEST_XDIST_WORKER` gw0, gw1...; one process has them all). Empty if too narrow."""
    low = ephemeral_low() if low is None else low
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) if worker.isdigit() else 0
    count = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1), index + 1)
    width = (low - FIRST) // count
    if width < MIN_SLICE:
        return range(0)
    start = FIRST + index * width
    return range(start, start + width)


def _binds(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _ephemeral() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def free_port(exclude: frozenset[int] | set[int] = frozenset()) -> int:
    """A port nothing listens on, outside the ephemeral range, not given before here."""
    span = process_slice()
    with _lock:
        for _ in range(500 if span else 0):
            port = random.choice(span)
            if port not in _given and port not in exclude and _binds(port):
                _given.add(port)
                return port
        while True:  # no slice (a narrow range): the kernel's choice, as before
            port = _ephemeral()
            if port not in _given and port not in exclude:
                _given.add(port)
                return port


def free_ports(count: int) -> list[int]:
    """`count` different free ports."""
    ports: list[int] = []
    for _ in range(count):
        ports.append(free_port(set(ports)))
    return ports
