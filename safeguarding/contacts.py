"""Who gets a notice: a partnership's email contacts, and the pure rule from a notice to addresses.

A profile's `[contacts]` table maps names to one address or a list of addresses:

- **role and group keys**, the settings fields that name people or groups: `review_group`,
  `review_group_chair`, `business_manager`, `executive`, `single_agency_plan_monitor`,
  `multi_agency_plan_monitor`, `quality_assurance_group`, `learning_group`,
  `independent_scrutineer`, `triage_by`;
- **agency keys** (`police`, `health`, `childrens_social_care`, `education`, ...): that agency's
  member of the review group (who owes its rapid-review information and its actions);
- **any other name** exactly as a notice's audience gives it (quoted in TOML, case and spacing
  ignored), e.g. an escalation stage's people: `"the practitioners" = "..."`;
- **`default`** (required): gets every notice, or part of a notice's audience, that matches nothing
  above, so a notice is never lost for want of an address.

`recipients_for` is deterministic and pure. A notice that lists contact keys (`Notice.recipients`)
goes to those; otherwise its `audience` ("Chair of the SPRG; LSCP Safeguarding Manager") is split
on ";" and each part is looked up: first as a contact key or name, then as the name one of the
partnership's roles or agencies has in its settings. A role with no address of its own uses the
address of another role with the same name (Liverpool's single-agency plan monitor is the SPRG).
No Temporal imports; no child data passes through here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from safeguarding.notices import Notice
from safeguarding.vocabulary import Agency

DEFAULT_KEY = "default"

#: Settings fields naming people or groups a notice can be for, in lookup order: when two share
#: a name (the SPRG monitors single-agency plans), the first with an address is used.
ROLE_KEYS: tuple[str, ...] = (
    "review_group_chair",
    "business_manager",
    "review_group",
    "executive",
    "single_agency_plan_monitor",
    "multi_agency_plan_monitor",
    "quality_assurance_group",
    "learning_group",
    "independent_scrutineer",
    "triage_by",
)
AGENCY_KEYS: tuple[str, ...] = tuple(a.value for a in Agency)
KNOWN_KEYS: frozenset[str] = frozenset((*ROLE_KEYS, *AGENCY_KEYS, DEFAULT_KEY))

_KEY_LIKE = re.compile(r"^[a-z][a-z0-9_]*$")

_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$"
)


def _address(value: str) -> str:
    if len(value) > 254 or not _ADDRESS.match(value):
        raise ValueError(f"{value!r} is not an email address (name@domain, nothing else)")
    return value


#: local@domain, no display name. Deliberately plain: the mail server is the real judge.
EmailAddress = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_address)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _distinct(addresses: list[str]) -> list[str]:
    return list(dict.fromkeys(addresses))


Addresses = Annotated[
    list[EmailAddress],
    BeforeValidator(_as_list),
    Field(min_length=1, max_length=50),
    AfterValidator(_distinct),
]
ContactKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^;\n]+$"),
]


def normalise(name: str) -> str:
    """How names are compared: case and runs of spaces do not matter."""
    return " ".join(name.split()).casefold()


def _check_book(book: dict[str, list[str]]) -> dict[str, list[str]]:
    if not book:
        return book
    if DEFAULT_KEY not in book:
        raise ValueError(
            "contacts need a `default` address (the business team): it gets every notice whose "
            "audience has no address of its own"
        )
    seen: dict[str, str] = {}
    for key in book:
        if _KEY_LIKE.match(key) and key not in KNOWN_KEYS:
            known = ", ".join(sorted(KNOWN_KEYS))
            raise ValueError(
                f"contacts: unknown key {key!r}; use one of {known}, or an audience name in quotes"
            )
        earlier = seen.setdefault(normalise(key), key)
        if earlier != key:
            raise ValueError(f"contacts: {key!r} and {earlier!r} are the same name")
    return book


#: A partnership's contacts, as its profile's [contacts] table gives them (empty: no addresses).
Contacts = Annotated[dict[ContactKey, Addresses], AfterValidator(_check_book)]


class AddressBook(Protocol):
    """What the rules read of a partnership's settings: its contacts and the names its roles go
    by (`ROLE_KEYS`, read by name). A protocol, not `PartnershipSettings`, because the settings
    hold a `Contacts` table from this module: naming them here would make an import circle."""

    @property
    def contacts(self) -> Mapping[str, Sequence[str]]: ...

    @property
    def review_group(self) -> str: ...


@dataclass(frozen=True)
class Recipients:
    """Where a notice goes, and how that was worked out (for the log; no child data)."""

    addresses: tuple[str, ...]
    #: Contact keys (or names) whose addresses were used.
    matched: tuple[str, ...]
    #: Audience parts or keys with no address of their own: the default contact got those.
    unmatched: tuple[str, ...]
    used_default: bool

    @property
    def lost(self) -> bool:
        """Nobody to send to: no address matched and the partnership has no default."""
        return not self.addresses


def recipients_for(notice: Notice, settings: AddressBook) -> Recipients:
    """The addresses for a notice under the partnership's contacts (see the module docstring)."""
    targets = list(notice.recipients) or [
        part.strip() for part in notice.audience.split(";") if part.strip()
    ]
    return addresses_of(targets, settings)


def addresses_of(targets: Sequence[str], settings: AddressBook) -> Recipients:
    """The addresses for contact keys or names (a notice's, or a profile's report recipients);
    whatever has no address of its own goes to the `default` contact."""
    book = {normalise(key): (key, addresses) for key, addresses in settings.contacts.items()}
    addresses: list[str] = []
    matched: list[str] = []
    unmatched: list[str] = []
    for target in targets:
        found = _lookup(target, settings, book)
        if found is None:
            unmatched.append(target)
            continue
        key, found_addresses = found
        matched.append(key)
        addresses += found_addresses
    used_default = False
    if (unmatched or not targets) and DEFAULT_KEY in settings.contacts:
        used_default = True
        addresses += settings.contacts[DEFAULT_KEY]
    return Recipients(
        addresses=tuple(dict.fromkeys(addresses)),
        matched=tuple(dict.fromkeys(matched)),
        unmatched=tuple(unmatched),
        used_default=used_default,
    )


def _lookup(
    target: str, settings: AddressBook, book: dict[str, tuple[str, Sequence[str]]]
) -> tuple[str, Sequence[str]] | None:
    for candidate in _candidate_keys(target, settings):
        hit = book.get(normalise(candidate))
        if hit is not None and hit[0] != DEFAULT_KEY:
            return hit
    return None


def _candidate_keys(target: str, settings: AddressBook) -> list[str]:
    """Contact keys that may hold the address for a target (a key or a name), best first: the
    target itself, then every role or agency known by that name (or by the same name as the
    target, when the target is a role key)."""
    aliases = _aliases(settings)
    wanted = {normalise(target)} | aliases.get(target, set())
    return list(dict.fromkeys([target, *(k for k, names in aliases.items() if names & wanted)]))


def _aliases(settings: AddressBook) -> dict[str, set[str]]:
    """Each role and agency key with the names notices call it by under these settings."""
    aliases: dict[str, set[str]] = {}
    for key in ROLE_KEYS:
        value = getattr(settings, key, None)
        if isinstance(value, str) and value.strip():
            aliases[key] = {normalise(value)}
    for agency in Agency:
        aliases[agency.value] = {
            normalise(agency.label),
            normalise(f"{agency.label} member of the {settings.review_group}"),
        }
    return aliases
