"""Better Auth's public keys, fetched from its JWKS endpoint and cached by `kid`.

Fetching is async (httpx), so a slow issuer never blocks the event loop. The cache is refreshed
when a token names a `kid` we do not know (a rotated key works within a second or two), but at
most once per `min_refresh_interval`, so a flood of made-up kids costs the issuer one request a
second. Fetches are coalesced: concurrent requests wait on one fetch instead of starting many.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
import jwt

log = logging.getLogger(__name__)

# Only asymmetric algorithms come from a JWKS: a symmetric ("oct") key published there would let
# anyone who reads the JWKS forge tokens.
ASYMMETRIC_ALGORITHMS = frozenset({"EdDSA", "ES256", "ES512", "RS256", "PS256"})


class IssuerUnreachable(Exception):
    """The JWKS could not be fetched and no cached copy can answer."""


class JWKSCache:
    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        min_refresh_interval: float = 1.0,
        max_age: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._client = client
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last attempt, successful or not
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> jwt.PyJWK | None:
        """The key named `kid`, or None when the issuer does not publish it."""
        key = self._keys.get(kid)
        if key is not None and not self._stale():
            return key
        await self._refresh(kid)
        return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at > self._max_age

    async def _refresh(self, kid: str) -> None:
        async with self._lock:
            # Another request may have refreshed while we waited for the lock.
            if kid in self._keys and not self._stale():
                return
            now = self._clock()
            if (
                self._attempted_at is not None
                and now - self._attempted_at < self._min_refresh_interval
            ):
                if self._fetched_at is None:
                    raise IssuerUnreachable
                return
            self._attempted_at = now
            try:
                self._keys = await self._fetch()
                self._fetched_at = self._clock()
            except (httpx.HTTPError, ValueError) as error:
                log.warning("JWKS fetch from %s failed: %s", self._url, error)
                # Keep serving the keys we have: an issuer outage must not log everyone out.
                if self._fetched_at is None:
                    raise IssuerUnreachable from None

    async def _fetch(self) -> dict[str, jwt.PyJWK]:
        response = await self._client.get(self._url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("JWKS document has no `keys` list")
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document["keys"]:
            key = _usable_key(entry)
            if key is not None and key.key_id is not None:
                keys[key.key_id] = key
        log.info("JWKS from %s: %d usable key(s)", self._url, len(keys))
        return keys


def _usable_key(entry: object) -> jwt.PyJWK | None:
    """A signing key of an accepted asymmetric algorithm, or None (skipped, never fatal)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
        return None
    if entry.get("use", "sig") != "sig":
        return None
    try:
        key = jwt.PyJWK(entry)
    except jwt.PyJWTError as error:
        log.warning("JWKS key %r skipped: %s", entry.get("kid"), error)
        return None
    if key.algorithm_name not in ASYMMETRIC_ALGORITHMS:
        log.warning("JWKS key %r skipped: algorithm %s", entry.get("kid"), key.algorithm_name)
        return None
    return key
