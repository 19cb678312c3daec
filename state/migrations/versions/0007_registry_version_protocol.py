"""registry_version.protocol_json: each version's protocol fields, for its protocol history

Revision ID: 0007_registry_version_protocol
Revises: 0006_triage_repeat_key
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_registry_version_protocol"
down_revision: str | None = "0006_triage_repeat_key"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A database made by create_all (adopted as 0001) may already hold the column.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("registry_version")}
    if "protocol_json" in columns:
        return
    # Versions stored before have no protocol: "{}" reads as "not known", never as a change.
    op.add_column(
        "registry_version",
        sa.Column("protocol_json", sa.Text(), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_column("registry_version", "protocol_json")
