"""The register's first schema: cases, children, deadlines, actions, history, decisions and
learning outputs.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("partnership_name", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("route", sa.String(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("aware_on", sa.Date(), nullable=False),
        sa.Column("late_referral", sa.Boolean(), nullable=False),
        sa.Column("harm", sa.String(), nullable=False),
        sa.Column("abuse_or_neglect_suspected", sa.Boolean(), nullable=False),
        sa.Column("referrer_agency", sa.String(), nullable=False),
        sa.Column("agencies_involved", sa.String(), nullable=False),
        sa.Column("children", sa.Integer(), nullable=False),
        sa.Column("care_leaver", sa.Boolean(), nullable=False),
        sa.Column("other_review_type", sa.String(), nullable=True),
        sa.Column("notification_reference", sa.String(), nullable=True),
        sa.Column("notified_on", sa.Date(), nullable=True),
        sa.Column("rapid_review_on", sa.Date(), nullable=True),
        sa.Column("rapid_review_recommendation", sa.String(), nullable=True),
        sa.Column("possible_national_importance", sa.Boolean(), nullable=False),
        sa.Column("panel_response_on", sa.Date(), nullable=True),
        sa.Column("panel_agrees", sa.Boolean(), nullable=True),
        sa.Column("panel_outcome", sa.String(), nullable=True),
        sa.Column("national_review", sa.Boolean(), nullable=False),
        sa.Column("cspr_decided_on", sa.Date(), nullable=True),
        sa.Column("lead_reviewer", sa.String(), nullable=True),
        sa.Column("planned_publication_on", sa.Date(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("not_published", sa.Boolean(), nullable=False),
        sa.Column("case_of_concern_approach", sa.String(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("history_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_ref"),
    )
    op.create_index(op.f("ix_cases_partnership"), "cases", ["partnership"], unique=False)

    op.create_table(
        "learning_outputs",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("produced_on", sa.Date(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "title", "case_ref", "produced_on"),
    )
    op.create_index(
        op.f("ix_learning_outputs_partnership"), "learning_outputs", ["partnership"], unique=False
    )

    op.create_table(
        "actions",
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("action_id", sa.String(length=80), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lead_agency", sa.String(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("outcome_measure", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("monitored_by", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("rag", sa.String(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("added_by_name", sa.String(), nullable=False),
        sa.Column("added_by_role", sa.String(), nullable=False),
        sa.Column("added_by_agency", sa.String(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.case_ref"],
        ),
        sa.PrimaryKeyConstraint("case_ref", "action_id"),
    )
    op.create_index(op.f("ix_actions_lead_agency"), "actions", ["lead_agency"], unique=False)

    op.create_table(
        "children",
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("child_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("age_band", sa.String(), nullable=False),
        sa.Column("sex", sa.String(), nullable=False),
        sa.Column("ethnicity", sa.String(), nullable=True),
        sa.Column("disability", sa.Boolean(), nullable=True),
        sa.Column("looked_after", sa.Boolean(), nullable=False),
        sa.Column("child_protection_plan", sa.Boolean(), nullable=False),
        sa.Column("care_leaver", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.case_ref"],
        ),
        sa.PrimaryKeyConstraint("case_ref", "child_no"),
    )
    op.create_table(
        "deadlines",
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("deadline_id", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("statutory", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.String(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("original_due_on", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("met_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.Column("escalated_again_at", sa.DateTime(), nullable=True),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.case_ref"],
        ),
        sa.PrimaryKeyConstraint("case_ref", "deadline_id"),
    )
    op.create_index(op.f("ix_deadlines_due_on"), "deadlines", ["due_on"], unique=False)
    op.create_index(op.f("ix_deadlines_kind"), "deadlines", ["kind"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("decision_id", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("by_name", sa.String(), nullable=False),
        sa.Column("by_role", sa.String(), nullable=False),
        sa.Column("by_agency", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=True),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.case_ref"],
        ),
        sa.PrimaryKeyConstraint("case_ref", "decision_id"),
    )
    op.create_index(op.f("ix_decisions_kind"), "decisions", ["kind"], unique=False)

    op.create_table(
        "history",
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("decision_id", sa.String(), nullable=True),
        sa.Column("decision_kind", sa.String(), nullable=True),
        sa.Column("by_name", sa.String(), nullable=True),
        sa.Column("by_role", sa.String(), nullable=True),
        sa.Column("by_agency", sa.String(), nullable=True),
        sa.Column("via", sa.String(), nullable=True),
        sa.Column("deadline_id", sa.String(), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("why", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_ref"],
            ["cases.case_ref"],
        ),
        sa.PrimaryKeyConstraint("case_ref", "seq"),
    )
    op.create_index(op.f("ix_history_at"), "history", ["at"], unique=False)
    op.create_index(op.f("ix_history_kind"), "history", ["kind"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_history_kind"), table_name="history")
    op.drop_index(op.f("ix_history_at"), table_name="history")

    op.drop_table("history")
    op.drop_index(op.f("ix_decisions_kind"), table_name="decisions")

    op.drop_table("decisions")
    op.drop_index(op.f("ix_deadlines_kind"), table_name="deadlines")
    op.drop_index(op.f("ix_deadlines_due_on"), table_name="deadlines")

    op.drop_table("deadlines")
    op.drop_table("children")
    op.drop_index(op.f("ix_actions_lead_agency"), table_name="actions")

    op.drop_table("actions")
    op.drop_index(op.f("ix_learning_outputs_partnership"), table_name="learning_outputs")

    op.drop_table("learning_outputs")
    op.drop_index(op.f("ix_cases_partnership"), table_name="cases")

    op.drop_table("cases")
