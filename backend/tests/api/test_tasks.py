"""The task endpoints against the contract in docs/design.md."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.keys import bearer

pytestmark = pytest.mark.anyio


JSON = {"Content-Type": "application/json"}


async def create(client: httpx.AsyncClient, title: str, sub: str = "alice", **fields: Any) -> Any:
    response = await client.post(
        f"/api/{sub}/tasks", json={"title": title, **fields}, headers=bearer(sub)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_returns_the_stored_task(client: httpx.AsyncClient) -> None:
    task = await create(client, "  Buy milk  ", description="2 litres")
    assert task["title"] == "Buy milk"  # trimmed
    assert task["description"] == "2 litres"
    assert task["completed"] is False
    assert task["user_id"] == "alice"
    assert isinstance(task["id"], int)
    created = datetime.fromisoformat(task["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert task["updated_at"] == task["created_at"]

    fetched = await client.get(f"/api/alice/tasks/{task['id']}", headers=bearer())
    assert fetched.status_code == 200
    assert fetched.json() == task


async def test_id_and_user_id_in_the_body_never_take_effect(client: httpx.AsyncClient) -> None:
    task = await create(client, "mine", id=424242, user_id="mallory")
    assert task["user_id"] == "alice"
    assert task["id"] != 424242
    mallory = await client.get("/api/mallory/tasks", headers=bearer("mallory"))
    assert mallory.json() == []


async def test_list_is_newest_first_with_total_and_paging(client: httpx.AsyncClient) -> None:
    ids = [(await create(client, f"task {n}"))["id"] for n in range(5)]
    response = await client.get("/api/alice/tasks", headers=bearer())
    assert response.status_code == 200
    assert [task["id"] for task in response.json()] == ids[::-1]
    assert response.headers["X-Total-Count"] == "5"

    page = await client.get("/api/alice/tasks?limit=2&offset=1", headers=bearer())
    assert [task["id"] for task in page.json()] == ids[::-1][1:3]
    assert page.headers["X-Total-Count"] == "5"


async def test_status_filter(client: httpx.AsyncClient) -> None:
    done = await create(client, "done", completed=True)
    todo = await create(client, "todo")
    for status, expected in (("all", [todo, done]), ("pending", [todo]), ("completed", [done])):
        response = await client.get(f"/api/alice/tasks?status={status}", headers=bearer())
        assert [task["id"] for task in response.json()] == [task["id"] for task in expected]
        assert response.headers["X-Total-Count"] == str(len(expected))


@pytest.mark.parametrize(
    "query", ["status=done", "limit=0", "limit=501", "offset=-1", "limit=ten", "status="]
)
async def test_bad_list_parameters_are_422(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/alice/tasks?{query}", headers=bearer())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


async def test_limit_of_500_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/alice/tasks?limit=500", headers=bearer())
    assert response.status_code == 200


async def test_put_replaces_every_editable_field(client: httpx.AsyncClient) -> None:
    task = await create(client, "old", description="old text", completed=True)
    response = await client.put(
        f"/api/alice/tasks/{task['id']}", json={"title": " new "}, headers=bearer()
    )
    assert response.status_code == 200
    replaced = response.json()
    assert replaced["title"] == "new"
    assert replaced["description"] is None  # omitted, so back to its default
    assert replaced["completed"] is False
    assert replaced["created_at"] == task["created_at"]
    assert replaced["updated_at"] > task["updated_at"]


async def test_patch_changes_only_the_fields_sent(client: httpx.AsyncClient) -> None:
    task = await create(client, "title", description="keep me")
    response = await client.patch(
        f"/api/alice/tasks/{task['id']}", json={"completed": True}, headers=bearer()
    )
    assert response.status_code == 200
    patched = response.json()
    assert patched["completed"] is True
    assert patched["title"] == "title"
    assert patched["description"] == "keep me"

    cleared = await client.patch(
        f"/api/alice/tasks/{task['id']}", json={"description": None}, headers=bearer()
    )
    assert cleared.json()["description"] is None


async def test_an_empty_patch_changes_nothing(client: httpx.AsyncClient) -> None:
    task = await create(client, "same")
    response = await client.patch(f"/api/alice/tasks/{task['id']}", json={}, headers=bearer())
    assert response.status_code == 200
    assert response.json() == task


@pytest.mark.parametrize("body", [{"title": None}, {"completed": None}, {"title": "   "}])
async def test_patch_refuses_null_or_blank_required_fields(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    task = await create(client, "keep")
    response = await client.patch(f"/api/alice/tasks/{task['id']}", json=body, headers=bearer())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"
    unchanged = await client.get(f"/api/alice/tasks/{task['id']}", headers=bearer())
    assert unchanged.json()["title"] == "keep"


async def test_complete_without_a_body_toggles(client: httpx.AsyncClient) -> None:
    task = await create(client, "toggle me")
    url = f"/api/alice/tasks/{task['id']}/complete"
    first = await client.patch(url, headers=bearer())
    assert first.status_code == 200
    assert first.json()["completed"] is True
    second = await client.patch(url, headers=bearer())
    assert second.json()["completed"] is False
    stored = await client.get(f"/api/alice/tasks/{task['id']}", headers=bearer())
    assert stored.json()["completed"] is False


async def test_complete_with_a_body_sets_and_is_idempotent(client: httpx.AsyncClient) -> None:
    task = await create(client, "set me")
    url = f"/api/alice/tasks/{task['id']}/complete"
    for _ in range(2):
        response = await client.patch(url, json={"completed": True}, headers=bearer())
        assert response.status_code == 200
        assert response.json()["completed"] is True


@pytest.mark.parametrize("body", ['{"completed": "yes"}', '{"done": true}', "{", "[]"])
async def test_complete_with_a_bad_body_is_422(client: httpx.AsyncClient, body: str) -> None:
    task = await create(client, "set me")
    response = await client.patch(
        f"/api/alice/tasks/{task['id']}/complete",
        content=body,
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422


async def test_delete_then_gone(client: httpx.AsyncClient) -> None:
    task = await create(client, "bye")
    response = await client.delete(f"/api/alice/tasks/{task['id']}", headers=bearer())
    assert response.status_code == 204
    assert response.content == b""
    again = await client.delete(f"/api/alice/tasks/{task['id']}", headers=bearer())
    assert again.status_code == 404
    assert (await client.get(f"/api/alice/tasks/{task['id']}", headers=bearer())).status_code == 404


@pytest.mark.parametrize(
    ("field", "length", "status"),
    [
        ("title", 200, 201),
        ("title", 201, 422),
        ("description", 1000, 201),
        ("description", 1001, 422),
    ],
)
async def test_length_limits_are_inclusive(
    client: httpx.AsyncClient, field: str, length: int, status: int
) -> None:
    body = {"title": "t", field: "é" * length}  # characters, not bytes
    response = await client.post("/api/alice/tasks", json=body, headers=bearer())
    assert response.status_code == status


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("\ufeffPay rent\ufeff", "Pay rent"),
        ("\u200b Pay rent \u2060", "Pay rent"),
        ("Cafe\u0301", "Caf\u00e9"),  # NFD in, NFC out
        ("e\u0301" * 200, "\u00e9" * 200),  # 400 sent, 200 stored: at the limit
        ("\u0958" * 100, "\u0915\u093c" * 100),  # 100 sent, 200 stored: at the limit
        ("Pay\u200brent", "Pay\u200brent"),  # inside, kept
    ],
)
async def test_titles_are_stored_composed_and_trimmed(
    client: httpx.AsyncClient, sent: str, stored: str
) -> None:
    task = await create(client, sent, description="  e\u0301\n")
    assert (task["title"], task["description"]) == (stored, "  \u00e9\n")
    url = f"/api/alice/tasks/{task['id']}"
    for method in ("PUT", "PATCH"):
        response = await client.request(method, url, json={"title": sent}, headers=bearer())
        assert response.json()["title"] == stored
    assert (await client.get(url, headers=bearer())).json()["title"] == stored


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": " \t\n "},
        {"title": 5},
        {"title": "ok", "completed": "true"},
        {"title": "ok", "description": 3},
        {"title": "nul \x00 inside"},
        {"title": "\x00"},
        {"title": "\u200b"},  # only invisible characters: blank
        {"title": "\u200b\u200c\u200d\u2060\ufeff"},
        {"title": "\u3164"},  # Hangul filler
        {"title": " \u00ad\u180e\ufe0f "},
        {"title": "\u0958" * 101},  # 202 characters once composed
        {"title": "ok", "description": "\ufb2c" * 334},  # 1002 once composed
        {"title": "ok", "description": "nul \x00"},
    ],
)
async def test_invalid_bodies_are_422_and_store_nothing(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/api/alice/tasks", json=body, headers=bearer())
    assert response.status_code == 422
    assert all(error["loc"][0] == "body" for error in response.json()["detail"])
    listing = await client.get("/api/alice/tasks", headers=bearer())
    assert listing.headers["X-Total-Count"] == "0"


@pytest.mark.parametrize("content", [b"{", b"", b"not json", b'{"title": "x"', b"\xff\xfe"])
async def test_malformed_json_is_422(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post(
        "/api/alice/tasks",
        content=content,
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_unicode_round_trips(client: httpx.AsyncClient) -> None:
    title = "Σ 🎉 日本語 \u200b RTL \u202e end"
    task = await create(client, title, description="line\nbreak\ttab 👩‍👩‍👧")
    fetched = await client.get(f"/api/alice/tasks/{task['id']}", headers=bearer())
    assert fetched.json()["title"] == title.strip()
    assert fetched.json()["description"] == "line\nbreak\ttab 👩‍👩‍👧"


async def test_two_users_never_see_each_others_tasks(client: httpx.AsyncClient) -> None:
    alice_task = await create(client, "alice's", sub="alice")
    bob_task = await create(client, "bob's", sub="bob")

    alice_list = await client.get("/api/alice/tasks", headers=bearer("alice"))
    bob_list = await client.get("/api/bob/tasks", headers=bearer("bob"))
    assert [task["id"] for task in alice_list.json()] == [alice_task["id"]]
    assert [task["id"] for task in bob_list.json()] == [bob_task["id"]]

    # Bob, under his own path, asks for Alice's task id with every method: 404, as for an id
    # that never existed, and Alice's task is untouched.
    never = await client.get("/api/bob/tasks/999999999", headers=bearer("bob"))
    other = f"/api/bob/tasks/{alice_task['id']}"
    attempts = [
        client.get(other, headers=bearer("bob")),
        client.put(other, json={"title": "pwned"}, headers=bearer("bob")),
        client.patch(other, json={"title": "pwned"}, headers=bearer("bob")),
        client.patch(f"{other}/complete", headers=bearer("bob")),
        client.delete(other, headers=bearer("bob")),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 404
        assert response.json() == never.json()

    # Bob under Alice's path: 403, whatever he asks for.
    forbidden = await client.get(f"/api/alice/tasks/{alice_task['id']}", headers=bearer("bob"))
    assert forbidden.status_code == 403

    unchanged = await client.get(f"/api/alice/tasks/{alice_task['id']}", headers=bearer("alice"))
    assert unchanged.json() == alice_task


@pytest.mark.parametrize("task_id", ["abc", "1.5", "-1", "0", "9" * 30, "9223372036854775808"])
async def test_ids_that_cannot_exist_are_404_or_422(
    client: httpx.AsyncClient, task_id: str
) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = await client.request(
            method, f"/api/alice/tasks/{task_id}", json={"title": "x"}, headers=bearer()
        )
        assert response.status_code in (404, 422), (method, response.status_code)


class TestOrderOfChecks:
    """401, then 403 (before the body is looked at), then 404, then 413/415/422."""

    async def test_no_token_beats_a_bad_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/alice/tasks", content=b"{not json")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"

    async def test_bad_token_beats_a_bad_body_and_bad_id(self, client: httpx.AsyncClient) -> None:
        response = await client.put(
            "/api/alice/tasks/abc", content=b"{", headers={"Authorization": "Bearer x.y.z"}
        )
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')

    async def test_wrong_user_beats_a_bad_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/alice/tasks", content=b"{", headers=bearer("bob"))
        assert response.status_code == 403

    async def test_wrong_user_beats_a_bad_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/alice/tasks/abc", headers=bearer("bob"))
        assert response.status_code == 403

    async def test_wrong_user_beats_a_huge_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/api/alice/tasks", content=b"x" * (2 * 1024 * 1024), headers=bearer("bob")
        )
        assert response.status_code == 403

    async def test_missing_task_beats_a_bad_body(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/api/alice/tasks/12345", content=b"{", headers=bearer())
        assert response.status_code == 404

    async def test_missing_task_beats_a_huge_body(self, client: httpx.AsyncClient) -> None:
        response = await client.put(
            "/api/alice/tasks/12345", content=b"x" * (2 * 1024 * 1024), headers=bearer()
        )
        assert response.status_code == 404


class TestBodyLimit:
    @pytest.mark.parametrize(
        ("method", "path", "extra"),
        [
            ("POST", "/api/alice/tasks", []),
            ("POST", "/api/alice/tasks", [(b"idempotency-key", b"broken-off-1")]),
            ("PATCH", "/api/alice/tasks/1", []),
            ("PUT", "/api/alice/tasks/1", []),
        ],
    )
    async def test_a_body_broken_off_is_a_400_and_changes_nothing(
        self,
        app: Any,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        extra: list[tuple[bytes, bytes]],
    ) -> None:
        """The client closes the connection in the middle of the body (ASGI `http.disconnect`):
        a 400 in words, no traceback (raise_app_exceptions would raise one here), nothing
        stored."""
        created = await client.post(
            "/api/alice/tasks", json={"title": "kept as it is"}, headers=bearer()
        )
        assert created.status_code == 201
        path = path.replace("/1", f"/{created.json()['id']}")
        parts: list[dict[str, Any]] = [
            {"type": "http.request", "body": b'{"title": "ab', "more_body": True},
            {"type": "http.disconnect"},
        ]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return parts.pop(0) if parts else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        token = bearer()["Authorization"].encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"testserver"),
                (b"authorization", token),
                (b"content-type", b"application/json"),
                (b"content-length", b"100"),
                *extra,
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        await app(scope, receive, send)
        start = next(message for message in sent if message["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        assert start["status"] == 400, body
        assert "broke off" in httpx.Response(400, content=body).json()["detail"]
        listed = await client.get("/api/alice/tasks", headers=bearer())
        assert [task["title"] for task in listed.json()] == ["kept as it is"]

    async def test_one_mebibyte_is_read(self, client: httpx.AsyncClient) -> None:
        body = b'{"title": "fits"}'.ljust(1024 * 1024, b" ")
        response = await client.post("/api/alice/tasks", content=body, headers=JSON | bearer())
        assert response.status_code == 201

    async def test_a_byte_more_is_413(self, client: httpx.AsyncClient) -> None:
        body = b'{"title": "too big"}'.ljust(1024 * 1024 + 1, b" ")
        response = await client.post("/api/alice/tasks", content=body, headers=JSON | bearer())
        assert response.status_code == 413
        assert "1 MiB" in response.json()["detail"]

    async def test_a_stream_without_length_is_cut_off(self, client: httpx.AsyncClient) -> None:
        chunks_sent = 0

        async def endless() -> Any:
            nonlocal chunks_sent
            while chunks_sent < 1000:  # 64 MiB if it were all read
                chunks_sent += 1
                yield b" " * 65536

        response = await client.post("/api/alice/tasks", content=endless(), headers=JSON | bearer())
        assert response.status_code == 413
        assert chunks_sent < 40  # stopped soon after the first MiB, not read whole

    async def test_a_lying_content_length_is_refused_before_reading(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            "/api/alice/tasks",
            content=b'{"title": "small"}',
            headers={**bearer(), "Content-Length": str(50 * 1024 * 1024)},
        )
        assert response.status_code == 413


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_responses_are_not_cached_or_sniffed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/alice/tasks", headers=bearer())
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
