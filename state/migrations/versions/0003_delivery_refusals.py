"""delivery.refusals: unknown refusals counted apart from transient failures

Revision ID: 0003_delivery_refusals
Revises: 0002_match_context
Create Date: 2026-11-29 20:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_delivery_refusals"
down_revision: str | None = "0002_match_context"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("delivery")}
    if "refusals" in columns:  # a database adopted from create_all may have it already
        return
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("refusals", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("refusals")
