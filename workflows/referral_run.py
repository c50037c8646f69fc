"""Everything one run of a referral's workflow does (`workflows.referral.ReferralWorkflow`).

The rules live in `safeguarding` (plain Python). A run only orchestrates: it takes decisions as
Updates (validated) or Signals (refusals recorded), runs deadline planning and notifications as
activities, sleeps until the next reminder or escalation is due, and keeps the operator's view
(search attributes, current details) up to date. In the background it projects the case into
the register (`RegisterProjection`); the workflow stays the source of truth.

Why a module of its own: the workflow sandbox imports a workflow's module afresh for every run,
so each open case held its own copy of all this code (about 130 KiB) and ran it unwarmed. This
module is passed through (`workflows/referral.py`): one copy for every case, shared and warm;
the workflow class is a shell of handlers that hand over to `ReferralRun` (issue 16). Passed
through, its code is not watched by the sandbox (as the domain's is not): time, randomness,
waiting and I/O go through `workflow` only, and the replay tests hold it to that.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue, RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from activities.deadlines_io import PlanDeadlinesInput, plan_deadlines
from activities.partnerships import LoadPartnershipInput, load_partnership_settings
from safeguarding import projection
from safeguarding.case import (
    Case,
    CaseStatus,
    Channel,
    DeadlineView,
    DecisionRefused,
    DecisionResult,
    Effects,
    HistoryKind,
)
from safeguarding.case_file import CURRENT_EDITION, FIRST_EDITION
from safeguarding.clock import uk_today
from safeguarding.deadlines import Deadline
from safeguarding.decisions import (
    MAX_DECISION_BYTES,
    Decision,
    InvalidDecision,
    explain_validation_error,
    parse_decision,
)
from safeguarding.referral import Referral, referral_problem
from security.marks import UNSEALED
from workflows import metrics
from workflows import search_attributes as sa
from workflows.delivery import deliver
from workflows.referral_io import (
    EscalationNote,
    InvalidStart,
    ReferralInput,
    ReferralResult,
)
from workflows.register_projection import RegisterProjection

TASK_QUEUE = "safeguarding-reviews"

#: ApplicationError types a refused decision carries, by the case's reason code.
REFUSAL_TYPES = {
    "invalid": "InvalidDecision",
    "wrong_stage": "WrongStage",
    "guard_failed": "GuardFailed",
    "not_authorised": "NotAuthorised",
    "conflict": "Conflict",
    "not_offered": "RouteNotOffered",
    "not_quorate": "NotQuorate",
    "not_agreed": "NotAgreed",
    "criteria_not_met": "CriteriaNotMet",
}

ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)
#: Deadline planning is arithmetic: a retry helps only when a worker died mid-call. Bounded
#: (attempts and overall time) because a decision's handler holds the case lock while it plans:
#: a planning call that cannot succeed must come back as a refusal, never hang the case.
PLANNING_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=5,
    non_retryable_error_types=["PlanningFailed"],
)
PLANNING_TIMEOUT = timedelta(minutes=2)

#: A decision or signal sent without a key from the ring is refused (and recorded); runs
#: that took such a payload before keep their path on replay (workflow.patched).
SEALED_PATCH = "refuse-unsealed"
#: A referral received in the future or implausibly long ago does not open a case.
PLAUSIBLE_START_PATCH = "plausible-referral"
NOT_SEALED = (
    "refused: not encrypted with a key from the ring (only a client holding the key may "
    "write to a case; use sro, the console, or the temporal CLI with the codec endpoint)"
)

#: Before continuing as new, wait at most this long for the register to catch up; the next run
#: resumes from the last acknowledged history entry either way.
REGISTER_CATCH_UP = timedelta(minutes=1)
#: The carried case keeps every history entry the register has not acknowledged. If those come
#: to more than this many bytes (the register has been down while many decisions came), the
#: case does not continue as new until the register catches up: a carried case over 2 MiB is
#: refused by Temporal and the case could never run again (workflow.patched: new behaviour).
MAX_UNREGISTERED_CARRIED_BYTES = 1024 * 1024
CARRY_BOUND_PATCH = "carry-bound"
#: Cases opened from here on run under the statutory-fidelity rules (`CaseFile.edition`);
#: cases opened before keep the first edition's rules for life, so their histories replay.
STATUTORY_PATCH = "statutory-edition"
#: `NextDeadline` holds the moment a deadline is missed, not the start of its due day.
MISSED_AT_PATCH = "next-deadline-missed-at"
#: While it waits for the register so, the case still wakes at each alert and at least this
#: often (each wait is one timer in the history).
REGISTER_WAIT_WHEN_BEHIND = timedelta(hours=1)
#: Runs started from here on take the patches every case meets (not the rare paths' carry-bound
#: and refuse-unsealed) at once: one marker, and one `TemporalChangeVersion` upsert (core adds
#: one for each patch a run meets first), instead of five of each a case. Runs started before
#: evaluate it False on replay (its marker is not in their history) and keep asking for each
#: patch where they did, so they replay unchanged.
ALL_PATCHES = "referral-patches-2026-12"
#: Runs started from here on take `ALL_PATCHES` as granted too (one marker a run; none for a run
#: whose input says so, `ReferralInput.lean`: issue 16, round 11), and run leaner (round 3):
#: they keep the case's alert timer while its next alert stays where it was (before, every
#: change cancelled the timer and started another for the same moment: two history events and
#: an encrypted summary a decision), and their first search attributes go with the register's
#: first write (one upsert fewer). Runs started before evaluate it False on replay and keep
#: their path.
LEAN_PATCHES = "referral-patches-2026-12-lean"


def _refusal(
    refused: DecisionRefused | InvalidDecision, partnership: str | None = None
) -> ApplicationError:
    """The refusal as the caller gets it (counted: `sro_decisions_refused`)."""
    if isinstance(refused, InvalidDecision):
        metrics.decision_refused("InvalidDecision", partnership)
        return ApplicationError(str(refused), type="InvalidDecision", non_retryable=True)
    refusal_type = REFUSAL_TYPES.get(refused.reason, "Refused")
    metrics.decision_refused(refusal_type, partnership)
    return ApplicationError(refused.message, type=refusal_type, non_retryable=True)


class ReferralRun:
    """One run of a referral's workflow: its state, its main loop and its handlers' work."""

    def __init__(self, input: ReferralInput) -> None:
        self._input = input
        self._case: Case | None = input.carried
        self._lock = asyncio.Lock()
        self._changed = False
        self._published: dict[str, Any] = {}
        # First, before anything can ask for a patch (a run's first command is its marker). A
        # run told by its input asks nothing (`ReferralInput.lean`).
        self._lean = input.lean or workflow.patched(LEAN_PATCHES)
        self._all_patches = self._lean or workflow.patched(ALL_PATCHES)
        #: The timer for the case's next alert, and the moment it waits for (kept timer).
        self._alert: asyncio.Task[None] | None = None
        self._alert_at: datetime | None = None
        self._register = RegisterProjection(
            input.registered_upto,
            self._lock,
            ACTIVITY_TIMEOUT,
            ACTIVITY_RETRY,
            patched=self._patched,
        )
        #: Continue-as-new waits for the register (too much history not acknowledged).
        self._waiting_for_register = False
        #: Decisions the validator parsed, by their payload: the SDK hands the handler a new
        #: `RawValue` around the same payload object, and the handler takes the decision from
        #: here instead of parsing again.
        self._parsed: dict[int, tuple[Payload, Decision]] = {}

    # ------------------------------------------------------------------ main loop

    async def run(self, input: ReferralInput) -> ReferralResult:
        if self._case is None:
            if self._patched(PLAUSIBLE_START_PATCH):
                problem = referral_problem(input.referral, uk_today(workflow.now()))
                if problem:
                    raise InvalidStart(f"case not started: {problem}")
            loaded = await workflow.execute_activity(
                load_partnership_settings,
                LoadPartnershipInput(partnership=input.referral.partnership),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
            async with self._lock:
                edition = CURRENT_EDITION if self._patched(STATUTORY_PATCH) else FIRST_EDITION
                case, effects = Case.open(
                    input.case_ref, input.referral, loaded.settings, workflow.now(), edition
                )
                self._case = case
                try:
                    await self._carry_out(effects)
                except ActivityError as err:
                    raise InvalidStart(
                        f"case not started: its deadlines could not be planned: {_cause(err)}"
                    ) from None
        case = self._case
        self._register.start(lambda: self._project(case), self._publish)
        delivery = asyncio.create_task(
            deliver(
                case.outbox,
                lambda: case.closed,
                lambda text: case.note(workflow.now(), HistoryKind.NOTICE, text),
            )
        )
        # A lean run's first search attributes go with the register's first write (within
        # `REGISTER_LAG`); the client set its partnership and stage when it started the case.
        self._publish(searchable=not (self._lean and self._register.publishes_next))

        while not case.closed:
            woken_by_change = await self._until_change_or_alert(case)
            self._changed = False
            async with self._lock:
                fired = case.fire_due_alerts(workflow.now())
                case.outbox.extend(fired)
            for notice in fired:
                metrics.alert_fired(notice.kind, notice.partnership)
            # A change's search attributes go with its register write (one upsert a batch);
            # alerts publish at once.
            self._publish(
                searchable=bool(fired) or not woken_by_change or not self._register.publishes_next
            )
            if not case.closed and self._history_is_long():
                await self._continue_as_new()

        self._cancel_alert_timer()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await delivery  # every notice is sent before the case ends
        await self._register.stop()  # the register has the closed case before it ends
        self._publish()
        return ReferralResult(
            case_ref=case.case_ref,
            route=case.route,
            closed_at=case.closed_at,
            decisions=case.decisions_applied,
            runs=case.runs,
        )

    async def _until_change_or_alert(self, case: Case) -> bool:
        """Wait until the case changes (True) or its next alert is due (False). A lean run
        (`LEAN_PATCHES`) keeps its alert timer while the next alert stays where it was; one
        started before waits with a timeout, a new timer for every wait."""
        next_alert = case.next_alert_at()

        def woken() -> bool:
            return self._changed or self._history_is_long()

        if not self._lean:
            timeout = max(next_alert - workflow.now(), timedelta(seconds=1)) if next_alert else None
            try:
                await workflow.wait_condition(
                    woken,
                    timeout=timeout,
                    timeout_summary=self._timer_summary(case) if timeout else None,
                )
            except TimeoutError:  # an alert is due
                return False
            return True
        if self._alert is None or next_alert != self._alert_at:
            self._cancel_alert_timer()
            if next_alert is not None:
                # A task not yet started when cancelled never sends its timer to Temporal.
                self._alert_at = next_alert
                self._alert = asyncio.create_task(
                    workflow.sleep(
                        max(next_alert - workflow.now(), timedelta(seconds=1)),
                        summary=self._timer_summary(case),
                    )
                )
        alert = self._alert
        await workflow.wait_condition(lambda: woken() or (alert is not None and alert.done()))
        if alert is not None and alert.done():  # an alert is due
            self._alert, self._alert_at = None, None
            return False
        return True

    def _cancel_alert_timer(self) -> None:
        if self._alert is not None:
            self._alert.cancel()
        self._alert, self._alert_at = None, None

    @staticmethod
    def _timer_summary(case: Case) -> str:
        """The Web UI's label for the case's timer: the deadline and the alert it waits for
        (timer summaries are metadata: runs recorded with the old label replay unchanged)."""
        return case.next_alert_summary() or "next reminder or escalation"

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._input.options.continue_as_new_after_events
        )

    async def _continue_as_new(self) -> None:
        """Continue as new, carrying the case without what the register already holds
        (`Case.carry_over`: history entries it acknowledged, but the recent ones; old decisions'
        results, but their ids; old evidence), so a case carries about the same from run to run
        however long it lives.

        The register gets `REGISTER_CATCH_UP` to acknowledge the history so far; the entries it
        has not acknowledged go to the next run, which projects them. If it has been down while
        many decisions came, those entries could make the carried case too large for Temporal
        (2 MiB): the case then stays in this run until the register catches up, going back to
        the main loop at each alert, each change and every `REGISTER_WAIT_WHEN_BEHIND`, and
        coming back here. Nothing is lost either way. A register down for very long makes
        this run's history grow instead (the decisions, the projection's retries a few minutes
        apart, these waits), towards Temporal's limit of 51,200 events: weeks, not hours; the
        outage shows in the worker's log (record_case failing) long before."""
        case = self._require_case()
        if not self._waiting_for_register:
            await self._register.catch_up(case, within=REGISTER_CATCH_UP)
        if self._register_far_behind(case) and workflow.patched(CARRY_BOUND_PATCH):
            self._waiting_for_register = True
            within = REGISTER_WAIT_WHEN_BEHIND
            next_alert = case.next_alert_at()
            if next_alert is not None:
                within = min(within, max(next_alert - workflow.now(), timedelta(seconds=1)))
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._changed or not self._register_far_behind(case),
                    timeout=within,
                    timeout_summary="waiting for the register before continuing as new",
                )
            if self._register_far_behind(case):
                return  # the main loop fires what is due, publishes, and comes back
            self._waiting_for_register = False
        await workflow.wait_condition(workflow.all_handlers_finished)
        case.runs += 1
        case.note(workflow.now(), HistoryKind.CONTINUED, f"Run {case.runs} continues the case")
        # No await from here on: nothing can change between the last handler and the new run.
        # Entries the register has not acknowledged go to the next run (`carry_over` keeps them).
        workflow.continue_as_new(
            ReferralInput(
                case_ref=case.case_ref,
                referral=case.referral,
                options=self._input.options,
                carried=case.carry_over(self._register.upto),
                registered_upto=self._register.upto,
                lean=True,  # a new run, on this code: lean, without asking
            )
        )

    async def _project(self, case: Case) -> None:
        """Keep the register up to date, in the background (`RegisterProjection.project`)."""
        await self._register.project(case)

    def _register_far_behind(self, case: Case) -> bool:
        """The history entries the register has not acknowledged are too many to carry."""
        return self._register.unregistered_bytes(case) > MAX_UNREGISTERED_CARRIED_BYTES

    # ------------------------------------------------------------------ decisions

    async def decide(self, raw: RawValue) -> DecisionResult:
        """The `decide` Update (`ReferralWorkflow.decide`)."""
        if self._refuses_unsealed(raw):
            await workflow.wait_condition(lambda: self._case is not None)
            self._require_case().record_refusal(workflow.now(), NOT_SEALED, "update")
            self._changed = True
            raise _refusal(InvalidDecision(NOT_SEALED), self._partnership())
        try:
            decision = self._validated(raw)
        except InvalidDecision as err:
            raise _refusal(err, self._partnership()) from None
        await workflow.wait_condition(lambda: self._case is not None)
        async with self._lock:
            case = self._require_case()
            try:
                if case.is_duplicate(decision):
                    return case.duplicate_result(decision)
                case.check(decision, workflow.now())
            except DecisionRefused as refused:
                raise _refusal(refused, self._partnership()) from None
            return await self._apply(decision, "update")

    def validate_decide(self, raw: RawValue) -> None:
        if raw.payload.metadata.get(UNSEALED):
            return  # the handler records the refusal
        try:
            decision = self._parse(raw)
            if self._case is not None:
                self._case.check(decision, workflow.now())
        except (InvalidDecision, DecisionRefused) as refused:
            raise _refusal(refused, self._partnership()) from None
        # Holding the payload: its id is not reused while the entry is here.
        self._parsed[id(raw.payload)] = (raw.payload, decision)

    async def decision_signal(self, raw: RawValue) -> None:
        """The `decision` Signal (`ReferralWorkflow.decision_signal`)."""
        try:
            if self._refuses_unsealed(raw):
                raise InvalidDecision(NOT_SEALED)
            decision: Decision | None = self._parse(raw)
        except InvalidDecision as err:
            decision, reason = None, str(err)
        await workflow.wait_condition(lambda: self._case is not None)
        async with self._lock:
            case = self._require_case()
            if decision is not None:
                try:
                    if case.is_duplicate(decision):
                        return
                    case.check(decision, workflow.now())
                except DecisionRefused as refused:
                    reason = refused.message
                else:
                    # A decision whose deadlines cannot be planned is refused and recorded by
                    # `_apply`; a signal has no one to tell.
                    with contextlib.suppress(ApplicationError):
                        await self._apply(decision, "signal")
                    return
            case.record_refusal(workflow.now(), reason, "signal", decision)
            metrics.decision_refused("SignalRefused", case.settings.code)
            self._changed = True

    async def escalation_signal(self, raw: RawValue) -> None:
        """A professional-disagreement escalation about this case raised or resolved. Only
        from a client holding the key, about an escalation of this partnership raised on
        this case, with bounded printable text; recorded with its sender (the escalation's
        workflow id). Anything else is refused and the refusal recorded."""
        await workflow.wait_condition(lambda: self._case is not None)
        case = self._require_case()
        if not workflow.patched(SEALED_PATCH):
            note = workflow.payload_converter().from_payload(raw.payload, EscalationNote)
            case.note(workflow.now(), HistoryKind.NOTICE, note.text)
            self._changed = True
            return
        try:
            if raw.payload.metadata.get(UNSEALED):
                raise InvalidDecision(NOT_SEALED)
            note = _escalation_note(raw)
            sender = note.sent_by or f"escalation-{note.escalation_ref}"
            case.escalation_news(
                workflow.now(), note.escalation_ref, note.text, sender, note.raised
            )
        except (InvalidDecision, DecisionRefused) as refused:
            reason = refused.message if isinstance(refused, DecisionRefused) else str(refused)
            case.record_refusal(workflow.now(), f"escalation news {reason}", "signal")
        self._changed = True

    def _patched(self, patch: str) -> bool:
        """`workflow.patched`, taken for granted by runs started with `ALL_PATCHES` (the patches
        every case meets)."""
        return self._all_patches or workflow.patched(patch)

    def _partnership(self) -> str | None:
        return self._case.settings.code if self._case is not None else None

    def _refuses_unsealed(self, raw: RawValue) -> bool:
        return bool(raw.payload.metadata.get(UNSEALED)) and workflow.patched(SEALED_PATCH)

    def _validated(self, raw: RawValue) -> Decision:
        """The decision the validator parsed from this very payload, else parsed now (replay
        runs no validators). Checked again by the handler all the same: another decision may
        have changed the case since."""
        held = self._parsed.pop(id(raw.payload), None)
        if held is not None and held[0] is raw.payload:
            return held[1]
        return self._parse(raw)

    def _parse(self, raw: RawValue) -> Decision:
        size = raw.payload.ByteSize()
        if size > MAX_DECISION_BYTES:
            raise InvalidDecision(
                f"decision is {size} bytes; the limit is {MAX_DECISION_BYTES} bytes"
            )
        try:
            value = workflow.payload_converter().from_payload(raw.payload)
        except Exception:
            raise InvalidDecision("decision is not valid JSON") from None
        return parse_decision(value)

    async def _apply(self, decision: Decision, via: Channel) -> DecisionResult:
        """Apply a checked decision and plan the deadlines it sets. If planning fails for good
        (`PLANNING_RETRY`), the case goes back to what it was before the decision, the refusal
        is recorded, and the sender is refused: the case still takes its next decision."""
        case = self._require_case()
        before = before_image(case)
        effects = case.apply(decision, workflow.now(), via)
        try:
            views = await self._carry_out(effects)
        except ActivityError as err:
            _restore(case, restored(case, before))
            reason = f"the deadlines it sets could not be planned: {_cause(err)}"
            case.record_refusal(workflow.now(), reason, via, decision)
            self._changed = True
            metrics.decision_refused(REFUSAL_TYPES["invalid"], case.settings.code)
            raise ApplicationError(
                f"{decision.kind.value} refused: {reason}",
                type=REFUSAL_TYPES["invalid"],
                non_retryable=True,
            ) from None
        result = case.applied[decision.decision_id].model_copy(
            update={"deadlines": views, "stage": case.stage}
        )
        case.applied[decision.decision_id] = result
        self._changed = True
        metrics.decision_applied(decision.kind.value, case.settings.code)
        return result

    # ------------------------------------------------------------------ effects

    async def _carry_out(self, effects: Effects) -> list[DeadlineView]:
        case = self._require_case()
        views: list[DeadlineView] = []
        requests = effects.deadline_requests
        while requests:
            planned = await workflow.execute_activity(
                plan_deadlines,
                PlanDeadlinesInput(rules=case.settings.planning_rules(), requests=requests),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                schedule_to_close_timeout=PLANNING_TIMEOUT,
                retry_policy=PLANNING_RETRY,
            )
            views += case.open_deadlines(requests, planned.plans, workflow.now())
            requests = case.follow_up_requests()
        case.outbox.extend(effects.notices)
        return views

    # ------------------------------------------------------------------ reading

    def status(self) -> CaseStatus:
        return self._require_case().status(workflow.now())

    def referral(self) -> Referral:
        return self._input.referral

    def register(self) -> projection.CaseSnapshot:
        """The whole case as the register's rows (what `sro register rebuild` writes): its
        history from the entries it still holds (`Case.history_base`; a long case dropped the
        earlier ones once the register had them)."""
        return projection.snapshot(self._require_case())

    def _require_case(self) -> Case:
        if self._case is None:
            raise ApplicationError("the case is still opening; try again", type="NotReady")
        return self._case

    def _next_deadline(self, upcoming: Deadline | None) -> datetime | None:
        """`NextDeadline`: the moment the next deadline is missed (the end of its due day, UK
        time), so `NextDeadline < now` means overdue. Runs that published the start of the due
        day keep doing so where they had (workflow.patched)."""
        if upcoming is None:
            return None
        if self._patched(MISSED_AT_PATCH):
            return upcoming.escalate_at
        return _deadline_moment(upcoming.due_on)

    def _publish(self, searchable: bool = True) -> None:
        """Search attributes (only when changed, each upsert is a history event) and details;
        `searchable=False`: details only (the register's next write publishes the rest)."""
        case = self._require_case()
        now = workflow.now()
        workflow.set_current_details(case.operator_details(now))
        if not (self._input.options.search_attributes and searchable):
            return
        upcoming = case.next_deadline()
        wanted: dict[str, Any] = {
            sa.REVIEW_STAGE.name: case.stage.value,
            sa.REVIEW_ROUTE.name: case.route.value,
            sa.PARTNERSHIP.name: case.settings.code,
            sa.NEXT_DEADLINE.name: self._next_deadline(upcoming),
            sa.OVERDUE.name: case.overdue(now),
        }
        updates: list[SearchAttributeUpdate[Any]] = []
        for key in sa.REFERRAL:
            value = wanted[key.name]
            if self._published.get(key.name, "unset") == value:
                continue
            self._published[key.name] = value
            updates.append(key.value_unset() if value is None else key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)


def _escalation_note(raw: RawValue) -> EscalationNote:
    try:
        value = workflow.payload_converter().from_payload(raw.payload)
        return EscalationNote.model_validate(value)
    except ValidationError as err:
        raise InvalidDecision(f"refused: {explain_validation_error(err, 'note')}") from None
    except Exception:
        raise InvalidDecision("refused: not valid JSON") from None


#: Parts of a case a decision only adds to (its history, its applied decisions and their
#: digests) or never changes (its settings): left out of the before-image.
_GROWING = {"history", "applied", "digests", "settings"}
BeforeImage = tuple[dict[str, Any], int, list[str], list[str]]


def before_image(case: Case) -> BeforeImage:
    """What `restored` needs to give back the case as it is now: the rest of the case as plain
    Python data (new dicts and lists; the values in them, strings, dates and enum members, are
    immutable and shared) and how far the growing parts went. About a twentieth of a deep
    copy's cost, and half a JSON dump's (BENCHMARKS.md), on every decision, for the rare one
    whose planning fails for good."""
    return (
        case.model_dump(exclude=_GROWING),
        len(case.history),
        list(case.applied),
        list(case.digests),
    )


def restored(case: Case, image: BeforeImage) -> Case:
    """The case as it was when `image` was taken (`case` has only grown since)."""
    data, history, applied, digests = image
    fields = dict(data)
    fields.update(
        history=case.history[:history],
        applied={k: case.applied[k] for k in applied},
        digests={k: case.digests[k] for k in digests},
        settings=case.settings,
    )
    return Case.model_validate(fields)


def _restore(case: Case, before: Case) -> None:
    """Put `case` back as `before` in place (the run loop, the projector and the sender hold
    this object). The outbox is left: a decision adds its notices only once planned."""
    for name in Case.model_fields:
        if name != "outbox":
            setattr(case, name, getattr(before, name))


def _cause(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or err)


def _deadline_moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=workflow.now().tzinfo)


__all__ = [
    "ACTIVITY_RETRY",
    "ACTIVITY_TIMEOUT",
    "CARRY_BOUND_PATCH",
    "MAX_UNREGISTERED_CARRIED_BYTES",
    "NOT_SEALED",
    "PLANNING_RETRY",
    "PLANNING_TIMEOUT",
    "REFUSAL_TYPES",
    "SEALED_PATCH",
    "TASK_QUEUE",
    "ReferralRun",
    "before_image",
    "restored",
]
