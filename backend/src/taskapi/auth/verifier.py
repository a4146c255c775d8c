"""Verify a bearer JWT and return who it speaks for.

The rule that closes the algorithm-confusion family of attacks: the *key* decides the algorithm.
An HS256 token is checked only against BETTER_AUTH_SECRET; an asymmetric token only against the
JWKS key its `kid` names, and only with that key's own algorithm. Nothing in the token's header
(`jwk`, `jku`, `x5u`, `x5c`) is ever used to find a key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jwt

from taskapi import errors
from taskapi.auth.jwks import ASYMMETRIC_ALGORITHMS, IssuerUnreachable, JWKSCache
from taskapi.auth.revocation import Revocations
from taskapi.auth.subject import NotAUserId, valid_session_id, valid_user_id
from taskapi.auth.token_cache import VerifiedTokenCache

# A Better Auth JWT is well under 1 KiB; anything this big is an attack on the parser.
MAX_TOKEN_BYTES = 8 * 1024
# `iat`: a token's age bounds how long a revocation must be kept (taskapi.auth.revocation).
REQUIRED_CLAIMS = ("exp", "sub", "iat")
# RFC 8417 §2.3: a Security Event Token says so in its `typ` header.
SECURITY_EVENT_TYPE = "secevent+jwt"


class UnknownKey(Exception):
    """No key of this server can check the token: `reason` is a message of taskapi.errors."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_security_event_type(header: dict[str, Any]) -> bool:
    """Whether a JWS header's `typ` is secevent+jwt; RFC 7515 §4.1.9 lets it be written with
    the `application/` prefix, and media types compare case-insensitively (RFC 2045 §5.1)."""
    typ = header.get("typ")
    if not isinstance(typ, str):
        return False
    return typ.lower().removeprefix("application/") == SECURITY_EVENT_TYPE


class InvalidToken(Exception):
    """The token must be refused with 401; `reason` is safe to show the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VerificationUnavailable(Exception):
    """The token may be fine, but the keys to check it cannot be had right now (503)."""


@dataclass(frozen=True)
class Principal:
    user_id: str  # the token's `sub`, a valid user id (taskapi.auth.subject)
    claims: dict[str, Any]
    # The token's `sid` (OIDC Front-Channel Logout 1.0 §3: the session it was issued for), or
    # None for a token without one (only an account's erasure then ends it).
    session_id: str | None
    issued_at: float  # `iat`, seconds since the epoch


def _as_time(numeric_date: float) -> float:
    """A NumericDate (RFC 7519 §2: seconds since the epoch, any size) as a float; one past a
    float's range (a signed `exp` of 10**400) is as good as never."""
    try:
        return float(numeric_date)
    except OverflowError:
        return math.inf


def issued_at(value: object) -> float | None:
    """An `iat` (RFC 7519 §4.1.6, a NumericDate) as seconds since the epoch, or None when it is
    no number; one beyond a float's range is +-infinity (as old, or as new, as can be)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return -math.inf if value < 0 else math.inf


class TokenVerifier:
    def __init__(
        self,
        *,
        secret: str | None,
        issuer: str | None,
        jwks: JWKSCache | None,
        leeway_seconds: int,
        revocations: Revocations | None = None,
    ) -> None:
        self._secret = secret.encode() if secret is not None else None
        self._issuer = issuer
        self._jwks = jwks
        self._leeway = leeway_seconds
        self._verified: VerifiedTokenCache[Principal] = VerifiedTokenCache()
        # `is None`, not `or`: an empty list is falsy (it has a length).
        if revocations is None:
            revocations = Revocations(max_token_lifetime=15 * 60, leeway=leeway_seconds)
        self.revocations = revocations

    @property
    def issuer(self) -> str | None:
        return self._issuer

    @property
    def leeway(self) -> int:
        return self._leeway

    async def verify(self, token: str) -> Principal:
        """The token's principal, or InvalidToken (401) / VerificationUnavailable (503). A token
        the cache already holds is checked against the revocations all the same: an event
        ends it at once, whatever was cached (taskapi.auth.revocation)."""
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken(errors.OVERSIZED_TOKEN)
        cache_key = self._verified.key(token)
        principal = self._verified.get(cache_key)
        if principal is None:
            principal = await self._verify(token)
            # Until `exp` exactly: the leeway forgives clock skew once, not for the cache's
            # lifetime.
            self._verified.put(cache_key, principal, _as_time(principal.claims["exp"]))
        refusal = self.revocations.refusal(
            principal.user_id, principal.session_id, principal.issued_at
        )
        if refusal is not None:
            raise InvalidToken(refusal)
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken(errors.MALFORMED_TOKEN) from None

        # RFC 8417 §4.2 (and RFC 8725 §3.11): a SET must never pass for an access token, even
        # one signed by the same key; its `typ` says what it is, and so does `events` below.
        if is_security_event_type(header):
            raise InvalidToken(errors.SECURITY_EVENT_AS_TOKEN)
        algorithm = header.get("alg")
        try:
            key = await self.signing_key(header)
        except UnknownKey as unknown:
            raise InvalidToken(unknown.reason) from None

        claims = self._decode(token, key, str(algorithm))
        if "events" in claims:
            raise InvalidToken(errors.SECURITY_EVENT_AS_TOKEN)
        try:
            user_id = valid_user_id(claims.get("sub"))
            session_id = None if claims.get("sid") is None else valid_session_id(claims["sid"])
        except NotAUserId as wrong:
            raise InvalidToken(wrong.reason) from None
        issued = issued_at(claims["iat"])
        if issued is None:
            raise InvalidToken(errors.INVALID_TOKEN)
        return Principal(user_id=user_id, claims=claims, session_id=session_id, issued_at=issued)

    async def signing_key(self, header: dict[str, Any]) -> jwt.PyJWK | bytes:
        """The key that checks a token with this JWS header: the HS256 secret, or the JWKS key
        its `kid` names (with that key's own algorithm). Raises UnknownKey with the reason, or
        VerificationUnavailable when the JWKS cannot be fetched."""
        algorithm = header.get("alg")
        if algorithm == "HS256":
            if self._secret is None:
                raise UnknownKey(errors.HS256_NOT_CONFIGURED)
            return self._secret
        if algorithm in ASYMMETRIC_ALGORITHMS:
            return await self._jwks_key(header, algorithm)
        raise UnknownKey(errors.UNSUPPORTED_ALGORITHM)

    async def _jwks_key(self, header: dict[str, Any], algorithm: str) -> jwt.PyJWK:
        if self._jwks is None:
            raise UnknownKey(errors.JWKS_NOT_CONFIGURED)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise UnknownKey(errors.UNKNOWN_KEY)
        try:
            key = await self._jwks.get(kid)
        except IssuerUnreachable:
            raise VerificationUnavailable from None
        # A key is bound to one algorithm: an RS256 key never checks a PS256 token, and so on.
        if key is None or key.algorithm_name != algorithm:
            raise UnknownKey(errors.UNKNOWN_KEY)
        return key

    def _decode(self, token: str, key: jwt.PyJWK | bytes, algorithm: str) -> dict[str, Any]:
        check_issuer = self._issuer is not None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._issuer,
                leeway=self._leeway,
                options={
                    "require": [*REQUIRED_CLAIMS, *(("iss", "aud") if check_issuer else ())],
                    "verify_aud": check_issuer,
                    "verify_sub": True,
                },
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken(errors.EXPIRED) from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken(errors.NOT_YET_VALID) from None
        except jwt.InvalidIssuerError:
            raise InvalidToken(errors.WRONG_ISSUER) from None
        except jwt.InvalidAudienceError:
            raise InvalidToken(errors.WRONG_AUDIENCE) from None
        except jwt.MissingRequiredClaimError:
            raise InvalidToken(errors.MISSING_CLAIM) from None
        except jwt.exceptions.InvalidSubjectError:
            raise InvalidToken(errors.INVALID_SUBJECT) from None
        except jwt.InvalidSignatureError:
            raise InvalidToken(errors.BAD_SIGNATURE) from None
        except jwt.PyJWTError:
            # The library's base class: malformed parts, key errors, bad `crit`, and whatever a
            # future PyJWT adds. None of it may escape as a 500.
            raise InvalidToken(errors.INVALID_TOKEN) from None
        return claims
