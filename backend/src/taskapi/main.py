"""The application: wiring only. Each piece it wires lives in a module of its own."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from taskapi import __version__, errors
from taskapi.api.methods import method_not_allowed
from taskapi.api.openapi import declare_body_schemas, operation_id
from taskapi.api.routes import events, export, health, tags, tasks
from taskapi.api.validation import validation_failed
from taskapi.auth.jwks import JWKSCache
from taskapi.auth.revocation import Revocations
from taskapi.auth.verifier import TokenVerifier
from taskapi.config import Settings, get_settings
from taskapi.db import DRIVER_FAILURES, open_database, rolled_back, sqlstate_classes
from taskapi.head import HeadAsGet
from taskapi.observability import RequestContext, configure_logging
from taskapi.tasks import VersionMismatch

JWKS_TIMEOUT = httpx.Timeout(3.0)

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = open_database(settings.database)
    jwks_client = httpx.AsyncClient(timeout=JWKS_TIMEOUT, follow_redirects=False)
    jwks_url = settings.jwks_url
    revocations = Revocations(
        max_token_lifetime=settings.jwt_max_lifetime_seconds,
        leeway=settings.jwt_leeway_seconds,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The sessions and accounts already ended, before the first request; then every second
        # what other processes recorded (taskapi.auth.revocation).
        try:
            await revocations.refresh(database)
        except Exception as error:  # the poll below tries again and logs
            log.warning("revocation list: cannot read the database at start: %s", error)
        polling = asyncio.create_task(revocations.poll(database))
        yield
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await jwks_client.aclose()
        await database.dispose()

    app = FastAPI(
        title="taskapi",
        version=__version__,
        summary="Each person's tasks, behind a verified JWT from Better Auth.",
        lifespan=lifespan,
        # /api/u/tasks/ is not /api/u/tasks: a 404, never a redirect that skips the auth checks.
        redirect_slashes=False,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.verifier = TokenVerifier(
        secret=(
            settings.better_auth_secret.get_secret_value() if settings.better_auth_secret else None
        ),
        issuer=settings.better_auth_url,
        jwks=JWKSCache(jwks_url, jwks_client) if jwks_url else None,
        leeway_seconds=settings.jwt_leeway_seconds,
        revocations=revocations,
    )
    app.add_middleware(HeadAsGet)  # inside RequestContext, which logs the request as HEAD
    app.add_middleware(RequestContext)  # outermost: it sees (and stamps) every answer
    app.add_exception_handler(405, method_not_allowed)
    app.add_exception_handler(RequestValidationError, validation_failed)
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, database_unavailable)
    app.add_exception_handler(VersionMismatch, tasks.version_mismatch)
    app.include_router(health.router)
    app.include_router(tasks.router)
    app.include_router(tags.router)
    app.include_router(export.router)
    app.include_router(events.router)
    declare_body_schemas(app)
    return app


# A lost, refused or timed-out connection, a pool with none to give, SQLite's lock outlasting
# its busy timeout: the database's trouble, not the client's. Other driver errors (integrity,
# programming) stay 500s: they are bugs to see. asyncpg's own failures of a connection
# (DRIVER_FAILURES, with OSError and TimeoutError) can also escape SQLAlchemy unwrapped: a
# connection terminated while SQLAlchemy sets it up (its on-connect codecs) raises asyncpg's
# InterfaceError as it is.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    DBAPIError,
    DisconnectionError,
    PoolTimeoutError,
    *DRIVER_FAILURES,
)
# SQLSTATE classes that mean "not now": connection exception, insufficient resources (too many
# connections), operator intervention (shutting down, starting up, terminated by an admin).
UNAVAILABLE_SQLSTATE_CLASSES = {"08", "53", "57"}


def is_unavailability(error: Exception) -> bool:
    if not isinstance(error, DBAPIError):
        return True
    if error.connection_invalidated or isinstance(error, OperationalError | InterfaceError):
        return True
    return bool(sqlstate_classes(error) & UNAVAILABLE_SQLSTATE_CLASSES)


async def database_unavailable(_request: Request, error: Exception) -> JSONResponse:
    """503, retry soon: the database cannot be reached, or it undid this request's writes to
    break a deadlock with another's (nothing was changed; the same request will go through)."""
    if rolled_back(error):
        return JSONResponse(
            status_code=503,
            content={"detail": errors.WRITE_ROLLED_BACK},
            headers={"Retry-After": "1"},
        )
    if not is_unavailability(error):
        raise error
    return JSONResponse(
        status_code=503,
        content={"detail": errors.DATABASE_UNAVAILABLE},
        headers={"Retry-After": "2"},
    )


def serve_app() -> FastAPI:
    """The factory `taskapi serve` hands to uvicorn (in each worker): JSON logs, then the app,
    then what start-up made (modules, routes, schemas: about 115,000 objects) left out of the
    garbage collector's full collections (`gc.freeze`)."""
    settings = get_settings()
    configure_logging(requests=settings.log_requests)
    app = create_app(settings)
    # A full collection walked all of them: 110-300 ms with the event loop stopped (measured on
    # this machine, loaded), a request's p99 whenever one fell in. Frozen, it walks only what
    # the requests keep (docs/performance.md §12). Collected first, so no garbage is kept.
    gc.collect()
    gc.freeze()
    return app
