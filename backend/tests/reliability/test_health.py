"""/health says the process is up; /health/ready says the database answers."""

from __future__ import annotations

import time

import httpx
import pytest

from taskapi.main import create_app
from tests.conftest import make_settings
from tests.keys import bearer

pytestmark = pytest.mark.anyio

NOBODY_LISTENS = "postgresql://nobody@127.0.0.1:9/none"


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    ready = await client.get("/health/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_an_unreachable_database_is_503_quickly_and_the_process_still_alive() -> None:
    app = create_app(make_settings(NOBODY_LISTENS, None))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        started = time.monotonic()
        ready = await client.get("/health/ready")
        listing = await client.get("/api/alice/tasks", headers=bearer())
        assert time.monotonic() - started < 5
        assert (await client.get("/health")).status_code == 200
    assert ready.status_code == listing.status_code == 503
    assert ready.headers["Retry-After"] == listing.headers["Retry-After"] == "2"
    assert listing.json()["detail"] == "The database is unavailable; try again shortly"
