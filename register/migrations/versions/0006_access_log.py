"""The access log: who viewed a case's personal data, when, and which kind (issue 14).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("case_ref", sa.String(length=40), nullable=True),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("agency", sa.String(length=40), nullable=True),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("data", sa.String(length=200), nullable=False),
        sa.Column("what", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_access_log_at"), "access_log", ["at"], unique=False)
    op.create_index(op.f("ix_access_log_case_ref"), "access_log", ["case_ref"], unique=False)
    op.create_index(op.f("ix_access_log_username"), "access_log", ["username"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_access_log_username"), table_name="access_log")
    op.drop_index(op.f("ix_access_log_case_ref"), table_name="access_log")
    op.drop_index(op.f("ix_access_log_at"), table_name="access_log")
    op.drop_table("access_log")
