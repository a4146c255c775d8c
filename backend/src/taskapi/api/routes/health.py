"""Liveness and readiness, for load balancers and `make run`: no authentication."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from taskapi import errors
from taskapi.api.deps import DatabaseDep

READY_TIMEOUT_SECONDS = 2

router = APIRouter(tags=["health"])


@router.get("/health", summary="The process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/health/ready",
    summary="The database answers: send traffic here",
    responses={503: {"description": errors.DATABASE_UNAVAILABLE}},
)
async def ready(database: DatabaseDep) -> JSONResponse:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), database.connect() as connection:
            await connection.scalar(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError):
        return JSONResponse(
            {"status": "unavailable", "detail": errors.DATABASE_UNAVAILABLE},
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "2"},
        )
    return JSONResponse({"status": "ready"})
