"""Custom search attributes for operators. None of them carries personal data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from temporalio.common import SearchAttributeKey

from safeguarding.clock import uk_local

REVIEW_STAGE = SearchAttributeKey.for_keyword("ReviewStage")
REVIEW_ROUTE = SearchAttributeKey.for_keyword("ReviewRoute")
PARTNERSHIP = SearchAttributeKey.for_keyword("Partnership")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
ESCALATION_STAGE = SearchAttributeKey.for_int("EscalationStage")

#: What a referral case publishes.
REFERRAL: list[SearchAttributeKey[Any]] = [
    REVIEW_STAGE,
    REVIEW_ROUTE,
    PARTNERSHIP,
    NEXT_DEADLINE,
    OVERDUE,
]
#: Everything to register on a server.
ALL: list[SearchAttributeKey[Any]] = [*REFERRAL, ESCALATION_STAGE]

_TYPE_NAMES = {
    REVIEW_STAGE.name: "Keyword",
    REVIEW_ROUTE.name: "Keyword",
    PARTNERSHIP.name: "Keyword",
    NEXT_DEADLINE.name: "Datetime",
    OVERDUE.name: "Bool",
    ESCALATION_STAGE.name: "Int",
}


def due_on(next_deadline: datetime) -> date:
    """The due day a `NextDeadline` value stands for. It holds the moment the deadline is
    missed, the UK midnight that ends its due day, so the due day is the UK day just before it.
    (A case not woken since the upgrade may still hold the due day's own start, until its next
    alert or decision publishes again: it shows a day early until then.)"""
    return uk_local(next_deadline - timedelta(seconds=1)).date()


def dev_server_flags() -> list[str]:
    """`--search-attribute Name=Type` flags that register these on `temporal server start-dev`."""
    flags = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={_TYPE_NAMES[key.name]}"]
    return flags
