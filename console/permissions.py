"""Who may do what in the console. The workflow checks every decision again: these checks decide
what the console offers and refuses early; they never replace the workflow's validators.

Personal data (the referral's children, summary and referrer's name) is shown only to:
- coordinators, business managers and chairs, who run the review;
- panel members whose agency is involved (listed in the referral, or the referrer's agency);
- the case's appointed lead reviewer (the name recorded on the case is the user's display name).
Read-only users never see it. It is never put in URLs, page titles or logs.
"""

from __future__ import annotations

from console.users import ConsoleRole, User
from safeguarding.case import CaseStatus
from safeguarding.deadlines import DeadlineState
from safeguarding.ids import DeadlineId
from safeguarding.referral import Referral
from safeguarding.settings import PartnershipSettings
from safeguarding.vocabulary import ActionStatus, DecisionKind, LearningStatus, Role

#: Roles that may record a new referral (the partnership's business team).
REFERRING_ROLES = frozenset({ConsoleRole.COORDINATOR, ConsoleRole.BUSINESS_MANAGER})
#: Roles that see the child's details on every case they can see.
PERSONAL_DATA_ROLES = frozenset(
    {ConsoleRole.COORDINATOR, ConsoleRole.BUSINESS_MANAGER, ConsoleRole.CHAIR}
)
OPEN_STATES = frozenset({DeadlineState.ON_TRACK, DeadlineState.DUE_SOON, DeadlineState.OVERDUE})
#: Decisions that are always possible but never "owed" (they handle exceptions).
NEVER_OWED = frozenset(
    {
        DecisionKind.DEADLINE_EXTENDED,
        DecisionKind.PUBLICATION_PLANNED,
        DecisionKind.LEARNING_PLANNED,  # issue 13, item 11: planned when there is learning
    }
)


def may_refer(user: User) -> bool:
    return user.role in REFERRING_ROLES


def may_make(user: User, kind: DecisionKind, settings: PartnershipSettings) -> bool:
    """Does the partnership's authority table let this user's role and agency make `kind`?"""
    person = user.person
    if person is None:
        return False
    return any(a.allows(person.role, person.agency) for a in settings.authorities.get(kind, []))


def authority_text(kind: DecisionKind, settings: PartnershipSettings) -> str:
    needed = "; or ".join(a.describe() for a in settings.authorities.get(kind, []))
    return needed or "nobody (not configured)"


def decisions_now(
    user: User, status: CaseStatus, settings: PartnershipSettings
) -> list[DecisionKind]:
    """Decisions the case allows now that this user may make (and the partnership takes)."""
    return [
        k for k in status.decisions_allowed if settings.offers(k) and may_make(user, k, settings)
    ]


def owed(user: User, status: CaseStatus, settings: PartnershipSettings) -> list[DecisionKind]:
    """What this user owes the case now: allowed decisions that move it on, narrowed for panel
    members to their own agency's information return and actions."""
    kinds = []
    for kind in decisions_now(user, status, settings):
        if kind in NEVER_OWED:
            continue
        if user.role is ConsoleRole.PANEL_MEMBER:
            if kind is DecisionKind.INFORMATION_RETURNED and not _information_outstanding(
                user, status
            ):
                continue
            if kind is DecisionKind.ACTION_UPDATED and not own_open_actions(user, status):
                continue
        if not _learning_awaits(kind, status):
            continue
        kinds.append(kind)
    return kinds


def _learning_awaits(kind: DecisionKind, status: CaseStatus) -> bool:
    """Issue 13, item 11: a learning output awaits dissemination, or its impact a re-audit."""
    if kind is DecisionKind.LEARNING_DISSEMINATED:
        return any(o.status is LearningStatus.PLANNED for o in status.learning)
    if kind is DecisionKind.LEARNING_IMPACT_RECORDED:
        return any(
            o.status is LearningStatus.DISSEMINATED and o.reaudit_due_on for o in status.learning
        )
    return True


def _information_outstanding(user: User, status: CaseStatus) -> bool:
    wanted = DeadlineId.information(user.agency)
    return any(d.deadline_id == wanted and d.state in OPEN_STATES for d in status.deadlines)


def own_open_actions(user: User, status: CaseStatus) -> list[str]:
    return [
        a.action_id
        for a in status.actions
        if a.lead_agency == user.agency and not ActionStatus(a.status).finished
    ]


def sees_personal_data(user: User, status: CaseStatus | None, referral: Referral) -> bool:
    if user.role in PERSONAL_DATA_ROLES:
        return True
    if user.role is ConsoleRole.PANEL_MEMBER:
        return user.agency in referral.agencies_involved or user.agency == referral.referrer.agency
    if user.role is ConsoleRole.LEAD_REVIEWER:
        return status is not None and status.lead_reviewer == user.display_name
    return False


def decision_role(user: User) -> Role | None:
    return user.role.decision_role
