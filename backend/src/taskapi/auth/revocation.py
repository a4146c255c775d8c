"""Which tokens a security event has ended before their `exp`: the sessions signed out of and the
accounts erased, as every process of the task API holds them in memory.

The events arrive as Security Event Tokens (taskapi.security_events, RFC 8417 / RFC 8935) at
whichever process the web app reaches. That process records the event in the database
(`revocations`) and in its own memory at once; every other process learns of it by polling the
table (`Revocations.refresh`, about once a second: `POLL_SECONDS`), so within
`POLL_SECONDS` plus one query every process refuses the tokens it concerns. The poll reads on a
connection of its own (`Database.background`), so requests holding every pooled connection do
not delay it.

What a request pays (`Revocations.refusal`): a subtraction and two dict lookups, after the token
is verified (or found in the verified-token cache).

Bounded state. An entry is kept `until` = the time the event was received + the longest a token
may live (`JWT_MAX_LIFETIME_SECONDS`, Better Auth's `expirationTime`, 15 minutes) + the
verifier's leeway, and then deleted, in the database and in memory. So that no token outlives
its entry, a token whose `iat` is older than that lifetime plus the leeway is refused whatever
its `exp` says (`TOKEN_TOO_OLD`): a token issued before an event (iat <= event time) is then
refused by age from the moment its entry may be gone.

Polling compares a fingerprint of the table, its row count and the sum of its ids, and reloads
the rows only when that changes. Ids grow with each insert and only expired (old) rows are
deleted, so any set of inserts and deletes changes the pair; ids may commit out of order on
PostgreSQL, which a "rows after the last id seen" poll would miss and this does not.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from taskapi import errors, tasks
from taskapi.db import Connection, PostgresDatabase, SQLiteDatabase
from taskapi.idempotency import keys_table
from taskapi.models import ReceivedSecurityEvent, Revocation

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # how often each process reads the table
PRUNE_EVERY_SECONDS = 60.0  # how often a process deletes expired rows

revocations_table = Revocation.__table__  # type: ignore[attr-defined]
received_table = ReceivedSecurityEvent.__table__  # type: ignore[attr-defined]
_rows = revocations_table.c

Database = PostgresDatabase | SQLiteDatabase


class Revocations:
    """The sessions (`sid` -> until) and accounts (`sub` -> until) ended, until in seconds since
    the epoch, and the age past which any token is refused."""

    def __init__(
        self,
        *,
        max_token_lifetime: float,
        leeway: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_token_lifetime = max_token_lifetime
        self.leeway = leeway
        # A token issued longer ago than this is refused (the module's "bounded state").
        self.max_token_age = max_token_lifetime + leeway
        self.sessions: dict[str, float] = {}
        self.subjects: dict[str, float] = {}
        self._clock = clock
        self._fingerprint: tuple[int, int] | None = None
        self._pruned_at = 0.0

    def refusal(self, user_id: str, session_id: str | None, issued_at: float) -> str | None:
        """Why a verified token must now be refused (a message of taskapi.errors), or None.
        The hot path: one clock read, one comparison, two dict lookups. A deleted account is
        named before its sessions: deleting one ends each of its sessions too, and "the account
        was deleted" is what the person needs to hear."""
        if self._clock() - issued_at > self.max_token_age:
            return errors.TOKEN_TOO_OLD
        if user_id in self.subjects:
            return errors.ACCOUNT_DELETED
        if session_id is not None and session_id in self.sessions:
            return errors.SESSION_ENDED
        return None

    def keep_until(self) -> datetime:
        """When an entry recorded now may go: every token issued before now has expired."""
        return datetime.fromtimestamp(self._clock(), UTC) + timedelta(seconds=self.max_token_age)

    def add_session(self, session_id: str, until: datetime) -> None:
        self.sessions[session_id] = until.timestamp()
        self._fingerprint = None  # the next refresh reloads: memory then matches the table

    def add_subject(self, user_id: str, until: datetime) -> None:
        self.subjects[user_id] = until.timestamp()
        self._fingerprint = None

    def __len__(self) -> int:
        return len(self.sessions) + len(self.subjects)

    async def refresh(self, database: Database) -> bool:
        """Reload the entries from the database if the table changed since the last look
        (module docstring); whether it did. Expired rows are deleted every
        PRUNE_EVERY_SECONDS. Raises what the database raises."""
        now = self._clock()
        if now - self._pruned_at >= PRUNE_EVERY_SECONDS:
            await prune(database, datetime.fromtimestamp(now, UTC))
            self._pruned_at = now
        async with database.background() as connection:
            counted: Any = (
                await connection.execute(select(func.count(), func.coalesce(func.sum(_rows.id), 0)))
            ).one()
            fingerprint = (int(counted[0]), int(counted[1]))
            if fingerprint == self._fingerprint:
                return False
            rows: Sequence[Any] = (
                await connection.execute(
                    select(_rows.session_id, _rows.user_id, _rows.until).where(
                        _rows.until > datetime.fromtimestamp(now, UTC)
                    )
                )
            ).all()
        sessions: dict[str, float] = {}
        subjects: dict[str, float] = {}
        for row in rows:
            session_id, user_id, until = row
            if session_id is None:
                subjects[user_id] = max(subjects.get(user_id, 0.0), until.timestamp())
            else:
                sessions[session_id] = max(sessions.get(session_id, 0.0), until.timestamp())
        self.sessions, self.subjects = sessions, subjects
        self._fingerprint = fingerprint
        return True

    async def poll(self, database: Database, interval: float = POLL_SECONDS) -> None:
        """`refresh` every `interval` seconds until cancelled. A failure (the database down) is
        logged and tried again: meanwhile the entries already known still apply, and requests
        that need the database get their 503 anyway."""
        failing = False
        while True:
            try:
                await self.refresh(database)
                if failing:
                    log.info("revocation list: reading the database again")
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as error:  # whatever the driver raises: keep polling
                if not failing:
                    log.warning("revocation list: cannot read the database: %s", error)
                failing = True
            await asyncio.sleep(interval)


async def prune(database: Database, now: datetime) -> None:
    """Delete the rows whose `until` has passed (revocations, SETs received, and the marks of
    erased accounts)."""
    counts = tasks.counts_table.c
    async with database.background() as connection:
        await connection.execute(delete(revocations_table).where(_rows.until <= now))
        await connection.execute(delete(received_table).where(received_table.c.until <= now))
        await connection.execute(
            delete(tasks.counts_table).where(
                counts.erased_until.is_not(None), counts.erased_until <= now
            )
        )


async def erase_subject(connection: Connection, user_id: str, until: datetime) -> int:
    """Delete every task, tag and idempotency key of `user_id`, and mark the account erased
    until `until` (its count row, migration 0008: creating a task is refused meanwhile, by any
    process, whatever token it was sent); how many tasks. The mark comes first: on PostgreSQL
    it waits for a create holding that row to commit, and the deletes that follow then see
    its task. The search index and the counts follow the tasks (their triggers).

    Lock order (PostgreSQL), that of the writers it may meet, so that no wait of one on the
    other closes a cycle (a deadlock, which PostgreSQL ends by undoing one side): an edit
    holds its task's row, then the count row (the counts trigger); a create with an
    Idempotency-Key deletes the account's expired keys, then takes the count row. So the
    erasure locks the account's task rows in id order (as `tasks.clear_completed` does), then
    deletes its keys, then marks the count row; after the mark it deletes the tags, the tasks
    and the keys a create committed meanwhile."""
    sqlite_database = connection.dialect.name == "sqlite"
    upsert = sqlite.insert if sqlite_database else postgresql.insert
    counts = tasks.counts_table
    if not sqlite_database:  # SQLite: one writer at a time, no row locks
        await connection.execute(
            select(tasks.columns.id)
            .where(tasks.columns.user_id == user_id)
            .order_by(tasks.columns.id)
            .with_for_update()
        )
        await connection.execute(delete(keys_table).where(keys_table.c.user_id == user_id))
    await connection.execute(
        upsert(counts)
        .values(user_id=user_id, total=0, completed=0, erased_until=until)
        .on_conflict_do_update(index_elements=[counts.c.user_id], set_={"erased_until": until})
    )
    await connection.execute(delete(tasks.tags_table).where(tasks.tags_table.c.user_id == user_id))
    erased = await connection.execute(
        delete(tasks.tasks_table).where(tasks.columns.user_id == user_id)
    )
    await connection.execute(delete(keys_table).where(keys_table.c.user_id == user_id))
    return int(getattr(erased, "rowcount", 0))


async def first_receipt(connection: Connection, jti: str, until: datetime) -> bool:
    """Record a SET's `jti`; False when it was recorded before (RFC 8417 §2.2: a `jti` names
    one event; RFC 8935 §2.2: a SET delivered again is acknowledged, not applied again)."""
    upsert = sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
    new = (
        upsert(received_table)
        .values(jti=jti, until=until)
        .on_conflict_do_nothing(index_elements=[received_table.c.jti])
        .returning(received_table.c.jti)
    )
    return (await connection.execute(new)).first() is not None


async def record(
    connection: Connection, *, user_id: str, session_id: str | None, until: datetime
) -> None:
    await connection.execute(
        insert(revocations_table).values(session_id=session_id, user_id=user_id, until=until)
    )
