"""A stand-in for the task API that records what reaches it and answers with every header the
real one may send, plus some it never should pass on: for testing what the web app forwards."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# What the browser needs from the task API's answers (and so must come through).
NEEDED = {
    "ETag": '"7"',
    "X-Total-Count": "3",
    "Retry-After": "1",
    "Allow": "GET, HEAD, POST",
    "WWW-Authenticate": 'Bearer error="invalid_token"',
    "Cache-Control": "no-store",
    "X-Request-ID": "req-123",
}
# What must not: the backend's own details, and cookies on the web origin.
LEAKS = {
    "Server": "internal-taskapi/9.9",
    "X-Backend-Host": "db-7.internal.example",
    "Set-Cookie": "backend=1; Path=/",
    # The task API sends no Location; one passed on as it is could name the backend's address.
    "Location": "http://taskapi.internal:8000/api/someone/tasks/1",
}


@dataclass
class Received:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class RecordingBackend:
    url: str
    received: list[Received] = field(default_factory=list)

    def last(self) -> Received:
        return self.received[-1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    backend: RecordingBackend
    stopping: threading.Event

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _answer(self) -> None:
        body = self._body() if self.command not in ("GET", "HEAD") else b""
        self.backend.received.append(
            Received(self.command, self.path, list(self.headers.items()), body)
        )
        query = parse_qs(urlsplit(self.path).query)
        if query.get("hang"):  # a backend that stopped (SIGSTOP): never answers, keeps the line
            self.stopping.wait()
            return
        status = int(query.get("status", ["200"])[0])
        if self.headers.get("If-None-Match") == NEEDED["ETag"]:
            status = 304
        echo: dict[str, str] = {"echo": body.decode()}
        if pad := int(query.get("pad", ["0"])[0]):  # a long answer, to any method
            echo["pad"] = "x" * pad
        payload = b"" if status in (204, 304) else json.dumps(echo).encode()
        self.send_response_only(status)
        for name, value in {**NEEDED, **LEAKS}.items():
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer  # noqa: N815


@contextmanager
def recording_backend() -> Iterator[RecordingBackend]:
    """The stand-in on a free port of 127.0.0.1, in a thread, for the duration of the block.
    `?status=N` answers N; `?pad=N` adds N bytes to the answer; `?hang=1` never answers (until
    the block ends)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    backend = RecordingBackend(url=f"http://127.0.0.1:{server.server_address[1]}")
    stopping = threading.Event()
    server.RequestHandlerClass = type(
        "Handler", (_Handler,), {"backend": backend, "stopping": stopping}
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield backend
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
