"""`make run` wires the codec server to the console's sign-in: a person signed in to the stack's
console (its demo users) decodes through the stack's codec server with the console's cookie, as a
Web UI with `codec.includeCredentials` would send it, until they sign out."""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from gateway.connection import data_converter
from security.keys import KeyRing
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 120
CHILD = "Ottoline Brackenbury"


class Browser:
    """A browser on the stack's console (cookies kept, redirects followed)."""

    def __init__(self, console: str) -> None:
        self.console = console
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def page(self, path: str, form: dict[str, str] | None = None) -> str:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        with self.opener.open(f"{self.console}{path}", data=data, timeout=10) as answer:
            text: str = answer.read().decode()
            return text

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.page(path))
        assert found, path
        return found.group(1)

    @property
    def cookie(self) -> str:
        [value] = [c.value for c in self.jar if c.name == "sro_console" and c.value]
        return value


def signed_in(console: str, username: str) -> Browser:
    browser = Browser(console)
    form = {"username": username, "password": "demo-password"}
    browser.page("/login", {**form, "csrf_token": browser.csrf("/login")})
    assert "Sign out" in browser.page("/cases")
    return browser


def decode(codec: str, origin: str, payloads: str, cookie: str | None) -> int:
    headers = {"Origin": origin, "Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = f"sro_console={cookie}"
    request = urllib.request.Request(f"{codec}/decode", data=payloads.encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            decoded = json_format.Parse(answer.read(), Payloads())
            assert CHILD.encode() in decoded.payloads[0].data
            return int(answer.status)
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.integration
async def test_make_run_decodes_for_a_signed_in_console_user(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "SRO_"))}
    env.pop("DATABASE_URL", None)  # the stack's own register, in its data folder
    env.update(
        SRO_DATA_DIR=str(tmp_path / "data"),
        SRO_TEMPORAL_PORT=str(free_port()),
        SRO_UI_PORT=str(free_port()),
        SRO_CODEC_PORT=str(free_port()),
        SRO_CONSOLE_PORT=str(free_port()),
        SRO_TASK_QUEUE=f"devstack-console-codec-{secrets.token_hex(4)}",
        # Not this user's browser: only the console's cookie can let the request through.
        SRO_CODEC_TRUST_LOCAL_USER="0",
    )
    codec = f"http://127.0.0.1:{env['SRO_CODEC_PORT']}"
    console = f"http://127.0.0.1:{env['SRO_CONSOLE_PORT']}"
    ui = f"http://127.0.0.1:{env['SRO_UI_PORT']}"
    out_path = tmp_path / "out"
    out = out_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "starter.devstack", "--no-worker"],
        env=env,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while "Press Ctrl-C" not in out_path.read_text():
            assert process.poll() is None, out_path.read_text()
            assert time.monotonic() < deadline, out_path.read_text()
            await asyncio.sleep(0.2)
        ring = KeyRing.load_file(tmp_path / "data" / "codec-keys.json")
        [sealed] = await data_converter(ring).encode([CHILD])
        payloads = json_format.MessageToJson(Payloads(payloads=[sealed]))

        def status(cookie: str | None) -> int:
            return decode(codec, ui, payloads, cookie)

        assert await asyncio.to_thread(status, None) == 403  # nobody: no token, no session
        cora = await asyncio.to_thread(signed_in, console, "cora")
        assert await asyncio.to_thread(status, cora.cookie) == 200
        rob = await asyncio.to_thread(signed_in, console, "rob")  # read-only
        assert await asyncio.to_thread(status, rob.cookie) == 403
        cookie = cora.cookie
        await asyncio.to_thread(cora.page, "/logout", {"csrf_token": cora.csrf("/cases")})
        assert await asyncio.to_thread(status, cookie) == 403
        log = (tmp_path / "data" / "codec-server.log").read_text()
        assert "endpoint=decode payloads=1 user=cora role=coordinator" in log
        assert CHILD not in log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(RUN_TIMEOUT)
        out.close()
    assert code == 0, out_path.read_text()
