"""alert: where the topic was named (headline or text) and the excerpt around it

Revision ID: 0002_match_context
Revises: 0001
Create Date: 2026-11-29 20:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_match_context"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all before migrations existed is adopted as 0001 with the
    # tables of the version that made it, which may already have these columns.
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("alert")}
    with op.batch_alter_table("alert", schema=None) as batch_op:
        if "matched_in" not in present:
            batch_op.add_column(sa.Column("matched_in", sa.String(), nullable=True))
        if "excerpt" not in present:
            batch_op.add_column(sa.Column("excerpt", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("excerpt")
        batch_op.drop_column("matched_in")
