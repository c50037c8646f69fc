"""`make run` (starter/devstack.py) and payload encryption: a key and a codec token exist before
anything starts, the codec server runs beside the dev server, and the Web UI decodes through it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.client import Client

from gateway.connection import data_converter
from security.keys import KeyRing
from starter import devstack
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 120


def settings(tmp_path: Path, ui_port: int = 8233) -> devstack.Settings:
    return devstack.Settings(
        data_dir=tmp_path, port=7233, ui_port=ui_port, task_queue="q", startup_timeout=5
    )


# --------------------------------------------------------------------------- no server needed


def test_the_web_ui_is_pointed_at_the_codec_server(tmp_path: Path) -> None:
    command = devstack.server_command("temporal", settings(tmp_path), "http://127.0.0.1:8234/t0k")
    joined = " ".join(command)
    assert "--ui-disable-news-fetch --ui-codec-endpoint http://127.0.0.1:8234/t0k" in joined
    assert "--ui-codec-endpoint" not in devstack.server_command("temporal", settings(tmp_path))


def test_the_codec_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_CODEC_PORT", raising=False)
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            taken.bind(("127.0.0.1", devstack.DEFAULT_CODEC_PORT))
            taken.listen()
        except OSError:
            pass  # something else holds it: the same case
        assert devstack.codec_port(settings(tmp_path)) > devstack.DEFAULT_CODEC_PORT
        monkeypatch.setenv("SRO_CODEC_PORT", str(devstack.DEFAULT_CODEC_PORT))
        with pytest.raises(devstack.DevStackError, match=r"\(SRO_CODEC_PORT\) is already in use"):
            devstack.codec_port(settings(tmp_path))
    monkeypatch.setenv("SRO_CODEC_PORT", "port")
    with pytest.raises(devstack.DevStackError, match="SRO_CODEC_PORT='port' is not a port"):
        devstack.codec_port(settings(tmp_path))


def test_only_the_web_ui_origin_may_call_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SRO_CODEC_ALLOWED_ORIGINS", raising=False)
    env = devstack.codec_environment(settings(tmp_path, ui_port=8300), 8301)
    assert env["SRO_CODEC_ALLOWED_ORIGINS"] == "http://127.0.0.1:8300,http://localhost:8300"
    assert env["SRO_DATA_DIR"] == str(tmp_path)
    monkeypatch.setenv("SRO_CODEC_ALLOWED_ORIGINS", "https://ui.example")
    env = devstack.codec_environment(settings(tmp_path), 8301)
    assert env["SRO_CODEC_ALLOWED_ORIGINS"] == "https://ui.example"
    assert devstack.codec_command(8301)[1:] == [
        "-m", "security.codec_server", "--host", "127.0.0.1", "--port", "8301"
    ]  # fmt: skip


def test_only_the_codec_server_gets_the_token_and_it_trusts_this_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRO_CODEC_TOKEN", "a-token-of-my-own-choosing")
    monkeypatch.delenv("SRO_CODEC_TRUST_LOCAL_USER", raising=False)
    codec_env = devstack.codec_environment(settings(tmp_path), 8301)
    assert codec_env["SRO_CODEC_TOKEN"] == "a-token-of-my-own-choosing"
    assert codec_env["SRO_CODEC_TRUST_LOCAL_USER"] == "1"
    others = devstack.without_codec_secrets(devstack.child_environment(settings(tmp_path)))
    assert "SRO_CODEC_TOKEN" not in others and others["SRO_DATA_DIR"] == str(tmp_path)
    monkeypatch.setenv("SRO_CODEC_TRUST_LOCAL_USER", "0")  # a shared machine: token only
    assert devstack.codec_environment(settings(tmp_path), 8301)["SRO_CODEC_TRUST_LOCAL_USER"] == "0"


def test_a_key_and_a_token_are_created_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SRO_CODEC_KEYS", "SRO_CODEC_KEYS_FILE", "SRO_CODEC_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SRO_DATA_DIR", str(tmp_path))
    token, source = devstack.ensure_codec_secrets()
    assert source == str(tmp_path / "codec-token") and token not in source
    assert (tmp_path / "codec-keys.json").stat().st_mode & 0o777 == 0o600
    assert devstack.ensure_codec_secrets() == (token, source)
    monkeypatch.setenv("SRO_CODEC_TOKEN", "a-token-of-my-own-choosing")
    assert devstack.ensure_codec_secrets() == ("a-token-of-my-own-choosing", "SRO_CODEC_TOKEN")
    monkeypatch.setenv("SRO_CODEC_TOKEN", "mine")
    with pytest.raises(devstack.DevStackError, match="SRO_CODEC_TOKEN is too short"):
        devstack.ensure_codec_secrets()
    monkeypatch.delenv("SRO_CODEC_TOKEN")
    monkeypatch.setenv("SRO_CODEC_KEYS", "k1=c2hvcnQ=")
    with pytest.raises(devstack.DevStackError, match="key 'k1' is 5 bytes"):
        devstack.ensure_codec_secrets()


def test_the_banner_shows_the_codec_server_but_not_its_token(tmp_path: Path) -> None:
    codec = devstack.CodecServer(
        child=None,  # type: ignore[arg-type]
        url="http://127.0.0.1:8234",
        token_source=str(tmp_path / "codec-token"),
        endpoint="http://127.0.0.1:8234/t0k3n",
        token="t0k3n",
    )
    text = devstack.banner(settings(tmp_path), True, "http://127.0.0.1:8000", codec)
    assert "  Codec server      http://127.0.0.1:8234" in text
    assert f"  Codec token       in {tmp_path / 'codec-token'}" in text
    assert "t0k3n" not in text and "t0k3n" not in repr(codec)


def test_a_child_log_never_shows_the_token(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    child = devstack.Child(
        "echo",
        [sys.executable, "-c", "pass", "--flag", "http://h/t0k3n"],
        log,
        {},
        redact=["t0k3n"],
    )
    child.process.wait(30)
    child.stop()
    assert "http://h/<redacted>" in log.read_text() and "t0k3n" not in log.read_text()


# --------------------------------------------------------------------------- the real thing


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment for a devstack with no key configured: it must create its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "SRO_"))}
    env.update(
        SRO_DATA_DIR=str(tmp_path / "data"),
        SRO_TEMPORAL_PORT=str(free_port()),
        SRO_UI_PORT=str(free_port()),
        SRO_CODEC_PORT=str(free_port()),
        SRO_CONSOLE_PORT=str(free_port()),
        SRO_TASK_QUEUE=f"devstack-codec-{secrets.token_hex(4)}",
    )
    yield env


def base64_fields(output: bytes) -> bytes:
    """The CLI's JSON shows payload metadata in base64: decode every string that is base64."""
    found = b""
    for token in re.findall(rb'"([A-Za-z0-9+/=]{8,})"', output):
        with contextlib.suppress(ValueError):
            found += base64.b64decode(token, validate=True)
    return found


def http(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        body: bytes = answer.read()
        return body


@pytest.mark.integration
async def test_make_run_serves_the_codec_to_the_web_ui(
    stack: dict[str, str], tmp_path: Path
) -> None:
    data = Path(stack["SRO_DATA_DIR"])
    codec_url = f"http://127.0.0.1:{stack['SRO_CODEC_PORT']}"
    ui_url = f"http://127.0.0.1:{stack['SRO_UI_PORT']}"
    out = (tmp_path / "out").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "starter.devstack", "--no-worker"],
        env=stack,
        cwd=ROOT,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while "Press Ctrl-C" not in (tmp_path / "out").read_text():
            assert process.poll() is None, (tmp_path / "out").read_text()
            assert time.monotonic() < deadline, (tmp_path / "out").read_text()
            await asyncio.sleep(0.2)
        banner = (tmp_path / "out").read_text()
        token = (data / "codec-token").read_text().strip()
        ring = KeyRing.load_file(data / "codec-keys.json")
        assert f"Codec server      {codec_url}" in banner
        assert token not in banner
        for log in data.glob("*.log"):
            assert token not in log.read_text(), f"the token is in {log}"

        # The Web UI was given the codec endpoint and no token: every local user can read the
        # dev server's command line and this settings page (tests/security/test_devstack_trust.py).
        settings_json = json.loads(await asyncio.to_thread(http, f"{ui_url}/api/v1/settings"))
        assert settings_json["Codec"]["Endpoint"] == codec_url
        assert token not in json.dumps(settings_json)

        # The codec server decodes, with the stack's own key, for the Web UI's origin only.
        [sealed] = await data_converter(ring).encode(["Ottoline Brackenbury"])
        payloads = json_format.MessageToJson(Payloads(payloads=[sealed])).encode()
        headers = {"Origin": ui_url, "Content-Type": "application/json"}
        answer = await asyncio.to_thread(http, f"{codec_url}/{token}/decode", payloads, headers)
        assert b"Ottoline Brackenbury" in json_format.Parse(answer, Payloads()).payloads[0].data
        # What the Web UI sends from this user's browser: no token, this user's connection.
        answer = await asyncio.to_thread(http, f"{codec_url}/decode", payloads, headers)
        assert b"Ottoline Brackenbury" in json_format.Parse(answer, Payloads()).payloads[0].data
        for url, extra in (
            (f"{codec_url}/wrong/decode", {}),
            (f"{codec_url}/{token}/decode", {"Origin": "https://elsewhere.example"}),
        ):
            with pytest.raises(urllib.error.HTTPError) as refused:
                await asyncio.to_thread(http, url, payloads, {**headers, **extra})
            assert refused.value.code == 403
        assert await asyncio.to_thread(http, f"{codec_url}/healthz") == b"ok"

        # The Temporal CLI decodes a history through it with the token as a Bearer token, given
        # in its environment (TEMPORAL_CODEC_AUTH), not on its command line.
        address = f"127.0.0.1:{stack['SRO_TEMPORAL_PORT']}"
        client = await Client.connect(address, data_converter=data_converter(ring))
        handle = await client.start_workflow(
            "ReferralWorkflow", "Ottoline Brackenbury", id=f"codec-{secrets.token_hex(3)}",
            task_queue="nobody-polls-this",
        )  # fmt: skip
        show = [devstack.temporal_binary(), "workflow", "show", "-w", handle.id, "--output", "json"]
        show += ["--address", address]
        codec = ["--codec-endpoint", codec_url]
        auth = {**os.environ, "TEMPORAL_CODEC_AUTH": f"Bearer {token}"}
        clear = await asyncio.to_thread(
            subprocess.run, [*show, *codec], capture_output=True, env=auth
        )
        assert clear.returncode == 0, clear.stderr
        assert b"Ottoline Brackenbury" in base64_fields(clear.stdout)
        # The CLI does send TEMPORAL_CODEC_AUTH: a wrong one is refused (this user or not).
        wrong = {**os.environ, "TEMPORAL_CODEC_AUTH": "Bearer wrong-token"}
        refused_cli = await asyncio.to_thread(
            subprocess.run, [*show, *codec], capture_output=True, env=wrong
        )
        assert b"Ottoline Brackenbury" not in base64_fields(refused_cli.stdout)
        sealed_out = await asyncio.to_thread(subprocess.run, show, capture_output=True)
        assert b"Ottoline Brackenbury" not in base64_fields(sealed_out.stdout)
        assert b"binary/encrypted" in base64_fields(sealed_out.stdout)
        await handle.terminate("test finished")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(RUN_TIMEOUT)
        out.close()
    assert code == 0, (tmp_path / "out").read_text()
    assert devstack.port_in_use(int(stack["SRO_CODEC_PORT"])) is False
