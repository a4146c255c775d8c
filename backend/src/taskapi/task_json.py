"""The hot requests' statements, with each task's JSON built by the database (PostgREST's way).

A list page, one task and a toggle are fixed-shape statements, run by the driver itself
(`taskapi.db.raw_rows`), whose answer is the JSON the API sends: no SQLAlchemy statement, no
row objects, no serialiser in Python. Each task is the object `TaskJSON` describes, with the
same values pydantic writes for it (tests/test_task_json.py compares the two, on both
databases): times as `2026-01-02T03:04:05.123456Z` in UTC, the fraction left out when it is zero;
the priority's name; `completed` true or false; the tags as stored (a JSON array); null for an
unset description or due date. Keys come in `TaskJSON`'s order.

On SQLite the page's objects come one per row (`json_object`) and are joined here: SQLite before
3.44 has no ORDER BY inside an aggregate, and an aggregate over an ordered subquery keeps its
order by accident only. On PostgreSQL one statement answers the page (`string_agg` of
`row_to_json`, which writes no spaces, unlike `json_build_object` and `json_agg`), its total and
the list version it is the page of.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NoReturn

from taskapi import casefold
from taskapi.db import Connection, raw_rows, sees_one_state
from taskapi.models import MAX_TASK_ID, PRIORITY_OF_RANK, PRIORITY_RANK, Priority, TaskCreate
from taskapi.tasks import (
    DEFAULT_ORDER,
    AccountErased,
    Expected,
    ListQuery,
    ListState,
    QuotaReached,
    StatusFilter,
)

# TaskJSON's keys, in order, each with its value from the row (`{t}` is the table's name).
# SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (taskapi.models.UTCDateTime): its one
# space becomes the 'T', and a zero fraction is left out. Two function calls a time rather than
# five substr() and three concatenations: a third of the page statement's time went on the three
# times of its 50 rows (135 -> 100 µs for the bench's list of 50, docs/performance.md §12).
_SQLITE_TIME = (
    "CASE WHEN substr({c}, 20) IN ('', '.000000') THEN replace(substr({c}, 1, 19), ' ', 'T')"
    " ELSE replace({c}, ' ', 'T') END || 'Z'"
)
# asyncpg writes Python's first and last datetimes as -infinity and infinity, and reads them
# back as those datetimes (its timestamp codec): so they are stored, and so they are answered.
_POSTGRES_TIME = (
    "CASE WHEN {c} = '-infinity' THEN '0001-01-01T00:00:00Z'"
    " WHEN {c} = 'infinity' THEN '9999-12-31T23:59:59.999999Z'"
    " ELSE to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN"
    " date_trunc('second', {c}) = {c} THEN '' ELSE to_char({c} AT TIME ZONE 'UTC', '.US') END"
    " || 'Z' END"
)
_PRIORITY = (
    "CASE {c} "
    + " ".join(f"WHEN {rank} THEN '{name}'" for rank, name in sorted(PRIORITY_OF_RANK.items()))
    + " END"
)


def _fields(dialect: str, t: str) -> list[tuple[str, str]]:
    time = _SQLITE_TIME if dialect == "sqlite" else _POSTGRES_TIME
    completed = (
        f"CASE WHEN {t}.completed THEN json('true') ELSE json('false') END"
        if dialect == "sqlite"
        else f"{t}.completed"
    )
    return [
        ("id", f"{t}.id"),
        ("user_id", f"{t}.user_id"),
        ("title", f"{t}.title"),
        ("description", f"{t}.description"),
        ("completed", completed),
        ("priority", _PRIORITY.format(c=f"{t}.priority")),
        ("tags", f"json({t}.tags)" if dialect == "sqlite" else f"{t}.tags"),
        ("due_at", time.format(c=f"{t}.due_at")),
        ("created_at", time.format(c=f"{t}.created_at")),
        ("updated_at", time.format(c=f"{t}.updated_at")),
        ("version", f"{t}.version"),
    ]


def task_object(dialect: str, t: str = "tasks") -> str:
    """An SQL expression whose value is the text of the JSON object of the task row `t`."""
    fields = _fields(dialect, t)
    if dialect == "sqlite":
        return "json_object(" + ", ".join(f"'{key}', {value}" for key, value in fields) + ")"
    # row_to_json names each key after its column, and writes no spaces.
    columns = ", ".join(f"{value} AS {key}" for key, value in fields)
    return f"(SELECT row_to_json(o)::text FROM (SELECT {columns}) AS o)"


def _ordering(dialect: str, query: ListQuery, t: str) -> str:
    """`ListQuery.ordering` as SQL text: the same keys, read from the same indexes."""
    direction = (query.order or DEFAULT_ORDER[query.sort]).upper()
    key = {
        "created": f"{t}.created_at",
        "updated": f"{t}.updated_at",
        "due": f"{t}.due_at",
        "priority": f"{t}.priority",
        "title": f"{casefold.SQL_NAME if dialect == 'sqlite' else 'lower'}({t}.title)",
    }[query.sort]
    nulls = " NULLS LAST" if query.sort == "due" else ""
    return f"{key} {direction}{nulls}, {t}.id {direction}"


def _status(dialect: str, status: StatusFilter, t: str) -> str:
    if status is StatusFilter.all:
        return ""
    value = status is StatusFilter.completed
    if dialect == "sqlite":
        return f" AND {t}.completed IS {int(value)}"
    return f" AND {t}.completed IS {str(value).lower()}"


@cache
def _page_statement(dialect: str, status: StatusFilter, sort: str, order: str | None) -> str:
    query = ListQuery(status=status, sort=sort, order=order)  # type: ignore[arg-type]
    if dialect == "sqlite":
        return (
            f"SELECT {task_object(dialect)} FROM tasks WHERE tasks.user_id = ?"
            f"{_status(dialect, status, 'tasks')} ORDER BY {_ordering(dialect, query, 'tasks')}"
            " LIMIT ? OFFSET ?"
        )
    return (
        "SELECT (SELECT '[' || coalesce(string_agg("
        f"{task_object(dialect, 'p')}, ',' ORDER BY {_ordering(dialect, query, 'p')}), '') || ']'"
        f" FROM (SELECT * FROM tasks WHERE tasks.user_id = $1{_status(dialect, status, 'tasks')}"
        f" ORDER BY {_ordering(dialect, query, 'tasks')} LIMIT $2 OFFSET $3) AS p),"
        " c.version, c.total, c.completed"
        " FROM (VALUES (1)) AS one (x) LEFT JOIN task_counts AS c ON c.user_id = $1"
    )


_STATE = {
    "sqlite": "SELECT version, total, completed FROM task_counts WHERE user_id = ?",
    "postgresql": "SELECT version, total, completed FROM task_counts WHERE user_id = $1",
}


def _state(counts: Sequence[Any] | None) -> ListState:
    """A `ListState` from a (version, total, completed) row, or from none (no task ever)."""
    if counts is None:
        return ListState(0, 0, 0)
    version, total, completed = counts
    return ListState(int(version or 0), int(total or 0), int(completed or 0))


def total_of(status: StatusFilter, state: ListState) -> int:
    """How many of the owner's tasks a list filtered by `status` alone has, from the counts."""
    if status is StatusFilter.all:
        return state.total
    return state.completed if status is StatusFilter.completed else state.total - state.completed


async def list_state(connection: Connection, owner: str) -> ListState:
    """`tasks.list_state` for a list filtered by status alone (no `next_due`): one row read by
    primary key, run by the driver (the SQLAlchemy statement cost a fifth of a plain list's
    CPU on SQLite, docs/performance.md §12)."""
    rows = await raw_rows(connection, _STATE[connection.dialect.name], owner)
    return _state(rows[0] if rows else None)


async def page_and_state(
    connection: Connection, owner: str, query: ListQuery, state: ListState | None = None
) -> tuple[bytes, ListState]:
    """The page's JSON array and the list state (`list_state`) it is the page of. On
    PostgreSQL one statement reads both, so they come from one snapshot (a write committed
    meanwhile is in both or in neither) and `state` is not needed. On SQLite the page's
    objects are read, and `state` is read first unless given (read on the same inline
    connection, nothing else runs between the two: `taskapi.db.sees_one_state`). Only for a
    list filtered by status alone (`ListQuery.by_status_only`): its other filters are not
    read."""
    if not query.by_status_only:
        raise ValueError("a list with filters other than the status is tasks.list_page's")
    dialect = connection.dialect.name
    statement = _page_statement(dialect, query.status, query.sort, query.order)
    if dialect == "sqlite":
        if state is None or not sees_one_state(connection):
            state = await list_state(connection, owner)
        objects = await raw_rows(connection, statement, owner, query.limit, query.offset)
        return ("[" + ",".join(row[0] for row in objects) + "]").encode(), state
    [(body, *counts)] = await raw_rows(connection, statement, owner, query.limit, query.offset)
    return body.encode(), _state(counts)


async def page(connection: Connection, owner: str, query: ListQuery) -> tuple[bytes, int]:
    """The page's JSON array and the total under the status (from the counts the triggers
    keep, as `tasks.list_page`). Only for a list filtered by status alone
    (`ListQuery.by_status_only`): its other filters are not read."""
    body, state = await page_and_state(connection, owner, query)
    return body, total_of(query.status, state)


@cache
def _one_statement(dialect: str) -> str:
    if dialect == "sqlite":
        return f"SELECT version, {task_object(dialect)} FROM tasks WHERE id = ? AND user_id = ?"
    return (
        f"SELECT p.version, {task_object(dialect, 'p')}"
        " FROM tasks AS p WHERE p.id = $1 AND p.user_id = $2"
    )


async def one(connection: Connection, owner: str, task_id: int) -> tuple[int, bytes] | None:
    """The task's version (its ETag) and JSON, or None when the owner has no such task."""
    if not 1 <= task_id <= MAX_TASK_ID:
        return None  # no such id can exist, and the driver would refuse to bind it
    rows = await raw_rows(connection, _one_statement(connection.dialect.name), task_id, owner)
    return (rows[0][0], rows[0][1].encode()) if rows else None


async def exists(connection: Connection, owner: str, task_id: int) -> bool:
    """Whether the owner has this task."""
    if not 1 <= task_id <= MAX_TASK_ID:
        return False
    sqlite = connection.dialect.name == "sqlite"
    statement = (
        "SELECT 1 FROM tasks WHERE id = ? AND user_id = ?"
        if sqlite
        else "SELECT 1 FROM tasks WHERE id = $1 AND user_id = $2"
    )
    return bool(await raw_rows(connection, statement, task_id, owner))


@cache
def _completion_statement(dialect: str, toggle: bool, versions: int | None) -> str:
    """UPDATE … RETURNING version and JSON; `versions` is how many If-Match versions to compare
    (None: no precondition)."""
    if dialect == "sqlite":
        value = "NOT completed" if toggle else "?"
        guard = "" if versions is None else f" AND version IN ({', '.join('?' * versions)})"
        return (
            f"UPDATE tasks SET completed = {value}, updated_at = ?, version = version + 1"
            f" WHERE id = ? AND user_id = ?{guard} RETURNING version, {task_object(dialect)}"
        )
    n = 1 if toggle else 2
    value = "NOT p.completed" if toggle else "$1"
    guard = "" if versions is None else f" AND p.version = ANY(${n + 3}::integer[])"
    return (
        f"UPDATE tasks AS p SET completed = {value}, updated_at = ${n}, version = p.version + 1"
        f" WHERE p.id = ${n + 1} AND p.user_id = ${n + 2}{guard}"
        f" RETURNING p.version, {task_object(dialect, 'p')}"
    )


async def set_completed(
    connection: Connection,
    owner: str,
    task_id: int,
    completed: bool | None,
    now: datetime,
    expected: Expected = None,
) -> tuple[int, bytes] | None:
    """`tasks.set_completed` answering the task's version and JSON: `completed` set, or toggled
    when None, in the statement itself, only at an `expected` version when one is given. None
    when no task matched (gone, or changed: the caller tells which)."""
    dialect = connection.dialect.name
    statement = _completion_statement(
        dialect, completed is None, None if expected is None else len(expected)
    )
    params: list[Any] = [] if completed is None else [completed]
    if dialect == "sqlite":
        params += [sqlite_time(now), task_id, owner, *(expected or ())]
    else:
        params += [now, task_id, owner]
        if expected is not None:
            params.append(sorted(expected))
    rows = await raw_rows(connection, statement, *params)
    return (rows[0][0], rows[0][1].encode()) if rows else None


def sqlite_time(moment: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it in SQLite (taskapi.models.UTCDateTime, SQLite's
    DATETIME: a fraction of six digits always, the year of four)."""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )


# `tasks._hold_room`'s upsert: writes the owner's count row only while under the quota and not
# erased, and holds it until the transaction ends.
_HOLD_ROOM = {
    "sqlite": "INSERT INTO task_counts (user_id, total, completed) VALUES (?, 0, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET total = task_counts.total"
    " WHERE task_counts.total < ? AND task_counts.erased_until IS NULL RETURNING total",
    "postgresql": "INSERT INTO task_counts (user_id, total, completed) VALUES ($1, 0, 0)"
    " ON CONFLICT (user_id) DO UPDATE SET total = task_counts.total"
    " WHERE task_counts.total < $2 AND task_counts.erased_until IS NULL"
    " RETURNING task_counts.total",
}
_ERASED = {
    "sqlite": "SELECT erased_until IS NOT NULL FROM task_counts WHERE user_id = ?",
    "postgresql": "SELECT erased_until IS NOT NULL FROM task_counts WHERE user_id = $1",
}
_SQLITE_TAGS = "INSERT INTO task_tags (task_id, user_id, tag) SELECT ?, ?, value FROM json_each(?)"
_COLUMNS = "title, description, completed, priority, tags, due_at, user_id, created_at, updated_at"
_SQLITE_INSERT = (
    f"INSERT INTO tasks ({_COLUMNS}, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
    f" RETURNING id, version, {task_object('sqlite')}"
)

# PostgreSQL's create in one statement, so one round trip and one commit: `_HOLD_ROOM`'s upsert,
# then the task only if the upsert returned its row (the quota and the erasure checked, the
# count row locked until the statement commits, as `tasks._hold_room` says), then its tags.
# Data-modifying WITH queries run in the same snapshot, each once, in one statement
# (https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING); the
# triggers on `tasks` (counts, version) fire at the statement's end and then see the upsert's
# row (a later command of the same transaction), and the tags' foreign key is checked then too.
# Before: BEGIN, the upsert, the task, the tags and COMMIT, five round trips with the count row
# held across them.
_POSTGRES_CREATE = (
    "WITH room AS ("
    # `_HOLD_ROOM`'s upsert, the owner being $7 and the quota $10 here.
    + _HOLD_ROOM["postgresql"].replace("$2", "$quota").replace("$1", "$7").replace("$quota", "$10")
    + f"), task AS (INSERT INTO tasks AS p ({_COLUMNS}, version)"
    # Typed here: a parameter in a SELECT's list is not typed by the column it goes to.
    " SELECT $1::varchar, $2::varchar, $3::boolean, $4::smallint, $5::json, $6::timestamptz,"
    " $7::varchar, $8::timestamptz, $9::timestamptz, 1 FROM room"
    f" RETURNING p.id, p.version, {task_object('postgresql', 'p')}),"
    " tagged AS (INSERT INTO task_tags (task_id, user_id, tag)"
    " SELECT task.id, $7, tag FROM task, unnest($11::text[]) AS tag)"
    " SELECT * FROM task"
)


async def create(
    connection: Connection, owner: str, body: TaskCreate, quota: int, now: datetime
) -> tuple[int, bytes]:
    """`tasks.create` answering the new task's version and JSON: the quota checked and the
    owner's count row held (`tasks._hold_room`), the task and its tags written. On SQLite needs
    the transaction of `Database.raw_transaction`; on PostgreSQL one statement on an autocommit
    connection (`Database.connect`) does it all. Raises AccountErased, or QuotaReached."""
    dialect = connection.dialect.name
    if dialect != "sqlite":
        created = await raw_rows(
            connection,
            _POSTGRES_CREATE,
            body.title,
            body.description,
            body.completed,
            PRIORITY_RANK[Priority(body.priority)],
            json.dumps(body.tags),  # as SQLAlchemy's JSON type stores them
            body.due_at,
            owner,
            now,
            now,
            quota,
            body.tags,
        )
        if not created:
            await _refused(connection, owner, quota)
        [(_task_id, version, task)] = created
        return version, task.encode()
    if not await raw_rows(connection, _HOLD_ROOM[dialect], owner, quota):
        await _refused(connection, owner, quota)

    tags = json.dumps(body.tags)  # as SQLAlchemy's JSON type stores them
    [(task_id, version, task)] = await raw_rows(
        connection,
        _SQLITE_INSERT,
        body.title,
        body.description,
        body.completed,
        PRIORITY_RANK[Priority(body.priority)],
        tags,
        None if body.due_at is None else sqlite_time(body.due_at),
        owner,
        sqlite_time(now),
        sqlite_time(now),
    )
    if body.tags:
        await raw_rows(connection, _SQLITE_TAGS, task_id, owner, tags)
    return version, task.encode()


async def _refused(connection: Connection, owner: str, quota: int) -> NoReturn:
    """After the upsert refused to hold room: which of the two (the quota is only reached by a
    live account)."""
    erased = await raw_rows(connection, _ERASED[connection.dialect.name], owner)
    raise AccountErased if erased and erased[0][0] else QuotaReached(quota)
