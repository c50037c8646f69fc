"""A case whose personal data has been disposed of (its key destroyed: DATA-PROTECTION.md,
section 5): the console's case page says so, rather than that the case system did not answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from console.backend import CaseDisposed
from tests.console.fakes import FakeBackend

DISPOSED = (
    "LSCP-2026-D15A05: this case's personal data has been disposed of on 2052-01-01 "
    "(disposal run r1, rule personal_data); its history can no longer be read"
)


def test_the_case_page_says_the_personal_data_was_disposed_of(
    as_user: Callable[[str], TestClient], backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def disposed(case_ref: str) -> None:
        raise CaseDisposed(DISPOSED, ref=case_ref)

    monkeypatch.setattr(backend, "status", disposed)
    page = as_user("cora").get("/cases/LSCP-2026-D15A05")
    assert page.status_code == 410
    assert "This case&#39;s personal data has been disposed of" in page.text
    assert "disposal run r1" in page.text
