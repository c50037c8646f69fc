"""Which local user a loopback TCP connection comes from: what lets the dev stack's codec server
decode for the Web UI in *your* browser with no secret in the Web UI's codec endpoint (the
`temporal` dev server's command line, and its /api/v1/settings, show that endpoint to every
local user).

Linux lists every TCP socket with its owner's uid in /proc/net/tcp and /proc/net/tcp6 (proc(5));
the client end of a connection to us is the line whose local address is the client's and whose
remote address is ours. Elsewhere (no /proc) nobody is recognised and a token is needed.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))


def _ip(host: str) -> IPAddress | None:
    try:
        found = ipaddress.ip_address(host)
    except ValueError:  # e.g. "testclient", a Unix socket
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _endpoint(text: str) -> tuple[IPAddress | None, int]:
    """An address as /proc/net/tcp prints it: hex, each 32-bit word in the host's byte order."""
    host, _, port = text.partition(":")
    raw = bytes.fromhex(host)
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return _ip(str(ipaddress.ip_address(raw))), int(port, 16)


def peer_uid(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The uid that owns the client end of the TCP connection client -> server, when the
    client is on this machine and the kernel lists it; otherwise None."""
    want = ((_ip(client[0]), client[1]), (_ip(server[0]), server[1]))
    if want[0][0] is None or want[1][0] is None:
        return None
    for table in TABLES:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
            if len(fields) > 7 and (_endpoint(fields[1]), _endpoint(fields[2])) == want:
                return int(fields[7])
    return None


def same_local_user(client: tuple[str, int] | None, server: tuple[str, int] | None) -> bool:
    """True when a loopback connection comes from a process of the user running this one."""
    if client is None or server is None:
        return False
    address = _ip(client[0])
    if address is None or not address.is_loopback:
        return False
    return peer_uid(client, server) == os.geteuid()
