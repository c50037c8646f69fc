"""Retention and disposal: legal holds and the disposal record (issue 14, point 3).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.Column("lifted_by", sa.String(length=80), nullable=True),
        sa.Column("lifted_why", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_legal_holds_case_ref"), "legal_holds", ["case_ref"], unique=False)
    op.create_table(
        "disposals",
        sa.Column("run_id", sa.String(length=80), nullable=False),
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("rule_text", sa.String(length=500), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "case_ref", "rule"),
    )
    op.create_index(op.f("ix_disposals_at"), "disposals", ["at"], unique=False)
    op.create_index(op.f("ix_disposals_outcome"), "disposals", ["outcome"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_disposals_outcome"), table_name="disposals")
    op.drop_index(op.f("ix_disposals_at"), table_name="disposals")
    op.drop_table("disposals")
    op.drop_index(op.f("ix_legal_holds_case_ref"), table_name="legal_holds")
    op.drop_table("legal_holds")
