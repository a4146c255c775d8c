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
    monkeypatch.setattr(fast_path, "enabled", False)
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


def without_the_task(response: httpx.Response, task_id: int) -> tuple[int, Any, dict[str, str]]:
    """The answer with what differs between two tasks made alike: their ids and times."""
    status, body, headers = (
        answer(response) if response.content else (response.status_code, None, {})
    )
    for task in (body, body.get("current") if isinstance(body, dict) else None):
        if isinstance(task, dict) and "created_at" in task:
            assert task["id"] == task_id
            for key in ("id", "created_at", "updated_at"):
                del task[key]
    return status, body, {k: v for k, v in headers.items() if k != "content-length"}


JSON = {"Content-Type": "application/json"}
# (what to ask: method, path after the task's, headers, body), for a task just made.
ASKED: list[tuple[str, str, dict[str, str], bytes]] = [
    ("GET", "", {}, b""),
    ("PATCH", "/complete", {}, b""),
    ("PATCH", "/complete", JSON, b'{"completed": true}'),
    ("PATCH", "/complete", JSON, b'{"completed": "yes"}'),
    ("PATCH", "/complete", JSON, b"{"),
    ("PATCH", "/complete", {"Content-Type": "text/plain"}, b"x"),
    ("PATCH", "/complete", {"If-Match": '"1"'}, b""),
    ("PATCH", "/complete", {"If-Match": '"7"'}, b""),
    ("PATCH", "/complete", {"If-Match": "*"}, b""),
    ("PATCH", "/complete", {"If-Match": "3"}, b""),
    ("PATCH", "/complete", {"If-Match": '"7"', **JSON}, b"{"),
]


@pytest.mark.parametrize(
    "who", [pytest.param("alice", id="the owner"), pytest.param("bob", id="another user")]
)
@pytest.mark.parametrize("token", [True, False], ids=["token", "no token"])
async def test_one_task_s_fast_paths_answer_as_fastapi_does(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, who: str, token: bool
) -> None:
    headers = bearer(who) if token else {}

    async def ask(task_id: int | str, how: tuple[str, str, dict[str, str], bytes]) -> Any:
        method, tail, extra, content = how
        return await client.request(
            method, f"/api/{who}/tasks/{task_id}{tail}", headers=headers | extra, content=content
        )

    plain = fast_path.plain_task_id
    taken: list[int] = []

    def spied(text: str) -> int | None:
        task_id = plain(text)
        taken.extend([] if task_id is None else [task_id])
        return task_id

    monkeypatch.setattr(task_routes, "plain_task_id", spied)
    fast: list[Any] = []
    usual: list[Any] = []
    for answers in (fast, usual):
        for how in ASKED:
            task = await create(client, "alike", tags=["a"])
            answers.append(without_the_task(await ask(task["id"], how), task["id"]))
        for task_id in ("0", "0099999999", "x", "99999999999999999999", "-1", 10**17):
            answers.append(answer(await ask(task_id, ASKED[0])))
            answers.append(answer(await ask(task_id, ASKED[1])))
        monkeypatch.setattr(fast_path, "enabled", False)
    assert fast == usual
    assert len(taken) == len(ASKED) + 2  # each task made, and 10**17 (GET and PATCH)


async def test_a_create_s_fast_path_answers_as_fastapi_does(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases: list[tuple[dict[str, str], bytes]] = [
        (bearer("alice") | JSON, b'{"title": "  t  ", "tags": ["B", "a"], "priority": "high"}'),
        (bearer("alice") | JSON, b'{"title": ""}'),
        (bearer("alice") | JSON, b"[]"),
        (bearer("alice") | {"Content-Type": "text/plain"}, b"{}"),
        (bearer("alice"), b""),
        (bearer("bob") | JSON, b'{"title": "t"}'),
        (JSON, b'{"title": "t"}'),
    ]
    owner = task_routes._owner
    taken = 0

    async def spied(request: Any) -> str:
        nonlocal taken
        taken += 1
        return await owner(request)

    monkeypatch.setattr(task_routes, "_owner", spied)
    fast: list[Any] = []
    usual: list[Any] = []
    for answers in (fast, usual):
        key = {"Idempotency-Key": f"key {len(usual)}"}  # not a replay of the first pass's
        for headers, content in [*cases, (bearer("alice") | JSON | key, b'{"title": "t"}')]:
            response = await client.post("/api/alice/tasks", headers=headers, content=content)
            made = response.json().get("id") if response.status_code == 201 else None
            answers.append(without_the_task(response, made) if made else answer(response))
        monkeypatch.setattr(fast_path, "enabled", False)
    assert fast == usual
    assert taken == len(cases)  # every create without a key took the fast path


async def test_the_fast_path_revalidates_a_list_as_fastapi_does(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain list's ETag and its 304 are the same on either path (taskapi.api.routes.tasks
    `list_answer`): If-None-Match naming it, among others, weakly, or not at all."""
    await create(client, "a", tags=["home"])
    url = "/api/alice/tasks?status=pending&limit=5"
    tag = (await client.get(url, headers=bearer())).headers["ETag"]
    asked = [tag, f"W/{tag}", f'"other", {tag}', "*", '"other"', "", f"{tag}x"]

    async def answers() -> list[tuple[int, bytes, dict[str, str]]]:
        found = []
        for if_none_match in asked:
            response = await client.get(url, headers=bearer() | {"If-None-Match": if_none_match})
            headers = {k: v for k, v in response.headers.items() if k != "x-request-id"}
            found.append((response.status_code, response.content, headers))
        return found

    fast = await answers()
    monkeypatch.setattr(fast_path, "enabled", False)
    usual = await answers()
    assert fast == usual
    assert [status for status, _, _ in fast] == [304, 304, 304, 304, 200, 200, 200]
    assert all(headers["etag"] == tag for _, _, headers in fast)
