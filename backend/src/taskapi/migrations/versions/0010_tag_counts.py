"""How many of each person's tasks carry each tag, kept by triggers.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

`task_tag_counts` holds (user_id, tag, count) for every tag a person's tasks carry (a row
leaves when its count reaches 0). A list filtered by several tags starts from the rarest of
them (taskapi.tasks), and one naming a tag nobody carries answers at once; the tags endpoint
reads it instead of grouping every tag entry of the person.

The triggers are on `tasks` (its `tags` column holds the same tags as `task_tags`, written
together by every write), not on `task_tags`: so the count rows are taken after the person's
`task_counts` row (its trigger, `task_counts_track`, fires first: PostgreSQL fires a table's
triggers in name order), the order every writer takes them in (a create holds the count row
from its first statement; an erasure marks it before deleting), and no two writers can wait for
each other's rows. On `task_tags` a bulk delete of tasks would have taken the tag rows first
(the foreign key's cascade fires before `task_counts_track`), then the count row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: `WHERE true` tells the parser that ON CONFLICT is the upsert's, not the join's.
_SQLITE_ADD = """
        INSERT INTO task_tag_counts (user_id, tag, count)
        SELECT NEW.user_id, value, 1 FROM json_each(NEW.tags) WHERE true
        ON CONFLICT (user_id, tag) DO UPDATE SET count = count + 1;
"""
_SQLITE_REMOVE = """
        UPDATE task_tag_counts SET count = count - 1
        WHERE user_id = OLD.user_id AND tag IN (SELECT value FROM json_each(OLD.tags));
        DELETE FROM task_tag_counts
        WHERE user_id = OLD.user_id AND count = 0
        AND tag IN (SELECT value FROM json_each(OLD.tags));
"""
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER task_tag_counts_insert AFTER INSERT ON tasks BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER task_tag_counts_delete AFTER DELETE ON tasks BEGIN {_SQLITE_REMOVE} END",
    "CREATE TRIGGER task_tag_counts_update AFTER UPDATE OF tags, user_id ON tasks"
    " WHEN OLD.tags IS NOT NEW.tags OR OLD.user_id IS NOT NEW.user_id"
    f" BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
]
SQLITE_DROP = [
    "DROP TRIGGER task_tag_counts_insert",
    "DROP TRIGGER task_tag_counts_delete",
    "DROP TRIGGER task_tag_counts_update",
]
POSTGRES_TRIGGERS = [
    """
    CREATE FUNCTION task_tag_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.user_id = NEW.user_id
            AND OLD.tags::text = NEW.tags::text THEN
            RETURN NULL;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE task_tag_counts SET count = count - 1
            WHERE user_id = OLD.user_id
            AND tag IN (SELECT json_array_elements_text(OLD.tags));
            DELETE FROM task_tag_counts
            WHERE user_id = OLD.user_id AND count = 0
            AND tag IN (SELECT json_array_elements_text(OLD.tags));
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO task_tag_counts AS counts (user_id, tag, count)
            SELECT NEW.user_id, tag, 1 FROM json_array_elements_text(NEW.tags) AS tag
            ON CONFLICT (user_id, tag) DO UPDATE SET count = counts.count + 1;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER task_tag_counts_track
    AFTER INSERT OR DELETE OR UPDATE OF tags, user_id ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_tag_counts_track()
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER task_tag_counts_track ON tasks",
    "DROP FUNCTION task_tag_counts_track()",
]


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "task_tag_counts",
        sa.Column("user_id", sa.String(), primary_key=True),
        sa.Column("tag", sa.String(), primary_key=True),
        sa.Column("count", sa.BigInteger(), nullable=False),
    )
    op.execute(
        "INSERT INTO task_tag_counts (user_id, tag, count) "
        "SELECT user_id, tag, count(*) FROM task_tags GROUP BY user_id, tag"
    )
    for statement in SQLITE_TRIGGERS if _is_sqlite() else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DROP if _is_sqlite() else POSTGRES_DROP:
        op.execute(statement)
    op.drop_table("task_tag_counts")
