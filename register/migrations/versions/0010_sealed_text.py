"""The register's personal free text sealed at rest (issue 14; register/sealing.py).

Seals every value of the personal columns already held with the key ring (the worker, the
console and `sro` run this with the ring they have for the codec); a register with nothing to
seal (a new one) needs no ring. A learning output's title leaves its primary key for a keyed
hash of it (`title_key`), and becomes text (a sealed title is longer than 200 characters).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from register import sealing

revision: str = "0010"
# Written beside 0009 (per-case keys), and re-chained onto it at the merge.
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The columns sealed as of this revision (the module's list may grow later; this one may not).
SEALED = {
    "cases": ("notified_outside_criteria",),
    "decisions": ("what", "why"),
    "history": ("text", "why"),
    "actions": ("description", "evidence", "outcome_measure", "recommendation"),
    "case_learning": ("impact", "owner", "reach", "title"),
}
_OUTPUT_COLUMNS = ("kind", "title", "case_ref", "produced_on", "partnership", "recorded_by")
_INDEX = "ix_learning_outputs_partnership"


def _outputs(title_key: bool) -> list[dict[str, Any]]:
    names = (*_OUTPUT_COLUMNS, "title_key") if title_key else _OUTPUT_COLUMNS
    # Typed, so that a date reads back as a date (SQLite keeps text) and is written as one.
    t = sa.table(
        "learning_outputs",
        *(sa.column(n, sa.Date() if n == "produced_on" else sa.String()) for n in names),
    )
    return [dict(r._mapping) for r in op.get_bind().execute(sa.select(t))]


def _create_outputs(title_key: bool) -> sa.Table:
    title = (
        [
            sa.Column("title_key", sa.String(length=120), nullable=False),
            sa.Column("title", sa.Text(), nullable=False),
        ]
        if title_key
        else [sa.Column("title", sa.String(length=200), nullable=False)]
    )
    created = op.create_table(
        "learning_outputs",
        sa.Column("kind", sa.String(length=20), nullable=False),
        *title,
        sa.Column("case_ref", sa.String(length=40), nullable=False),
        sa.Column("produced_on", sa.Date(), nullable=False),
        sa.Column("partnership", sa.String(), nullable=True),
        sa.Column("recorded_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint(
            "kind", "title_key" if title_key else "title", "case_ref", "produced_on"
        ),
    )
    op.create_index(op.f(_INDEX), "learning_outputs", ["partnership"], unique=False)
    assert created is not None
    return created


def _replace_outputs(rows: list[dict[str, Any]], *, title_key: bool) -> None:
    """Recreate the table in its new shape with these rows (a handful: recorded by hand)."""
    op.drop_index(op.f(_INDEX), table_name="learning_outputs")
    op.drop_table("learning_outputs")
    created = _create_outputs(title_key)
    if rows:
        op.bulk_insert(created, rows)


def upgrade() -> None:
    bind = op.get_bind()
    outputs = _outputs(title_key=False)
    _replace_outputs(list(sealing.seal_rows("learning_outputs", outputs)), title_key=True)
    for table, columns in SEALED.items():
        sealing.seal_held(bind, table, columns)


def downgrade() -> None:
    bind = op.get_bind()
    for table, columns in SEALED.items():
        sealing.seal_held(bind, table, columns, unseal=True)
    outputs = sealing.open_rows("learning_outputs", _outputs(title_key=True))
    _replace_outputs([{k: r[k] for k in _OUTPUT_COLUMNS} for r in outputs], title_key=False)
