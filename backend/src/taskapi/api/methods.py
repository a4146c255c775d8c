"""405 Method Not Allowed with an `Allow` field that names every method of the path (RFC 9110
§15.5.6: the server MUST send it; §10.2.1: the methods the target resource supports).

Starlette would name only the methods of the first route that matched the path, and walking
`app.routes` for `Route`s finds nothing since FastAPI 0.165, where an included router is one
entry of `app.routes` rather than a copy of its routes. So the methods are found the way the
router finds a route: by asking every route whether it would take the request with each method
(`BaseRoute.matches`), however the framework stores them.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from taskapi import errors
from taskapi.api import media

# Every method RFC 9110 §9 defines, and PATCH (RFC 5789 §2): each one a route here could serve.
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")

# The keys of an HTTP connection scope as the server hands it over (ASGI spec, "HTTP Connection
# Scope"), before routing adds its own (route, path_params, the framework's state).
_REQUEST_KEYS = (
    "type",
    "asgi",
    "http_version",
    "method",
    "scheme",
    "path",
    "raw_path",
    "query_string",
    "root_path",
    "headers",
    "client",
    "server",
)


def served_methods(routes: Iterable[BaseRoute], scope: Scope) -> set[str]:
    """The methods (upper case) that some route serves at this request's path; HEAD wherever
    GET is, since `taskapi.head` serves it as GET. Empty when no route has the path.

    A `Mount` would match its whole subtree with any method: this app has none."""
    request = {key: scope[key] for key in _REQUEST_KEYS if key in scope}
    candidates = list(routes)
    served = {
        method
        for method in METHODS
        if any(
            route.matches({**request, "method": method})[0] is Match.FULL for route in candidates
        )
    }
    if "GET" in served:
        served.add("HEAD")
    return served


async def method_not_allowed(request: Request, _exc: Exception) -> JSONResponse:
    """The 405 handler (registered in `main`): `Allow` in alphabetical order, and for a path that
    takes POST or PATCH the media type they accept (`Accept-Post`, W3C LDP §7.1; `Accept-Patch`,
    RFC 5789 §3.1), so a client learns both from one answer."""
    allowed = served_methods(request.app.routes, request.scope)
    headers = {"Allow": ", ".join(sorted(allowed))}
    headers.update(
        {field: media.JSON for method, field in media.ACCEPT_FIELDS.items() if method in allowed}
    )
    return JSONResponse(
        status_code=405, content={"detail": errors.METHOD_NOT_ALLOWED}, headers=headers
    )
