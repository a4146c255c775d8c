"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when TEST_DATABASE_URL is set),
a JWKS server playing Better Auth, and the app behind an in-process HTTP client.

Isolation: each test starts with an empty `tasks` table (rows are deleted after each test; the
schema is made once per session by the real migrations, never by `create_all`).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from taskapi import migrate
from taskapi.config import Settings
from taskapi.main import create_app
from tests.keys import ASYMMETRIC, ISSUER, SECRET, JWKSServer, SigningKey, serve_jwks

Factory = Callable[[], str]


def runs_on_postgres(item: pytest.Item) -> bool:
    """Whether `item` reaches TEST_DATABASE_URL's server: through `empty_database` (the one
    fixture that reads the variable; `database_url`, `fresh_database`, `app`, `client` and the
    live servers all come from it), or marked `postgresql`."""
    fixtures = set(getattr(item, "fixturenames", ()))
    return "empty_database" in fixtures or item.get_closest_marker("postgresql") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests about PostgreSQL itself (two processes on one server, a server of the test's own
    stopped under load) run in the PostgreSQL pass of `make test`; without a server they are
    deselected, and pytest reports how many.

    With a server, the tests that never reach it (`runs_on_postgres`) are deselected instead:
    nothing else in the suite or in taskapi reads TEST_DATABASE_URL, so they would run the same
    code on the same SQLite files (or none) as in the SQLite pass, which has run them."""
    on_postgres = _postgres_admin_url() is not None

    def keep(item: pytest.Item) -> bool:
        if on_postgres:
            return runs_on_postgres(item)
        return item.get_closest_marker("postgresql") is None

    deselected = [item for item in items if not keep(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if keep(item)]


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    # Async tests (marked `anyio`) run on asyncio, as uvicorn runs the app.
    return "asyncio"


def _postgres_admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


async def _postgres_admin(sql: str) -> None:
    admin = make_url(_postgres_admin_url() or "").set(drivername="postgresql")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Factory]:
    """Makes fresh, empty databases of the kind under test; drops the PostgreSQL ones after."""
    made: list[str] = []

    def make() -> str:
        admin_url = _postgres_admin_url()
        if admin_url is None:
            path: Path = tmp_path_factory.mktemp("db") / "tasks.db"
            return f"sqlite:///{path}"
        name = f"taskapi_test_{uuid.uuid4().hex[:12]}"
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    yield make
    for name in made:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_database(empty_database: Factory) -> str:
    """A database of its own for one test, made here, outside the test's event loop."""
    return empty_database()


@pytest.fixture(scope="session")
def database_url(empty_database: Factory) -> str:
    url = empty_database()
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    for algorithm in ASYMMETRIC:
        server.add(algorithm)
    with serve_jwks(server) as running:
        yield running


@pytest.fixture
def jwks(jwks_server: JWKSServer) -> Iterator[JWKSServer]:
    """The session's JWKS server, put back as it was after a test that rotates or breaks it."""
    keys = dict(jwks_server.keys)
    yield jwks_server
    jwks_server.keys = keys
    jwks_server.up = True


@pytest.fixture
def signing_keys(jwks: JWKSServer) -> dict[str, SigningKey]:
    return {key.algorithm: key for key in jwks.keys.values()}


def make_settings(database_url: str, jwks_url: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "better_auth_secret": SECRET,
        "better_auth_url": ISSUER,
        "better_auth_jwks_url": jwks_url,
        "database_url": database_url,
        "jwt_leeway_seconds": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(database_url: str, jwks: JWKSServer) -> Settings:
    return make_settings(database_url, jwks.url)


# Every table a test may write to: each test starts from empty ones (and a fresh app's memory).
CLEARED_AFTER_EACH_TEST = (
    "tasks",
    "task_counts",
    "idempotency_keys",
    "revocations",
    "received_security_events",
)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application
        async with application.state.database.connect() as connection:
            for table in CLEARED_AFTER_EACH_TEST:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
