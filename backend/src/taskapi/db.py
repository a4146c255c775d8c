"""The async engine and its sessions: no request ever blocks the event loop on the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from taskapi.database_url import DatabaseURL

SQLITE_BUSY_TIMEOUT_MS = 5000


def create_engine(database: DatabaseURL) -> AsyncEngine:
    if database.is_sqlite:
        engine = create_async_engine(database.url, connect_args=database.connect_args)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        return engine
    return create_async_engine(
        database.url,
        connect_args=database.connect_args,
        pool_size=10,
        max_overflow=10,
        # A connection the server dropped (or Neon closed when idle) is replaced, not used.
        pool_pre_ping=True,
    )


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; busy_timeout waits for a lock instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: a committed task can still be serialised without another query.
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
