"""Conditional GET on the list (RFC 9110 §13.1.2, §15.4.5): an ETag from the person's list version
and the query, 304 for If-None-Match naming it, and totals of filtered lists that follow every
write (they are kept per version, taskapi.tasks.list_page)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import astuple
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from taskapi import tasks as tasks_module
from tests.api.test_tasks import create
from tests.keys import bearer

pytestmark = pytest.mark.anyio

URL = "/api/alice/tasks"


async def listed(
    client: httpx.AsyncClient, query: str = "", sub: str = "alice", **headers: str
) -> httpx.Response:
    response = await client.get(f"/api/{sub}/tasks?{query}", headers={**bearer(sub), **headers})
    assert response.status_code in (200, 304), response.text
    return response


async def tag_of(client: httpx.AsyncClient, query: str = "", sub: str = "alice") -> str:
    response = await listed(client, query, sub)
    assert response.status_code == 200
    return response.headers["ETag"]


async def test_a_list_answers_304_for_its_own_tag(client: httpx.AsyncClient) -> None:
    await create(client, "a")
    first = await listed(client)
    tag = first.headers["ETag"]
    assert re.fullmatch(r'"[^"]+"', tag)  # strong: the same bytes for the same tag

    again = await listed(client, **{"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == tag
    assert "X-Total-Count" not in again.headers

    head = await client.head(URL, headers={**bearer(), "If-None-Match": tag})
    assert (head.status_code, head.headers["ETag"]) == (304, tag)
    head = await client.head(URL, headers=bearer())
    assert (head.status_code, head.headers["ETag"], head.content) == (200, tag, b"")


async def test_the_same_tag_comes_with_the_same_bytes(client: httpx.AsyncClient) -> None:
    for n in range(3):
        await create(client, f"task {n}", tags=["home"], due_at="2030-01-01T00:00:00Z")
    for query in ("", "tag=home", "q=task", "sort=due&limit=2", "priority=medium&offset=1"):
        first, second = await listed(client, query), await listed(client, query)
        assert first.headers["ETag"] == second.headers["ETag"], query
        assert first.content == second.content, query
        assert first.headers["X-Total-Count"] == second.headers["X-Total-Count"]


async def test_each_query_has_its_own_tag(client: httpx.AsyncClient) -> None:
    await create(client, "a", tags=["home"])
    queries = ["", "limit=1", "offset=1", "status=pending", "tag=home", "q=a", "sort=title"]
    tags = [await tag_of(client, query) for query in queries]
    assert len(set(tags)) == len(queries)
    other = await listed(client, "tag=home", **{"If-None-Match": tags[0]})
    assert other.status_code == 200  # the plain list's tag is not the filtered one's


async def _patch(client: httpx.AsyncClient, task_id: int, body: dict[str, Any]) -> None:
    response = await client.patch(f"{URL}/{task_id}", json=body, headers=bearer())
    assert response.status_code == 200, response.text


Write = Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[None]]


async def _create(client: httpx.AsyncClient, _task: dict[str, Any]) -> None:
    await create(client, "another")


async def _edit(client: httpx.AsyncClient, task: dict[str, Any]) -> None:
    await _patch(client, task["id"], {"description": "changed"})


async def _replace(client: httpx.AsyncClient, task: dict[str, Any]) -> None:
    response = await client.put(f"{URL}/{task['id']}", json={"title": "b"}, headers=bearer())
    assert response.status_code == 200


async def _toggle(client: httpx.AsyncClient, task: dict[str, Any]) -> None:
    response = await client.patch(f"{URL}/{task['id']}/complete", headers=bearer())
    assert response.status_code == 200


async def _retag(client: httpx.AsyncClient, task: dict[str, Any]) -> None:
    await _patch(client, task["id"], {"tags": ["work"]})


async def _delete(client: httpx.AsyncClient, task: dict[str, Any]) -> None:
    response = await client.delete(f"{URL}/{task['id']}", headers=bearer())
    assert response.status_code == 204


async def _clear(client: httpx.AsyncClient, _task: dict[str, Any]) -> None:
    response = await client.delete(f"{URL}?status=completed", headers=bearer())
    assert response.json() == {"deleted": 1}


@pytest.mark.parametrize(
    "write", [_create, _edit, _replace, _toggle, _retag, _delete, _clear], ids=lambda w: w.__name__
)
@pytest.mark.parametrize("query", ["", "tag=home", "q=a"])
async def test_every_write_changes_the_tag(
    client: httpx.AsyncClient, write: Write, query: str
) -> None:
    task = await create(client, "a", tags=["home"])
    await create(client, "done", completed=True)
    before = await tag_of(client, query)
    await write(client, task)
    after = await listed(client, query, **{"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["ETag"] != before


async def test_another_persons_writes_keep_my_tag(client: httpx.AsyncClient) -> None:
    await create(client, "mine", tags=["home"])
    mine = {query: await tag_of(client, query) for query in ("", "tag=home")}
    theirs = await create(client, "theirs", sub="bob", tags=["home"])
    await client.patch(f"/api/bob/tasks/{theirs['id']}/complete", headers=bearer("bob"))
    await client.delete(f"/api/bob/tasks/{theirs['id']}", headers=bearer("bob"))
    for query, tag in mine.items():
        assert (await listed(client, query, **{"If-None-Match": tag})).status_code == 304
    # And the tags are each person's: bob's list, even empty, is not answered with mine.
    assert (await listed(client, "", "bob", **{"If-None-Match": mine[""]})).status_code == 200


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [
        ("{tag}", 304),
        ("*", 304),
        ('"other", {tag}', 304),
        ("W/{tag}", 304),  # If-None-Match compares weakly (RFC 9110 §13.1.2)
        ('"other"', 200),
        ('"1"', 200),  # a task's tag
        ("{tag}x", 200),
        ("", 200),
        ("not a tag", 200),
    ],
)
async def test_304_only_when_a_listed_tag_matches(
    client: httpx.AsyncClient, if_none_match: str, status: int
) -> None:
    await create(client, "a")
    tag = await tag_of(client)
    response = await listed(client, **{"If-None-Match": if_none_match.format(tag=tag)})
    assert response.status_code == status
    assert response.headers["ETag"] == tag
    assert (response.content == b"") == (status == 304)


async def test_filtered_totals_follow_every_write(client: httpx.AsyncClient) -> None:
    first = await create(client, "apple", tags=["fruit"])
    assert (await listed(client, "tag=fruit")).headers["X-Total-Count"] == "1"
    assert (await listed(client, "q=pear")).headers["X-Total-Count"] == "0"

    await create(client, "banana", tags=["fruit"])
    assert (await listed(client, "tag=fruit")).headers["X-Total-Count"] == "2"
    await _patch(client, first["id"], {"title": "pear"})  # an edit alone, no count moves
    assert (await listed(client, "q=pear")).headers["X-Total-Count"] == "1"
    await _patch(client, first["id"], {"tags": []})
    response = await listed(client, "tag=fruit")
    assert (response.headers["X-Total-Count"], [t["title"] for t in response.json()]) == (
        "1",
        ["banana"],
    )


@pytest.mark.parametrize("query", ["tag=a", "tag=a&tag=b"])
async def test_pages_of_common_and_rare_tags_agree(client: httpx.AsyncClient, query: str) -> None:
    """Whether the tagged tasks are found first or tested along the sort's index (chosen by how
    many carry the tags), the page is the same: newest first, `limit` of them from `offset`."""
    for n in range(12):
        await create(client, f"task {n}", tags=["a", "b"] if n % 3 == 0 else ["a"])
    expected = {"tag=a": [f"task {n}" for n in range(11, -1, -1)]}
    expected["tag=a&tag=b"] = [title for title in expected["tag=a"] if int(title[5:]) % 3 == 0]
    for limit, offset in ((100, 0), (2, 0), (1, 0), (2, 3), (1, 20)):
        response = await listed(client, f"{query}&limit={limit}&offset={offset}")
        titles = [task["title"] for task in response.json()]
        assert titles == expected[query][offset : offset + limit], (limit, offset)
        assert response.headers["X-Total-Count"] == str(len(expected[query]))


async def test_an_overdue_list_changes_when_a_due_time_passes(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No write, yet the overdue tasks change as time passes: the tag (and the kept total)
    depend on the next due time, so a list kept from before it is not answered with 304."""
    now = datetime.now(UTC)
    await create(client, "soon", due_at=(now + timedelta(hours=1)).isoformat())
    await create(client, "later", due_at=(now + timedelta(hours=3)).isoformat())
    before = await listed(client, "overdue=true")
    assert (before.json(), before.headers["X-Total-Count"]) == ([], "0")
    assert (
        await listed(client, "overdue=true", **{"If-None-Match": before.headers["ETag"]})
    ).status_code == 304

    monkeypatch.setattr(tasks_module, "utc_now", lambda: now + timedelta(hours=2))
    after = await listed(client, "overdue=true", **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert ([t["title"] for t in after.json()], after.headers["X-Total-Count"]) == (["soon"], "1")
    assert after.headers["ETag"] != before.headers["ETag"]


async def test_a_plain_list_s_kept_tag_is_the_tag_it_always_was() -> None:
    """A plain list's digest is kept (`tasks._plain_list_digest`), not hashed per request: the
    tag is the same text as the one hashed afresh (the format before it was kept), and a query
    equal to another but written with a plain string for its status is hashed afresh, never
    given the enum's tag from the cache."""
    state = tasks_module.ListState(version=7, total=3, completed=1)
    for query in (
        tasks_module.ListQuery(),
        tasks_module.ListQuery(
            status=tasks_module.StatusFilter.completed, sort="title", limit=50, offset=5
        ),
    ):
        key = repr((tasks_module.LIST_FORMAT, "alice", astuple(query), None)).encode()
        fresh = f'"L7-{hashlib.blake2b(key, digest_size=12).hexdigest()}"'
        assert state.etag("alice", query) == state.etag("alice", query) == fresh
    by_enum = state.etag("alice", tasks_module.ListQuery(status=tasks_module.StatusFilter.pending))
    by_text = state.etag("alice", tasks_module.ListQuery(status="pending"))  # type: ignore[arg-type]
    assert by_text != by_enum  # as before: the tag hashes the status as it is written
