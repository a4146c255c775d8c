"""Only JSON is read as JSON: every route that takes a body answers 415 to any other media type
(RFC 9110 §15.5.16), after 401, 403 and 404, and never acts on it. The routes come from the
app's OpenAPI document (every operation with a `requestBody`), so a new one is covered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from taskapi import errors
from taskapi.api import media
from taskapi.api.deps import MAX_BODY_BYTES
from tests.keys import bearer
from tests.routes import concrete, minimal_body, operations

pytestmark = pytest.mark.anyio

REFUSED = {errors.MISSING_MEDIA_TYPE, errors.UNSUPPORTED_MEDIA_TYPE}
BOUNDARY = "b0undary"


@pytest.fixture
async def task_id(client: httpx.AsyncClient) -> str:
    created = await client.post("/api/alice/tasks", json={"title": "milk"}, headers=bearer())
    assert created.status_code == 201
    return str(created.json()["id"])


def with_body(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = [op for op in operations(spec) if "requestBody" in op[2]]
    assert len(found) >= 4  # really derived: create, replace, patch, complete
    return found


async def everything(client: httpx.AsyncClient) -> Any:
    return (await client.get("/api/alice/tasks", headers=bearer())).json()


def refusals(body: dict[str, Any]) -> list[tuple[str | None, bytes]]:
    """(Content-Type, content) pairs that are not JSON, though most carry JSON bytes."""
    as_json = json.dumps(body).encode()
    form = urlencode({key: str(value) for key, value in body.items()}).encode()
    multipart = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="json"\r\n\r\n'
        f"{as_json.decode()}\r\n--{BOUNDARY}--\r\n"
    ).encode()
    return [
        ("text/plain", as_json),
        ("text/plain; charset=utf-8", as_json),
        ("application/x-www-form-urlencoded", as_json),
        ("application/x-www-form-urlencoded", form or b"x=1"),
        (f"multipart/form-data; boundary={BOUNDARY}", multipart),
        (None, as_json),
        ("", as_json),
        ("application/octet-stream", as_json),
        ("text/json", as_json),
        ("application/jsonx", as_json),
        ("application/+json", as_json),
        ("json", as_json),
        ("application/json, text/plain", as_json),
    ]


async def test_every_body_that_is_not_json_is_415_and_changes_nothing(
    client: httpx.AsyncClient, spec: dict[str, Any], task_id: str
) -> None:
    before = await everything(client)
    for template, method, operation in with_body(spec):
        path = concrete(template, {"user_id": "alice", "task_id": task_id})
        for content_type, content in refusals(minimal_body(spec, operation)):
            headers = bearer() | (
                {"Content-Type": content_type} if content_type is not None else {}
            )
            response = await client.request(method, path, content=content, headers=headers)
            assert response.status_code == 415, (method, template, content_type)
            assert response.json()["detail"] in REFUSED
            if content_type is None:
                assert response.json()["detail"] == errors.MISSING_MEDIA_TYPE
            field = media.ACCEPT_FIELDS.get(method)
            if field is not None:
                assert response.headers[field] == "application/json", (method, template)
            assert "Accept-Encoding" not in response.headers
    assert await everything(client) == before


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        'Application/JSON;Charset="UTF-8"',
        "application/merge-patch+json",
        "application/vnd.taskapi.task+json ; q=1",
    ],
)
async def test_json_and_any_json_suffix_are_read(
    client: httpx.AsyncClient, spec: dict[str, Any], task_id: str, content_type: str
) -> None:
    for template, method, operation in with_body(spec):
        path = concrete(template, {"user_id": "alice", "task_id": task_id})
        body = json.dumps(minimal_body(spec, operation)).encode()
        headers = bearer() | {"Content-Type": content_type}
        response = await client.request(method, path, content=body, headers=headers)
        assert 200 <= response.status_code < 300, (method, template, response.text)


async def test_an_empty_body_has_no_media_type_to_refuse(
    client: httpx.AsyncClient, spec: dict[str, Any], task_id: str
) -> None:
    """An optional body may be left out, whatever Content-Type says (curl -d '' sends a form
    type); a required one left out is a validation error, not a media type error."""
    for template, method, operation in with_body(spec):
        path = concrete(template, {"user_id": "alice", "task_id": task_id})
        for headers in ({}, {"Content-Type": "application/x-www-form-urlencoded"}):
            response = await client.request(method, path, content=b"", headers=bearer() | headers)
            if operation["requestBody"].get("required", False):
                assert response.status_code == 422, (method, template)
            else:
                assert response.status_code == 200, (method, template)


async def test_a_body_of_whitespace_alone_is_not_an_empty_one(
    client: httpx.AsyncClient, spec: dict[str, Any], task_id: str
) -> None:
    """Whitespace alone is a JSON text with no value (RFC 8259 §2): 422 even where the body may
    be left out, and nothing changes (the fuzzer's stateful phase found a `\\n` accepted)."""
    for template, method, _operation in with_body(spec):
        path = concrete(template, {"user_id": "alice", "task_id": task_id})
        for body in (b"\n", b" ", b"\r\n\t "):
            headers = bearer() | {"Content-Type": "application/json"}
            response = await client.request(method, path, content=body, headers=headers)
            assert response.status_code == 422, (method, template, body)
    task = await client.get(f"/api/alice/tasks/{task_id}", headers=bearer())
    assert task.json()["version"] == 1


async def test_a_chunked_body_that_is_not_json_is_415(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title":'
        yield b' "chunked"}'

    headers = bearer() | {"Content-Type": "text/plain"}
    response = await client.post("/api/alice/tasks", content=chunks(), headers=headers)
    assert response.status_code == 415
    assert "content-length" not in response.request.headers
    json_headers = bearer() | {"Content-Type": "application/json"}
    accepted = await client.post("/api/alice/tasks", content=chunks(), headers=json_headers)
    assert accepted.status_code == 201


@pytest.mark.parametrize("coding", ["gzip", "br", "identity, gzip"])
async def test_a_compressed_body_is_415_naming_identity(
    client: httpx.AsyncClient, coding: str
) -> None:
    headers = bearer() | {"Content-Type": "application/json", "Content-Encoding": coding}
    response = await client.post("/api/alice/tasks", content=b'{"title": "x"}', headers=headers)
    assert response.status_code == 415
    assert response.json()["detail"] == errors.UNSUPPORTED_CONTENT_ENCODING
    assert response.headers["Accept-Encoding"] == "identity"
    assert await everything(client) == []


async def test_identity_coding_is_read(client: httpx.AsyncClient) -> None:
    headers = bearer() | {"Content-Type": "application/json", "Content-Encoding": "identity"}
    response = await client.post("/api/alice/tasks", content=b'{"title": "x"}', headers=headers)
    assert response.status_code == 201


async def test_415_comes_after_401_403_and_404_and_after_a_declared_413(
    client: httpx.AsyncClient, spec: dict[str, Any], task_id: str
) -> None:
    plain = {"Content-Type": "text/plain"}
    for template, method, _operation in with_body(spec):
        own = concrete(template, {"user_id": "alice", "task_id": task_id})
        other = concrete(template, {"user_id": "bob", "task_id": task_id})
        missing = concrete(template, {"user_id": "alice", "task_id": "999999999"})
        cases = [(own, {}, 401), (other, bearer(), 403), (own, bearer(), 415)]
        if "{task_id}" in template:
            cases.append((missing, bearer(), 404))
        for path, headers, expected in cases:
            response = await client.request(method, path, content=b"x", headers=headers | plain)
            assert response.status_code == expected, (method, template, expected)
        too_large = b"x" * (MAX_BODY_BYTES + 1)
        response = await client.request(method, own, content=too_large, headers=bearer() | plain)
        assert response.status_code == 413, (method, template)


async def test_the_document_declares_415_wherever_a_body_is_read(spec: dict[str, Any]) -> None:
    for template, method, operation in with_body(spec):
        assert "415" in operation["responses"], (method, template)
        assert list(operation["requestBody"]["content"]) == ["application/json"]


@pytest.mark.parametrize(
    ("content_type", "json_"),
    [
        ("application/json", True),
        ("APPLICATION/JSON", True),
        ("application/json;", True),  # an empty parameter is allowed (RFC 9110 §5.6.6)
        ('application/json; foo="a;b\\"c"', True),  # a quoted string may hold ; and \"
        ("application/problem+json; charset=utf-8", True),
        (" application/json ", True),
        ("application/json; charset", False),  # a parameter without a value
        ("application/json charset=utf-8", False),
        ("application/ json", False),
        ("application/json+xml", False),
        ("*/*", False),
        ("application/*", False),
    ],
)
def test_the_media_type_grammar(content_type: str, json_: bool) -> None:
    assert media.is_json(content_type) is json_
