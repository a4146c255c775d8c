"""The OpenAPI document: FastAPI's, plus the schemas of the bodies our own dependency reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from taskapi.api.deps import JsonBody


def declare_body_schemas(app: FastAPI) -> None:
    """Make `app.openapi()` put the schema of every `JsonBody` its routes read (and of what those
    refer to) under `components.schemas`, where the bodies' `$ref`s point.

    FastAPI declares only the bodies it reads itself; ours are read by `JsonBody` (for the 413 and
    415 checks before parsing), so it has no schema for them. Found through each route's
    dependencies, so a new route's body is covered. Raises RuntimeError, when the document is
    first built, if two different schemas would share one name."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()  # FastAPI keeps it as app.openapi_schema: filled in place
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for body in _bodies(app):
            for name, schema in body.schemas().items():
                if schemas.setdefault(name, schema) != schema:
                    raise RuntimeError(f"two different OpenAPI schemas are named {name}")
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it


def operation_id(route: APIRoute) -> str:
    """A route's `operationId` (OpenAPI 3.1 §4.8.10): its function's name, `get_task`, rather than
    FastAPI's default built from the path and method. Generated clients name their calls after
    it, and `TASK_LINKS` refer to it. Names are unique in this app (FastAPI warns otherwise)."""
    return route.name


def _bodies(app: FastAPI) -> Iterator[JsonBody[Any]]:
    # Since FastAPI 0.165 an included router is one entry of `app.routes`; its routes are found
    # the way FastAPI's own get_openapi() finds them.
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            yield from _bodies_of(route.dependant)


def _bodies_of(dependant: Dependant) -> Iterator[JsonBody[Any]]:
    if isinstance(dependant.call, JsonBody):
        yield dependant.call
    for dependency in dependant.dependencies:
        yield from _bodies_of(dependency)
