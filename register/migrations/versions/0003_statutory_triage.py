"""Issue #13, items 2, 5 and 7: on each case, where the child was harmed, the safeguarding-lead
discussion, the referral quality-assured before triage, a notification made although a
statutory criterion was not met (which, and why), and the local authority's notice to the
partnership.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("where_harmed", sa.String()),
    ("discussed_with_safeguarding_lead", sa.Boolean()),
    ("referral_quality_assured_on", sa.Date()),
    ("notified_outside_criteria", sa.Text()),
    ("la_notice_on", sa.Date()),
)


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
