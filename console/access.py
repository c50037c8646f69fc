"""Recording who sees a case's personal data (the register's access log, issue 14).

A page that would show personal data records the view first; if the record cannot be written the
page is shown without the personal data (fail-closed: DATA-PROTECTION.md says why), with a notice,
and the console's log says what failed. Only the access log's own page is for business managers.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool

from console.deps import ConsoleState
from console.users import ConsoleRole, User
from register import access_log
from register.access_log import FREE_TEXT, REFERRAL, Viewer
from register.models import AccessRecord

__all__ = ["FREE_TEXT", "REFERRAL", "may_read_log", "read_log", "record_view"]

#: Who may read a case's access log in the console (`sro register access-log` for the rest).
LOG_READERS = frozenset({ConsoleRole.BUSINESS_MANAGER})
WITHHELD = (
    "Personal data is withheld: the access log could not be written (the register may be "
    "down). Try again in a moment."
)


def may_read_log(user: User) -> bool:
    return user.role in LOG_READERS


async def record_view(
    console: ConsoleState, user: User, case_ref: str, data: Sequence[str], what: str
) -> bool:
    """Record that `user` is shown `data` of the case; False: withhold it."""
    viewer = Viewer(user.username, user.role.value, user.agency.value)
    return await run_in_threadpool(
        access_log.record,
        viewer,
        [case_ref],
        via="console",
        data=data,
        what=what,
        url=console.settings.database_url,
        now=console.now,
    )


async def read_log(console: ConsoleState, case_ref: str) -> list[AccessRecord]:
    return await run_in_threadpool(access_log.entries, case_ref, url=console.settings.database_url)
