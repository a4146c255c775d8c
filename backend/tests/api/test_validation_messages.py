"""Every constraint the OpenAPI document states, broken one at a time: each answer is a 422 whose
messages are in a person's words, name the field, and give the limit that was passed.

The cases are derived from the document, not listed by hand, so a field or parameter added
later is walked too; a new pydantic error type gets worded (taskapi.api.messages) or this fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from taskapi.api.messages import BLANK, WORDING, label, sentence
from tests.api.test_tasks import create
from tests.keys import bearer

pytestmark = pytest.mark.anyio

# pydantic's own phrasing, none of which may reach a person.
PYDANTIC = re.compile(
    r"Input should|String should|Value should|List should|after validation|Field required|"
    r"Value error|valid (string|integer|boolean|datetime|date|list|array|dictionary)|"
    r"unable to|Input is|Unable to|should have",
)
# A value a header may carry (RFC 9110 §5.5: visible ASCII and spaces; httpx sends nothing else).
HEADER_SAFE = re.compile(r"[ -~]*")


@dataclass
class Case:
    """One broken constraint: where it is, what is sent, and what the message must say."""

    method: str
    path: str
    where: str  # "query", "header", "path" or "body"
    name: str
    broken: str  # the constraint, as the document words it
    value: Any = None  # `OMIT` to leave the field out
    mentions: list[str] = field(default_factory=list)  # numbers or choices the message names
    has_body: bool = False  # the operation takes a body (a valid one is sent when not broken)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path} {self.where} {self.name}: {self.broken}"


OMIT = object()


def resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The schema behind a `$ref` (`#/components/schemas/…`), and the non-null member of an
    optional value's `anyOf`."""
    while "$ref" in schema:
        schema = {
            **defs[schema["$ref"].rsplit("/", 1)[-1]],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    members = [member for member in schema.get("anyOf", []) if member.get("type") != "null"]
    if len(members) == 1:
        schema = {**resolve(members[0], defs), **{k: v for k, v in schema.items() if k != "anyOf"}}
    return schema


def nullable(schema: dict[str, Any]) -> bool:
    return any(member.get("type") == "null" for member in schema.get("anyOf", []))


def breaking(schema: dict[str, Any], in_text: bool) -> Iterator[tuple[str, Any, list[str]]]:
    """(constraint, a value that breaks it, what the message must name) for each constraint of
    `schema`. `in_text`: the value travels as text (query, header, path), so only text is sent."""
    kind = schema.get("type")
    if kind == "string" and "maxLength" in schema:
        yield "maxLength", "x" * (schema["maxLength"] + 1), [str(schema["maxLength"])]
    if kind == "string" and schema.get("minLength", 0) >= 1:
        short = "x" * (schema["minLength"] - 1)
        yield "minLength", short, [] if schema["minLength"] == 1 else [str(schema["minLength"])]
    if kind == "array" and "maxItems" in schema:
        yield (
            "maxItems",
            [f"item{n}" for n in range(schema["maxItems"] + 1)],
            [str(schema["maxItems"])],
        )
    for bound, step in (("maximum", 1), ("minimum", -1)):
        if bound in schema:
            yield bound, schema[bound] + step, [str(schema[bound])]
    choices = schema.get("enum") or ([schema["const"]] if "const" in schema else None)
    if choices:
        yield "enum", "none-of-these", [str(choice) for choice in choices]
    if schema.get("format") == "date-time":
        yield "date-time", "tomorrow", []
        yield "date-time with a zone", "2026-12-01T17:00", []
    if "pattern" in schema:
        for candidate in ("nope", " ", "\x00", "é"):
            if in_text and not HEADER_SAFE.fullmatch(candidate):
                continue
            if not re.search(schema["pattern"], candidate):
                yield "pattern", candidate, []
                break
    wrong_type = {"integer": "x", "boolean": "maybe", "string": 5, "array": "x", "object": []}
    if kind in wrong_type and not (in_text and kind in {"string", "array"}):
        yield "type", wrong_type[kind], []


def cases(spec: dict[str, Any]) -> Iterator[Case]:
    """Every constraint of every operation's parameters and body, broken one at a time."""
    components = spec.get("components", {}).get("schemas", {})
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")

            def case(where: str, name: str, broken: str, value: Any, mentions: list[str]) -> Case:
                return Case(method, path, where, name, broken, value, mentions, body is not None)  # noqa: B023

            for parameter in operation.get("parameters", []):
                where, name = parameter["in"], parameter["name"]
                if name == "user_id":
                    continue  # any path that is not the token's own user is 403, before 422
                schema = resolve(parameter["schema"], components)
                if schema.get("type") == "array":
                    items = resolve(schema["items"], components)
                    for broken, value, mentions in breaking(items, in_text=True):
                        yield case(where, name, f"items.{broken}", [value], mentions)
                for broken, value, mentions in breaking(schema, in_text=True):
                    yield case(where, name, broken, value, mentions)
                if parameter.get("required") and where != "path":
                    yield case(where, name, "required", OMIT, [])
            if body is None:
                continue
            body = resolve(body, components)
            defs = components
            yield case("body", "", "type object", [], [])
            yield case("body", "", "JSON", b"{", [])
            if body.get("additionalProperties") is False:
                yield case("body", "unknown", "additionalProperties", 1, [])
            for name in body.get("required", []):
                yield case("body", name, "required", OMIT, [])
            for name, raw in body.get("properties", {}).items():
                prop = resolve(raw, defs)
                if not nullable(raw):
                    yield case("body", name, "not null", None, [])
                if prop.get("type") == "array":
                    items = resolve(prop["items"], defs)
                    for broken, value, mentions in breaking(items, in_text=False):
                        yield case("body", name, f"items.{broken}", [value], mentions)
                for broken, value, mentions in breaking(prop, in_text=False):
                    yield case("body", name, broken, value, mentions)


def base_body(case: Case) -> dict[str, Any]:
    """A valid body for the case's operation, which the case then breaks in one place."""
    if case.path.endswith("/complete"):
        return {"completed": True}
    return {"title": "valid"} if case.method in {"post", "put"} else {}


async def send(client: httpx.AsyncClient, case: Case, task_id: int) -> httpx.Response:
    task = str(case.value) if case.where == "path" else str(task_id)
    path = case.path.replace("{user_id}", "alice").replace("{task_id}", task)
    params: dict[str, Any] = {"status": "completed"} if case.method == "delete" else {}
    headers = bearer()
    if case.where == "query":
        params.pop(case.name, None)
        if case.value is not OMIT:
            params[case.name] = case.value
    elif case.where == "header":
        headers[case.name] = str(case.value)
    if not case.has_body:
        return await client.request(case.method, path, params=params, headers=headers)
    body: Any = base_body(case)
    if case.where == "body" and case.name == "":  # the body as a whole
        if isinstance(case.value, bytes):
            headers["Content-Type"] = "application/json"
            return await client.request(
                case.method, path, params=params, headers=headers, content=case.value
            )
        body = case.value
    elif case.where == "body" and case.value is OMIT:
        body.pop(case.name, None)
    elif case.where == "body":
        body[case.name] = case.value
    return await client.request(case.method, path, params=params, headers=headers, json=body)


async def test_every_constraint_in_the_document_is_refused_in_words(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    task = await create(client, "kept as it is")
    walked = list(cases(spec))
    assert len(walked) > 60  # every operation's parameters and bodies, not a few of them
    seen: set[str] = set()
    for case in walked:
        response = await send(client, case, task["id"])
        assert response.status_code == 422, (str(case), response.status_code, response.text)
        detail = response.json()["detail"]
        assert isinstance(detail, list), (str(case), detail)
        assert len(detail) == 1, (str(case), detail)
        for error in detail:
            seen.add(error["type"])
            message = error["msg"]
            assert error["type"] in WORDING or error["type"] == "value_error", (str(case), error)
            assert not PYDANTIC.search(message), (str(case), message)
            assert message[:1].isupper(), (str(case), message)
            assert message.endswith("."), (str(case), message)
            assert label(error["loc"]) in message or message.startswith("At "), (str(case), error)
            for mention in case.mentions:
                assert mention in message, (str(case), mention, message)
    # The kinds of failure walked: if the document stops stating one, this says which.
    assert {
        "string_too_long",
        "string_too_short",
        "too_long",
        "enum",
        "literal_error",
        "greater_than_equal",
        "less_than_equal",
        "int_parsing",
        "bool_parsing",
        "datetime_from_date_parsing",
        "timezone_aware",
        "missing",
        "string_type",
        "model_type",
        "json_invalid",
        "extra_forbidden",
        "string_pattern_mismatch",
        "value_error",
        "bool_type",
        "list_type",
    } <= seen


async def test_eleven_tags_are_refused_in_words(client: httpx.AsyncClient) -> None:
    tags = [f"t{n}" for n in range(11)]
    response = await client.post(
        "/api/alice/tasks", json={"title": "x", "tags": tags}, headers=bearer()
    )
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "too_long",
            "loc": ["body", "tags"],
            "msg": "At most 10 tags are allowed, not 11.",
            "ctx": {"field_type": "List", "max_length": 10, "actual_length": 11},
        }
    ]
    listed = await client.get("/api/alice/tasks", params={"tag": tags}, headers=bearer())
    assert listed.json()["detail"][0]["msg"] == "At most 10 tag filters are allowed, not 11."


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ("string_too_long", ["body", "title"], {"max_length": 200}),
            "The title must be at most 200 characters long.",
        ),
        (("string_too_short", ["body", "tags", 2], {"min_length": 1}), f"Tag 3 {BLANK}."),
        (
            ("less_than_equal", ["query", "limit"], {"le": 500}),
            "The page size (limit) must be 500 or less.",
        ),
        (("greater_than", ["query", "page"], {"gt": 0}), "The parameter page must be more than 0."),
        (("less_than", ["body", "score"], {"lt": 5}), "The field score must be less than 5."),
        (
            ("too_short", ["body", "tags"], {"min_length": 1, "actual_length": 0}),
            "At least 1 tags are needed, not 0.",
        ),
        (
            ("enum", ["body", "priority"], {"expected": "'low', 'medium' or 'high'"}),
            "The priority must be 'low', 'medium' or 'high'.",
        ),
        (("some_new_type", ["body", "title"], {}), "The title is not valid."),
        (("string_too_long", ["body", "title"], {}), "The title is not valid."),  # no numbers
        (("value_error", ["body", "title"], {}), "The title must not contain the NUL character."),
        (("missing", ["body", "list", 0], {}), "Item 1 of the field list is required."),
    ],
)
def test_each_error_type_is_one_sentence_naming_the_field(
    error: tuple[str, list[str | int], dict[str, Any]], expected: str
) -> None:
    error_type, loc, ctx = error
    pydantic_message = "Value error, must not contain the NUL character"
    assert sentence(error_type, loc, ctx, pydantic_message) == expected
