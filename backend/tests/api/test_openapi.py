"""The OpenAPI document declares the bearer scheme and every answer a route can give."""

from __future__ import annotations

from typing import Any

import pytest

from tests.routes import resolve

pytestmark = pytest.mark.anyio


async def test_bearer_scheme(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())


async def test_every_task_route_declares_its_answers(spec: dict[str, Any]) -> None:
    operations = [
        (path, method, operation)
        for path, methods in spec["paths"].items()
        if path.startswith("/api/")
        for method, operation in methods.items()
    ]
    assert len(operations) == 10  # 7 on single tasks and lists, clear completed, tags, export
    for path, method, operation in operations:
        declared = set(operation["responses"])
        assert {"401", "403", "422"} <= declared, (method, path)
        assert operation["security"], (method, path)
        if "{task_id}" in path:
            assert "404" in declared, (method, path)
            if method != "get":
                assert "412" in declared, (method, path)
        if method in ("post", "put", "patch"):
            assert "413" in declared, (method, path)
            assert "requestBody" in operation, (method, path)


async def test_bodies_are_described(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/api/{user_id}/tasks"]["post"]["requestBody"]
    schema = resolve(spec, create["content"]["application/json"]["schema"])
    assert schema["required"] == ["title"]
    assert schema["properties"]["title"]["maxLength"] == 200
    complete = spec["paths"]["/api/{user_id}/tasks/{task_id}/complete"]["patch"]["requestBody"]
    assert complete["required"] is False


async def test_every_reference_resolves_within_the_document(spec: dict[str, Any]) -> None:
    """A `$ref` that points at nothing leaves that part of the contract undescribed to clients,
    code generators and fuzzers (pydantic's own `#/$defs/...` did, inside request bodies)."""
    references: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                references.append(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(spec)
    assert len(references) > 10
    for reference in sorted(set(references)):
        resolve(spec, {"$ref": reference})  # KeyError names the one that points at nothing
    assert "TaskCreate" in spec["components"]["schemas"]


async def test_links_lead_to_operations_that_exist(spec: dict[str, Any]) -> None:
    """Each Link Object (OpenAPI 3.1 §4.8.20) names a real operationId and only parameters that
    operation has; creating a task links to every operation on /tasks/{task_id}."""
    by_id = {
        operation["operationId"]: operation
        for item in spec["paths"].values()
        for operation in item.values()
    }
    assert len(by_id) == sum(len(item) for item in spec["paths"].values())  # ids are unique
    links = {
        name: link
        for item in spec["paths"].values()
        for operation in item.values()
        for answer in operation["responses"].values()
        for name, link in answer.get("links", {}).items()
    }
    for name, link in links.items():
        target = by_id[link["operationId"]]
        declared = {parameter["name"] for parameter in target.get("parameters", [])}
        assert set(link["parameters"]) <= declared, name
    on_a_task = {
        operation["operationId"]
        for path, item in spec["paths"].items()
        if path.endswith(("{task_id}", "{task_id}/complete"))
        for operation in item.values()
    }
    created = spec["paths"]["/api/{user_id}/tasks"]["post"]["responses"]["201"]["links"]
    assert {link["operationId"] for link in created.values()} == on_a_task
