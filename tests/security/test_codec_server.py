"""The codec server the Web UI decodes payloads through: Temporal's remote codec protocol, and
who may call it (the Web UI's origin, the token in the path or as a Bearer token)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import json_format
from starlette.testclient import TestClient
from temporalio.api.common.v1 import Payload, Payloads

from security import codec_server
from security.codec import KEY_ID, EncryptionCodec
from security.keys import KeyRing

TOKEN = "s3cret-token-for-tests"
UI = "http://127.0.0.1:8233"
RING = KeyRing(keys={"k1": b"K" * 32}, current="k1")
CODEC = EncryptionCodec(RING)


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = codec_server.build_app(CODEC, TOKEN, [UI, "http://localhost:8233"])
    with TestClient(app) as test_client:
        yield test_client


def body(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=list(payloads)))


def parsed(text: str) -> list[Payload]:
    return list(json_format.Parse(text, Payloads()).payloads)


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


def sealed(text: str) -> Payload:
    return CODEC.encrypt(plain(text))


def test_decode_with_the_token_in_the_path(client: TestClient) -> None:
    answer = client.post(
        f"/{TOKEN}/decode",
        content=body(sealed("Olwen Fairweather"), plain("legacy")),
        headers={"Origin": UI, "Content-Type": "application/json", "X-Namespace": "default"},
    )
    assert answer.status_code == 200, answer.text
    assert parsed(answer.text) == [plain("Olwen Fairweather"), plain("legacy")]
    assert answer.headers["access-control-allow-origin"] == UI


def test_encode_and_decode_with_a_bearer_token(client: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    encoded = client.post("/encode", content=body(plain("round trip")), headers=bearer)
    assert encoded.status_code == 200, encoded.text
    [payload] = parsed(encoded.text)
    assert payload.metadata[KEY_ID] == b"k1" and b"round trip" not in payload.data
    decoded = client.post("/decode", content=encoded.text, headers=bearer)
    assert parsed(decoded.text) == [plain("round trip")]
    # The CLI and scripts (no Origin header) may also use the token in the path.
    assert client.post(f"/{TOKEN}/encode", content=body(plain("x"))).status_code == 200


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/decode", {}),
        ("/decode", {"Authorization": "Bearer wrong"}),
        ("/decode", {"Authorization": f"Basic {TOKEN}"}),
        ("/wrong-token/decode", {}),
        ("/wrong-token/encode", {"Origin": UI}),
        (f"/{TOKEN[:-1]}/decode", {}),
        # A wrong Bearer token is refused even with the right token in the path.
        (f"/{TOKEN}/decode", {"Authorization": "Bearer wrong"}),
    ],
)
def test_a_missing_or_wrong_token_is_refused(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    answer = client.post(path, content=body(sealed("Olwen Fairweather")), headers=headers)
    assert answer.status_code == 403
    assert "Olwen" not in answer.text
    assert answer.json() == {"error": "missing or wrong token"}


def test_another_origin_is_refused_even_with_the_token(client: TestClient) -> None:
    for origin in ("https://evil.example", "http://127.0.0.1:9999", "null"):
        answer = client.post(
            f"/{TOKEN}/decode",
            content=body(sealed("Olwen Fairweather")),
            headers={"Origin": origin},
        )
        assert answer.status_code == 403
        assert answer.json() == {"error": "origin not allowed"}
        assert "access-control-allow-origin" not in answer.headers
        assert "Olwen" not in answer.text


def test_cors_preflight_from_the_web_ui(client: TestClient) -> None:
    answer = client.options(
        f"/{TOKEN}/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-namespace",
        },
    )
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == UI
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed and "x-namespace" in allowed
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["vary"] == "Origin"
    # Another origin's preflight gets no CORS headers: its browser will not send the request.
    other = client.options(f"/{TOKEN}/decode", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_an_oversized_body_is_refused(client: TestClient) -> None:
    big = b"x" * (codec_server.MAX_BODY + 1)
    answer = client.post(f"/{TOKEN}/decode", content=big)
    assert answer.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(5):
            yield b"x" * (codec_server.MAX_BODY // 4)

    assert client.post(f"/{TOKEN}/decode", content=chunks()).status_code == 413


def test_bad_input_is_a_400(client: TestClient) -> None:
    assert client.post(f"/{TOKEN}/decode", content=b"not json").status_code == 400
    foreign = EncryptionCodec(KeyRing(keys={"other": b"O" * 32}, current="other"))
    answer = client.post(f"/{TOKEN}/decode", content=body(foreign.encrypt(plain("x"))))
    assert answer.status_code == 400
    assert "encrypted with key 'other', which is not configured" in answer.json()["error"]


def test_health_check_needs_no_token_and_reveals_nothing(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.text == "ok"
    assert client.post("/healthz").status_code == 405
    assert client.get(f"/{TOKEN}/decode").status_code == 405


def test_token_from_environment_or_local_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SRO_CODEC_TOKEN", "from-the-environment")
    assert codec_server.codec_token() == "from-the-environment"
    monkeypatch.setenv("SRO_CODEC_TOKEN", "short")
    with pytest.raises(ValueError, match="SRO_CODEC_TOKEN is too short"):
        codec_server.codec_token()
    monkeypatch.delenv("SRO_CODEC_TOKEN")
    with pytest.raises(ValueError, match="set SRO_CODEC_TOKEN"):
        codec_server.codec_token()
    created = codec_server.codec_token(create_local=True)
    assert len(created) >= 32
    assert codec_server.token_file() == tmp_path / "codec-token"
    assert codec_server.token_file().stat().st_mode & 0o777 == 0o600
    assert codec_server.codec_token() == created


def test_allowed_origins_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_CODEC_ALLOWED_ORIGINS", raising=False)
    assert codec_server.allowed_origins_from_env() == [UI, "http://localhost:8233"]
    monkeypatch.setenv("SRO_CODEC_ALLOWED_ORIGINS", " https://ui.example , ")
    assert codec_server.allowed_origins_from_env() == ["https://ui.example"]


@pytest.mark.parametrize("same_user", [True, False])
def test_without_a_token_only_this_users_own_browser_may_decode(
    monkeypatch: pytest.MonkeyPatch, same_user: bool
) -> None:
    """`make run`: the Web UI's endpoint carries no token (every local user can read it), so
    the codec server decodes for loopback connections from its own user, and nobody else."""
    monkeypatch.setattr(codec_server, "same_local_user", lambda client, server: same_user)
    trusting = codec_server.build_app(CODEC, TOKEN, [UI], trust_local_user=True)
    ui = {"Origin": UI, "Content-Type": "application/json"}
    with TestClient(trusting) as test_client:
        answer = test_client.post("/decode", content=body(sealed("Olwen Fairweather")), headers=ui)
        if same_user:
            assert answer.status_code == 200, answer.text
            assert parsed(answer.text) == [plain("Olwen Fairweather")]
        else:
            assert answer.status_code == 403
            assert answer.json() == {"error": "missing or wrong token"}
        # Whoever it is: a wrong token, or a page from another origin, is still refused.
        for path, headers in (
            ("/decode", {**ui, "Authorization": "Bearer wrong"}),
            ("/wrong-token/decode", ui),
            ("/decode", {"Origin": "https://evil.example"}),
        ):
            refused = test_client.post(path, content=body(sealed("Olwen")), headers=headers)
            assert refused.status_code == 403 and "Olwen" not in refused.text
        # The token still works for anyone (the CLI, another machine).
        bearer = {**ui, "Authorization": f"Bearer {TOKEN}"}
        assert test_client.post("/decode", content=body(), headers=bearer).status_code == 200
    # Not trusting (the default: a shared deployment): this user needs the token too.
    with TestClient(codec_server.build_app(CODEC, TOKEN, [UI])) as strict:
        assert strict.post("/decode", content=body(), headers=ui).status_code == 403


def test_trusting_the_local_user_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_CODEC_TRUST_LOCAL_USER", raising=False)
    assert codec_server.trust_local_user_from_env() is False
    for value, expected in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv("SRO_CODEC_TRUST_LOCAL_USER", value)
        assert codec_server.trust_local_user_from_env() is expected
