"""PostgreSQL's driver pool (taskapi.db.PooledConnection): the hot requests' raw statements on
asyncpg's own pool give the answers the engine's connections gave, its errors are answered as
theirs were, and it keeps prepared statements only on a direct connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError

from taskapi import db, errors, task_json
from taskapi.database_url import Pooler, parse_database_url
from taskapi.main import database_unavailable
from taskapi.models import TaskCreate
from taskapi.tasks import ListQuery, StatusFilter, list_state
from tests.keys import hs256

pytestmark = [pytest.mark.anyio, pytest.mark.postgresql]


async def test_the_driver_pool_answers_the_bytes_the_engines_connections_did(
    database_url: str,
) -> None:
    database = db.PostgresDatabase(parse_database_url(database_url))
    now = datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)
    try:
        async with database.connect() as connection:
            for n in range(3):
                body = TaskCreate(title=f"task {n}", tags=["a", "é"][: n + 1], due_at=now)
                await task_json.create(connection, "ann", body, 100, now)
        answers = []
        for opened in (database.connect, database.autocommit.connect):
            async with opened() as connection:
                assert isinstance(connection, db.PooledConnection) is (opened == database.connect)
                state = await list_state(connection, "ann", ListQuery())
                pages = [
                    await task_json.page(connection, "ann", ListQuery(status=status, limit=2))
                    for status in StatusFilter
                ]
                one = await task_json.one(connection, "ann", 1)
                answers.append((state, pages, one))
        assert answers[0] == answers[1]
        assert answers[0][0].total == 3
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("sqlstate", "detail", "retry_after"),
    [
        ("40P01", errors.WRITE_ROLLED_BACK, "1"),  # deadlock_detected
        ("40001", errors.WRITE_ROLLED_BACK, "1"),  # serialization_failure
        ("57014", errors.DATABASE_UNAVAILABLE, "2"),  # query_canceled: statement timeout
    ],
)
async def test_the_driver_pools_errors_are_answered_as_the_engines(
    database_url: str, sqlstate: str, detail: str, retry_after: str
) -> None:
    """SQLSTATE class 40 (the transaction was undone to break a cycle) is a 503 'try again';
    57014 a 503 'unavailable': raised by a raw statement and by a raw transaction's."""
    database = db.PostgresDatabase(parse_database_url(database_url))
    failing = f"DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '{sqlstate}'; END $$"
    try:
        for opened in (database.connect, database.raw_transaction):
            with pytest.raises(DBAPIError) as raised:
                async with opened() as connection:
                    await db.raw_rows(connection, failing)
            assert db.rolled_back(raised.value) is sqlstate.startswith("40")
            response = await database_unavailable(None, raised.value)  # type: ignore[arg-type]
            assert response.status_code == 503
            assert response.headers["Retry-After"] == retry_after
            assert detail.encode() in response.body
        async with database.connect() as connection:  # the connection went back usable
            assert await db.raw_rows(connection, "SELECT 1") == [(1,)]
    finally:
        await database.dispose()


async def test_a_raw_transaction_is_undone_whole_and_refuses_the_engines_statements(
    database_url: str,
) -> None:
    database = db.PostgresDatabase(parse_database_url(database_url))
    owner = "undone"
    now = datetime.now(UTC)
    try:

        async def fail_after_a_write() -> None:
            async with database.raw_transaction() as connection:
                await task_json.create(connection, owner, TaskCreate(title="x"), 10, now)
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            await fail_after_a_write()
        with pytest.raises(TypeError):
            async with database.raw_transaction() as connection:
                await connection.scalar(text("SELECT 1"))  # would run outside it
        async with database.connect() as connection:
            counted = "SELECT count(*) FROM tasks WHERE user_id = $1"
            assert await db.raw_rows(connection, counted, owner) == [(0,)]
    finally:
        await database.dispose()


@pytest.mark.parametrize(("pooler", "kept"), [("none", True), ("transaction", False)])
async def test_only_direct_driver_connections_keep_prepared_statements(
    database_url: str, pooler: Pooler, kept: bool
) -> None:
    database = db.PostgresDatabase(parse_database_url(database_url, pooler))
    try:
        async with database.connect() as connection:
            for _ in range(2):
                await db.raw_rows(connection, "SELECT count(*) FROM tasks WHERE user_id = $1", "u")
            [(prepared,)] = await db.raw_rows(
                connection, "SELECT count(*) FROM pg_prepared_statements"
            )
    finally:
        await database.dispose()
    assert (prepared > 0) is kept


async def test_a_request_takes_no_connection_before_its_first_statement_and_shutdown_closes_all(
    database_url: str,
) -> None:
    """Each half of a request's connection is taken at its first statement (a request whose
    first statement is the engine's runs its raw ones there too: one connection), and
    `dispose` closes the driver pool; the next request opens it again."""
    database = db.PostgresDatabase(parse_database_url(database_url))
    try:
        async with database.connect() as connection:
            assert isinstance(connection, db.PooledConnection)
            assert database.driver_connections() == 0
            await connection.scalar(text("SELECT 1"))
            await db.raw_rows(connection, "SELECT 1")
            assert database.driver_connections() == 0
        async with database.connect() as connection:
            await db.raw_rows(connection, "SELECT 1")
            assert database.driver_connections() == 1
        await database.dispose()
        assert database.driver_connections() == 0
        async with database.connect() as connection:
            assert await db.raw_rows(connection, "SELECT 2") == [(2,)]
    finally:
        await database.dispose()


class _Driver:
    """Stands for a driver connection: records being terminated."""

    def __init__(self) -> None:
        self.terminated = False

    def is_closed(self) -> bool:
        return self.terminated

    def terminate(self) -> None:
        self.terminated = True


@pytest.mark.parametrize(
    "failure",
    [
        asyncpg.InternalClientError(
            "cannot switch to state 11; another operation (2) is in progress"
        ),
        asyncpg.InterfaceError("connection is closed"),
        ConnectionResetError("reset by peer"),
        TimeoutError(),
    ],
)
async def test_a_failure_of_the_driver_connection_is_a_503_and_terminates_it(
    failure: Exception,
) -> None:
    """Whatever the driver raises when the connection itself failed (InternalClientError
    derives from Exception alone) is answered as a lost connection, and the connection is
    terminated, so that its pool never hands it out again."""
    driver = _Driver()
    with pytest.raises(OperationalError) as raised, db._driver_errors("SELECT 1", (), driver):
        raise failure
    assert driver.terminated
    response = await database_unavailable(None, raised.value)  # type: ignore[arg-type]
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"


@pytest.mark.parametrize(
    "failure",
    [
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.InternalClientError("cannot switch to state 12"),
        ConnectionResetError("reset by peer"),
    ],
)
async def test_the_drivers_own_failure_escaping_the_engine_is_a_503(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    """A connection terminated while SQLAlchemy sets it up (its on-connect codecs) raises
    asyncpg's own error, not wrapped in SQLAlchemy's (seen in CI under pg_terminate_backend):
    a 503 like any lost connection, not a 500."""

    async def broken(_self: db.PooledConnection) -> None:
        raise failure

    monkeypatch.setattr(db.PooledConnection, "_engine_connection", broken)
    response = await client.get(
        "/api/cut/tasks?tag=work", headers={"Authorization": f"Bearer {hs256('cut')}"}
    )
    assert response.status_code == 503, response.text
    assert response.json()["detail"] == errors.DATABASE_UNAVAILABLE
    assert response.headers["Retry-After"] == "2"


async def test_a_connection_found_mid_operation_is_terminated_and_replaced(
    database_url: str,
) -> None:
    """A raw statement on a driver connection another operation is still using fails as a lost
    connection (503) and the connection is closed; the pool's next one answers."""
    database = db.PostgresDatabase(parse_database_url(database_url))
    try:
        async with database.connect() as connection:
            assert isinstance(connection, db.PooledConnection)
            driver = await connection.driver()
            pid = driver.get_server_pid()
            sleeping = asyncio.ensure_future(driver.fetch("SELECT pg_sleep(2)"))
            await asyncio.sleep(0.1)
            with pytest.raises(OperationalError):
                await db.raw_rows(connection, "SELECT 1")
            with contextlib.suppress(Exception):
                await sleeping
        async with database.connect() as connection:
            [(other,)] = await db.raw_rows(connection, "SELECT pg_backend_pid()")
            assert other != pid
            assert database.driver_connections() == 1
    finally:
        await database.dispose()


async def test_terminated_backends_during_traffic_give_503s_never_500s_and_the_pools_recover(
    app: FastAPI, client: httpx.AsyncClient, database_url: str
) -> None:
    """F2: an administrator terminating the API's connections (`pg_terminate_backend`) while
    creates, plain lists and tag lists run: each request is answered (the ASGI transport
    raises an unhandled error: a 500), 503 at worst (429 for a tag list beyond the person's
    share of long reads), and afterwards both pools serve again."""
    headers = {"Authorization": f"Bearer {hs256('cut')}"}
    url = make_url(database_url)
    admin = await asyncpg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    statuses: Counter[int] = Counter()
    stop = asyncio.Event()

    async def work(n: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            if i % 3 == 0:
                answer = await client.post(
                    "/api/cut/tasks", json={"title": f"t{n}.{i}", "tags": ["work"]}, headers=headers
                )
            elif i % 3 == 1:
                answer = await client.get("/api/cut/tasks?limit=20", headers=headers)
            else:
                answer = await client.get("/api/cut/tasks?tag=work&limit=20", headers=headers)
            statuses[answer.status_code] += 1
            if answer.status_code == 503:
                assert answer.headers["Retry-After"]

    try:
        workers = [asyncio.create_task(work(n)) for n in range(6)]
        for _ in range(4):
            await asyncio.sleep(0.3)
            await admin.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = $1 AND pid <> pg_backend_pid()",
                url.database,
            )
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*workers)
    finally:
        await admin.close()
    # 429: more of one person's tag lists at once than `long_read` lets run (6 workers, 4 slots).
    assert set(statuses) <= {200, 201, 429, 503}, statuses
    assert statuses[503]  # the terminations were met
    assert statuses[200]
    assert statuses[201]
    # A connection the server closed while idle in a pool may fail once more (503); a request
    # after that is served.
    for path in ("/api/cut/tasks?limit=20", "/api/cut/tasks?tag=work&limit=20"):
        answers = [(await client.get(path, headers=headers)).status_code for _ in range(3)]
        assert answers[-1] == 200, answers
