"""The app's routes as its own OpenAPI document declares them, for tests that cover every route
(a new one included) without being edited."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(path template, METHOD, operation) for every operation of the document."""
    return [
        (path, method.upper(), operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def methods_by_path(app: FastAPI, spec: dict[str, Any]) -> dict[str, set[str]]:
    """Every path template and the methods it serves: the documented operations, and the
    pages FastAPI serves outside the document (the document itself and its viewers), GET only."""
    paths: dict[str, set[str]] = {}
    for path, method, _operation in operations(spec):
        paths.setdefault(path, set()).add(method)
    undocumented = (
        app.openapi_url,
        app.docs_url,
        app.redoc_url,
        app.swagger_ui_oauth2_redirect_url,
    )
    for page in undocumented:
        if page:
            paths.setdefault(page, set()).add("GET")
    return paths


def concrete(template: str, values: dict[str, str]) -> str:
    """The template with each `{name}` replaced by `values[name]` (KeyError names a new
    parameter a test must give a value for)."""
    return re.sub(r"\{([^}]+)\}", lambda found: values[found.group(1)], template)


def parameters(operation: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    """The operation's parameters in `where` (path, query, header), by name, with their schema."""
    return {
        parameter["name"]: parameter.get("schema", {})
        for parameter in operation.get("parameters", [])
        if parameter["in"] == where
    }


def minimal_body(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The smallest valid JSON body of an operation: its required properties, each with a value
    of its type (the first of an enum)."""
    schema = resolve(spec, operation["requestBody"]["content"]["application/json"]["schema"])
    return {name: _example(spec, schema["properties"][name]) for name in schema.get("required", [])}


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema itself, or the one its `$ref` names: a JSON Pointer into the document
    (RFC 6901; `#` is the document's root). KeyError when it points at nothing."""
    while "$ref" in schema:
        pointer = schema["$ref"]
        assert pointer.startswith("#/"), pointer
        target: Any = spec
        for token in pointer[2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        schema = target
    return schema


def _example(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    schema = resolve(spec, schema)
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return _example(spec, schema["anyOf"][0])
    values = {"string": "x", "boolean": True, "integer": 1, "number": 1, "array": [], "object": {}}
    return values[schema["type"]]
