"""registry_version and history_state (trial record history); alert index (topic, id)

Revision ID: 0004_registry_history
Revises: 0003_delivery_refusals
Create Date: 2026-11-29 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_registry_history"
down_revision: str | None = "0003_delivery_refusals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all before migrations existed is adopted as 0001 with the
    # tables of the version that made it, which may already include these.
    present = set(sa.inspect(op.get_bind()).get_table_names())
    if "registry_version" not in present:
        _create_registry_version()
    if "history_state" not in present:
        _create_history_state()
    indexes = {index["name"] for index in sa.inspect(op.get_bind()).get_indexes("alert")}
    if "ix_alert_topic_id" not in indexes:
        op.create_index("ix_alert_topic_id", "alert", ["topic", "id"])


def _create_registry_version() -> None:
    op.create_table(
        "registry_version",
        sa.Column("nct_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("date", sa.String(), nullable=False),
        sa.Column("overall_status", sa.String(), nullable=True),
        sa.Column("start_date", sa.String(), nullable=True),
        sa.Column("primary_completion_date", sa.String(), nullable=True),
        sa.Column("completion_date", sa.String(), nullable=True),
        sa.Column("enrollment", sa.String(), nullable=True),
        sa.Column("module_labels_json", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nct_id", "version"),
    )


def _create_history_state() -> None:
    op.create_table(
        "history_state",
        sa.Column("nct_id", sa.String(), nullable=False),
        sa.Column("last_attempt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("caught_up_with", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("nct_id"),
    )


def downgrade() -> None:
    op.drop_index("ix_alert_topic_id", table_name="alert")
    op.drop_table("history_state")
    op.drop_table("registry_version")
