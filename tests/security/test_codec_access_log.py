"""Every decode the codec server answers for the Web UI is recorded in the register's access log
(who, when, the cases the payloads name); when it cannot be recorded nothing is decoded
(issue 14)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from register import access_log
from security import codec_server
from tests.security.test_codec_server import CODEC, TOKEN, UI, body, plain, sealed

#: A case of its own: the register is shared by the tests of one process.
CASE = f"LSCP-2026-{secrets.token_hex(3).upper()}"


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = codec_server.build_app(CODEC, TOKEN, [UI])
    with TestClient(app) as test_client:
        yield test_client


def test_a_decode_is_recorded_with_who_and_which_case(client: TestClient) -> None:
    payload = sealed(f"case_ref={CASE} child=Olwen Fairweather")
    answer = client.post(
        "/decode", content=body(payload), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 200, answer.text
    [row] = access_log.entries(CASE)
    assert (row.username, row.role, row.via, row.data) == (
        "codec token",
        "operator",
        "codec",
        "payloads",
    )
    assert "Olwen" not in access_log.to_json([row])
    # Encoding shows nothing: it is not recorded.
    client.post("/encode", content=body(plain("x")), headers={"Authorization": f"Bearer {TOKEN}"})
    assert len(access_log.entries(CASE)) == 1


def test_nothing_is_decoded_when_the_access_log_cannot_be_written(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_log, "record", lambda *a, **k: False)
    answer = client.post(
        "/decode",
        content=body(sealed("Olwen Fairweather")),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 503
    assert "Olwen" not in answer.text


def test_the_principal_as_the_codec_server_knows_it() -> None:
    assert codec_server.principal("user=cora role=coordinator").username == "cora"
    assert codec_server.principal("by=local_user").username.startswith("local user ")
    assert codec_server.principal("by=shared_token").username == "codec token"
