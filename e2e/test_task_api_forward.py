"""What the web origin forwards to the task API, and what it hands back: only what the API reads,
and only what the browser needs (frontend/src/lib/task-api-forward.ts)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import unquote

import httpx

from conftest import PlainWebApp, System
from recording_backend import LEAKS, NEEDED

# What the task API reads (backend: taskapi.api.deps, media, routes.tasks, observability).
API_FIELDS = {
    "accept",
    "authorization",
    "content-encoding",
    "content-length",
    "content-type",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "x-request-id",
}
# What the forwarder adds of its own: the connection's framing, and no content coding asked for.
CLIENT_FIELDS = {"host", "connection", "transfer-encoding", "accept-encoding"}

BROWSER_HEADERS = {
    "Authorization": "Bearer a.b.c",
    "Accept": "application/json",
    "If-Match": '"3"',
    "Idempotency-Key": "key-1",
    "X-Request-ID": "req-from-browser",
    # Never for the task API:
    "Cookie": "better-auth.session_token=the-7-day-credential; theme=dark",
    "X-Forwarded-For": "198.51.100.7",
    "X-Forwarded-Host": "evil.example",
    "Forwarded": "for=198.51.100.7;host=evil.example",
    "X-Tasks-Client-IP": "198.51.100.8",
    "Origin": "https://evil.example",
    "Referer": "https://evil.example/page",
    "User-Agent": "browser-agent/1.0",
    "Accept-Language": "fr-CH",
}


def test_only_the_fields_the_task_api_reads_reach_it(plain_web_app: PlainWebApp) -> None:
    backend = plain_web_app.backend
    answer = httpx.post(
        f"{plain_web_app.url}/api/someone/tasks?limit=5",
        content=b'{"title": "Buy milk"}',
        headers={**BROWSER_HEADERS, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    seen = backend.last()
    assert (seen.method, seen.path) == ("POST", "/api/someone/tasks?limit=5")
    names = {name.lower() for name, _ in seen.headers}
    assert names <= API_FIELDS | CLIENT_FIELDS, names - API_FIELDS - CLIENT_FIELDS
    values = {name.lower(): value for name, value in seen.headers}
    sent = {name.lower(): value for name, value in BROWSER_HEADERS.items()}
    for name in ("authorization", "accept", "if-match", "idempotency-key", "x-request-id"):
        assert values[name] == sent[name]
    assert values["content-type"] == "application/json"
    for leaked in ("browser-agent/1.0", "fr-CH", "evil.example", "the-7-day-credential"):
        assert not any(leaked in value for value in values.values()), values
    assert seen.body == b'{"title": "Buy milk"}'


def test_the_answer_keeps_what_the_browser_needs_and_nothing_of_the_backend(
    plain_web_app: PlainWebApp,
) -> None:
    for status in (200, 201, 401, 404, 405, 409, 412, 413, 415, 422, 429, 503):
        answer = httpx.get(
            f"{plain_web_app.url}/api/someone/tasks/1?status={status}",
            headers={"Authorization": "Bearer a.b.c"},
        )
        assert answer.status_code == status
        for name, value in NEEDED.items():
            assert answer.headers.get(name) == value, (status, name, answer.headers)
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {"echo": ""}
        for name in (*LEAKS, "x-middleware-rewrite"):
            assert name not in answer.headers, (status, name)
        backend_address = plain_web_app.backend.url.removeprefix("http://")
        assert not any(backend_address in value for value in answer.headers.values())


def test_head_304_and_the_tags_route_are_forwarded(plain_web_app: PlainWebApp) -> None:
    url = plain_web_app.url
    head = httpx.head(f"{url}/api/someone/tasks/1")
    assert head.status_code == 200
    assert (head.headers["etag"], head.headers["x-total-count"]) == ('"7"', "3")
    assert head.content == b""
    assert plain_web_app.backend.last().method == "HEAD"

    not_modified = httpx.get(f"{url}/api/someone/tasks/1", headers={"If-None-Match": '"7"'})
    assert not_modified.status_code == 304
    assert not_modified.headers["etag"] == '"7"'
    assert not_modified.content == b""

    tags = httpx.get(f"{url}/api/someone/tags")
    assert tags.status_code == 200
    assert plain_web_app.backend.last().path == "/api/someone/tags"


def test_a_large_body_streams_through_whole(plain_web_app: PlainWebApp) -> None:
    body = b'{"title": "' + b"x" * 3_000_000 + b'"}'

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    answer = httpx.put(
        f"{plain_web_app.url}/api/someone/tasks/1",
        content=chunks(),  # no Content-Length: sent chunked
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 200
    assert plain_web_app.backend.last().body == body
    assert answer.json() == {"echo": body.decode()}


def test_the_real_task_api_answers_through_the_web_origin(system: System) -> None:
    answer = httpx.get(f"{system.url}/api/someone/tasks", headers={"Cookie": "a=b"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json()["detail"]
    assert "x-middleware-rewrite" not in answer.headers
    backend_address = system.backend_url.removeprefix("http://")
    assert not any(backend_address in value for value in answer.headers.values())


def test_a_task_api_that_never_answers_is_504_after_the_timeout(
    strict_web_app: PlainWebApp,
) -> None:
    """strict_web_app gives the task API 1 s (TASK_API_TIMEOUT_MS) to begin its answer."""
    for method in ("GET", "POST"):
        answer = httpx.request(
            method,
            f"{strict_web_app.url}/api/someone/tasks?hang=1",
            content=b"{}" if method == "POST" else None,
            timeout=15,
        )
        assert answer.status_code == 504, answer.text
        assert answer.headers["cache-control"] == "no-store"
        assert answer.json() == {
            "detail": "The task service did not answer in time. Try again in a moment."
        }
        assert strict_web_app.backend.last().method == method  # it did reach the task API
    # The stand-in answers again, on a fresh connection: the hung one was not reused.
    assert httpx.get(f"{strict_web_app.url}/api/someone/tasks").status_code == 200


def test_no_location_from_the_task_api_reaches_the_browser(plain_web_app: PlainWebApp) -> None:
    for status in (201, 301, 302, 303, 307):
        answer = httpx.post(f"{plain_web_app.url}/api/someone/tasks?status={status}", json={})
        assert answer.status_code == status
        assert "location" not in answer.headers, (status, answer.headers)


# server.ts forwards a plainly written path itself; one with an escape (or a dot segment) goes
# through Next.js's route handler. Both must forward, and answer, alike.
BOTH_WAYS_IN = ("/api/someone/tasks/1", "/api/some%6Fne/tasks/1")
SITE_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def test_both_ways_in_forward_the_same_fields_and_answer_with_the_sites_headers(
    plain_web_app: PlainWebApp,
) -> None:
    backend = plain_web_app.backend
    for path in BOTH_WAYS_IN:
        answer = httpx.put(
            f"{plain_web_app.url}{path}?limit=5",
            content=b'{"title": "Buy milk"}',
            headers={**BROWSER_HEADERS, "Content-Type": "application/json"},
        )
        assert answer.status_code == 200, (path, answer.text)
        seen = backend.last()
        assert (seen.method, unquote(seen.path)) == ("PUT", unquote(f"{path}?limit=5"))
        names = {name.lower() for name, _ in seen.headers}
        assert names <= API_FIELDS | CLIENT_FIELDS, (path, names - API_FIELDS - CLIENT_FIELDS)
        assert dict((k.lower(), v) for k, v in seen.headers)["accept-encoding"] == "identity"
        assert seen.body == b'{"title": "Buy milk"}'
        for name, value in {**SITE_HEADERS, **{k.lower(): v for k, v in NEEDED.items()}}.items():
            assert answer.headers.get(name) == value, (path, name, answer.headers)
        for name in LEAKS:
            assert name not in answer.headers, (path, name)


def test_both_ways_in_compress_a_long_answer_for_a_client_that_takes_gzip(
    plain_web_app: PlainWebApp,
) -> None:
    long_title = "x" * 5000
    for path in BOTH_WAYS_IN:
        for accept, coded in (("gzip", "gzip"), ("identity", None)):
            answer = httpx.put(
                f"{plain_web_app.url}{path}",
                json={"title": long_title},
                headers={"Accept-Encoding": accept},
            )
            assert answer.status_code == 200
            assert answer.headers.get("content-encoding") == coded, (path, accept)
            assert json.loads(answer.json()["echo"]) == {"title": long_title}
