"""Priority, tags and due dates, with an index for each way a list can be ordered.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

Every existing task keeps its fields and gets priority medium, no tags and no due date. Plain
ADD COLUMN (never batch mode, which would copy the table on SQLite and lose its triggers).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from taskapi.models import PriorityRank, TaskId, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER_INDEXES = {
    "ix_tasks_user_id_updated_at": ["user_id", "updated_at", "id"],
    "ix_tasks_user_id_due_at": ["user_id", "due_at", "id"],
    "ix_tasks_user_id_priority": ["user_id", "priority", "id"],
}


def upgrade() -> None:
    op.add_column(
        "tasks", sa.Column("priority", PriorityRank(), nullable=False, server_default="1")
    )
    op.add_column("tasks", sa.Column("tags", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("tasks", sa.Column("due_at", UTCDateTime(), nullable=True))
    for name, columns in ORDER_INDEXES.items():
        op.create_index(name, "tasks", columns)
    op.create_table(
        "task_tags",
        sa.Column(
            "task_id",
            TaskId,
            sa.ForeignKey("tasks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(), primary_key=True),
        sa.Column("user_id", sa.String(), nullable=False),
    )
    op.create_index("ix_task_tags_user_id_tag", "task_tags", ["user_id", "tag", "task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_tags_user_id_tag", table_name="task_tags")
    op.drop_table("task_tags")
    for name in ORDER_INDEXES:
        op.drop_index(name, table_name="tasks")
    for column in ("due_at", "tags", "priority"):
        op.drop_column("tasks", column)
