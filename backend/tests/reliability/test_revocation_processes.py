"""Two `taskapi serve` processes on one database agree on what is revoked: an event delivered to
one is enforced by the other within 5 s (taskapi.auth.revocation polls every second). On
PostgreSQL in its pass, on SQLite (two processes on one file) in the other."""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time
import uuid
from pathlib import Path

import httpx
import jwt

from taskapi import errors
from taskapi.security_events import (
    ACCOUNT_PURGED,
    AUDIENCE,
    MEDIA_TYPE,
    PURGE_MAX_AGE_SECONDS,
    SESSION_REVOKED,
)
from tests.keys import ISSUER, SECRET
from tests.live import run_taskapi, serving, start_serve, wait_until_up

WITHIN_SECONDS = 5.0


def hs256(claims: dict[str, object], headers: dict[str, str] | None = None) -> str:
    return jwt.encode(claims, SECRET, algorithm="HS256", headers=headers)


def access_token(user: str, session: str | None) -> str:
    now = int(time.time())
    claims = {"sub": user, "iat": now, "exp": now + 900, "iss": ISSUER, "aud": ISSUER}
    return hs256({**claims, **({"sid": session} if session else {})})


def security_event(event_type: str, sub_id: dict[str, object]) -> str:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
        "sub_id": sub_id,
        "events": {event_type: {}},
    }
    return hs256(claims, {"typ": "secevent+jwt"})


def status(base: str, user: str, token: str) -> int:
    response = httpx.get(f"{base}/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def seconds_until_refused(bases: list[str], user: str, token: str) -> float:
    started = time.monotonic()
    while any(status(base, user, token) != 401 for base in bases):
        elapsed = time.monotonic() - started
        assert elapsed < WITHIN_SECONDS, f"still accepted after {elapsed:.1f} s"
        time.sleep(0.02)
    return time.monotonic() - started


def deliver(base: str, event: str) -> None:
    response = httpx.post(
        f"{base}/events", content=event, headers={"Content-Type": MEDIA_TYPE}, timeout=15
    )
    assert response.status_code == 202, response.text


def test_two_processes_agree_within_five_seconds(tmp_path: Path, fresh_database: str) -> None:
    env = {"BETTER_AUTH_SECRET": SECRET, "BETTER_AUTH_URL": ISSUER, "DATABASE_URL": fresh_database}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with serving(tmp_path / "a", **env) as first, serving(tmp_path / "b", **env) as second:
        bases = [first, second]
        delays = []
        for attempt in range(5):
            user, session = uuid.uuid4().hex, uuid.uuid4().hex
            token, other = access_token(user, session), access_token(user, uuid.uuid4().hex)
            assert [status(base, user, token) for base in bases] == [200, 200]
            subject: dict[str, object] = {
                "format": "complex",
                "user": {"format": "opaque", "id": user},
                "session": {"format": "opaque", "id": session},
            }
            # Alternately to each process: each must learn from the other.
            deliver(bases[attempt % 2], security_event(SESSION_REVOKED, subject))
            delays.append(seconds_until_refused(bases, user, token))
            assert [status(base, user, other) for base in bases] == [200, 200]

        user = uuid.uuid4().hex
        token = access_token(user, None)
        created = httpx.post(
            f"{second}/api/{user}/tasks",
            json={"title": "x"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201
        deliver(first, security_event(ACCOUNT_PURGED, {"format": "opaque", "id": user}))
        seconds_until_refused(bases, user, token)
        # A token made after the erasure is refused as well, by both.
        assert [status(base, user, access_token(user, None)) for base in bases] == [401, 401]
    assert statistics.median(delays) < 2.0


def test_a_purge_held_up_past_the_senders_wait_erases_nothing(
    tmp_path: Path, fresh_database: str
) -> None:
    """The tester's case: the task API frozen (SIGSTOP) while the web app waits for an
    account-purged SET. The web app gives up at 15 s and keeps the account; the task API, once
    resumed, must not erase that account's tasks or refuse its tokens: it refuses the SET (older
    than PURGE_MAX_AGE_SECONDS by then) and changes nothing."""
    env = {"BETTER_AUTH_SECRET": SECRET, "BETTER_AUTH_URL": ISSUER, "DATABASE_URL": fresh_database}
    migrated = run_taskapi(tmp_path, "migrate", **env)
    assert migrated.returncode == 0, migrated.stderr
    process, base, log = start_serve(tmp_path, **env)
    try:
        wait_until_up(base, process, log)
        user = uuid.uuid4().hex
        token = access_token(user, None)
        created = httpx.post(
            f"{base}/api/{user}/tasks",
            json={"title": "x"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert created.status_code == 201
        event = security_event(ACCOUNT_PURGED, {"format": "opaque", "id": user})
        answers: list[httpx.Response] = []

        def send() -> None:
            answers.append(
                httpx.post(
                    f"{base}/events",
                    content=event,
                    headers={"Content-Type": MEDIA_TYPE},
                    timeout=60,
                )
            )

        os.kill(process.pid, signal.SIGSTOP)
        try:
            sender = threading.Thread(target=send)
            sender.start()
            time.sleep(PURGE_MAX_AGE_SECONDS + 1.5)
        finally:
            os.kill(process.pid, signal.SIGCONT)
        sender.join(timeout=30)
        assert len(answers) == 1
        assert answers[0].status_code == 400, answers[0].text
        assert answers[0].json()["err"] == "invalid_request"
        assert answers[0].json()["description"] == errors.SET_PURGE_TOO_LATE
        listed = httpx.get(f"{base}/api/{user}/tasks", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200, listed.text
        assert len(listed.json()) == 1
    finally:
        process.terminate()
        process.wait(timeout=15)
    output = log.read_text()
    assert "Traceback" not in output, output[-5000:]
