"""Database faults under load: PostgreSQL stopped and started again beneath a running server (a
PostgreSQL server the test starts for itself, see tests/postgres_server.py), and an SQLite lock
held by another process."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.keys import SECRET, hs256
from tests.live import serving
from tests.postgres_server import PostgresServer, postgres_server

pytestmark = pytest.mark.anyio

ANSWER_WITHIN_SECONDS = 5


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test's own, to stop: never the machine's shared one."""
    with postgres_server() as server:
        yield server


@pytest.mark.postgresql
async def test_postgresql_stopped_under_load_gives_quick_503s_then_recovers_losing_nothing(
    tmp_path: Path, own_postgres: PostgresServer
) -> None:
    headers = {"Authorization": f"Bearer {hs256('faulty')}"}
    attempted: dict[str, str] = {}  # Idempotency-Key -> title
    acknowledged: dict[str, int] = {}  # Idempotency-Key -> task id
    statuses: Counter[int] = Counter()
    slowest = 0.0
    stop = asyncio.Event()

    async def writer(client: httpx.AsyncClient, number: int) -> None:
        nonlocal slowest
        sent = 0
        while not stop.is_set():
            key, sent = f"{number}-{sent}", sent + 1
            attempted[key] = f"task {key}"
            started = time.monotonic()
            response = await client.post(
                "/api/faulty/tasks",
                json={"title": attempted[key]},
                headers={**headers, "Idempotency-Key": key},
            )
            slowest = max(slowest, time.monotonic() - started)
            statuses[response.status_code] += 1
            if response.status_code == 201:
                acknowledged[key] = response.json()["id"]
            elif response.status_code == 503:
                assert response.headers["Retry-After"].isdigit()
                await asyncio.sleep(0.05)

    with serving(tmp_path, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=own_postgres.url) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            writers = [asyncio.create_task(writer(client, n)) for n in range(8)]
            await asyncio.sleep(1.5)
            before_fault = len(acknowledged)
            await asyncio.to_thread(own_postgres.stop)
            try:
                await asyncio.sleep(3)
                assert (await client.get("/health/ready")).status_code == 503
                assert (await client.get("/health")).status_code == 200
                during_fault = len(acknowledged)
            finally:
                await asyncio.to_thread(own_postgres.start)
            deadline = time.monotonic() + 30
            while (await client.get("/health/ready")).status_code != 200:
                assert time.monotonic() < deadline, "did not recover within 30 s"
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.5)
            stop.set()
            await asyncio.gather(*writers)
            after_recovery = len(acknowledged)

            acknowledged_first = dict(acknowledged)
            # Every request that did not get its 201 is retried with its key: each must end
            # with exactly one task, whether or not its first attempt had been committed.
            for key in sorted(set(attempted) - set(acknowledged)):
                retry = await client.post(
                    "/api/faulty/tasks",
                    json={"title": attempted[key]},
                    headers={**headers, "Idempotency-Key": key},
                )
                assert retry.status_code == 201, retry.text
                acknowledged[key] = retry.json()["id"]
            stored: dict[int, str] = {}
            while True:
                page = await client.get(
                    f"/api/faulty/tasks?limit=500&offset={len(stored)}", headers=headers
                )
                stored |= {task["id"]: task["title"] for task in page.json()}
                if not page.json():
                    break

    print(  # the figures for the record (pytest -s shows them)
        f"\nfault: {sum(statuses.values())} requests, {dict(statuses)}, slowest {slowest:.2f} s, "
        f"{len(set(attempted) - set(acknowledged_first))} unacknowledged retried, "
        f"{len(stored)} tasks stored for {len(attempted)} attempted"
    )
    assert set(statuses) <= {201, 503}, statuses  # never a 500
    assert statuses[503] > 0
    assert slowest < ANSWER_WITHIN_SECONDS
    assert before_fault > 0
    assert after_recovery > during_fault  # recovered without a restart
    assert stored == {task_id: attempted[key] for key, task_id in acknowledged.items()}
    assert int(page.headers["X-Total-Count"]) == len(attempted)


async def test_an_sqlite_lock_held_elsewhere_is_waited_for_then_a_503_never_a_500(
    tmp_path: Path,
) -> None:
    database = tmp_path / "tasks.db"
    headers = {"Authorization": f"Bearer {hs256('locked')}"}
    with serving(tmp_path, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=f"sqlite:///{database}") as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            other = sqlite3.connect(database, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")  # another process's write lock

            async def release_after(seconds: float) -> None:
                await asyncio.sleep(seconds)
                other.execute("COMMIT")

            # A lock released within the busy timeout is waited for: the write succeeds.
            _, created = await asyncio.gather(
                release_after(0.5),
                client.post("/api/locked/tasks", json={"title": "a"}, headers=headers),
            )
            assert created.status_code == 201

            # A lock held past it is a 503 with Retry-After, and nothing is half-written.
            other.execute("BEGIN IMMEDIATE")
            try:
                refused = await client.post(
                    "/api/locked/tasks", json={"title": "b"}, headers=headers
                )
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert refused.status_code == 503
            assert refused.headers["Retry-After"].isdigit()
            listing = await client.get("/api/locked/tasks", headers=headers)
            assert [task["title"] for task in listing.json()] == ["a"]


async def test_writes_waiting_for_an_sqlite_lock_leave_the_rest_of_the_api_answering(
    tmp_path: Path,
) -> None:
    """Writes locked out by another process wait beside each other, not on the event loop:
    /health and another person's list are answered while they wait, and each write is a 503
    (never a 500) once its own wait is over; with the lock gone, writes succeed again."""
    database = tmp_path / "tasks.db"
    locked = {"Authorization": f"Bearer {hs256('locked')}"}
    bystander = {"Authorization": f"Bearer {hs256('bystander')}"}
    with serving(tmp_path, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=f"sqlite:///{database}") as base:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            kept = await client.post("/api/locked/tasks", json={"title": "kept"}, headers=locked)
            assert kept.status_code == 201
            answered: list[str] = []

            async def send(
                name: str,
                method: str,
                url: str,
                headers: dict[str, str] | None = None,
                json: dict[str, str] | None = None,
            ) -> httpx.Response:
                response = await client.request(method, url, headers=headers, json=json)
                answered.append(name)
                return response

            other = sqlite3.connect(database, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")  # another process's write lock
            try:
                writes = [
                    asyncio.create_task(
                        send(
                            f"post {n}",
                            "POST",
                            "/api/locked/tasks",
                            json={"title": f"w{n}"},
                            headers=locked,
                        )
                    )
                    for n in range(4)
                ]
                # One single-statement write too (no transaction): a delete.
                writes.append(
                    asyncio.create_task(
                        send(
                            "delete",
                            "DELETE",
                            f"/api/locked/tasks/{kept.json()['id']}",
                            headers=locked,
                        )
                    )
                )
                await asyncio.sleep(0.3)  # the writes reach the server first
                health = await send("health", "GET", "/health")
                listing = await send("list", "GET", "/api/bystander/tasks", headers=bystander)
                refused = await asyncio.gather(*writes)
            finally:
                other.execute("ROLLBACK")
                other.close()

            assert health.status_code == 200
            assert listing.status_code == 200
            assert answered[:2] == ["health", "list"]  # before any write's 503
            assert [response.status_code for response in refused] == [503] * 5
            assert all(response.headers["Retry-After"].isdigit() for response in refused)

            after = await client.post("/api/locked/tasks", json={"title": "after"}, headers=locked)
            assert after.status_code == 201
            titles = [
                task["title"]
                for task in (await client.get("/api/locked/tasks", headers=locked)).json()
            ]
            assert sorted(titles) == ["after", "kept"]


async def test_an_sqlite_lock_held_when_the_server_first_reads_is_not_waited_for(
    tmp_path: Path,
) -> None:
    """The first request opens the server's connection, which gathers the planner's statistics
    (ANALYZE, a write): with another process holding the write lock then, reads are answered
    all the same, and the write waits its own turn."""
    database = tmp_path / "tasks.db"
    headers = {"Authorization": f"Bearer {hs256('first')}"}
    with serving(tmp_path, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=f"sqlite:///{database}") as base:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            other = sqlite3.connect(database, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
            try:
                listing = await client.get("/api/first/tasks", headers=headers)
                ready = await client.get("/health/ready")
                refused = await client.post(
                    "/api/first/tasks", json={"title": "a"}, headers=headers
                )
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert (listing.status_code, listing.json()) == (200, [])
            assert ready.status_code == 200
            assert refused.status_code == 503
            created = await client.post("/api/first/tasks", json={"title": "a"}, headers=headers)
            assert created.status_code == 201
