"""The task endpoints: thin, each one a check already done by its dependencies and a query.

Answers are serialised by pydantic-core straight from the database rows (`TaskJSON` via a
TypeAdapter) and returned as ready bytes; `response_model` documents them in OpenAPI.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from pydantic.json_schema import SkipJsonSchema

from taskapi import errors, idempotency, tasks
from taskapi.api.deps import (
    ConnectionDep,
    DatabaseDep,
    IfMatch,
    JsonBody,
    OwnedTask,
    OwnerId,
    task_not_found,
)
from taskapi.models import (
    CompletionUpdate,
    TaskCreate,
    TaskJSON,
    TaskPatch,
    TaskPublic,
    TaskReplace,
)
from taskapi.tasks import StatusFilter, TaskRow

MAX_PAGE = 500
MAX_OFFSET = 2**31 - 1
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]+$"  # visible ASCII

ONE = TypeAdapter(TaskJSON)
MANY = TypeAdapter(list[TaskJSON])


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
GUARD_ANSWERS: dict[int | str, dict[str, Any]] = {412: _answer(errors.VERSION_MISMATCH)}

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"], responses=AUTH_ANSWERS)

create_body = JsonBody(TaskCreate)
replace_body = JsonBody(TaskReplace)
patch_body = JsonBody(TaskPatch)
completion_body = JsonBody(CompletionUpdate, optional=True)


def task_response(row: TaskRow | None, status_code: int = status.HTTP_200_OK) -> Response:
    if row is None:
        raise task_not_found()  # deleted between the look-up and the change
    return Response(
        ONE.dump_json(cast(TaskJSON, dict(row))),
        status_code,
        headers={"ETag": etag(row["version"])},
        media_type="application/json",
    )


def etag(version: int) -> str:
    return f'"{version}"'


async def version_mismatch(_request: Request, mismatch: Exception) -> Response:
    """412 with the task as it is now, so the client can show it and ask (registered in main)."""
    assert isinstance(mismatch, tasks.VersionMismatch)
    current = json.loads(ONE.dump_json(cast(TaskJSON, dict(mismatch.current))))
    return JSONResponse(
        {"detail": errors.VERSION_MISMATCH, "current": current},
        status.HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": etag(mismatch.current["version"])},
    )


def list_response(rows: Sequence[TaskRow], total: int) -> Response:
    body = MANY.dump_json([cast(TaskJSON, dict(row)) for row in rows])
    return Response(body, media_type="application/json", headers={"X-Total-Count": str(total)})


@router.get("", response_model=list[TaskPublic], summary="List tasks, newest first")
async def list_tasks(
    owner: OwnerId,
    connection: ConnectionDep,
    status_filter: Annotated[StatusFilter, Query(alias="status")] = StatusFilter.all,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    rows, total = await tasks.list_page(connection, owner, status_filter, limit, offset)
    return list_response(rows, total)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskPublic,
    responses=BODY_ANSWERS
    | {
        404: _answer(errors.IDEMPOTENT_TASK_DELETED),
        422: _answer(errors.IDEMPOTENCY_KEY_REUSED),
    },
    openapi_extra=create_body.openapi(),
    summary="Create a task",
)
async def create_task(
    owner: OwnerId,
    database: DatabaseDep,
    body: Annotated[TaskCreate, Depends(create_body)],
    idempotency_key: Annotated[
        str | SkipJsonSchema[None],
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=IDEMPOTENCY_KEY_PATTERN,
            json_schema_extra={"pattern": IDEMPOTENCY_KEY_PATTERN},
            description="Makes a retry safe: the same key (for 24 hours) returns the same task",
        ),
    ] = None,
) -> Response:
    if idempotency_key is None:
        async with database.connect() as connection:
            return task_response(await tasks.create(connection, owner, body), 201)
    try:
        outcome = await idempotency.create_once(database, owner, idempotency_key, body)
    except idempotency.KeyReused:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=errors.IDEMPOTENCY_KEY_REUSED
        ) from None
    if outcome.task is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=errors.IDEMPOTENT_TASK_DELETED)
    response = task_response(outcome.task, status.HTTP_201_CREATED)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get("/{task_id}", response_model=TaskPublic, responses=TASK_ANSWERS, summary="Get a task")
async def get_task(task: OwnedTask) -> Response:
    return task_response(task)


@router.put(
    "/{task_id}",
    response_model=TaskPublic,
    responses=TASK_ANSWERS | BODY_ANSWERS | GUARD_ANSWERS,
    openapi_extra=replace_body.openapi(),
    summary="Replace a task's editable fields",
)
async def replace_task(
    task: OwnedTask,
    connection: ConnectionDep,
    expected: IfMatch,
    body: Annotated[TaskReplace, Depends(replace_body)],
) -> Response:
    return task_response(
        await tasks.change(connection, task["user_id"], task["id"], body.model_dump(), expected)
    )


@router.patch(
    "/{task_id}",
    response_model=TaskPublic,
    responses=TASK_ANSWERS | BODY_ANSWERS | GUARD_ANSWERS,
    openapi_extra=patch_body.openapi(),
    summary="Change only the fields sent",
)
async def patch_task(
    task: OwnedTask,
    connection: ConnectionDep,
    expected: IfMatch,
    body: Annotated[TaskPatch, Depends(patch_body)],
) -> Response:
    changes = body.model_dump(exclude_unset=True)
    return task_response(
        await tasks.change(connection, task["user_id"], task["id"], changes, expected)
    )


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=TASK_ANSWERS | GUARD_ANSWERS,
    summary="Delete a task",
)
async def delete_task(task: OwnedTask, connection: ConnectionDep, expected: IfMatch) -> Response:
    if not await tasks.remove(connection, task["user_id"], task["id"], expected):
        raise task_not_found()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/{task_id}/complete",
    response_model=TaskPublic,
    responses=TASK_ANSWERS | BODY_ANSWERS | GUARD_ANSWERS,
    openapi_extra=completion_body.openapi(),
    summary='Toggle completion (no body) or set it ({"completed": bool})',
)
async def complete_task(
    task: OwnedTask,
    connection: ConnectionDep,
    expected: IfMatch,
    body: Annotated[CompletionUpdate | None, Depends(completion_body)],
) -> Response:
    completed = body.completed if body else None
    return task_response(
        await tasks.set_completed(connection, task["user_id"], task["id"], completed, expected)
    )
