"""Limits, response headers and logs: cheap refusals, nothing cached or sniffed, no token logged."""

from __future__ import annotations

import json
import logging
import time

import httpx
import pytest

from taskapi.observability import JsonFormatter, user_hash
from tests.keys import bearer, hs256

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("depth", [1_000, 100_000])
async def test_deeply_nested_json_is_refused_fast(client: httpx.AsyncClient, depth: int) -> None:
    body = b'{"title": ' + b"[" * depth + b"]" * depth + b"}"
    headers = {**bearer(), "Content-Type": "application/json"}
    response = await client.post("/api/alice/tasks", content=body, headers=headers)
    assert response.status_code == 422
    listing = await client.get("/api/alice/tasks", headers=bearer())
    assert listing.headers["X-Total-Count"] == "0"


async def test_a_limit_over_500_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/alice/tasks?limit=501", headers=bearer())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_a_megabyte_authorization_header_is_refused_before_decoding(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get(
        "/api/alice/tasks", headers={"Authorization": "Bearer " + "A" * (1024 * 1024)}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == "Invalid token: too large"


@pytest.mark.parametrize("path", ["/api/alice/tasks", "/api/bob/tasks", "/health"])
async def test_every_answer_is_uncacheable_and_unsniffable(
    client: httpx.AsyncClient, path: str
) -> None:
    for headers in (bearer(), {}):
        response = await client.get(path, headers=headers)
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "server" not in response.headers


async def test_a_request_id_is_returned_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "abc-123.DEF"})
    assert given.headers["X-Request-ID"] == "abc-123.DEF"
    made = await client.get("/health")
    assert len(made.headers["X-Request-ID"]) == 32
    forged = await client.get("/health", headers={"X-Request-ID": 'x"\nlevel=error'})
    assert forged.headers["X-Request-ID"] != 'x"\nlevel=error'
    assert len(forged.headers["X-Request-ID"]) == 32


def json_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


async def test_a_failed_authentication_is_logged_with_reason_and_request_id_never_the_token(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    token = hs256(exp=int(time.time()) - 100, iat=int(time.time()) - 1000)
    with caplog.at_level(logging.INFO, logger="taskapi"):
        response = await client.get(
            f"/api/alice/tasks?access_token={token}",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
        )
    assert response.status_code == 401
    lines = json_lines(caplog)
    failure = next(line for line in lines if line["message"] == "authentication failed")
    assert failure["reason"] == "Invalid token: expired"
    assert failure["request_id"] == "req-42"
    access = next(line for line in lines if line["message"] == "request")
    assert access["path"] == "/api/{user_id}/tasks"  # the template: no query string, no token
    assert access["status"] == 401
    everything = caplog.text + json.dumps(lines)
    for part in token.split("."):
        assert part not in everything


async def test_the_access_log_names_a_hash_of_the_user_not_the_user(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="taskapi.access"):
        await client.get("/api/alice/tasks/12", headers=bearer())
    access = json_lines(caplog)[-1]
    assert access["path"] == "/api/{user_id}/tasks/{task_id}"
    assert access["status"] == 404
    assert access["user"] == user_hash("alice")
    assert isinstance(access["duration_ms"], float)
    assert "alice" not in json.dumps(access)
