"""A bounded cache of tokens already verified, so a busy client's token is checked once.

Keyed by a SHA-256 of the token (the token itself is never kept), each entry lives until the
token's own `exp` and no longer. Only successes are stored: a refused token is checked afresh
every time, so nothing can turn a failure into a pass.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class VerifiedTokenCache(Generic[T]):
    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self._entries: OrderedDict[bytes, tuple[float, T]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def get(self, key: bytes) -> T | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if self._clock() >= expires_at:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: bytes, value: T, expires_at: float) -> None:
        if expires_at <= self._clock():
            return
        self._entries[key] = (expires_at, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)  # the least recently used

    def __len__(self) -> int:
        return len(self._entries)
