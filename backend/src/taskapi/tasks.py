"""Queries on tasks. Every one takes the owner and filters on it: no query can reach another's."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from taskapi.models import MAX_TASK_ID, Task, TaskCreate, utc_now


class StatusFilter(StrEnum):
    all = "all"
    pending = "pending"
    completed = "completed"


def _owned(owner: str, status: StatusFilter = StatusFilter.all) -> list[Any]:
    conditions: list[Any] = [col(Task.user_id) == owner]
    if status is not StatusFilter.all:
        conditions.append(col(Task.completed).is_(status is StatusFilter.completed))
    return conditions


async def list_page(
    session: AsyncSession, owner: str, status: StatusFilter, limit: int, offset: int
) -> tuple[Sequence[Task], int]:
    """One page, newest first (id breaks ties between tasks made in the same instant), and the
    total count under the same filter."""
    conditions = _owned(owner, status)
    page = await session.exec(
        select(Task)
        .where(*conditions)
        .order_by(col(Task.created_at).desc(), col(Task.id).desc())
        .limit(limit)
        .offset(offset)
    )
    total = await session.exec(select(func.count()).select_from(Task).where(*conditions))
    return page.all(), total.one()


async def get(session: AsyncSession, owner: str, task_id: int) -> Task | None:
    if not 1 <= task_id <= MAX_TASK_ID:
        return None  # no such id can exist, and the driver would refuse to bind it
    result = await session.exec(select(Task).where(col(Task.id) == task_id, *_owned(owner)))
    return result.one_or_none()


async def create(session: AsyncSession, owner: str, body: TaskCreate) -> Task:
    now = utc_now()
    task = Task(**body.model_dump(), user_id=owner, created_at=now, updated_at=now)
    session.add(task)
    await session.commit()
    return task


async def change(session: AsyncSession, task: Task, fields: dict[str, Any]) -> Task:
    """Apply the given editable fields; `updated_at` moves only when something was sent."""
    if fields:
        task.sqlmodel_update(fields)
        task.updated_at = utc_now()
        session.add(task)
        await session.commit()
    return task


async def set_completed(session: AsyncSession, task: Task, completed: bool | None) -> Task:
    """Set `completed`, or toggle it when None, in one statement, so two toggles racing each
    other both take effect instead of one overwriting the other."""
    new_value: Any = ~col(Task.completed) if completed is None else completed
    result = await session.exec(
        update(Task)
        .where(col(Task.id) == task.id, *_owned(task.user_id))
        .values(completed=new_value, updated_at=utc_now())
        .returning(Task)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    updated: Task = result.scalars().one()
    await session.commit()
    return updated


async def delete(session: AsyncSession, task: Task) -> None:
    await session.delete(task)
    await session.commit()
