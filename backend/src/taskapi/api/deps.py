"""Dependencies, in the order the contract checks them: 401, 403, 404, then 413/415/422.

FastAPI solves a route's dependencies in the order its parameters are declared, and a dependency
that raises stops the rest. Bodies are read by a dependency (`JsonBody`), not by FastAPI before
the route runs, so that an unauthenticated or forbidden request is refused before a byte of its
body is read, and a request for a task that is not the caller's gets 404 whatever its body.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, Generic, NamedTuple, NoReturn, TypeVar

from fastapi import Depends, Header, HTTPException, Path, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPBearer
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import SkipJsonSchema
from starlette.requests import ClientDisconnect

from taskapi import errors, task_json, tasks
from taskapi.api import media
from taskapi.auth.subject import USER_ID_PATTERN
from taskapi.auth.verifier import (
    MAX_TOKEN_BYTES,
    InvalidToken,
    Principal,
    VerificationUnavailable,
)
from taskapi.db import PostgresDatabase, SQLiteDatabase
from taskapi.models import MAX_VERSION
from taskapi.observability import request_id_var, user_hash

MAX_BODY_BYTES = 1024 * 1024

log = logging.getLogger(__name__)


def unauthorized(detail: str, *, error: str | None = "invalid_token") -> HTTPException:
    """401 with the RFC 6750 §3 challenge: `error` is its error code (invalid_token), None
    for a request that carried no credentials."""
    # RFC 6750 §3: no error code when the request carried no credentials at all.
    challenge = f'Bearer error="{error}"' if error else "Bearer"
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": challenge},
    )


class BearerToken(HTTPBearer):
    """The request's bearer token, verified: the `Principal` it names. 401 for a missing,
    oversized or refused token (with the RFC 6750 challenge), 503 while the issuer's keys
    cannot be fetched. FastAPI's own `HTTPBearer`, which the OpenAPI document declares, does
    the parsing: one dependency for both, as every dependency FastAPI solves costs each request
    (docs/performance.md)."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        # Checked on the raw header, before anything splits or decodes it: a forged megabyte
        # costs one length comparison.
        if len(request.headers.get("authorization", "")) > MAX_TOKEN_BYTES:
            return _refuse(request, errors.OVERSIZED_TOKEN)
        credentials = await super().__call__(request)
        if credentials is None:
            raise unauthorized(errors.MISSING_TOKEN, error=None)
        try:
            principal: Principal = await request.app.state.verifier.verify(credentials.credentials)
        except InvalidToken as refused:
            return _refuse(request, refused.reason)
        except VerificationUnavailable:
            raise HTTPException(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                detail=errors.ISSUER_UNREACHABLE,
                headers={"Retry-After": "5"},
            ) from None
        request.state.user_hash = user_hash(principal.user_id)
        return principal


authenticate = BearerToken(
    auto_error=False,
    bearerFormat="JWT",
    description="A JWT from Better Auth (`GET /api/auth/token`), or `taskapi token` for HS256.",
    scheme_name="HTTPBearer",  # the name the OpenAPI document has always given it
)


def _refuse(request: Request, reason: str) -> NoReturn:
    # The reason and the request id (added by the log formatter), never the token.
    log.warning(
        "authentication failed", extra={"reason": reason, "request_id": request_id_var.get()}
    )
    raise unauthorized(reason)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


async def path_owner(
    principal: CurrentPrincipal,
    user_id: Annotated[
        str,
        Path(
            description="The user whose tasks these are: the token's `sub`",
            # Documented only: a path that is not the token's user is 403 (after the 401
            # check), not 422, whatever it holds.
            json_schema_extra={"pattern": USER_ID_PATTERN},
        ),
    ],
) -> str:
    """The path's user id, once it is the token's. The token's is a valid user id
    (taskapi.auth.subject), so no other path value gets past here to the database."""
    if principal.user_id != user_id:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=errors.FORBIDDEN_USER)
    return user_id


OwnerId = Annotated[str, Depends(path_owner)]


# Dependencies are `async def` even when they await nothing: FastAPI runs a plain `def` one on a
# worker thread, and that hop (and the GIL handover) cost half the throughput when measured.


async def get_database(request: Request) -> PostgresDatabase | SQLiteDatabase:
    database: PostgresDatabase | SQLiteDatabase = request.app.state.database
    return database


DatabaseDep = Annotated[PostgresDatabase | SQLiteDatabase, Depends(get_database)]


# RFC 9110 §13.1.1: "*" or a list of entity tags (whose elements may be empty, §5.6.1); this
# API's tags are quoted version numbers.
_TAG = r'(W/)?"[0-9]{1,18}"'
IF_MATCH_PATTERN = rf"^[ \t]*(\*|({_TAG})?([ \t]*,[ \t]*({_TAG})?)*)[ \t]*$"
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
# A client names the one version it saw, or a few: a list of thousands only made the statement
# that compares them slow (and, past 32,767 versions, too big for PostgreSQL's driver). Checked
# here, before the pattern, so that a long value costs one comparison; not in the schema, whose
# fuzzer would then send long values of spaces that no HTTP client may send.
IF_MATCH_MAX_LENGTH = 1024


def _invalid_if_match(message: str) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("header", "If-Match"), "msg": message}]
    )


async def if_match(
    header: Annotated[
        str | SkipJsonSchema[None],
        Header(
            alias="If-Match",
            json_schema_extra={"pattern": IF_MATCH_PATTERN},
            description='Change only if the task is still at this version: its ETag, e.g. "3"; '
            f"at most {IF_MATCH_MAX_LENGTH} characters",
        ),
    ] = None,
) -> tasks.Expected:
    """The versions If-Match accepts, or None for no precondition. `*` asks only that the task
    exist, which the 404 check already ensures. Comparison is strong: a weak tag (W/"3") never
    matches, nor does an empty list. Raises RequestValidationError (422) for a value longer than
    IF_MATCH_MAX_LENGTH or outside RFC 9110 §13.1.1's grammar as this API's tags make it."""
    if header is None:
        return None
    if len(header) > IF_MATCH_MAX_LENGTH:
        raise _invalid_if_match(
            f"must be at most {IF_MATCH_MAX_LENGTH} characters: name the version you last saw"
        )
    if not _IF_MATCH.match(header):
        raise _invalid_if_match('must be * or a list of this API\'s ETags, such as "3"')
    if header.strip() == "*":
        return None
    tags = (tag.strip() for tag in header.split(","))
    versions = (int(tag[1:-1]) for tag in tags if tag and not tag.startswith("W/"))
    # A version past the column's range cannot be current (nor bound as a parameter).
    return frozenset(version for version in versions if version <= MAX_VERSION)


IfMatch = Annotated[tasks.Expected, Depends(if_match)]


def task_not_found() -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=errors.TASK_NOT_FOUND)


class TaskKey(NamedTuple):
    """A task the request's owner has (it existed when looked up)."""

    owner: str
    id: int


TaskIdParam = Annotated[int, Path(description="The task's id")]


async def owned_task(owner: OwnerId, database: DatabaseDep, task_id: TaskIdParam) -> TaskKey:
    """The task, once it is known to be the owner's (else 404): one indexed look-up, nothing
    read. Its own short-lived connection: a request holds at most one at a time (the write
    that follows may need a transaction, which takes a connection of its own)."""
    async with database.connect() as connection:
        found = await task_json.exists(connection, owner, task_id)
    if not found:
        raise task_not_found()
    return TaskKey(owner, task_id)


OwnedTask = Annotated[TaskKey, Depends(owned_task)]

ModelT = TypeVar("ModelT", bound=BaseModel)


async def read_capped_body(
    request: Request, *, refuse_content: HTTPException | None = None
) -> bytes:
    """The body, refused with 413 as soon as it is known to pass 1 MiB (never read whole).
    `refuse_content`, if given, is raised as soon as the body is known not to be empty: by its
    declared length, or by its first bytes (a declared length over the limit is 413 first)."""
    too_large = HTTPException(
        status_code=status.HTTP_413_CONTENT_TOO_LARGE, detail=errors.BODY_TOO_LARGE
    )
    declared = request.headers.get("content-length", "")
    if _declares_more_than(declared, MAX_BODY_BYTES):
        raise too_large
    if refuse_content is not None and _declares_more_than(declared, 0):
        raise refuse_content
    body = bytearray()
    try:
        async for chunk in request.stream():
            if chunk and refuse_content is not None:
                raise refuse_content
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise too_large
    except ClientDisconnect:
        # The client went away before the body's end (ASGI's http.disconnect): part of a body
        # is never acted on, and it is the client's doing, not a fault of ours to log with a
        # traceback. The 400 is logged as any answer is, though nobody is left to read it.
        raise HTTPException(
            status_code=status.HTTP_400_BAD_REQUEST, detail=errors.BODY_BROKEN_OFF
        ) from None
    return bytes(body)


def unsupported_media(request: Request) -> HTTPException | None:
    """The 415 that content sent with this request's headers would get (see `media`), or None
    when it would be read as JSON. A repeated header is joined (RFC 9110 §5.3): a repeated
    Content-Type is then no media type at all."""
    content_type = request.headers.getlist("content-type")
    content_encoding = request.headers.getlist("content-encoding")
    detail = media.unreadable(
        ", ".join(content_type) if content_type else None,
        ", ".join(content_encoding) if content_encoding else None,
    )
    if detail is None:
        return None
    return HTTPException(
        status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        detail=detail,
        headers=media.hint_headers(request.method, detail),
    )


def _declares_more_than(declared: str, limit: int) -> bool:
    """Whether a Content-Length (RFC 9110 §8.6: 1*DIGIT, leading zeros allowed) is over `limit`.
    ASCII digits only (`str.isdigit` also takes "²"), and compared by length first: `int()` of a
    5000-digit value raises. Anything else is left for the body's own reading to judge."""
    if not (declared.isascii() and declared.isdigit()):
        return False
    significant = declared.lstrip("0")
    return len(significant) > len(str(limit)) or int(significant or "0") > limit


class JsonBody(Generic[ModelT]):
    """A dependency that reads and validates a JSON body after the checks before it.

    A body is read only when it is JSON (see `media`; otherwise 415), so no other media type is
    ever parsed as JSON. An empty body has no media type to check: an optional body is then
    None, and a required one fails validation (422). A body of whitespace only is not empty: it
    is a JSON text with no value (RFC 8259 §2), so 422 either way."""

    def __init__(self, model: type[ModelT], *, optional: bool = False) -> None:
        self.model = model
        self.optional = optional
        self._adapter = TypeAdapter(model)

    async def __call__(self, request: Request) -> ModelT | None:
        raw = await read_capped_body(request, refuse_content=unsupported_media(request))
        if self.optional and not raw:
            return None  # no body at all; whitespace alone is not a JSON text (RFC 8259 §2)
        try:
            return self._adapter.validate_json(raw)
        except ValidationError as invalid:
            # No `input`: a 1 MiB body must not come back in the error (taskapi.api.validation
            # words the rest).
            raise RequestValidationError(
                [
                    {**item, "loc": ("body", *item["loc"])}
                    for item in invalid.errors(include_url=False, include_input=False)
                ]
            ) from None

    def openapi(self) -> dict[str, Any]:
        """The `requestBody` FastAPI would have declared, had it read the body itself: a `$ref`
        to the model's schema, which `schemas()` gives for the document's components."""
        ref = {"$ref": OPENAPI_REF.format(model=self.model.__name__)}
        return {
            "requestBody": {
                "required": not self.optional,
                "content": {"application/json": {"schema": ref}},
            }
        }

    def schemas(self) -> dict[str, dict[str, Any]]:
        """The model's schema and those it refers to, by name, for `components.schemas`.

        Pydantic puts the schemas a model refers to under its own `$defs`, which a `$ref` in an
        OpenAPI document cannot reach (`#` is the document's root, OpenAPI 3.1 §4.8.23): so the
        references point into the components instead, where FastAPI puts its own."""
        schema = self.model.model_json_schema(ref_template=OPENAPI_REF)
        defined: dict[str, dict[str, Any]] = schema.pop("$defs", {})
        return {**defined, self.model.__name__: schema}


OPENAPI_REF = "#/components/schemas/{model}"
