"""The identity provider's access tokens at the codec server: it decodes for a *person* signed in
to the production Temporal Web UI, whose codec endpoint passes that person's access token
(`Authorization: Bearer <JWT>`).

A token is accepted if, and only if:

- its signature is the provider's: the keys are the provider's JWKS (found through its
  `/.well-known/openid-configuration`), fetched on first use and kept for an hour; a token signed
  with a key not in the set makes one early re-fetch (keys rotate), at most once a minute;
- its issuer is SRO_OIDC_ISSUER, its audience SRO_OIDC_AUDIENCE (default: the console's client
  id), and it has not expired (a minute's leeway for clocks);
- its claims give, through the console's claims-to-role mapping (SRO_OIDC_MAPPING,
  console/sso_claims.py), a role that sees personal data on every case (coordinators, business
  managers, chairs) and every partnership with a profile: a codec request does not say which case
  its payloads come from (as for console sessions: security/console_sign_in.py).

Anyone else is refused, with the reason said to the caller (no personal data in it). Each decode
is logged by the codec server with the person's user name and role, never a payload.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx2
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

from config import settings
from console.permissions import PERSONAL_DATA_ROLES
from console.sso_claims import ClaimsMapping, load_mapping
from security.console_sign_in import Reader

log = logging.getLogger(__name__)

#: Signature algorithms accepted (the provider's keys are RSA or EC; never "none" or HMAC).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
KEYS_MAX_AGE = 3600.0
REFETCH_AT_MOST_EVERY = 60.0
LEEWAY_SECONDS = 60
HTTP_TIMEOUT = 10.0


def _fetch_json(url: str) -> dict[str, Any]:
    response = httpx2.get(url, timeout=HTTP_TIMEOUT, follow_redirects=False)
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError(f"{url} did not answer with a JSON object")
    return data


class ProviderKeys:
    """The provider's signing keys (JWKS), fetched and kept (see the module)."""

    def __init__(
        self,
        issuer: str,
        *,
        fetch: Callable[[str], dict[str, Any]] = _fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        #: As configured: tokens must name exactly this issuer (some end with "/", some not).
        self.issuer = issuer
        self._fetch = fetch
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def keys(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            age = self._clock() - self._fetched_at
            stale = self._keys is None or age > KEYS_MAX_AGE
            if stale or (refresh and age > REFETCH_AT_MOST_EVERY):
                base = self.issuer.rstrip("/")
                metadata = self._fetch(f"{base}/.well-known/openid-configuration")
                jwks_uri = metadata.get("jwks_uri")
                if not isinstance(jwks_uri, str):
                    raise ValueError("the provider's metadata names no jwks_uri")
                self._keys = KeySet.import_key_set(self._fetch(jwks_uri))  # type: ignore[arg-type]
                self._fetched_at = self._clock()
            assert self._keys is not None
            return self._keys


class ProviderTokens:
    """Checks an access token and says whom it is for (a `Reader`) or why it is refused."""

    def __init__(
        self,
        keys: ProviderKeys,
        audience: str,
        mapping: ClaimsMapping,
        partnerships: Iterable[str],
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self.audience = audience
        self.mapping = mapping
        self._partnerships = frozenset(partnerships)
        self._now = now

    def _claims(self, token: str) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, self._keys.keys(), algorithms=list(ALGORITHMS))
        except (JoseError, ValueError):
            # Perhaps a key the provider has just rotated in: fetch the set again (rate-limited).
            decoded = jwt.decode(token, self._keys.keys(refresh=True), algorithms=list(ALGORITHMS))
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._now()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self._keys.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
        )
        registry.validate(decoded.claims)
        return decoded.claims

    def check(self, token: str) -> Reader | str:
        """The person, or why the token is refused (said to the caller)."""
        if token.count(".") != 2:
            return "not an access token of the identity provider"
        try:
            claims = self._claims(token)
        except httpx2.HTTPError:
            log.warning("the identity provider's keys cannot be fetched", exc_info=True)
            return "the identity provider's keys cannot be fetched now"
        except ExpiredTokenError:
            return "the access token has expired"
        except (JoseError, ValueError) as err:
            return f"the access token is refused ({type(err).__name__})"
        user = self.mapping.user_for(claims)
        if user is None:
            return "the access token's claims give no role"
        if user.role not in PERSONAL_DATA_ROLES:
            return f"the {user.role.label} role may not see personal data on every case"
        if not all(user.may_see(code) for code in self._partnerships):
            return "the user may not see every partnership's cases"
        return Reader(user.username, user.role.value)


def enabled_from_env() -> bool:
    return settings().oidc_issuer is not None


def from_env(partnerships: Iterable[str]) -> ProviderTokens:
    """Configured as the console's single sign-on is (SRO_OIDC_*); a ValueError naming what is
    missing or wrong (the mapping file's errors name the field)."""
    configured = settings()
    issuer = configured.oidc_issuer
    if not issuer or not issuer.startswith(("https://", "http://")):
        raise ValueError("SRO_OIDC_ISSUER must be the provider's https:// address")
    audience = configured.oidc_audience or configured.oidc_client_id
    if not audience:
        raise ValueError("SRO_OIDC_ISSUER is set: set SRO_OIDC_AUDIENCE (or SRO_OIDC_CLIENT_ID)")
    if configured.oidc_mapping is None:
        raise ValueError("SRO_OIDC_ISSUER is set: set SRO_OIDC_MAPPING (the claims-to-role file)")
    mapping = load_mapping(configured.oidc_mapping)
    return ProviderTokens(ProviderKeys(issuer), audience, mapping, partnerships)
