"""A notice: a message to people about a case, sent by the notification activity.

A module of its own (pydantic only), so the contacts rules can name it without importing the
case, which imports the settings, which import the contacts.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict

from safeguarding.model import DomainModel


class Notice(DomainModel):
    """A message to people, sent by the notification activity. Never carries child data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notice_id: str
    case_ref: str
    partnership: str
    kind: Literal["reminder", "escalation", "second_escalation", "information_request"]
    audience: str
    subject: str
    body: str
    deadline_id: str | None = None
    due_on: date | None = None
    #: Contact keys of who gets it (safeguarding/contacts.py); empty: found from `audience`.
    recipients: tuple[str, ...] = ()
