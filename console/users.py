"""Console users: who may sign in, in which role, for which agency and partnerships.

Users live in a TOML file (`SRO_CONSOLE_USERS`, default `console/users.example.toml`, the demo
users). Passwords are stored only as argon2id hashes (argon2-cffi). Add or change a user with

    python -m console.users add NAME --role panel_member --agency police --partnership LSCP

which asks for the password twice (or reads one line from stdin with --password-stdin) and writes
the hash into the file. `python -m console.users list` shows who is in the file, and
`python -m console.users revoke NAME` ends every console session of NAME at once (removing a user
from the file ends their sessions too, at their next request).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tomllib
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from config import settings
from safeguarding.decisions import Person, validation_problems
from safeguarding.vocabulary import Agency, Role

#: The demo users shipped with the project (for local use only).
DEMO_USERS_FILE = Path(__file__).resolve().parent / "users.example.toml"
#: Passwords shorter than this are refused by `add`.
MIN_PASSWORD_LENGTH = 10
ALL_PARTNERSHIPS = "*"

_hasher = PasswordHasher()
#: Verified against when the user name is unknown, so a wrong name takes as long as a wrong
#: password (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


class ConsoleRole(StrEnum):
    """What a person does in the console. Every role but read_only is also a decision role."""

    COORDINATOR = "coordinator"
    PANEL_MEMBER = "panel_member"
    CHAIR = "chair"
    BUSINESS_MANAGER = "business_manager"
    LEAD_REVIEWER = "lead_reviewer"
    READ_ONLY = "read_only"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").replace("read only", "read-only")

    @property
    def decision_role(self) -> Role | None:
        return None if self is ConsoleRole.READ_ONLY else Role(self.value)


#: A user name; `@` too, for people signed in through the identity provider (console/sso_claims.py).
Username = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9._@-]*$")]


def partnership_codes(codes: list[str]) -> list[str]:
    """Partnership codes (like LSCP) or "*" for every partnership; a ValueError otherwise."""
    for code in codes:
        if code != ALL_PARTNERSHIPS and not (
            2 <= len(code) <= 16 and code[0].isupper() and code.replace("_", "").isalnum()
        ):
            raise ValueError(f"{code!r} is not a partnership code (like LSCP) or '*'")
    return codes


class User(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: Username
    display_name: str = Field(min_length=1, max_length=120)
    role: ConsoleRole
    agency: Agency
    #: Partnership codes this user may see; "*" for every partnership.
    partnerships: list[str] = Field(min_length=1, max_length=200)
    #: None for a person signed in through the identity provider (no password here); every
    #: user in a users file has one (`StoredUser`).
    password_hash: str | None = Field(None, min_length=20, max_length=400)
    #: True for a person signed in through the identity provider (console/routes/sso.py).
    sso: bool = False

    @field_validator("partnerships")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        return partnership_codes(codes)

    @field_validator("password_hash")
    @classmethod
    def _argon2(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("$argon2"):
            raise ValueError("must be an argon2 hash (python -m console.users add writes one)")
        return value

    def may_see(self, partnership: str) -> bool:
        return ALL_PARTNERSHIPS in self.partnerships or partnership in self.partnerships

    @property
    def person(self) -> Person | None:
        """Who this user is when they make a decision (None: read-only users decide nothing)."""
        role = self.role.decision_role
        if role is None:
            return None
        return Person(name=self.display_name, role=role, agency=self.agency)

    def describe(self) -> str:
        return f"{self.display_name} ({self.role.label}, {self.agency.label})"


class StoredUser(User):
    """A user in the users file: signs in with a password."""

    password_hash: str = Field(min_length=20, max_length=400)
    sso: Literal[False] = False


class UsersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: list[StoredUser] = Field(default_factory=list)


class UsersError(ValueError):
    """A users file that cannot be used."""


def users_file() -> Path:
    """The users file the commands manage (the console itself requires SRO_CONSOLE_USERS
    outside the dev stack: console/app.py)."""
    return settings().console_users or DEMO_USERS_FILE


def load_users(path: Path | None = None) -> dict[str, User]:
    path = path or users_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UsersError(f"{path}: cannot be read: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise UsersError(f"{path}: not valid TOML: {err}") from None
    try:
        parsed = UsersFile.model_validate(data)
    except ValidationError as err:
        problems = "\n".join(f"  - {p}" for p in validation_problems(err))
        raise UsersError(f"{path}: the users file is refused:\n{problems}") from None
    users: dict[str, User] = {}
    for user in parsed.users:
        if user.username in users:
            raise UsersError(f"{path}: user {user.username!r} appears twice")
        users[user.username] = user
    return users


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """True when the password matches; always does the work of one verification."""
    stored = user.password_hash if user is not None else None
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------------- writing the file


def _toml_string(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes).
    return json.dumps(text, ensure_ascii=False)


def render_users(users: Sequence[User], header: str = "") -> str:
    blocks = [header.rstrip("\n") + "\n"] if header.strip() else []
    for user in users:
        if user.password_hash is None:
            raise UsersError(f"{user.username}: a users file holds only users with a password")
        partnerships = ", ".join(_toml_string(p) for p in user.partnerships)
        blocks.append(
            "\n".join(
                [
                    "[[users]]",
                    f"username = {_toml_string(user.username)}",
                    f"display_name = {_toml_string(user.display_name)}",
                    f"role = {_toml_string(user.role.value)}",
                    f"agency = {_toml_string(user.agency.value)}",
                    f"partnerships = [{partnerships}]",
                    f"password_hash = {_toml_string(user.password_hash)}",
                ]
            )
            + "\n"
        )
    return "\n".join(blocks)


def _header(text: str) -> str:
    """The comment lines at the top of a users file, kept when it is rewritten."""
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("#") or (not line.strip() and lines):
            lines.append(line)
        else:
            break
    return "\n".join(lines).rstrip() + "\n" if lines else ""


def save_user(path: Path, user: User) -> bool:
    """Add the user to the file, or replace the one with the same name. True if replaced."""
    existing: dict[str, User] = load_users(path) if path.exists() else {}
    header = _header(path.read_text(encoding="utf-8")) if path.exists() else ""
    replaced = user.username in existing
    existing[user.username] = user
    text = render_users(list(existing.values()), header)
    _check_text(text, path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return replaced


def _check_text(text: str, path: Path) -> None:
    try:
        UsersFile.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as err:  # pragma: no cover - a bug
        raise UsersError(f"{path}: would write an invalid file: {err}") from None


# ---------------------------------------------------------------------- command line


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        again = getpass.getpass("Again: ")
        if password != again:
            raise UsersError("the passwords do not match")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsersError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return password


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m console.users", description="Manage the console's users file."
    )
    parser.add_argument(
        "--file", type=Path, default=None, help="users file (default: $SRO_CONSOLE_USERS)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add a user or change one (asks for the password)")
    add.add_argument("username", help="sign-in name: lower case letters, digits, . _ -")
    add.add_argument("--display-name", help="the name decisions are recorded under")
    add.add_argument("--role", required=True, choices=[r.value for r in ConsoleRole])
    add.add_argument("--agency", required=True, choices=[a.value for a in Agency])
    add.add_argument(
        "--partnership",
        action="append",
        required=True,
        metavar="CODE",
        help="a partnership they may see (repeat for more; '*' for all)",
    )
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    commands.add_parser("list", help="list the users in the file")
    revoke = commands.add_parser(
        "revoke",
        help="end every console session of a user now (they must sign in again); the register "
        "database (DATABASE_URL) holds the sessions",
    )
    revoke.add_argument("username")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    path: Path = args.file or users_file()
    try:
        if args.command == "list":
            for user in load_users(path).values():
                print(f"{user.username:<16} {user.describe()}  [{', '.join(user.partnerships)}]")
            return 0
        if args.command == "revoke":
            return _revoke(args.username)
        password = _read_password(args)
        try:
            user = User(
                username=args.username,
                display_name=args.display_name or args.username,
                role=ConsoleRole(args.role),
                agency=Agency(args.agency),
                partnerships=[p.strip().upper() if p != "*" else p for p in args.partnership],
                password_hash=hash_password(password),
            )
        except ValidationError as err:
            raise UsersError("; ".join(validation_problems(err))) from None
        replaced = save_user(path, user)
    except UsersError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{'Changed' if replaced else 'Added'} {user.describe()} in {path}")
    return 0


def _revoke(username: str) -> int:
    # Imported here: `add` and `list` need no database driver.
    from console.sessions import revoke_sessions
    from register import db

    try:
        ended = revoke_sessions(username.strip().lower())
    except Exception as err:
        print(f"error: the register at {db.describe()} cannot be used: {err}", file=sys.stderr)
        return 1
    print(f"Ended {ended} session(s) of {username} (register {db.describe()}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
