"""Better Auth's SQLite database as the running web app keeps it: what the server writes is seen
by other processes at once and is still there after a restart, whatever else opens the file.

Every server bundle of Next.js that loads Better Auth (a route handler, a page rendered on the
server, src/instrumentation.ts) opens the database once more in the same process. None of them
may drop the process's SQLite locks (src/lib/private-file.ts): another process closing the file
would then take it for unused, checkpoint it and delete its WAL under the server, and every
later write of the server would go to a deleted file and be lost."""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from pathlib import Path

import httpx

from conftest import new_email, web_app

PASSWORD = "correct horse 42"
# No task API is needed for signing up and in: a port nothing listens on.
NO_BACKEND = "http://127.0.0.1:9"


def emails(database: Path) -> set[str]:
    """The users' addresses, read by another process (this one) that then closes the file."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return {row[0] for row in connection.execute('SELECT email FROM "user"')}


def test_what_the_web_app_writes_survives_other_readers_and_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "auth.db"
    secret = secrets.token_urlsafe(32)
    first, second = new_email(), new_email()
    with (
        web_app(tmp_path, NO_BACKEND, secret) as (origin, _, _),
        httpx.Client(base_url=origin, headers={"Origin": origin}, timeout=15) as browser,
    ):
        # Better Auth loaded by several bundles: each opens the database once more.
        for path in ("/api/auth/jwks", "/login", "/tasks", "/account"):
            assert browser.get(path).status_code < 500, path
        for email in (first, second):
            emails(database)  # another process opens and closes the file meanwhile
            body = {"name": "Ada", "email": email, "password": PASSWORD}
            answer = browser.post("/api/auth/sign-up/email", json=body)
            assert answer.status_code == 200, answer.text
            assert email in emails(database)  # committed where every process sees it
        assert (tmp_path / "auth.db-wal").exists()  # still the server's, not deleted

    with web_app(tmp_path, NO_BACKEND, secret) as (origin, _, _):
        assert {first, second} <= emails(database)
        with httpx.Client(base_url=origin, headers={"Origin": origin}, timeout=15) as browser:
            for email in (first, second):
                body = {"email": email, "password": PASSWORD}
                answer = browser.post("/api/auth/sign-in/email", json=body)
                assert answer.status_code == 200, answer.text
