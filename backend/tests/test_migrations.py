"""The migrations: up, down and up again on an empty database, and in step with the models."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from taskapi import migrate


def tables(url: str) -> set[str]:
    return set(migrate.on_connection(url, lambda c: inspect(c).get_table_names()))


def test_up_down_up(empty_database: Callable[[], str]) -> None:
    url = empty_database()
    assert migrate.current_revision(url) is None

    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()
    assert "tasks" in tables(url)
    indexes = migrate.on_connection(url, lambda c: inspect(c).get_indexes("tasks"))
    assert any(index["column_names"][0] == "user_id" for index in indexes)

    migrate.downgrade(url, "base")
    assert migrate.current_revision(url) is None
    assert "tasks" not in tables(url)

    migrate.upgrade(url)
    assert "tasks" in tables(url)


def test_the_models_match_the_migrations(database_url: str) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    assert migrate.on_connection(database_url, differences) == []
