"""A fake Temporal layer for the console's unit tests: the real case rules (`Case.check`,
`Case.apply`, deadline planning on the working calendar) run in process, as the workflow runs
them, and refusals come back as the workflow's ApplicationError types would."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from console.backend import CaseFilter, CaseNotFound, CaseRow, Refused, next_owner
from console.escalations import EscalationFilter, EscalationRow, filtered
from gateway.refs import new_case_ref, new_escalation_ref
from safeguarding.calendar import WorkingCalendar
from safeguarding.case import Case, CaseStatus, DecisionRefused, DecisionResult, Effects
from safeguarding.decisions import InvalidDecision, parse_decision
from safeguarding.escalation import (
    Disagreement,
    Escalation,
    EscalationStatus,
    parse_escalation_decision,
)
from safeguarding.planning import plan_deadline
from safeguarding.referral import Referral
from safeguarding.settings import PartnershipSettings
from workflows.referral_run import REFUSAL_TYPES


class FakeBackend:
    def __init__(
        self, profiles: dict[str, PartnershipSettings], now: Callable[[], datetime]
    ) -> None:
        self.profiles = profiles
        self.now = now
        self.cases: dict[str, Case] = {}
        self.started: list[Referral] = []
        self.sent: list[dict[str, Any]] = []
        self.filters: list[CaseFilter] = []
        self.escalations: dict[str, Escalation] = {}
        self.escalation_filters: list[EscalationFilter] = []

    async def start(self, referral: Referral) -> str:
        case_ref = new_case_ref(referral.partnership, referral.received_on.year)
        case, effects = Case.open(
            case_ref, referral, self.profiles[referral.partnership], self.now()
        )
        self._carry_out(case, effects)
        self.cases[case_ref] = case
        self.started.append(referral)
        return case_ref

    def _carry_out(self, case: Case, effects: Effects) -> list[Any]:
        views = []
        requests = effects.deadline_requests
        calendar = WorkingCalendar(case.settings.closure_days)
        while requests:
            plans = [plan_deadline(r, case.settings, calendar) for r in requests]
            views += case.open_deadlines(requests, plans, self.now())
            requests = case.follow_up_requests()
        return views

    def _case(self, case_ref: str) -> Case:
        try:
            return self.cases[case_ref]
        except KeyError:
            raise CaseNotFound(f"no case {case_ref}") from None

    async def status(self, case_ref: str) -> CaseStatus:
        return self._case(case_ref).status(self.now())

    async def referral(self, case_ref: str) -> Referral:
        return self._case(case_ref).referral

    async def decide(self, case_ref: str, body: dict[str, Any]) -> DecisionResult:
        self.sent.append(body)
        case = self._case(case_ref)
        try:
            decision = parse_decision(body)
        except InvalidDecision as err:
            raise Refused("InvalidDecision", str(err)) from None
        try:
            if case.is_duplicate(decision):
                return case.applied[decision.decision_id].model_copy(update={"duplicate": True})
            case.check(decision, self.now())
        except DecisionRefused as refused:
            raise Refused(REFUSAL_TYPES.get(refused.reason, "Refused"), refused.message) from None
        effects = case.apply(decision, self.now(), "update")
        views = self._carry_out(case, effects)
        result = case.applied[decision.decision_id].model_copy(
            update={"deadlines": views, "stage": case.stage}
        )
        case.applied[decision.decision_id] = result
        return result

    async def list_cases(self, where: CaseFilter) -> list[CaseRow]:
        self.filters.append(where)
        rows = []
        now = self.now()
        for case_ref, case in self.cases.items():
            status = case.status(now)
            # The real backend's own rule (CaseFilter.admits): a partnership asked for that the
            # user cannot see gives nothing, as in caseload_query and TemporalBackend.
            if not where.admits(status.partnership):
                continue
            if where.stage and status.stage is not where.stage:
                continue
            if where.route and status.route is not where.route:
                continue
            if where.overdue and not status.overdue:
                continue
            if case.closed and not where.include_closed:
                continue
            upcoming = status.next_deadline
            rows.append(
                CaseRow(
                    case_ref=case_ref,
                    partnership=status.partnership,
                    stage=status.stage,
                    route=status.route,
                    running=not case.closed,
                    started_at=status.opened_at,
                    next_deadline_on=upcoming.due_on if upcoming else None,
                    next_deadline_title=upcoming.title if upcoming else None,
                    next_deadline_state=upcoming.state if upcoming else None,
                    overdue=status.overdue,
                    next_owner=next_owner(status),
                )
            )
        return rows

    # ------------------------------------------------------------ issue 13, item 12

    async def raise_escalation(self, disagreement: Disagreement) -> str:
        ref = new_escalation_ref(disagreement.partnership, 2026)
        escalation, _, _ = Escalation.open(
            ref, disagreement, self.profiles[disagreement.partnership], self.now()
        )
        self.escalations[ref] = escalation
        return ref

    async def escalation(self, ref: str) -> EscalationStatus:
        try:
            return self.escalations[ref].status()
        except KeyError:
            raise CaseNotFound(f"no escalation {ref}") from None

    async def escalation_decide(self, ref: str, body: dict[str, Any]) -> EscalationStatus:
        self.sent.append(body)
        escalation = self.escalations[ref]
        try:
            decision = parse_escalation_decision(body)
            escalation.check(decision)
        except InvalidDecision as err:
            raise Refused("InvalidDecision", str(err)) from None
        except DecisionRefused as refused:
            raise Refused(REFUSAL_TYPES.get(refused.reason, "Refused"), refused.message) from None
        if decision.decision_id not in escalation.applied:
            escalation.apply(decision, self.now())
        return escalation.status()

    async def list_escalations(
        self, where: EscalationFilter, thresholds: dict[str, int]
    ) -> list[EscalationRow]:
        self.escalation_filters.append(where)
        rows = [
            EscalationRow(
                escalation_ref=ref,
                partnership=e.settings.code,
                stage=e.current.stage,
                running=not e.resolved,
                started_at=e.opened_at,
            )
            for ref, e in self.escalations.items()
            if where.include_closed or not e.resolved
        ]
        return filtered(rows, where, thresholds)
