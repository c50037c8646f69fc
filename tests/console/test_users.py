"""The users file and `python -m console.users`."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from console import users
from console.users import DEMO_USERS_FILE, ConsoleRole, UsersError, load_users, verify_password


def test_the_demo_file_is_marked_and_complete() -> None:
    text = DEMO_USERS_FILE.read_text()
    assert text.startswith("# DEMO USERS")
    assert "NOT FOR REAL DATA" in text
    loaded = load_users(DEMO_USERS_FILE)
    assert {u.role for u in loaded.values()} == set(ConsoleRole)
    assert all((u.password_hash or "").startswith("$argon2id$") for u in loaded.values())
    assert verify_password(loaded["cora"], "demo-password")


def test_add_writes_an_argon2_hash_and_keeps_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "users.toml"
    path.write_text("# our partnership's users\n")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    code = users.main(
        [
            "--file", str(path), "add", "ann", "--display-name", "Ann Nurse",
            "--role", "panel_member", "--agency", "health", "--partnership", "lscp",
            "--partnership", "CSCP", "--password-stdin",
        ]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert "Added Ann Nurse (panel member, Health (ICB))" in capsys.readouterr().out
    text = path.read_text()
    assert text.startswith("# our partnership's users")
    assert "a-long-password" not in text
    ann = load_users(path)["ann"]
    assert ann.partnerships == ["LSCP", "CSCP"]
    assert verify_password(ann, "a-long-password")
    assert path.stat().st_mode & 0o077 == 0

    # Changing a user replaces them.
    monkeypatch.setattr("sys.stdin", io.StringIO("another-long-one\n"))
    code = users.main(
        ["--file", str(path), "add", "ann", "--role", "chair", "--agency", "health",
         "--partnership", "*", "--password-stdin"]
    )  # fmt: skip
    assert code == 0
    assert load_users(path)["ann"].role is ConsoleRole.CHAIR
    assert len(load_users(path)) == 1


def test_add_refuses_a_short_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code = users.main(
        ["--file", str(tmp_path / "u.toml"), "add", "bob", "--role", "chair", "--agency",
         "police", "--partnership", "LSCP", "--password-stdin"]
    )  # fmt: skip
    assert code == 2
    assert "at least 10 characters" in capsys.readouterr().err


def test_a_bad_file_is_refused_with_the_field(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    path.write_text(
        '[[users]]\nusername = "x1"\ndisplay_name = "X"\nrole = "boss"\nagency = "police"\n'
        'partnerships = ["LSCP"]\npassword_hash = "plain-text-password-here"\n'
    )
    with pytest.raises(UsersError) as refused:
        load_users(path)
    message = str(refused.value)
    assert "users.0.role" in message
    assert "users.0.password_hash: must be an argon2 hash" in message


def test_read_only_users_decide_nothing() -> None:
    rob = load_users(DEMO_USERS_FILE)["rob"]
    assert rob.person is None
    pat = load_users(DEMO_USERS_FILE)["pat"]
    assert pat.person is not None and pat.person.role.value == "panel_member"
