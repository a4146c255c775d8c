"""Object-level authorization with three users: nobody reaches another's tasks by any route,
method, id or path trick, and a miss never tells whether an id exists."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from tests.keys import bearer, hs256

pytestmark = pytest.mark.anyio

USERS = ("alice", "bob", "carol")
METHODS = ("GET", "PUT", "PATCH", "DELETE")


@pytest.fixture
async def owned(client: httpx.AsyncClient) -> dict[str, list[int]]:
    """Three tasks each, interleaved, so ids are neighbours across users."""
    ids: dict[str, list[int]] = {user: [] for user in USERS}
    for n in range(3):
        for user in USERS:
            response = await client.post(
                f"/api/{user}/tasks", json={"title": f"{user} {n}"}, headers=bearer(user)
            )
            ids[user].append(response.json()["id"])
    return ids


async def snapshot(client: httpx.AsyncClient) -> dict[str, Any]:
    return {
        user: (await client.get(f"/api/{user}/tasks", headers=bearer(user))).json()
        for user in USERS
    }


async def test_enumerating_ids_finds_only_ones_own(
    client: httpx.AsyncClient, owned: dict[str, list[int]]
) -> None:
    everything = sorted(task_id for ids in owned.values() for task_id in ids)
    never_existed = (await client.get("/api/bob/tasks/999999999", headers=bearer("bob"))).json()
    for task_id in range(everything[0] - 2, everything[-1] + 3):
        response = await client.get(f"/api/bob/tasks/{task_id}", headers=bearer("bob"))
        if task_id in owned["bob"]:
            assert response.status_code == 200
            assert response.json()["user_id"] == "bob"
        else:
            # Alice's and Carol's ids answer exactly as ids that never existed.
            assert response.status_code == 404
            assert response.json() == never_existed


@pytest.mark.parametrize("method", METHODS)
async def test_anothers_id_under_ones_own_path_is_404_and_changes_nothing(
    client: httpx.AsyncClient, owned: dict[str, list[int]], method: str
) -> None:
    before = await snapshot(client)
    for attacker in USERS:
        for victim in USERS:
            if victim == attacker:
                continue
            for task_id in owned[victim]:
                for suffix in ("", "/complete"):
                    if suffix and method != "PATCH":
                        continue
                    response = await client.request(
                        method,
                        f"/api/{attacker}/tasks/{task_id}{suffix}",
                        json={"title": "pwned", "completed": True},
                        headers=bearer(attacker),
                    )
                    assert response.status_code == 404, (attacker, victim, method, suffix)
                    assert response.json() == {"detail": "Task not found"}
    assert await snapshot(client) == before


@pytest.mark.parametrize("method", [*METHODS, "POST"])
async def test_anothers_path_is_403_for_every_method(
    client: httpx.AsyncClient, owned: dict[str, list[int]], method: str
) -> None:
    before = await snapshot(client)
    task_id = owned["alice"][0]
    path = "/api/alice/tasks" if method == "POST" else f"/api/alice/tasks/{task_id}"
    response = await client.request(method, path, json={"title": "x"}, headers=bearer("mallory"))
    assert response.status_code == 403
    listing = await client.get("/api/alice/tasks", headers=bearer("bob"))
    assert listing.status_code == 403
    assert "alice 0" not in listing.text
    assert await snapshot(client) == before


@pytest.mark.parametrize(
    "body",
    [
        {"title": "mine", "user_id": "alice"},
        {"title": "mine", "id": 1},
        {"title": "mine", "user_id": "alice", "id": 1, "created_at": "2000-01-01T00:00:00Z"},
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_mass_assignment_never_takes_effect(
    client: httpx.AsyncClient, owned: dict[str, list[int]], body: dict[str, Any], method: str
) -> None:
    before = await snapshot(client)
    own = owned["bob"][0]
    path = "/api/bob/tasks" if method == "POST" else f"/api/bob/tasks/{own}"
    response = await client.request(method, path, json=body, headers=bearer("bob"))
    assert response.status_code in (200, 201)
    task = response.json()
    assert task["user_id"] == "bob"
    assert task["created_at"] != "2000-01-01T00:00:00Z"
    if method != "POST":
        assert task["id"] == own
    after = await snapshot(client)
    assert after["alice"] == before["alice"]
    assert after["carol"] == before["carol"]


async def raw(app: FastAPI, method: str, raw_path: bytes, sub: str) -> int:
    """Send a path exactly as given (no client normalises it), as uvicorn would hand it over."""
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    path, _, query = raw_path.partition(b"?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote_to_bytes(path).decode("latin-1"),
        "raw_path": path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"authorization", f"Bearer {hs256(sub)}".encode())],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return status


@pytest.mark.parametrize(
    ("raw_path", "allowed"),
    [
        (b"/api/alice/tasks", {403}),
        (b"/api/ALICE/tasks", {403}),  # ids are case-sensitive: not Bob, not Alice's either
        (b"/api/Bob/tasks", {403}),
        (b"/api/bob%2F..%2Falice/tasks", {403, 404}),
        (b"/api/bob/../alice/tasks", {404}),
        (b"/api/bob/tasks/../../alice/tasks", {404}),
        (b"/api/./alice/tasks", {404}),
        (b"/api/bob/tasks/", {404}),  # no redirect around the checks
        (b"/api/alice/tasks/", {404}),
        (b"/api/bob%00/tasks", {403}),
        (b"/api/bob/tasks?user_id=alice", {200}),  # a query parameter is not the path
        (b"/api//tasks", {404}),
        (b"/api/%61lice/tasks", {403}),
    ],
)
async def test_path_tricks_never_reach_alices_tasks(
    app: FastAPI, owned: dict[str, list[int]], raw_path: bytes, allowed: set[int]
) -> None:
    status = await raw(app, "GET", raw_path, "bob")
    assert status in allowed, status


async def test_encoded_own_id_still_works(app: FastAPI, owned: dict[str, list[int]]) -> None:
    assert await raw(app, "GET", b"/api/b%6Fb/tasks", "bob") == 200
