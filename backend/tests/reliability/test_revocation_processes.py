"""Two `taskapi serve` processes on one database agree on what is revoked: an event delivered to
one is enforced by the other within 5 s (taskapi.auth.revocation polls every second). On
PostgreSQL in its pass, on SQLite (two processes on one file) in the other."""

from __future__ import annotations

import statistics
import time
import uuid
from pathlib import Path

import httpx
import jwt

from taskapi.security_events import ACCOUNT_PURGED, AUDIENCE, MEDIA_TYPE, SESSION_REVOKED
from tests.keys import ISSUER, SECRET
from tests.live import serving

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
