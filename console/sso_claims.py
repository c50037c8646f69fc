"""Who a person signed in through the identity provider is in the console: the claims-to-role
mapping (`SRO_OIDC_MAPPING`, a TOML file the partnership's IT lead keeps).

The provider says who the person is (a user name claim, a display name claim) and which groups
they belong to (a groups claim: Entra ID's `groups` or app `roles`). The mapping turns groups into
the console's vocabulary: a role (console/users.py ConsoleRole), an agency
(safeguarding/vocabulary.py Agency) and the partnerships they may see. For example:

    username_claim = "preferred_username"   # the sign-in name (lower-cased)
    name_claim = "name"                     # the name decisions are recorded under
    groups_claim = "groups"                 # where the provider lists the person's groups

    [[groups]]
    group = "SRO LSCP coordinators"         # as the provider sends it (a name or an object id)
    role = "coordinator"
    agency = "partnership"
    partnerships = ["LSCP"]

The first `[[groups]]` entry (in file order) that matches one of the person's groups gives the
role and agency; the partnerships are those of every matching entry with that same role and
agency. A person none of whose groups is listed has no role and is refused. The file is read and
checked when the console (or the codec server) starts: a bad file stops it with the field named.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from console.users import ALL_PARTNERSHIPS, ConsoleRole, User, partnership_codes
from safeguarding.decisions import printable, validation_problems
from safeguarding.vocabulary import Agency

#: The session table's user name column holds 40 characters (register/models.py).
MAX_USERNAME = 40
_NOT_ALLOWED = re.compile(r"[^a-z0-9._@-]")


class SsoError(ValueError):
    """A mapping file that cannot be used (said with the file and the field)."""


class GroupRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str = Field(min_length=1, max_length=256)
    role: ConsoleRole
    agency: Agency
    partnerships: list[str] = Field(min_length=1, max_length=200)

    @field_validator("partnerships")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        return partnership_codes(codes)  # as in a users file: codes like LSCP, or "*"


class ClaimsMapping(BaseModel):
    """The mapping file (see the module)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username_claim: str = Field("preferred_username", min_length=1)
    name_claim: str = Field("name", min_length=1)
    groups_claim: str = Field("groups", min_length=1)
    groups: list[GroupRule] = Field(min_length=1)

    def user_for(self, claims: Mapping[str, Any]) -> User | None:
        """The console user these claims make, or None when no listed group gives a role."""
        groups = claims_list(claims.get(self.groups_claim))
        matching = [rule for rule in self.groups if rule.group in groups]
        if not matching:
            return None
        first = matching[0]
        codes: list[str] = []
        for rule in matching:
            if (rule.role, rule.agency) == (first.role, first.agency):
                codes += [code for code in rule.partnerships if code not in codes]
        if ALL_PARTNERSHIPS in codes:
            codes = [ALL_PARTNERSHIPS]
        username = sso_username(claims.get(self.username_claim) or claims.get("sub"))
        if username is None:
            return None
        name = claims.get(self.name_claim)
        display = printable(name.strip())[:120] if isinstance(name, str) and name.strip() else ""
        return User(
            username=username,
            display_name=display or username,
            role=first.role,
            agency=first.agency,
            partnerships=codes,
            sso=True,
        )


def claims_list(value: object) -> set[str]:
    """A claim holding one group or a list of them (anything else: none)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def sso_username(value: object) -> str | None:
    """The console's user name for a provider's user name claim: lower case, only the characters
    a user name may have, at most 40 (a longer one keeps its start and a hash of the whole)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = _NOT_ALLOWED.sub("-", value.strip().lower())
    if not text[0].isalnum():
        text = "u" + text
    if len(text) > MAX_USERNAME:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        text = f"{text[: MAX_USERNAME - 9]}-{digest}"
    return text


def load_mapping(path: Path) -> ClaimsMapping:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SsoError(f"{path}: cannot be read: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise SsoError(f"{path}: not valid TOML: {err}") from None
    try:
        return ClaimsMapping.model_validate(data)
    except ValidationError as err:
        problems = "\n".join(f"  - {p}" for p in validation_problems(err, "mapping"))
        raise SsoError(f"{path}: the claims-to-role mapping is refused:\n{problems}") from None
