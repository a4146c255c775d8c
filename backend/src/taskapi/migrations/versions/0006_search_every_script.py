"""SQLite's search index ignores case in every script, exactly as PostgreSQL's ILIKE does.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

The trigram index of 0005 folded case itself (`case_sensitive 0`), with tables of its own that
differ from PostgreSQL's `lower()`: they leave Georgian capitals (Mtavruli) and Cherokee
unfolded, and fold final sigma to sigma, which PostgreSQL keeps apart. Now the index holds the
text lower-cased by `unicode_lower()` (taskapi.casefold: PostgreSQL's `lower()`, registered on
every connection the app and `taskapi migrate` open) and matches it case-sensitively; the search
lower-cases its phrase the same way. The index stores no copy of the text (contentless: the
triggers give it the lower-cased values to add and to remove). A connection without the function
(the sqlite3 shell) cannot write to `tasks`: better than an index that disagrees with the rows.

Sorting by title on SQLite reads an index of the lower-cased titles in order, as the other sorts
read theirs: computing the key with a Python function for every task took 0.3 s for 100,000.

PostgreSQL is unchanged: its trigram indexes (0005) serve ILIKE as it is.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROP = [
    "DROP TRIGGER task_search_update",
    "DROP TRIGGER task_search_delete",
    "DROP TRIGGER task_search_insert",
    "DROP TABLE task_search",
]

FOLDED = [
    """
    CREATE VIRTUAL TABLE task_search USING fts5(
        title, description, content='', tokenize='trigram case_sensitive 1'
    )
    """,
    """
    INSERT INTO task_search(rowid, title, description)
    SELECT id, unicode_lower(title), unicode_lower(description) FROM tasks
    """,
    """
    CREATE TRIGGER task_search_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO task_search(rowid, title, description)
        VALUES (NEW.id, unicode_lower(NEW.title), unicode_lower(NEW.description));
    END
    """,
    """
    CREATE TRIGGER task_search_delete AFTER DELETE ON tasks BEGIN
        INSERT INTO task_search(task_search, rowid, title, description)
        VALUES ('delete', OLD.id, unicode_lower(OLD.title), unicode_lower(OLD.description));
    END
    """,
    """
    CREATE TRIGGER task_search_update AFTER UPDATE OF title, description ON tasks BEGIN
        INSERT INTO task_search(task_search, rowid, title, description)
        VALUES ('delete', OLD.id, unicode_lower(OLD.title), unicode_lower(OLD.description));
        INSERT INTO task_search(rowid, title, description)
        VALUES (NEW.id, unicode_lower(NEW.title), unicode_lower(NEW.description));
    END
    """,
]

TITLE_ORDER = (
    "CREATE INDEX ix_tasks_user_id_folded_title ON tasks (user_id, unicode_lower(title), id)"
)

# 0005's form, for a downgrade.
EXTERNAL_CONTENT = [
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


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _is_sqlite():
        for statement in [*DROP, *FOLDED, TITLE_ORDER]:
            op.execute(statement)


def downgrade() -> None:
    if _is_sqlite():
        for statement in ["DROP INDEX ix_tasks_user_id_folded_title", *DROP, *EXTERNAL_CONTENT]:
            op.execute(statement)
