"""Structured logs and request ids.

Every request gets an id (a well-formed `X-Request-ID` from the client, or a new one), returned in
the response and carried by every log line written while it is served. One access line per
request (unless LOG_REQUESTS is off) records the method, the route's *template*
(`/api/{user_id}/tasks/{task_id}`, never the concrete path or its query string, where a careless
client might put a token), the status, the latency and a hash of the user id. No token is ever
logged.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Not copied into the JSON line: the record's own attributes, and uvicorn's `color_message`
# (the message again, with terminal colour codes).
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}

access_log = logging.getLogger("taskapi.access")


def user_hash(user_id: str) -> str:
    """Enough to follow one person through the logs, without writing down who they are."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:16]


class JsonFormatter(logging.Formatter):
    _second = -1
    _time = ""

    def format(self, record: logging.LogRecord) -> str:
        # One line per request: the time text is made once a second, not once a line.
        second = int(record.created)
        if second != self._second:
            self._time = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
            self._second = second
        entry: dict[str, Any] = {
            "time": self._time,
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update(
            {key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: int = logging.INFO, *, requests: bool = True) -> None:
    """JSON lines on stderr for our loggers and uvicorn's (its access log is replaced by ours);
    the access line of each request only when `requests` (LOG_REQUESTS) is true."""
    # What a record would otherwise find out on every call, and no line of ours shows: the
    # caller's file and line (a walk up the stack), the thread's and the process's names
    # (the logging HOWTO's "Optimization"). The access line took 12.6 -> 10.7 µs.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("taskapi", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    # Warnings and errors of a request still show: RequestContext logs its line at INFO.
    access_log.setLevel(logging.NOTSET if requests else logging.WARNING)


# Headers every answer carries. Task lists and auth errors are per-person: no shared cache may
# keep them, and no browser may guess another type for them.
RESPONSE_HEADERS = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
]


class RequestContext:
    """Pure ASGI middleware (no per-request objects): the request id in and out, the headers
    above on every answer, and one access log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500  # what the client sees if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    *RESPONSE_HEADERS,
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            state = scope.get("state") or {}
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": getattr(route, "path_format", None) or "(unmatched)",
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user": state.get("user_hash"),
                },
            )
            request_id_var.reset(token)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            # Anything else could forge log lines or smuggle data: make our own instead.
            return candidate if _VALID_REQUEST_ID.fullmatch(candidate) else None
    return None
