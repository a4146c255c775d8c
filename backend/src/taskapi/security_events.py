"""Security Event Tokens from the web app: a session ended, an account erased.

A SET (RFC 8417) is a JWT the web app signs with the key it signs access tokens with (Better
Auth's JWT plugin: the JWKS the task API already fetches; or the HS256 secret where that is how
the two are configured) and pushes to `POST /events` (RFC 8935). Its signature is the channel's
authentication: only the issuer of access tokens can end one.

The SET, as this server requires it:

    header  {"alg": ..., "kid": ..., "typ": "secevent+jwt"}             RFC 8417 §2.3
    claims  {"iss": BETTER_AUTH_URL (when set),                          RFC 8417 §2.2
             "aud": "urn:tasks:task-api" (AUDIENCE),
             "iat": NumericDate, no older than the longest token lifetime plus the leeway,
             "jti": unique, up to 255 characters,
             "sub_id": the subject (below),                             OpenID SSF 1.0 §4.1
             "events": {<one event type>: {...}}}

Event types and their subjects (`sub_id`, a Subject Identifier, RFC 9493):

- CAEP `session-revoked` (OpenID CAEP 1.0 §3.1): `{"format": "complex", "user": {"format":
  "opaque", "id": <user id>}, "session": {"format": "opaque", "id": <session id>}}` (RFC 9493
  §3.2 opaque identifiers in an SSF complex subject, §3.2 of SSF 1.0). Every token whose `sid`
  is that session is refused from then on.
- RISC `account-purged` (OpenID RISC 1.0 §2.1): `{"format": "opaque", "id": <user id>}`, or a
  complex subject with `user` alone. Every task, tag and idempotency key of that user is erased
  in one transaction, which also marks the account so that no process creates a task for it
  again (taskapi.auth.revocation.erase_subject), and every token whose `sub` is that user is
  refused from then on. Only while
  the sender still waits for the answer: one whose `iat` is more than PURGE_MAX_AGE_SECONDS old
  when the erasure would commit is refused (`invalid_request`) and erases nothing.

A SET whose `jti` was applied before is acknowledged (202) and not applied again.

Refusals (RFC 8935 §2.3, §2.4): 400 with `{"err", "description"}` (and `detail`, the same
words, as every error of this API has): `invalid_request` (not a SET, or not one this server
acts on), `invalid_key` (a key or algorithm it does not accept), `authentication_failed` (the
signature does not verify), `invalid_issuer`, `invalid_audience`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from sqlalchemy.exc import DBAPIError

from taskapi import errors
from taskapi.auth import revocation
from taskapi.auth.revocation import Database, Revocations
from taskapi.auth.subject import NotAUserId, valid_session_id, valid_user_id
from taskapi.auth.verifier import (
    MAX_TOKEN_BYTES,
    TokenVerifier,
    UnknownKey,
    is_security_event_type,
    issued_at,
)
from taskapi.db import rolled_back

MEDIA_TYPE = "application/secevent+jwt"  # RFC 8417 §7.2
# The task API's name as an audience: not a URL anyone could be sent to, and not the web app's
# origin, which is what access tokens carry (so neither can be taken for the other).
AUDIENCE = "urn:tasks:task-api"
SESSION_REVOKED = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
ACCOUNT_PURGED = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
JTI_MAX = 255
# The web app waits PURGE_TIMEOUT_MS (15 s, frontend/src/lib/security-events.ts) for the 202
# and, without one, keeps the account. An erasure committed after it gave up would erase the
# tasks of an account that stays, so an account-purged SET older than this when its erasure
# would commit is refused instead. 10 s before the 202 leaves 5 s of the sender's 15 for the
# round trip and the two clocks' difference. Change both together.
PURGE_MAX_AGE_SECONDS = 10.0


class RefusedEvent(Exception):
    """A SET refused: `err` is an RFC 8935 §2.4 error code, `description` words it."""

    def __init__(self, err: str, description: str) -> None:
        super().__init__(description)
        self.err = err
        self.description = description


@dataclass(frozen=True)
class SecurityEvent:
    jti: str
    event_type: str  # SESSION_REVOKED or ACCOUNT_PURGED
    user_id: str
    session_id: str | None  # set for SESSION_REVOKED
    issued_at: float  # the SET's `iat`, seconds since the epoch


def _invalid(description: str) -> RefusedEvent:
    return RefusedEvent("invalid_request", description)


async def verify(token: str, verifier: TokenVerifier) -> SecurityEvent:
    """The event a SET carries, once its signature and claims check out (module docstring).
    Raises RefusedEvent, or taskapi.auth.verifier.VerificationUnavailable (the JWKS cannot be
    fetched: 503)."""
    if len(token) > MAX_TOKEN_BYTES:
        raise _invalid(errors.SET_TOO_LARGE)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _invalid(errors.SET_MALFORMED) from None
    # RFC 8417 §2.3 and §4.2: explicit typing, so that an access token (or an ID token) posted
    # here is never read as an event.
    if not is_security_event_type(header):
        raise _invalid(errors.SET_WRONG_TYPE)
    try:
        key = await verifier.signing_key(header)
    except UnknownKey as unknown:
        description = {
            errors.UNKNOWN_KEY: errors.SET_UNKNOWN_KEY,
            errors.JWKS_NOT_CONFIGURED: errors.SET_NO_JWKS,
        }.get(unknown.reason, errors.SET_ALGORITHM)
        raise RefusedEvent("invalid_key", description) from None
    claims = _decode(token, key, str(header.get("alg")), verifier)
    # Accepted only while a token it concerns may still be live: its `jti` is remembered that
    # long (taskapi.auth.revocation), so a SET replayed later is refused here instead.
    issued = issued_at(claims["iat"])
    if issued is None:
        raise _invalid(errors.SET_INVALID)
    if time.time() - issued > verifier.revocations.max_token_age:
        raise _invalid(errors.SET_TOO_OLD)
    return _event(claims, issued)


def _decode(
    token: str, key: jwt.PyJWK | bytes, algorithm: str, verifier: TokenVerifier
) -> dict[str, Any]:
    issuer = verifier.issuer
    required = ["iat", "jti", "events", "aud", *(["iss"] if issuer is not None else [])]
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer=issuer,
            audience=AUDIENCE,
            leeway=verifier.leeway,
            options={"require": required, "verify_aud": True},
        )
    except jwt.InvalidSignatureError:
        raise RefusedEvent("authentication_failed", errors.SET_BAD_SIGNATURE) from None
    except jwt.InvalidIssuerError:
        raise RefusedEvent("invalid_issuer", errors.SET_WRONG_ISSUER) from None
    except jwt.InvalidAudienceError:
        raise RefusedEvent("invalid_audience", errors.SET_WRONG_AUDIENCE) from None
    except jwt.MissingRequiredClaimError:
        raise _invalid(errors.SET_MISSING_CLAIM) from None
    except jwt.ExpiredSignatureError:
        raise _invalid(errors.SET_TOO_OLD) from None
    except jwt.ImmatureSignatureError:
        raise _invalid(errors.SET_NOT_YET) from None
    except jwt.PyJWTError:
        raise _invalid(errors.SET_INVALID) from None
    return claims


def _event(claims: dict[str, Any], issued: float) -> SecurityEvent:
    jti = claims["jti"]
    # Printable only (no NUL, no lone surrogate, no control character): it is stored as text.
    if not isinstance(jti, str) or not jti or len(jti) > JTI_MAX or not jti.isprintable():
        raise _invalid(errors.SET_MISSING_CLAIM)
    events = claims["events"]
    # OpenID SSF 1.0 §4.1.8: exactly one event per SET.
    if not isinstance(events, dict) or len(events) != 1:
        raise _invalid(errors.SET_ONE_EVENT)
    ((event_type, payload),) = events.items()
    if event_type not in (SESSION_REVOKED, ACCOUNT_PURGED) or not isinstance(payload, dict):
        raise _invalid(errors.SET_UNKNOWN_EVENT)
    user_id, session_id = _subject(claims.get("sub_id"), event_type)
    return SecurityEvent(
        jti=jti, event_type=event_type, user_id=user_id, session_id=session_id, issued_at=issued
    )


def _opaque(identifier: object) -> object:
    """The `id` of an RFC 9493 §3.2.4 opaque identifier, or None."""
    if isinstance(identifier, dict) and identifier.get("format") == "opaque":
        return identifier.get("id")
    return None


def _subject(sub_id: object, event_type: str) -> tuple[str, str | None]:
    if not isinstance(sub_id, dict):
        raise _invalid(errors.SET_BAD_SUBJECT)
    if sub_id.get("format") == "complex":
        user, session = _opaque(sub_id.get("user")), _opaque(sub_id.get("session"))
    else:
        user, session = _opaque(sub_id), None
    try:
        user_id = valid_user_id(user)
        if event_type == ACCOUNT_PURGED:
            return user_id, None
        return user_id, valid_session_id(session)
    except NotAUserId:
        raise _invalid(errors.SET_BAD_SUBJECT) from None


# How many times an event's transaction is run when PostgreSQL undoes it to break a deadlock
# with a write of the same account in flight (taskapi.db.rolled_back).
APPLY_ATTEMPTS = 3


async def apply(event: SecurityEvent, database: Database, revocations: Revocations) -> bool:
    """Record the event (and for an account-purged one, erase the account's tasks) in one
    transaction, then in this process's memory; False when its `jti` was applied before, and
    nothing was done. A transaction PostgreSQL undoes to break a deadlock is run again, up to
    APPLY_ATTEMPTS times in all.

    Raises RefusedEvent (`invalid_request`, errors.SET_PURGE_TOO_LATE) for an account-purged
    SET whose `iat` is more than PURGE_MAX_AGE_SECONDS old just before its erasure commits:
    the transaction is rolled back, so nothing is erased, recorded or refused."""
    until = revocations.keep_until()
    for attempt in range(1, APPLY_ATTEMPTS + 1):
        try:
            if not await _record(event, database, until):
                return False
            break
        except DBAPIError as error:
            if attempt == APPLY_ATTEMPTS or not rolled_back(error):
                raise
    if event.session_id is None:
        revocations.add_subject(event.user_id, until)
    else:
        revocations.add_session(event.session_id, until)
    return True


async def _record(event: SecurityEvent, database: Database, until: datetime) -> bool:
    async with database.transaction() as connection:
        if not await revocation.first_receipt(connection, event.jti, until):
            return False
        if event.event_type == ACCOUNT_PURGED:
            await revocation.erase_subject(connection, event.user_id, until)
        await revocation.record(
            connection, user_id=event.user_id, session_id=event.session_id, until=until
        )
        # As late as it can be: after the statements (which may have waited for locks or a
        # frozen process), just before the commit. Raising here rolls everything back.
        if (
            event.event_type == ACCOUNT_PURGED
            and time.time() - event.issued_at > PURGE_MAX_AGE_SECONDS
        ):
            raise _invalid(errors.SET_PURGE_TOO_LATE)
    return True
