"""The verified-token cache: a hit skips verification, and nothing outlives its token."""

from __future__ import annotations

import time

import anyio
import jwt
import pytest

from taskapi.auth.token_cache import VerifiedTokenCache
from taskapi.auth.verifier import InvalidToken, TokenVerifier
from tests.clock import FakeClock
from tests.keys import ISSUER, SECRET, hs256

pytestmark = pytest.mark.anyio


def test_an_entry_lives_until_its_expiry_and_no_longer() -> None:
    clock = FakeClock()
    cache: VerifiedTokenCache[str] = VerifiedTokenCache(clock=clock)
    key = cache.key("token")
    cache.put(key, "alice", expires_at=1_010.0)
    assert cache.get(key) == "alice"
    clock.now = 1_009.9
    assert cache.get(key) == "alice"
    clock.now = 1_010.0
    assert cache.get(key) is None
    assert len(cache) == 0


def test_an_already_expired_entry_is_never_stored() -> None:
    clock = FakeClock()
    cache: VerifiedTokenCache[str] = VerifiedTokenCache(clock=clock)
    cache.put(cache.key("t"), "alice", expires_at=999.0)
    assert len(cache) == 0


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache: VerifiedTokenCache[int] = VerifiedTokenCache(max_entries=3, clock=FakeClock())
    keys = [cache.key(f"t{n}") for n in range(4)]
    for n, key in enumerate(keys[:3]):
        cache.put(key, n, expires_at=2_000.0)
    assert cache.get(keys[0]) == 0  # now the most recently used
    cache.put(keys[3], 3, expires_at=2_000.0)
    assert len(cache) == 3
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) == 0


def test_keys_are_hashes_not_tokens() -> None:
    token = hs256()
    key = VerifiedTokenCache.key(token)
    assert len(key) == 32
    assert token.encode() not in key


def verifier() -> TokenVerifier:
    return TokenVerifier(secret=SECRET, issuer=ISSUER, jwks=None, leeway_seconds=0)


async def test_a_cached_token_is_not_decoded_again(monkeypatch: pytest.MonkeyPatch) -> None:
    checker = verifier()
    calls = 0
    real_decode = jwt.decode

    def counting_decode(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return real_decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting_decode)
    token = hs256("alice")
    for _ in range(5):
        assert (await checker.verify(token)).user_id == "alice"
    assert calls == 1


async def test_a_refused_token_is_checked_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    checker = verifier()
    token = hs256("alice", secret="another-secret-that-is-long-enough-000")
    for _ in range(3):
        with pytest.raises(InvalidToken):
            await checker.verify(token)
    assert len(checker._verified) == 0


async def test_a_cached_token_stops_working_when_it_expires() -> None:
    checker = verifier()
    expires = int(time.time()) + 2
    token = hs256("alice", exp=expires)
    assert (await checker.verify(token)).user_id == "alice"
    await anyio.sleep(expires - time.time() + 0.1)
    with pytest.raises(InvalidToken):
        await checker.verify(token)
