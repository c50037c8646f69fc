"""A test whose service is missing (PostgreSQL, Chromium) skips on a developer's machine and
fails in CI (CI=true), where a skip would pass silently."""

from __future__ import annotations

import pytest

from tests.conftest import in_ci, missing


@pytest.mark.parametrize("value", ["true", "1", "yes", "TRUE"])
def test_a_missing_service_fails_in_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match=r"PostgreSQL.*CI=true"):
        missing("PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed")


@pytest.mark.parametrize("value", [None, "", "false", "0", "no"])
def test_a_missing_service_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL"):
        missing("PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed")
