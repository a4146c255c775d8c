"""Download my data (GET /api/{user_id}/export): every field of every task, as JSON and as
CSV, streamed a batch at a time."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from taskapi import export
from taskapi.db import Connection
from taskapi.tasks import tasks_table
from tests.api.test_tasks import create
from tests.keys import bearer

pytestmark = pytest.mark.anyio

FIELDS = [
    "id",
    "title",
    "description",
    "completed",
    "priority",
    "tags",
    "due_at",
    "created_at",
    "updated_at",
    "version",
]

# Text a CSV writer or a spreadsheet may get wrong: separators, quotes, line breaks, scripts
# outside ASCII, and cells a spreadsheet would run as formulas.
AWKWARD: list[dict[str, Any]] = [
    {"title": 'Milk, eggs and "bread"', "description": "line one\nline two\r\nline three"},
    {
        "title": "Ünïcödé 日本語 🎉",
        "description": "é (combining) and ß",
        "tags": ["ça, va", "日本"],
    },
    {"title": '=HYPERLINK("http://x","y")', "description": "+1+2", "priority": "high"},
    {"title": "-2+3", "description": "@SUM(A1)", "tags": ["=cmd"], "completed": True},
    {"title": "@me", "description": "\tindented", "due_at": "2026-12-24T17:30:00+01:00"},
    {"title": "+44 20", "description": "\rreturn", "priority": "low"},
    {"title": "plain", "description": None},
    {"title": "'already quoted", "description": ""},
]


async def export_of(client: httpx.AsyncClient, file_format: str, sub: str = "alice") -> Any:
    response = await client.get(f"/api/{sub}/export?format={file_format}", headers=bearer(sub))
    assert response.status_code == 200, response.text
    return response


async def listed(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every task as the list endpoint returns it, oldest first, without `user_id`."""
    response = await client.get("/api/alice/tasks?limit=500", headers=bearer())
    return [{k: v for k, v in task.items() if k != "user_id"} for task in response.json()[::-1]]


async def test_json_holds_every_field_of_every_task_exactly(client: httpx.AsyncClient) -> None:
    for fields in AWKWARD:
        await create(client, **fields)
    changed = await create(client, "changed later")
    await client.patch(
        f"/api/alice/tasks/{changed['id']}", json={"completed": True}, headers=bearer()
    )
    await create(client, "not mine", sub="bob")

    response = await export_of(client, "json")

    assert response.headers["content-type"] == "application/json"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="tasks-')
    assert disposition.endswith('.json"')
    exported = response.json()
    assert exported == await listed(client)
    assert [list(task) for task in exported] == [FIELDS] * (len(AWKWARD) + 1)
    assert exported[-1]["version"] == 2


def un_neutralised(cell: str) -> str:
    """What a reader of the CSV that is not a spreadsheet does (taskapi.export.neutralised)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in "=+-@\t\r" and cell[1:2] else cell


def as_cells(task: dict[str, Any]) -> list[str]:
    """A task of the JSON export, as the CSV export writes it (before neutralising)."""
    return [
        str(task["id"]),
        task["title"],
        task["description"] or "",
        "true" if task["completed"] else "false",
        task["priority"],
        json.dumps(task["tags"], ensure_ascii=False, separators=(",", ":")),
        task["due_at"] or "",
        task["created_at"],
        task["updated_at"],
        str(task["version"]),
    ]


async def test_csv_parses_to_the_same_values(client: httpx.AsyncClient) -> None:
    for fields in AWKWARD:
        await create(client, **fields)

    response = await export_of(client, "csv")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].endswith('.csv"')
    assert response.content.startswith((",".join(FIELDS) + "\r\n").encode())
    assert response.content.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    assert rows[0] == FIELDS
    expected = [as_cells(task) for task in (await export_of(client, "json")).json()]
    assert [[un_neutralised(cell) for cell in row] for row in rows[1:]] == expected
    assert [json.loads(row[5]) for row in rows[1:]][1] == ["ça, va", "日本"]


async def test_csv_cells_that_a_spreadsheet_would_run_start_with_an_apostrophe(
    client: httpx.AsyncClient,
) -> None:
    for fields in AWKWARD:
        await create(client, **fields)
    rows = list(csv.reader(io.StringIO((await export_of(client, "csv")).text, newline="")))
    titles_and_descriptions = [cell for row in rows[1:] for cell in row[1:3] if cell]
    assert not [cell for cell in titles_and_descriptions if cell[0] in "=+-@\t\r"]
    assert [row[1] for row in rows[1:]][2:6] == [
        '\'=HYPERLINK("http://x","y")',
        "'-2+3",
        "'@me",
        "'+44 20",
    ]
    assert [row[2] for row in rows[1:]][2:6] == ["'+1+2", "'@SUM(A1)", "'\tindented", "'\rreturn"]
    assert rows[8][1] == "'already quoted"  # not a formula: left as it is


@pytest.mark.parametrize(("file_format", "body"), [("json", b"[]"), ("csv", None)])
async def test_an_empty_list(client: httpx.AsyncClient, file_format: str, body: Any) -> None:
    await create(client, "not mine", sub="bob")
    response = await export_of(client, file_format)
    assert response.content == (body or (",".join(FIELDS) + "\r\n").encode())


async def test_json_is_the_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/alice/export", headers=bearer())
    assert response.headers["content-type"] == "application/json"
    assert response.json() == []


async def test_another_persons_tasks_are_403(client: httpx.AsyncClient) -> None:
    await create(client, "bob's", sub="bob")
    response = await client.get("/api/bob/export?format=csv", headers=bearer("alice"))
    assert response.status_code == 403
    assert "bob's" not in response.text


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/alice/export")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_unknown_format_is_422_in_words(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/alice/export?format=xlsx", headers=bearer())
    assert response.status_code == 422
    assert "json" in response.json()["detail"][0]["msg"]


# The many-tasks test: enough for 5 batches, with equal creation times across batch ends.
MANY = 5_000


async def insert_many(connection: Connection, owner: str, count: int) -> None:
    """`count` tasks, straight into the table: multi-row INSERTs of 2,000 (20,000 parameters,
    under both databases' limit of 32,766 per statement)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = [
        {
            "user_id": owner,
            "title": f"task {n}",
            "description": None,
            "completed": n % 2 == 0,
            "priority": "medium",
            "tags": [],
            "due_at": None,
            # Three tasks share each time: the keyset must order them by id, across batches.
            "created_at": start + timedelta(microseconds=n // 3),
            "updated_at": start,
            "version": 1,
        }
        for n in range(count)
    ]
    for first in range(0, count, 2000):
        await connection.execute(insert(tasks_table).values(rows[first : first + 2000]))


async def test_many_tasks_stream_a_batch_at_a_time(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Complete, and bounded: when each part of the file is sent, the server has read exactly
    one batch more than it sent before, so it never holds more than one batch of tasks."""
    async with app.state.database.connect() as connection:
        await insert_many(connection, "alice", MANY)
        await insert_many(connection, "bob", export.BATCH + 1)
    reads: list[int] = []
    read_batch = export.read_batch

    async def counted(*args: Any) -> export.Batch:
        batch = await read_batch(*args)
        reads.append(len(batch))
        return batch

    monkeypatch.setattr(export, "read_batch", counted)

    for file_format in ("json", "csv"):
        reads.clear()
        parts, read_when_sent = await stream(app, f"/api/alice/export?format={file_format}", reads)
        batches = MANY // export.BATCH
        # The opening ("[" or the header row), a part per batch, then the closing "]" (JSON).
        assert len(parts) in (batches + 1, batches + 2)
        assert read_when_sent[1 : batches + 1] == list(range(1, batches + 1))
        assert reads == [export.BATCH] * batches + [0]  # the last one finds none left
        body = b"".join(parts)
        if file_format == "json":
            ids = [task["id"] for task in json.loads(body)]
        else:
            rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
            ids = [int(row[0]) for row in rows[1:]]
        assert len(ids) == MANY
        assert ids == sorted(set(ids))  # each once, in creation (then id) order


async def stream(app: FastAPI, path: str, reads: list[int]) -> tuple[list[bytes], list[int]]:
    """The body of GET `path` as the parts the app sent, and how many batches it had read
    (`len(reads)`) when it sent each: the app is called as an ASGI server calls it, so that
    nothing is buffered in between (httpx's ASGITransport would gather the whole body first)."""
    parts: list[bytes] = []
    read_when_sent: list[int] = []

    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:  # the client stays connected until the answer ends
            await asyncio.Event().wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200
        elif message["type"] == "http.response.body" and message.get("body"):
            parts.append(message["body"])
            read_when_sent.append(len(reads))

    path_only, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path_only,
        "raw_path": path_only.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", bearer()["Authorization"].encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return parts, read_when_sent
