"""HEAD wherever GET is served: RFC 9110 §9.3.2 says a HEAD answer is the GET answer, the same
status and header fields, without the content.

One layer for every route, present and future: the request goes through the app as a GET and
the body of the answer is dropped on the way out. Whatever GET would answer (200, 401, 403, 404,
405 with `Allow`, 422) HEAD answers too. `Content-Length` stays that of the GET body, which
RFC 9110 §8.6 allows. HEAD is not a separate operation in the OpenAPI document (it would repeat
every GET operation and its id).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Pure ASGI middleware: HEAD is served as GET, minus the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        # A copy: the server keeps seeing HEAD in its own scope (uvicorn then expects no body
        # whatever Content-Length says), and so does the access log.
        as_get = {**scope, "method": "GET"}

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            # What routing learnt (the route template, the request's state) belongs to the
            # request: the access log outside reads it from the original scope.
            scope.update((key, value) for key, value in as_get.items() if key != "method")
