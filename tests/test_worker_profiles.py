"""The worker refuses to start on a broken partnership profile, before it connects to Temporal:
better at start-up than when a referral for that partnership arrives."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import worker
from safeguarding.profiles import DEFAULT_FOLDER, ProfileError

ROOT = Path(worker.__file__).resolve().parent


class Connected(Exception):
    """Raised by the stand-in for `connect`: the worker got past its checks."""


@pytest.fixture(autouse=True)
def no_temporal(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`connect` must not be reached on a broken profile; when it is, it stops the worker."""
    calls: list[str] = []

    async def connect(*args: Any, **kwargs: Any) -> Any:
        calls.append("connect")
        raise Connected

    monkeypatch.setattr(worker, "connect", connect)
    return calls


def profiles(tmp_path: Path, files: dict[str, str], *, shipped: bool = True) -> Path:
    folder = tmp_path / "profiles"
    if shipped:
        shutil.copytree(DEFAULT_FOLDER, folder)
    else:
        folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


async def refused_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], folder: Path
) -> str:
    monkeypatch.setenv("SRO_PROFILES", str(folder))
    with pytest.raises(SystemExit) as stopped:
        await worker.main()
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("worker not started: a partnership profile is refused\n")
    return captured.err


def test_the_shipped_profiles_pass_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SRO_PROFILES", raising=False)
    assert worker.check_profiles() == ["CSCP", "ENGLAND", "LSCP", "SSCP"]


def test_check_profiles_reads_sro_profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = profiles(tmp_path, {"newcastle.toml": 'code = "NSCP"\nname = "Newcastle"\n'})
    monkeypatch.setenv("SRO_PROFILES", str(folder))
    assert worker.check_profiles() == ["CSCP", "ENGLAND", "LSCP", "NSCP", "SSCP"]


def test_check_profiles_raises_on_a_broken_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = profiles(tmp_path, {"newcastle.toml": 'code = "NSCP"\nreview_grup = "x"\n'})
    monkeypatch.setenv("SRO_PROFILES", str(folder))
    with pytest.raises(ProfileError, match="review_grup"):
        worker.check_profiles()


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        ('code = "NSCP"\nreview_grup = "x"\n', "review_grup", "Extra inputs are not permitted"),
        (
            'code = "NSCP"\nrapid_review_working_days = "fifteen"\n',
            "rapid_review_working_days",
            "valid integer",
        ),
        ('code = "NSCP"\nquorum = ["polis"]\n', "quorum.0", "Input should be"),
        (
            'code = "NSCP"\nmeeting_decisions = ["quality_assured"]\n',
            "profile",
            "meeting_decisions need review_group_meetings",
        ),
    ],
)
async def test_the_worker_refuses_to_start_naming_the_file_and_field(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_temporal: list[str],
    text: str,
    field: str,
    problem: str,
) -> None:
    folder = profiles(tmp_path, {"newcastle.toml": text})
    err = await refused_start(monkeypatch, capsys, folder)
    assert f"{folder / 'newcastle.toml'}: the profile is refused:" in err
    assert any(
        line.startswith(f"  - {field}: ") and problem in line for line in err.splitlines()
    ), err
    assert no_temporal == [], "the worker connected to Temporal despite a broken profile"


async def test_a_toml_syntax_error_stops_the_worker(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_temporal: list[str],
) -> None:
    folder = profiles(tmp_path, {"newcastle.toml": 'code = "NSCP"\nname = \n'})
    err = await refused_start(monkeypatch, capsys, folder)
    assert f"{folder / 'newcastle.toml'}: not valid TOML" in err
    assert no_temporal == []


async def test_a_duplicate_code_stops_the_worker(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_temporal: list[str],
) -> None:
    folder = profiles(tmp_path, {"croydon-2.toml": 'code = "CSCP"\n'})
    err = await refused_start(monkeypatch, capsys, folder)
    assert str(folder / "croydon-2.toml") in err and str(folder / "croydon.toml") in err
    assert "code 'CSCP' is already used" in err
    assert no_temporal == []


@pytest.mark.parametrize("empty", [True, False], ids=["empty folder", "missing folder"])
async def test_no_profiles_stops_the_worker(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_temporal: list[str],
    empty: bool,
) -> None:
    folder = profiles(tmp_path, {}, shipped=False) if empty else tmp_path / "nowhere"
    err = await refused_start(monkeypatch, capsys, folder)
    assert str(folder) in err
    assert ("no *.toml profiles" if empty else "no profiles folder") in err
    assert no_temporal == []


async def test_good_profiles_let_the_worker_go_on_to_connect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_temporal: list[str]
) -> None:
    folder = profiles(tmp_path, {"newcastle.toml": 'code = "NSCP"\n'})
    monkeypatch.setenv("SRO_PROFILES", str(folder))
    with pytest.raises(Connected):
        await worker.main()
    assert no_temporal == ["connect"]


def test_python_worker_py_exits_2_on_a_broken_profile(tmp_path: Path) -> None:
    """The real start path, as `python worker.py` runs it (it never reaches Temporal)."""
    folder = profiles(tmp_path, {"newcastle.toml": 'code = "NSCP"\nreview_grup = "x"\n'})
    env = {
        **os.environ,
        "SRO_PROFILES": str(folder),
        # Nothing listens here: if the check were skipped the worker would fail differently.
        "TEMPORAL_ADDRESS": "127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "worker.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "worker not started: a partnership profile is refused" in done.stderr
    assert f"{folder / 'newcastle.toml'}: the profile is refused:" in done.stderr
    assert "  - review_grup: Extra inputs are not permitted" in done.stderr
