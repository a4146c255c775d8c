"""What the web origin forwards to the task API, and what it hands back: only what the API reads,
and only what the browser needs (frontend/src/lib/task-api-forward.ts)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

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


# Accept-Encoding and the coding Next.js's `compress` (the `compression` package) answers with
# (RFC 9110 §12.5.3: a named coding's q wins over `*`'s; q=0 refuses).
CODINGS = (  # (Accept-Encoding, Content-Encoding)
    ("gzip", "gzip"),
    ("identity", None),
    ("deflate", "deflate"),
    ("*;q=0, gzip", "gzip"),
    ("gzip;q=0, *", "deflate"),
    ("gzip;q=0, deflate;q=0", None),
    ("deflate, gzip;q=0.5", "gzip"),  # `compression` prefers gzip whenever it is taken
    ("deflate;q=0.5, gzip;q=0.5", "gzip"),
    ("identity, gzip;q=0.5", None),
    ("*", "gzip"),
    ("", None),
)


def test_both_ways_in_compress_a_long_answer_alike(plain_web_app: PlainWebApp) -> None:
    long_title = "x" * 5000
    for path in BOTH_WAYS_IN:
        for accept, coded in CODINGS:
            answer = httpx.put(
                f"{plain_web_app.url}{path}",
                json={"title": long_title},
                headers={"Accept-Encoding": accept},
            )
            assert answer.status_code == 200
            assert answer.headers.get("content-encoding") == coded, (path, accept)
            assert varies_with_accept_encoding(answer), (path, accept, answer.headers)
            assert json.loads(answer.json()["echo"]) == {"title": long_title}


def varies_with_accept_encoding(answer: httpx.Response) -> bool:
    """Next.js's Vary also names its own request fields (rsc, next-router-state-tree, …)."""
    vary = answer.headers.get("vary", "")
    return "accept-encoding" in (name.strip().lower() for name in vary.split(","))


def framing_fields(answer: httpx.Response) -> tuple[bool, str | None, bool]:
    return (
        varies_with_accept_encoding(answer),
        answer.headers.get("content-encoding"),
        "content-length" in answer.headers,
    )


def test_a_head_carries_the_gets_coding_fields(plain_web_app: PlainWebApp) -> None:
    """RFC 9110 §9.3.2: a HEAD's header fields are those of the GET of the same resource. Through
    Next.js's route handler (the escaped path) a HEAD's answer says no Content-Encoding: Next.js
    drops it from a route handler's answer and its `compress` leaves a HEAD's answer alone."""
    escaped = BOTH_WAYS_IN[1]
    for accept, coded in CODINGS:
        for size in (5000, 10):  # coded when asked, and too short to code
            expected = coded if size == 5000 else None
            for path in BOTH_WAYS_IN:
                url = f"{plain_web_app.url}{path}?pad={size}"
                get = httpx.get(url, headers={"Accept-Encoding": accept})
                head = httpx.head(url, headers={"Accept-Encoding": accept})
                assert (get.status_code, head.status_code) == (200, 200)
                assert head.content == b""
                if size == 5000 or path != escaped:  # Next.js codes any length: it drops it
                    assert get.headers.get("content-encoding") == expected, (path, accept, size)
                assert json.loads(get.content)["pad"] == "x" * size
                fields = framing_fields(get)
                if path == escaped:
                    fields = (fields[0], None, fields[2])
                assert framing_fields(head) == fields, (path, accept, size, head.headers)
                assert fields[0], (path, accept, size)  # Vary: Accept-Encoding


# --- framing: what the task API reads as this request's body ---------------------------------


def exchange(url: str, raw: bytes, close_after: bool = False) -> bytes:
    """`raw` sent on a fresh connection (then its sending side closed, if `close_after`);
    everything the server answers until it closes it."""
    where = urlsplit(url)
    with socket.create_connection((where.hostname, where.port), timeout=15) as connection:
        connection.sendall(raw)
        if close_after:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received


def ask(url: str, method: str, target: str, extra: str = "", body: bytes = b"") -> bytes:
    host = urlsplit(url).netloc
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"
    return exchange(url, head.encode() + body, close_after=bool(body))


def assert_the_task_apis_401(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401"), answer[:300]
    assert b"www-authenticate: bearer" in head.lower(), head
    assert b'{"detail":"Not authenticated' in body, body  # as it is or in one chunk


def test_a_bodiless_request_with_a_content_length_poisons_no_other(system: System) -> None:
    """A GET or HEAD's Content-Length (its body is never forwarded), or a POST's body cut short,
    must not make the task API read the next request on the pooled connection, someone else's,
    as the rest of this one's body: both ways in (their pools are their own)."""
    url = system.url
    poisons = (
        ("GET", "Content-Length: 20\r\n", b""),
        ("HEAD", "Content-Length: 20\r\n", b""),
        ("GET", "Content-Length: 100000\r\n", b""),
        ("POST", "Content-Type: application/json\r\nContent-Length: 100\r\n", b'{"title":'),
    )
    for victim, poisoned in (
        ("/api/someone/tasks?limit=1", "/api/nobody/tasks"),
        ("/api/some%6Fne/tasks?limit=1", "/api/nob%6Fdy/tasks"),
    ):
        assert_the_task_apis_401(ask(url, "GET", victim))  # a connection in the pool
        for method, fields, body in poisons:
            answer = ask(url, method, poisoned, fields, body)
            if method != "POST":  # the POST's answer may be the connection closed
                assert answer.startswith(b"HTTP/1.1 401"), (method, poisoned, answer[:300])
            for _ in range(2):
                assert_the_task_apis_401(ask(url, "GET", victim))
