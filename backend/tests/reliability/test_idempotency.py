"""POST with an Idempotency-Key: a retry returns the first answer and creates nothing more."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from taskapi.idempotency import KEEP_FOR
from taskapi.models import utc_now
from tests.keys import bearer

pytestmark = pytest.mark.anyio

URL = "/api/alice/tasks"


def keyed(key: str, sub: str = "alice") -> dict[str, str]:
    return {**bearer(sub), "Idempotency-Key": key}


async def count(client: httpx.AsyncClient, sub: str = "alice") -> int:
    return int(
        (await client.get(f"/api/{sub}/tasks", headers=bearer(sub))).headers["X-Total-Count"]
    )


async def test_a_retry_returns_the_same_task_and_creates_no_second(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post(URL, json={"title": "Pay rent"}, headers=keyed("k-1"))
    retry = await client.post(URL, json={"title": "Pay rent"}, headers=keyed("k-1"))
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["ETag"] == first.headers["ETag"] == '"1"'
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert await count(client) == 1


async def test_the_same_request_spelled_differently_is_the_same_request(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post(URL, json={"title": "a", "completed": False}, headers=keyed("k"))
    retry = await client.post(
        URL,
        content=b'{ "completed" : false, "title": "  a  " }',
        headers={**keyed("k"), "Content-Type": "application/json"},
    )
    assert retry.json()["id"] == first.json()["id"]


async def test_a_different_body_under_a_used_key_is_422_and_creates_nothing(
    client: httpx.AsyncClient,
) -> None:
    await client.post(URL, json={"title": "a"}, headers=keyed("k"))
    other = await client.post(URL, json={"title": "b"}, headers=keyed("k"))
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert await count(client) == 1


async def test_keys_belong_to_one_user(client: httpx.AsyncClient) -> None:
    mine = await client.post(URL, json={"title": "a"}, headers=keyed("shared"))
    theirs = await client.post(
        "/api/bob/tasks", json={"title": "b"}, headers=keyed("shared", sub="bob")
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert theirs.json()["title"] == "b"


async def test_different_keys_create_different_tasks(client: httpx.AsyncClient) -> None:
    for key in ("a", "b", "c"):
        await client.post(URL, json={"title": "same"}, headers=keyed(key))
    assert await count(client) == 3


async def test_a_replay_answers_with_the_task_as_it_is_now(client: httpx.AsyncClient) -> None:
    first = await client.post(URL, json={"title": "a"}, headers=keyed("k"))
    task_url = f"{URL}/{first.json()['id']}"
    edited = (await client.patch(task_url, json={"title": "edited"}, headers=bearer())).json()
    retry = await client.post(URL, json={"title": "a"}, headers=keyed("k"))
    assert retry.status_code == 201
    assert retry.json() == edited
    assert retry.headers["ETag"] == '"2"'

    await client.delete(task_url, headers=bearer())
    gone = await client.post(URL, json={"title": "a"}, headers=keyed("k"))
    assert gone.status_code == 404
    assert "deleted" in gone.json()["detail"]
    assert await count(client) == 0  # and never a second task


async def test_a_key_older_than_24_hours_starts_afresh(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    first = await client.post(URL, json={"title": "a"}, headers=keyed("old"))
    async with app.state.database.connect() as connection:
        await connection.execute(
            text("UPDATE idempotency_keys SET created_at = :at").bindparams(
                at=utc_now() - KEEP_FOR - timedelta(seconds=1)
            )
        )
    again = await client.post(URL, json={"title": "b"}, headers=keyed("old"))
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert await count(client) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "naïve"])
async def test_a_malformed_key_is_422_and_creates_nothing(
    client: httpx.AsyncClient, key: str
) -> None:
    response = await client.post(
        URL,
        json={"title": "a"},
        headers=[
            (b"Authorization", bearer()["Authorization"].encode()),
            (b"Idempotency-Key", key.encode()),
        ],
    )
    assert response.status_code == 422
    assert any("Idempotency-Key" in str(item["loc"]) for item in response.json()["detail"])
    assert await count(client) == 0
