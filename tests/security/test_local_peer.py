"""The codec server's "same local user" check (security/local_peer.py): which user's process is
at the other end of a loopback TCP connection, from the kernel's socket table."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from security import local_peer

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="reads the kernel's socket table (Linux)"
)


@pytest.fixture
def connection() -> Iterator[tuple[tuple[str, int], tuple[str, int]]]:
    """A real loopback connection: (the client's address, the server's address)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()) as client:
            accepted, _ = listener.accept()
            with accepted:
                yield client.getsockname(), listener.getsockname()


def test_a_connection_from_this_user_is_recognised(
    connection: tuple[tuple[str, int], tuple[str, int]],
) -> None:
    client, server = connection
    assert local_peer.peer_uid(client, server) == os.geteuid()
    assert local_peer.same_local_user(client, server)
    # IPv4 written as IPv6 (a dual-stack listener sees this) is the same connection.
    assert local_peer.same_local_user((f"::ffff:{client[0]}", client[1]), server)


def test_anything_else_is_not(connection: tuple[tuple[str, int], tuple[str, int]]) -> None:
    client, server = connection
    assert local_peer.peer_uid((client[0], client[1] + 1), server) is None
    assert local_peer.peer_uid(client, (server[0], server[1] + 1)) is None
    assert not local_peer.same_local_user(("testclient", 50000), server)
    assert not local_peer.same_local_user(None, server)
    assert not local_peer.same_local_user(client, None)
    # Not loopback: never trusted, whatever the table says.
    assert not local_peer.same_local_user(("192.0.2.7", client[1]), server)


def test_another_users_connection_is_not_this_user(
    connection: tuple[tuple[str, int], tuple[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, server = connection
    someone_else = os.geteuid() + 1
    monkeypatch.setattr(os, "geteuid", lambda: someone_else)
    assert not local_peer.same_local_user(client, server)


def test_the_kernels_address_format() -> None:
    # 127.0.0.1:8234 as a little-endian machine prints it in /proc/net/tcp.
    if sys.byteorder == "little":
        assert local_peer._endpoint("0100007F:202A") == (local_peer._ip("127.0.0.1"), 8234)
        assert local_peer._endpoint("00000000000000000000000001000000:202A") == (
            local_peer._ip("::1"),
            8234,
        )
