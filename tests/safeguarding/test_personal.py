"""Every field of the decisions, the referral and the case records is classified by one rule
(safeguarding/personal.py): free text is personal unless shown otherwise, so a field added by a
new decision kind is covered without editing the classification."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from safeguarding import case_views, personal
from safeguarding.case_records import HistoryEntry, HistoryKind
from safeguarding.decisions import DECISION_MODELS, DecisionBase, Identifier, LongText, ShortText
from safeguarding.personal import Sensitive, Sensitivity, personal_fields
from safeguarding.referral import Referral
from safeguarding.vocabulary import DecisionKind

#: Free text people write, by model: each must be classified personal.
FREE_TEXT = {
    "DecisionBase": {"note"},
    "TriageDecision": {"note", "advice"},
    "RapidReviewDecision": {"note", "immediate_safety_actions", "learning"},
    "NotPublished": {"note", "reasons"},
    "OutcomeShared": {"note", "summary"},
    "OtherReviewCompleted": {"note", "findings"},
    "ActionAdded": {"note", "recommendation", "description", "outcome_measure"},
    "ActionUpdated": {"note", "evidence"},
    "DeadlineExtended": {"note", "reason"},
    "Referral": {"summary", "late_reason", "children", "referrer", "incident_on"},
    "Action": {"recommendation", "description", "outcome_measure", "evidence"},
    "RapidReviewRecord": {"immediate_safety_actions", "learning"},
    "CsprRecord": {"not_published_reasons"},
    "CaseOfConcernRecord": {"outcome_summary"},
    "HistoryEntry": {"text", "why"},
    "CaseStatus": {"history", "actions"},
    # Professional disagreements: what was raised, why it moved on, how it was resolved.
    "Disagreement": {"concern"},
    "EscalateNow": {"reason"},
    "Resolve": {"outcome"},
    "EscalationEvent": {"text"},
    "EscalationStatus": {"resolution", "history"},
    "Escalation": {"disagreement", "resolution", "history"},
}


def test_every_field_of_every_model_is_classified() -> None:
    models = personal.classified_models()
    names = {m.__name__ for m in models}
    assert set(m.__name__ for m in DECISION_MODELS.values()) <= names
    assert {"Referral", "Child", "Referrer", "Action", "HistoryEntry", "CaseStatus"} <= names
    assert {"Disagreement", "Escalation", "EscalationStatus"} <= names
    for model in models:
        for name in model.model_fields:
            assert isinstance(personal.field_sensitivity(model, name), Sensitivity)


def test_free_text_is_personal() -> None:
    by_name = {m.__name__: m for m in personal.classified_models()}
    for model_name, fields in FREE_TEXT.items():
        assert fields <= personal_fields(by_name[model_name]), model_name


def test_every_text_field_of_a_decision_is_personal_unless_explicitly_not() -> None:
    # The rule, for any decision kind added later: text people type is hidden by default.
    explicit = personal.explicit_entries()
    for model in set(DECISION_MODELS.values()):
        for name, field in model.model_fields.items():
            if personal._strip(field.annotation) is not str or name in ("decision_id",):
                continue
            if any(getattr(m, "pattern", None) for m in field.metadata):
                continue  # an identifier, not words
            listed = any((cls.__name__, name) in explicit for cls in model.__mro__)
            assert listed or name in personal_fields(model), (model.__name__, name)


def test_the_explicit_table_names_fields_that_exist() -> None:
    fields = {(m.__name__, n) for m in personal.classified_models() for n in m.model_fields}
    for key, (_, why) in personal.explicit_entries().items():
        assert key in fields, key
        assert why


def test_a_new_model_is_classified_without_editing_the_module() -> None:
    class NewDecision(DecisionBase):
        reflection: LongText
        headline: ShortText | None = None
        themes: list[ShortText] = Field(default_factory=list)
        ref: Identifier = "x"
        code: Annotated[str, Sensitive.system("a code from the rules")] = "c"
        count: int = 0

    assert personal_fields(NewDecision) == {"note", "reflection", "headline", "themes"}
    assert personal.field_sensitivity(NewDecision, "by") is Sensitivity.PROFESSIONAL
    assert personal.field_sensitivity(NewDecision, "code") is Sensitivity.NONE

    class Nested(BaseModel):
        decision: NewDecision

    assert personal.model_sensitivity(Nested) is Sensitivity.PERSONAL


def test_the_referrals_child_is_personal_in_every_field() -> None:
    child = next(m for m in personal.classified_models() if m.__name__ == "Child")
    assert personal_fields(child) == set(child.model_fields)
    assert "harm" not in personal_fields(Referral)  # counted in national statistics


def test_history_entries_that_may_quote_people_are_personal() -> None:
    from datetime import UTC, datetime

    from safeguarding.vocabulary import Stage

    def entry(kind: HistoryKind, decision_kind: str | None = None) -> HistoryEntry:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        return HistoryEntry(
            at=at, kind=kind, stage=Stage.TRIAGE, text="t", decision_kind=decision_kind
        )

    for kind in DecisionKind:
        assert personal.history_text_is_personal(entry(HistoryKind.DECISION, kind.value))
    assert personal.history_text_is_personal(entry(HistoryKind.DECISION, "a_future_kind"))
    assert personal.history_text_is_personal(entry(HistoryKind.REFUSED))
    assert personal.history_text_is_personal(entry(HistoryKind.NOTICE))
    assert not personal.history_text_is_personal(entry(HistoryKind.STAGE_CHANGED))
    assert not personal.history_text_is_personal(entry(HistoryKind.DEADLINE_OPENED))


def test_sro_status_light_rule_is_the_classification() -> None:
    from datetime import UTC, datetime

    from safeguarding.vocabulary import Stage

    # `sro status` asks case_views.may_quote_people (it does not load every decision model):
    # for every kind of entry and every decision kind it must answer as the classification does.
    for kind in HistoryKind:
        for decision_kind in [None, *(k.value for k in DecisionKind)]:
            made = HistoryEntry(
                at=datetime(2026, 1, 1, tzinfo=UTC),
                kind=kind,
                stage=Stage.TRIAGE,
                text="t",
                decision_kind=decision_kind,
            )
            assert case_views.may_quote_people(made) == personal.history_text_is_personal(made)
