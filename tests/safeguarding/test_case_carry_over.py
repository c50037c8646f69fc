"""What a case carries to its next run (`Case.carry_over`): bounded however long the case lives,
without losing a history entry, an idempotency key or a piece of evidence.

The register is played by `Register` below: it takes snapshots as the workflow's projection
sends them (`projection.snapshot(case, since=..., limit=...)`), keeps each history row by its
`seq` and refuses a `seq` given twice with different content. Each carry-over goes through JSON,
as continue-as-new does.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeguarding import projection
from safeguarding.case import (
    RECENT_EVIDENCE,
    RECENT_HISTORY_BYTES,
    RECENT_HISTORY_ENTRIES,
    RECENT_RESULTS,
    Case,
    DecisionRefused,
    HistoryKind,
)
from safeguarding.projection import HistoryRow
from safeguarding.vocabulary import DecisionKind, Stage
from tests.factories import CHAIR, COORDINATOR, HEALTH_MEMBER, action_fields, decision
from tests.safeguarding.test_case import Driver

#: The most evidence a decision allows.
EVIDENCE_CHARS = 4_000
#: What a carried case stays under in these tests (see `test_thousands_of_updates_...`).
BOUND = 256 * 1024


def evidence(n: int, chars: int = EVIDENCE_CHARS) -> str:
    head = f"evidence {n}: "
    return head + "x" * (chars - len(head))


def size(case: Case) -> int:
    return len(case.model_dump_json().encode())


def through_json(case: Case) -> Case:
    """As continue-as-new carries it."""
    return Case.model_validate_json(case.model_dump_json())


class Register:
    """The register's history as the workflow's projection fills it."""

    def __init__(self) -> None:
        self.rows: dict[int, HistoryRow] = {}
        self.upto = 0
        self.history_count = 0

    def catch_up(self, case: Case, upto: int | None = None) -> None:
        """Acknowledge the case's history up to position `upto` (all of it by default), in
        batches as `ReferralWorkflow._project` sends them."""
        target = case.history_count if upto is None else min(upto, case.history_count)
        while self.upto < target:
            snap = projection.snapshot(
                case,
                since=self.upto,
                limit=min(projection.MAX_HISTORY_PER_SNAPSHOT, target - self.upto),
            )
            assert snap.history_from == self.upto, "the case dropped an entry not acknowledged"
            for row in snap.history:
                assert self.rows.setdefault(row.seq, row) == row, f"seq {row.seq} changed"
            self.history_count = max(self.history_count, snap.case.history_count)
            self.upto = snap.history_upto

    def seqs(self) -> list[int]:
        return sorted(self.rows)


class LongCase:
    """A case in action-plan monitoring taking decisions for years: `Driver` plus carrying over
    and a register."""

    def __init__(self, actions: int = 3) -> None:
        self.driver = Driver().in_action_plan()
        self.register = Register()
        self.ids = {i: result.kind for i, result in self.case.applied.items()}
        self.evidence: list[str] = []
        self.actions = [f"A{n}" for n in range(1, actions + 1)]
        for action_id in self.actions:
            self.decide("action_added", COORDINATOR, **action_fields(action_id, date(2030, 1, 1)))

    @property
    def case(self) -> Case:
        return self.driver.case

    def decide(self, kind: str, by: Any, **fields: Any) -> None:
        made = decision(kind, by, **fields)
        self.driver.apply(made)
        self.ids[made.decision_id] = made.kind

    def update(self, n: int, chars: int = EVIDENCE_CHARS) -> None:
        text = evidence(n, chars)
        self.decide(
            "action_updated",
            HEALTH_MEMBER,
            decision_id=f"upd-{n:06d}",
            action_id=self.actions[n % len(self.actions)],
            rag=("green", "amber", "red")[n % 3],
            evidence=text,
        )
        self.evidence.append(text)

    def carry_over(self) -> Case:
        """Continue as new (as the workflow does): note it, carry over through JSON."""
        case = self.case
        case.runs += 1
        case.note(self.driver.now, HistoryKind.CONTINUED, f"Run {case.runs} continues the case")
        self.driver.case = through_json(case.carry_over(self.register.upto))
        return self.driver.case

    def assert_every_id_is_a_duplicate(self) -> None:
        for decision_id, kind in self.ids.items():
            assert self.case.applied_kind(decision_id) is kind, decision_id
        assert self.case.decisions_applied == len(self.ids)

    def assert_register_complete(self) -> None:
        self.register.catch_up(self.case)
        assert self.register.seqs() == list(range(self.case.history_count))
        assert self.register.history_count == self.case.history_count
        # Every piece of evidence in full, in the history row of the decision that gave it.
        given = {row.decision_id: row.text for row in self.register.rows.values()}
        missing = [
            n for n, text in enumerate(self.evidence) if text not in given.get(f"upd-{n:06d}", "")
        ]
        assert not missing, f"evidence of updates {missing[:5]}... is not in the register"


# --------------------------------------------------------------------------- history


def test_carry_over_drops_only_what_the_register_holds_before_the_recent_timeline() -> None:
    long = LongCase()
    for n in range(300):
        long.update(n, chars=300)
    case = long.case
    before = case.model_dump()
    recent = case.recent_history_from()
    kept = case.history[recent:]
    assert case.history_base == 0 and recent > 0 and len(kept) <= RECENT_HISTORY_ENTRIES
    assert sum(len(e.model_dump_json().encode()) for e in kept) <= RECENT_HISTORY_BYTES
    one_more = case.history[recent - 1 :]
    assert len(one_more) > RECENT_HISTORY_ENTRIES or (
        sum(len(e.model_dump_json().encode()) for e in one_more) > RECENT_HISTORY_BYTES
    )

    # The register is down: nothing it has not acknowledged is dropped.
    assert case.carry_over(0).history == case.history
    assert case.carry_over(0).history_base == 0
    # It is behind the recent timeline: everything from where it stands is kept.
    behind = case.carry_over(40)
    assert behind.history_base == 40 and behind.history == case.history[40:]
    # It has everything: the recent timeline is kept.
    carried = case.carry_over(case.history_count)
    assert carried.history_base == recent
    assert carried.history == case.history[recent:]
    assert carried.history_count == case.history_count
    # Positions past the end count as the end.
    assert case.carry_over(10**9).history_base == recent
    # The case itself is left as it was, and shares nothing with the carried one.
    assert case.model_dump() == before
    carried.history[0].text = "changed"
    carried.actions["A1"].evidence.append("changed")
    assert case.model_dump() == before


def test_the_recent_timeline_is_at_most_so_many_bytes_and_at_least_one_entry() -> None:
    long = LongCase(actions=1)
    for n in range(60):
        long.update(n)
    case = long.case
    recent = case.recent_history_from()
    kept = case.history[recent - case.history_base :]
    assert 10 < len(kept) < 20
    assert sum(len(e.model_dump_json().encode()) for e in kept) <= RECENT_HISTORY_BYTES
    # One entry over the budget is still shown.
    huge = case.model_copy(deep=True)
    huge.history[-1].text = "x" * (RECENT_HISTORY_BYTES + 1)
    assert huge.recent_history_from() == huge.history_count - 1


def test_a_carried_case_keeps_its_history_positions_run_after_run() -> None:
    long = LongCase()
    whole: list[Any] = []  # every entry ever, as the case had it

    def record(case: Case) -> None:
        whole.extend(case.history[len(whole) - case.history_base :])

    for run in range(6):
        for n in range(run * 120, (run + 1) * 120):
            long.update(n, chars=500)
        long.register.catch_up(long.case)
        before = long.case
        carried = long.carry_over()
        record(before)  # with the note of the continuation
        assert 0 < carried.history_base <= long.register.upto
        # Entry i of the carried case is entry history_base + i of the whole history.
        assert carried.history == whole[carried.history_base :]
        assert carried.history_count == len(whole)
    long.assert_register_complete()


def test_the_snapshot_numbers_entries_by_their_position_in_the_whole_history() -> None:
    long = LongCase()
    for n in range(250):
        long.update(n, chars=100)
    long.register.catch_up(long.case)
    carried = long.carry_over()
    base = carried.history_base
    assert base > 0
    long.register.catch_up(carried)
    whole = projection.snapshot(carried)  # the `register` query: what rebuild writes
    assert whole.history_from == base and whole.history_upto == carried.history_count
    assert [r.seq for r in whole.history] == list(range(base, carried.history_count))
    assert whole.case.history_count == carried.history_count
    assert projection.snapshot(carried, since=3).history_from == base  # not held: not sent
    batch = projection.snapshot(carried, since=base + 5, limit=2)
    assert [r.seq for r in batch.history] == [base + 5, base + 6]
    for row in whole.history:
        assert long.register.rows[row.seq] == row  # the same rows the register has


def test_status_shows_the_recent_timeline_and_where_it_starts() -> None:
    long = LongCase()
    for n in range(250):
        long.update(n, chars=100)
    status = long.case.status(long.driver.now)
    assert 100 < len(status.history) <= RECENT_HISTORY_ENTRIES
    assert status.history_from == long.case.recent_history_from() > 0
    assert status.history == long.case.history[status.history_from :]
    long.register.catch_up(long.case)
    carried = long.carry_over()
    status = carried.status(long.driver.now)
    assert status.history_from + len(status.history) == carried.history_count
    assert status.history[-1].kind is HistoryKind.CONTINUED
    # A short case shows all of it.
    short = Driver().triaged().case
    assert short.status(long.driver.now).history_from == 0
    assert short.status(long.driver.now).history == short.history


# --------------------------------------------------------------------------- idempotency


def test_a_decision_from_an_earlier_run_is_still_a_duplicate() -> None:
    long = LongCase(actions=1)
    for n in range(30):
        long.update(n, chars=50)
    long.register.catch_up(long.case)
    carried = long.carry_over()
    assert len(carried.applied) == RECENT_RESULTS
    earlier = sum(len(ids) for ids in carried.applied_earlier.values())
    assert earlier == len(long.ids) - RECENT_RESULTS
    long.assert_every_id_is_a_duplicate()

    old = decision(
        "action_updated", HEALTH_MEMBER, decision_id="upd-000000", action_id="A1", rag="red"
    )
    assert carried.is_duplicate(old)
    answer = carried.duplicate_result(old)
    assert answer.duplicate and answer.decision_id == "upd-000000"
    assert answer.kind is DecisionKind.ACTION_UPDATED and answer.stage is carried.stage
    assert "recorded earlier" in answer.message and answer.deadlines == []

    # A recent one still gets its own result back.
    recent = decision(
        "action_updated", HEALTH_MEMBER, decision_id="upd-000029", action_id="A1", rag="red"
    )
    assert carried.duplicate_result(recent) == carried.applied["upd-000029"].model_copy(
        update={"duplicate": True}
    )

    # The same old id for another kind of decision is a conflict.
    with pytest.raises(DecisionRefused) as refused:
        carried.check(decision("case_closed", CHAIR, decision_id="upd-000000"), long.driver.now)
    assert refused.value.reason == "conflict"
    assert "already used for a action_updated decision" in refused.value.message

    # And applying the old one again changes nothing: check passes (duplicate), the workflow
    # answers with duplicate_result and never calls apply.
    carried.check(old, long.driver.now)


def test_action_added_ids_survive_as_conflicts() -> None:
    long = LongCase(actions=1)
    for n in range(20):
        long.update(n, chars=50)
    long.register.catch_up(long.case)
    carried = long.carry_over()
    again = decision("action_added", COORDINATOR, **action_fields("A1", date(2030, 1, 1)))
    with pytest.raises(DecisionRefused, match="already exists"):
        carried.check(again, long.driver.now)


# --------------------------------------------------------------------------- evidence


def test_an_action_keeps_its_latest_evidence_and_its_history_keeps_all_of_it() -> None:
    long = LongCase(actions=1)
    for n in range(7):
        long.update(n)
    action = long.case.actions["A1"]
    assert action.evidence == long.evidence[-RECENT_EVIDENCE:]
    assert action.earlier_evidence == 7 - RECENT_EVIDENCE
    entries = [e for e in long.case.history if e.decision_kind == "action_updated"]
    assert [e.text.count(text) for e, text in zip(entries, long.evidence, strict=True)] == [1] * 7
    row = projection.action_rows(long.case)[0]
    assert row.evidence == "\n".join(long.evidence[-RECENT_EVIDENCE:])


def test_only_evidence_there_is_a_full_copy_of_is_dropped() -> None:
    """A case carried from before history entries kept evidence in full: its evidence so far is
    kept whole (the register's action row may be the only full copy), later evidence is not."""
    long = LongCase(actions=1)
    for n in range(5):
        long.update(n, chars=300)
    old = json.loads(long.case.model_dump_json())
    # The older form: no history_base, applied_earlier, earlier_evidence, evidence_logged_from.
    del old["history_base"], old["applied_earlier"]
    for action in old["actions"].values():
        del action["earlier_evidence"], action["evidence_logged_from"]
        action["evidence"] = [f"legacy {n}" for n in range(6)]
    legacy = Case.model_validate(old)
    assert legacy.history_base == 0 and legacy.applied_earlier == {}
    assert legacy.actions["A1"].evidence_logged_from is None
    carried = through_json(legacy.carry_over(legacy.history_count))
    assert carried.actions["A1"].evidence == [f"legacy {n}" for n in range(6)]
    long.driver.case = carried
    for n in range(5, 10):
        long.update(n, chars=300)
    action = long.case.actions["A1"]
    assert action.evidence == [f"legacy {n}" for n in range(6)] + long.evidence[-RECENT_EVIDENCE:]
    assert action.evidence_logged_from == 6 and action.earlier_evidence == 5 - RECENT_EVIDENCE


def test_a_case_in_the_older_form_loads_and_carries_over() -> None:
    long = LongCase()
    for n in range(40):
        long.update(n, chars=200)
    old = json.loads(long.case.model_dump_json())
    del old["history_base"], old["applied_earlier"]
    legacy = Case.model_validate(old)
    assert legacy == long.case
    long.register.catch_up(legacy)
    carried = through_json(legacy.carry_over(long.register.upto))
    assert carried.history_count == legacy.history_count
    long.driver.case = carried
    long.assert_every_id_is_a_duplicate()
    long.assert_register_complete()


# --------------------------------------------------------------------------- the bound


def test_thousands_of_updates_with_the_most_evidence_carry_a_bounded_case() -> None:
    """3,000 action updates, each with 4,000 characters of evidence, over 12 runs (the bench's
    `limits` case, six times longer than it could live before): every carried case stays under
    256 KB, every decision id is still recognised, the register gets every entry once.

    Why the bound holds: what a carried case holds besides decision ids does not grow with its
    decisions. History: the recent timeline, at most `RECENT_HISTORY_BYTES` (64 KiB), plus the
    entries the register has not acknowledged (none here: it keeps up). Results: the
    `RECENT_RESULTS` latest. Evidence: `RECENT_EVIDENCE` pieces an action (4 KB each at most).
    The rest (referral, settings, records, actions, deadlines) is the case's own size. Ids grow
    by len(id) + 3 bytes a decision: 3,000 ids of 10 characters are about 39 KB."""
    long = LongCase(actions=3)
    sizes = []
    for run in range(12):
        for n in range(run * 250, (run + 1) * 250):
            long.update(n)
        long.register.catch_up(long.case)
        sizes.append(size(long.carry_over()))
        long.assert_every_id_is_a_duplicate()
    assert max(sizes) < BOUND, sizes
    # It does not grow but by the ids: the last run carries about what the second did.
    assert sizes[-1] - sizes[1] < 10 * 3 * 250 * 13
    long.assert_register_complete()
    assert long.case.decisions_applied == len(long.ids) > 3_000


def test_while_the_register_is_down_nothing_is_dropped_then_it_is() -> None:
    long = LongCase(actions=1)
    for n in range(100):
        long.update(n)
    long.register.catch_up(long.case)
    long.carry_over()
    acknowledged = long.register.upto
    for run in range(3):  # the register is down for three runs
        for n in range(100 + run * 100, 200 + run * 100):
            long.update(n)
        carried = long.carry_over()
        assert carried.history_base <= acknowledged
    assert size(long.case) > 1_000_000  # all of it carried: none lost
    long.register.catch_up(long.case)  # it is back
    assert size(long.carry_over()) < BOUND
    long.assert_register_complete()
    long.assert_every_id_is_a_duplicate()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    runs=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=150),  # decisions in the run
            st.integers(min_value=0, max_value=400),  # entries the register is behind by
            st.sampled_from([50, 1_000, EVIDENCE_CHARS]),  # evidence length
            st.booleans(),  # an alert fires / a signal is refused in the run
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_schedule_loses_nothing_and_stays_bounded(
    runs: list[tuple[int, int, int, bool]],
) -> None:
    long = LongCase(actions=2)
    n = 0
    for decisions, behind, chars, extra in runs:
        for _ in range(decisions):
            long.update(n, chars)
            n += 1
        if extra:
            long.case.record_refusal(long.driver.now, "not allowed now", "signal")
            long.driver.fire(long.driver.now + timedelta(days=1))
        long.register.catch_up(long.case, upto=long.case.history_count - behind)
        unacknowledged = long.case.unregistered_size(long.register.upto)
        carried = long.carry_over()
        assert carried.history_base <= long.register.upto
        assert size(carried) < BOUND + unacknowledged
        long.assert_every_id_is_a_duplicate()
        assert carried.stage is Stage.ACTION_PLAN_MONITORING
    long.assert_register_complete()
