"""The JSON the database builds (taskapi.task_json) says what pydantic writes for the same rows
(`TaskJSON`, itself kept in step with the documented `TaskPublic`), value for value: on the
database under test, for tasks with every field set and unset, text in many scripts and with
characters JSON must escape, times with and without a fraction, the first and the last year."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy import insert, update

from taskapi import task_json, tasks
from taskapi.models import TaskCreate, TaskJSON
from taskapi.tasks import ListQuery, StatusFilter, tasks_table

pytestmark = pytest.mark.anyio

OWNER = "json-owner"
WRITE = TypeAdapter(TaskJSON)

ROWS: list[dict[str, Any]] = [
    {  # every field set, a fraction of a second everywhere
        "title": "Pay rent",
        "description": "Before the 5th",
        "completed": True,
        "priority": "high",
        "tags": ["home", "bills"],
        "due_at": datetime(2026, 12, 1, 17, 0, 0, 1, tzinfo=UTC),
        "created_at": datetime(2026, 11, 28, 9, 30, 1, 250, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 28, 10, 0, 0, 999999, tzinfo=UTC),
        "version": 3,
    },
    {  # every optional field unset, whole seconds
        "title": "x",
        "description": None,
        "completed": False,
        "priority": "low",
        "tags": [],
        "due_at": None,
        "created_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "version": 1,
    },
    {  # text JSON must escape, and text outside ASCII
        "title": 'Quote " back\\slash \u0001 tab\t line\u2028 end',
        "description": "Ελληνικά, 日本語, עברית, emoji 🎉, e\u0301",
        "completed": False,
        "priority": "medium",
        "tags": ["ünïcode", "日本", 'q"uote'],
        "due_at": datetime(1, 1, 1, tzinfo=UTC),
        "created_at": datetime(2026, 6, 30, 23, 59, 59, 100000, tzinfo=UTC),
        "updated_at": datetime(2026, 6, 30, 23, 59, 59, 100000, tzinfo=UTC),
        "version": 2_147_483_646,  # one change from the last a version may be
    },
    {  # the last moment a due date may have, an empty description
        "title": "Far away",
        "description": "",
        "completed": True,
        "priority": "low",
        "tags": ["t"],
        "due_at": datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        "created_at": datetime(2026, 6, 30, 0, 0, 0, 10, tzinfo=UTC),
        "updated_at": datetime(2026, 7, 1, tzinfo=UTC),
        "version": 5,
    },
]


def written_by_pydantic(row: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(WRITE.dump_json(dict(row)))  # type: ignore[arg-type]
    return loaded


async def stored(app: FastAPI) -> list[int]:
    """ROWS for OWNER, straight into the table; their ids in ROWS' order."""
    async with app.state.database.connect() as connection:
        result = await connection.execute(
            insert(tasks_table)
            .values([{**row, "user_id": OWNER} for row in ROWS])
            .returning(tasks_table.c.id)
        )
        return [row[0] for row in result.all()]


async def test_one_task_is_what_pydantic_writes(app: FastAPI) -> None:
    ids = await stored(app)
    async with app.state.database.connect() as connection:
        for task_id in ids:
            row = await tasks.get(connection, OWNER, task_id)
            built = await task_json.one(connection, OWNER, task_id)
            assert row is not None
            assert built is not None
            version, body = built
            assert json.loads(body) == written_by_pydantic(row)
            assert list(json.loads(body)) == list(TaskJSON.__annotations__)  # same key order
            assert version == row["version"]


@pytest.mark.parametrize("sort", ["created", "updated", "due", "priority", "title"])
@pytest.mark.parametrize("order", [None, "asc", "desc"])
@pytest.mark.parametrize("status", list(StatusFilter))
async def test_a_page_is_what_pydantic_writes_in_the_same_order(
    app: FastAPI, sort: tasks.SortKey, order: tasks.Order | None, status: StatusFilter
) -> None:
    await stored(app)
    query = ListQuery(status=status, sort=sort, order=order, limit=3, offset=1)
    async with app.state.database.connect() as connection:
        rows, total = await tasks.list_page(connection, OWNER, query)
        body, built_total = await task_json.page(connection, OWNER, query)
    assert json.loads(body) == [written_by_pydantic(row) for row in rows]
    assert built_total == total


async def test_an_empty_page_and_a_stranger_s_list(app: FastAPI) -> None:
    await stored(app)
    async with app.state.database.connect() as connection:
        assert await task_json.page(connection, OWNER, ListQuery(offset=10)) == (b"[]", 4)
        assert await task_json.page(connection, "nobody", ListQuery()) == (b"[]", 0)
        assert await task_json.one(connection, "nobody", 1) is None
        assert await task_json.one(connection, OWNER, 0) is None


async def test_a_filtered_list_is_not_built_here(app: FastAPI) -> None:
    async with app.state.database.connect() as connection:
        with pytest.raises(ValueError, match="list_page"):
            await task_json.page(connection, OWNER, ListQuery(tags=("home",)))


@pytest.mark.parametrize("completed", [None, True, False])
async def test_a_completion_answers_the_task_as_stored(
    app: FastAPI, completed: bool | None
) -> None:
    ids = await stored(app)
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(microseconds=7)
    async with app.state.database.connect() as connection:
        for task_id, before in zip(ids, ROWS, strict=True):
            built = await task_json.set_completed(connection, OWNER, task_id, completed, now)
            row = await tasks.get(connection, OWNER, task_id)
            assert built is not None
            assert row is not None
            assert json.loads(built[1]) == written_by_pydantic(row)
            assert row["completed"] is (not before["completed"] if completed is None else completed)
            assert row["updated_at"] == now
            assert built[0] == row["version"] == before["version"] + 1


async def test_a_completion_at_another_version_changes_nothing(app: FastAPI) -> None:
    [task_id, *_] = await stored(app)  # at version 3
    now = datetime.now(UTC)
    async with app.state.database.connect() as connection:
        for expected in (frozenset(), frozenset({1, 2}), frozenset({4})):
            assert (
                await task_json.set_completed(connection, OWNER, task_id, None, now, expected)
                is None
            )
        assert await task_json.set_completed(connection, "nobody", task_id, None, now) is None
        row = await tasks.get(connection, OWNER, task_id)
        assert row is not None
        assert row["version"] == 3
        built = await task_json.set_completed(
            connection, OWNER, task_id, False, now, frozenset({2, 3})
        )
        assert built is not None
        assert built[0] == 4
        assert json.loads(built[1])["completed"] is False


async def test_a_created_task_is_stored_and_answered_as_tasks_create_would(app: FastAPI) -> None:
    now = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    sent = [
        TaskCreate.model_validate({k: v for k, v in row.items() if k in TaskCreate.model_fields})
        for row in ROWS
    ]
    async with app.state.database.raw_transaction() as connection:
        made = [await task_json.create(connection, OWNER, body, 10, now) for body in sent]
    async with app.state.database.connect() as connection:
        rows, total = await tasks.list_page(connection, OWNER, ListQuery(sort="title"))
        by_id = {row["id"]: row for row in rows}
        assert total == len(sent)
        for body, (version, built) in zip(sent, made, strict=True):
            answered = json.loads(built)
            row = by_id[answered["id"]]
            assert answered == written_by_pydantic(row)
            assert version == row["version"] == 1
            assert row["created_at"] == row["updated_at"] == now
            assert {k: row[k] for k in body.model_dump()} == body.model_dump()
            if body.tags:  # it carries them where a filter by tag looks
                query = ListQuery(tags=tuple(body.tags))
                assert await tasks.list_page(connection, OWNER, query) == ([row], 1)


async def test_a_create_is_refused_at_the_quota_and_once_erased(app: FastAPI) -> None:
    body = TaskCreate(title="one")
    now = datetime.now(UTC)
    async with app.state.database.raw_transaction() as connection:
        await task_json.create(connection, OWNER, body, 1, now)
    with pytest.raises(tasks.QuotaReached):
        async with app.state.database.raw_transaction() as connection:
            await task_json.create(connection, OWNER, body, 1, now)
    async with app.state.database.connect() as connection:
        await connection.execute(
            update(tasks.counts_table)
            .where(tasks.counts_table.c.user_id == OWNER)
            .values(erased_until=now + timedelta(hours=1))
        )
    with pytest.raises(tasks.AccountErased):
        async with app.state.database.raw_transaction() as connection:
            await task_json.create(connection, OWNER, body, 10, now)
    async with app.state.database.connect() as connection:
        assert (await tasks.list_page(connection, OWNER, ListQuery()))[1] == 1


@pytest.mark.parametrize("owner", [OWNER, "nobody"])
async def test_the_list_state_read_by_the_driver_is_the_toolkit_s(app: FastAPI, owner: str) -> None:
    """`task_json.list_state` (the plain list's, one statement run by the driver) reads the
    version and counts `tasks.list_state` reads, for a person with tasks and for a stranger."""
    await stored(app)
    async with app.state.database.connect() as connection:
        assert await task_json.list_state(connection, owner) == await tasks.list_state(
            connection, owner, ListQuery()
        )


@pytest.mark.parametrize("status", list(StatusFilter))
async def test_a_page_comes_with_the_state_it_is_the_page_of(
    app: FastAPI, status: StatusFilter
) -> None:
    """`page_and_state` (on PostgreSQL one statement for both) answers the page `page` answers
    and the state `tasks.list_state` reads, before and after a write moves the version."""
    ids = await stored(app)
    query = ListQuery(status=status, limit=3)
    async with app.state.database.connect() as connection:
        for _ in range(2):
            body, state = await task_json.page_and_state(connection, OWNER, query)
            assert state == await tasks.list_state(connection, OWNER, query)
            assert (body, task_json.total_of(status, state)) == await task_json.page(
                connection, OWNER, query
            )
            await connection.execute(
                update(tasks_table).where(tasks_table.c.id == ids[0]).values(title="Moved")
            )
        assert state.version > 0
