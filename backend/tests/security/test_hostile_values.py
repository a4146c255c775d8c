"""Every value a client controls that reaches the database, at its extremes, on the database
under test (SQLite, and PostgreSQL in the PostgreSQL pass): each gets a 4xx, or a 2xx that is
right, and never a 500. Path, query, headers, body and token claims, in that order."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from starlette.types import Message

from taskapi.models import SEARCH_MAX
from tests.keys import SECRET, claims_for, hs256

pytestmark = pytest.mark.anyio

USER = "hostile"
TASKS = f"/api/{USER}/tasks"


def bearer(sub: str = USER, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {hs256(sub, **claims)}"}


@pytest.fixture
async def task(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post(TASKS, json={"title": "target", "tags": ["t"]}, headers=bearer())
    assert response.status_code == 201
    task: dict[str, Any] = response.json()
    return task


@pytest.fixture
def statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app runs while the test does."""
    engine = app.state.database.engine
    engine = getattr(engine, "sync_engine", engine)  # PostgreSQL's is async
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


# --- path ---------------------------------------------------------------------------------

HOSTILE_USER_IDS = [
    "a%00b",
    "hostile%00",
    "%ED%A0%80",  # a UTF-8-encoded surrogate: not UTF-8
    "%FF",
    "%C0%AF",  # an overlong "/"
    "h%C3%B6stile",
    "hostile%0A",
    "hostile%20",
    "x" * 5000,
    "%E2%80%8Bhostile",  # a zero-width space first
    "HOSTILE",
]


@pytest.mark.parametrize("user_id", HOSTILE_USER_IDS)
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_a_path_user_that_is_not_the_token_is_403_before_any_statement(
    client: httpx.AsyncClient, statements: list[str], user_id: str, method: str
) -> None:
    url = f"/api/{user_id}/tasks" + ("?status=completed" if method == "DELETE" else "")
    response = await client.request(method, url, json={"title": "x"}, headers=bearer())
    assert response.status_code == 403, response.text
    assert statements == []


@pytest.mark.parametrize(
    ("task_id", "allowed"),
    [
        ("0", {404}),
        ("-1", {404}),
        ("9223372036854775807", {404}),  # the largest id there can be
        ("9223372036854775808", {404}),
        ("-9223372036854775809", {404}),
        ("9" * 30, {404}),
        ("9" * 5000, {404, 422}),  # past Python's limit on digits read
        ("1e3", {422}),
        ("0x10", {422}),
        ("%00", {422}),
        ("1%00", {422}),
        ("%ED%A0%80", {422}),
        ("%EF%BC%91", {404, 422}),  # a fullwidth 1
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_task_ids_that_cannot_exist(
    client: httpx.AsyncClient, task_id: str, allowed: set[int], method: str
) -> None:
    response = await client.request(
        method, f"{TASKS}/{task_id}", json={"title": "x"}, headers=bearer()
    )
    assert response.status_code in allowed, (response.status_code, response.text)


# --- query string -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("q=%00", 422),
        ("q=a%00", 422),
        ("q=%ED%A0%80", 200),  # not UTF-8: decoded to U+FFFD, searched for as such
        ("q=%FF%FE", 200),
        ("q=%EF%BF%BF", 422),  # a noncharacter: unassigned (Cn), refused in every text
        ("q=%F4%8F%BF%BF", 422),  # the last code point, a noncharacter too
        ("q=%22%22%22", 200),  # quotes inside the full-text phrase
        ("q=NEAR(a%20b)", 200),
        ("q=*", 200),
        ("q=%25_%5C", 200),
        ("q=" + "x" * SEARCH_MAX, 200),
        ("q=" + "x" * (SEARCH_MAX + 1), 422),
        ("q=" + "%C4%B0" * SEARCH_MAX, 200),  # U+0130, searched as it is (not lower-cased)
        ("q=" + "e%CC%81" * SEARCH_MAX, 200),  # twice the code points, SEARCH_MAX once composed
        ("q=" + "%E0%A5%98" * (SEARCH_MAX // 2 + 1), 422),  # NFC decomposes U+0958: 2 each
        ("tag=%00", 422),
        ("tag=%ED%A0%80", 200),
        ("tag=%E2%80%8B", 422),  # blank once trimmed
        ("tag=" + "%C4%B0" * 30, 422),  # 60 characters once lower-cased
        ("tag=" + "x" * 31, 422),
        ("due_before=0001-01-01T00:00:00Z", 200),
        ("due_after=0001-01-01T00:00:00Z", 200),
        ("due_before=9999-12-31T23:59:59.999999Z", 200),
        ("due_after=9999-12-31T23:59:59.999999Z", 200),
        ("due_before=9999-12-31T23:59:59-01:00", 422),  # year 10000 in UTC
        ("due_after=0001-01-01T00:00:00%2B01:00", 422),  # year 0 in UTC
        ("due_before=%2B10000-01-01T00:00:00Z", 422),
        ("due_before=1e400", 422),
        ("due_before=nan", 422),
        ("offset=2147483647", 200),
        ("offset=2147483648", 422),
        ("offset=-1", 422),
        ("offset=" + "9" * 5000, 422),
        ("limit=0", 422),
        ("limit=" + "9" * 5000, 422),
        ("sort=title&order=asc&q=%C3%9F", 200),
        ("priority=%00", 422),
        ("status=%00", 422),
        ("overdue=%00", 422),
    ],
)
async def test_query_values(
    client: httpx.AsyncClient, task: dict[str, Any], query: str, status: int
) -> None:
    response = await client.get(f"{TASKS}?{query}", headers=bearer())
    assert response.status_code == status, response.text


async def test_a_far_due_date_is_found_by_the_far_filters(client: httpx.AsyncClient) -> None:
    for due in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"):
        created = await client.post(TASKS, json={"title": due, "due_at": due}, headers=bearer())
        assert created.status_code == 201, created.text
        assert created.json()["due_at"] == due
    early = await client.get(f"{TASKS}?due_before=0001-01-02T00:00:00Z", headers=bearer())
    late = await client.get(f"{TASKS}?due_after=9999-12-31T00:00:00Z", headers=bearer())
    assert [t["title"] for t in early.json()] == ["0001-01-01T00:00:00Z"]
    assert [t["title"] for t in late.json()] == ["9999-12-31T23:59:59.999999Z"]


# --- headers ------------------------------------------------------------------------------


def with_header(name: str, value: str) -> dict[bytes, bytes]:
    """The token, a JSON media type and one header, as bytes: a header may carry any octet
    (RFC 9110 §5.5), and the server reads each as a Latin-1 character."""
    return {
        b"Authorization": bearer()["Authorization"].encode(),
        b"Content-Type": b"application/json",
        name.encode(): value.encode("latin-1"),
    }


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ('"999999999999999999"', 412),  # 18 digits: past the column's range, never current
        ('"9999999999999999999"', 422),  # 19 digits: not a version this API gives
        ('"2147483648"', 412),
        ('"0"', 412),
        ('"-1"', 422),
        ('W/"1"', 412),
        ('"1e3"', 422),
        (", ".join(['"5"'] * 200), 412),  # 998 characters: within the limit
        (", ".join(['"5"'] * 1000), 422),  # thousands of versions: a slow statement, refused
        ("\xff\x00", 422),
    ],
)
async def test_if_match_values(
    client: httpx.AsyncClient, task: dict[str, Any], if_match: str, status: int
) -> None:
    headers = with_header("If-Match", if_match)
    response = await client.patch(f"{TASKS}/{task['id']}", json={"title": "y"}, headers=headers)
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("length", "status"),
    [
        ("9" * 5000, 413),  # past the digits Python's int() reads
        ("1" * 30, 413),
        ("0000000000000013", 201),  # leading zeros: 13 bytes, as sent
        ("\xb2", 201),  # a superscript two: a digit to str.isdigit, not to HTTP
        ("-1", 201),
    ],
)
async def test_content_length_values(app: FastAPI, length: str, status: int) -> None:
    """Straight to the app, as uvicorn's parser refuses most of these before it would: the app
    must hold on its own, behind whatever server."""
    body = b'{"title":"x"}'
    answered: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answered.append(message["status"])

    headers = with_header("Content-Length", length)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": TASKS,
        "raw_path": TASKS.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
    }
    await app(scope, receive, send)
    assert answered == [status]


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("k" * 255, 201),
        ("k" * 256, 422),
        ("\xe9t\xe9", 422),  # Latin-1 bytes: not visible ASCII
        ("\xed\xa0\x80", 422),  # a UTF-8-encoded surrogate
        ("a b", 422),
        ("~!*'();:@&=+$,/?#[]", 201),
    ],
)
async def test_idempotency_key_values(client: httpx.AsyncClient, key: str, status: int) -> None:
    headers = with_header("Idempotency-Key", key)
    response = await client.post(TASKS, json={"title": "x"}, headers=headers)
    assert response.status_code == status, response.text
    if status == 201:  # and the key is found again
        again = await client.post(TASKS, json={"title": "x"}, headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == response.json()["id"]


# --- body ---------------------------------------------------------------------------------

BODIES: list[tuple[bytes, int]] = [
    (rb'{"title": "\ud800"}', 422),  # lone surrogates, which asyncpg and sqlite3 cannot encode
    (rb'{"title": "\udc00x"}', 422),
    (rb'{"title": "x\ud83d"}', 422),
    (rb'{"title": "x", "description": "\udfff"}', 422),
    (rb'{"title": "x", "tags": ["\ud800"]}', 422),
    (rb'{"title": "\ud83d\ude00"}', 201),  # a proper pair: one emoji
    (b'{"title": "\xed\xa0\x80"}', 422),  # a surrogate encoded as UTF-8 bytes
    (b'{"title": "\xc0\xaf"}', 422),  # an overlong encoding
    (b'{"title": "\xff"}', 422),
    (b'\xef\xbb\xbf{"title": "x"}', 422),  # a byte-order mark before the JSON
    # Noncharacters are Unicode text, but unassigned (Cn): refused in every text field.
    (rb'{"title": "\ufffe\uffff\ufdd0"}', 422),
    (rb'{"title": "\udbff\udfff"}', 422),  # U+10FFFF
    (rb'{"title": "\udbfe\udffd"}', 201),  # U+10FFFD, private use: assigned
    (rb'{"title": "x", "description": "\u0000"}', 422),
    (rb'{"title": 1' + b"0" * 5000 + b"}", 422),
    (b'{"title": "x", "completed": 1e400}', 422),
    (b'{"title": "x", "priority": 1e400}', 422),
    (b'{"title": "x", "due_at": 1e400}', 422),
    (b'{"title": "x", "due_at": "0001-01-01T00:00:00Z"}', 201),
    (b'{"title": "x", "due_at": "9999-12-31T23:59:59.999999Z"}', 201),
    (b'{"title": "x", "due_at": "9999-12-31T23:59:59.999999-00:01"}', 422),
    (b'{"title": "x", "due_at": "0001-01-01T00:00:00+00:01"}', 422),
    (b'{"title": "x", "due_at": "0000-12-31T23:59:59Z"}', 422),
    (b'{"title": "x", "tags": ' + b"[" * 5000 + b"]" * 5000 + b"}", 422),
    (b'{"title": "' + "\u0958".encode() * 101 + b'"}', 422),  # 202 characters once composed
]


@pytest.mark.parametrize(("body", "status"), BODIES)
async def test_body_values_on_create(client: httpx.AsyncClient, body: bytes, status: int) -> None:
    headers = {**bearer(), "Content-Type": "application/json"}
    response = await client.post(TASKS, content=body, headers=headers)
    assert response.status_code == status, response.text


@pytest.mark.parametrize(("body", "status"), BODIES)
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_body_values_on_change(
    client: httpx.AsyncClient, task: dict[str, Any], body: bytes, status: int, method: str
) -> None:
    headers = {**bearer(), "Content-Type": "application/json"}
    response = await client.request(method, f"{TASKS}/{task['id']}", content=body, headers=headers)
    assert response.status_code == (200 if status == 201 else status), response.text


@pytest.mark.parametrize("body", [b'{"completed": 1e400}', b'{"completed": "\\ud800"}', b"\xff"])
async def test_completion_bodies(
    client: httpx.AsyncClient, task: dict[str, Any], body: bytes
) -> None:
    response = await client.patch(
        f"{TASKS}/{task['id']}/complete",
        content=body,
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


# --- token claims -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"exp": 10**400}, 200),  # valid until far past float's range: signed, so honoured
        ({"exp": -(10**400)}, 401),
        ({"iat": 10**400}, 401),
        ({"nbf": 10**400}, 401),
        ({"exp": 1e308}, 200),
        ({"iss": ["http://localhost:3000"]}, 401),
        ({"aud": [None, 1, {"a": []}]}, 401),
        ({"sub": "hostile\x00"}, 401),
        ({"sub": "\ud800"}, 401),
    ],
)
async def test_signed_claims_at_their_extremes(
    client: httpx.AsyncClient, claims: dict[str, Any], status: int
) -> None:
    # Signed as bytes: PyJWT would refuse to encode some of these claims itself.
    payload = json.dumps({**claims_for(USER), "iat": int(time.time()), **claims}).encode()
    token = jwt.api_jws.encode(payload, SECRET, algorithm="HS256")
    for _ in range(2):  # the second time from the cache of verified tokens, if it was good
        response = await client.get(TASKS, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == status, response.text
