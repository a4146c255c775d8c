"""Each person may keep at most TASK_QUOTA tasks: a create beyond it is a 409 that says so."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import ValidationError

from taskapi.config import Settings
from tests.api.test_organising import total
from tests.api.test_tasks import create
from tests.conftest import make_settings
from tests.keys import SECRET, JWKSServer, bearer

pytestmark = pytest.mark.anyio

QUOTA = 3
URL = "/api/alice/tasks"


@pytest.fixture
def settings(database_url: str, jwks: JWKSServer) -> Settings:
    return make_settings(database_url, jwks.url, task_quota=QUOTA)


async def test_a_create_beyond_the_quota_is_409_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    first = [await create(client, f"task {n}") for n in range(QUOTA)]
    refused = await client.post(
        URL, json={"title": "one too many", "tags": ["x"]}, headers=bearer()
    )
    assert refused.status_code == 409
    assert f"{QUOTA} tasks" in refused.json()["detail"]
    assert await total(client) == QUOTA
    assert (await client.get("/api/alice/tags", headers=bearer())).json() == []
    await create(client, "someone else's", sub="bob")  # the quota is each person's own

    await client.delete(f"{URL}/{first[0]['id']}", headers=bearer())
    await create(client, "room again")
    await client.patch(f"{URL}/{first[1]['id']}/complete", headers=bearer())
    assert (await client.post(URL, json={"title": "full"}, headers=bearer())).status_code == 409
    await client.delete(f"{URL}?status=completed", headers=bearer())
    await create(client, "room after clearing")


async def test_an_idempotent_retry_replays_at_the_quota(client: httpx.AsyncClient) -> None:
    keyed = {**bearer(), "Idempotency-Key": "k-1"}
    for n in range(QUOTA - 1):
        await create(client, f"task {n}")
    made = await client.post(URL, json={"title": "last"}, headers=keyed)
    replayed = await client.post(URL, json={"title": "last"}, headers=keyed)
    assert (made.status_code, replayed.status_code) == (201, 201)
    assert replayed.json() == made.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    other_key = {**bearer(), "Idempotency-Key": "k-2"}
    refused = await client.post(URL, json={"title": "last"}, headers=other_key)
    assert refused.status_code == 409
    assert await total(client) == QUOTA


@pytest.mark.parametrize("existing", [0, QUOTA - 1])
async def test_concurrent_creates_never_pass_the_quota(
    client: httpx.AsyncClient, existing: int
) -> None:
    for n in range(existing):
        await create(client, f"task {n}")
    answers = await asyncio.gather(
        *(
            client.post(URL, json={"title": f"racer {n}", "tags": ["race"]}, headers=bearer())
            for n in range(6)
        )
    )
    statuses = sorted(answer.status_code for answer in answers)
    room = QUOTA - existing
    assert statuses == [201] * room + [409] * (6 - room)
    assert await total(client) == QUOTA
    assert await total(client, "tag=race") == room


async def test_retries_racing_with_one_key_at_the_quota_all_get_the_one_task(
    client: httpx.AsyncClient,
) -> None:
    # On PostgreSQL a retry that waited on the count while its twin took the last room used to
    # find the quota reached (409) before looking for its key again.
    for n in range(QUOTA - 1):
        await create(client, f"task {n}")
    keyed = {**bearer(), "Idempotency-Key": "one-key"}
    answers = await asyncio.gather(
        *(client.post(URL, json={"title": "last"}, headers=keyed) for _ in range(12))
    )
    assert sorted(answer.status_code for answer in answers) == [201] * 12
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert await total(client) == QUOTA


def test_the_quota_is_a_setting_of_at_least_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BETTER_AUTH_SECRET", SECRET)
    assert Settings(_env_file=None).task_quota == 10_000
    monkeypatch.setenv("TASK_QUOTA", "25")
    assert Settings(_env_file=None).task_quota == 25
    monkeypatch.setenv("TASK_QUOTA", "0")
    with pytest.raises(ValidationError, match="task_quota"):
        Settings(_env_file=None)
