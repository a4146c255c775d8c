"""The task endpoints: thin, each one a check already done by its dependencies and a query."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from taskapi import errors, tasks
from taskapi.api.deps import JsonBody, OwnedTask, OwnerId, SessionDep
from taskapi.models import CompletionUpdate, TaskCreate, TaskPatch, TaskPublic, TaskReplace
from taskapi.tasks import StatusFilter

MAX_PAGE = 500
MAX_OFFSET = 2**31 - 1


def _answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"example": {"detail": description}}},
    }


AUTH_ANSWERS: dict[int | str, dict[str, Any]] = {
    401: _answer(errors.INVALID_TOKEN),
    403: _answer(errors.FORBIDDEN_USER),
    503: _answer(errors.ISSUER_UNREACHABLE),
}
TASK_ANSWERS: dict[int | str, dict[str, Any]] = {404: _answer(errors.TASK_NOT_FOUND)}
BODY_ANSWERS: dict[int | str, dict[str, Any]] = {413: _answer(errors.BODY_TOO_LARGE)}

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"], responses=AUTH_ANSWERS)

create_body = JsonBody(TaskCreate)
replace_body = JsonBody(TaskReplace)
patch_body = JsonBody(TaskPatch)
completion_body = JsonBody(CompletionUpdate, optional=True)


@router.get("", response_model=list[TaskPublic], summary="List tasks, newest first")
async def list_tasks(
    owner: OwnerId,
    session: SessionDep,
    response: Response,
    status_filter: Annotated[StatusFilter, Query(alias="status")] = StatusFilter.all,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Any:
    page, total = await tasks.list_page(session, owner, status_filter, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return page


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskPublic,
    responses=BODY_ANSWERS,
    openapi_extra=create_body.openapi(),
    summary="Create a task",
)
async def create_task(
    owner: OwnerId,
    session: SessionDep,
    body: Annotated[TaskCreate, Depends(create_body)],
) -> Any:
    return await tasks.create(session, owner, body)


@router.get("/{task_id}", response_model=TaskPublic, responses=TASK_ANSWERS, summary="Get a task")
async def get_task(task: OwnedTask) -> Any:
    return task


@router.put(
    "/{task_id}",
    response_model=TaskPublic,
    responses=TASK_ANSWERS | BODY_ANSWERS,
    openapi_extra=replace_body.openapi(),
    summary="Replace a task's editable fields",
)
async def replace_task(
    task: OwnedTask,
    session: SessionDep,
    body: Annotated[TaskReplace, Depends(replace_body)],
) -> Any:
    return await tasks.change(session, task, body.model_dump())


@router.patch(
    "/{task_id}",
    response_model=TaskPublic,
    responses=TASK_ANSWERS | BODY_ANSWERS,
    openapi_extra=patch_body.openapi(),
    summary="Change only the fields sent",
)
async def patch_task(
    task: OwnedTask,
    session: SessionDep,
    body: Annotated[TaskPatch, Depends(patch_body)],
) -> Any:
    return await tasks.change(session, task, body.model_dump(exclude_unset=True))


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=TASK_ANSWERS,
    summary="Delete a task",
)
async def delete_task(task: OwnedTask, session: SessionDep) -> None:
    await tasks.delete(session, task)


@router.patch(
    "/{task_id}/complete",
    response_model=TaskPublic,
    responses=TASK_ANSWERS | BODY_ANSWERS,
    openapi_extra=completion_body.openapi(),
    summary='Toggle completion (no body) or set it ({"completed": bool})',
)
async def complete_task(
    task: OwnedTask,
    session: SessionDep,
    body: Annotated[CompletionUpdate | None, Depends(completion_body)],
) -> Any:
    return await tasks.set_completed(session, task, body.completed if body else None)
