"""A referral's case: the checks on a decision, what a decision changes, and what it answers.

`Case` is plain data plus rules. The workflow keeps one, asks `check()` in update validators, calls
`apply()` in handlers, runs the `Effects` it returns (deadline planning, notifications) through
activities, and fires alerts when their moments come. No Temporal imports: unit-testable directly.

What each kind of decision checks and records is its handler's (safeguarding/handlers/, one per
kind, grouped by route); what entering a stage does is data beside the machine
(safeguarding/stages.py). This module runs them in order: the machine, who decided and when, the
handler; then the stage the machine moves the case to, and the meetings it now waits for.

A case can live for years (monthly action-plan updates), and the workflow carries it from one run
to the next (continue-as-new) in a payload Temporal caps at 2 MiB. So what the case keeps does not
grow with the number of decisions beyond their ids: `carry_over()` drops the history entries the
register holds (but a recent window), keeps the full results of only the latest decisions (the
ids of all of them, for idempotency) and each action keeps only its latest evidence (every piece
of evidence is in full in its decision's history entry, hence in the register).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from safeguarding import horizon, machine
from safeguarding.case_file import CURRENT_EDITION, CaseFile
from safeguarding.case_records import (
    RECENT_EVIDENCE,
    RECENT_HISTORY_BYTES,
    RECENT_HISTORY_ENTRIES,
    RECENT_RESULTS,
    Action,
    CaseOfConcernRecord,
    CaseStatus,
    Channel,
    CsprRecord,
    DeadlineView,
    DecisionRefused,
    DecisionResult,
    Effects,
    HistoryEntry,
    HistoryKind,
    InformationRecord,
    PanelResponseRecord,
    RapidReviewRecord,
    Task,
)
from safeguarding.clock import day_month_year, uk_today
from safeguarding.deadlines import (
    AlertKind,
    Deadline,
    DeadlineKind,
    DeadlinePlan,
    DeadlineRequest,
    DeadlineState,
    NextMeeting,
    due_alerts,
    next_alert_at,
    pending_alerts,
)
from safeguarding.decisions import Decision
from safeguarding.handlers import HANDLERS, publication
from safeguarding.handlers.cspr import final_report_deadline
from safeguarding.ids import DeadlineId, EscalationRef
from safeguarding.notices import Notice
from safeguarding.referral import Referral, days_late
from safeguarding.settings import PartnershipSettings
from safeguarding.stages import ON_ENTRY
from safeguarding.vocabulary import Agency, DecisionKind, Stage

__all__ = [
    "RECENT_EVIDENCE",
    "RECENT_HISTORY_BYTES",
    "RECENT_HISTORY_ENTRIES",
    "RECENT_RESULTS",
    "Action",
    "Case",
    "CaseOfConcernRecord",
    "CaseStatus",
    "Channel",
    "CsprRecord",
    "DeadlineView",
    "DecisionRefused",
    "DecisionResult",
    "Effects",
    "HistoryEntry",
    "HistoryKind",
    "InformationRecord",
    "Notice",
    "PanelResponseRecord",
    "RapidReviewRecord",
    "Task",
    "decision_digest",
]


class Case(CaseFile):
    """Everything the workflow knows about one referral, and its rules; carried across
    continue-as-new (its fields are `CaseFile`'s)."""

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(
        cls,
        case_ref: str,
        referral: Referral,
        settings: PartnershipSettings,
        now: datetime,
        edition: int = CURRENT_EDITION,
    ) -> tuple[Case, Effects]:
        case = cls(
            case_ref=case_ref,
            referral=referral,
            settings=settings,
            opened_at=now,
            aware_on=referral.aware_on,
            edition=edition,
        )
        case.log(now, HistoryKind.NOTICE, f"Referral received on {referral.received_on}")
        late = days_late(referral, settings.referral_time_limit_days)
        if late is not None:
            case.late_referral = True
            why = referral.late_reason or "no reason given"
            case.log(
                now,
                HistoryKind.NOTICE,
                f"Late referral: {late} day(s) past the {settings.referral_time_limit_days}-day "
                f"limit after the incident; reason: {why}",
            )
        effects = Effects()
        case._follow_automatic(now, effects)
        case._plan_meetings(uk_today(now), now, effects)
        return case, effects

    # ----------------------------------------------------------------- checks

    @property
    def decisions_applied(self) -> int:
        return len(self.applied) + sum(len(ids) for ids in self.applied_earlier.values())

    def applied_kind(self, decision_id: str) -> DecisionKind | None:
        """The kind of the decision applied with this id, if one was (in any run)."""
        recent = self.applied.get(decision_id)
        if recent is not None:
            return recent.kind
        # A scan: about 0.1 ms for 5,000 ids, once in a validator and once in a handler.
        return next((k for k, ids in self.applied_earlier.items() if decision_id in ids), None)

    def is_duplicate(self, decision: Decision) -> bool:
        """True when this decision id was applied before (to the same kind of decision)."""
        kind = self.applied_kind(decision.decision_id)
        if kind is None:
            return False
        if kind != decision.kind:
            raise DecisionRefused(
                "conflict",
                f"decision id {decision.decision_id!r} was already used for a "
                f"{kind.value} decision; use a new id",
            )
        recorded = self.digests.get(decision.decision_id)
        if recorded is not None and recorded != decision_digest(decision):
            raise DecisionRefused(
                "conflict",
                f"decision id {decision.decision_id!r} was already used for a different "
                f"{kind.value} decision; send the same decision again, or use a new id",
            )
        return True

    def duplicate_result(self, decision: Decision) -> DecisionResult:
        """The answer to a decision sent again (`is_duplicate` was True): its result, if the
        case still keeps it; for a decision from long ago (`applied_earlier`), a short result
        saying so, with the stage the case is at now and no deadline views."""
        recent = self.applied.get(decision.decision_id)
        if recent is not None:
            return recent.model_copy(update={"duplicate": True})
        return DecisionResult(
            decision_id=decision.decision_id,
            kind=decision.kind,
            duplicate=True,
            stage=self.stage,
            message=(
                f"{decision.kind.value} was recorded earlier in the case (its record is in the "
                f"register); stage is now {self.stage.label}"
            ),
        )

    def check(self, decision: Decision, now: datetime) -> None:
        """Raise `DecisionRefused` unless `apply(decision)` would be accepted. Changes nothing."""
        if self.is_duplicate(decision):
            return
        try:
            machine.resolve(self.stage, decision.kind, decision, self.facts())
        except machine.TransitionRefused as refused:
            raise DecisionRefused(refused.reason, refused.message) from None
        self._check_authority(decision)
        today = uk_today(now)
        too_far = horizon.out_of_range(
            decision, horizon.earliest(self.referral.received_on, today), horizon.latest(today)
        )
        if too_far:
            raise DecisionRefused("invalid", too_far)
        if decision.occurred_on and decision.occurred_on > today:
            raise DecisionRefused("invalid", f"occurred_on {decision.occurred_on} is in the future")
        if decision.occurred_on and decision.occurred_on < self.referral.received_on:
            raise DecisionRefused(
                "invalid",
                f"occurred_on {decision.occurred_on} is before the referral was received "
                f"({self.referral.received_on})",
            )
        handler = HANDLERS[decision.kind]
        handler.offered(self, decision)
        self._check_quorum(decision)
        handler.check(self, decision, today)

    def _check_quorum(self, decision: Decision) -> None:
        """A decision the partnership takes at a meeting needs its quorum present, and one its
        profile says the partners must agree needs their agreement (`decision_rules`)."""
        s = self.settings
        needed = s.attendance_needed(decision)
        if needed:
            quorum = ", ".join(a.label for a in needed)
            if not decision.attendees:
                raise DecisionRefused(
                    "not_quorate",
                    f"a {decision.kind.value} decision is taken at a meeting: list the "
                    f"attendees (the quorum is {quorum})",
                )
            present = {person.agency for person in decision.attendees}
            missing = [a.label for a in needed if a not in present]
            if missing:
                raise DecisionRefused(
                    "not_quorate",
                    f"the meeting was not quorate: {', '.join(missing)} not present "
                    f"(the quorum is {quorum})",
                )
        agree = s.agreement_needed(decision)
        agreed = {person.agency for person in decision.agreed_by or []} | {decision.by.agency}
        unagreed = [a.label for a in agree if a not in agreed]
        if unagreed:
            raise DecisionRefused(
                "not_agreed",
                f"{s.name}'s partners must agree this {decision.kind.value} decision: "
                f"{', '.join(unagreed)} not among those who agreed (agreed_by; needed: "
                f"{', '.join(a.label for a in agree)})",
            )

    def _check_authority(self, decision: Decision) -> None:
        authorities = self.settings.authorities.get(decision.kind, [])
        by = decision.by
        if not any(a.allows(by.role, by.agency) for a in authorities):
            needed = "; or ".join(a.describe() for a in authorities) or "nobody (not configured)"
            raise DecisionRefused(
                "not_authorised",
                f"{by.describe()} may not make a {decision.kind.value} decision: "
                f"it needs a {needed}",
            )

    # ----------------------------------------------------------------- applying

    def apply(self, decision: Decision, now: datetime, via: Channel) -> Effects:
        """Apply a checked decision. Call `check` first; this assumes it passed."""
        transition = machine.resolve(self.stage, decision.kind, decision, self.facts())
        day = decision.occurred_on or uk_today(now)
        effects = Effects()
        self.log(
            now,
            HistoryKind.DECISION,
            _describe_decision(decision),
            decision=decision,
            via=via,
        )
        HANDLERS[decision.kind].record(self, decision, day, now, effects)
        self._meet_meeting(decision.kind, day, now)
        if transition.target is not self.stage:
            self._enter(transition.target, now, day, effects)
        self._plan_meetings(day, now, effects)
        self.digests[decision.decision_id] = decision_digest(decision)
        self.applied[decision.decision_id] = DecisionResult(
            decision_id=decision.decision_id,
            kind=decision.kind,
            stage=self.stage,
            message=f"{decision.kind.value} recorded; stage is now {self.stage.label}",
        )
        return effects

    def record_refusal(
        self, now: datetime, reason: str, via: Channel, decision: Decision | None = None
    ) -> None:
        self.log(now, HistoryKind.REFUSED, f"Refused: {reason}", decision=decision, via=via)

    def _enter(self, stage: Stage, now: datetime, day: date, effects: Effects) -> None:
        """Move to `stage` and do what entering it does (`stages.ON_ENTRY`), then follow any
        automatic transition from it."""
        previous = self.stage
        self.stage = stage
        self.log(now, HistoryKind.STAGE_CHANGED, f"{previous.label} → {stage.label}")
        entry = ON_ENTRY[stage]
        for opens in entry.opens:
            request = opens(self, day)
            if request is not None:
                effects.deadline_requests.append(request)
        if entry.closes_case:
            self.closed_at = now
            for deadline_id, deadline in self.deadlines.items():
                if deadline.open:
                    self.withdraw_deadline(deadline_id, now, "case closed")
        self._follow_automatic(now, effects)

    def _plan_meetings(self, day: date, now: datetime, effects: Effects) -> None:
        """A decision that would move the case on, could be taken now, and needs a review-group
        meeting is due by the next one; a meeting deadline whose decision can no longer be taken
        is withdrawn. Run after every change, so "close the case" falls due only once every
        action is finished."""
        s = self.settings
        possible = set(machine.decisions_possible(self.stage, self.facts(), moving=True))
        waiting = set()
        for deadline_id, deadline in self.deadlines.items():
            kind = _meeting_kind(deadline)
            if kind is None or not deadline.open:
                continue
            if kind in possible:
                waiting.add(kind)
            else:
                self.withdraw_deadline(deadline_id, now, "its decision cannot be taken now")
        if s.review_group_meetings is None:
            return
        planned = {r.deadline_id for r in effects.deadline_requests}
        for kind in sorted(k for k in possible - waiting if s.needs_meeting(k)):
            deadline_id, visit = DeadlineId.meeting(kind), 1
            while deadline_id in self.deadlines:
                visit += 1
                deadline_id = DeadlineId.meeting(kind, visit)
            if deadline_id in planned:
                continue
            effects.deadline_requests.append(
                DeadlineRequest(
                    deadline_id=deadline_id,
                    kind=DeadlineKind.MEETING,
                    title=f"{kind.label.capitalize()} at the next {s.review_group_meetings.group}"
                    " meeting",
                    owner=s.review_group,
                    rule=NextMeeting(start=day, meetings=s.review_group_meetings),
                )
            )

    def _meet_meeting(self, kind: DecisionKind, day: date, now: datetime) -> None:
        for deadline_id, deadline in list(self.deadlines.items()):
            if deadline.open and _meeting_kind(deadline) is kind:
                self.meet_deadline(deadline_id, day, now)

    def _follow_automatic(self, now: datetime, effects: Effects) -> None:
        automatic = machine.automatic_transition(self.stage)
        if automatic is not None:
            self._enter(automatic.target, now, uk_today(now), effects)

    # ----------------------------------------------------------------- deadlines

    def open_deadlines(
        self, requests: list[DeadlineRequest], plans: list[DeadlinePlan], now: datetime
    ) -> list[DeadlineView]:
        """Attach computed plans: new deadlines open, existing ones move to their new plan."""
        by_id = {p.deadline_id: p for p in plans}
        opened: list[Deadline] = []
        for request in requests:
            plan = by_id[request.deadline_id]
            existing = self.deadlines.get(request.deadline_id)
            if existing is not None and not existing.open:
                continue  # met or withdrawn: a later re-plan does not reopen it
            if existing is not None:
                previous = existing.due_on
                existing.apply_plan(plan)
                existing.basis = request.rule.describe()
                self.log(
                    now,
                    HistoryKind.DEADLINE_EXTENDED,
                    f"{existing.title}: due {previous} → {plan.due_on}",
                    deadline_id=existing.deadline_id,
                )
                opened.append(existing)
                continue
            deadline = Deadline(
                deadline_id=request.deadline_id,
                kind=request.kind,
                title=request.title,
                owner=request.owner,
                statutory=request.statutory,
                basis=request.rule.describe(),
                due_on=plan.due_on,
                remind_at=plan.remind_at,
                escalate_at=plan.escalate_at,
                escalate_again_at=plan.escalate_again_at,
                opened_at=now,
            )
            self.deadlines[deadline.deadline_id] = deadline
            self.log(
                now,
                HistoryKind.DEADLINE_OPENED,
                f"{deadline.title}: due {deadline.due_on} ({deadline.basis})",
                deadline_id=deadline.deadline_id,
            )
            opened.append(deadline)
        publication = by_id.get(DeadlineId.CSPR_PUBLICATION)
        if self.cspr and publication and self.cspr.planned_publication_on is None:
            self.cspr.planned_publication_on = publication.due_on
        return [self._view(d, now) for d in opened]

    def follow_up_requests(self) -> list[DeadlineRequest]:
        """Once publication is planned, the final report falls due some working days before."""
        if (
            self.cspr
            and self.cspr.planned_publication_on
            and DeadlineId.CSPR_FINAL_REPORT not in self.deadlines
            and self.stage in machine.CSPR_STAGES
        ):
            return [final_report_deadline(self, self.cspr.planned_publication_on)]
        return []

    # ----------------------------------------------------------------- alerts

    def next_alert_at(self) -> datetime | None:
        return min(
            (m for d in self.deadlines.values() if (m := next_alert_at(d)) is not None),
            default=None,
        )

    def next_alert_summary(self) -> str | None:
        """What the case's next timer waits for, for operators ("reminder: Rapid Review
        completed, due 24 Dec 2026"): deadline titles are the system's words, never free text."""
        pending = [
            (moment, alert, d)
            for d in self.deadlines.values()
            for alert, moment in pending_alerts(d)
        ]
        if not pending:
            return None
        _, alert, deadline = min(pending, key=lambda p: (p[0], p[2].deadline_id))
        due = day_month_year(deadline.due_on, padded=True)
        return f"{alert.label}: {deadline.title}, due {due}"

    def fire_due_alerts(self, now: datetime) -> list[Notice]:
        """Mark every alert whose moment has come as fired; return the notices to send."""
        notices = []
        for deadline in sorted(self.deadlines.values(), key=lambda d: d.escalate_at):
            for alert in due_alerts(deadline, now):
                notices.append(self._fire(deadline, alert, now))
            # An escalation that fired makes any unsent reminder moot.
            if deadline.escalated_at and deadline.reminded_at is None:
                deadline.reminded_at = deadline.escalated_at
        return notices

    def _fire(self, deadline: Deadline, alert: AlertKind, now: datetime) -> Notice:
        s = self.settings
        if alert is AlertKind.REMINDER:
            deadline.reminded_at = now
            audience = deadline.owner
            recipients: tuple[str, ...] = ()  # the owner's name: contacts finds it
            subject = f"[{self.case_ref}] Reminder: {deadline.title} due {deadline.due_on}"
            kind = HistoryKind.REMINDER
        elif alert is AlertKind.ESCALATION:
            deadline.escalated_at = now
            audience = self._escalation_audience(deadline)
            recipients = self._escalation_recipients(deadline)
            subject = f"[{self.case_ref}] Overdue: {deadline.title} was due {deadline.due_on}"
            kind = HistoryKind.ESCALATION
        else:
            deadline.escalated_again_at = now
            audience = s.executive
            recipients = ("executive",)
            subject = (
                f"[{self.case_ref}] Still outstanding: {deadline.title} was due {deadline.due_on}"
            )
            kind = HistoryKind.SECOND_ESCALATION
        self.log(now, kind, f"{subject} → {audience}", deadline_id=deadline.deadline_id)
        return Notice(
            notice_id=f"{self.case_ref}:{deadline.deadline_id}:{alert.value}:{deadline.due_on}",
            case_ref=self.case_ref,
            partnership=s.code,
            kind=alert.value,
            audience=audience,
            subject=subject,
            body=(
                f"Case {self.case_ref} ({s.name}), stage: {self.stage.label}.\n"
                f"{deadline.title}, owed by {deadline.owner}, due {deadline.due_on} "
                f"({deadline.basis})."
            ),
            deadline_id=deadline.deadline_id,
            due_on=deadline.due_on,
            recipients=recipients,
        )

    def _escalation_recipients(self, deadline: Deadline) -> tuple[str, ...]:
        """`_escalation_audience` as contact keys."""
        if deadline.kind is DeadlineKind.ACTION:
            action = self.actions.get(DeadlineId.action_of(deadline.deadline_id) or "")
            if action is not None:
                return (f"{action.scope.value}_plan_monitor", "business_manager")
        return ("review_group_chair", "business_manager")

    def _escalation_audience(self, deadline: Deadline) -> str:
        if deadline.kind is DeadlineKind.ACTION:
            action = self.actions.get(DeadlineId.action_of(deadline.deadline_id) or "")
            if action is not None:
                return f"{action.monitored_by}; {self.settings.business_manager}"
        return self.settings.escalation_audience()

    # ----------------------------------------------------------------- reading

    def _view(self, deadline: Deadline, now: datetime) -> DeadlineView:
        return DeadlineView(
            deadline_id=deadline.deadline_id,
            kind=deadline.kind,
            title=deadline.title,
            owner=deadline.owner,
            statutory=deadline.statutory,
            basis=deadline.basis,
            due_on=deadline.due_on,
            state=deadline.state(now),
            met_on=deadline.met_on,
            extended=len(deadline.extensions),
            remind_at=deadline.remind_at,
            escalate_at=deadline.escalate_at,
        )

    def next_deadline(self) -> Deadline | None:
        return min(
            (d for d in self.deadlines.values() if d.open), key=lambda d: d.due_on, default=None
        )

    def overdue(self, now: datetime) -> bool:
        return any(d.state(now) is DeadlineState.OVERDUE for d in self.deadlines.values())

    def tasks(self, now: datetime) -> list[Task]:
        tasks = [
            Task(task=d.title, owed_by=d.owner, due_on=d.due_on, state=d.state(now))
            for d in sorted(self.deadlines.values(), key=lambda d: d.due_on)
            if d.open
        ]
        owners = {
            "coordinator": f"{self.settings.name} business team",
            "business_manager": self.settings.business_manager,
            "review_group": self.settings.review_group,
            "lead_reviewer": (self.cspr.lead_reviewer if self.cspr else None) or "lead reviewer",
        }
        if (
            self.stage is Stage.TRIAGE
            and self.settings.referral_quality_assurance
            and self.referral_quality_assured_on is None
        ):
            tasks.append(
                Task(
                    task="Quality-assure the referral (before triage)",
                    owed_by=f"{self.referral.referrer.agency.label} member of the "
                    f"{self.settings.review_group}",
                )
            )
        waiting = ON_ENTRY[self.stage].waits_for
        if waiting is not None:
            tasks.append(Task(task=waiting.task, owed_by=owners[waiting.owed_by]))
        facts = self.facts()
        if (
            self.stage is Stage.ACTION_PLAN_MONITORING
            and machine.Fact.ALL_ACTIONS_FINISHED in facts
            and machine.Fact.LEARNING_DISSEMINATED in facts
        ):
            tasks.append(
                Task(
                    task="Close the case (every action is done)", owed_by=self.settings.review_group
                )
            )
        tasks += [Task(task=t, owed_by=owners[o]) for t, o in publication.outstanding(self)]
        return tasks

    def status(self, now: datetime) -> CaseStatus:
        views = [
            self._view(d, now) for d in sorted(self.deadlines.values(), key=lambda d: d.due_on)
        ]
        upcoming = self.next_deadline()
        shown_from = self.recent_history_from()
        return CaseStatus(
            case_ref=self.case_ref,
            partnership=self.settings.code,
            partnership_name=self.settings.name,
            stage=self.stage,
            stage_label=self.stage.label,
            route=self.route,
            opened_at=self.opened_at,
            closed_at=self.closed_at,
            decisions_allowed=machine.decisions_offered(self.stage, self.facts()),
            deadlines=views,
            next_deadline=self._view(upcoming, now) if upcoming else None,
            overdue=self.overdue(now),
            tasks=self.tasks(now),
            actions=list(self.actions.values()),
            notification_reference=self.notification_reference,
            possible_national_importance=bool(
                self.rapid_review and self.rapid_review.possible_national_importance
            ),
            lead_reviewer=self.cspr.lead_reviewer if self.cspr else None,
            planned_publication_on=self.cspr.planned_publication_on if self.cspr else None,
            runs=self.runs,
            history=self.history[shown_from - self.history_base :],
            history_from=shown_from,
            learning=list(self.learning.values()),
        )

    def operator_details(self, now: datetime) -> str:
        """Markdown for the Temporal Web UI's current details. No personal data."""
        lines = [
            f"**Stage:** {self.stage.label}  ",
            f"**Route:** {self.route.value.replace('_', ' ')}  ",
            f"**Partnership:** {self.settings.name}",
        ]
        open_deadlines = sorted(
            (d for d in self.deadlines.values() if d.open), key=lambda d: d.due_on
        )
        if open_deadlines:
            # A list, not a Markdown table: the Web UI draws a table's cells without spacing.
            lines.append("")
            lines.append("**Deadlines:**")
            lines.append("")
            for d in open_deadlines[:8]:
                state = d.state(now).value.replace("_", " ")
                lines.append(f"- {d.title}: due {day_month_year(d.due_on)}, {state}")
        tasks = self.tasks(now)
        if tasks:
            lines.append("")
            lines.append(
                "**Outstanding:** " + "; ".join(f"{t.task} ({t.owed_by})" for t in tasks[:6])
            )
        return "\n".join(lines)

    def note(self, now: datetime, kind: HistoryKind, text: str) -> None:
        """Record something the system did (not a decision) in the case history."""
        self.log(now, kind, text, via="system")

    def escalation_news(
        self, now: datetime, escalation_ref: str, text: str, sender: str, raised: bool
    ) -> None:
        """Record news from a linked professional-disagreement escalation, with who sent it.
        Refused (`DecisionRefused`) from another partnership's escalation, and about one this
        case was never told was raised."""
        if not EscalationRef.belongs_to(escalation_ref, self.settings.code):
            raise DecisionRefused(
                "conflict",
                f"escalation {escalation_ref} is not {self.settings.code}'s: news refused",
            )
        if raised:
            if escalation_ref not in self.escalations:
                self.escalations.append(escalation_ref)
        elif escalation_ref not in self.escalations:
            raise DecisionRefused(
                "conflict",
                f"escalation {escalation_ref} was never raised on this case: news refused",
            )
        self.log(now, HistoryKind.NOTICE, f"{text} (from {sender})", via="signal")

    # ----------------------------------------------------------------- carrying over

    def recent_history_from(self) -> int:
        """Where the recent timeline starts (a position in the whole history): the latest
        `RECENT_HISTORY_ENTRIES` entries, fewer if they come to more than `RECENT_HISTORY_BYTES`
        of JSON (an entry of an action update holds its evidence in full, up to 4,000
        characters). Never before `history_base`; at least the latest entry."""
        start, size = self.history_count, 0
        for entry in reversed(self.history[-RECENT_HISTORY_ENTRIES:]):
            size += _json_size(entry)
            if size > RECENT_HISTORY_BYTES and start < self.history_count:
                break
            start -= 1
        return start

    def unregistered_size(self, registered_upto: int) -> int:
        """Bytes of JSON of the history entries from position `registered_upto` on (those the
        register has not acknowledged): what `carry_over` must keep whatever their size."""
        since = max(registered_upto, self.history_base) - self.history_base
        return sum(_json_size(entry) for entry in self.history[since:])

    def carry_over(self, registered_upto: int) -> Case:
        """The case to carry to the next run (continue-as-new), once the register holds the
        history entries before position `registered_upto`. This case is left as it is.

        Dropped, because the register holds them: history entries the register acknowledged
        before the recent timeline (`recent_history_from`); `history_base` counts them, so each
        entry keeps its position (its `seq` in the register) in every run. Entries the register
        has not acknowledged are all kept, however many: none is ever lost (while the register
        is down they pile up; the workflow then waits for the register before it continues as
        new once they come to a lot, see `ReferralWorkflow._continue_as_new`). Compacted: the
        results of all but the `RECENT_RESULTS` latest decisions, to their ids by kind in
        `applied_earlier` (a duplicate is recognised in any later run). Actions keep their
        latest evidence (they do from `apply` on; this also covers a case carried in the older
        form, whose unlogged evidence stays whole).

        What the carried case holds, then, does not grow with its decisions beyond their ids
        (an id is at most 80 characters, about 40 for the CLI's and the console's): the
        referral and settings, its records, its actions and deadlines (each of bounded size,
        as many as the case has), `RECENT_RESULTS` results, at most `RECENT_HISTORY_BYTES` of
        history plus the entries the register has not acknowledged."""
        registered = max(self.history_base, min(registered_upto, self.history_count))
        cut = min(registered, self.recent_history_from())
        applied = list(self.applied)
        split = max(0, len(applied) - RECENT_RESULTS)
        recent = applied[split:]
        earlier = {kind: list(ids) for kind, ids in self.applied_earlier.items()}
        for decision_id in applied[:split]:
            earlier.setdefault(self.applied[decision_id].kind, []).append(decision_id)
        # Copy what is kept (deeply, so the two cases share nothing), not what is dropped.
        carried = self.model_copy(
            update={"history": [], "applied": {}, "applied_earlier": {}, "digests": {}}
        ).model_copy(deep=True)
        carried.history = [e.model_copy() for e in self.history[cut - self.history_base :]]
        carried.history_base = cut
        carried.applied = {i: self.applied[i].model_copy(deep=True) for i in recent}
        carried.applied_earlier = earlier
        # Digests of the recent decisions only: an older id sent again is told it was recorded
        # earlier (its kind still checked), as before digests were kept.
        carried.digests = {i: self.digests[i] for i in recent if i in self.digests}
        for action in carried.actions.values():
            action._keep_recent_evidence(RECENT_EVIDENCE)
        return carried


def decision_digest(decision: Decision) -> str:
    """A digest of everything a decision says (stable across runs and workers)."""
    text = decision.model_dump_json(exclude_none=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _meeting_kind(deadline: Deadline) -> DecisionKind | None:
    """The decision a meeting deadline waits for (ids: meeting-<kind>[-<visit>])."""
    if deadline.kind is not DeadlineKind.MEETING:
        return None
    return DeadlineId.meeting_kind(deadline.deadline_id)


#: Fields a decision's history entry keeps in full: an action's evidence is kept in the case
#: only while recent (`Action.evidence`), so its decision's entry is its lasting record.
_IN_FULL = frozenset({"evidence"})


def _json_size(entry: HistoryEntry) -> int:
    return len(entry.model_dump_json().encode())


def _describe_decision(decision: Decision) -> str:
    parts = [f"{decision.kind.value} by {decision.by.describe()}"]
    details: dict[str, Any] = decision.model_dump(
        mode="json", exclude={"decision_id", "by", "kind", "note"}, exclude_none=True
    )
    if "agreed_by" in details:  # which partners agreed, by agency (decision_rules)
        details["agreed_by"] = ", ".join(
            f"{p['name']} ({Agency(p['agency']).label})" for p in details["agreed_by"]
        )
    if details:
        parts.append(
            ", ".join(f"{k}={v if k in _IN_FULL else _short(v)}" for k, v in details.items())
        )
    if decision.note:
        parts.append(f"note: {_short(decision.note)}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict) and "name" in value[0]:
        return ", ".join(str(v.get("name")) for v in value)
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."
