"""The tests' free ports (`tests/ports.py`): below the kernel's ephemeral range, a slice for
each test process, never the same one twice."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests import ports


def test_each_test_process_has_its_own_slice_below_the_ephemeral_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    slices = []
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        slices.append(set(ports.process_slice(low=32_768)))
    assert all(slices)
    assert not (slices[0] & slices[1] or slices[1] & slices[2] or slices[0] & slices[2])
    assert min(min(s) for s in slices) >= ports.FIRST
    assert max(max(s) for s in slices) < 32_768


def test_a_range_too_narrow_for_slices_leaves_the_choice_to_the_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "1")
    assert ports.process_slice(low=ports.FIRST + 10) == range(0)


def test_the_ephemeral_range_is_read_from_the_kernel(tmp_path: Path) -> None:
    setting = tmp_path / "ip_local_port_range"
    setting.write_text("40000\t60999\n")
    assert ports.ephemeral_low(setting) == 40_000
    assert ports.ephemeral_low(tmp_path / "missing") == 32_768


def test_free_ports_differ_bind_and_stay_below_the_ephemeral_range() -> None:
    given = ports.free_ports(8)
    assert len(set(given)) == 8
    low = ports.ephemeral_low()
    if ports.process_slice():
        assert all(ports.FIRST <= port < low for port in given)
    for port in given:
        with socket.socket() as server:
            server.bind((ports.HOST, port))
    assert ports.free_port() not in given
