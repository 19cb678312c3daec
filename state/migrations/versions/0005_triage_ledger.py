"""triage_action: the append-only ledger of acknowledge, snooze and mute actions

Revision ID: 0005_triage_ledger
Revises: 0004_registry_history
Create Date: 2026-11-29 22:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_triage_ledger"
down_revision: str | None = "0004_registry_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all (adopted as 0001) may already hold the table.
    if "triage_action" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "triage_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("record_key", sa.Text(), nullable=False),
        sa.Column("field", sa.String(), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("click", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("click", name="uq_triage_action_click"),
    )
    op.create_index("ix_triage_action_record", "triage_action", ["topic", "source", "record_key"])
    op.create_index("ix_triage_action_alert", "triage_action", ["alert_id"])


def downgrade() -> None:
    op.drop_index("ix_triage_action_alert", table_name="triage_action")
    op.drop_index("ix_triage_action_record", table_name="triage_action")
    op.drop_table("triage_action")
