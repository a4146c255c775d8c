"""A token ends with its session, not 15 minutes later (issue #13 items 7-8): sign-out, sign out
everywhere else, a password changed or reset, an account deleted. The web app pushes a Security
Event Token to one task API process (frontend/src/lib/security-events.ts); a second process on
the same database must refuse the old token within 5 s too (backend taskapi.auth.revocation).

The stack here: the built web app, and two `taskapi serve` processes on one database (an SQLite
file, or a PostgreSQL database of its own when TEST_DATABASE_URL names a server); the web app
sends its events (and forwards its API calls) to the first.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import secrets
import sqlite3
import statistics
import subprocess
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from conftest import (
    RESET_SUBJECT,
    ROOT,
    TASKAPI,
    SmtpServer,
    _start,
    check_on_postgres_pass,
    free_port,
    new_context,
    new_email,
    sign_up_by_api,
    stop,
    wait_until_up,
    web_app,
)

PASSWORD = "correct horse 42"
NEW_PASSWORD = "battery staple 43"
WITHIN_SECONDS = 5.0
ERASE_FAILED = (
    "Your tasks could not be erased just now, so your account was not deleted. "
    "Try again in a few minutes."
)


def _run(work: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to its end on a thread of its own: Playwright's sync API keeps an event
    loop running on this one."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, work).result()


def _postgres_database() -> tuple[str, str] | None:
    """(a fresh database's URL, its name) on TEST_DATABASE_URL's server, or None."""
    check_on_postgres_pass()
    admin = os.environ.get("TEST_DATABASE_URL")
    if not admin:
        return None
    import asyncpg

    name = f"taskapi_e2e_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    _run(create())
    return admin.rsplit("/", 1)[0] + f"/{name}", name


def _drop_postgres(name: str) -> None:
    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(os.environ["TEST_DATABASE_URL"])
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    _run(drop())


@dataclass
class Stack:
    url: str  # the web app
    backends: list[str]  # the task API processes; the web app talks to the first
    work: Path
    log: Path
    database_url: str
    env: dict[str, str]
    ports: list[int]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_backend(self, index: int) -> None:
        log = self.work / f"backend-{index}.log"
        self.processes[index] = _start(
            [str(TASKAPI), "serve", "--port", str(self.ports[index])], self.work, self.env, log
        )
        wait_until_up(f"{self.backends[index]}/health", self.processes[index], log)

    def stop_backend(self, index: int) -> None:
        stop(self.processes[index])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("revocation")
    secret = secrets.token_urlsafe(32)
    frontend_port = free_port()
    ports = [free_port(), free_port()]
    postgres = _postgres_database()
    database_url = postgres[0] if postgres else f"sqlite:///{work / 'tasks.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BETTER_AUTH", "DATABASE"))},
        "BETTER_AUTH_SECRET": secret,
        "BETTER_AUTH_URL": f"http://127.0.0.1:{frontend_port}",
        "DATABASE_URL": database_url,
        "LOG_REQUESTS": "false",
    }
    subprocess.run([str(TASKAPI), "migrate"], cwd=work, env=env, check=True)
    backends = [f"http://127.0.0.1:{port}" for port in ports]
    built = Stack(
        url="",
        backends=backends,
        work=work,
        log=work / "frontend.log",
        database_url=database_url,
        env=env,
        ports=ports,
        processes=[
            _start(
                [str(TASKAPI), "serve", "--port", str(port)],
                work,
                env,
                work / f"backend-{index}.log",
            )
            for index, port in enumerate(ports)
        ],
    )
    try:
        settings = {"TRUSTED_PROXIES": "127.0.0.1", "SMTP_URL": smtp.url}
        with web_app(work, backends[0], secret, settings, frontend_port) as (origin, log, _):
            for index, backend in enumerate(backends):
                wait_until_up(
                    f"{backend}/health", built.processes[index], work / f"backend-{index}.log"
                )
            built.url, built.log = origin, log
            yield built
    finally:
        for process in built.processes:
            stop(process)
        for index in range(len(backends)):
            output = (work / f"backend-{index}.log").read_text()
            assert "Traceback" not in output, output[-3000:]
        if postgres:
            _drop_postgres(postgres[1])


class _System:
    """What conftest.new_context needs of a system: its URL."""

    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture
def person(browser: Browser, stack: Stack) -> Iterator[BrowserContext]:
    context = new_context(browser, _System(stack.url))  # type: ignore[arg-type]
    yield context
    context.close()


# --- helpers --------------------------------------------------------------------------------


def token_and_user(page: Page) -> tuple[str, str]:
    """The JWT the app uses (as its task list fetches it) and the user id."""
    token = page.request.get("/api/auth/token").json()["token"]
    user_id = page.request.get("/api/auth/get-session").json()["user"]["id"]
    return token, user_id


def list_status(backend: str, user_id: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{backend}/api/{user_id}/tasks", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )


def seconds_until_refused(stack: Stack, user_id: str, token: str) -> float:
    """How long, from now, until every task API process refuses the token (401, the session
    ended); fails past WITHIN_SECONDS."""
    started = time.monotonic()
    refused: set[int] = set()
    while True:
        for index, backend in enumerate(stack.backends):
            if index in refused:
                continue
            response = list_status(backend, user_id, token)
            if response.status_code == 401:
                assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
                assert (
                    "ended" in response.json()["detail"] or "deleted" in response.json()["detail"]
                )
                refused.add(index)
            else:
                assert response.status_code == 200, response.text
        elapsed = time.monotonic() - started
        if len(refused) == len(stack.backends):
            return elapsed
        assert elapsed < WITHIN_SECONDS, f"still accepted after {elapsed:.1f} s"
        time.sleep(0.02)


def works_everywhere(stack: Stack, user_id: str, token: str) -> None:
    for backend in stack.backends:
        assert list_status(backend, user_id, token).status_code == 200


def post(
    page: Page, stack: Stack, path: str, data: object, address: str | None = None
) -> tuple[int, dict[str, object]]:
    """POST to the web app from `page`'s browser; from another client `address` if given (the
    suite's web app trusts X-Forwarded-For from 127.0.0.1: sign-in's rate is per address)."""
    headers = {"Origin": stack.url, **({"X-Forwarded-For": address} if address else {})}
    response = page.request.post(path, data=data, headers=headers)
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status, body if isinstance(body, dict) else {"body": body}


def count_tasks(stack: Stack, user_id: str) -> int:
    """Tasks, tags and idempotency keys of the user, straight from the database."""
    backend = ROOT / "backend" / ".venv" / "bin" / "python"
    script = (
        "import asyncio, sys\n"
        "from sqlalchemy import text\n"
        "from taskapi.db import create_engine\n"
        "from taskapi.database_url import parse_database_url\n"
        "async def main():\n"
        "    engine = create_engine(parse_database_url(sys.argv[1]))\n"
        "    total = 0\n"
        "    async with engine.connect() as c:\n"
        "        for table in ('tasks', 'task_tags', 'idempotency_keys'):\n"
        "            q = text(f'SELECT count(*) FROM {table} WHERE user_id = :u')\n"
        "            total += (await c.execute(q, {'u': sys.argv[2]})).scalar_one()\n"
        "    await engine.dispose()\n"
        "    print(total)\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run(
        [str(backend), "-c", script, stack.database_url, user_id],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip())


def add_tasks(page: Page, user_id: str, token: str, count: int = 2) -> None:
    for number in range(count):
        response = page.request.post(
            f"/api/{user_id}/tasks",
            data={"title": f"task {number}", "tags": ["home"]},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
        )
        assert response.status == 201, response.text()


# --- the events ---------------------------------------------------------------------------


def test_sign_out_in_the_browser_ends_the_token_in_every_process(
    person: BrowserContext, stack: Stack
) -> None:
    page = person.new_page()
    sign_up_by_api(page, "Ada", new_email(), PASSWORD)
    token, user_id = token_and_user(page)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==").decode())
    assert claims["sid"], claims  # the session the token speaks for
    works_everywhere(stack, user_id, token)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    seconds_until_refused(stack, user_id, token)


def test_revocation_delay_over_twenty_sign_outs(person: BrowserContext, stack: Stack) -> None:
    """Median and worst delay, from the sign-out's answer to the last process refusing."""
    page = person.new_page()
    email = new_email()
    sign_up_by_api(page, "Ada", email, PASSWORD)
    delays = []
    for attempt in range(20):
        token, user_id = token_and_user(page)
        works_everywhere(stack, user_id, token)
        status, _ = post(page, stack, "/api/auth/sign-out", {})
        assert status == 200
        delays.append(seconds_until_refused(stack, user_id, token))
        credentials = {"email": email, "password": PASSWORD}
        address = f"203.0.113.{attempt + 1}"
        status, _ = post(page, stack, "/api/auth/sign-in/email", credentials, address)
        assert status == 200
    database = "postgresql" if stack.database_url.startswith("postgres") else "sqlite"
    report = {
        "database": database,
        "processes": len(stack.backends),
        "tries": len(delays),
        "median_s": round(statistics.median(delays), 3),
        "worst_s": round(max(delays), 3),
    }
    output = ROOT / "test-output"
    output.mkdir(exist_ok=True)
    (output / f"revocation-delay-{database}.json").write_text(json.dumps(report))
    print(report)
    assert max(delays) < WITHIN_SECONDS


def test_sign_out_everywhere_else_ends_the_other_sessions_only(
    browser: Browser, stack: Stack
) -> None:
    email = new_email()
    here = new_context(browser, _System(stack.url))  # type: ignore[arg-type]
    there = new_context(browser, _System(stack.url))  # type: ignore[arg-type]
    try:
        page = here.new_page()
        sign_up_by_api(page, "Ada", email, PASSWORD)
        other = there.new_page()
        other.goto("/login")
        status, _ = post(
            other, stack, "/api/auth/sign-in/email", {"email": email, "password": PASSWORD}
        )
        assert status == 200
        mine, user_id = token_and_user(page)
        theirs, _ = token_and_user(other)

        status, _ = post(page, stack, "/api/auth/revoke-other-sessions", {})
        assert status == 200
        seconds_until_refused(stack, user_id, theirs)
        works_everywhere(stack, user_id, mine)
    finally:
        here.close()
        there.close()


def test_a_password_change_ends_the_old_sessions_tokens(browser: Browser, stack: Stack) -> None:
    email = new_email()
    here = new_context(browser, _System(stack.url))  # type: ignore[arg-type]
    there = new_context(browser, _System(stack.url))  # type: ignore[arg-type]
    try:
        page = here.new_page()
        sign_up_by_api(page, "Ada", email, PASSWORD)
        other = there.new_page()
        other.goto("/login")
        status, _ = post(
            other, stack, "/api/auth/sign-in/email", {"email": email, "password": PASSWORD}
        )
        assert status == 200
        mine, user_id = token_and_user(page)
        theirs, _ = token_and_user(other)

        status, body = post(
            page,
            stack,
            "/api/auth/change-password",
            {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD, "revokeOtherSessions": True},
        )
        assert status == 200, body
        # Better Auth deletes every session of the account (and makes this one a new one).
        seconds_until_refused(stack, user_id, theirs)
        seconds_until_refused(stack, user_id, mine)
        fresh, _ = token_and_user(page)
        works_everywhere(stack, user_id, fresh)
    finally:
        here.close()
        there.close()


def test_a_password_reset_ends_every_sessions_tokens(
    person: BrowserContext, stack: Stack, smtp: SmtpServer
) -> None:
    page = person.new_page()
    email = new_email()
    sign_up_by_api(page, "Ada", email, PASSWORD)
    token, user_id = token_and_user(page)
    status, _ = post(
        page,
        stack,
        "/api/auth/request-password-reset",
        {"email": email, "redirectTo": "/reset-password"},
    )
    assert status == 200
    message = smtp.mailbox.wait_for(email, subject=RESET_SUBJECT)
    found = re.search(r"https?://\S+/api/auth/reset-password/([^?\s]+)", message.text)
    assert found, message.text
    status, body = post(
        page,
        stack,
        "/api/auth/reset-password",
        {"newPassword": NEW_PASSWORD, "token": found.group(1)},
    )
    assert status == 200, body
    seconds_until_refused(stack, user_id, token)


# --- deleting an account ------------------------------------------------------------------


def test_deleting_the_account_erases_its_tasks_and_the_token_never_writes_again(
    person: BrowserContext, stack: Stack
) -> None:
    page = person.new_page()
    sign_up_by_api(page, "Ada", new_email(), PASSWORD)
    token, user_id = token_and_user(page)
    add_tasks(page, user_id, token)
    assert count_tasks(stack, user_id) > 0

    # The password is required, and must be right.
    status, body = post(page, stack, "/api/auth/delete-user", {})
    assert status == 400, body
    assert body["message"] == "Type your password to delete your account."
    status, body = post(page, stack, "/api/auth/delete-user", {"password": "wrong password 1"})
    assert status == 400, body
    assert count_tasks(stack, user_id) > 0

    status, body = post(page, stack, "/api/auth/delete-user", {"password": PASSWORD})
    assert status == 200, body
    assert count_tasks(stack, user_id) == 0
    for backend in stack.backends:
        write = httpx.post(
            f"{backend}/api/{user_id}/tasks",
            json={"title": "after"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert write.status_code == 401, write.text
        # Its session ended too, but the deletion is what is named, by every process: the
        # one that has learnt of it and the one that has not yet, whose database refuses.
        assert write.json()["detail"].startswith("Invalid token: the account"), write.text
        # A token for that user without a session (as `taskapi token` mints), made just now.
        now = int(time.time())
        issuer = stack.env["BETTER_AUTH_URL"]
        claims = {"sub": user_id, "iat": now, "exp": now + 600, "iss": issuer, "aud": issuer}
        minted = jwt.encode(claims, stack.env["BETTER_AUTH_SECRET"], algorithm="HS256")
        write = httpx.post(
            f"{backend}/api/{user_id}/tasks",
            json={"title": "after"},
            headers={"Authorization": f"Bearer {minted}"},
        )
        assert write.status_code == 401, write.text
        assert write.json()["detail"].startswith("Invalid token: the account")
    assert count_tasks(stack, user_id) == 0
    assert page.request.get("/api/auth/get-session").json() is None


def test_deletion_is_refused_while_the_task_api_is_down_and_nothing_is_lost(
    person: BrowserContext, stack: Stack
) -> None:
    page = person.new_page()
    sign_up_by_api(page, "Ada", new_email(), PASSWORD)
    token, user_id = token_and_user(page)
    add_tasks(page, user_id, token, count=3)

    stack.stop_backend(0)  # the process the web app sends its events to
    try:
        status, body = post(page, stack, "/api/auth/delete-user", {"password": PASSWORD})
    finally:
        stack.start_backend(0)
    assert status == 503, body
    assert body["message"] == ERASE_FAILED
    # Still signed in, the account and its tasks all there, the token still good.
    session = page.request.get("/api/auth/get-session").json()
    assert session["user"]["id"] == user_id
    assert count_tasks(stack, user_id) == 3 * 3  # three tasks, each with a tag and a key
    works_everywhere(stack, user_id, token)
    log = stack.log.read_text()
    assert "account deletion refused" in log


# --- an event the task API missed -----------------------------------------------------------


def outbox_rows(auth_database: Path) -> int:
    with contextlib.closing(sqlite3.connect(auth_database)) as connection:
        return int(connection.execute('SELECT count(*) FROM "securityEventOutbox"').fetchone()[0])


def test_an_event_the_task_api_missed_is_delivered_after_the_web_app_restarts(
    browser: Browser, tmp_path: Path
) -> None:
    """The web app keeps undelivered events in its database (securityEventOutbox) and delivers
    them when it starts again: a sign-out while the task API is down still ends the token."""
    secret = secrets.token_urlsafe(32)
    frontend_port, backend_port = free_port(), free_port()
    backend_url = f"http://127.0.0.1:{backend_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BETTER_AUTH", "DATABASE"))},
        "BETTER_AUTH_SECRET": secret,
        "BETTER_AUTH_URL": f"http://127.0.0.1:{frontend_port}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tasks.db'}",
    }
    subprocess.run([str(TASKAPI), "migrate"], cwd=tmp_path, env=env, check=True)
    settings = {"TRUSTED_PROXIES": "127.0.0.1"}

    # The task API is down: the sign-out's event waits in the outbox.
    with web_app(tmp_path, backend_url, secret, settings, frontend_port) as (origin, log, _):
        context = new_context(browser, _System(origin))  # type: ignore[arg-type]
        try:
            page = context.new_page()
            sign_up_by_api(page, "Ada", new_email(), PASSWORD)
            token, user_id = token_and_user(page)
            response = page.request.post("/api/auth/sign-out", data={}, headers={"Origin": origin})
            assert response.status == 200
            deadline = time.monotonic() + 10
            while "retrying" not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.1)
        finally:
            context.close()
    assert outbox_rows(tmp_path / "auth.db") == 1

    backend_log = tmp_path / "backend.log"
    backend = _start(
        [str(TASKAPI), "serve", "--port", str(backend_port)], tmp_path, env, backend_log
    )
    try:
        wait_until_up(f"{backend_url}/health", backend, backend_log)
        with web_app(tmp_path, backend_url, secret, settings, frontend_port) as (_, log, _):
            # Nobody visits the restarted web app: it delivers what was left when it starts
            # (src/instrumentation.ts), and the row goes once the task API has answered 202.
            deadline = time.monotonic() + 30
            while outbox_rows(tmp_path / "auth.db") != 0:
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.1)
            assert list_status(backend_url, user_id, token).status_code == 401
    finally:
        stop(backend)
