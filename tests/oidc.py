"""A real OpenID Connect provider for the tests: oidc-provider-mock (from PyPI) on a free loopback
port, in a thread of the test process, started and stopped by the tests themselves.

Its access tokens are JWTs signed with the provider's own key (the one its JWKS publishes), with
the audience the tests choose and the person's claims (groups, name...), as Entra ID issues for
an API: what the production Temporal Web UI passes to the codec server.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import httpx2
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey

with warnings.catch_warnings():  # it still imports authlib's deprecated jose module
    warnings.simplefilter("ignore")
    import oidc_provider_mock

#: The audience of the access tokens the test provider issues (the codec server's API).
CODEC_AUDIENCE = "api://sro-codec"
CLIENT_ID = "sro-console"
CLIENT_SECRET = "console-secret-at-the-provider"


@dataclass(frozen=True)
class Provider:
    issuer: str

    def authorize(self, authorize_url: str, sub: str) -> str:
        """What the person does at the provider: signs in as `sub`; the redirect back."""
        response = httpx2.post(authorize_url, data={"sub": sub}, follow_redirects=False)
        assert response.status_code == 302, response.text[:500]
        return response.headers["location"]

    def tokens(self, sub: str, *, client_id: str = CLIENT_ID) -> dict[str, Any]:
        """A person's tokens through the whole authorisation code flow (no browser)."""
        redirect = "http://127.0.0.1/callback"
        query = httpx2.QueryParams(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect,
                "scope": "openid profile email",
                "state": "s",
                "nonce": "n",
            }
        )
        back = self.authorize(f"{self.issuer}/oauth2/authorize?{query}", sub)
        code = parse_qs(urlsplit(back).query)["code"][0]
        answer = httpx2.post(
            f"{self.issuer}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "client_id": client_id,
                "client_secret": CLIENT_SECRET,
            },
        )
        answer.raise_for_status()
        tokens: dict[str, Any] = answer.json()
        return tokens


def _jwt_access_token(audience: str, lifetime: int) -> Any:
    def generate(client: Any, grant_type: str, user: Any, scope: str) -> str:
        storage = flask.g.oidc_provider_mock_storage
        key = RSAKey.import_key(storage.jwk.as_dict(is_private=True))
        now = int(time.time())
        claims = {
            **user.claims,
            "iss": flask.request.host_url.rstrip("/"),
            "sub": user.sub,
            "aud": audience,
            "iat": now,
            "exp": now + lifetime,
            "scope": scope,
            "client_id": client.get_client_id(),
        }
        header = {"alg": "RS256", "typ": "at+jwt"}
        if key.kid:
            header["kid"] = key.kid
        return jwt.encode(header, claims, key)

    return generate


@contextmanager
def run_provider(
    people: Mapping[str, Mapping[str, Any]] = {},
    *,
    audience: str = CODEC_AUDIENCE,
    lifetime: int = 3600,
) -> Iterator[Provider]:
    """The provider on 127.0.0.1 (a free port); `people`: sub -> claims."""
    app = flask.Flask("oidc_provider_mock")  # the package's templates
    app.config["OAUTH2_ACCESS_TOKEN_GENERATOR"] = _jwt_access_token(audience, lifetime)
    users: Sequence[oidc_provider_mock.User] = [
        oidc_provider_mock.User(sub=sub, claims=dict(claims)) for sub, claims in people.items()
    ]
    oidc_provider_mock.init_app(app, require_nonce=True, user_claims=users)
    app.secret_key = "test-provider"
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
