"""An index for searching titles and descriptions by substring.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

A search (`q`) is a case-insensitive substring match, which no B-tree index serves: without this,
each search read every task of the user (50 ms for 100,000 on SQLite). Both databases have a
trigram index for it:

- SQLite: an FTS5 table with the trigram tokenizer over `tasks` (external content), kept in step
  by triggers in the same transaction as each write;
- PostgreSQL: GIN trigram indexes (pg_trgm) on title and description, which serve
  `ILIKE '%…%'` (what the query uses there) directly. Where the extension cannot be created
  (no privilege), the migration goes on without them: searches still work, reading the rows.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE = [
    """
    CREATE VIRTUAL TABLE task_search USING fts5(
        title, description, content='tasks', content_rowid='id',
        tokenize='trigram case_sensitive 0'
    )
    """,
    "INSERT INTO task_search(task_search) VALUES ('rebuild')",
    """
    CREATE TRIGGER task_search_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO task_search(rowid, title, description)
        VALUES (NEW.id, NEW.title, NEW.description);
    END
    """,
    """
    CREATE TRIGGER task_search_delete AFTER DELETE ON tasks BEGIN
        INSERT INTO task_search(task_search, rowid, title, description)
        VALUES ('delete', OLD.id, OLD.title, OLD.description);
    END
    """,
    """
    CREATE TRIGGER task_search_update AFTER UPDATE OF title, description ON tasks BEGIN
        INSERT INTO task_search(task_search, rowid, title, description)
        VALUES ('delete', OLD.id, OLD.title, OLD.description);
        INSERT INTO task_search(rowid, title, description)
        VALUES (NEW.id, NEW.title, NEW.description);
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER task_search_update",
    "DROP TRIGGER task_search_delete",
    "DROP TRIGGER task_search_insert",
    "DROP TABLE task_search",
]

POSTGRES = [
    """
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
    RAISE NOTICE 'pg_trgm is not available: searches will read the rows instead';
END
$$
""",
    """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX ix_tasks_search_title ON tasks USING gin (title gin_trgm_ops);
        CREATE INDEX ix_tasks_search_description ON tasks USING gin (description gin_trgm_ops);
    END IF;
END
$$
""",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS ix_tasks_search_description",
    "DROP INDEX IF EXISTS ix_tasks_search_title",
]


def upgrade() -> None:
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DROP if op.get_bind().dialect.name == "sqlite" else POSTGRES_DROP:
        op.execute(statement)
