"""Task versions (ETag / If-Match) and idempotency keys for POST.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from taskapi.models import TaskId, UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing tasks start at version 1, as new ones do. A plain ADD COLUMN, not batch mode:
    # batch mode would copy the table on SQLite and drop the count triggers with the old one.
    op.add_column("tasks", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.String(), primary_key=True),
        sa.Column("key", sa.String(length=255), primary_key=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("task_id", TaskId, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_column("tasks", "version")
