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
CLIENT_KEEP_ALIVE_SECONDS = 5.0  # httpx's default; Node's undici keeps 4 s


async def test_an_idle_connection_outlives_the_clients_own_keep_alive(tmp_path: Path) -> None:
    """The client, not the server, closes an idle connection: one reused just as the client's
    own limit runs out still gets its answer (a server closing first loses that request)."""
    env = {"BETTER_AUTH_SECRET": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'tasks.db'}"}
    assert run_taskapi(tmp_path, "migrate", **env).returncode == 0
    server, base, log = start_serve(tmp_path, **env)
    try:
        await asyncio.to_thread(wait_until_up, base, server, log)
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = b"GET /health HTTP/1.1\r\nHost: tasks\r\n\r\n"
        for pause in (0.0, CLIENT_KEEP_ALIVE_SECONDS + 0.5):
            await asyncio.sleep(pause)
            writer.write(request)
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 5)
            assert status.startswith(b"HTTP/1.1 200"), (pause, status)
            headers = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = next(
                int(line.split(b":")[1])
                for line in headers.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
        writer.close()
    finally:
        server.terminate()
        server.wait(15)


async def test_sigterm_lets_requests_in_flight_finish_refuses_new_ones_and_exits(
    tmp_path: Path,
) -> None:
    env = {"BETTER_AUTH_SECRET": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'tasks.db'}"}
    assert run_taskapi(tmp_path, "migrate", **env).returncode == 0
    server, base, log_file = start_serve(tmp_path, **env)
    try:
        await asyncio.to_thread(wait_until_up, base, server, log_file)
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
            # The request's first bytes are out, or it failed before sending them (then say how,
            # rather than wait for an event that will never come).
            sent = asyncio.create_task(headers_sent.wait())
            await asyncio.wait({sent, in_flight}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
            sent.cancel()
            if in_flight.done():
                pytest.fail(
                    f"the slow request ended before the body was sent: {in_flight.result()}"
                )
            assert headers_sent.is_set(), "the slow request sent nothing within 60 s"
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
