"""What `make run` prints: the demo users by name, and how to use `sro` from any folder."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from starter import devstack, devstack_banner


def _settings(tmp_path: Path, port: int = devstack.DEFAULT_PORT) -> devstack.Settings:
    return devstack.Settings(
        data_dir=tmp_path / "data",
        port=port,
        ui_port=8233,
        task_queue="safeguarding-reviews",
        startup_timeout=5,
    )


def test_the_banner_names_the_demo_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_CONSOLE_USERS", raising=False)
    text = devstack.banner(_settings(tmp_path), True, "http://127.0.0.1:8000")
    assert "cora (coordinator, partnership)" in text
    assert "dana (chair, police)" in text
    assert "password_hash" not in text and "$argon2" not in text
    assert len(devstack_banner.demo_users()) >= 6


def test_the_banner_gives_the_whole_environment_for_another_folder(tmp_path: Path) -> None:
    text = devstack.banner(_settings(tmp_path, port=7299), True)
    line = next(
        line for line in text.splitlines() if "SRO_DATA_DIR=" in line and line.endswith(" list")
    )
    words = shlex.split(line)
    env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("/"))
    assert Path(env["SRO_DATA_DIR"]).is_absolute() and Path(env["SRO_PROFILES"]).is_dir()
    assert env["TEMPORAL_ADDRESS"] == "127.0.0.1:7299"
    assert words[len(env)] == sys.executable and words[-3:] == ["-m", "starter", "list"]
    # It works from another folder: `sro kinds` needs no server, only the profiles and Python.
    done = subprocess.run(
        [*words[len(env) : -1], "kinds"],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "triage" in done.stdout
