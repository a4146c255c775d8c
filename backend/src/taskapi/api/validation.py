"""422 answers a person can read: `{"detail": [{"type", "loc", "msg", "ctx"?}, …]}`.

FastAPI's own answer to a failed validation repeats pydantic's errors as they are. For an
optional value (`X | None`, as every optional query parameter and PATCH field here is) pydantic
tries each member of the union and reports each failure, naming the member by its schema:
`q=` of 150 characters came back as two errors, `loc: ["query", "q", "function-after[_no_nul(),
function-before[<lambda>(), constrained-str]]"]` and `"Input should be None"`. This handler keeps
what the person can act on: the failure of the value they sent, at the location they sent it
(`["query", "q"]`), in a person's words (`taskapi.api.messages`: "The search text must be at most
100 characters long." rather than "String should have at most 100 characters"), and never the
input itself (it may be a megabyte, or a secret typed into the wrong field).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from taskapi.api.messages import sentence

# What a location element may be besides a list index: a field, parameter or header name as the
# client wrote it. A union member's tag is not one (`constrained-str`, `list[str-enum[…]]`,
# `function-after[…]`), nor are the bare tags pydantic gives simple members.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MEMBER_TAGS = frozenset({"none", "str", "int", "float", "bool", "datetime", "list", "dict"})
_WHERE = frozenset({"body", "query", "path", "header", "cookie"})


def clean(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """The errors as the client should see them; see the module's docstring. Shapes: each error
    a dict with `type` (pydantic's), `loc` (a list of str and int), `msg` (one sentence that
    names the field) and, when pydantic gave one, `ctx` (JSON-safe: the constraint's numbers).
    A `none_required` error ("Input should be None") is the other member of an optional value's
    union failing, noise whenever the value itself failed, so it is dropped."""
    cleaned: list[dict[str, Any]] = []
    seen: set[tuple[str, tuple[str | int, ...], str]] = set()
    for error in errors:
        if error.get("type") == "none_required":
            continue
        loc = _location(error.get("loc", ()))
        message = sentence(
            str(error.get("type")), loc, error.get("ctx") or {}, str(error.get("msg", ""))
        )
        key = (str(error.get("type")), loc, message)
        if key in seen:
            continue
        seen.add(key)
        item: dict[str, Any] = {"type": error.get("type"), "loc": list(loc), "msg": message}
        if error.get("ctx"):
            # A ValueError's own ctx holds the exception object itself: its message is `msg`.
            context = {name: value for name, value in error["ctx"].items() if name != "error"}
            if context:
                item["ctx"] = jsonable_encoder(context)
        cleaned.append(item)
    return cleaned


def _location(loc: Sequence[str | int]) -> tuple[str | int, ...]:
    # The first two elements say where and which parameter or field (a header keeps its own
    # spelling, `Idempotency-Key`); past them, only field names and list indexes.
    head = tuple(loc[:2]) if loc and loc[0] in _WHERE else tuple(loc[:1])
    rest = tuple(
        part
        for part in loc[len(head) :]
        if isinstance(part, int) or (_NAME.fullmatch(part) and part not in _MEMBER_TAGS)
    )
    return head + rest


async def validation_failed(_request: Request, error: Exception) -> JSONResponse:
    """The 422 handler (registered in `main`)."""
    assert isinstance(error, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": clean(error.errors())})
