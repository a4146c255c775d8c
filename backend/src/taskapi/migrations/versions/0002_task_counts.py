"""Keep per-user task counts in step with `tasks`, by triggers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

The counts change in the same transaction as the rows they count, whatever writes the rows (the
API, a bulk delete, a person at a SQL prompt), so they cannot drift. On PostgreSQL concurrent
writers of one user queue on that user's count row; writers of different users do not meet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO task_counts (user_id, total, completed)
        VALUES (NEW.user_id, 1, NEW.completed)
        ON CONFLICT (user_id) DO UPDATE
        SET total = total + 1, completed = completed + excluded.completed;
    END
    """,
    """
    CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
        UPDATE task_counts SET total = total - 1, completed = completed - OLD.completed
        WHERE user_id = OLD.user_id;
    END
    """,
    """
    CREATE TRIGGER task_counts_update AFTER UPDATE OF completed, user_id ON tasks BEGIN
        UPDATE task_counts SET total = total - 1, completed = completed - OLD.completed
        WHERE user_id = OLD.user_id;
        INSERT INTO task_counts (user_id, total, completed)
        VALUES (NEW.user_id, 1, NEW.completed)
        ON CONFLICT (user_id) DO UPDATE
        SET total = total + 1, completed = completed + excluded.completed;
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER task_counts_insert",
    "DROP TRIGGER task_counts_delete",
    "DROP TRIGGER task_counts_update",
]

POSTGRES_TRIGGERS = [
    """
    CREATE FUNCTION task_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE task_counts
            SET total = total - 1, completed = completed - OLD.completed::int
            WHERE user_id = OLD.user_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO task_counts AS counts (user_id, total, completed)
            VALUES (NEW.user_id, 1, NEW.completed::int)
            ON CONFLICT (user_id) DO UPDATE
            SET total = counts.total + 1, completed = counts.completed + excluded.completed;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER task_counts_track
    AFTER INSERT OR DELETE OR UPDATE OF completed, user_id ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_counts_track()
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER task_counts_track ON tasks",
    "DROP FUNCTION task_counts_track()",
]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "task_counts",
        sa.Column("user_id", sa.String(), primary_key=True),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("completed", sa.BigInteger(), nullable=False),
    )
    op.execute(
        "INSERT INTO task_counts (user_id, total, completed) "
        "SELECT user_id, count(*), sum(CASE WHEN completed THEN 1 ELSE 0 END) "
        "FROM tasks GROUP BY user_id"
    )
    for statement in SQLITE_TRIGGERS if _is_sqlite() else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DROP if _is_sqlite() else POSTGRES_DROP:
        op.execute(statement)
    op.drop_table("task_counts")
