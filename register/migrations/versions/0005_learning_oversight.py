"""Issue 13, items 11 and 12: the learning outputs planned from each case's review
(`case_learning`), and professional-disagreement escalations with their stages (`escalations`,
`escalation_stages`) for the review group's oversight.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_learning",
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("learning_id", sa.String(length=80), nullable=False),
        sa.Column("output", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("disseminated_on", sa.Date(), nullable=True),
        sa.Column("reach", sa.Text(), nullable=True),
        sa.Column("reaudit_due_on", sa.Date(), nullable=True),
        sa.Column("impact", sa.Text(), nullable=True),
        sa.Column("impact_on", sa.Date(), nullable=True),
        sa.Column("planned_by_name", sa.String(), nullable=False),
        sa.Column("planned_by_role", sa.String(), nullable=False),
        sa.Column("planned_by_agency", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["case_ref"], ["cases.case_ref"]),
        sa.PrimaryKeyConstraint("case_ref", "learning_id"),
    )
    op.create_index(op.f("ix_case_learning_output"), "case_learning", ["output"], unique=False)

    op.create_table(
        "escalations",
        sa.Column("escalation_ref", sa.String(length=40), nullable=False),
        sa.Column("partnership", sa.String(), nullable=False),
        sa.Column("partnership_name", sa.String(), nullable=False),
        sa.Column("linked_case_ref", sa.String(length=40), nullable=True),
        sa.Column("raised_with", sa.String(), nullable=False),
        sa.Column("raised_by_name", sa.String(), nullable=False),
        sa.Column("raised_by_role", sa.String(), nullable=False),
        sa.Column("raised_by_agency", sa.String(), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("stage_name", sa.String(), nullable=False),
        sa.Column("formal", sa.Boolean(), nullable=False),
        sa.Column("oversight_from_stage", sa.Integer(), nullable=False),
        sa.Column("overseen", sa.Boolean(), nullable=False),
        sa.Column("partnership_notified_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by_name", sa.String(), nullable=True),
        sa.Column("resolved_by_role", sa.String(), nullable=True),
        sa.Column("resolved_by_agency", sa.String(), nullable=True),
        sa.Column("history_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("escalation_ref"),
    )
    op.create_index(
        op.f("ix_escalations_partnership"), "escalations", ["partnership"], unique=False
    )

    op.create_table(
        "escalation_stages",
        sa.Column("escalation_ref", sa.String(length=40), nullable=False),
        sa.Column("stage", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("who", sa.String(), nullable=False),
        sa.Column("formal", sa.Boolean(), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("left_at", sa.DateTime(), nullable=True),
        sa.Column("left_because", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["escalation_ref"], ["escalations.escalation_ref"]),
        sa.PrimaryKeyConstraint("escalation_ref", "stage"),
    )


def downgrade() -> None:
    op.drop_table("escalation_stages")
    op.drop_index(op.f("ix_escalations_partnership"), table_name="escalations")
    op.drop_table("escalations")
    op.drop_index(op.f("ix_case_learning_output"), table_name="case_learning")
    op.drop_table("case_learning")
