"""POST with an `Idempotency-Key`: a retry gets the task the first request made, never a second.

Keys belong to a user and live 24 hours. The key and the task are written in one transaction, so
a crash leaves both or neither. A retry answers with the task as it is now (it may have been
edited since), or None when it has been deleted since. Two requests racing with one key: on
PostgreSQL the second waits on the key's unique index until the first commits, fails, rolls its
task back and answers as the first did; on SQLite statements run one at a time (taskapi.db).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from taskapi import tasks
from taskapi.db import PostgresDatabase, SQLiteDatabase
from taskapi.models import IdempotencyKey, TaskCreate, utc_now
from taskapi.tasks import TaskRow

KEEP_FOR = timedelta(hours=24)

keys_table = IdempotencyKey.__table__  # type: ignore[attr-defined]
keys = keys_table.c


class KeyReused(Exception):
    """The key was used before for a different request."""


@dataclass(frozen=True)
class Outcome:
    task: TaskRow | None  # None: the task this key made has been deleted since
    replayed: bool


def fingerprint(body: TaskCreate) -> str:
    """What the request asked, after validation: the same task sent with other spacing or
    field order is the same request."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def create_once(
    database: PostgresDatabase | SQLiteDatabase,
    owner: str,
    key: str,
    body: TaskCreate,
    quota: int,
) -> Outcome:
    """Raises KeyReused, or tasks.QuotaReached for a new task beyond the quota (a replay of a
    task already made is answered whatever the quota)."""
    asked = fingerprint(body)
    try:
        return await _create_or_replay(database, owner, key, body, asked, quota)
    except (IntegrityError, tasks.QuotaReached):
        # A request with this key committed first: this one's task was rolled back; answer as
        # that one was answered. At the quota, the last room may have gone to that very request
        # while this one waited for the count (PostgreSQL): look for the key again before
        # refusing; a task no request with this key made is refused again, rightly.
        return await _create_or_replay(database, owner, key, body, asked, quota)


async def _create_or_replay(
    database: PostgresDatabase | SQLiteDatabase,
    owner: str,
    key: str,
    body: TaskCreate,
    asked: str,
    quota: int,
) -> Outcome:
    now = utc_now()
    async with database.transaction() as connection:
        # This user's expired keys go first, so an old key starts afresh.
        await connection.execute(
            delete(keys_table).where(keys.user_id == owner, keys.created_at < now - KEEP_FOR)
        )
        stored = (
            await connection.execute(
                select(keys.request_hash, keys.task_id).where(
                    keys.user_id == owner, keys.key == key
                )
            )
        ).first()
        if stored is not None:
            if stored.request_hash != asked:
                raise KeyReused
            return Outcome(await tasks.get(connection, owner, stored.task_id), replayed=True)
        task = await tasks.create(connection, owner, body, quota)
        await connection.execute(
            insert(keys_table).values(
                user_id=owner, key=key, request_hash=asked, task_id=task["id"], created_at=now
            )
        )
        return Outcome(task, replayed=False)
