"""A clock the tests move by hand, for code that takes `clock=` instead of reading the time."""

from __future__ import annotations


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
