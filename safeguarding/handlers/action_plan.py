"""The action plan: recommendations become actions with a lead agency, a due date and an outcome
measure, updated (status, RAG, evidence) until every one is complete or closed."""

from __future__ import annotations

from datetime import date, datetime

from safeguarding.case_file import CaseFile
from safeguarding.case_records import Action, DecisionRefused, Effects
from safeguarding.deadlines import DeadlineKind, DeadlineRequest, OnDate
from safeguarding.decisions import ActionAdded, ActionUpdated
from safeguarding.handlers.base import DecisionHandler, Handlers
from safeguarding.ids import DeadlineId
from safeguarding.vocabulary import ActionStatus, DecisionKind, PlanScope, Role


class AddAction(DecisionHandler[ActionAdded]):
    def check(self, case: CaseFile, decision: ActionAdded, today: date) -> None:
        if decision.action_id in case.actions:
            raise DecisionRefused("conflict", f"action {decision.action_id!r} already exists")
        if decision.due_on < today:
            raise DecisionRefused("invalid", f"due_on {decision.due_on} is past")

    def record(
        self, case: CaseFile, decision: ActionAdded, day: date, now: datetime, effects: Effects
    ) -> None:
        s = case.settings
        monitor = (
            s.multi_agency_plan_monitor
            if decision.scope is PlanScope.MULTI_AGENCY
            else s.single_agency_plan_monitor
        )
        case.actions[decision.action_id] = Action(
            action_id=decision.action_id,
            recommendation=decision.recommendation,
            description=decision.description,
            lead_agency=decision.lead_agency,
            due_on=decision.due_on,
            outcome_measure=decision.outcome_measure,
            scope=decision.scope,
            monitored_by=monitor,
            added_by=decision.by,
            evidence_logged_from=0,
        )
        effects.deadline_requests.append(
            DeadlineRequest(
                deadline_id=DeadlineId.action(decision.action_id),
                kind=DeadlineKind.ACTION,
                title=f"Action {decision.action_id}",
                owner=decision.lead_agency.label,
                rule=OnDate(due=decision.due_on),
            )
        )


class UpdateAction(DecisionHandler[ActionUpdated]):
    def check(self, case: CaseFile, decision: ActionUpdated, today: date) -> None:
        action = case.actions.get(decision.action_id)
        if action is None:
            known = ", ".join(case.actions) or "none yet"
            raise DecisionRefused("conflict", f"no action {decision.action_id!r}; actions: {known}")
        if action.status.finished:
            raise DecisionRefused(
                "conflict", f"action {decision.action_id!r} is already {action.status.value}"
            )
        by = decision.by
        if by.role is Role.PANEL_MEMBER and by.agency != action.lead_agency:
            raise DecisionRefused(
                "not_authorised",
                f"{by.describe()} may update only actions led by their agency "
                f"(this one: {action.lead_agency.label})",
            )
        if decision.status is ActionStatus.CLOSED_BY_REVIEW_GROUP and by.role not in (
            Role.CHAIR,
            Role.BUSINESS_MANAGER,
        ):
            raise DecisionRefused(
                "not_authorised",
                "only the review group's chair or the business manager may close an action",
            )

    def record(
        self, case: CaseFile, decision: ActionUpdated, day: date, now: datetime, effects: Effects
    ) -> None:
        action = case.actions[decision.action_id]
        if decision.rag:
            action.rag = decision.rag
        if decision.evidence:
            action.add_evidence(decision.evidence)
        if decision.status:
            action.status = decision.status
            if decision.status.finished:
                action.completed_on = day
                case.meet_deadline(DeadlineId.action(decision.action_id), day, now)


HANDLERS: Handlers = {
    DecisionKind.ACTION_ADDED: AddAction(),
    DecisionKind.ACTION_UPDATED: UpdateAction(),
}
