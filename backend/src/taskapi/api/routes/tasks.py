"""The task endpoints: thin, each one a check already done by its dependencies and a query.

The hot answers (a plain list page, one task, a create, a toggle) are JSON the database built
(taskapi.task_json), passed on as bytes; the others are serialised by pydantic-core straight from
the database rows (`TaskJSON` via a TypeAdapter). `response_model` documents them in OpenAPI.
The hot routes have a fast path (taskapi.api.fast_path: `plain_…` below) that answers a plain
request without FastAPI solving its dependencies, by calling them itself in FastAPI's order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field, StringConstraints, TypeAdapter
from pydantic.json_schema import SkipJsonSchema

from taskapi import db, errors, idempotency, task_json, tasks
from taskapi.api.deps import (
    DatabaseDep,
    IfMatch,
    JsonBody,
    OwnedTask,
    OwnerId,
    TaskIdParam,
    TaskKey,
    authenticate,
    if_match,
    owned_task,
    path_owner,
    task_not_found,
    unauthorized,
)
from taskapi.api.fast_path import plain_list_query, plain_task_id, route
from taskapi.models import (
    SEARCH_MAX,
    TAGS_MAX,
    Cleared,
    CompletionUpdate,
    DueTime,
    Priority,
    SearchText,
    Tag,
    TaskCreate,
    TaskJSON,
    TaskPatch,
    TaskPublic,
    TaskReplace,
    utc_now,
)
from taskapi.tasks import StatusFilter, TaskRow

MAX_PAGE = 500
MAX_OFFSET = 2**31 - 1
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]+$"  # visible ASCII
# The limits on the string itself (not on the optional header around it), so that a key too
# long is a string too long, not "a value with too many items".
IdempotencyKey = Annotated[
    str, StringConstraints(min_length=1, max_length=255, pattern=IDEMPOTENCY_KEY_PATTERN)
]

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
BODY_ANSWERS: dict[int | str, dict[str, Any]] = {
    413: _answer(errors.BODY_TOO_LARGE),
    415: _answer(errors.UNSUPPORTED_MEDIA_TYPE),
}
GUARD_ANSWERS: dict[int | str, dict[str, Any]] = {412: _answer(errors.VERSION_MISMATCH)}
LONG_READ_ANSWERS: dict[int | str, dict[str, Any]] = {
    429: _answer(errors.TOO_MANY_LONG_READS),
    503: _answer(errors.STATEMENT_TIMEOUT),
}

# What a client can do next with the task it created (OpenAPI 3.1 §4.8.20, Link Objects): the
# operations on /tasks/{task_id}, with the id from the answer. Fuzzers follow them to reach tasks
# that exist, rather than ids that are 404.
TASK_LINKS = {
    link: {
        "operationId": operation,
        "parameters": {"user_id": "$request.path.user_id", "task_id": "$response.body#/id"},
    }
    for link, operation in (
        ("GetTask", "get_task"),
        ("ReplaceTask", "replace_task"),
        ("PatchTask", "patch_task"),
        ("CompleteTask", "complete_task"),
        ("DeleteTask", "delete_task"),
    )
}

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


def json_task_response(
    task: tuple[int, bytes] | None, status_code: int = status.HTTP_200_OK
) -> Response:
    """A task's version and JSON as the database built them (taskapi.task_json), with its
    ETag."""
    if task is None:
        raise task_not_found()  # deleted between the look-up and the change
    version, body = task
    return Response(
        body, status_code, headers={"ETag": etag(version)}, media_type="application/json"
    )


def etag(version: int) -> str:
    return f'"{version}"'


async def version_mismatch(_request: Request, mismatch: Exception) -> Response:
    """412 with the task as it is now, so the client can show it and ask (registered in main)."""
    assert isinstance(mismatch, tasks.VersionMismatch)
    current = ONE.dump_python(cast(TaskJSON, dict(mismatch.current)), mode="json")
    return JSONResponse(
        {"detail": errors.VERSION_MISMATCH, "current": current},
        status.HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": etag(mismatch.current["version"])},
    )


@asynccontextmanager
async def long_read(
    database: db.PostgresDatabase | db.SQLiteDatabase, owner: str
) -> AsyncIterator[db.Connection]:
    """A connection for reads that may take long (`taskapi.db.long_read`). One stopped at its
    time budget is a 503 with Retry-After: the request was valid, and whether it fits the
    budget depends on the load and on what else the database holds; PostgreSQL's statement
    timeout is a 503 too (taskapi.main). A person with too many of them running already gets
    429 with Retry-After (RFC 6585 §4)."""
    try:
        async with db.long_read(database, owner) as connection:
            yield connection
    except (db.TooManyLongReads, db.StatementTimeout) as stopped:
        code, detail, retry_after = _TRY_AGAIN[type(stopped)]
        raise HTTPException(code, detail=detail, headers={"Retry-After": retry_after}) from None


# Each way a long read is stopped: the status, what to tell the person, and when to try again.
_TRY_AGAIN: dict[type[Exception], tuple[int, str, str]] = {
    db.TooManyLongReads: (status.HTTP_429_TOO_MANY_REQUESTS, errors.TOO_MANY_LONG_READS, "1"),
    db.StatementTimeout: (status.HTTP_503_SERVICE_UNAVAILABLE, errors.STATEMENT_TIMEOUT, "2"),
}


def quota_reached(reached: tasks.QuotaReached) -> HTTPException:
    """409: the list is full, which the person can resolve by deleting tasks (RFC 9110
    §15.5.10); not 403 (they may create tasks) nor 429 (no wait makes room)."""
    return HTTPException(
        status.HTTP_409_CONFLICT, detail=errors.TASK_QUOTA_REACHED.format(quota=reached.quota)
    )


def list_response(
    rows: Sequence[Mapping[Any, Any]] | bytes, total: int, tag: str | None
) -> Response:
    """The page (rows, or the JSON array the database built) with its total and, when known to
    name this page, its ETag."""
    body = (
        rows
        if isinstance(rows, bytes)
        else MANY.dump_json([cast(TaskJSON, dict(row)) for row in rows])
    )
    headers = {"X-Total-Count": str(total)}
    if tag is not None:
        headers["ETag"] = tag
    return Response(body, media_type="application/json", headers=headers)


def none_match(if_none_match: str | None, tag: str) -> bool:
    """Whether If-None-Match fails for a representation tagged `tag` (RFC 9110 §13.1.2): `*`
    (the list always exists), or a listed entity tag equal to it under the weak comparison
    (§8.8.3.2: `W/` ignored). Our tags hold no comma, so splitting the list on commas finds
    them whole; what is not one of them (another server's tag, an empty element, garbage)
    matches nothing, and the full answer is sent."""
    if if_none_match is None:
        return False
    listed = [element.strip() for element in if_none_match.split(",")]
    return listed == ["*"] or any(element.removeprefix("W/") == tag for element in listed)


def not_modified(tag: str) -> Response:
    """304 (RFC 9110 §15.4.5): no content, the ETag the 200 would have carried; Cache-Control
    is added as on every answer (taskapi.observability)."""
    return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})


async def plain_list(request: Request) -> Response | None:
    """`list_tasks` for a list with no filter but the status, which every page load asks for,
    without FastAPI solving its dependencies and twelve query parameters: the same checks, in
    the same order, and the same answer. None (FastAPI's turn) for any other query string."""
    query = plain_list_query(request.scope["query_string"], MAX_PAGE, MAX_OFFSET)
    if query is None or not query.reads_an_index:
        return None
    owner = await _owner(request)
    # As FastAPI reads a `str` header: the first of the field's lines, if any.
    return await list_answer(_database(request), owner, query, request.headers.get("if-none-match"))


async def list_answer(
    database: db.PostgresDatabase | db.SQLiteDatabase,
    owner: str,
    query: tasks.ListQuery,
    if_none_match: str | None,
) -> Response:
    """The list `query` of `owner`, whichever path asked (`plain_list`, `list_tasks`): 304 when
    If-None-Match names its ETag, else the page, its total and its ETag. A list with no filter
    but the status (`ListQuery.by_status_only`) is read off an index, on the event loop, its
    JSON built by the database (taskapi.task_json); any other may read every task the person
    has, and must not hold up anyone else's requests meanwhile (`long_read`)."""
    if query.reads_an_index:
        async with database.connect() as connection:
            return await _plain_list_answer(connection, owner, query, if_none_match)
    async with long_read(database, owner) as connection:
        state = await tasks.list_state(connection, owner, query)
        current = state.etag(owner, query)
        if none_match(if_none_match, current):
            return not_modified(current)
        page, total = await tasks.list_page(
            connection, owner, query, state, database.list_totals, database.list_matches
        )
        # Another request's write may have committed between the state and the page (not on
        # SQLite's shared connection, whose statements never suspend): the tag then names a
        # version this page may not be, and is left out rather than given to the wrong bytes.
        consistent = db.sees_one_state(connection) or await tasks.still_current(
            connection, owner, state
        )
    return list_response(page, total, current if consistent else None)


async def _plain_list_answer(
    connection: db.Connection, owner: str, query: tasks.ListQuery, if_none_match: str | None
) -> Response:
    """`list_answer` for a list with no filter but the status. The state is read first only
    when If-None-Match may make the page unneeded; the page then comes with the state it is the
    page of (`task_json.page_and_state`: one statement on PostgreSQL, where the state read
    first may have moved since, so the tag is always that of the page's own state)."""
    state = None
    if if_none_match is not None:
        state = await task_json.list_state(connection, owner)
        current = state.etag(owner, query)
        if none_match(if_none_match, current):
            return not_modified(current)
    page, state = await task_json.page_and_state(connection, owner, query, state)
    total = task_json.total_of(query.status, state)
    return list_response(page, total, state.etag(owner, query))


async def _owner(request: Request) -> str:
    """`OwnerId` (401, then 403), for the fast paths."""
    return await path_owner(await authenticate(request), request.path_params["user_id"])


def _database(request: Request) -> db.PostgresDatabase | db.SQLiteDatabase:
    database: db.PostgresDatabase | db.SQLiteDatabase = request.app.state.database
    return database


@route(
    router,
    "GET",
    "",
    plain_list,
    response_model=list[TaskPublic],
    responses=LONG_READ_ANSWERS
    | {304: {"description": "Not Modified: the list is still the one `If-None-Match` names"}},
    summary="List tasks: filter, search, sort, page",
    description="Filters combine: a task must pass all of them. `X-Total-Count` gives how many "
    "pass, across all pages. Equal sort keys are ordered by id, so pages never overlap. `ETag` "
    "changes whenever the list may have (any change to the person's tasks); `If-None-Match` "
    "with it answers 304 while it has not.",
)
async def list_tasks(
    owner: OwnerId,
    database: DatabaseDep,
    status_filter: Annotated[StatusFilter, Query(alias="status")] = StatusFilter.all,
    priority: Annotated[
        list[Priority] | SkipJsonSchema[None],
        Query(description="Any of these priorities (repeatable)"),
    ] = None,
    tag: Annotated[
        Annotated[list[Tag], Field(max_length=TAGS_MAX)] | SkipJsonSchema[None],
        Query(description="Carries every one of these tags (repeatable)"),
    ] = None,
    q: Annotated[
        SearchText | SkipJsonSchema[None],
        Query(
            description="Appears in the title or the description, ignoring case (in every "
            f"script, as PostgreSQL's lower() folds it); 1-{SEARCH_MAX} characters"
        ),
    ] = None,
    due_before: Annotated[DueTime | SkipJsonSchema[None], Query()] = None,
    due_after: Annotated[DueTime | SkipJsonSchema[None], Query()] = None,
    overdue: Annotated[bool, Query(description="Due in the past and not completed")] = False,
    sort: tasks.SortKey = "created",
    order: Annotated[
        tasks.Order | SkipJsonSchema[None],
        Query(description="Default: newest, soonest due, most important first; titles A-Z"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    if_none_match: Annotated[
        str | SkipJsonSchema[None],
        Header(
            alias="If-None-Match",
            description="ETags of lists already held: 304 if the list is still one of them",
        ),
    ] = None,
) -> Response:
    if due_before and due_after and due_after >= due_before:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "due_after"),
                    "msg": "must be earlier than due_before",
                }
            ]
        )
    query = tasks.ListQuery(
        status=status_filter,
        priorities=tuple(priority or ()),
        tags=tuple(dict.fromkeys(tag or ())),
        text=q,
        due_before=due_before,
        due_after=due_after,
        overdue=overdue,
        sort=sort,
        order=order,
        limit=limit,
        offset=offset,
    )
    return await list_answer(database, owner, query, if_none_match)


@router.delete(
    "",
    response_model=Cleared,
    summary="Clear completed tasks",
    description="Deletes every completed task and says how many. `status=completed` is "
    "required, so that no request can clear a whole list by accident.",
)
async def clear_completed(
    owner: OwnerId,
    database: DatabaseDep,
    status_filter: Annotated[Literal["completed"], Query(alias="status")],
) -> Cleared:
    # PostgreSQL: a transaction, to lock the rows before deleting them (tasks.clear_completed);
    # SQLite: batches that each commit, with other requests served between them.
    sqlite = isinstance(database, db.SQLiteDatabase)
    opened = database.connect() if sqlite else database.transaction()
    async with opened as connection:
        return Cleared(deleted=await tasks.clear_completed(connection, owner))


async def plain_create(request: Request) -> Response | None:
    """`create_task` without an Idempotency-Key, its dependencies called in FastAPI's order."""
    if "idempotency-key" in request.headers:
        return None
    owner = await _owner(request)
    body = await create_body(request)
    assert body is not None  # a required body: None is never returned
    return await _create(request, owner, body)


@route(
    router,
    "POST",
    "",
    plain_create,
    status_code=status.HTTP_201_CREATED,
    response_model=TaskPublic,
    responses=BODY_ANSWERS
    | {
        201: {"description": "The task, as stored", "links": TASK_LINKS},
        404: _answer(errors.IDEMPOTENT_TASK_DELETED),
        409: _answer(errors.TASK_QUOTA_REACHED.format(quota="N")),
        422: _answer(errors.IDEMPOTENCY_KEY_REUSED),
    },
    openapi_extra=create_body.openapi(),
    summary="Create a task",
)
async def create_task(
    request: Request,
    owner: OwnerId,
    database: DatabaseDep,
    body: Annotated[TaskCreate, Depends(create_body)],
    idempotency_key: Annotated[
        IdempotencyKey | SkipJsonSchema[None],
        Header(
            alias="Idempotency-Key",
            description="Makes a retry safe: the same key (for 24 hours) returns the same task",
        ),
    ] = None,
) -> Response:
    if idempotency_key is None:
        return await _create(request, owner, body)
    quota: int = request.app.state.settings.task_quota
    try:
        outcome = await idempotency.create_once(database, owner, idempotency_key, body, quota)
    except tasks.QuotaReached as reached:
        raise quota_reached(reached) from None
    except tasks.AccountErased:
        raise account_erased() from None
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


async def _create(request: Request, owner: str, body: TaskCreate) -> Response:
    """A create without an Idempotency-Key: 201, 409 at the quota, 401 once erased."""
    database = _database(request)
    quota: int = request.app.state.settings.task_quota
    try:
        # Quota, task and tags together: one statement on PostgreSQL, a transaction on SQLite.
        sqlite = isinstance(database, db.SQLiteDatabase)
        async with database.raw_transaction() if sqlite else database.connect() as connection:
            created = await task_json.create(connection, owner, body, quota, utc_now())
    except tasks.QuotaReached as reached:
        raise quota_reached(reached) from None
    except tasks.AccountErased:
        raise account_erased() from None
    return json_task_response(created, status.HTTP_201_CREATED)


def account_erased() -> HTTPException:
    # A token this process has not yet learnt is revoked (taskapi.auth.revocation): the
    # database knew, and refused the write, as every process will from its next poll.
    return unauthorized(errors.ACCOUNT_DELETED)


async def plain_get(request: Request) -> Response | None:
    """`get_task`, its dependencies called in FastAPI's order, for a task id spelt plainly."""
    task_id = plain_task_id(request.path_params["task_id"])
    if task_id is None:
        return None
    owner = await _owner(request)
    async with _database(request).connect() as connection:
        return json_task_response(await task_json.one(connection, owner, task_id))


@route(
    router,
    "GET",
    "/{task_id}",
    plain_get,
    response_model=TaskPublic,
    responses=TASK_ANSWERS,
    summary="Get a task",
)
async def get_task(owner: OwnerId, database: DatabaseDep, task_id: TaskIdParam) -> Response:
    async with database.connect() as connection:
        return json_task_response(await task_json.one(connection, owner, task_id))


@router.put(
    "/{task_id}",
    response_model=TaskPublic,
    responses=TASK_ANSWERS | BODY_ANSWERS | GUARD_ANSWERS,
    openapi_extra=replace_body.openapi(),
    summary="Replace a task's editable fields",
)
async def replace_task(
    task: OwnedTask,
    database: DatabaseDep,
    expected: IfMatch,
    body: Annotated[TaskReplace, Depends(replace_body)],
) -> Response:
    async with database.transaction() as connection:  # the task and its tags
        changed = await tasks.change(connection, task.owner, task.id, body.model_dump(), expected)
    return task_response(changed)


@router.patch(
    "/{task_id}",
    response_model=TaskPublic,
    responses=TASK_ANSWERS | BODY_ANSWERS | GUARD_ANSWERS,
    openapi_extra=patch_body.openapi(),
    summary="Change only the fields sent",
)
async def patch_task(
    task: OwnedTask,
    database: DatabaseDep,
    expected: IfMatch,
    body: Annotated[TaskPatch, Depends(patch_body)],
) -> Response:
    changes = body.model_dump(exclude_unset=True)
    # Tags live in two tables: changing them takes a transaction; anything else one statement.
    connect = database.transaction if "tags" in changes else database.connect
    async with connect() as connection:
        changed = await tasks.change(connection, task.owner, task.id, changes, expected)
    return task_response(changed)


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=TASK_ANSWERS | GUARD_ANSWERS,
    summary="Delete a task",
)
async def delete_task(task: OwnedTask, database: DatabaseDep, expected: IfMatch) -> Response:
    async with database.connect() as connection:
        removed = await tasks.remove(connection, task.owner, task.id, expected)
    if not removed:
        raise task_not_found()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def plain_completion(request: Request) -> Response | None:
    """`complete_task`, its dependencies called in FastAPI's order, for a task id spelt
    plainly."""
    task_id = plain_task_id(request.path_params["task_id"])
    if task_id is None:
        return None
    database = _database(request)
    task = await owned_task(await _owner(request), database, task_id)
    expected = await if_match(request.headers.get("if-match"))
    return await _complete(database, task, expected, await completion_body(request))


@route(
    router,
    "PATCH",
    "/{task_id}/complete",
    plain_completion,
    response_model=TaskPublic,
    responses=TASK_ANSWERS | BODY_ANSWERS | GUARD_ANSWERS,
    openapi_extra=completion_body.openapi(),
    summary='Toggle completion (no body) or set it ({"completed": bool})',
)
async def complete_task(
    task: OwnedTask,
    database: DatabaseDep,
    expected: IfMatch,
    body: Annotated[CompletionUpdate | None, Depends(completion_body)],
) -> Response:
    return await _complete(database, task, expected, body)


async def _complete(
    database: db.PostgresDatabase | db.SQLiteDatabase,
    task: TaskKey,
    expected: tasks.Expected,
    body: CompletionUpdate | None,
) -> Response:
    completed = body.completed if body else None
    async with database.connect() as connection:
        changed = await task_json.set_completed(
            connection, task.owner, task.id, completed, utc_now(), expected
        )
        if changed is None and expected is not None:
            await tasks.raise_if_changed(connection, task.owner, task.id)  # 412, or gone: 404
    return json_task_response(changed)
