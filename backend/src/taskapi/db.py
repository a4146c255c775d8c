"""The async engine and its sessions: no request ever blocks the event loop on the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

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
        # No pre-ping: it would cost a round trip on every request. A connection the server
        # dropped fails its statement instead, is thrown away by the pool, and the request gets
        # a 503 (see taskapi.main); a connection idle for 5 minutes is replaced (Neon closes
        # idle ones).
        pool_recycle=300,
    )


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; busy_timeout waits for a lock instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
