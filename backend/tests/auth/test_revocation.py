"""Revocation by Security Event Tokens (taskapi.security_events, taskapi.auth.revocation):
RFC 8417 SETs pushed to POST /events (RFC 8935) end a session's or an account's tokens at once,
in every process; forged or misused ones are refused; what is kept is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from taskapi import errors, security_events
from taskapi.auth import revocation
from taskapi.config import Settings
from taskapi.db import DRIVER_POOL_SIZE, POOL_SIZE, PostgresDatabase, raw_rows
from taskapi.main import create_app
from taskapi.security_events import ACCOUNT_PURGED, AUDIENCE, MEDIA_TYPE, SESSION_REVOKED
from tests.conftest import make_settings
from tests.keys import ISSUER, SECRET, JWKSServer, SigningKey, new_private_key

pytestmark = pytest.mark.anyio


def set_for(
    key: SigningKey,
    event_type: str,
    sub_id: Any,
    *,
    headers: dict[str, Any] | None = None,
    private_key: Any = None,
    **overrides: Any,
) -> str:
    """A SET as the web app signs one (frontend/src/lib/security-events.ts)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 900,
        "jti": uuid.uuid4().hex,
        "sub_id": sub_id,
        "events": {event_type: {"event_timestamp": now}},
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(
        claims,
        private_key or key.private_key,
        algorithm=key.algorithm,
        headers={"kid": key.kid, "typ": "secevent+jwt", **(headers or {})},
    )


def session_subject(user_id: str, session_id: str) -> dict[str, Any]:
    return {
        "format": "complex",
        "user": {"format": "opaque", "id": user_id},
        "session": {"format": "opaque", "id": session_id},
    }


def account_subject(user_id: str) -> dict[str, Any]:
    return {"format": "opaque", "id": user_id}


def new_id() -> str:
    return uuid.uuid4().hex


async def post_event(
    client: httpx.AsyncClient, token: str, content_type: str = MEDIA_TYPE
) -> httpx.Response:
    return await client.post("/events", content=token, headers={"Content-Type": content_type})


async def list_tasks(client: httpx.AsyncClient, user: str, token: str) -> httpx.Response:
    return await client.get(f"/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"})


async def create_task(
    client: httpx.AsyncClient, user: str, token: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/{user}/tasks",
        json={"title": "x", **body},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": new_id()},
    )


def assert_ended(response: httpx.Response, detail: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["detail"] == detail


@pytest.fixture
def eddsa(signing_keys: dict[str, SigningKey]) -> SigningKey:
    return signing_keys["EdDSA"]


# --- a session ended --------------------------------------------------------------------------


async def test_session_revoked_ends_that_sessions_tokens_only(
    client: httpx.AsyncClient, jwks: JWKSServer, eddsa: SigningKey
) -> None:
    user, ended, other = new_id(), new_id(), new_id()
    token = jwks.sign(eddsa, user, sid=ended)
    same_session_earlier = jwks.sign(eddsa, user, sid=ended, iat=int(time.time()) - 60)
    other_session = jwks.sign(eddsa, user, sid=other)
    without_sid = jwks.sign(eddsa, user)
    for live in (token, same_session_earlier, other_session, without_sid):
        assert (await list_tasks(client, user, live)).status_code == 200

    response = await post_event(
        client, set_for(eddsa, SESSION_REVOKED, session_subject(user, ended))
    )
    assert response.status_code == 202, response.text
    assert response.content == b""

    # Even from the verified-token cache, which held `token` until its exp.
    assert_ended(await list_tasks(client, user, token), errors.SESSION_ENDED)
    assert_ended(await list_tasks(client, user, same_session_earlier), errors.SESSION_ENDED)
    assert (await list_tasks(client, user, other_session)).status_code == 200
    # A token without `sid` is only ended by its account's erasure (docs/design.md).
    assert (await list_tasks(client, user, without_sid)).status_code == 200


async def test_hs256_set_where_the_server_verifies_hs256(
    client: httpx.AsyncClient, jwks: JWKSServer
) -> None:
    user, session = new_id(), new_id()
    now = int(time.time())
    token = jwt.encode(
        {"sub": user, "sid": session, "iat": now, "exp": now + 900, "iss": ISSUER, "aud": ISSUER},
        SECRET,
        algorithm="HS256",
    )
    assert (await list_tasks(client, user, token)).status_code == 200
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "jti": new_id(),
        "sub_id": session_subject(user, session),
        "events": {SESSION_REVOKED: {}},
    }
    signed = jwt.encode(claims, SECRET, algorithm="HS256", headers={"typ": "secevent+jwt"})
    assert (await post_event(client, signed)).status_code == 202
    assert_ended(await list_tasks(client, user, token), errors.SESSION_ENDED)


# --- an account erased ------------------------------------------------------------------------


async def count_rows(app: FastAPI, table: str, user: str) -> int:
    async with app.state.database.connect() as connection:
        found = await connection.scalar(
            text(f"SELECT count(*) FROM {table} WHERE user_id = :user").bindparams(user=user)  # noqa: S608
        )
    return int(found)


OWNED_TABLES = ("tasks", "task_tags", "idempotency_keys")


async def count_row(app: FastAPI, user: str) -> tuple[int, int, bool] | None:
    """The user's task_counts row: (total, completed, marked erased), or None."""
    async with app.state.database.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT total, completed, erased_until IS NOT NULL FROM task_counts"
                    " WHERE user_id = :user"
                ).bindparams(user=user)
            )
        ).first()
    return None if row is None else (int(row[0]), int(row[1]), bool(row[2]))


async def test_account_purged_erases_everything_and_no_write_is_accepted(
    app: FastAPI, client: httpx.AsyncClient, jwks: JWKSServer, eddsa: SigningKey
) -> None:
    user, neighbour = new_id(), new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    without_sid = jwks.sign(eddsa, user)
    neighbours = jwks.sign(eddsa, neighbour, sid=new_id())
    for owner, bearer in ((user, token), (user, without_sid), (neighbour, neighbours)):
        assert (await create_task(client, owner, bearer, tags=["home", "work"])).status_code == 201
    for table in OWNED_TABLES:
        assert await count_rows(app, table, user) > 0, table

    response = await post_event(client, set_for(eddsa, ACCOUNT_PURGED, account_subject(user)))
    assert response.status_code == 202, response.text

    for table in OWNED_TABLES:
        assert await count_rows(app, table, user) == 0, table
        assert await count_rows(app, table, neighbour) > 0, table
    # What is left of the account: its count row, at zero and marked erased.
    assert await count_row(app, user) == (0, 0, True)
    assert await count_row(app, neighbour) == (1, 0, False)
    for bearer in (token, without_sid, jwks.sign(eddsa, user, sid=new_id())):
        assert_ended(await create_task(client, user, bearer), errors.ACCOUNT_DELETED)
        assert_ended(await list_tasks(client, user, bearer), errors.ACCOUNT_DELETED)
    assert (await list_tasks(client, neighbour, neighbours)).json()


async def test_a_deleted_accounts_token_is_refused_as_deleted_though_its_session_ended_too(
    app: FastAPI, client: httpx.AsyncClient, jwks: JWKSServer, eddsa: SigningKey
) -> None:
    """Deleting an account ends its sessions as well (the web app sends account-purged and a
    session-revoked for each session): the refusal names the deletion, here and in a process
    that learnt both from the table."""
    user, session = new_id(), new_id()
    token = jwks.sign(eddsa, user, sid=session)
    for event in (
        set_for(eddsa, ACCOUNT_PURGED, account_subject(user)),
        set_for(eddsa, SESSION_REVOKED, session_subject(user, session)),
    ):
        assert (await post_event(client, event)).status_code == 202
    assert_ended(await list_tasks(client, user, token), errors.ACCOUNT_DELETED)
    polled = revocation.Revocations(max_token_lifetime=900, leeway=0)
    assert await polled.refresh(app.state.database)
    assert polled.refusal(user, session, time.time()) == errors.ACCOUNT_DELETED
    assert polled.refusal(new_id(), session, time.time()) == errors.SESSION_ENDED


class NotYetPolled:
    """This process's revocations as another process has them before its next poll: none."""

    def __init__(self, app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(app.state.verifier.revocations, "refusal", self.refusal)

    @staticmethod
    def refusal(user_id: str, session_id: str | None, issued_at: float) -> str | None:
        return None


async def test_a_process_that_has_not_yet_learned_of_an_erasure_writes_nothing_back(
    app: FastAPI,
    client: httpx.AsyncClient,
    jwks: JWKSServer,
    eddsa: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Up to a poll (taskapi.auth.revocation.POLL_SECONDS) after an erasure, another process
    still accepts the account's tokens; the database refuses to create a task for it (its
    count row is marked, migration 0008), with or without an Idempotency-Key, and says why."""
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    assert (await create_task(client, user, token)).status_code == 201
    response = await post_event(client, set_for(eddsa, ACCOUNT_PURGED, account_subject(user)))
    assert response.status_code == 202, response.text
    NotYetPolled(app, monkeypatch)
    assert (await list_tasks(client, user, token)).json() == []  # the token is accepted...
    assert_ended(await create_task(client, user, token), errors.ACCOUNT_DELETED)  # ...not this
    plain = await client.post(
        f"/api/{user}/tasks", json={"title": "x"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert_ended(plain, errors.ACCOUNT_DELETED)
    for table in OWNED_TABLES:
        assert await count_rows(app, table, user) == 0, table
    assert await count_row(app, user) == (0, 0, True)


@pytest.mark.postgresql  # on SQLite a transaction never suspends (SQLiteDatabase.transaction)
async def test_a_create_running_when_the_erasure_arrives_is_erased_with_the_rest(
    app: FastAPI, client: httpx.AsyncClient, jwks: JWKSServer, eddsa: SigningKey
) -> None:
    """A create that holds the account's count row when the erasure starts (as
    taskapi.tasks._hold_room does, in another process): the erasure waits for the row's lock
    and then erases that task too. Nothing committed before the 202 outlives it."""
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    assert (await create_task(client, user, token)).status_code == 201
    holding, release = asyncio.Event(), asyncio.Event()

    async def slow_create() -> None:
        async with app.state.database.transaction() as connection:
            await connection.execute(
                text(
                    "INSERT INTO task_counts (user_id, total, completed) VALUES (:user, 0, 0)"
                    " ON CONFLICT (user_id) DO UPDATE SET total = task_counts.total"
                    " WHERE task_counts.erased_until IS NULL"
                ).bindparams(user=user)
            )
            holding.set()
            await release.wait()
            await connection.execute(
                text(
                    "INSERT INTO tasks (user_id, title, completed, created_at, updated_at,"
                    " version, priority, tags) VALUES (:user, 'late', false, :now, :now, 1, 1,"
                    " '[]')"
                ).bindparams(user=user, now=datetime.now(UTC))
            )

    creating = asyncio.create_task(slow_create())
    await holding.wait()
    purge = asyncio.create_task(
        post_event(client, set_for(eddsa, ACCOUNT_PURGED, account_subject(user)))
    )
    await asyncio.sleep(0.3)
    assert not purge.done()  # waiting for the create's transaction
    release.set()
    await creating
    assert (await purge).status_code == 202
    assert await count_rows(app, "tasks", user) == 0
    assert await count_row(app, user) == (0, 0, True)


async def assert_purge_refused_and_nothing_erased(
    app: FastAPI, client: httpx.AsyncClient, response: httpx.Response, user: str, token: str
) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {
        "err": "invalid_request",
        "description": errors.SET_PURGE_TOO_LATE,
        "detail": errors.SET_PURGE_TOO_LATE,
    }
    assert await count_rows(app, "tasks", user) == 1
    assert await count_rows(app, "revocations", user) == 0
    assert user not in app.state.verifier.revocations.subjects
    assert (await list_tasks(client, user, token)).status_code == 200


async def test_a_purge_the_sender_has_stopped_waiting_for_is_refused_and_erases_nothing(
    app: FastAPI, client: httpx.AsyncClient, jwks: JWKSServer, eddsa: SigningKey
) -> None:
    """The web app keeps the account when no 202 came within PURGE_TIMEOUT_MS (15 s): an
    account-purged SET older than PURGE_MAX_AGE_SECONDS (10 s) is refused, whole."""
    assert security_events.PURGE_MAX_AGE_SECONDS < 15
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    assert (await create_task(client, user, token)).status_code == 201
    stale = set_for(eddsa, ACCOUNT_PURGED, account_subject(user), iat=int(time.time()) - 11)
    response = await post_event(client, stale)
    await assert_purge_refused_and_nothing_erased(app, client, response, user, token)

    fresh = set_for(eddsa, ACCOUNT_PURGED, account_subject(user))
    assert (await post_event(client, fresh)).status_code == 202
    assert await count_rows(app, "tasks", user) == 0
    assert await count_rows(app, "revocations", user) == 1
    assert_ended(await list_tasks(client, user, token), errors.ACCOUNT_DELETED)


async def test_the_purges_age_is_checked_just_before_its_commit(
    app: FastAPI,
    client: httpx.AsyncClient,
    jwks: JWKSServer,
    eddsa: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A SET fresh on arrival that grows too old while its erasure runs (a process frozen, a
    lock waited for) is refused too, and the erasure rolled back."""
    monkeypatch.setattr(security_events, "PURGE_MAX_AGE_SECONDS", 1.0)
    erase = revocation.erase_subject

    async def slow_erase(connection: Any, user_id: str, until: datetime) -> int:
        erased = await erase(connection, user_id, until)
        await asyncio.sleep(1.2)  # the erasure has run; its commit is still to come
        return erased

    monkeypatch.setattr(revocation, "erase_subject", slow_erase)
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    assert (await create_task(client, user, token)).status_code == 201
    response = await post_event(client, set_for(eddsa, ACCOUNT_PURGED, account_subject(user)))
    await assert_purge_refused_and_nothing_erased(app, client, response, user, token)


# --- replays ----------------------------------------------------------------------------------


async def test_a_set_delivered_twice_is_acknowledged_and_applied_once(
    app: FastAPI, client: httpx.AsyncClient, eddsa: SigningKey
) -> None:
    user, session = new_id(), new_id()
    event = set_for(eddsa, SESSION_REVOKED, session_subject(user, session))
    assert (await post_event(client, event)).status_code == 202
    assert (await post_event(client, event)).status_code == 202
    assert await count_rows(app, "revocations", user) == 1


async def test_a_replayed_purge_erases_nothing_new(
    app: FastAPI, client: httpx.AsyncClient, jwks: JWKSServer, eddsa: SigningKey
) -> None:
    """The second delivery is not applied: a task made (by a process of its own, straight to
    the database) after the first is still there after the second."""
    user = new_id()
    event = set_for(eddsa, ACCOUNT_PURGED, account_subject(user))
    assert (await post_event(client, event)).status_code == 202
    async with app.state.database.connect() as connection:
        await connection.execute(
            text(
                "INSERT INTO tasks (user_id, title, completed, created_at, updated_at, version,"
                " priority, tags) VALUES (:user, 'kept', false, :now, :now, 1, 1, '[]')"
            ).bindparams(user=user, now=datetime.now(UTC))
        )
    assert (await post_event(client, event)).status_code == 202
    assert await count_rows(app, "tasks", user) == 1
    assert await count_rows(app, "revocations", user) == 1


# --- forgeries and misuse ---------------------------------------------------------------------


def forgeries(key: SigningKey, user: str, session: str) -> dict[str, tuple[str, str]]:
    """A name for each way a SET can be wrong: (the token, the RFC 8935 err it gets)."""
    subject = session_subject(user, session)
    other_key = new_private_key(key.algorithm)
    now = int(time.time())
    access_token = jwt.encode(
        {"sub": user, "sid": session, "iat": now, "exp": now + 900, "iss": ISSUER, "aud": ISSUER},
        key.private_key,
        algorithm=key.algorithm,
        headers={"kid": key.kid},
    )
    return {
        "signed by another key under a known kid": (
            set_for(key, SESSION_REVOKED, subject, private_key=other_key),
            "authentication_failed",
        ),
        "an unknown kid": (
            set_for(key, SESSION_REVOKED, subject, headers={"kid": "nobody"}),
            "invalid_key",
        ),
        "HS256 with another secret": (
            jwt.encode(
                {
                    "iss": ISSUER,
                    "aud": AUDIENCE,
                    "iat": now,
                    "jti": new_id(),
                    "sub_id": subject,
                    "events": {SESSION_REVOKED: {}},
                },
                "another-secret-that-is-long-enough-000000",
                algorithm="HS256",
                headers={"typ": "secevent+jwt"},
            ),
            "authentication_failed",
        ),
        "no typ": (
            set_for(key, SESSION_REVOKED, subject, headers={"typ": None}),
            "invalid_request",
        ),
        "typ JWT": (
            set_for(key, SESSION_REVOKED, subject, headers={"typ": "JWT"}),
            "invalid_request",
        ),
        "an access token": (access_token, "invalid_request"),
        "the access tokens' audience": (
            set_for(key, SESSION_REVOKED, subject, aud=ISSUER),
            "invalid_audience",
        ),
        "another issuer": (
            set_for(key, SESSION_REVOKED, subject, iss="https://evil.example"),
            "invalid_issuer",
        ),
        "no jti": (set_for(key, SESSION_REVOKED, subject, jti=None), "invalid_request"),
        "no events": (set_for(key, SESSION_REVOKED, subject, events=None), "invalid_request"),
        "two events": (
            set_for(
                key,
                SESSION_REVOKED,
                subject,
                events={SESSION_REVOKED: {}, ACCOUNT_PURGED: {}},
            ),
            "invalid_request",
        ),
        "an unknown event type": (
            set_for(
                key, "https://schemas.openid.net/secevent/risc/event-type/account-disabled", subject
            ),
            "invalid_request",
        ),
        "a session event without a session": (
            set_for(key, SESSION_REVOKED, account_subject(user)),
            "invalid_request",
        ),
        "a subject that is no user id": (
            set_for(key, SESSION_REVOKED, session_subject("../etc", session)),
            "invalid_request",
        ),
        "issued too long ago": (
            set_for(key, SESSION_REVOKED, subject, iat=now - 901, exp=now + 60),
            "invalid_request",
        ),
        "expired": (
            set_for(key, SESSION_REVOKED, subject, iat=now - 60, exp=now - 1),
            "invalid_request",
        ),
        "not a JWT": ("revoke everything", "invalid_request"),
    }


FORGERY_NAMES = list(forgeries(SigningKey("EdDSA", "k", new_private_key("EdDSA")), "u", "s"))


@pytest.mark.parametrize("name", FORGERY_NAMES)
async def test_a_forged_or_misused_set_is_refused_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, jwks: JWKSServer, eddsa: SigningKey, name: str
) -> None:
    user, session = new_id(), new_id()
    token = jwks.sign(eddsa, user, sid=session)
    forged, err = forgeries(eddsa, user, session)[name]
    response = await post_event(client, forged)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["err"] == err
    assert body["description"]
    assert body["detail"] == body["description"]
    assert (await list_tasks(client, user, token)).status_code == 200
    assert await count_rows(app, "revocations", user) == 0


async def test_a_forged_purge_erases_nothing(
    app: FastAPI, client: httpx.AsyncClient, jwks: JWKSServer, eddsa: SigningKey
) -> None:
    user = new_id()
    token = jwks.sign(eddsa, user, sid=new_id())
    assert (await create_task(client, user, token)).status_code == 201
    forged = set_for(
        eddsa, ACCOUNT_PURGED, account_subject(user), private_key=new_private_key("EdDSA")
    )
    assert (await post_event(client, forged)).json()["err"] == "authentication_failed"
    assert await count_rows(app, "tasks", user) == 1
    assert (await create_task(client, user, token)).status_code == 201


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/jwt", "text/plain", "secevent+jwt"]
)
async def test_only_the_set_media_type_is_read(
    client: httpx.AsyncClient, eddsa: SigningKey, content_type: str
) -> None:
    event = set_for(eddsa, SESSION_REVOKED, session_subject(new_id(), new_id()))
    response = await post_event(client, event, content_type)
    assert response.status_code == 415
    assert response.json()["err"] == "invalid_request"


async def test_the_media_type_takes_parameters_and_any_case(
    client: httpx.AsyncClient, eddsa: SigningKey
) -> None:
    event = set_for(eddsa, SESSION_REVOKED, session_subject(new_id(), new_id()))
    response = await post_event(client, event, "Application/SecEvent+JWT; charset=us-ascii")
    assert response.status_code == 202


async def test_a_set_is_never_an_access_token(
    client: httpx.AsyncClient, jwks: JWKSServer, eddsa: SigningKey
) -> None:
    """RFC 8417 §4.2: by its typ, and by its `events` claim when typ is left out; even one
    with the claims an access token needs."""
    user = new_id()
    access_like: dict[str, Any] = {"sub": user, "aud": ISSUER}
    with_typ = set_for(eddsa, SESSION_REVOKED, session_subject(user, new_id()), **access_like)
    without_typ = set_for(
        eddsa,
        SESSION_REVOKED,
        session_subject(user, new_id()),
        headers={"typ": None},
        **access_like,
    )
    media_typ = jwks.sign(eddsa, user, headers={"typ": "application/secevent+jwt"})
    for token in (with_typ, without_typ, media_typ):
        assert_ended(await list_tasks(client, user, token), errors.SECURITY_EVENT_AS_TOKEN)


# --- bounded state ----------------------------------------------------------------------------


async def test_a_token_older_than_the_longest_lifetime_is_refused(
    client: httpx.AsyncClient, settings: Settings, jwks: JWKSServer, eddsa: SigningKey
) -> None:
    """So no token outlives the entry that could end it (taskapi.auth.revocation)."""
    user, now = new_id(), int(time.time())
    limit = settings.jwt_max_lifetime_seconds + settings.jwt_leeway_seconds
    young = jwks.sign(eddsa, user, iat=now - limit + 5, exp=now + 3600)
    old = jwks.sign(eddsa, user, iat=now - limit - 1, exp=now + 3600)
    assert (await list_tasks(client, user, young)).status_code == 200
    assert_ended(await list_tasks(client, user, old), errors.TOKEN_TOO_OLD)


async def test_entries_are_dropped_once_every_token_they_concern_has_expired(
    app: FastAPI, client: httpx.AsyncClient, eddsa: SigningKey
) -> None:
    users = [new_id() for _ in range(3)]
    for user in users:
        event = set_for(eddsa, SESSION_REVOKED, session_subject(user, new_id()))
        assert (await post_event(client, event)).status_code == 202
    event = set_for(eddsa, ACCOUNT_PURGED, account_subject(users[0]))
    assert (await post_event(client, event)).status_code == 202
    revocations: revocation.Revocations = app.state.verifier.revocations
    assert len(revocations) == 4
    # Each is kept for the longest lifetime plus the leeway from when it arrived.
    async with app.state.database.connect() as connection:
        untils = (await connection.execute(text("SELECT until FROM revocations"))).all()
    kept_for = revocations.max_token_age
    for (until,) in untils:
        until = until if isinstance(until, datetime) else datetime.fromisoformat(until)
        left = (until.replace(tzinfo=until.tzinfo or UTC) - datetime.now(UTC)).total_seconds()
        assert kept_for - 10 < left <= kept_for

    assert await count_row(app, users[0]) == (0, 0, True)
    # Past `until`: the rows go (prune), and memory follows on the next refresh.
    later = datetime.now(UTC) + timedelta(seconds=kept_for + 1)
    await revocation.prune(app.state.database, later)
    for table in ("revocations", "received_security_events"):
        async with app.state.database.connect() as connection:
            assert await connection.scalar(text(f"SELECT count(*) FROM {table}")) == 0  # noqa: S608
    assert await count_row(app, users[0]) is None  # the erased account's mark too
    await revocations.refresh(app.state.database)
    assert len(revocations) == 0


async def test_refresh_skips_the_reload_when_nothing_changed(
    app: FastAPI, client: httpx.AsyncClient, eddsa: SigningKey
) -> None:
    # A list of its own (the app's is refreshed by its poll meanwhile).
    revocations = revocation.Revocations(max_token_lifetime=900, leeway=0)
    await revocations.refresh(app.state.database)
    assert not await revocations.refresh(app.state.database)
    event = set_for(eddsa, SESSION_REVOKED, session_subject(new_id(), new_id()))
    assert (await post_event(client, event)).status_code == 202
    assert await revocations.refresh(app.state.database)
    assert len(revocations) == 1
    assert not await revocations.refresh(app.state.database)


# --- every process ----------------------------------------------------------------------------


@pytest.fixture
async def second_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Another process's app on the same database (its own memory, its own polling)."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def test_another_app_on_the_database_refuses_within_two_seconds(
    client: httpx.AsyncClient,
    second_app: httpx.AsyncClient,
    jwks: JWKSServer,
    eddsa: SigningKey,
) -> None:
    user, session = new_id(), new_id()
    token = jwks.sign(eddsa, user, sid=session)
    assert (await list_tasks(second_app, user, token)).status_code == 200
    assert (
        await post_event(client, set_for(eddsa, SESSION_REVOKED, session_subject(user, session)))
    ).status_code == 202
    started = time.monotonic()
    while (await list_tasks(second_app, user, token)).status_code == 200:
        assert time.monotonic() - started < 2 * revocation.POLL_SECONDS + 0.5
        await asyncio.sleep(0.05)
    assert_ended(await list_tasks(second_app, user, token), errors.SESSION_ENDED)


@pytest.mark.postgresql  # SQLite has one shared connection and no pool to exhaust
async def test_the_poll_does_not_wait_behind_requests(app: FastAPI) -> None:
    """With every pooled connection held by requests, the revocation poll still reads at once
    on its own connection (Database.background); in the pool it waited up to pool_timeout
    (3 s) and then failed, while the process went on accepting a purged account's writes."""
    database = app.state.database
    assert isinstance(database, PostgresDatabase)
    revocations = revocation.Revocations(max_token_lifetime=900, leeway=0)
    async with contextlib.AsyncExitStack() as held:
        # Each request's connection is taken at its first statement, from the pool its kind
        # of statement runs on: both pools emptied.
        for _ in range(POOL_SIZE):
            connection = await held.enter_async_context(database.connect())
            await connection.scalar(text("SELECT 1"))
        for _ in range(DRIVER_POOL_SIZE):
            connection = await held.enter_async_context(database.connect())
            await raw_rows(connection, "SELECT 1")
        started = time.monotonic()
        await asyncio.wait_for(revocations.refresh(database), timeout=2.0)
        assert time.monotonic() - started < 1.0


async def test_an_hs256_only_server_says_why_it_cannot_check_the_web_apps_events(
    database_url: str, eddsa: SigningKey
) -> None:
    """The web app signs with its JWT plugin's key (EdDSA); a task API without BETTER_AUTH_URL
    has no JWKS to check it with, and says so (the web app logs the refusal)."""
    settings = make_settings(database_url, None, better_auth_url=None)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            event = set_for(eddsa, SESSION_REVOKED, session_subject(new_id(), new_id()))
            response = await post_event(http, event)
    assert response.status_code == 400
    assert response.json() == {
        "err": "invalid_key",
        "description": errors.SET_NO_JWKS,
        "detail": errors.SET_NO_JWKS,
    }
