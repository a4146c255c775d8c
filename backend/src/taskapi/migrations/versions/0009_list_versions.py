"""A version per user, moved by every write to that user's tasks: lists can be revalidated.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

`task_counts.version` is raised by the triggers that keep the counts (migration 0002), now on
every insert, delete and update of a task, whatever column it changes, in the same transaction
as the write. A list's ETag is derived from it (taskapi.tasks.list_state), and a filtered total
is cached under it: a user's lists can only have changed when it has. It starts at 1 with the
user's first task (0 while the row does not exist) and only grows.

An update that keeps the task's owner is one statement on the count row (it was two, minus then
plus, for a change of `completed`); an update that changes neither `completed` nor the owner
(an edit) now writes the count row too, so on PostgreSQL concurrent edits of one user's tasks
queue on that row, as their creates and toggles already did.
"""

from collections.abc import Sequence
from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_DROP = [
    "DROP TRIGGER task_counts_insert",
    "DROP TRIGGER task_counts_delete",
    "DROP TRIGGER task_counts_update",
]
SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO task_counts (user_id, total, completed, version)
        VALUES (NEW.user_id, 1, NEW.completed, 1)
        ON CONFLICT (user_id) DO UPDATE
        SET total = total + 1, completed = completed + excluded.completed, version = version + 1;
    END
    """,
    """
    CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
        UPDATE task_counts
        SET total = total - 1, completed = completed - OLD.completed, version = version + 1
        WHERE user_id = OLD.user_id;
    END
    """,
    """
    CREATE TRIGGER task_counts_update AFTER UPDATE ON tasks
    WHEN OLD.user_id IS NEW.user_id BEGIN
        UPDATE task_counts
        SET completed = completed - OLD.completed + NEW.completed, version = version + 1
        WHERE user_id = NEW.user_id;
    END
    """,
    """
    CREATE TRIGGER task_counts_move AFTER UPDATE ON tasks
    WHEN OLD.user_id IS NOT NEW.user_id BEGIN
        UPDATE task_counts
        SET total = total - 1, completed = completed - OLD.completed, version = version + 1
        WHERE user_id = OLD.user_id;
        INSERT INTO task_counts (user_id, total, completed, version)
        VALUES (NEW.user_id, 1, NEW.completed, 1)
        ON CONFLICT (user_id) DO UPDATE
        SET total = total + 1, completed = completed + excluded.completed, version = version + 1;
    END
    """,
]
POSTGRES = [
    "DROP TRIGGER task_counts_track ON tasks",
    """
    CREATE OR REPLACE FUNCTION task_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.user_id = NEW.user_id THEN
            UPDATE task_counts
            SET completed = completed - OLD.completed::int + NEW.completed::int,
                version = version + 1
            WHERE user_id = NEW.user_id;
            RETURN NULL;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE task_counts
            SET total = total - 1, completed = completed - OLD.completed::int,
                version = version + 1
            WHERE user_id = OLD.user_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO task_counts AS counts (user_id, total, completed, version)
            VALUES (NEW.user_id, 1, NEW.completed::int, 1)
            ON CONFLICT (user_id) DO UPDATE
            SET total = counts.total + 1, completed = counts.completed + excluded.completed,
                version = counts.version + 1;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER task_counts_track
    AFTER INSERT OR DELETE OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_counts_track()
    """,
]
# What a downgrade puts back: 0002's triggers, as 0002 made them.
_0002 = import_module("taskapi.migrations.versions.0002_task_counts")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    # Existing rows start at 1: their users have (had) tasks, and 0 means "no row yet".
    op.add_column(
        "task_counts",
        sa.Column("version", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.execute("UPDATE task_counts SET version = 1")
    for statement in [*SQLITE_DROP, *SQLITE_TRIGGERS] if _is_sqlite() else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if _is_sqlite():
        for statement in ["DROP TRIGGER task_counts_move", *SQLITE_DROP, *_0002.SQLITE_TRIGGERS]:
            op.execute(statement)
    else:
        for statement in [*_0002.POSTGRES_DROP, *_0002.POSTGRES_TRIGGERS]:
            op.execute(statement)
    op.drop_column("task_counts", "version")
