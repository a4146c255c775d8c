"""Answering the commonest request without FastAPI's parameter machinery.

FastAPI solves a route's dependencies and validates each declared parameter on every request:
for the list, whose twelve query parameters are almost always absent, that was three fifths of
its time (docs/performance.md). `FastPathRoute` is an `APIRoute` (documented, and served, as
declared) whose `fast_path` may answer a request first; it answers only requests whose
parameters FastAPI would read the same way and find valid, and hands every other to FastAPI.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, get_args

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from taskapi.tasks import ListQuery, Order, SortKey, StatusFilter

FastPath = Callable[[Request], Awaitable[Response | None]]
# Off, every request is FastAPI's: what the tests compare the fast paths' answers with.
enabled = True
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def route_with(fast_path: FastPath) -> type[APIRoute]:
    """An `APIRoute` class whose requests `fast_path` answers first: its Response, or None to
    leave the request to FastAPI. It must raise what the route's dependencies would raise."""

    class FastPathRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            usual = super().get_route_handler()

            async def handler(request: Request) -> Response:
                answered = await fast_path(request) if enabled else None
                return answered or await usual(request)

            return handler

    return FastPathRoute


def route(
    router: APIRouter, method: str, path: str, fast_path: FastPath, **options: Any
) -> Callable[[Endpoint], Endpoint]:
    """`router.api_route(path, methods=[method], **options)` for an endpoint with a fast
    path (see `route_with`)."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=[method], route_class_override=route_with(fast_path), **options
        )
        return endpoint

    return register


_TASK_ID = re.compile("[1-9][0-9]{0,17}")  # below 10**18, within the column's range


def plain_task_id(text: str) -> int | None:
    """A task id in the path spelt plainly (decimal digits, no sign, no leading zero, below
    10**18), as FastAPI reads it; None for any other, which FastAPI then reads."""
    return int(text) if _TASK_ID.fullmatch(text) else None


# The value each parameter takes, spelt as FastAPI reads it the same way.
_VALUES = {
    name: re.compile(pattern)
    for name, pattern in {
        "status": "|".join(re.escape(status.value) for status in StatusFilter),
        "sort": "|".join(get_args(SortKey)),
        "order": "|".join(get_args(Order)),
        # Decimal digits, no sign, no leading zero: what int() and pydantic read alike.
        "limit": "[1-9][0-9]{0,2}",
        "offset": "0|[1-9][0-9]{0,9}",
    }.items()
}


def plain_list_query(query_string: bytes, max_limit: int, max_offset: int) -> ListQuery | None:
    """The `ListQuery` of a list's query string that sets nothing but `status`, `sort`,
    `order`, `limit` (1 to `max_limit`) and `offset` (0 to `max_offset`), each at most once,
    each spelt plainly (no percent-encoding, no sign, no leading zero, a value its parameter
    takes); None for any other, which FastAPI then reads (and may refuse) as declared."""
    if not query_string:
        return ListQuery()
    values: dict[str, str] = {}
    for pair in query_string.split(b"&"):
        name, equals, value = pair.partition(b"=")
        try:
            key, text = name.decode("ascii"), value.decode("ascii")
        except UnicodeDecodeError:
            return None
        pattern = _VALUES.get(key)
        if not equals or pattern is None or key in values or not pattern.fullmatch(text):
            return None
        values[key] = text
    limit = int(values.get("limit", ListQuery.limit))
    offset = int(values.get("offset", ListQuery.offset))
    if limit > max_limit or offset > max_offset:
        return None
    return ListQuery(
        status=StatusFilter(values.get("status", StatusFilter.all)),
        sort=values.get("sort", ListQuery.sort),  # type: ignore[arg-type]
        order=values.get("order"),  # type: ignore[arg-type]
        limit=limit,
        offset=offset,
    )
