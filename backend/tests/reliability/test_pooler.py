"""Behind a transaction-mode connection pooler (PgBouncer; Neon's pooled URLs are one): migrated
and served through it, concurrent readers and writers get no 500 and lose nothing.

The pooler has 4 server connections for the 16+ client connections the server opens, so
consecutive statements of one client connection run on different server connections: a
prepared statement made on one and used on another fails (`prepared statement
"__asyncpg_stmt_…__" does not exist`), which is what this would show without taskapi.db's
pooler settings.
"""

from __future__ import annotations

import asyncio
import random
import threading
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from taskapi.database_url import Pooler, parse_database_url
from taskapi.db import create_engine
from taskapi.tasks import tasks_table
from tests.keys import SECRET, hs256
from tests.live import serving
from tests.pgbouncer import PgBouncer, pgbouncer
from tests.reliability.model import run_model

pytestmark = pytest.mark.anyio

POOL_SIZE = 4  # server connections PgBouncer may open to the database
READERS = 8
TASKS_PER_READER = 12


class PoolWatch:
    """Samples PgBouncer's SHOW POOLS while the load runs: the most client and server
    connections seen at once, and the pool mode in force."""

    def __init__(self, pooler: PgBouncer, database: str) -> None:
        self.pooler, self.database = pooler, database
        self.most_clients = self.most_servers = 0
        self.modes: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            for pool in self.pooler.show("POOLS"):
                if pool["database"] != self.database:
                    continue
                self.modes.add(pool["pool_mode"])
                clients = int(pool["cl_active"]) + int(pool["cl_waiting"])
                servers = sum(int(pool[name]) for name in pool if name.startswith("sv_"))
                self.most_clients = max(self.most_clients, clients)
                self.most_servers = max(self.most_servers, servers)

    def __enter__(self) -> PoolWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def reader(base: str, number: int, done: asyncio.Event) -> tuple[Counter[int], list[str]]:
    """Makes its own tasks (with tags: a transaction each), then reads them back as a list, one
    by one and as tag counts until the writers are done. Every answer must be 200 and show
    exactly what was acknowledged."""
    user = f"reader-{number}-{uuid.uuid4().hex[:6]}"
    headers = {"Authorization": f"Bearer {hs256(user)}"}
    statuses: Counter[int] = Counter()
    wrong: list[str] = []
    rng = random.Random(number)
    async with httpx.AsyncClient(
        base_url=f"{base}/api/{user}", headers=headers, timeout=30
    ) as http:
        titles: dict[int, str] = {}
        for n in range(TASKS_PER_READER):
            title, key = f"r{number}-{n}", {"Idempotency-Key": f"k{n}"}
            body = {"title": title, "tags": ["read", f"t{n % 3}"]}
            created = await http.post("/tasks", json=body, headers=key)
            statuses[created.status_code] += 1
            if created.status_code == 201:
                titles[created.json()["id"]] = title
        while not done.is_set():
            listing = await http.get("/tasks?limit=500&tag=read")
            one = await http.get(f"/tasks/{rng.choice(list(titles))}")
            tags = await http.get("/tags")
            statuses.update(r.status_code for r in (listing, one, tags))
            if listing.status_code == 200:
                seen = {task["id"]: task["title"] for task in listing.json()}
                if seen != titles or listing.headers["X-Total-Count"] != str(len(titles)):
                    wrong.append(f"{user} listed {seen}, acknowledged {titles}")
            if one.status_code == 200 and titles[one.json()["id"]] != one.json()["title"]:
                wrong.append(f"{user} got {one.json()}")
            if tags.status_code == 200:
                counted = {tag["tag"]: tag["count"] for tag in tags.json()}
                if counted.get("read") != len(titles):
                    wrong.append(f"{user} tag counts {counted}")
    return statuses, wrong


@pytest.mark.postgresql
async def test_behind_transaction_mode_pgbouncer_no_500_and_nothing_lost(
    tmp_path: Path, fresh_database: str
) -> None:
    database = make_url(fresh_database).database or ""
    with pgbouncer(fresh_database, tmp_path / "pgbouncer", pool_size=POOL_SIZE) as pooler:
        # Migrated through the pooler as well (tests/live.serving runs `taskapi migrate`).
        # application_name is a startup parameter PgBouncer passes on (unlike most settings).
        env = {
            "BETTER_AUTH_SECRET": SECRET,
            "DATABASE_URL": f"{pooler.url}?application_name=taskapi",
        }
        env["DATABASE_POOLER"] = "transaction"
        with serving(tmp_path, **env) as base, PoolWatch(pooler, database) as watch:
            done = asyncio.Event()
            readers = [asyncio.create_task(reader(base, n, done)) for n in range(READERS)]
            try:
                outcome = await run_model([base], users=6, writers=4, operations=25, seed=7)
            finally:
                done.set()
            reads = await asyncio.gather(*readers)
            clients = pooler.show("CLIENTS")

    read_statuses = sum((statuses for statuses, _ in reads), Counter[int]())
    print(  # the figures for the record (pytest -s shows them)
        f"\npooler: {outcome.requests} writes ({outcome.conflicts} conflicts), reads "
        f"{dict(read_statuses)}; at most {watch.most_clients} clients on "
        f"{watch.most_servers} server connections"
    )
    # The pooler really was in transaction mode, sharing few server connections among many.
    assert watch.modes == {"transaction"}
    assert watch.most_servers <= POOL_SIZE
    assert watch.most_clients >= 4 * POOL_SIZE
    assert {c["application_name"] for c in clients if c["database"] == database} == {"taskapi"}
    # Nothing failed, nothing was lost or duplicated.
    assert outcome.bad_statuses == []
    assert outcome.mismatches == []
    assert outcome.conflicts > 0  # the writers did race each other
    assert set(read_statuses) <= {200, 201}, read_statuses
    assert read_statuses[201] == READERS * TASKS_PER_READER
    assert [wrong for _, wrong in reads if wrong] == []


@pytest.mark.postgresql
@pytest.mark.parametrize(("pooler", "kept"), [("none", True), ("transaction", False)])
async def test_only_direct_connections_keep_prepared_statements(
    database_url: str, pooler: Pooler, kept: bool
) -> None:
    """Direct connections keep their statements prepared (the list's speed relies on it);
    behind a transaction pooler none outlives its statement, so none can be looked for on the
    wrong server connection."""
    engine = create_engine(parse_database_url(database_url, pooler))
    try:
        async with engine.connect() as connection:
            for _ in range(2):
                await connection.execute(
                    select(tasks_table.c.id).where(tasks_table.c.user_id == "u")
                )
            prepared = await connection.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
    finally:
        await engine.dispose()
    assert (prepared > 0) is kept
