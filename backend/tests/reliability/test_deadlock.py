"""A transaction PostgreSQL undoes to break a deadlock (SQLSTATE 40P01) is answered 503 "try
again", never 500 (taskapi.db.rolled_back, taskapi.main.database_unavailable). The deadlock is a
real one, between two transactions on the test's own database."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from taskapi import errors, main
from taskapi.db import PostgresDatabase, rolled_back

pytestmark = pytest.mark.anyio


async def deadlock(database: PostgresDatabase) -> DBAPIError:
    """Two transactions each lock one row, then ask for the other's: PostgreSQL undoes one."""
    locked = [asyncio.Event(), asyncio.Event()]

    async def cross(first: str, second: str, mine: asyncio.Event, theirs: asyncio.Event) -> None:
        async with database.transaction() as connection:
            await connection.execute(text(f"LOCK TABLE {first} IN ACCESS EXCLUSIVE MODE"))
            mine.set()
            await theirs.wait()
            await connection.execute(text(f"LOCK TABLE {second} IN ACCESS EXCLUSIVE MODE"))

    results = await asyncio.gather(
        cross("revocations", "received_security_events", locked[0], locked[1]),
        cross("received_security_events", "revocations", locked[1], locked[0]),
        return_exceptions=True,
    )
    failures = [result for result in results if isinstance(result, BaseException)]
    assert len(failures) == 1, results
    (failure,) = failures
    assert isinstance(failure, DBAPIError), repr(failure)
    return failure


@pytest.mark.postgresql  # SQLite has one writer at a time, and no deadlock to break
async def test_a_transaction_undone_to_break_a_deadlock_is_a_503_try_again(app: FastAPI) -> None:
    error = await deadlock(app.state.database)
    assert rolled_back(error)
    assert not main.is_unavailability(error)  # not "the database is down"
    answer = await main.database_unavailable(None, error)  # type: ignore[arg-type]
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert json.loads(bytes(answer.body)) == {"detail": errors.WRITE_ROLLED_BACK}
