"""Queries on tasks. Every one takes the owner and filters on it: no query can reach another's.

Each is a single SQL statement on an autocommit connection, so each is atomic on its own (two
toggles racing each other both take effect; an update never writes back a stale copy) and costs
one round trip: no ORM objects, no BEGIN/COMMIT pair around a lone statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from taskapi.models import MAX_TASK_ID, Task, TaskCreate, utc_now

TaskRow = RowMapping  # a task as the database returns it, read-only

tasks_table = Task.__table__  # type: ignore[attr-defined]
columns = tasks_table.c


class StatusFilter(StrEnum):
    all = "all"
    pending = "pending"
    completed = "completed"


def _owned(owner: str, status: StatusFilter = StatusFilter.all) -> list[Any]:
    conditions: list[Any] = [columns.user_id == owner]
    if status is not StatusFilter.all:
        conditions.append(columns.completed.is_(status is StatusFilter.completed))
    return conditions


async def list_page(
    connection: AsyncConnection, owner: str, status: StatusFilter, limit: int, offset: int
) -> tuple[Sequence[TaskRow], int]:
    """One page, newest first (id breaks ties between tasks made in the same instant), and the
    total count under the same filter. (A window count in the page query would save a round
    trip but makes SQLite count every row before the first one is returned: measured 60x
    slower for a user with 100,000 tasks.)"""
    conditions = _owned(owner, status)
    page = await connection.execute(
        select(*columns)
        .where(*conditions)
        .order_by(columns.created_at.desc(), columns.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = await connection.scalar(select(func.count()).where(*conditions))
    return page.mappings().all(), int(total or 0)


async def get(connection: AsyncConnection, owner: str, task_id: int) -> TaskRow | None:
    if not 1 <= task_id <= MAX_TASK_ID:
        return None  # no such id can exist, and the driver would refuse to bind it
    result = await connection.execute(select(*columns).where(columns.id == task_id, *_owned(owner)))
    return result.mappings().one_or_none()


async def create(connection: AsyncConnection, owner: str, body: TaskCreate) -> TaskRow:
    now = utc_now()
    result = await connection.execute(
        insert(tasks_table)
        .values(**body.model_dump(), user_id=owner, created_at=now, updated_at=now)
        .returning(*columns)
    )
    return result.mappings().one()


async def change(
    connection: AsyncConnection, owner: str, task_id: int, fields: dict[str, Any]
) -> TaskRow | None:
    """Apply the given editable fields; `updated_at` moves only when something was sent.
    None when the task is gone (deleted since it was looked up)."""
    if not fields:
        return await get(connection, owner, task_id)
    return await _update(connection, owner, task_id, {**fields, "updated_at": utc_now()})


async def set_completed(
    connection: AsyncConnection, owner: str, task_id: int, completed: bool | None
) -> TaskRow | None:
    """Set `completed`, or toggle it when None, in the database itself."""
    value: Any = ~columns.completed if completed is None else completed
    return await _update(connection, owner, task_id, {"completed": value, "updated_at": utc_now()})


async def _update(
    connection: AsyncConnection, owner: str, task_id: int, values: dict[str, Any]
) -> TaskRow | None:
    result = await connection.execute(
        update(tasks_table)
        .where(columns.id == task_id, *_owned(owner))
        .values(**values)
        .returning(*columns)
    )
    return result.mappings().one_or_none()


async def remove(connection: AsyncConnection, owner: str, task_id: int) -> bool:
    result = await connection.execute(
        delete(tasks_table).where(columns.id == task_id, *_owned(owner)).returning(columns.id)
    )
    return result.first() is not None
