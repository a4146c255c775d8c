"""Priority, tags, due dates; filtering, searching, sorting and paging; tags with counts; clearing
completed tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select

from taskapi import tasks as tasks_module
from taskapi.auth import revocation
from tests.api.test_tasks import create
from tests.keys import bearer

pytestmark = pytest.mark.anyio

URL = "/api/alice/tasks"
NOW = datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat()


async def titles(client: httpx.AsyncClient, query: str = "", sub: str = "alice") -> list[str]:
    response = await client.get(f"/api/{sub}/tasks?{query}", headers=bearer(sub))
    assert response.status_code == 200, response.text
    listed = [task["title"] for task in response.json()]
    assert int(response.headers["X-Total-Count"]) >= len(listed)
    return listed


async def total(client: httpx.AsyncClient, query: str = "") -> int:
    response = await client.get(f"{URL}?{query}", headers=bearer())
    return int(response.headers["X-Total-Count"])


async def test_new_fields_have_defaults(client: httpx.AsyncClient) -> None:
    task = await create(client, "plain")
    assert (task["priority"], task["tags"], task["due_at"]) == ("medium", [], None)


async def test_tags_are_trimmed_lower_cased_and_distinct(client: httpx.AsyncClient) -> None:
    task = await create(client, "a", tags=[" Work", "work ", "HOME", "Home Office"])
    assert task["tags"] == ["work", "home", "home office"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (["\u0130" * 15], ["i\u0307" * 15]),  # 30 characters once lowered: at the limit
        (["\u01c5", "\u01c4"], ["\u01c6"]),  # title-case and capital Dz: one tag
        (["stra\u00dfe", "STRASSE"], ["stra\u00dfe", "strasse"]),  # lowered, not case-folded
        (["\u1e9e"], ["\u00df"]),  # capital sharp s
        (["\u039f\u0394\u039f\u03a3"], ["\u03bf\u03b4\u03bf\u03c2"]),
        (["Cafe\u0301", "caf\u00e9"], ["caf\u00e9"]),  # NFD and NFC: one tag, stored NFC
        (["\ufeffWork\u200b", "work"], ["work"]),
        (["e\u0301" * 30], ["\u00e9" * 30]),  # 60 sent, 30 stored
        ([f"T{n % 10}" for n in range(20)], [f"t{n}" for n in range(10)]),  # 10 once distinct
    ],
)
async def test_tags_are_limited_as_stored(
    client: httpx.AsyncClient, sent: list[str], stored: list[str]
) -> None:
    task = await create(client, "a", tags=sent)
    assert task["tags"] == stored
    assert all(len(tag) <= 30 for tag in task["tags"])


async def test_the_tag_filter_is_normalised_as_tags_are(client: httpx.AsyncClient) -> None:
    await create(client, "a", tags=["caf\u00e9"])
    for spelling in ("caf%C3%A9", "CAFE%CC%81", "%EF%BB%BFCaf%C3%A9%E2%80%8B"):
        assert await titles(client, f"tag={spelling}") == ["a"], spelling


@pytest.mark.parametrize("query", ["cafe%CC%81", "e%CC%81", "CAF%C3%89", "caf%C3%A9"])
async def test_search_text_is_composed_as_titles_are(client: httpx.AsyncClient, query: str) -> None:
    await create(client, "Cafe\u0301 au lait")  # stored composed
    await create(client, "x", description="un cafe\u0301")
    await create(client, "cafe")
    assert sorted(await titles(client, f"q={query}")) == ["Caf\u00e9 au lait", "x"]


async def test_due_at_is_kept_as_the_same_instant_in_utc(client: httpx.AsyncClient) -> None:
    task = await create(client, "a", due_at="2026-12-01T17:30:00+02:00", priority="high")
    assert task["due_at"] == "2026-12-01T15:30:00Z"
    assert task["priority"] == "high"


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"priority": "urgent"}, "priority"),
        ({"priority": None}, "priority"),
        ({"tags": [f"t{n}" for n in range(11)]}, "tags"),
        ({"tags": ["x" * 31]}, "tags"),
        ({"tags": ["\u0130" * 30]}, "tags"),  # 60 characters once lower-cased
        ({"tags": ["E\u0301" * 31]}, "tags"),  # 31 once composed
        ({"tags": ["   "]}, "tags"),
        ({"tags": ["\u200b\ufeff\u3164"]}, "tags"),  # nothing that shows
        ({"tags": "work"}, "tags"),
        ({"due_at": "2026-12-01T17:00:00"}, "due_at"),  # no time zone: ambiguous
        ({"due_at": 1767225600}, "due_at"),
        ({"due_at": "tomorrow"}, "due_at"),
        ({"due_at": "0001-01-01T00:00:00+01:00"}, "due_at"),
    ],
)
async def test_bad_new_fields_are_422_naming_the_field(
    client: httpx.AsyncClient, fields: dict[str, Any], where: str
) -> None:
    response = await client.post(URL, json={"title": "a", **fields}, headers=bearer())
    assert response.status_code == 422
    assert where in response.json()["detail"][0]["loc"]
    assert await total(client) == 0


async def test_patch_replaces_tags_and_clears_a_due_date(client: httpx.AsyncClient) -> None:
    task = await create(client, "a", tags=["one", "two"], due_at=iso(NOW))
    task_url = f"{URL}/{task['id']}"
    patched = await client.patch(
        task_url, json={"tags": ["three"], "due_at": None}, headers=bearer()
    )
    assert (patched.json()["tags"], patched.json()["due_at"]) == (["three"], None)
    assert await titles(client, "tag=one") == []
    assert await titles(client, "tag=three") == ["a"]
    kept = await client.patch(task_url, json={"title": "b"}, headers=bearer())
    assert kept.json()["tags"] == ["three"]  # PATCH leaves what it was not sent


async def test_put_without_tags_clears_them(client: httpx.AsyncClient) -> None:
    task = await create(client, "a", tags=["one"], priority="high")
    replaced = await client.put(f"{URL}/{task['id']}", json={"title": "a"}, headers=bearer())
    assert (replaced.json()["tags"], replaced.json()["priority"]) == ([], "medium")
    assert await titles(client, "tag=one") == []


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    await create(
        client,
        "Pay rent",
        priority="high",
        tags=["home", "money"],
        due_at=iso(NOW - timedelta(days=1)),
    )
    await create(
        client, "File taxes", priority="high", tags=["money"], due_at=iso(NOW + timedelta(days=10))
    )
    await create(client, "Water plants", priority="low", tags=["home"], description="the FERNS too")
    done = await create(client, "Old bill", tags=["money"], due_at=iso(NOW - timedelta(days=5)))
    await client.patch(f"{URL}/{done['id']}/complete", headers=bearer())

    assert await titles(
        client,
        "priority=high",
    ) == ["File taxes", "Pay rent"]
    assert await titles(client, "priority=high&priority=low") == [
        "Water plants",
        "File taxes",
        "Pay rent",
    ]
    assert await titles(client, "tag=money") == ["Old bill", "File taxes", "Pay rent"]
    assert await titles(client, "tag=money&tag=home") == ["Pay rent"]
    assert await titles(client, "tag=MONEY&tag=%20home") == ["Pay rent"]  # normalised too
    assert await titles(client, "tag=nothing") == []
    assert await titles(client, "q=ferns") == ["Water plants"]  # description, any case
    assert await titles(client, "q=TAX") == ["File taxes"]
    assert await titles(client, "overdue=true") == ["Pay rent"]  # not the completed one
    assert await titles(client, f"due_before={iso(NOW)}".replace("+", "%2B")) == [
        "Old bill",
        "Pay rent",
    ]
    assert await titles(client, f"due_after={iso(NOW)}".replace("+", "%2B")) == ["File taxes"]
    assert await titles(client, "status=pending&tag=money") == ["File taxes", "Pay rent"]
    assert await total(client, "tag=money&priority=high") == 2
    assert await total(client, "status=completed") == 1


async def test_search_takes_percent_and_underscore_literally(client: httpx.AsyncClient) -> None:
    await create(client, "100% done")
    await create(client, "1000 done")
    await create(client, "a_b")
    await create(client, "axb")
    assert await titles(client, "q=100%25") == ["100% done"]
    assert await titles(client, "q=a_b") == ["a_b"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["c", "b", "a"]),
        ("sort=created&order=asc", ["a", "b", "c"]),
        ("sort=updated", ["a", "b", "c"]),  # a was changed last
        ("sort=updated&order=asc", ["c", "b", "a"]),
        ("sort=priority", ["c", "a", "b"]),
        ("sort=priority&order=asc", ["b", "a", "c"]),
        ("sort=due", ["a", "c", "b"]),  # soonest first; no due date last
        ("sort=due&order=desc", ["c", "a", "b"]),  # no due date still last
        ("sort=title", ["a", "b", "c"]),  # ignoring case: B sorts as b
        ("sort=title&order=desc", ["c", "b", "a"]),
    ],
)
async def test_sorting(client: httpx.AsyncClient, query: str, expected: list[str]) -> None:
    a = await create(client, "a", priority="medium", due_at=iso(NOW + timedelta(days=1)))
    b = await create(client, "B", priority="low")
    await create(client, "c", priority="high", due_at=iso(NOW + timedelta(days=2)))
    await client.patch(f"{URL}/{b['id']}", json={"description": "touched"}, headers=bearer())
    await client.patch(f"{URL}/{a['id']}", json={"description": "touched last"}, headers=bearer())
    listed = [title.lower() for title in await titles(client, query)]
    assert listed == expected


async def test_equal_keys_keep_one_order_and_pages_never_overlap(client: httpx.AsyncClient) -> None:
    for n in range(25):
        await create(client, f"task {n:02d}", priority="high" if n % 2 else "low")
    seen: list[str] = []
    for offset in range(0, 25, 7):
        seen += await titles(client, f"sort=priority&limit=7&offset={offset}")
    assert len(seen) == len(set(seen)) == 25
    assert seen == await titles(client, "sort=priority&limit=100")
    highs = seen[:12]  # the 12 odd-numbered tasks, equal in priority: by id, newest first
    assert highs == sorted(highs, reverse=True)
    assert all(int(title.split()[1]) % 2 for title in highs)


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("sort=importance", "sort"),
        ("order=up", "order"),
        ("priority=urgent", "priority"),
        ("due_before=tomorrow", "due_before"),
        ("due_before=1767225600", "due_before"),
        ("due_after=2026-12-01T00:00:00", "due_after"),
        ("due_after=2026-12-02T00:00:00Z&due_before=2026-12-01T00:00:00Z", "due_after"),
        ("overdue=perhaps", "overdue"),
        ("q=", "q"),
        ("q=a%00b", "q"),
        ("tag=" + "x" * 31, "tag"),
        ("tag=" + "%C4%B0" * 30, "tag"),  # 30 of U+0130: 60 characters once lower-cased
        ("tag=%E2%80%8B", "tag"),  # a zero-width space: blank
        ("q=" + "%E0%A5%98" * 101, "q"),  # 101 of U+0958: 202 characters once composed
    ],
)
async def test_bad_list_parameters_are_422_naming_the_parameter(
    client: httpx.AsyncClient, query: str, where: str
) -> None:
    response = await client.get(f"{URL}?{query}", headers=bearer())
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["query", where]


async def test_tags_are_listed_with_counts_most_used_first(client: httpx.AsyncClient) -> None:
    await create(client, "a", tags=["work", "urgent"])
    await create(client, "b", tags=["work"])
    doomed = await create(client, "c", tags=["home", "work"])
    await create(client, "theirs", sub="bob", tags=["secret"])
    listed = await client.get("/api/alice/tags", headers=bearer())
    assert listed.json() == [
        {"tag": "work", "count": 3},
        {"tag": "home", "count": 1},
        {"tag": "urgent", "count": 1},
    ]
    await client.delete(f"{URL}/{doomed['id']}", headers=bearer())
    after = (await client.get("/api/alice/tags", headers=bearer())).json()
    assert after == [{"tag": "work", "count": 2}, {"tag": "urgent", "count": 1}]
    assert (await client.get("/api/bob/tags", headers=bearer())).status_code == 403


async def test_clear_completed_deletes_only_completed_and_says_how_many(
    client: httpx.AsyncClient,
) -> None:
    for title in ("a", "b", "c"):
        task = await create(client, title, tags=["done-soon"])
        if title != "b":
            await client.patch(f"{URL}/{task['id']}/complete", headers=bearer())
    theirs = await create(client, "theirs", sub="bob")
    await client.patch(f"/api/bob/tasks/{theirs['id']}/complete", headers=bearer("bob"))

    cleared = await client.delete(f"{URL}?status=completed", headers=bearer())

    assert (cleared.status_code, cleared.json()) == (200, {"deleted": 2})
    assert await titles(client) == ["b"]
    assert await total(client, "status=completed") == 0
    assert await titles(client, sub="bob") == ["theirs"]
    tags = (await client.get("/api/alice/tags", headers=bearer())).json()
    assert tags == [{"tag": "done-soon", "count": 1}]
    again = await client.delete(f"{URL}?status=completed", headers=bearer())
    assert again.json() == {"deleted": 0}


async def test_clearing_many_completed_tasks_lets_others_in_between_batches(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks_module, "CLEAR_BATCH", 3)
    for n in range(8):
        task = await create(client, f"done {n}", tags=["old"])
        await client.patch(f"{URL}/{task['id']}/complete", headers=bearer())
    await create(client, "still to do")
    deletes: list[str] = []
    engine = app.state.database.engine
    sync_engine = getattr(engine, "sync_engine", engine)

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM TASKS"):
            deletes.append(statement)

    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        cleared = await client.delete(f"{URL}?status=completed", headers=bearer())
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)

    assert (cleared.status_code, cleared.json()) == (200, {"deleted": 8})
    assert await titles(client) == ["still to do"]
    assert (await client.get("/api/alice/tags", headers=bearer())).json() == []
    # SQLite runs statements on the event loop: 3 + 3 + 2, each its own; PostgreSQL one.
    assert len(deletes) == (3 if app.state.database.engine.dialect.name == "sqlite" else 1)


@pytest.mark.parametrize("query", ["", "?status=all", "?status=pending"])
async def test_clearing_needs_status_completed(client: httpx.AsyncClient, query: str) -> None:
    await create(client, "keep me")
    response = await client.delete(f"{URL}{query}", headers=bearer())
    assert response.status_code == 422
    assert await titles(client) == ["keep me"]


async def test_search_follows_renames_and_deletes_at_any_length(client: httpx.AsyncClient) -> None:
    task = await create(client, "Quarterly report", description='the "big" one')
    await create(client, "Other")
    assert await titles(client, "q=RLY%20R") == ["Quarterly report"]
    assert await titles(client, 'q="big"') == ["Quarterly report"]  # quotes are literal
    assert await titles(client, "q=qu") == ["Quarterly report"]  # shorter than a trigram
    assert await titles(client, "q=e") == ["Other", "Quarterly report"]
    await client.patch(f"{URL}/{task['id']}", json={"title": "Annual summary"}, headers=bearer())
    assert await titles(client, "q=quarterly") == []
    assert await titles(client, "q=ANNUAL") == ["Annual summary"]
    await client.delete(f"{URL}/{task['id']}", headers=bearer())
    assert await titles(client, "q=annual") == []
    assert await titles(client, "q=big") == []


async def grouped_tags(app: FastAPI, owner: str) -> list[dict[str, Any]]:
    """The owner's tags counted from every entry (what the tags endpoint answered before
    migration 0010's counts), most used first."""
    tags = tasks_module.tags_table
    used = func.count().label("count")
    async with app.state.database.connect() as connection:
        rows = await connection.execute(
            select(tags.c.tag, used)
            .where(tags.c.user_id == owner)
            .group_by(tags.c.tag)
            .order_by(used.desc(), tags.c.tag)
        )
        return [dict(row) for row in rows.mappings()]


async def test_the_kept_tag_counts_follow_every_kind_of_write(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Migration 0010's counts (what /tags and the tag filters read) stay those of the tag
    entries through creates (plain and keyed), replacing, patching, toggling, deleting,
    clearing completed tasks and erasing an account."""

    async def agree(owner: str = "alice") -> list[dict[str, Any]]:
        listed = (await client.get(f"/api/{owner}/tags", headers=bearer(owner))).json()
        assert listed == await grouped_tags(app, owner)
        return list(listed)

    a = await create(client, "a", tags=["work", "urgent"])
    b = await create(client, "b", tags=["work"])
    keyed = await client.post(
        URL,
        json={"title": "c", "tags": ["home", "work"]},
        headers=bearer() | {"Idempotency-Key": "k1"},
    )
    assert keyed.status_code == 201
    await create(client, "theirs", sub="bob", tags=["work", "secret"])
    assert await agree() == [
        {"tag": "work", "count": 3},
        {"tag": "home", "count": 1},
        {"tag": "urgent", "count": 1},
    ]
    await client.put(f"{URL}/{a['id']}", json={"title": "a", "tags": ["home"]}, headers=bearer())
    await client.patch(f"{URL}/{b['id']}", json={"tags": ["urgent", "home"]}, headers=bearer())
    await client.patch(f"{URL}/{b['id']}", json={"title": "b again"}, headers=bearer())
    await client.patch(f"{URL}/{b['id']}/complete", headers=bearer())
    assert await agree() == [
        {"tag": "home", "count": 3},
        {"tag": "urgent", "count": 1},
        {"tag": "work", "count": 1},
    ]
    await client.delete(URL + "?status=completed", headers=bearer())
    await client.delete(f"{URL}/{keyed.json()['id']}", headers=bearer())
    assert await agree() == [{"tag": "home", "count": 1}]
    assert await agree("bob") == [{"tag": "secret", "count": 1}, {"tag": "work", "count": 1}]
    async with app.state.database.transaction() as connection:
        await revocation.erase_subject(connection, "bob", NOW + timedelta(hours=1))
    assert await grouped_tags(app, "bob") == []
    async with app.state.database.connect() as connection:
        assert await tasks_module.tag_counts(connection, "bob") == []


async def test_several_tags_filter_alike_in_any_order_and_a_tag_nobody_has_finds_nothing(
    client: httpx.AsyncClient,
) -> None:
    """The tags are tried rarest first (migration 0010's counts): the answer is the same in
    any order; a tag none of the person's tasks carries answers an empty page at once."""
    for n in range(12):
        tags = ["common", *(["rare"] if n % 4 == 0 else []), *(["odd"] if n % 2 else [])]
        await create(client, f"t{n:02d}", tags=tags)
    await create(client, "theirs", sub="bob", tags=["rare", "common", "only-bob"])
    both = await titles(client, "tag=common&tag=rare&sort=title")
    assert both == await titles(client, "tag=rare&tag=common&sort=title")
    assert both == ["t00", "t04", "t08"]
    assert await total(client, "tag=rare&tag=common") == 3
    assert await total(client, "tag=rare&tag=odd") == 0
    assert await total(client, "tag=odd") == 6
    for query in ("tag=only-bob", "tag=common&tag=only-bob", "tag=nobody&q=t0"):
        assert await titles(client, query) == []
        assert await total(client, query) == 0


async def test_a_kept_list_of_matches_pages_as_a_fresh_one_and_follows_writes(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filtered list's matching ids, kept per version (taskapi.tasks.list_page, `matches`),
    give the pages, in every order, that reading them afresh gives; a write moves the version,
    and the next list reads the matches again."""
    for n in range(7):
        await create(client, f"t{n}", tags=["a", "b"] if n % 3 else ["a"], priority="high")
    database = app.state.database

    async def pages(query: str) -> list[list[str]]:
        return [await titles(client, f"{query}&limit=2&offset={offset}") for offset in range(6)]

    queries = [
        "tag=a&tag=b",
        "tag=b&tag=a&sort=title&order=desc",
        "priority=high&sort=title",
        "q=t&sort=updated&order=asc",
    ]
    kept = [await pages(query) for query in queries]
    assert len(database.list_matches) == len(queries)
    monkeypatch.setattr(tasks_module, "MATCHES_KEPT", -1)  # none kept: read afresh
    assert [await pages(query) for query in queries] == kept
    assert kept[0][0] == ["t5", "t4"]  # the newest first
    monkeypatch.undo()
    doomed = next(t for t in (await client.get(URL, headers=bearer())).json() if t["title"] == "t4")
    await client.delete(f"{URL}/{doomed['id']}", headers=bearer())
    assert (await pages("tag=a&tag=b"))[0] == ["t5", "t2"]


@pytest.mark.parametrize(("limit", "offset"), [(100, 0), (1, 0), (1, 2)])
async def test_a_kept_page_read_after_a_write_still_passes_its_filter_and_total(
    app: FastAPI, client: httpx.AsyncClient, limit: int, offset: int
) -> None:
    """F3: the state read, then a task's tags changed by another request, then the kept page
    read (as `list_answer` runs them, with the write between): the page holds no task without
    the tag, and agrees with its total (the caller's `still_current` leaves the ETag out)."""
    for n in range(3):
        await create(client, f"t{n}", tags=["work"])
    database = app.state.database
    query = tasks_module.ListQuery(tags=("work",), limit=limit, offset=offset)
    async with database.connect() as connection:
        state = await tasks_module.list_state(connection, "alice", query)
        await tasks_module.list_page(
            connection, "alice", query, state, database.list_totals, database.list_matches
        )
    assert len(database.list_matches) == 1  # the matches are kept
    first = (await client.get(f"{URL}?sort=created&order=asc", headers=bearer())).json()[0]
    changed = await client.patch(f"{URL}/{first['id']}", json={"tags": []}, headers=bearer())
    assert changed.status_code == 200
    async with database.connect() as connection:
        page, counted = await tasks_module.list_page(
            connection, "alice", query, state, database.list_totals, database.list_matches
        )
        assert not await tasks_module.still_current(connection, "alice", state)
    listed = [dict(row) for row in page]
    assert first["id"] not in [task["id"] for task in listed]
    assert counted == 2
    assert len(listed) == max(0, min(limit, counted - offset))  # (1, 2): past the end now
