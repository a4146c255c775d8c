"""Revoked sessions, purged accounts and the security events already applied.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

What taskapi.revocation keeps: one row per ended session or erased account (`revocations`) and
one per Security Event Token applied (`received_security_events`, by `jti`), each deleted once
every token it could concern has expired (the `until` indexes find those).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from taskapi.models import TaskId, UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "revocations",
        sa.Column("id", TaskId, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_revocations_until", "revocations", ["until"])
    op.create_table(
        "received_security_events",
        sa.Column("jti", sa.String(length=255), primary_key=True),
        sa.Column("until", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_received_security_events_until", "received_security_events", ["until"])


def downgrade() -> None:
    op.drop_index("ix_received_security_events_until", table_name="received_security_events")
    op.drop_table("received_security_events")
    op.drop_index("ix_revocations_until", table_name="revocations")
    op.drop_table("revocations")
