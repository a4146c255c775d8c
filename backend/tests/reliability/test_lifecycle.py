"""SIGTERM: requests in flight finish, new connections are refused, the process exits in time."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.keys import SECRET, hs256
from tests.live import run_taskapi, start_serve, wait_until_up

pytestmark = pytest.mark.anyio

EXIT_WITHIN_SECONDS = 10


async def test_sigterm_lets_requests_in_flight_finish_refuses_new_ones_and_exits(
    tmp_path: Path,
) -> None:
    env = {"BETTER_AUTH_SECRET": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'tasks.db'}"}
    assert run_taskapi(tmp_path, "migrate", **env).returncode == 0
    server, base, log_file = start_serve(tmp_path, **env)
    try:
        await asyncio.to_thread(wait_until_up, base)
        async with httpx.AsyncClient(base_url=base, timeout=20) as client:
            headers_sent = asyncio.Event()

            async def slow_body() -> AsyncIterator[bytes]:
                yield b'{"title": "sent slo'
                headers_sent.set()
                await asyncio.sleep(1.5)  # the server is told to stop meanwhile
                yield b'wly"}'

            in_flight = asyncio.create_task(
                client.post(
                    "/api/alice/tasks",
                    content=slow_body(),
                    headers={
                        "Authorization": f"Bearer {hs256('alice')}",
                        "Content-Type": "application/json",
                    },
                )
            )
            await headers_sent.wait()
            await asyncio.sleep(0.3)
            server.send_signal(signal.SIGTERM)
            stopped_at = time.monotonic()
            await asyncio.sleep(0.3)

            async with httpx.AsyncClient(base_url=base, timeout=5) as newcomer:
                with pytest.raises(httpx.ConnectError):
                    await newcomer.get("/health")

            finished = await in_flight
            assert finished.status_code == 201
            assert finished.json()["title"] == "sent slowly"

        code = await asyncio.to_thread(server.wait, EXIT_WITHIN_SECONDS + 5)
        assert time.monotonic() - stopped_at < EXIT_WITHIN_SECONDS
        # uvicorn ends a graceful shutdown by re-raising the signal, so that whoever started
        # it sees what stopped it.
        assert code in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    log = log_file.read_text()
    assert "Application shutdown complete" in log
    assert "Traceback" not in log
