"""Queries on tasks. Every one takes the owner and filters on it: no query can reach another's.

Most are a single SQL statement on an autocommit connection, so each is atomic on its own (two
toggles racing each other both take effect; an update never writes back a stale copy) and costs
one round trip: no ORM objects, no BEGIN/COMMIT pair around a lone statement. Writes that set
tags touch two tables and are given a transaction by their caller (`Database.transaction`).
"""

from __future__ import annotations

import asyncio
import hashlib
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    RowMapping,
    String,
    bindparam,
    column,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from taskapi import casefold
from taskapi.casefold import pg_lower
from taskapi.db import MATCHES_KEPT, Connection, Memo, raw_rows, runs_raw
from taskapi.models import (
    MAX_TASK_ID,
    Priority,
    Task,
    TaskCount,
    TaskCreate,
    TaskTag,
    TaskTagCount,
    utc_now,
)

TaskRow = RowMapping  # a task as the database returns it, read-only

tasks_table = Task.__table__  # type: ignore[attr-defined]
columns = tasks_table.c
counts_table = TaskCount.__table__  # type: ignore[attr-defined]
tags_table = TaskTag.__table__  # type: ignore[attr-defined]
tag_counts_table = TaskTagCount.__table__  # type: ignore[attr-defined]


class QuotaReached(Exception):
    """The owner already has as many tasks as the quota allows."""

    def __init__(self, quota: int) -> None:
        super().__init__(f"the quota is {quota} tasks")
        self.quota = quota


class AccountErased(Exception):
    """The owner's account has been erased (taskapi.auth.revocation.erase_subject): nothing may
    be written for it again, whatever token the request carried."""


class VersionMismatch(Exception):
    """An If-Match precondition failed: the task has changed since the client last saw it."""

    def __init__(self, current: TaskRow) -> None:
        super().__init__(f"task {current['id']} is at version {current['version']}")
        self.current = current


# The versions an If-Match header accepts; None when the request set no precondition.
Expected = frozenset[int] | None


class StatusFilter(StrEnum):
    all = "all"
    pending = "pending"
    completed = "completed"


def _owned(owner: str, status: StatusFilter = StatusFilter.all) -> list[Any]:
    conditions: list[Any] = [columns.user_id == owner]
    if status is not StatusFilter.all:
        conditions.append(columns.completed.is_(status is StatusFilter.completed))
    return conditions


class Folded(FunctionElement[str]):
    """`lower(text)` as PostgreSQL computes it. On SQLite it is written `unicode_lower(…)`, the
    same function (taskapi.casefold, registered on every connection), so that a sort by title
    reads the index of lower-cased titles (migration 0006). Both databases then order by code
    point, as PostgreSQL does on a C.UTF-8 database."""

    type = String()
    inherit_cache = True
    name = "folded"


@compiles(Folded)
def _lower(element: Folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(Folded, "sqlite")
def _unicode_lower(element: Folded, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{casefold.SQL_NAME}({compiler.process(element.clauses, **kw)})"


SortKey = Literal["created", "updated", "due", "priority", "title"]
Order = Literal["asc", "desc"]


# What a person expects first: the newest, the most urgent, the most important, A before B.
DEFAULT_ORDER: dict[SortKey, Order] = {
    "created": "desc",
    "updated": "desc",
    "due": "asc",
    "priority": "desc",
    "title": "asc",
}
SORT_COLUMNS: dict[SortKey, Any] = {
    "created": columns.created_at,
    "updated": columns.updated_at,
    "due": columns.due_at,
    "priority": columns.priority,
    "title": Folded(columns.title),
}


@dataclass(frozen=True)
class ListQuery:
    """Which of a person's tasks to list, in what order. Filters combine (all must hold); tags
    too (a task must carry every tag given); priorities are alternatives."""

    status: StatusFilter = StatusFilter.all
    priorities: tuple[Priority, ...] = ()
    tags: tuple[str, ...] = ()
    text: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    overdue: bool = False
    sort: SortKey = "created"
    order: Order | None = None
    limit: int = 100
    offset: int = 0

    @property
    def by_status_only(self) -> bool:
        return not (
            self.priorities
            or self.tags
            or self.text
            or self.due_before
            or self.due_after
            or self.overdue
        )

    @property
    def reads_an_index(self) -> bool:
        """Served by reading one index in order (every sort has one), up to `offset + limit`
        entries of one person (at most the quota), with the total from the counts: cheap
        enough for the event loop. Any other list may read every task the person has, to filter
        and count them (`taskapi.db.long_read`)."""
        return self.by_status_only

    @property
    def filters(self) -> tuple[Any, ...]:
        """What decides which tasks pass, not their order nor the page: a total's cache key."""
        return (
            self.status,
            self.priorities,
            self.tags,
            self.text,
            self.due_before,
            self.due_after,
            self.overdue,
        )

    def conditions(
        self, owner: str, dialect: str, *, walk: bool = False, now: datetime | None = None
    ) -> list[Any]:
        """The WHERE of the list. `walk`: the tags are tested on each task met while the
        sort's index is read in order (EXISTS per tag), for tags that many of the person's
        tasks carry; otherwise the tagged tasks are found first through the tags' index, then
        sorted (for few). 100,000 tasks, SQLite, first page of 50: a tag on 5,000 of them
        10.4 ms found first against 1.3 ms walked, two tags 5.7 against 3.8 ms; a tag on none
        0.1 ms found first against 23 ms walked (`list_page` chooses). `now`: the moment
        `overdue` is judged at (the current time if not given)."""
        conditions = _owned(owner, self.status)
        if self.priorities:
            conditions.append(columns.priority.in_(self.priorities))
        if self.tags and walk:
            conditions += [
                exists().where(tags_table.c.task_id == columns.id, tags_table.c.tag == tag)
                for tag in self.tags
            ]
        elif self.tags:
            conditions.append(columns.id.in_(_carrying(owner, self.tags)))
        if self.text:
            conditions.append(_text_search(self.text, dialect))
        if self.due_before:
            conditions.append(columns.due_at < self.due_before)
        if self.due_after:
            conditions.append(columns.due_at > self.due_after)
        if self.overdue:
            conditions += [columns.due_at < (now or utc_now()), columns.completed.is_(False)]
        return conditions

    def rarest_first(self, carried: dict[str, int]) -> ListQuery:
        """This query with its tags in the order of `carried` (how many of the person's tasks
        carry each, `tag_counts_of`), the rarest first: the conditions then start from the
        fewest tag entries."""
        return replace(self, tags=tuple(sorted(self.tags, key=lambda tag: carried[tag])))

    def ordering(self) -> list[Any]:
        """The key, then the id in the same direction: equal keys keep one stable order, so
        pages never repeat or skip a task. Tasks with no due date come last either way."""
        descending = (self.order or DEFAULT_ORDER[self.sort]) == "desc"
        key = SORT_COLUMNS[self.sort]
        ordered = [
            key.desc() if descending else key.asc(),
            columns.id.desc() if descending else columns.id.asc(),
        ]
        if self.sort == "due":
            ordered[0] = ordered[0].nulls_last()
        return ordered


def _carrying(owner: str, tags: Sequence[str]) -> Any:
    """The ids of the owner's tasks that carry every one of `tags`: the first tag's entries
    (the rarest, after `ListQuery.rarest_first`), each tried for the others by primary key. A
    single tag needs nothing more, and PostgreSQL then reads the newest tasks first (11 ms ->
    0.9 ms). Grouping the entries of all the tags instead read every one of them (two tags on
    5,000 and 14,286 of 100,000 tasks: 56 ms against 18 ms this way, SQLite, loaded machine)."""
    first, *others = tags
    carrying = select(tags_table.c.task_id).where(
        tags_table.c.user_id == owner, tags_table.c.tag == first
    )
    for tag in others:
        other = tags_table.alias()
        carrying = carrying.where(
            exists().where(other.c.task_id == tags_table.c.task_id, other.c.tag == tag)
        )
    return carrying


async def tag_counts_of(connection: Connection, owner: str, tags: Sequence[str]) -> dict[str, int]:
    """How many of the owner's tasks carry each of `tags` (migration 0010's counts); a tag none
    of them carries is left out."""
    result = await connection.execute(
        select(tag_counts_table.c.tag, tag_counts_table.c.count).where(
            tag_counts_table.c.user_id == owner, tag_counts_table.c.tag.in_(tags)
        )
    )
    return {row["tag"]: int(row["count"]) for row in result.mappings().all()}


# SQLite's trigram index (migration 0006) holds titles and descriptions lower-cased as PostgreSQL
# does (taskapi.casefold): a phrase of three characters or more, lower-cased the same way, is
# matched as a substring of them; shorter ones have no trigram and read the rows.
search_index = table("task_search", column("rowid"))
TRIGRAM = 3


def _text_search(text: str, dialect: str) -> Any:
    """Case-insensitive substring in the title or the description (`%` and `_` literal): what
    PostgreSQL's ILIKE finds, which compares `lower()` of both sides (and which its trigram
    indexes serve as it is). SQLite gives the same answers: the index above, or `lower(…) LIKE
    lower(…)` (SQLAlchemy's `icontains`) with `lower` made PostgreSQL's."""
    if dialect == "sqlite" and len(text) >= TRIGRAM:
        folded = pg_lower(text)  # as long as `text`: the mapping is one character to one
        phrase = '"' + folded.replace('"', '""') + '"'
        return columns.id.in_(
            select(search_index.c.rowid).where(literal_column("task_search").op("MATCH")(phrase))
        )
    if dialect == "sqlite":
        return or_(
            columns.title.icontains(text, autoescape=True),
            columns.description.icontains(text, autoescape=True),
        )
    # PostgreSQL: the pattern is written into the statement as a literal (escaped by the
    # dialect), not bound. A prepared statement run five times may be given a generic plan,
    # made for any pattern, which does not use the trigram indexes: the same search of the
    # user with 100,000 tasks went from 14 ms to 74 ms (37 against 731 requests/s between
    # runs). With the literal, each phrase is its own statement, planned for what it is.
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return or_(
        *(
            field.ilike(bindparam(None, f"%{escaped}%", String(), literal_execute=True), escape="/")
            for field in (columns.title, columns.description)
        )
    )


@dataclass(frozen=True)
class ListState:
    """What a list's answer depends on besides its query, read before the page.

    `version` is the owner's list version (`task_counts.version`, migration 0009: raised by
    every write to their tasks, 0 before their first); `total` and `completed` their counts;
    `next_due`, for an `overdue` list only, the earliest due time not yet passed among their
    pending tasks (None when there is none): the overdue tasks are the same at any moment
    before it, so the answer depends on time only through it."""

    version: int
    total: int
    completed: int
    next_due: datetime | None = None
    now: datetime | None = None  # when `next_due` was looked for: `overdue` is judged then

    def etag(self, owner: str, query: ListQuery) -> str:
        """A strong entity tag (RFC 9110 §8.8.3) for the list `query` of `owner` in this state:
        the same page, total and bytes whenever the version (and for `overdue`, the next due
        time) are the same, since nothing else they depend on can change without raising the
        version. `"L<version>-<24 hex digits of BLAKE2b over the owner, the query and
        next_due>"`: never equal to a task's `"<version>"`."""
        if (
            self.next_due is None
            and query.by_status_only
            and isinstance(query.status, StatusFilter)
        ):
            return f'"L{self.version}-{_plain_list_digest(owner, query)}"'
        return f'"L{self.version}-{_list_digest(owner, query, self.next_due)}"'


def _list_digest(owner: str, query: ListQuery, next_due: datetime | None) -> str:
    key = repr((LIST_FORMAT, owner, astuple(query), next_due)).encode()
    return hashlib.blake2b(key, digest_size=12).hexdigest()


# The digest in a plain list's tag depends on the owner and the query alone: kept, not hashed
# again on every list (`astuple` and `repr` were a tenth of a plain list's CPU,
# docs/performance.md §12). Plain only: no filter but the status, so no datetime (equal values
# with other reprs would share an entry), and the status the enum, never the equal string. An
# entry holds an owner and a ListQuery, about 600 bytes.
LIST_DIGESTS = 4096


@lru_cache(maxsize=LIST_DIGESTS)
def _plain_list_digest(owner: str, query: ListQuery) -> str:
    return _list_digest(owner, query, None)


# Part of every list ETag: raise it when the bytes of a list answer change for the same data
# (a new field, another serialisation), so that tags from the earlier code no longer match.
LIST_FORMAT = 1


async def list_state(connection: Connection, owner: str, query: ListQuery) -> ListState:
    """The owner's version and counts (one row read by primary key), and for an `overdue`
    list the next due time (one seek in the `(user_id, due_at, id)` index)."""
    counts: Any
    if query.reads_an_index and runs_raw(connection):
        # A plain list's statements are all raw: on PostgreSQL the request then takes one
        # connection, from the driver's pool (taskapi.db.PooledConnection). A filtered list's
        # first statement stays SQLAlchemy's, so that its page, built by SQLAlchemy, runs on
        # the same connection.
        rows = await raw_rows(connection, _COUNTS[connection.dialect.name], owner)
        counts = rows[0] if rows else None
    else:
        counts = (
            await connection.execute(
                select(
                    counts_table.c.version, counts_table.c.total, counts_table.c.completed
                ).where(counts_table.c.user_id == owner)
            )
        ).first()
    version, total, completed = (int(value) for value in counts) if counts else (0, 0, 0)
    if not query.overdue:
        return ListState(version, total, completed)
    now = utc_now()
    next_due = await connection.scalar(
        select(func.min(columns.due_at)).where(
            *_owned(owner, StatusFilter.pending), columns.due_at >= now
        )
    )
    return ListState(version, total, completed, next_due, now)


async def still_current(connection: Connection, owner: str, state: ListState) -> bool:
    """Whether the owner's version is still `state`'s: no write to their tasks committed since
    it was read, so what was read in between is that state's (versions only grow)."""
    if runs_raw(connection):
        rows = await raw_rows(connection, _VERSION[connection.dialect.name], owner)
        version = rows[0][0] if rows else 0
    else:
        version = await connection.scalar(
            select(counts_table.c.version).where(counts_table.c.user_id == owner)
        )
    return int(version or 0) == state.version


# `list_state`'s and `still_current`'s reads as raw statements (taskapi.db.raw_rows).
_COUNTS = {
    "sqlite": "SELECT version, total, completed FROM task_counts WHERE user_id = ?",
    "postgresql": "SELECT version, total, completed FROM task_counts WHERE user_id = $1",
}
_VERSION = {
    "sqlite": "SELECT version FROM task_counts WHERE user_id = ?",
    "postgresql": "SELECT version FROM task_counts WHERE user_id = $1",
}


async def list_page(
    connection: Connection,
    owner: str,
    query: ListQuery,
    state: ListState | None = None,
    totals: Memo[tuple[Any, ...], int] | None = None,
    matches: Memo[tuple[Any, ...], array[int]] | None = None,
) -> tuple[Sequence[Mapping[Any, Any]], int]:
    """One page and the total under the same filters. With no filter but the status, the total
    is read from the counts the triggers keep: counting the rows instead took 60x the page's
    time for a user with 100,000 tasks. `state`: from `list_state` on this connection, read if
    not given.

    `totals` (the database's `list_totals`) keeps filtered totals by (owner, version, filters,
    next due time), so that a filtered list counts its matches once per version of the owner's
    tasks, not once per request (a tag on 5,000 of 100,000 tasks took 4 ms to count, "overdue"
    34 ms, SQLite). An entry is never wrong for its key while that version is current: a count
    made after a later write can only land under a version that is no longer anyone's
    (versions only grow).

    `matches` (the database's `list_matches`) keeps, under the same key with the order, the
    ids of all the matching tasks in order when there are at most MATCHES_KEPT of them: the
    pages of that version are then read by id. Two tags carried together by 715 of 100,000
    tasks read thousands of tag entries per page (12-28 ms, SQLite, loaded machine) and then
    50 rows by primary key, by the statement that checks the owner's version is still
    `state`'s: when it has moved on, the page and its total are read again together
    (`_page_counted`), so that a page always passes its filter and agrees with its total."""
    if state is None:
        state = await list_state(connection, owner, query)
    carried: dict[str, int] = {}
    known = (owner, state.version, query.filters, state.next_due)
    # One tag with its total already kept needs no counts (nothing to order, nothing to count).
    if query.tags and (len(query.tags) > 1 or totals is None or totals.get(known) is None):
        carried = await tag_counts_of(connection, owner, query.tags)
        if len(carried) < len(query.tags):
            return [], 0  # a tag none of the owner's tasks carries: nothing passes
        query = query.rarest_first(carried)
    if query.by_status_only:
        total = {
            StatusFilter.all: state.total,
            StatusFilter.completed: state.completed,
            StatusFilter.pending: state.total - state.completed,
        }[query.status]
    else:
        key = (owner, state.version, query.filters, state.next_due)
        cached = totals.get(key) if totals is not None else None
        total = (
            cached
            if cached is not None
            else await _count(connection, owner, query, state.now, carried)
        )
        if cached is None and totals is not None:
            totals.put(key, total)
    kept = None
    if not query.by_status_only and matches is not None and total <= MATCHES_KEPT:
        listed = (owner, state.version, query.filters, state.next_due, query.sort, query.order)
        kept = matches.get(listed)
        if kept is None:
            conditions = query.conditions(owner, connection.dialect.name, now=state.now)
            found = await connection.execute(
                select(columns.id).where(*conditions).order_by(*query.ordering())
            )
            kept = array("q", found.scalars().all())
            matches.put(listed, kept)
    if kept is not None:
        ids = kept[query.offset : query.offset + query.limit]
        if not ids:
            return [], total
        # The rows only while the owner's version is still the kept one, tested by the same
        # statement (one snapshot on PostgreSQL; on SQLite one statement reads one state too):
        # a task edited or deleted since (its tags changed, say) makes the version move, and
        # then no row comes back. Read unchecked, a row no longer passing the filter, or a page
        # shorter than the total, showed through (F3).
        unchanged = (
            select(counts_table.c.version).where(counts_table.c.user_id == owner).scalar_subquery()
            == state.version
        )
        rows = await connection.execute(
            select(*columns).where(columns.id.in_(list(ids)), columns.user_id == owner, unchanged)
        )
        by_id = {row["id"]: row for row in rows.mappings().all()}
        if len(by_id) == len(ids):
            return [by_id[task_id] for task_id in ids], total
        return await _page_counted(connection, owner, query, state)
    # Tags carried by many of the tasks are tested while the sort's index is read in order:
    # the page is found after reading about (offset + limit) * all / matching entries, fewer
    # than the matching ones to sort when matching^2 > (offset + limit) * all.
    walk = total * total > (query.offset + query.limit) * state.total
    conditions = query.conditions(owner, connection.dialect.name, walk=walk, now=state.now)
    page = await connection.execute(
        select(*columns)
        .where(*conditions)
        .order_by(*query.ordering())
        .limit(query.limit)
        .offset(query.offset)
    )
    return page.mappings().all(), total


async def _page_counted(
    connection: Connection, owner: str, query: ListQuery, state: ListState
) -> tuple[Sequence[Mapping[Any, Any]], int]:
    """The page and its total read by one statement (`count(*) OVER ()`: all the matches are
    counted before the page is cut from them), so that they agree whatever was written
    meanwhile: for a page whose kept state has moved on (`list_page`; the caller's
    `still_current` then leaves the ETag out). A page past the end has no row to carry the
    total: it is counted apart (an empty page agrees with any total)."""
    conditions = query.conditions(owner, connection.dialect.name, now=state.now)
    matching = func.count().over().label("matching")
    found = (
        await connection.execute(
            select(*columns, matching)
            .where(*conditions)
            .order_by(*query.ordering())
            .limit(query.limit)
            .offset(query.offset)
        )
    ).all()
    if not found:
        counted = select(func.count()).where(*conditions)
        return [], int(await connection.scalar(counted) or 0)
    names = [column.name for column in columns]  # the tasks' columns, without the count
    return [dict(zip(names, row, strict=False)) for row in found], int(found[0][-1])


async def _count(
    connection: Connection,
    owner: str,
    query: ListQuery,
    now: datetime | None,
    carried: dict[str, int],
) -> int:
    """How many tasks pass the filters. One tag alone is its count (`carried`, migration 0010:
    a tag on 5,000 of 100,000 tasks took 0.14 ms to count in the tags' index, 4.2 ms through
    the tasks); several alone are counted in the tags' own index, the tasks unread."""
    if query.tags and query.filters == ListQuery(tags=query.tags).filters:
        if len(query.tags) == 1:
            return carried[query.tags[0]]
        counted = select(func.count()).select_from(_carrying(owner, query.tags).subquery())
        return int(await connection.scalar(counted) or 0)
    conditions = query.conditions(owner, connection.dialect.name, now=now)
    return int(await connection.scalar(select(func.count()).where(*conditions)) or 0)


async def tag_counts(connection: Connection, owner: str) -> list[dict[str, Any]]:
    """The person's tags, the most used first, each with how many tasks carry it."""
    # Read from the counts the triggers keep (migration 0010), not grouped from every entry.
    result = await connection.execute(
        select(tag_counts_table.c.tag, tag_counts_table.c.count)
        .where(tag_counts_table.c.user_id == owner)
        .order_by(tag_counts_table.c.count.desc(), tag_counts_table.c.tag)
    )
    return [dict(row) for row in result.mappings()]


# How many completed tasks one statement of `clear_completed` deletes on SQLite: with their tags
# and search entries, 10,000 took 0.96 s in one statement, during which the event loop served
# no one else; 200 take about 20 ms.
CLEAR_BATCH = 200


async def clear_completed(connection: Connection, owner: str) -> int:
    """Delete every completed task of the owner (their tags go with them); how many. On SQLite,
    whose statements run on the event loop (taskapi.db), in batches of CLEAR_BATCH with the loop
    free between them: each batch commits on its own, and a task completed meanwhile may go
    with the last one (it is completed: that is what was asked). On PostgreSQL, inside the
    caller's transaction, the rows are locked in id order first and then deleted: the lock
    order of `taskapi.auth.revocation.erase_subject`, so the two never deadlock (a DELETE's
    own order of locking rows and the count row, interleaved, did)."""
    completed = _owned(owner, StatusFilter.completed)
    if connection.dialect.name != "sqlite":
        await connection.execute(
            select(columns.id).where(*completed).order_by(columns.id).with_for_update()
        )
        # The rows it locked, and any completed since by a writer that has committed (none of
        # them waits for this transaction: it holds no count row yet).
        result = await connection.execute(delete(tasks_table).where(*completed))
        return int(getattr(result, "rowcount", 0))
    batch = select(columns.id).where(*completed).limit(CLEAR_BATCH).scalar_subquery()
    deleted = 0
    while True:
        result = await connection.execute(delete(tasks_table).where(columns.id.in_(batch)))
        count = int(getattr(result, "rowcount", 0))
        deleted += count
        if count < CLEAR_BATCH:
            return deleted
        await asyncio.sleep(0)  # let other requests' statements run between batches


async def _set_tags(connection: Connection, owner: str, task_id: int, tags: list[str]) -> None:
    await connection.execute(delete(tags_table).where(tags_table.c.task_id == task_id))
    if tags:
        await connection.execute(
            insert(tags_table).values(
                [{"task_id": task_id, "user_id": owner, "tag": tag} for tag in tags]
            )
        )


async def get(connection: Connection, owner: str, task_id: int) -> TaskRow | None:
    if not 1 <= task_id <= MAX_TASK_ID:
        return None  # no such id can exist, and the driver would refuse to bind it
    result = await connection.execute(select(*columns).where(columns.id == task_id, *_owned(owner)))
    return result.mappings().one_or_none()


async def create(connection: Connection, owner: str, body: TaskCreate, quota: int) -> TaskRow:
    """Needs a transaction: the quota is checked, and the owner's count row held, until the
    task is committed. Raises QuotaReached when the owner already has `quota` tasks,
    AccountErased when the owner's account has been erased."""
    await _hold_room(connection, owner, quota)
    now = utc_now()
    result = await connection.execute(
        insert(tasks_table)
        .values(**body.model_dump(), user_id=owner, created_at=now, updated_at=now)
        .returning(*columns)
    )
    task = result.mappings().one()
    if body.tags:
        await _set_tags(connection, owner, task["id"], body.tags)
    return task


async def _hold_room(connection: Connection, owner: str, quota: int) -> None:
    """Check the quota against the owner's count (kept by triggers, migration 0002) and hold that
    row until the transaction ends: an upsert that writes the row (creating it for a first task)
    only while the total is under the quota and the account is not erased (migration 0008).
    On PostgreSQL a concurrent create of the same owner, or an erasure, waits for the row's
    lock, then sees the committed row (an ON CONFLICT DO UPDATE re-checks its WHERE on the
    newest version, https://www.postgresql.org/docs/current/sql-insert.html), so two creates at
    quota - 1 cannot both pass, and a create either commits before an erasure (which then
    erases it) or is refused after it; on SQLite writes run one at a time.

    Raises AccountErased, or QuotaReached."""
    upsert = sqlite.insert if connection.dialect.name == "sqlite" else postgresql.insert
    new = upsert(counts_table).values(user_id=owner, total=0, completed=0)
    claim = new.on_conflict_do_update(
        index_elements=[counts_table.c.user_id],
        set_={"total": counts_table.c.total},
        where=(counts_table.c.total < quota) & counts_table.c.erased_until.is_(None),
    ).returning(counts_table.c.total)
    if (await connection.execute(claim)).first() is not None:
        return
    # Refused: which of the two (the quota is only reached by a live account).
    erased = await connection.scalar(
        select(counts_table.c.erased_until).where(counts_table.c.user_id == owner)
    )
    raise AccountErased if erased is not None else QuotaReached(quota)


async def change(
    connection: Connection,
    owner: str,
    task_id: int,
    fields: dict[str, Any],
    expected: Expected = None,
) -> TaskRow | None:
    """Apply the given editable fields; `updated_at` and `version` move only when something was
    sent. None when the task is gone (deleted since it was looked up). Needs a transaction when
    the fields include tags."""
    if not fields:
        current = await get(connection, owner, task_id)
        if current is not None and expected is not None and current["version"] not in expected:
            raise VersionMismatch(current)
        return current
    task = await _update(connection, owner, task_id, {**fields, "updated_at": utc_now()}, expected)
    if task is not None and "tags" in fields:
        await _set_tags(connection, owner, task_id, fields["tags"])
    return task


async def set_completed(
    connection: Connection,
    owner: str,
    task_id: int,
    completed: bool | None,
    expected: Expected = None,
) -> TaskRow | None:
    """Set `completed`, or toggle it when None, in the database itself."""
    value: Any = ~columns.completed if completed is None else completed
    return await _update(
        connection, owner, task_id, {"completed": value, "updated_at": utc_now()}, expected
    )


def _matching(owner: str, task_id: int, expected: Expected) -> list[Any]:
    conditions = [columns.id == task_id, *_owned(owner)]
    if expected is not None:
        conditions.append(columns.version.in_(expected))
    return conditions


async def _update(
    connection: Connection,
    owner: str,
    task_id: int,
    values: dict[str, Any],
    expected: Expected,
) -> TaskRow | None:
    # The version check is in the statement itself: no other writer can come between them.
    result = await connection.execute(
        update(tasks_table)
        .where(*_matching(owner, task_id, expected))
        .values(**values, version=columns.version + 1)
        .returning(*columns)
    )
    row = result.mappings().one_or_none()
    if row is None and expected is not None:
        await raise_if_changed(connection, owner, task_id)
    return row


async def remove(
    connection: Connection, owner: str, task_id: int, expected: Expected = None
) -> bool:
    result = await connection.execute(
        delete(tasks_table).where(*_matching(owner, task_id, expected)).returning(columns.id)
    )
    if result.first() is not None:
        return True
    if expected is not None:
        await raise_if_changed(connection, owner, task_id)
    return False


async def raise_if_changed(connection: Connection, owner: str, task_id: int) -> None:
    """After a guarded write matched nothing: the task changed (412) or is gone (404)."""
    current = await get(connection, owner, task_id)
    if current is not None:
        raise VersionMismatch(current)
