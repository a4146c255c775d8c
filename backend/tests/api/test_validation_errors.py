"""A 422 names what failed where the client sent it, in words, once, without echoing the input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from taskapi.api.messages import BLANK
from taskapi.api.validation import clean
from tests.api.test_tasks import create
from tests.keys import bearer

pytestmark = pytest.mark.anyio

TASKS = "/api/alice/tasks"


def assert_readable(detail: list[dict[str, Any]]) -> None:
    for error in detail:
        assert set(error) <= {"type", "loc", "msg", "ctx"}, error  # never `input`
        assert error["type"] != "none_required", error
        assert not error["msg"].startswith("Value error"), error
        assert all(isinstance(part, int) or "[" not in part for part in error["loc"]), error


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ({"q": "x" * 101}, ["query", "q"]),
        ({"q": "a\x00"}, ["query", "q"]),
        ({"priority": "urgent"}, ["query", "priority", 0]),
        ({"tag": "x" * 31}, ["query", "tag", 0]),
        ({"due_before": "soon"}, ["query", "due_before"]),
        ({"due_after": "1700000000"}, ["query", "due_after"]),
        ({"limit": "0"}, ["query", "limit"]),
        ({"sort": "colour"}, ["query", "sort"]),
    ],
)
async def test_an_optional_parameter_fails_once_at_its_own_name(
    client: httpx.AsyncClient, query: dict[str, str], loc: list[str | int]
) -> None:
    response = await client.get(TASKS, params=query, headers=bearer())
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [error["loc"] for error in detail] == [loc]
    assert_readable(detail)


@pytest.mark.parametrize(
    ("body", "loc", "msg"),
    [
        ({"title": "\u200b\u200b"}, ["body", "title"], f"The title {BLANK}."),
        ({"title": "   "}, ["body", "title"], f"The title {BLANK}."),
        ({"title": "ok", "tags": ["\u0130" * 30]}, ["body", "tags", 0], None),
        ({"title": "ok", "due_at": "tomorrow"}, ["body", "due_at"], None),
        ({"title": "ok", "description": "a\x00"}, ["body", "description"], None),
    ],
)
async def test_a_body_field_fails_at_its_own_name(
    client: httpx.AsyncClient, body: dict[str, Any], loc: list[str | int], msg: str | None
) -> None:
    response = await client.post(TASKS, json=body, headers=bearer())
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [error["loc"] for error in detail] == [loc]
    if msg is not None:
        assert detail[0]["msg"] == msg
    assert_readable(detail)


async def test_a_patch_field_sent_as_null_fails_at_its_own_name(
    client: httpx.AsyncClient,
) -> None:
    task = await create(client, "milk")
    response = await client.patch(f"{TASKS}/{task['id']}", json={"title": None}, headers=bearer())
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [error["loc"] for error in detail] == [["body", "title"]]
    assert detail[0]["msg"] == "The title may be omitted, but not null."
    assert_readable(detail)


def test_union_members_and_repeats_are_folded_into_one_error() -> None:
    raw = [
        {
            "type": "string_too_long",
            "loc": ("query", "q", "function-after[_no_nul(), constrained-str]"),
            "msg": "String should have at most 100 characters",
            "input": "x" * 150,
            "ctx": {"max_length": 100},
        },
        {"type": "none_required", "loc": ("query", "q", "none"), "msg": "Input should be None"},
        {
            "type": "value_error",
            "loc": ("header", "Idempotency-Key", "str"),
            "msg": "Value error, is too long",
            "ctx": {"error": ValueError("is too long")},
        },
        {
            "type": "value_error",
            "loc": ("header", "Idempotency-Key", "constrained-str"),
            "msg": "Value error, is too long",
        },
    ]
    assert clean(raw) == [
        {
            "type": "string_too_long",
            "loc": ["query", "q"],
            "msg": "The search text must be at most 100 characters long.",
            "ctx": {"max_length": 100},
        },
        {
            "type": "value_error",
            "loc": ["header", "Idempotency-Key"],
            "msg": "The Idempotency-Key header is too long.",
        },
    ]
