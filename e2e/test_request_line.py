"""What the web server answers itself, before Next.js (frontend/server.ts): a request line it
cannot serve (src/lib/request-line.ts), and a client too slow to send its request."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from urllib.parse import urlsplit

import pytest

from conftest import FRONTEND, NODE, WEB_SERVER, PlainWebApp, System


def exchange(url: str, raw: bytes) -> bytes:
    """`raw` sent on a fresh connection; everything the server answers until it closes it."""
    where = urlsplit(url)
    with socket.create_connection((where.hostname, where.port), timeout=15) as connection:
        connection.sendall(raw)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def request(url: str, method: str, target: str) -> tuple[str, dict[str, str], bytes]:
    """(status line, header fields in lower case, body) of one request sent as it is."""
    host = urlsplit(url).netloc
    raw = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nOrigin: {url}\r\n"
    raw += "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    head, _, body = exchange(url, raw.encode()).partition(b"\r\n\r\n")
    status, *fields = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
    return status, headers, body


def log_entries(log_text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in log_text.splitlines()]


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("POST", "/api/auth/sign-in/%ff"),
        ("GET", "/api/alice/tasks/%"),
        ("POST", "/api/auth/%"),
        ("GET", "/tasks/%zz?x=1"),
        ("GET", "/%c0%af"),  # an overlong UTF-8 form of "/"
    ],
)
def test_a_path_that_does_not_decode_is_400_in_words(
    system: System, method: str, target: str
) -> None:
    before = len(system.log.read_text())
    status, headers, body = request(system.url, method, target)
    assert status.startswith("HTTP/1.1 400"), (status, body)
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    assert "%" in json.loads(body)["detail"]
    written = log_entries(system.log.read_text()[before:])
    assert any(e["message"] == f"refused {method} with 400" for e in written), written
    assert not any(e["level"] == "error" for e in written), written


@pytest.mark.parametrize(
    ("method", "target"),
    [("OPTIONS", "*"), ("GET", "*"), ("POST", "*"), ("GET", "ftp://x/y")],
)
def test_a_target_that_names_no_page_is_400_in_words(
    system: System, method: str, target: str
) -> None:
    """`*` (RFC 9112 §3.2.4) and targets that are neither a path nor an http(s) URL: Next.js
    throws "Invalid URL" on them, which was a plain 500."""
    status, headers, body = request(system.url, method, target)
    assert status.startswith("HTTP/1.1 400"), (status, body)
    assert headers["content-type"] == "application/json"
    assert "path" in json.loads(body)["detail"]


def test_a_percent_escape_that_decodes_still_reaches_the_app(system: System) -> None:
    for target in ("/log%69n", "/api/auth/get-%73ession", "/login?next=%2Ftasks"):
        status, _, _ = request(system.url, "GET", target)
        assert status.split()[1] in ("200", "404"), (target, status)  # the app's own answer


@pytest.mark.parametrize("target", ["/", "/api/auth/get-session", "/api/alice/tasks"])
def test_trace_is_405_with_allow(system: System, target: str) -> None:
    status, headers, body = request(system.url, "TRACE", target)
    assert status.startswith("HTTP/1.1 405"), (status, body)
    assert headers["allow"] == "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
    assert headers["x-content-type-options"] == "nosniff"
    assert json.loads(body)["detail"] == "The method TRACE is not allowed here."


def test_a_method_the_app_does_not_know_is_501(system: System) -> None:
    status, headers, body = request(system.url, "PROPFIND", "/api/auth/get-session")
    assert status.startswith("HTTP/1.1 501"), (status, body)
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["detail"] == "The method PROPFIND is not supported."
    assert b"at " not in body  # no stack


# --- slow clients (strict_web_app: whole request 2 s, header section 1 s) --------------------


def test_a_header_section_sent_too_slowly_is_408_and_closed(strict_web_app: PlainWebApp) -> None:
    host = urlsplit(strict_web_app.url).netloc
    # The header section is never finished: the server answers without waiting for it.
    answer = exchange(strict_web_app.url, f"GET /login HTTP/1.1\r\nHost: {host}\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


def test_a_body_trickled_past_the_request_timeout_gets_its_connection_closed(
    strict_web_app: PlainWebApp,
) -> None:
    where = urlsplit(strict_web_app.url)
    head = (
        f"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: {where.netloc}\r\n"
        f"Origin: {strict_web_app.url}\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
    )
    before = len(strict_web_app.log.read_text())
    sent, received = 0, b""
    with socket.create_connection((where.hostname, where.port), timeout=15) as connection:
        connection.sendall(head.encode())
        connection.settimeout(0.25)  # a byte every quarter second: never idle, never done
        try:
            while sent < 1000:
                connection.sendall(b" ")
                sent += 1
                try:
                    chunk = connection.recv(65536)
                except TimeoutError:
                    continue
                received += chunk
                if not chunk:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
    # Cut off after about 2 s (8 bytes at 4 a second; the check runs every 250 ms), long
    # before the 1000 bytes were sent.
    assert sent < 100, sent
    assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:200]
    written = log_entries(strict_web_app.log.read_text()[before:])
    assert not any(e["level"] == "error" for e in written), written


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"REQUEST_TIMEOUT_MS": "30s"}, 'REQUEST_TIMEOUT_MS: "30s" is not a positive whole number'),
        ({"MAX_CONNECTIONS": "0"}, 'MAX_CONNECTIONS: "0" is not a positive whole number'),
        (
            {"REQUEST_TIMEOUT_MS": "5000", "HEADERS_TIMEOUT_MS": "6000"},
            "HEADERS_TIMEOUT_MS (6000) must not be more than REQUEST_TIMEOUT_MS (5000)",
        ),
    ],
)
def test_a_wrong_limit_stops_the_server_with_one_line(
    settings: dict[str, str], message: str
) -> None:
    run = subprocess.run(
        [NODE, WEB_SERVER, "--port", "0"],
        cwd=FRONTEND,
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    line = json.loads(run.stderr.strip().splitlines()[-1])
    assert (line["level"], line["message"]) == ("error", message)
