"""The codec server: lets the Temporal Web UI show decrypted payloads to the people allowed to.

It speaks Temporal's remote codec protocol (POST <base>/encode and <base>/decode with Payloads as
protobuf JSON). Access is restricted twice: the browser origin must be the Web UI's
(SRO_CODEC_ALLOWED_ORIGINS), and the caller must prove who it is, with the secret token as
`Authorization: Bearer <token>` (the CLI: TEMPORAL_CODEC_AUTH) or as the first path segment of
the endpoint (an endpoint typed into the Web UI's own codec settings), or, with
SRO_CODEC_TRUST_LOCAL_USER=1 (what `make run` sets), by being a loopback connection from the user
who runs this server (security/local_peer.py): the Web UI in your own browser. With
SRO_CODEC_CONSOLE_SESSIONS=1 it also decodes (never encodes) for a person signed in to the web
console, whose browser sends the console's session cookie (security/console_sign_in.py): only a
live session of a user whose role sees personal data on every case. Each request it answers is
logged with who it was for (a user and role, the shared token or the local user), the endpoint
and the number of payloads: never a payload.

The token is read from SRO_CODEC_TOKEN or a 0600 file in the data folder, never from the command
line, and is never put in the Web UI's codec endpoint: `ps` and the Web UI's /api/v1/settings
show that endpoint to every local user.

`GET /healthz` answers without the token (for `make run`'s start-up check) and says nothing but
"ok".

    python -m security.codec_server    # SRO_CODEC_PORT (8234), SRO_CODEC_TOKEN, SRO_CODEC_HOST
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import hmac
import logging
import re
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from config import SettingsError, settings
from register import access_log as register_access_log
from register.access_log import PAYLOADS, Viewer
from register.case_keys import SqlCaseKeyStore
from security import console_sign_in, provider_tokens
from security.case_keys import CaseKeys
from security.codec import CaseKeyUnavailable, DecryptionError, EncryptionCodec
from security.console_sign_in import ConsoleSignIn, Reader
from security.files import private_data_dir, write_private
from security.keys import key_ring_from_env
from security.local_peer import same_local_user
from security.provider_tokens import ProviderTokens

log = logging.getLogger(__name__)
#: One line per answered request, saying for whom (the access log of issue 14 builds on it).
access_log = logging.getLogger(f"{__name__}.access")
MAX_BODY = 4 * 1024 * 1024
DEFAULT_PORT = 8234


#: A case reference inside a decoded payload (not an escalation's: `LSCP-ESC-...`).
_CASE_REF = re.compile(rb"(?<![A-Z0-9_-])[A-Z][A-Z0-9_]*-[0-9]{4}-[0-9A-F]{6}(?![0-9A-Za-z])")


def principal(who: str) -> Viewer:
    """Who a decode is for, from what `Access.allowed` says ("user=cora role=coordinator",
    "by=shared_token", "by=local_user"). Single sign-on can build a `Viewer` itself instead and
    pass it to `record_decoded`."""
    fields = dict(part.split("=", 1) for part in who.split() if "=" in part)
    if "user" in fields:
        return Viewer(fields["user"], fields.get("role"), fields.get("agency"))
    if fields.get("by") == "local_user":
        return Viewer(f"local user {getpass.getuser()}", "operator")
    return Viewer("codec token", "operator")


def record_decoded(viewer: Viewer, decoded: Sequence[object]) -> bool:
    """Record a decode for the Web UI in the register's access log (issue 14): who, when, the
    cases the payloads name (the Web UI does not say which case it asks about: the payloads'
    own case references, or none). False when it cannot be written: the decode is then refused
    (fail-closed, DATA-PROTECTION.md)."""
    refs: list[str | None] = []
    for payload in decoded:
        data = getattr(payload, "data", b"")
        refs += [m.decode() for m in _CASE_REF.findall(data)] if isinstance(data, bytes) else []
    return register_access_log.record(
        viewer,
        refs or [None],
        via="codec",
        data=(PAYLOADS,),
        what=f"decode {len(decoded)} payload(s) for the Web UI",
    )


def token_file() -> Path:
    return settings().data_dir / "codec-token"


MIN_TOKEN_CHARS = 16


def codec_token(*, create_local: bool = False) -> str:
    token = settings().codec_token
    if token:
        if len(token) < MIN_TOKEN_CHARS:
            raise ValueError(
                f"SRO_CODEC_TOKEN is too short to be a secret: use at least {MIN_TOKEN_CHARS} "
                "random characters, e.g. from `python -c 'import secrets; "
                "print(secrets.token_urlsafe())'`"
            )
        return token
    path = token_file()
    if path.exists():
        return path.read_text().strip()
    if not create_local:
        raise ValueError("no codec token: set SRO_CODEC_TOKEN")
    token = secrets.token_urlsafe(24)
    write_private(path, token)
    return token


class Access:
    """Who may use the codec server: its allowed origins, the shared token, the local user (dev
    stack) and signed-in console users (decode only). See `build_app`."""

    def __init__(
        self,
        token: str | None,
        allowed_origins: list[str],
        trust_local_user: bool,
        console: ConsoleSignIn | None,
        provider: ProviderTokens | None = None,
    ) -> None:
        #: None: no shared token is accepted (single sign-on: people, not a token).
        self.token = token
        self.allowed_origins = allowed_origins
        self.trust_local_user = trust_local_user
        self.console = console
        self.provider = provider

    def cors(self, request: Request, response: Response) -> Response:
        origin = request.headers.get("origin")
        if origin in self.allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = (
                "Content-Type, X-Namespace, Authorization"
            )
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        return response

    async def allowed(
        self, request: Request, path_token: str | None, name: str
    ) -> tuple[str, bool]:
        """(who, True) when the request may go ahead; (why it is refused, False) otherwise."""
        origin = request.headers.get("origin")
        if origin is not None and origin not in self.allowed_origins:
            return "origin not allowed", False
        given = path_token
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            given = header[7:].strip()
        if given:  # a wrong token is refused whoever sends it, with whatever cookie
            if self.token is not None and hmac.compare_digest(given.encode(), self.token.encode()):
                return "by=shared_token", True
            if self.provider is not None:
                return await self._provider_reader(self.provider, given, name)
            return "missing or wrong token", False
        refused = "missing or wrong token"
        console = self.console
        cookie = request.cookies.get(console.cookie) if console else None
        if console is not None and cookie:
            who = await self._console_reader(console, cookie, origin, name)
            if isinstance(who, Reader):
                return f"user={who.username} role={who.role}", True
            refused = who
        if self.trust_local_user and same_local_user(request.client, _server(request)):
            return "by=local_user", True
        return refused, False

    @staticmethod
    async def _provider_reader(provider: ProviderTokens, token: str, name: str) -> tuple[str, bool]:
        if name != "decode":
            # The key is the credential to write (README): people read, they do not encode.
            return "an access token may decode, not encode", False
        found = await asyncio.to_thread(provider.check, token)
        if isinstance(found, Reader):
            return f"user={found.username} role={found.role} via=provider", True
        return found, False

    @staticmethod
    async def _console_reader(
        console: ConsoleSignIn, cookie: str, origin: str | None, name: str
    ) -> Reader | str:
        if origin is None:
            # Browsers send Origin with every POST: a cookie without one is not the Web UI.
            return "a console session is accepted only from the Web UI's origin"
        if name != "decode":
            # The key is the credential to write (README): people read, they do not encode.
            return "a console session may decode, not encode"
        try:
            found: Reader | str = await asyncio.to_thread(console.check, cookie)
        except Exception:  # e.g. the register is down: nobody is recognised meanwhile
            log.exception("console sessions cannot be checked")
            found = "console sessions cannot be checked now"
        return found


def build_app(
    codec: EncryptionCodec,
    token: str | None,
    allowed_origins: list[str],
    *,
    trust_local_user: bool = False,
    console: ConsoleSignIn | None = None,
    provider: ProviderTokens | None = None,
) -> Starlette:
    """`token`: the shared token (None: not accepted). `trust_local_user`: a request with no
    token is allowed when it comes over loopback from a process of the user running this server
    (the dev stack's Web UI in that user's browser). `console`: a request with no token is
    allowed to decode when it carries the session cookie of a signed-in console user who may
    see personal data. `provider`: a bearer token that is the identity provider's access token
    of a person who may see personal data is allowed to decode (security/provider_tokens.py)."""
    access = Access(token, allowed_origins, trust_local_user, console, provider)

    def handler(
        name: str,
        transform: Callable[[Payloads], Awaitable[list[object]]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if request.method == "OPTIONS":
                return access.cors(request, Response(status_code=204))
            why, ok = await access.allowed(request, request.path_params.get("token"), name)
            if not ok:
                log.warning("codec request refused: %s", why)
                return access.cors(request, JSONResponse({"error": why}, status_code=403))
            body = await _read_limited(request)
            if body is None:
                return access.cors(request, JSONResponse({"error": "too large"}, status_code=413))
            try:
                payloads = json_format.Parse(body, Payloads())
                result = Payloads(payloads=await transform(payloads))  # type: ignore[arg-type]
            except (json_format.ParseError, DecryptionError) as err:
                return access.cors(request, JSONResponse({"error": str(err)}, status_code=400))
            except CaseKeyUnavailable as err:  # the register is down: try again later
                log.warning("case key unavailable: %s", err)
                down = {"error": "the case keys cannot be read now"}
                return access.cors(request, JSONResponse(down, status_code=503))
            if name == "decode" and not await asyncio.to_thread(
                record_decoded, principal(why), list(result.payloads)
            ):
                unlogged = {"error": "the access log cannot be written now: nothing decoded"}
                return access.cors(request, JSONResponse(unlogged, status_code=503))
            access_log.info("endpoint=%s payloads=%d %s", name, len(payloads.payloads), why)
            return access.cors(
                request,
                Response(json_format.MessageToJson(result), media_type="application/json"),
            )

        return endpoint

    async def encode(payloads: Payloads) -> list[object]:
        return list(await codec.encode(payloads.payloads))

    async def decode(payloads: Payloads) -> list[object]:
        return list(await codec.decode(payloads.payloads))

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    methods = ["POST", "OPTIONS"]
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/{token}/encode", handler("encode", encode), methods=methods),
        Route("/{token}/decode", handler("decode", decode), methods=methods),
        Route("/encode", handler("encode", encode), methods=methods),
        Route("/decode", handler("decode", decode), methods=methods),
    ]
    return Starlette(routes=routes)


def _server(request: Request) -> tuple[str, int] | None:
    server = request.scope.get("server")
    return (str(server[0]), int(server[1])) if server and server[1] is not None else None


async def _read_limited(request: Request) -> bytes | None:
    """The request body, or None if it is over MAX_BODY (never read into memory past that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def allowed_origins_from_env() -> list[str]:
    raw = settings().codec_allowed_origins
    return [o.strip() for o in raw.split(",") if o.strip()]


def trust_local_user_from_env() -> bool:
    return settings().codec_trust_local_user


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m security.codec_server")
    try:
        configured = settings()
    except SettingsError as err:
        print(f"codec server not started: {err}", file=sys.stderr)
        return 2
    parser.add_argument("--host", default=configured.codec_host)
    parser.add_argument("--port", type=int, default=configured.codec_port or DEFAULT_PORT)
    args = parser.parse_args(argv)
    private_data_dir()  # the token and the key file are created 0600 from the start
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    console = None
    provider = None
    try:
        if provider_tokens.enabled_from_env():
            from safeguarding.profiles import load_profiles

            provider = provider_tokens.from_env(load_profiles())
    except (ValueError, OSError) as err:
        print(f"codec server not started: single sign-on: {err}", file=sys.stderr)
        return 2
    if console_sign_in.enabled_from_env():
        from safeguarding.profiles import ProfileError, load_profiles

        try:
            console = console_sign_in.from_env(args.host, load_profiles())
        except (ValueError, ProfileError, OSError) as err:
            print(f"codec server not started: {err}", file=sys.stderr)
            return 2
    ring = key_ring_from_env()
    app = build_app(
        # A disposed case's payloads show as "disposed: personal data" (its key is destroyed).
        EncryptionCodec(ring, case_keys=CaseKeys(ring, SqlCaseKeyStore()), show_disposed=True),
        # With single sign-on the codec server decodes for people, not for a shared token.
        None if provider is not None else codec_token(create_local=True),
        allowed_origins_from_env(),
        trust_local_user=trust_local_user_from_env(),
        console=console,
        provider=provider,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
