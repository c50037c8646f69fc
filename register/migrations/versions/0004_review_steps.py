"""Issue #13 items 1, 4, 6, 9, 10: the statutory review steps on each case's row: the Rapid
Review sent to the National Panel, the Local CSPR's clock, a care leaver's next step, the family's
and practitioners' involvement, and publication.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The columns added to `cases`, in order (all nullable: cases from before have none of them).
COLUMNS: tuple[tuple[str, type[sa.Date] | type[sa.String]], ...] = (
    ("rapid_review_sent_on", sa.Date),
    ("cspr_clock_from", sa.Date),
    ("cspr_initiated_by", sa.String),
    ("care_leaver_next_step", sa.String),
    ("care_leaver_next_step_on", sa.Date),
    ("family_told_on", sa.Date),
    ("family_views", sa.String),
    ("family_shown_report", sa.String),
    ("practitioners_involved_on", sa.Date),
    ("practitioners_feedback_on", sa.Date),
    ("communications_notified_on", sa.Date),
    ("anonymisation_checked_on", sa.Date),
    ("published_location", sa.String),
    ("published_until", sa.Date),
    ("partners_response_on", sa.Date),
)


def upgrade() -> None:
    for name, kind in COLUMNS:
        op.add_column("cases", sa.Column(name, kind(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
