"""Single sign-on: the console signs people in with their organisation's identity provider
(OpenID Connect, authorisation code flow with PKCE, through authlib's Starlette client).

Configured by SRO_OIDC_ISSUER, SRO_OIDC_CLIENT_ID, SRO_OIDC_CLIENT_SECRET, SRO_OIDC_SCOPES and
the claims-to-role mapping file SRO_OIDC_MAPPING (console/sso_claims.py). The routes are in
console/routes/sso.py; this module holds the settings and the provider client.

The state, the nonce and the PKCE verifier of a sign-in in progress live in the visitor's
server-side session (console/sessions.py), as authlib keeps them in `request.session`. The ID
token's signature (the provider's JWKS), issuer, audience, expiry and nonce are checked by
authlib; the person's role, agency and partnerships come from its claims through the mapping,
and are kept in the session, so everything downstream (role checks, partnership separation,
CSRF, revocation by name, `by` on decisions) sees an ordinary console `User`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App

from config import Settings
from console.sso_claims import ClaimsMapping, SsoError, load_mapping

#: The path the provider sends people back to (register `<console>/auth/callback`).
CALLBACK_PATH = "/auth/callback"
#: Seconds to wait for the provider (discovery, token endpoint, JWKS).
PROVIDER_TIMEOUT = 10.0


@dataclass(frozen=True)
class SsoSettings:
    issuer: str
    client_id: str
    client_secret: str | None
    mapping: ClaimsMapping
    scopes: str = "openid profile email"
    #: The console's public address (None: the address each request came to).
    public_url: str | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    def callback_url(self, request_base: str) -> str:
        return f"{(self.public_url or request_base).rstrip('/')}{CALLBACK_PATH}"


def sso_from_settings(configured: Settings) -> SsoSettings | None:
    """Single sign-on's settings, or None when SRO_OIDC_ISSUER is unset. An incomplete or bad
    configuration is an `SsoError` naming the variable or the mapping file's field."""
    if not configured.oidc_issuer:
        return None
    if not configured.oidc_issuer.startswith(("https://", "http://")):
        raise SsoError("SRO_OIDC_ISSUER must be the provider's https:// address")
    if not configured.oidc_client_id:
        raise SsoError("SRO_OIDC_ISSUER is set: set SRO_OIDC_CLIENT_ID too")
    if configured.oidc_mapping is None:
        raise SsoError(
            "SRO_OIDC_ISSUER is set: set SRO_OIDC_MAPPING to the claims-to-role mapping file"
        )
    if "openid" not in configured.oidc_scopes.split():
        raise SsoError("SRO_OIDC_SCOPES must include openid")
    if configured.console_url and not configured.console_url.startswith(("https://", "http://")):
        raise SsoError("SRO_CONSOLE_URL must be the console's public https:// address")
    return SsoSettings(
        issuer=configured.oidc_issuer,
        client_id=configured.oidc_client_id,
        client_secret=configured.oidc_client_secret,
        mapping=load_mapping(configured.oidc_mapping),
        scopes=configured.oidc_scopes,
        public_url=configured.console_url,
    )


def provider_client(sso: SsoSettings) -> StarletteOAuth2App:
    """authlib's client for the provider (metadata fetched at the first sign-in, then kept)."""
    oauth = OAuth()
    kwargs: dict[str, Any] = {
        "scope": sso.scopes,
        "code_challenge_method": "S256",
        "timeout": PROVIDER_TIMEOUT,
    }
    if sso.client_secret is None:  # a public client: PKCE alone
        kwargs["token_endpoint_auth_method"] = "none"
    client = oauth.register(
        "provider",
        client_id=sso.client_id,
        client_secret=sso.client_secret,
        server_metadata_url=sso.metadata_url,
        client_kwargs=kwargs,
    )
    assert isinstance(client, StarletteOAuth2App)
    return client


async def provider_sign_out_url(
    provider: StarletteOAuth2App, sso: SsoSettings, request_base: str
) -> str | None:
    """The provider's sign-out page (RP-initiated logout), coming back to the console's sign-in
    page; None when the provider has none or does not answer."""
    try:
        metadata = await provider.load_server_metadata()
    except (httpx2.HTTPError, ValueError):
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return None
    back = f"{(sso.public_url or request_base).rstrip('/')}/login"
    query = urlencode({"client_id": sso.client_id, "post_logout_redirect_uri": back})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


__all__ = [
    "CALLBACK_PATH",
    "SsoError",
    "SsoSettings",
    "provider_client",
    "provider_sign_out_url",
    "sso_from_settings",
]
