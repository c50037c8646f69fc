"""Legal holds and disposal in the register (issue 14, point 3; DATA-PROTECTION.md section 5).

- `set_hold` / `lift_hold` / `holds`: a legal hold on a case, with who, why and when.
- `due`: the closed cases whose retention has run out under their partnership's schedule
  (`safeguarding.retention`), with the rules due and whether a hold stops them.
- `dispose`: one case under the rules due: refused (and recorded as refused) under a hold, else
  its personal data removed and the disposal recorded, in one transaction. Idempotent: a rule
  already applied to the case is not applied again, and a retried call in the same run records
  once.

Which columns are personal comes from `safeguarding.personal`: the action plan's and the learning
outputs' fields it classes as personal, the history entries and decisions whose text may quote
people (`history_text_is_personal`'s rule, from what a row holds), and the case's one free-text
column. Counts, dates, codes, stages, outcomes and the children's statistics stay, so the reports
still count a disposed case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Update, update
from sqlmodel import Session, col, select

from register import case_keys, db
from register.models import (
    ActionRecord,
    CaseKeyRecord,
    CaseLearningRecord,
    CaseRecord,
    ChildRecord,
    DecisionRecord,
    DisposalRecord,
    HistoryRecord,
    LegalHold,
)
from safeguarding.case_views import PERSONAL_HISTORY_KINDS, Action, LearningOutputRecord
from safeguarding.personal import decision_has_personal_data, personal_fields
from safeguarding.retention import DisposalRule, RetentionSchedule, due_rules

#: What a disposed free-text column holds (NOT NULL columns; nullable ones become NULL).
DISPOSED = "disposed: personal data"
#: What a disposed professional's name becomes.
NAME_DISPOSED = "disposed"

DISPOSED_OUTCOME = "disposed"
REFUSED_OUTCOME = "refused"

#: The case row's free text (a reason written by people); its other text columns are codes.
CASE_FREE_TEXT = ("notified_outside_criteria",)
_KEYS = {"case_ref", "action_id", "learning_id"}


def _personal_columns(model: type, table: type) -> list[str]:
    """The table's columns that `safeguarding.personal` classes as personal in the model."""
    columns = set(table.model_fields)  # type: ignore[attr-defined]
    return sorted((personal_fields(model) & columns) - _KEYS)


ACTION_FREE_TEXT = _personal_columns(Action, ActionRecord)
LEARNING_FREE_TEXT = _personal_columns(LearningOutputRecord, CaseLearningRecord)
_PERSONAL_KINDS = {k.value for k in PERSONAL_HISTORY_KINDS}


class Refused(Exception):
    """A hold cannot be set or lifted as asked."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------------------ legal holds


def _open_hold(session: Session, case_ref: str) -> LegalHold | None:
    return session.exec(
        select(LegalHold)
        .where(LegalHold.case_ref == case_ref, col(LegalHold.lifted_at).is_(None))
        .order_by(col(LegalHold.id))
    ).first()


def set_hold(case_ref: str, *, by: str, reason: str, url: str | None = None) -> LegalHold:
    """Put a case on hold (refused if it already is: one open hold per case)."""
    if not reason.strip():
        raise Refused("a legal hold needs a reason")
    db.ensure_schema(url)
    with db.session(url) as session:
        if session.get(CaseRecord, case_ref) is None:
            raise Refused(f"{case_ref} is not in the register")
        if _open_hold(session, case_ref) is not None:
            raise Refused(f"{case_ref} is already on hold")
        hold = LegalHold(case_ref=case_ref, set_at=_now(), set_by=by, reason=reason.strip())
        session.add(hold)
        session.flush()
        return hold


def lift_hold(case_ref: str, *, by: str, why: str, url: str | None = None) -> LegalHold:
    if not why.strip():
        raise Refused("lifting a legal hold needs a reason")
    db.ensure_schema(url)
    with db.session(url) as session:
        hold = _open_hold(session, case_ref)
        if hold is None:
            raise Refused(f"{case_ref} is not on hold")
        hold.lifted_at, hold.lifted_by, hold.lifted_why = _now(), by, why.strip()
        session.add(hold)
        return hold


def holds(case_ref: str | None = None, url: str | None = None) -> list[LegalHold]:
    """Every hold (of one case), the earliest first, lifted ones included."""
    db.ensure_schema(url)
    with db.session(url) as session:
        query = select(LegalHold).order_by(col(LegalHold.id))
        if case_ref is not None:
            query = query.where(LegalHold.case_ref == case_ref)
        return list(session.exec(query))


def disposals(case_ref: str | None = None, url: str | None = None) -> list[DisposalRecord]:
    db.ensure_schema(url)
    with db.session(url) as session:
        query = select(DisposalRecord).order_by(col(DisposalRecord.at))
        if case_ref is not None:
            query = query.where(DisposalRecord.case_ref == case_ref)
        return list(session.exec(query))


def disposed_cases(url: str | None = None) -> set[str]:
    """The cases whose personal data has been disposed of (never re-projected by a rebuild)."""
    db.ensure_schema(url)
    with db.session(url) as session:
        return set(
            session.exec(
                select(DisposalRecord.case_ref).where(
                    DisposalRecord.outcome == DISPOSED_OUTCOME,
                    DisposalRecord.rule == DisposalRule.PERSONAL_DATA.value,
                )
            )
        )


# ------------------------------------------------------------------------------ what is due


@dataclass(frozen=True)
class Due:
    case_ref: str
    partnership: str
    closed_on: date
    rules: list[DisposalRule]
    #: The reason of the hold that stops it (None: not held).
    held: str | None = None
    rule_texts: dict[str, str] = field(default_factory=dict)


def due(
    schedules: Mapping[str, RetentionSchedule],
    today: date,
    *,
    partnership: str | None = None,
    case_refs: list[str] | None = None,
    url: str | None = None,
) -> list[Due]:
    """The closed cases with a rule of their partnership's schedule due today and not yet
    applied (a partnership without a profile: the default schedule)."""
    db.ensure_schema(url)
    with db.session(url) as session:
        query = select(CaseRecord).where(col(CaseRecord.closed_at).is_not(None))
        if partnership:
            query = query.where(CaseRecord.partnership == partnership)
        if case_refs:
            query = query.where(col(CaseRecord.case_ref).in_(case_refs))
        cases = list(session.exec(query.order_by(col(CaseRecord.case_ref))))
        bands: dict[str, list[str]] = {}
        for child in session.exec(select(ChildRecord)):
            bands.setdefault(child.case_ref, []).append(child.age_band)
        done: dict[str, set[str]] = {}
        for row in session.exec(
            select(DisposalRecord).where(DisposalRecord.outcome == DISPOSED_OUTCOME)
        ):
            done.setdefault(row.case_ref, set()).add(row.rule)
        open_holds = {
            h.case_ref: h.reason
            for h in session.exec(select(LegalHold).where(col(LegalHold.lifted_at).is_(None)))
        }
    found = []
    for case in cases:
        assert case.closed_at is not None
        schedule = schedules.get(case.partnership) or RetentionSchedule()
        rules = due_rules(
            schedule,
            closed_on=case.closed_at.date(),
            received_on=case.received_on,
            age_bands=bands.get(case.case_ref, []),
            today=today,
            done=frozenset(DisposalRule(r) for r in done.get(case.case_ref, ())),
        )
        if rules:
            found.append(
                Due(
                    case.case_ref,
                    case.partnership,
                    case.closed_at.date(),
                    rules,
                    open_holds.get(case.case_ref),
                    {r.value: f"{schedule.rule_text(r)} ({schedule.basis})" for r in rules},
                )
            )
    return found


# ------------------------------------------------------------------------------ disposing


@dataclass(frozen=True)
class Disposed:
    case_ref: str
    outcome: str
    #: Per rule: what was removed, or why refused.
    details: dict[str, str]


def dispose(
    case_ref: str,
    rules: Mapping[str, str],
    *,
    run_id: str,
    by: str,
    url: str | None = None,
) -> Disposed:
    """Apply `rules` (rule -> its words) to one case, in one transaction; refused under a hold.
    A rule already applied (in any run) is skipped; a retried call records once. The
    `personal_data` rule also destroys the case's data key (crypto-shredding: every copy of its
    Temporal history becomes unreadable), in the same transaction as its record."""
    db.ensure_schema(url)
    with db.session(url) as session:
        hold = _open_hold(session, case_ref)
        already = {
            r.rule
            for r in session.exec(
                select(DisposalRecord).where(
                    DisposalRecord.case_ref == case_ref,
                    DisposalRecord.outcome == DISPOSED_OUTCOME,
                )
            )
        }
        details: dict[str, str] = {}
        for rule, text in rules.items():
            if session.get(DisposalRecord, (run_id, case_ref, rule)) is not None:
                details[rule] = "recorded earlier in this run"
                continue
            if hold is not None:
                outcome = REFUSED_OUTCOME
                detail = f"legal hold set {hold.set_at:%Y-%m-%d} by {hold.set_by}: {hold.reason}"
            elif rule in already:
                details[rule] = "disposed of in an earlier run"
                continue
            else:
                outcome = DISPOSED_OUTCOME
                detail = _remove(session, case_ref, DisposalRule(rule), run_id)
            session.add(
                DisposalRecord(
                    run_id=run_id,
                    case_ref=case_ref,
                    rule=rule,
                    outcome=outcome,
                    at=_now(),
                    by=by,
                    rule_text=text[:500],
                    detail=detail,
                )
            )
            details[rule] = detail
    case_keys.forget(case_keys.key_id(case_ref))  # this process stops using it at once
    return Disposed(case_ref, REFUSED_OUTCOME if hold is not None else DISPOSED_OUTCOME, details)


def _remove(session: Session, case_ref: str, rule: DisposalRule, run_id: str) -> str:
    """Remove one rule's records of a case; returns what was removed, in words."""
    if rule is DisposalRule.PROFESSIONAL_NAMES:
        return _remove_names(session, case_ref)
    key = _destroy_key(session, case_ref, run_id)
    counts = {
        "history": _exec(
            session,
            update(HistoryRecord)
            .where(
                col(HistoryRecord.case_ref) == case_ref,
                col(HistoryRecord.kind).in_(_PERSONAL_KINDS),
            )
            .values(text=DISPOSED, why=None),
        ),
        "decisions": _exec(
            session,
            update(DecisionRecord)
            .where(
                col(DecisionRecord.case_ref) == case_ref,
                col(DecisionRecord.kind).in_(_kinds_with_personal_data(session, case_ref)),
            )
            .values(what=DISPOSED, why=None),
        ),
        "actions": _exec(
            session,
            update(ActionRecord)
            .where(col(ActionRecord.case_ref) == case_ref)
            .values({c: DISPOSED for c in ACTION_FREE_TEXT}),
        ),
        "learning": _exec(
            session,
            update(CaseLearningRecord)
            .where(col(CaseLearningRecord.case_ref) == case_ref)
            .values({c: _blank(CaseLearningRecord, c) for c in LEARNING_FREE_TEXT}),
        ),
        "case": _exec(
            session,
            update(CaseRecord)
            .where(col(CaseRecord.case_ref) == case_ref)
            .values({c: None for c in CASE_FREE_TEXT}),
        ),
    }
    removed = ", ".join(f"{n} {table}" for table, n in counts.items())
    return f"free text removed: {removed}; {key}"


def _destroy_key(session: Session, case_ref: str, run_id: str) -> str:
    """Destroy the case's data key (its row stays, as a tombstone); a case without one (its
    history sealed by the ring, from before case keys) gets a tombstone, so no new key is made
    for it."""
    found = session.get(CaseKeyRecord, case_keys.key_id(case_ref))
    at = _now()
    if found is None:
        session.add(
            CaseKeyRecord(
                key_id=case_keys.key_id(case_ref),
                wrapped=None,
                wrapped_by="none",
                created_at=at,
                destroyed_at=at,
                destroyed_by_run=run_id,
            )
        )
        return "no case key (history sealed by the key ring only)"
    if found.wrapped is None:
        return "case key destroyed earlier"
    found.wrapped, found.destroyed_at, found.destroyed_by_run = None, at, run_id
    session.add(found)
    return "case key destroyed"


def _remove_names(session: Session, case_ref: str) -> str:
    counts = {
        "history": _exec(
            session,
            update(HistoryRecord)
            .where(col(HistoryRecord.case_ref) == case_ref)
            .values(by_name=None),
        ),
        "decisions": _exec(
            session,
            update(DecisionRecord)
            .where(col(DecisionRecord.case_ref) == case_ref)
            .values(by_name=NAME_DISPOSED),
        ),
        "actions": _exec(
            session,
            update(ActionRecord)
            .where(col(ActionRecord.case_ref) == case_ref)
            .values(added_by_name=NAME_DISPOSED),
        ),
        "learning": _exec(
            session,
            update(CaseLearningRecord)
            .where(col(CaseLearningRecord.case_ref) == case_ref)
            .values(planned_by_name=NAME_DISPOSED),
        ),
        "case": _exec(
            session,
            update(CaseRecord)
            .where(col(CaseRecord.case_ref) == case_ref)
            .values(lead_reviewer=None),
        ),
    }
    return "professional names removed: " + ", ".join(f"{n} {t}" for t, n in counts.items())


def _kinds_with_personal_data(session: Session, case_ref: str) -> list[str]:
    kinds = session.exec(
        select(DecisionRecord.kind).where(DecisionRecord.case_ref == case_ref).distinct()
    )
    return [k for k in kinds if decision_has_personal_data(k)]


def _blank(table: type, column: str) -> str | None:
    """NULL for a nullable column, else the disposed marker."""
    nullable = table.__table__.columns[column].nullable  # type: ignore[attr-defined]
    return None if nullable else DISPOSED


def _exec(session: Session, statement: Update) -> int:
    result = session.connection().execute(statement)
    return int(result.rowcount or 0)


def personal_text_left(case_ref: str, url: str | None = None) -> list[str]:
    """Where the register still holds a case's personal free text (empty after disposal): for
    tests and `sro register dispose --check`."""
    found = []
    with db.session(url) as session:
        for h in session.exec(select(HistoryRecord).where(HistoryRecord.case_ref == case_ref)):
            if h.kind in _PERSONAL_KINDS and (h.text != DISPOSED or h.why):
                found.append(f"history {h.seq}")
        for d in session.exec(select(DecisionRecord).where(DecisionRecord.case_ref == case_ref)):
            if decision_has_personal_data(d.kind) and (d.what != DISPOSED or d.why):
                found.append(f"decision {d.decision_id}")
        for a in session.exec(select(ActionRecord).where(ActionRecord.case_ref == case_ref)):
            if any(getattr(a, c) != DISPOSED for c in ACTION_FREE_TEXT):
                found.append(f"action {a.action_id}")
        for lo in session.exec(
            select(CaseLearningRecord).where(CaseLearningRecord.case_ref == case_ref)
        ):
            if any(getattr(lo, c) not in (None, DISPOSED) for c in LEARNING_FREE_TEXT):
                found.append(f"learning {lo.learning_id}")
        case = session.get(CaseRecord, case_ref)
        if case is not None and any(getattr(case, c) for c in CASE_FREE_TEXT):
            found.append("case")
    return found
