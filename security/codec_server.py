"""The codec server: lets the Temporal Web UI show decrypted payloads to the people allowed to.

It speaks Temporal's remote codec protocol (POST <base>/encode and <base>/decode with Payloads as
protobuf JSON). Access is restricted twice: the browser origin must be the Web UI's
(SRO_CODEC_ALLOWED_ORIGINS), and every request must carry the secret token, either as the first
path segment of the endpoint the UI is given (`--ui-codec-endpoint http://host:port/<token>`)
or as `Authorization: Bearer <token>` (for the CLI and scripts).

`GET /healthz` answers without the token (for `make run`'s start-up check) and says nothing but
"ok".

    python -m security.codec_server            # SRO_CODEC_PORT (8234), SRO_CODEC_TOKEN
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from security.codec import DecryptionError, EncryptionCodec
from security.keys import key_ring_from_env

log = logging.getLogger(__name__)
MAX_BODY = 4 * 1024 * 1024


def token_file() -> Path:
    return Path(os.environ.get("SRO_DATA_DIR", "data")) / "codec-token"


MIN_TOKEN_CHARS = 16


def codec_token(*, create_local: bool = False) -> str:
    token = os.environ.get("SRO_CODEC_TOKEN", "").strip()
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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token)
    path.chmod(0o600)
    return token


def build_app(codec: EncryptionCodec, token: str, allowed_origins: list[str]) -> Starlette:
    def cors(request: Request, response: Response) -> Response:
        origin = request.headers.get("origin")
        if origin in allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = (
                "Content-Type, X-Namespace, Authorization"
            )
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        return response

    def allowed(request: Request, path_token: str | None) -> str | None:
        """Why the request is refused, or None when it may go ahead."""
        origin = request.headers.get("origin")
        if origin is not None and origin not in allowed_origins:
            return "origin not allowed"
        given = path_token
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            given = header[7:].strip()
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            return "missing or wrong token"
        return None

    def handler(
        transform: Callable[[Payloads], Awaitable[list[object]]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if request.method == "OPTIONS":
                return cors(request, Response(status_code=204))
            refused = allowed(request, request.path_params.get("token"))
            if refused:
                log.warning("codec request refused: %s", refused)
                return cors(request, JSONResponse({"error": refused}, status_code=403))
            body = await _read_limited(request)
            if body is None:
                return cors(request, JSONResponse({"error": "too large"}, status_code=413))
            try:
                payloads = json_format.Parse(body, Payloads())
                result = Payloads(payloads=await transform(payloads))  # type: ignore[arg-type]
            except (json_format.ParseError, DecryptionError) as err:
                return cors(request, JSONResponse({"error": str(err)}, status_code=400))
            return cors(
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
        Route("/{token}/encode", handler(encode), methods=methods),
        Route("/{token}/decode", handler(decode), methods=methods),
        Route("/encode", handler(encode), methods=methods),
        Route("/decode", handler(decode), methods=methods),
    ]
    return Starlette(routes=routes)


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
    raw = os.environ.get("SRO_CODEC_ALLOWED_ORIGINS", "http://127.0.0.1:8233,http://localhost:8233")
    return [o.strip() for o in raw.split(",") if o.strip()]


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m security.codec_server")
    parser.add_argument("--host", default=os.environ.get("SRO_CODEC_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SRO_CODEC_PORT", "8234")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    app = build_app(
        EncryptionCodec(key_ring_from_env()),
        codec_token(create_local=True),
        allowed_origins_from_env(),
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
