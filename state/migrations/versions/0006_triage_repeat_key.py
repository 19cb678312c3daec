"""triage_action.repeat_key: identical clicks on the same ledger state are stored once

Revision ID: 0006_triage_repeat_key
Revises: 0005_triage_ledger
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_triage_repeat_key"
down_revision: str | None = "0005_triage_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all (adopted as 0001) may already hold the column.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("triage_action")}
    if "repeat_key" in columns:
        return
    op.add_column("triage_action", sa.Column("repeat_key", sa.String(), nullable=True))
    # A unique index, not a constraint: SQLite cannot add a constraint to an existing table.
    op.create_index("uq_triage_action_repeat", "triage_action", ["repeat_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_triage_action_repeat", table_name="triage_action")
    op.drop_column("triage_action", "repeat_key")
