"""Waiting for SQLite's write lock without holding up the event loop.

SQLite's own wait (`busy_timeout`, https://sqlite.org/c3ref/busy_timeout.html) sleeps on the
thread that asked, and our statements run on the event loop's thread (taskapi.db): with the lock
held by another process, each write waited out its 5 s there, one after another, and nothing
else was answered meanwhile (four writes and a /health took 20 s). So the connection the loop
uses fails at once when the lock is taken (busy_timeout 0, SQLITE_BUSY), and `when_unlocked`
tries again after an `asyncio.sleep`, letting other requests run, until its budget is spent.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import OperationalError

T = TypeVar("T")

# How long one write waits for the lock before it is a 503 (taskapi.main): the time the
# README promises, and the busy timeout the other connections keep.
LOCK_BUDGET_S = 5.0
# Sleeps between tries, in seconds: SQLite's own busy handler's steps (sqliteDefaultBusyCallback
# in main.c), short first so that a lock held for a moment costs little, then every 0.1 s.
BACKOFF_S = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)


def is_busy(error: OperationalError) -> bool:
    """SQLITE_BUSY, or one of its extended codes (https://sqlite.org/rescode.html#busy): another
    connection holds the lock. The statement did nothing and may be run again."""
    orig = error.orig
    return isinstance(orig, sqlite3.Error) and orig.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


async def when_unlocked(attempt: Callable[[], Awaitable[T]], budget_s: float = LOCK_BUDGET_S) -> T:
    """`attempt()`'s result, `attempt` run again while it fails with SQLITE_BUSY, with a sleep
    (which lets the loop answer other requests) between tries. Raises the last
    `OperationalError` once `budget_s` seconds have passed since the first try. `attempt` must
    leave nothing changed when it fails busy: a statement outside a transaction, or BEGIN."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget_s
    tries = 0
    while True:
        try:
            return await attempt()
        except OperationalError as error:
            left = deadline - loop.time()
            if not is_busy(error) or left <= 0:
                raise
        await asyncio.sleep(min(BACKOFF_S[min(tries, len(BACKOFF_S) - 1)], left))
        tries += 1
