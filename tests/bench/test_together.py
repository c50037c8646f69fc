"""`bench.together`'s arithmetic: the laps both kinds ran at once, and the ratio of their CPU."""

from __future__ import annotations

from typing import Any

import pytest

from bench import together


def lap(started: float, ended: float, cases: int = 10, **cpu: float) -> dict[str, Any]:
    costs = {"worker_cpu": 1.0, "server_cpu": 1.0, "driver_cpu": 0.5, "register_cpu": 0.0}
    return {"started": started, "ended": ended, "cases": cases, **costs, **cpu}


def test_only_the_laps_run_while_the_other_kind_ran_count() -> None:
    life = [lap(10, 20), lap(20, 30), lap(30, 50)]
    base = [lap(0, 8), lap(12, 18), lap(18, 24), lap(24, 38), lap(38, 44)]
    found = together.window(life, base)
    assert found.seconds == 34  # from the lifecycle's start to the baseline's end
    assert found.lifecycle == life[:2]  # the last ran on after the baseline had stopped
    assert found.baseline == base[1:]  # the first ran before the lifecycle had started


def test_no_laps_of_one_kind_is_an_empty_window() -> None:
    assert together.window([lap(0, 10)], []) == together.Window([], [], 0.0)


def test_the_ratio_is_cpu_a_case_and_the_register_is_the_lifecycles() -> None:
    life = [lap(0, 10, cases=10, worker_cpu=3.0, register_cpu=0.5)]
    # The baseline process's register figure is another process's PostgreSQL: left out.
    base = [lap(0, 10, cases=20, worker_cpu=4.0, register_cpu=0.5)]
    assert together.per_case_ms(life) == pytest.approx(1000 * 5.0 / 10)
    assert together.ratio(life, base) == pytest.approx((5.0 / 10) / (5.5 / 20))


def test_each_half_of_the_window_has_its_own_ratio() -> None:
    life = [lap(0, 10, worker_cpu=2.0), lap(10, 20, worker_cpu=4.0)]
    base = [lap(0, 10), lap(10, 20)]
    found = together.window(life, base)
    first, second = together.halves(found)
    assert first == pytest.approx(3.5 / 2.5) and second == pytest.approx(5.5 / 2.5)
    assert "lifecycle 2, baseline 2" in together.report(found)


def test_a_lap_line_is_read_from_the_benchmarks_output() -> None:
    output = 'round 1\nLAP {"kind": "lifecycle", "cases": 3}\nother\n'
    assert together.laps_of(output) == [{"kind": "lifecycle", "cases": 3}]
