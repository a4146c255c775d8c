"""The list's fast path (taskapi.api.fast_path) answers exactly what FastAPI's own handling of
the route answers, for the requests it takes and for those it leaves: status, body and headers,
checks in the same order (401, 403, then the parameters)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from taskapi.api import fast_path
from taskapi.api.routes import tasks as task_routes
from taskapi.tasks import ListQuery, StatusFilter
from tests.api.test_tasks import create
from tests.keys import bearer

pytestmark = pytest.mark.anyio

QUERIES = [
    "",
    "limit=50",
    "status=completed&sort=title&order=asc&limit=2&offset=1",
    "status=pending&sort=due",
    "sort=priority&order=desc&offset=0",
    "sort=updated&limit=500",
    # Left to FastAPI: refused, or read otherwise than plainly.
    "limit=0",
    "limit=501",
    "limit=050",
    "limit=+5",
    "limit=",
    "limit",
    "limit=5&limit=6",
    "offset=2147483648",
    "offset=-1",
    "sort=bogus",
    "status=%61ll",
    "status=ALL",
    "foo=1",
    "limit=2&",
    "tag=home",
    "q=milk&limit=1",
]


def answer(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
    return response.status_code, json.loads(response.content), headers


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(bearer("alice"), id="the owner"),
        pytest.param(bearer("bob"), id="another user: 403"),
        pytest.param({}, id="no token: 401"),
        pytest.param({"Authorization": "Bearer not-a-jwt"}, id="a bad token: 401"),
    ],
)
async def test_the_fast_path_answers_as_fastapi_does(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    for n in range(4):
        await create(client, f"task {n}", completed=n % 2 == 0, tags=["home"] if n else [])
    taken: list[ListQuery] = []

    def spied(*args: Any) -> ListQuery | None:
        query = fast_path.plain_list_query(*args)
        if query is not None:
            taken.append(query)
        return query

    monkeypatch.setattr(task_routes, "plain_list_query", spied)
    fast = [answer(await client.get(f"/api/alice/tasks?{q}", headers=headers)) for q in QUERIES]
    assert len(taken) == 6  # the first six, and no other, took the fast path
    monkeypatch.setattr(task_routes, "plain_list_query", lambda *_args: None)
    usual = [answer(await client.get(f"/api/alice/tasks?{q}", headers=headers)) for q in QUERIES]
    for query, fast_answer, usual_answer in zip(QUERIES, fast, usual, strict=True):
        assert fast_answer == usual_answer, query
    if headers == bearer("alice"):
        assert [status for status, _, _ in fast[:6]] == [200] * 6
        assert {status for status, _, _ in fast[6:20]} == {200, 422}


def test_plain_query_strings_are_read_as_fastapi_reads_them() -> None:
    def read(query: bytes) -> ListQuery | None:
        return fast_path.plain_list_query(query, 500, 2**31 - 1)

    assert read(b"") == ListQuery()
    assert read(b"status=completed&sort=title&order=asc&limit=2&offset=10") == ListQuery(
        status=StatusFilter.completed, sort="title", order="asc", limit=2, offset=10
    )
    for left in (b"limit=501", b"limit=0", b"limit=007", b"offset=2147483648", b"order=up"):
        assert read(left) is None, left
    for left in (b"limit=1&limit=1", b"q=a", b"limit=%31", b"&", b"limit=1&", b"\xff=1"):
        assert read(left) is None, left
