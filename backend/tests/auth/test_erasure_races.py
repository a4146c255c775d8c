"""An erased account stays erased (taskapi.auth.revocation.erase_subject, migration 0008) when
other processes, which have not yet polled the revocations, write for it at the same moment:
every write is answered (2xx, 401 or 404: never a 500 or a 503), and nothing of the account is
left after the 202. Two apps on one database stand for two processes; `NotYetPolled` for one
whose poll is late."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from taskapi import errors, migrate, tasks
from taskapi.auth import revocation
from taskapi.config import Settings
from taskapi.main import create_app
from taskapi.security_events import ACCOUNT_PURGED
from tests.auth.test_revocation import (
    OWNED_TABLES,
    NotYetPolled,
    account_subject,
    assert_ended,
    count_row,
    count_rows,
    new_id,
    post_event,
    set_for,
)
from tests.conftest import CLEARED_AFTER_EACH_TEST, make_settings
from tests.keys import JWKSServer, SigningKey

pytestmark = pytest.mark.anyio


@pytest.fixture
def eddsa(signing_keys: dict[str, SigningKey]) -> SigningKey:
    return signing_keys["EdDSA"]


RAISED: list[BaseException] = []  # what the apps raised (their 500s), newest last


def raised() -> str:
    causes = []
    for error in RAISED:
        cause = getattr(error, "orig", None) or error
        causes.append(f"{type(error).__name__} / {type(cause).__name__}: {cause}"[:500])
    RAISED.clear()
    return " | ".join(causes)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app (a process of its own) whose client shows 500s instead of raising them."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):

        async def recording(scope: Any, receive: Any, send: Any) -> None:
            try:
                await application(scope, receive, send)
            except Exception as error:
                RAISED.append(error)
                raise

        transport = httpx.ASGITransport(app=recording, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


@pytest.fixture
async def one(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(settings) as pair:
        yield pair
        async with pair[0].state.database.connect() as connection:
            for table in CLEARED_AFTER_EACH_TEST:
                await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608


@pytest.fixture
async def two(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A second process on the same database."""
    async with running(settings) as pair:
        yield pair


def auth(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


async def create(
    http: httpx.AsyncClient, user: str, token: str, key: str | None = None, **body: Any
) -> httpx.Response:
    return await http.post(
        f"/api/{user}/tasks", json={"title": "x", **body}, headers=auth(token, key)
    )


async def purge(http: httpx.AsyncClient, key: SigningKey, user: str) -> httpx.Response:
    return await post_event(http, set_for(key, ACCOUNT_PURGED, account_subject(user)))


async def assert_nothing_left(app: FastAPI, user: str) -> None:
    for table in OWNED_TABLES:
        assert await count_rows(app, table, user) == 0, table


# --- 1. an erasure of a user who never had a task --------------------------------------------


async def test_erasure_of_a_user_without_count_row_then_create_from_a_stale_process(
    one: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, http = one
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    assert await count_row(app, user) is None
    assert (await purge(http, eddsa, user)).status_code == 202
    assert await count_row(app, user) == (0, 0, True)
    NotYetPolled(app, monkeypatch)
    assert_ended(await create(http, user, token), errors.ACCOUNT_DELETED)
    assert_ended(await create(http, user, token, key=new_id()), errors.ACCOUNT_DELETED)
    assert_ended(await create(http, user, token, tags=["a", "b"]), errors.ACCOUNT_DELETED)
    await assert_nothing_left(app, user)
    assert await count_row(app, user) == (0, 0, True)


# --- 2. an Idempotency-Key used before the erasure, replayed after ----------------------------


async def test_a_key_used_before_the_erasure_replayed_after_in_a_stale_process(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (app, http), (app2, http2) = one, two
    user, key = new_id(), new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    first = await create(http2, user, token, key=key, tags=["t"])
    assert first.status_code == 201
    replay = await create(http2, user, token, key=key, tags=["t"])
    assert replay.status_code == 201
    assert replay.headers.get("Idempotent-Replayed") == "true"
    NotYetPolled(app2, monkeypatch)
    assert (await purge(http, eddsa, user)).status_code == 202
    # The same request, the same key, in a process that has not polled: no replay of a task
    # that is gone, no new task.
    again = await create(http2, user, token, key=key, tags=["t"])
    assert_ended(again, errors.ACCOUNT_DELETED)
    # The same key with another body (would be 422 if the key had survived).
    other = await create(http2, user, token, key=key, title="other")
    assert_ended(other, errors.ACCOUNT_DELETED)
    await assert_nothing_left(app, user)
    # And in the process that knows.
    assert_ended(await create(http, user, token, key=key, tags=["t"]), errors.ACCOUNT_DELETED)


# --- 3. edits, deletes and clear-completed after the erasure, in a stale process --------------


async def test_every_write_after_the_erasure_in_a_stale_process_finds_nothing(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (app, http), (app2, http2) = one, two
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    made = await create(http2, user, token, tags=["a"], completed=True)
    assert made.status_code == 201
    task_id = made.json()["id"]
    NotYetPolled(app2, monkeypatch)
    assert (await purge(http, eddsa, user)).status_code == 202
    path = f"/api/{user}/tasks/{task_id}"
    body = {"title": "back", "completed": False, "tags": ["z"]}
    answers = [
        await http2.put(path, json=body, headers=auth(token)),
        await http2.put(path, json=body, headers={**auth(token), "If-Match": '"1"'}),
        await http2.patch(path, json={"title": "t", "tags": ["q"]}, headers=auth(token)),
        await http2.patch(path, json={"completed": False}, headers=auth(token)),
        await http2.patch(f"{path}/complete", headers=auth(token)),
        await http2.patch(f"{path}/complete", json={"completed": True}, headers=auth(token)),
        await http2.delete(path, headers=auth(token)),
        await http2.delete(path, headers={**auth(token), "If-Match": '"1"'}),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers), [a.text for a in answers]
    cleared = await http2.delete(f"/api/{user}/tasks?status=completed", headers=auth(token))
    assert cleared.status_code == 200
    assert cleared.json() == {"deleted": 0}
    await assert_nothing_left(app, user)
    assert await count_row(app, user) == (0, 0, True)


# --- 4. the quota (409) against the erased account (401) -------------------------------------


async def test_quota_and_erasure_are_never_confused(
    database_url: str, jwks: JWKSServer, eddsa: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(database_url, jwks.url, task_quota=2)
    async with running(settings) as (app, http):
        try:
            full, erased, never = new_id(), new_id(), new_id()
            tokens = {u: jwks.sign(eddsa, u, sid=new_id()) for u in (full, erased, never)}
            for u in (full, erased):
                for _ in range(2):
                    assert (await create(http, u, tokens[u])).status_code == 201
            assert (await create(http, full, tokens[full])).status_code == 409
            assert (await create(http, erased, tokens[erased])).status_code == 409
            assert (await purge(http, eddsa, erased)).status_code == 202
            assert (await purge(http, eddsa, never)).status_code == 202
            NotYetPolled(app, monkeypatch)
            for u in (erased, never):
                assert_ended(await create(http, u, tokens[u]), errors.ACCOUNT_DELETED)
                assert_ended(await create(http, u, tokens[u], key=new_id()), errors.ACCOUNT_DELETED)
            r = await create(http, full, tokens[full], key=new_id())
            assert r.status_code == 409, r.text
            # quota 2, erased account: the count row is (0, 0, marked): 0 < 2, still refused
            assert await count_row(app, erased) == (0, 0, True)
        finally:
            async with app.state.database.connect() as connection:
                for table in CLEARED_AFTER_EACH_TEST:
                    await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608


# --- 5. the prune of the mark, and after ------------------------------------------------------


async def test_after_the_prune(
    one: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
) -> None:
    """Until the mark's `until`, prune keeps it; then the row goes, and a token issued before
    the erasure is refused for its age (a Revocations whose clock is moved forward)."""
    app, http = one
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    assert (await create(http, user, token)).status_code == 201
    erased_at = time.time()
    assert (await purge(http, eddsa, user)).status_code == 202
    revocations: revocation.Revocations = app.state.verifier.revocations
    # A prune now keeps everything.
    await revocation.prune(app.state.database, datetime.now(UTC))
    assert await count_row(app, user) == (0, 0, True)
    # Just before until: kept.
    until = datetime.now(UTC) + timedelta(seconds=revocations.max_token_age - 5)
    await revocation.prune(app.state.database, until)
    assert await count_row(app, user) == (0, 0, True)
    async with app.state.database.connect() as connection:
        marked_until = await connection.scalar(
            text("SELECT erased_until FROM task_counts WHERE user_id = :u").bindparams(u=user)
        )
    if isinstance(marked_until, str):
        marked_until = datetime.fromisoformat(marked_until)
    marked_until = marked_until.replace(tzinfo=marked_until.tzinfo or UTC)
    await revocation.prune(app.state.database, marked_until)  # the first prune at `until`
    assert await count_row(app, user) is None
    await revocations.refresh(app.state.database)
    assert user not in revocations.subjects
    # At that moment, a token issued before the erasure is refused by age.
    moved = revocation.Revocations(
        max_token_lifetime=revocations.max_token_lifetime,
        leeway=revocations.leeway,
        clock=lambda: marked_until.timestamp(),
    )
    assert moved.refusal(user, None, erased_at - 0.001) == errors.TOKEN_TOO_OLD


# --- 6. a migration of a populated database to 0008 and back ----------------------------------


def test_migrate_a_populated_database_to_0008_and_back(
    empty_database: Callable[[], str],
) -> None:
    from tests.test_migrations import COUNTS_MATCH, run_sql, task_counts

    url = empty_database()
    migrate.upgrade(url, "0007")
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    run_sql(
        url,
        "INSERT INTO tasks (user_id, title, completed, created_at, updated_at, version,"
        " priority, tags) VALUES (:user_id, :title, :completed, :at, :at, 1, 1, '[]')",
        rows=[
            {"user_id": user, "title": f"task {n}", "completed": n % 2 == 0, "at": stamp}
            for user, count in (("ann", 5), ("bob", 12))
            for n in range(count)
        ],
    )
    before = task_counts(url)
    migrate.upgrade(url, "0008")
    assert task_counts(url) == before
    marked = migrate.on_connection(
        url,
        lambda c: c.execute(
            text("SELECT count(*) FROM task_counts WHERE erased_until IS NOT NULL")
        ).scalar_one(),
    )
    assert marked == 0
    # A mark set, then the downgrade: the column goes with its index; the counts stay.
    run_sql(
        url, "UPDATE task_counts SET erased_until = '2030-01-01 00:00:00' WHERE user_id = 'ann'"
    )
    migrate.downgrade(url, "0007")
    assert task_counts(url) == before
    # Triggers still keep the counts after the table was altered.
    run_sql(url, "DELETE FROM tasks WHERE user_id = 'bob' AND completed")
    assert migrate.on_connection(url, lambda c: c.execute(COUNTS_MATCH).scalar_one()) == 0
    migrate.upgrade(url)
    run_sql(
        url,
        "INSERT INTO tasks (user_id, title, completed, created_at, updated_at, version,"
        " priority, tags) VALUES ('bob', 'n', true, '2026-01-01', '2026-01-01', 1, 1, '[]')",
    )
    assert migrate.on_connection(url, lambda c: c.execute(COUNTS_MATCH).scalar_one()) == 0
    assert migrate.current_revision(url) == migrate.head_revision()


# --- 7. PostgreSQL: many concurrent creates racing the erasure ---------------------------------


@pytest.mark.postgresql
async def test_many_creates_racing_the_erasure_leave_nothing(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (app, http), (app2, http2) = one, two
    NotYetPolled(app2, monkeypatch)
    statuses: dict[int, int] = {}
    for _round in range(10):
        user = new_id()
        token = jwks.sign(eddsa, user, sid=new_id())
        RAISED.clear()
        reused = new_id()
        if _round % 2:  # else: no task, no count row yet when the race starts
            assert (await create(http2, user, token, key=new_id())).status_code == 201
            assert (await create(http2, user, token, key=reused)).status_code == 201

        async def one_create(
            n: int,
            user: str = user,
            token: str = token,
            reused: str = reused,
            odd: int = _round % 2,
        ) -> httpx.Response:
            await asyncio.sleep(random.uniform(0, 0.03))
            if n % 5 == 0 and odd:  # the key used before the erasure, again
                return await create(http2, user, token, key=reused)
            key = new_id() if n % 2 else None
            return await create(http2, user, token, key=key, tags=[f"t{n % 3}"])

        creates = [asyncio.create_task(one_create(n)) for n in range(40)]
        await asyncio.sleep(random.uniform(0, 0.02))
        purged = await purge(http, eddsa, user)
        assert purged.status_code == 202, purged.text
        # Right after the 202: nothing of the user may be there.
        survivors = await count_rows(app, "tasks", user)
        answers = await asyncio.gather(*creates)
        for a in answers:
            statuses[a.status_code] = statuses.get(a.status_code, 0) + 1
        assert survivors == 0
        await assert_nothing_left(app, user)
        assert await count_row(app, user) == (0, 0, True)
        assert all(a.status_code in (201, 401, 404) for a in answers), [
            (a.status_code, a.text) for a in answers if a.status_code not in (201, 401, 404)
        ]
    # 404: a replay of the key used before, which read the key just before the erasure
    # committed and its task just after (the task this key made has been deleted).
    assert set(statuses) <= {201, 401, 404}, statuses


# --- 8. PostgreSQL: edits, deletes, clear-completed in flight when the erasure marks ------------


def pause_after_the_lock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> asyncio.Event:
    """The erasure as it runs, with the time between its first statement (locking the
    account's task rows, taskapi.auth.revocation.erase_subject) and the rest widened to
    `seconds`: what a busy server does to it."""
    original = revocation.erase_subject
    locked = asyncio.Event()

    async def slow(connection: Any, user_id: str, until: datetime) -> int:
        await connection.execute(
            select(tasks.columns.id)
            .where(tasks.columns.user_id == user_id)
            .order_by(tasks.columns.id)
            .with_for_update()
        )
        locked.set()
        await asyncio.sleep(seconds)
        return await original(connection, user_id, until)

    monkeypatch.setattr(revocation, "erase_subject", slow)
    return locked


WRITES: dict[str, Callable[[httpx.AsyncClient, str, int, str], Any]] = {
    "toggle": lambda h, u, i, t: h.patch(f"/api/{u}/tasks/{i}/complete", headers=auth(t)),
    "patch completed": lambda h, u, i, t: h.patch(
        f"/api/{u}/tasks/{i}", json={"completed": True}, headers=auth(t)
    ),
    "patch title": lambda h, u, i, t: h.patch(
        f"/api/{u}/tasks/{i}", json={"title": "y"}, headers=auth(t)
    ),
    "put": lambda h, u, i, t: h.put(
        f"/api/{u}/tasks/{i}", json={"title": "y", "tags": ["n"]}, headers=auth(t)
    ),
    "delete": lambda h, u, i, t: h.delete(f"/api/{u}/tasks/{i}", headers=auth(t)),
    "clear completed": lambda h, u, i, t: h.delete(
        f"/api/{u}/tasks?status=completed", headers=auth(t)
    ),
}


@pytest.mark.postgresql
@pytest.mark.parametrize("write", list(WRITES))
async def test_a_write_arriving_when_the_erasure_has_locked_the_tasks(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
    write: str,
) -> None:
    """The erasure has locked the account's task rows; a write of another process reaches the
    database then: it waits for the erasure and finds nothing (404, or nothing to clear)."""
    (app, http), (_app2, http2) = one, two
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    made = await create(http2, user, token, tags=["a"], completed=True)
    assert made.status_code == 201
    locked = pause_after_the_lock(monkeypatch, 0.3)
    purging = asyncio.create_task(purge(http, eddsa, user))
    await locked.wait()
    answer = await WRITES[write](http2, user, made.json()["id"], token)
    purged = await purging
    await assert_nothing_left(app, user)
    assert purged.status_code == 202, purged.text
    if write == "clear completed":
        assert answer.json() == {"deleted": 0}, (answer.status_code, raised())
    else:
        assert answer.status_code == 404, (answer.status_code, raised())


@pytest.mark.postgresql
@pytest.mark.parametrize("erase", [True, False], ids=["with erasure", "control, no erasure"])
async def test_writes_racing_the_erasure_unpaused(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
    erase: bool,
) -> None:
    """No widened window: toggles, deletes, PUTs and clear-completed of a user's tasks racing
    a plain erasure (control: the same writes with no erasure)."""
    (app, http), (_app2, http2) = one, two
    seen: dict[str, int] = {}
    bodies: set[str] = set()
    RAISED.clear()
    for _round in range(8):
        user = new_id()
        token = jwks.sign(eddsa, user, sid=new_id())
        ids = []
        for n in range(12):
            r = await create(http2, user, token, tags=["a"], completed=n % 2 == 0)
            ids.append(r.json()["id"])

        async def hit(task_id: int, n: int, user: str = user, token: str = token) -> Any:
            await asyncio.sleep(random.uniform(0, 0.02))
            kind = ["toggle", "delete", "put", "clear completed"][n % 4]
            return kind, await WRITES[kind](http2, user, task_id, token)

        writes = [asyncio.create_task(hit(i, n)) for n, i in enumerate(ids)]
        await asyncio.sleep(random.uniform(0, 0.01))
        if erase:
            purged = await purge(http, eddsa, user)
            seen[f"events {purged.status_code}"] = seen.get(f"events {purged.status_code}", 0) + 1
            if purged.status_code >= 500:
                bodies.add(f"events {purged.status_code} {purged.text[:120]}")
        answers = await asyncio.gather(*writes)
        if erase and purged.status_code == 202:
            await assert_nothing_left(app, user)
            assert await count_row(app, user) == (0, 0, True)
        for kind, a in answers:
            seen[f"{kind} {a.status_code}"] = seen.get(f"{kind} {a.status_code}", 0) + 1
            if a.status_code >= 500:
                bodies.add(f"{kind} {a.status_code} {a.text[:120]}")
    assert all(k.split()[-1] in ("202", "200", "204", "404") for k in seen), (
        seen,
        bodies,
        sorted(set(raised().split(" | "))),
    )


# --- 9. PostgreSQL: a keyed create while the user has an expired key ------------------------


@pytest.mark.postgresql
async def test_a_keyed_create_of_a_user_with_an_expired_key_racing_the_erasure(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """create_once first deletes the user's expired keys (locking them), then takes the count
    row; the erasure, which has locked the task rows, deletes the keys before it marks the
    count row, the same order."""
    (app, http), (_app2, http2) = one, two
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    made = await create(http2, user, token, key="old")
    assert made.status_code == 201
    async with app.state.database.connect() as connection:
        await connection.execute(
            text("UPDATE idempotency_keys SET created_at = :at WHERE user_id = :u").bindparams(
                at=datetime.now(UTC) - timedelta(hours=25), u=user
            )
        )
    marked = pause_after_the_lock(monkeypatch, 0.3)
    purging = asyncio.create_task(purge(http, eddsa, user))
    await marked.wait()
    answer = await create(http2, user, token, key=new_id())
    purged = await purging
    assert purged.status_code == 202, purged.text
    # It deleted the expired key and took the count row before the erasure's turn: it commits
    # first (no deadlock), and the erasure takes its task and key.
    assert answer.status_code == 201, (answer.status_code, raised())
    await assert_nothing_left(app, user)


# --- 10. PostgreSQL: a big clear-completed racing the erasure ---------------------------------


@pytest.mark.postgresql
async def test_a_long_clear_completed_racing_the_erasure(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
) -> None:
    (app, http), (_app2, http2) = one, two
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    now = datetime.now(UTC)
    async with app.state.database.transaction() as connection:
        await connection.execute(
            text(
                "INSERT INTO tasks (user_id, title, completed, created_at, updated_at, version,"
                " priority, tags) SELECT :u, 't' || g, true, :now, :now, 1, 1, '[\"a\"]'"
                " FROM generate_series(1, 5000) g"
            ).bindparams(u=user, now=now)
        )
        await connection.execute(
            text(
                "INSERT INTO task_tags (task_id, tag, user_id) SELECT id, 'a', user_id"
                " FROM tasks WHERE user_id = :u"
            ).bindparams(u=user)
        )
    clearing = asyncio.create_task(
        http2.delete(f"/api/{user}/tasks?status=completed", headers=auth(token))
    )
    await asyncio.sleep(0.02)
    purged = await purge(http, eddsa, user)
    cleared = await clearing
    assert (purged.status_code, cleared.status_code) == (202, 200), raised()
    await assert_nothing_left(app, user)


# --- 11. two erasures of one user at once; one SET delivered twice at once ----------------------


async def test_concurrent_erasures_of_one_user(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
) -> None:
    (app, http), (_app2, http2) = one, two
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    assert (await create(http, user, token, tags=["a"])).status_code == 201
    same = set_for(eddsa, ACCOUNT_PURGED, account_subject(user))
    answers = await asyncio.gather(
        post_event(http, same),
        post_event(http2, same),
        purge(http, eddsa, user),
        purge(http2, eddsa, user),
    )
    assert [a.status_code for a in answers] == [202] * 4, [a.text for a in answers]
    assert await count_rows(app, "revocations", user) == 3
    await assert_nothing_left(app, user)


# --- 12. PostgreSQL: a create that reaches the database after the mark -------------------------


@pytest.mark.postgresql
@pytest.mark.parametrize("keyed", [False, True])
async def test_a_create_arriving_after_the_task_rows_are_locked(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
    keyed: bool,
) -> None:
    (app, http), (_app2, http2) = one, two
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    assert (await create(http2, user, token, key=new_id(), tags=["a"])).status_code == 201
    marked = pause_after_the_lock(monkeypatch, 0.3)
    purging = asyncio.create_task(purge(http, eddsa, user))
    await marked.wait()
    answer = await create(http2, user, token, key=new_id() if keyed else None, tags=["b"])
    purged = await purging
    assert purged.status_code == 202, purged.text
    # Before the mark: it takes the count row and commits first; the erasure takes its task.
    assert answer.status_code == 201, answer.text
    await assert_nothing_left(app, user)
    assert await count_row(app, user) == (0, 0, True)


# --- 13. signed SETs with odd values: refused, never a 500 --------------------------------------


ODD_SETS: dict[str, dict[str, Any]] = {
    "jti with NUL": {"jti": "a\x00b"},
    "jti with a lone surrogate": {"jti": "a\ud800b"},
    "jti of 255 non-ASCII characters": {"jti": "é" * 255},
    "iat huge": {"iat": 10**30},
    "iat float": {"iat": time.time() + 0.5},
    "iat negative": {"iat": -1},
    "exp before iat": {"exp": int(time.time()) - 1000},
    "events payload list": {"events": {ACCOUNT_PURGED: []}},
}


@pytest.mark.parametrize("name", list(ODD_SETS))
async def test_an_odd_but_signed_purge_is_answered_without_a_500(
    one: tuple[FastAPI, httpx.AsyncClient], eddsa: SigningKey, name: str
) -> None:
    _app, http = one
    user = new_id()
    token = set_for(eddsa, ACCOUNT_PURGED, account_subject(user), **ODD_SETS[name])
    RAISED.clear()
    answer = await post_event(http, token)
    assert answer.status_code in (202, 400), (answer.status_code, answer.text, raised())


@pytest.mark.postgresql
@pytest.mark.parametrize("erase", [True, False], ids=["with erasure", "control, no erasure"])
async def test_keyed_creates_of_a_user_with_an_expired_key_racing_the_erasure_unpaused(
    one: tuple[FastAPI, httpx.AsyncClient],
    two: tuple[FastAPI, httpx.AsyncClient],
    jwks: JWKSServer,
    eddsa: SigningKey,
    erase: bool,
) -> None:
    """As test_a_keyed_create_of_a_user_with_an_expired_key_racing_the_erasure, no pause."""
    (app, http), (_app2, http2) = one, two
    seen: dict[str, int] = {}
    RAISED.clear()
    for _round in range(10):
        user = new_id()
        token = jwks.sign(eddsa, user, sid=new_id())
        for n in range(3):
            assert (await create(http2, user, token, key=f"old{n}")).status_code == 201
        async with app.state.database.connect() as connection:
            await connection.execute(
                text("UPDATE idempotency_keys SET created_at = :at WHERE user_id = :u").bindparams(
                    at=datetime.now(UTC) - timedelta(hours=25), u=user
                )
            )

        async def keyed(user: str = user, token: str = token) -> httpx.Response:
            await asyncio.sleep(random.uniform(0, 0.015))
            return await create(http2, user, token, key=new_id())

        creates = [asyncio.create_task(keyed()) for _ in range(6)]
        await asyncio.sleep(random.uniform(0, 0.01))
        if erase:
            purged = await purge(http, eddsa, user)
            seen[f"events {purged.status_code}"] = seen.get(f"events {purged.status_code}", 0) + 1
        for a in await asyncio.gather(*creates):
            seen[f"create {a.status_code}"] = seen.get(f"create {a.status_code}", 0) + 1
        if erase and purged.status_code == 202:
            await assert_nothing_left(app, user)
    assert all(k.split()[-1] in ("202", "201", "401") for k in seen), (seen, raised()[:300])
