"""`sro status` shows a case's free text (decision notes in its history, action descriptions):
each such view is recorded in the register's access log (issue 14) before it is shown, and when
it cannot be recorded the free text is withheld (fail-closed, as in the console).

Loaded only once a status has been read (it loads the database stack), so `sro status` stays
quick to start (tests/starter/test_cli_imports.py).
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime

from config import settings
from register import access_write
from register.access_write import FREE_TEXT, Viewer
from safeguarding.case_views import HIDDEN, CaseStatus, may_quote_people


def viewer() -> Viewer:
    """Who is looking: SRO_USER_* when set (as for decisions), else the operating-system user."""
    configured = settings()
    name = configured.user_name or f"os user {getpass.getuser()}"
    return Viewer(name, configured.user_role, configured.user_agency)


def shown(status: CaseStatus, what: str = "sro status") -> CaseStatus:
    """The status to show: as it is once the view is recorded, else without its free text."""
    if not _has_free_text(status):
        return status
    new = access_write.rows(
        viewer(), [status.case_ref], via="sro", data=(FREE_TEXT,), what=what, at=datetime.now(UTC)
    )
    try:
        access_write.insert(new)
    except Exception as err:
        problem = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        print(
            f"sro: the access log cannot be written ({problem}): the case's free text is withheld",
            file=sys.stderr,
        )
        return withheld(status)
    return status


def _has_free_text(status: CaseStatus) -> bool:
    return bool(status.actions) or any(may_quote_people(h) for h in status.history)


def withheld(status: CaseStatus) -> CaseStatus:
    """`status` with every field that may quote people replaced by the placeholder."""
    history = [
        h.model_copy(update={"text": HIDDEN, "why": None}) if may_quote_people(h) else h
        for h in status.history
    ]
    actions = [
        a.model_copy(
            update={
                "recommendation": HIDDEN,
                "description": HIDDEN,
                "outcome_measure": HIDDEN,
                "evidence": [HIDDEN] if a.evidence else [],
            }
        )
        for a in status.actions
    ]
    return status.model_copy(update={"history": history, "actions": actions})
