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
from taskapi.auth.subject import NotAUserId, valid_user_id
from taskapi.auth.token_cache import VerifiedTokenCache

# A Better Auth JWT is well under 1 KiB; anything this big is an attack on the parser.
MAX_TOKEN_BYTES = 8 * 1024
REQUIRED_CLAIMS = ("exp", "sub")


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


def _as_time(numeric_date: float) -> float:
    """A NumericDate (RFC 7519 §2: seconds since the epoch, any size) as a float; one past a
    float's range (a signed `exp` of 10**400) is as good as never."""
    try:
        return float(numeric_date)
    except OverflowError:
        return math.inf


class TokenVerifier:
    def __init__(
        self,
        *,
        secret: str | None,
        issuer: str | None,
        jwks: JWKSCache | None,
        leeway_seconds: int,
    ) -> None:
        self._secret = secret.encode() if secret is not None else None
        self._issuer = issuer
        self._jwks = jwks
        self._leeway = leeway_seconds
        self._verified: VerifiedTokenCache[Principal] = VerifiedTokenCache()

    async def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken(errors.OVERSIZED_TOKEN)
        cache_key = self._verified.key(token)
        known = self._verified.get(cache_key)
        if known is not None:
            return known
        principal = await self._verify(token)
        # Until `exp` exactly: the leeway forgives clock skew once, not for the cache's lifetime.
        self._verified.put(cache_key, principal, _as_time(principal.claims["exp"]))
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken(errors.MALFORMED_TOKEN) from None

        algorithm = header.get("alg")
        key: jwt.PyJWK | bytes
        if algorithm == "HS256":
            if self._secret is None:
                raise InvalidToken(errors.HS256_NOT_CONFIGURED)
            key = self._secret
        elif algorithm in ASYMMETRIC_ALGORITHMS:
            key = await self._jwks_key(header, algorithm)
        else:
            raise InvalidToken(errors.UNSUPPORTED_ALGORITHM)

        claims = self._decode(token, key, algorithm)
        try:
            user_id = valid_user_id(claims.get("sub"))
        except NotAUserId as wrong:
            raise InvalidToken(wrong.reason) from None
        return Principal(user_id=user_id, claims=claims)

    async def _jwks_key(self, header: dict[str, Any], algorithm: str) -> jwt.PyJWK:
        if self._jwks is None:
            raise InvalidToken(errors.JWKS_NOT_CONFIGURED)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken(errors.UNKNOWN_KEY)
        try:
            key = await self._jwks.get(kid)
        except IssuerUnreachable:
            raise VerificationUnavailable from None
        # A key is bound to one algorithm: an RS256 key never checks a PS256 token, and so on.
        if key is None or key.algorithm_name != algorithm:
            raise InvalidToken(errors.UNKNOWN_KEY)
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
