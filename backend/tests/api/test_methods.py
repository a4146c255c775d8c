"""405 names every method of the path (RFC 9110 §15.5.6), and HEAD answers wherever GET does,
with the same status and header fields and no body (RFC 9110 §9.3.2). The paths and methods
come from the app's own OpenAPI document, so a new route is covered without editing this file."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from taskapi import errors
from taskapi.api.methods import METHODS
from tests.keys import bearer
from tests.routes import concrete, methods_by_path, operations, parameters

pytestmark = pytest.mark.anyio

# Methods no route serves, to be refused on every path as well as the standard ones.
UNKNOWN_METHODS = ("PROPFIND", "FOO")
# Header fields that differ between any two answers, whatever the method.
PER_ANSWER = {"x-request-id", "date"}


@pytest.fixture
async def values(client: httpx.AsyncClient) -> dict[str, str]:
    """A value for each path parameter that reaches real data: Alice's path, her task."""
    created = await client.post(
        "/api/alice/tasks", json={"title": "milk", "tags": ["home"]}, headers=bearer("alice")
    )
    assert created.status_code == 201
    return {"user_id": "alice", "task_id": str(created.json()["id"])}


def allowed(served: set[str]) -> set[str]:
    return served | {"HEAD"} if "GET" in served else served


async def test_every_method_a_path_lacks_is_405_naming_exactly_those_it_has(
    app: FastAPI, client: httpx.AsyncClient, spec: dict[str, Any], values: dict[str, str]
) -> None:
    paths = methods_by_path(app, spec)
    assert len(paths) >= 8  # really derived: 6 API paths, the document and its viewers
    for template, served in paths.items():
        expected = allowed(served)
        path = concrete(template, values)
        for method in (*METHODS, *UNKNOWN_METHODS):
            if method in expected:
                continue
            response = await client.request(method, path, headers=bearer("alice"))
            assert response.status_code == 405, (method, template)
            assert set(response.headers["Allow"].split(", ")) == expected, (method, template)
            if method == "HEAD":
                assert response.content == b"", template
            else:
                assert response.json() == {"detail": errors.METHOD_NOT_ALLOWED}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/alice/tasks", "DELETE, GET, HEAD, POST"),
        ("GET", "/api/alice/tasks/1/complete", "PATCH"),
        ("HEAD", "/api/alice/tasks/1/complete", "PATCH"),
        ("POST", "/api/alice/tasks/1", "DELETE, GET, HEAD, PATCH, PUT"),
        ("DELETE", "/health", "GET, HEAD"),
        ("OPTIONS", "/api/alice/tags", "GET, HEAD"),
    ],
)
async def test_allow_is_every_method_of_the_path_in_order(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path, headers=bearer("alice"))
    assert response.status_code == 405
    assert response.headers["Allow"] == allow


@pytest.mark.parametrize(
    ("path", "accept_post", "accept_patch"),
    [
        ("/api/alice/tasks", "application/json", None),
        ("/api/alice/tasks/1", None, "application/json"),
        ("/api/alice/tasks/1/complete", None, "application/json"),
        ("/api/alice/tags", None, None),
    ],
)
async def test_a_405_says_which_media_type_post_and_patch_take(
    client: httpx.AsyncClient, path: str, accept_post: str | None, accept_patch: str | None
) -> None:
    response = await client.request("TRACE", path, headers=bearer("alice"))
    assert response.status_code == 405
    assert response.headers.get("Accept-Post") == accept_post
    assert response.headers.get("Accept-Patch") == accept_patch


async def test_the_405_does_not_depend_on_who_asks(client: httpx.AsyncClient) -> None:
    answers = [
        await client.put("/api/alice/tasks", headers=headers)
        for headers in (bearer("alice"), bearer("bob"), {})
    ]
    assert {response.status_code for response in answers} == {405}
    assert {response.headers["Allow"] for response in answers} == {"DELETE, GET, HEAD, POST"}


async def test_head_answers_as_get_without_the_body_on_every_get_path(
    app: FastAPI, client: httpx.AsyncClient, spec: dict[str, Any], values: dict[str, str]
) -> None:
    by_path = {path: operation for path, method, operation in operations(spec) if method == "GET"}
    templates = [path for path, served in methods_by_path(app, spec).items() if "GET" in served]
    statuses: set[int] = set()
    for template in templates:
        operation = by_path.get(template, {})
        integer_path = {
            name
            for name, schema in parameters(operation, "path").items()
            if schema.get("type") == "integer"
        }
        integer_query = [
            name
            for name, schema in parameters(operation, "query").items()
            if schema.get("type") == "integer"
        ]
        requests: list[tuple[dict[str, str], str, dict[str, str]]] = [
            (values, "", bearer("alice")),
            (values, "", {}),
            (values, "", bearer("bob")),
            ({**values, **dict.fromkeys(integer_path, "999999999")}, "", bearer("alice")),
            ({**values, **dict.fromkeys(integer_path, "x")}, "", bearer("alice")),
            (values, "&".join(f"{name}=x" for name in integer_query), bearer("alice")),
        ]
        for path_values, query, headers in requests:
            url = concrete(template, path_values) + (f"?{query}" if query else "")
            get = await client.get(url, headers=headers)
            head = await client.head(url, headers=headers)
            assert head.status_code == get.status_code, url
            assert same_fields(head) == same_fields(get), url
            assert head.content == b"", url
            statuses.add(get.status_code)
    assert {200, 401, 403, 404, 422} <= statuses  # every kind of answer was compared


def same_fields(response: httpx.Response) -> list[tuple[str, str]]:
    return sorted(
        (name, value) for name, value in response.headers.multi_items() if name not in PER_ANSWER
    )


async def test_head_carries_the_count_and_the_etag(
    client: httpx.AsyncClient, values: dict[str, str]
) -> None:
    listing = await client.head("/api/alice/tasks", headers=bearer("alice"))
    assert listing.status_code == 200
    assert listing.headers["X-Total-Count"] == "1"
    task = await client.head(f"/api/alice/tasks/{values['task_id']}", headers=bearer("alice"))
    assert task.status_code == 200
    assert task.headers["ETag"] == '"1"'
    assert task.content == b""


async def test_head_of_health_is_200(client: httpx.AsyncClient) -> None:
    response = await client.head("/health")
    assert response.status_code == 200
    assert response.content == b""


async def test_head_is_logged_as_head_with_its_route(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="taskapi.access"):
        await client.head("/api/alice/tasks/12", headers=bearer("alice"))
    line = vars(caplog.records[-1])
    assert line["method"] == "HEAD"
    assert line["path"] == "/api/{user_id}/tasks/{task_id}"
    assert line["status"] == 404
    assert line["user"] is not None  # the request's state came back from the GET it ran as


async def test_head_is_no_operation_of_its_own_in_the_document(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(spec)]
    assert len(ids) == len(set(ids))
    assert not [path for path, method, _ in operations(spec) if method == "HEAD"]
