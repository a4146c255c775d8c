"""The migrations: up, down and up again on an empty database, and in step with the models."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from taskapi import migrate
from taskapi.database_url import parse_database_url
from taskapi.db import create_engine


def on_connection(url: str, work: Callable[[Connection], object]) -> object:
    async def run() -> object:
        engine = create_engine(parse_database_url(url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def tables(url: str) -> set[str]:
    names = on_connection(url, lambda c: inspect(c).get_table_names())
    assert isinstance(names, list)
    return set(names)


def test_up_down_up(empty_database: Callable[[], str]) -> None:
    url = empty_database()
    assert migrate.current_revision(url) is None

    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()
    assert "tasks" in tables(url)
    indexes = on_connection(url, lambda c: inspect(c).get_indexes("tasks"))
    assert any(index["column_names"][0] == "user_id" for index in indexes)  # type: ignore[attr-defined]

    migrate.downgrade(url, "base")
    assert migrate.current_revision(url) is None
    assert "tasks" not in tables(url)

    migrate.upgrade(url)
    assert "tasks" in tables(url)


def test_the_models_match_the_migrations(database_url: str) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    assert on_connection(database_url, differences) == []
