"""CPU per request in process: the ASGI app called directly (no HTTP, no server), on a fresh
database seeded as `make bench` seeds it. The process's CPU time (`time.process_time`: this
process only, not the database server's) per request, best of `--rounds` rounds of `--requests`
each, for the hot requests: a list of 50, one task, a create, a toggle.

    backend/.venv/bin/python bench/inprocess.py                      # SQLite
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test backend/.venv/bin/python \
        bench/inprocess.py postgresql                                  # a fresh database there
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import run as bench  # bench/run.py: the same seeding, tokens and fresh databases
from taskapi.config import Settings
from taskapi.main import create_app

Call = Callable[[], Awaitable[int]]


def asgi_request(app: Any, method: str, path: str, query: str, auth: str, body: bytes) -> Call:
    headers = [(b"authorization", f"Bearer {auth}".encode()), (b"host", b"testserver")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]

    async def call() -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
            "state": {},
        }
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return call


async def measure(url: str, requests: int, rounds: int) -> dict[str, float]:
    bench.BIG_USER_TASKS = 100  # the big user is make bench's; here only the hot requests
    ids = await bench.seed(url)
    settings = Settings(
        database_url=url,
        better_auth_secret=bench.SECRET,
        log_requests=False,
        task_quota=10_000_000,
    )
    app = create_app(settings)
    results: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        created = json.dumps({"title": "A task to measure", "tags": ["work"]}).encode()
        calls = {
            "list 50": asgi_request(
                app, "GET", "/api/bench/tasks", "limit=50", bench.token("bench"), b""
            ),
            "get one": asgi_request(
                app, "GET", f"/api/bench/tasks/{ids['bench'][0]}", "", bench.token("bench"), b""
            ),
            "create": asgi_request(
                app, "POST", "/api/writer/tasks", "", bench.token("writer"), created
            ),
            "toggle": asgi_request(
                app,
                "PATCH",
                f"/api/bench/tasks/{ids['bench'][1]}/complete",
                "",
                bench.token("bench"),
                b"",
            ),
        }
        for name, call in calls.items():
            assert await call() in (200, 201), name
            best_cpu = best_wall = float("inf")
            for _ in range(rounds):
                cpu, wall = time.process_time(), time.perf_counter()
                for _ in range(requests):
                    await call()
                best_cpu = min(best_cpu, (time.process_time() - cpu) / requests)
                best_wall = min(best_wall, (time.perf_counter() - wall) / requests)
            results[f"{name} cpu_us"] = round(best_cpu * 1e6)
            results[f"{name} wall_us"] = round(best_wall * 1e6)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, bench.fresh_database(args.kind, Path(tmp)) as url:
        env = {**os.environ, "BETTER_AUTH_SECRET": bench.SECRET, "DATABASE_URL": url}
        subprocess.run([str(bench.TASKAPI), "migrate"], cwd=tmp, env=env, check=True)
        print(json.dumps(asyncio.run(measure(url, args.requests, args.rounds)), indent=1))


if __name__ == "__main__":
    main()
