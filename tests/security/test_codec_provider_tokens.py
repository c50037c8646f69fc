"""The codec server decodes for a *person* with the identity provider's access token (issue 18):
tokens from a real OpenID Connect provider running locally (tests/oidc.py), checked against its
JWKS for signature, issuer, audience, expiry and a role that sees personal data; an expired or
foreign token is refused; each decode is logged with who it was for, never a payload."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from starlette.testclient import TestClient
from temporalio.api.common.v1 import Payload, Payloads

from console.sso_claims import ClaimsMapping
from safeguarding.profiles import load_profiles
from security import codec_server, provider_tokens
from security.codec import EncryptionCodec
from security.console_sign_in import Reader
from security.keys import KeyRing
from security.provider_tokens import ProviderKeys, ProviderTokens
from tests.oidc import CODEC_AUDIENCE, Provider, run_provider

UI = "https://temporal-ui.partnership.example"
CODEC = EncryptionCodec(KeyRing(keys={"k1": b"K" * 32}, current="k1"))
CHILD = "Olwen Fairweather"
MAPPING = ClaimsMapping.model_validate(
    {
        "groups": [
            {
                "group": "sro-business-managers",
                "role": "business_manager",
                "agency": "partnership",
                "partnerships": ["*"],
            },
            {
                "group": "sro-lscp-coordinators",
                "role": "coordinator",
                "agency": "partnership",
                "partnerships": ["LSCP"],
            },
            {
                "group": "sro-police-panel",
                "role": "panel_member",
                "agency": "police",
                "partnerships": ["*"],
            },
        ]
    }
)
PEOPLE: dict[str, dict[str, Any]] = {
    "bea": {"preferred_username": "bea@partnership.example", "groups": ["sro-business-managers"]},
    "cora": {"preferred_username": "cora", "groups": ["sro-lscp-coordinators"]},
    "pat": {"preferred_username": "pat", "groups": ["sro-police-panel"]},
    "nobody": {"preferred_username": "nobody", "groups": ["staff"]},
}


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with run_provider(PEOPLE) as running:
        yield running


@pytest.fixture(scope="module")
def tokens(provider: Provider) -> dict[str, str]:
    return {sub: provider.tokens(sub)["access_token"] for sub in PEOPLE}


def checker(provider: Provider, *, audience: str = CODEC_AUDIENCE, now: Any = time.time) -> Any:
    keys = ProviderKeys(provider.issuer)
    return ProviderTokens(keys, audience, MAPPING, load_profiles(), now=now)


@pytest.fixture(scope="module")
def codec(provider: Provider) -> Iterator[TestClient]:
    """The codec server as `python -m security.codec_server` runs it with single sign-on: no
    shared token, the provider's access tokens."""
    app = codec_server.build_app(CODEC, None, [UI], provider=checker(provider))
    with TestClient(app) as client:
        yield client


def post(codec: TestClient, token: str, path: str = "/decode") -> tuple[int, str]:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=f'"{CHILD}"'.encode())
    payload = CODEC.encrypt(plain) if path == "/decode" else plain
    answer = codec.post(
        path,
        content=json_format.MessageToJson(Payloads(payloads=[payload])),
        headers={
            "Content-Type": "application/json",
            "Origin": UI,
            "Authorization": f"Bearer {token}",
        },
    )
    return answer.status_code, answer.text


def test_a_person_who_sees_personal_data_decodes_and_is_named_in_the_log(
    codec: TestClient, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="security.codec_server.access")
    status, text = post(codec, tokens["bea"])
    assert status == 200, text
    assert json_format.Parse(text, Payloads()).payloads[0].data == f'"{CHILD}"'.encode()
    lines = [r.getMessage() for r in caplog.records if r.name == "security.codec_server.access"]
    assert lines == [
        "endpoint=decode payloads=1 user=bea@partnership.example role=business_manager via=provider"
    ]
    assert CHILD not in caplog.text and tokens["bea"] not in caplog.text


def test_people_who_may_not_see_every_case_are_refused(
    codec: TestClient, tokens: dict[str, str]
) -> None:
    status, text = post(codec, tokens["pat"])
    assert status == 403 and "panel member role may not see personal data" in text
    status, text = post(codec, tokens["cora"])  # a coordinator of one partnership only
    assert status == 403 and "every partnership" in text
    status, text = post(codec, tokens["nobody"])
    assert status == 403 and "no role" in text
    assert CHILD not in text


def test_people_decode_but_do_not_encode(codec: TestClient, tokens: dict[str, str]) -> None:
    status, text = post(codec, tokens["bea"], "/encode")
    assert status == 403 and "may decode, not encode" in text


def test_the_shared_token_and_garbage_are_refused_with_single_sign_on(codec: TestClient) -> None:
    for token in ("s3cret-token-for-tests", "a.b.c", "eyJhbGciOiJub25lIn0.e30."):
        status, _ = post(codec, token)
        assert status == 403, token


def test_an_expired_token_is_refused(provider: Provider, tokens: dict[str, str]) -> None:
    later = checker(provider, now=lambda: time.time() + 2 * 3600)
    assert later.check(tokens["bea"]) == "the access token has expired"
    assert checker(provider).check(tokens["bea"]) == Reader(
        "bea@partnership.example", "business_manager"
    )


def test_a_token_for_another_audience_is_refused(
    provider: Provider, tokens: dict[str, str]
) -> None:
    assert "refused" in str(checker(provider, audience="api://another-app").check(tokens["bea"]))


def test_a_foreign_providers_token_is_refused(codec: TestClient, tokens: dict[str, str]) -> None:
    # Another provider (its own keys) issues a token with the very same claims and audience.
    with run_provider(PEOPLE) as foreign:
        forged = foreign.tokens("bea")["access_token"]
        status, text = post(codec, forged)
        assert status == 403 and "refused" in text
        # ...and a server that trusts the other provider refuses this provider's token.
        trusting_foreign = ProviderTokens(
            ProviderKeys(foreign.issuer), CODEC_AUDIENCE, MAPPING, ["LSCP"]
        )
        assert "refused" in str(trusting_foreign.check(tokens["bea"]))


def test_a_token_naming_another_issuer_is_refused(
    provider: Provider, tokens: dict[str, str]
) -> None:
    # The right keys (fetched from the provider), but the server expects another issuer.
    def fetch(url: str) -> dict[str, Any]:
        return provider_tokens._fetch_json(url.replace("https://issuer.example", provider.issuer))

    keys = ProviderKeys("https://issuer.example", fetch=fetch)
    check = ProviderTokens(keys, CODEC_AUDIENCE, MAPPING, ["LSCP"])
    assert check.check(tokens["bea"]) == "the access token is refused (InvalidClaimError)"


def test_the_keys_are_fetched_once_and_kept(provider: Provider, tokens: dict[str, str]) -> None:
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, Any]:
        fetched.append(url)
        return provider_tokens._fetch_json(url)

    check = ProviderTokens(
        ProviderKeys(provider.issuer, fetch=fetch), CODEC_AUDIENCE, MAPPING, ["LSCP"]
    )
    for _ in range(3):
        assert isinstance(check.check(tokens["bea"]), Reader)
    assert fetched == [
        f"{provider.issuer}/.well-known/openid-configuration",
        f"{provider.issuer}/jwks",
    ]


def test_settings_name_what_the_codec_server_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SRO_OIDC_ISSUER", "https://login.example/tenant/v2.0")
    for name in ("SRO_OIDC_AUDIENCE", "SRO_OIDC_CLIENT_ID", "SRO_OIDC_MAPPING"):
        monkeypatch.delenv(name, raising=False)
    assert provider_tokens.enabled_from_env()
    with pytest.raises(ValueError, match="SRO_OIDC_AUDIENCE"):
        provider_tokens.from_env(["LSCP"])
    monkeypatch.setenv("SRO_OIDC_AUDIENCE", CODEC_AUDIENCE)
    with pytest.raises(ValueError, match="SRO_OIDC_MAPPING"):
        provider_tokens.from_env(["LSCP"])
    example = Path(__file__).resolve().parents[2] / "console" / "sso.example.toml"
    monkeypatch.setenv("SRO_OIDC_MAPPING", str(example))
    configured = provider_tokens.from_env(["LSCP"])
    assert configured.audience == CODEC_AUDIENCE and configured.mapping.groups
