"""On SQLite one person's costly read never holds up another's request: it runs off the event
loop, and one that outlasts its time budget is stopped with a 503. (SQLite in both passes: it is
about taskapi.db.SQLiteDatabase; PostgreSQL's driver never blocks the loop.)

No timing thresholds: the tests hold a read inside SQLite deliberately (a `lower()` that waits),
and assert what finished first."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from taskapi import errors, migrate
from taskapi.casefold import sql_lower
from taskapi.db import PerPersonLimit, SQLiteDatabase, TooManyLongReads
from taskapi.main import create_app
from taskapi.models import SEARCH_MAX
from taskapi.tasks import ListQuery, columns
from tests.api.test_tasks import create
from tests.conftest import make_settings
from tests.keys import bearer

pytestmark = pytest.mark.anyio


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tasks.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture
async def sqlite_app(sqlite_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(sqlite_url, None))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def http(sqlite_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sqlite_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as client:
        yield client


def slow_lower_on_readers(app: FastAPI, slow: Callable[[Any], Any]) -> None:
    """Replace `lower()` on the reader connections (those opened from now on) with `slow`,
    which a search of one or two characters calls for every task of the person."""
    database: SQLiteDatabase = app.state.database
    assert isinstance(database, SQLiteDatabase)

    def register(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("lower", 1, slow, deterministic=True)

    event.listen(database.reader_engine, "connect", register)


async def test_another_persons_list_is_answered_while_a_long_search_runs(
    sqlite_app: FastAPI, http: httpx.AsyncClient
) -> None:
    await create(http, "Ägypten", sub="slow")
    await create(http, "mine", sub="other")
    entered, release = threading.Event(), threading.Event()

    def held_lower(value: Any) -> Any:
        entered.set()
        release.wait(30)
        return sql_lower(value)

    slow_lower_on_readers(sqlite_app, held_lower)
    search = asyncio.create_task(http.get("/api/slow/tasks?q=äg", headers=bearer("slow")))
    try:
        assert await asyncio.to_thread(entered.wait, 30)  # the search is inside SQLite now
        listed = await http.get("/api/other/tasks", headers=bearer("other"))
        tags = await http.get("/api/other/tags", headers=bearer("other"))  # the other reader
        assert not search.done()
    finally:
        release.set()
    assert [task["title"] for task in listed.json()] == ["mine"]
    assert tags.status_code == 200
    found = await search
    assert [task["title"] for task in found.json()] == ["Ägypten"]


async def test_a_read_past_its_budget_is_stopped_with_a_503(
    sqlite_app: FastAPI, http: httpx.AsyncClient
) -> None:
    for n in range(20):
        await create(http, f"Ägypten {n}", sub="slow")
    database: SQLiteDatabase = sqlite_app.state.database
    database.statement_budget = 0.05
    crawling = threading.Event()
    crawling.set()

    def crawling_lower(value: Any) -> Any:
        if crawling.is_set():
            time.sleep(0.1)  # 40 calls (title and description of 20 tasks): 4 s against 0.05
        return sql_lower(value)

    slow_lower_on_readers(sqlite_app, crawling_lower)
    stopped = await http.get("/api/slow/tasks?q=äg", headers=bearer("slow"))
    assert stopped.status_code == 503
    assert stopped.json()["detail"] == errors.STATEMENT_TIMEOUT
    assert stopped.headers["Retry-After"].isdigit()

    crawling.clear()
    database.statement_budget = 60  # the reader stopped before is as good as new
    again = await http.get("/api/slow/tasks?q=äg&limit=1", headers=bearer("slow"))
    assert (again.status_code, again.headers["X-Total-Count"]) == (200, "20")


async def test_a_search_of_the_longest_phrase_does_not_hold_up_another_persons_list(
    http: httpx.AsyncClient,
) -> None:
    # The reported case: long titles and descriptions, a phrase as long as allowed, matched
    # at every position of every task (over 100 ms of SQLite's time per statement).
    for _ in range(200):
        await create(http, "a" * 200, sub="heavy", description="a" * 1000)
    await create(http, "mine", sub="other")
    finished: list[str] = []

    async def get(path: str, sub: str) -> httpx.Response:
        response = await http.get(path, headers=bearer(sub))
        finished.append(sub)
        return response

    search = asyncio.create_task(get(f"/api/heavy/tasks?q={'a' * SEARCH_MAX}", "heavy"))
    await asyncio.sleep(0)  # the search starts first
    listed = await get("/api/other/tasks", "other")
    found = await search
    assert finished == ["other", "heavy"]
    assert [task["title"] for task in listed.json()] == ["mine"]
    assert found.headers["X-Total-Count"] == "200"


async def test_the_search_phrase_has_a_stated_limit(http: httpx.AsyncClient) -> None:
    too_long = await http.get(f"/api/a/tasks?q={'a' * (SEARCH_MAX + 1)}", headers=bearer("a"))
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"][:2] == ["query", "q"]
    spec = (await http.get("/openapi.json")).json()
    parameters = spec["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]
    (q,) = [parameter for parameter in parameters if parameter["name"] == "q"]
    assert q["schema"]["maxLength"] == SEARCH_MAX


async def test_sorting_by_title_reads_the_index_of_lower_cased_titles(sqlite_app: FastAPI) -> None:
    # Not every task of the person, lower-cased one by one: that is why it may stay on the loop.
    query = ListQuery(sort="title", order="desc", limit=50)
    assert query.reads_an_index
    page = (
        select(*columns)
        .where(*query.conditions("alice", "sqlite"))
        .order_by(*query.ordering())
        .limit(50)
    )
    async with sqlite_app.state.database.connect() as connection:
        sql = page.compile(dialect=sqlite_dialect(), compile_kwargs={"literal_binds": True})
        plan = await connection.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
        details = [row[-1] for row in plan]
    assert any("ix_tasks_user_id_folded_title" in detail for detail in details), details
    assert not any("TEMP B-TREE" in detail for detail in details), details


async def test_a_person_with_too_many_long_reads_running_gets_429_and_no_one_else_does(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # On either database: the readers (SQLite) and the pool (PostgreSQL) are everyone's.
    await create(client, "milk")
    limit: PerPersonLimit = app.state.database.long_reads
    with limit.slot("alice"), limit.slot("alice"), limit.slot("alice"), limit.slot("alice"):
        assert limit.limit == 4
        for path in ("/api/alice/tasks?q=milk", "/api/alice/tasks?tag=x", "/api/alice/tags"):
            refused = await client.get(path, headers=bearer())
            assert refused.status_code == 429, path
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["detail"] == errors.TOO_MANY_LONG_READS
        plain = await client.get("/api/alice/tasks", headers=bearer())  # an index read
        assert plain.status_code == 200
        others = await client.get("/api/bob/tasks?q=milk", headers=bearer("bob"))
        assert others.status_code == 200
    after = await client.get("/api/alice/tasks?q=milk", headers=bearer())
    assert [task["title"] for task in after.json()] == ["milk"]


def test_a_slot_is_given_back_however_the_read_ends() -> None:
    limit = PerPersonLimit(1)
    with pytest.raises(RuntimeError), limit.slot("alice"):
        raise RuntimeError("the read failed")
    with limit.slot("alice"), pytest.raises(TooManyLongReads), limit.slot("alice"):
        pass
    with limit.slot("alice"), limit.slot("bob"):
        pass
