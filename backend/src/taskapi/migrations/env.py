"""Alembic environment: runs the migrations on the async engine `taskapi migrate` hands over."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from taskapi import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from taskapi.db import create_engine
from taskapi.migrate import parsed

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    # Behind a transaction-mode pooler the engine prepares nothing that outlives a statement
    # (taskapi.db); the migrations run in one transaction, so on one server connection.
    engine = create_engine(parsed(context.config.attributes["database"]))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `taskapi migrate`")
asyncio.run(_run_online())
