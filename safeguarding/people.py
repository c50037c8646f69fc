"""Who made a decision (`Person`), apart from the decisions themselves so that reading a case's
status (`safeguarding/case_views.py`) does not build every decision model."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from safeguarding.model import DomainModel
from safeguarding.vocabulary import Agency, Role

ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class Person(DomainModel):
    """Who made a decision: a name, the role they acted in and their agency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    role: Role
    agency: Agency

    def describe(self) -> str:
        return f"{self.name} ({self.role.value.replace('_', ' ')}, {self.agency.label})"
