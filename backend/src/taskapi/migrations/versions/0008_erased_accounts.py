"""Mark an erased account on its count row, so no write can recreate its data.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

`task_counts.erased_until` is set, in the transaction that erases an account
(taskapi.auth.revocation.erase_subject), to when the last token issued before the erasure
expires. Creating a task goes through that row (taskapi.tasks._hold_room) and is refused while
it is set, so a process that has not yet learnt of the erasure cannot write a task back. The row
is deleted once `erased_until` has passed (the partial index finds those); by then every token
that could write for that user is refused for its age.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from taskapi.models import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARKED = sa.text("erased_until IS NOT NULL")


def upgrade() -> None:
    op.add_column("task_counts", sa.Column("erased_until", UTCDateTime(), nullable=True))
    op.create_index(
        "ix_task_counts_erased_until",
        "task_counts",
        ["erased_until"],
        sqlite_where=MARKED,
        postgresql_where=MARKED,
    )


def downgrade() -> None:
    op.drop_index("ix_task_counts_erased_until", table_name="task_counts")
    op.drop_column("task_counts", "erased_until")
