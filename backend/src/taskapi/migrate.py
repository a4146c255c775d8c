"""Schema migrations, applied by `taskapi migrate` (never by the app at start-up)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from taskapi.database_url import DatabaseURL, parse_database_url
from taskapi.db import create_engine

T = TypeVar("T")

# A URL as written (its pooler decided from the URL alone), or as Settings.database parsed it
# (DATABASE_POOLER included). Behind a transaction-mode pooler the migrations run through it
# like any other statement: each in Alembic's one transaction, so on one server connection.
Database = DatabaseURL | str


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", "taskapi:migrations")
    config.attributes["database"] = database
    return config


def parsed(database: Database) -> DatabaseURL:
    return database if isinstance(database, DatabaseURL) else parse_database_url(database)


# Search indexes exist in one database's own form only (an FTS5 table on SQLite, GIN trigram
# indexes on PostgreSQL), as does SQLite's index of lower-cased titles (on a function of its
# own); they are made by migrations 0005 and 0006 and not described by the models.
SEARCH_INDEX_PREFIXES = ("task_search", "ix_tasks_search", "ix_tasks_user_id_folded_title")


def modelled(name: str | None, _type: str, _parent: object) -> bool:
    """For Alembic's comparisons: everything but the search indexes."""
    return not (name or "").startswith(SEARCH_INDEX_PREFIXES)


def upgrade(database: Database, revision: str = "head") -> None:
    command.upgrade(alembic_config(database), revision)


def downgrade(database: Database, revision: str) -> None:
    command.downgrade(alembic_config(database), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current_revision(database: Database) -> str | None:
    return on_connection(
        database,
        lambda connection: MigrationContext.configure(connection).get_current_revision(),
    )


def on_connection(database: Database, work: Callable[[Connection], T]) -> T:
    """Run synchronous `work` (inspection, Alembic) on a short-lived connection to the database,
    in one transaction (so on one server connection behind a transaction-mode pooler)."""

    async def run() -> T:
        engine = create_engine(parsed(database))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())
