"""The database as the requests see it: one `Connection` per request, statements awaited.

PostgreSQL is reached through asyncpg (an async driver with a pool). SQLite is different: its
statements take tens of microseconds and never wait on a network, and running them on a worker
thread per connection (aiosqlite) cost far more than the statements themselves: each one crossed
threads twice and queued for the GIL (measured 5x slower, see docs/performance.md). So requests
run SQLite statements inline, on the event loop's own thread, through one connection. In WAL mode
with synchronous=NORMAL a commit does not fsync, and one process is the only writer, so a
statement does not wait on a lock, but for the rare one held by another process (a `taskapi
migrate`, a backup, a person's sqlite3 shell): that wait is awaited, never slept on the loop's
thread (taskapi.sqlite_busy), and a write still locked out after 5 s is a 503.

Reads that may run long (a search, a filter that counts its matches, the tag counts) do not run
there: `read()` gives them one of a few reader connections (WAL lets readers
run beside the writer), each statement on the reader's own thread (sqlite3 releases the GIL while
a statement runs), with a time budget after which SQLite interrupts it (`sqlite3_interrupt`,
https://sqlite.org/c3ref/interrupt.html) and `StatementTimeout` is raised. One person's costly
search then never holds up another person's list.
"""

from __future__ import annotations

import asyncio
import sqlite3
from array import array
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, suppress
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine, Result
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable

from taskapi import casefold
from taskapi.database_url import DatabaseURL
from taskapi.private_files import make_private, sqlite_path
from taskapi.sqlite_busy import is_busy, when_unlocked

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

SQLITE_BUSY_TIMEOUT_MS = 5000  # off the event loop: readers, migrations, tooling
# A read statement on SQLite is interrupted after this long. A search or a filter over a
# person's 10,000 tasks (the default quota) of ordinary text takes tens of milliseconds; text
# built to be slow (one letter repeated, searched for with 100 of it) takes seconds, and would
# only take a core from everyone else. PostgreSQL's statements are bounded at 4 s.
SQLITE_STATEMENT_BUDGET_S = 2.0
DRIVER_POOL_TIMEOUT_S = 3  # waiting for a connection of the driver pool, as the engine's
DRIVER_CLOSE_S = 10  # at shutdown, for connections still out to come back
SQLITE_READERS = 2  # reader connections (and threads); further long reads queue for one
# Connections each process opens to PostgreSQL, at most (PostgreSQL allows 100 by default, 3
# of them kept for superusers): DRIVER_POOL_SIZE for the hot requests' raw statements
# (`PostgresDatabase.connect`, asyncpg's own pool), POOL_SIZE for statements SQLAlchemy builds
# (the other requests, transactions, migrations), 1 for the background work. 45 a process: two
# workers stay within 100; more workers, or more processes, need PgBouncer in front (or a
# larger max_connections).
DRIVER_POOL_SIZE = 32
POOL_SIZE = 12
LONG_READS_PER_PERSON = 4  # per process: see PerPersonLimit


def sqlstate_classes(error: Exception) -> set[str]:
    """The SQLSTATE classes (first two characters, PostgreSQL Appendix A) a driver error
    carries, directly or as its cause; empty for SQLite's errors, which have none."""
    original = getattr(error, "orig", None)
    causes = (original, getattr(original, "__cause__", None))
    codes = (getattr(cause, "sqlstate", None) for cause in causes)
    return {code[:2] for code in codes if isinstance(code, str)}


def rolled_back(error: Exception) -> bool:
    """PostgreSQL undid the transaction to break a cycle of waits between concurrent writers
    (class 40: 40P01 deadlock_detected, 40001 serialization_failure): nothing it did remains,
    and running it again is safe."""
    return isinstance(error, sqlalchemy.exc.DBAPIError) and "40" in sqlstate_classes(error)


class StatementTimeout(Exception):
    """A statement ran past its time budget and was stopped; it changed nothing (reads only)."""


class Connection(Protocol):
    """What the queries in taskapi.tasks need: each statement its own transaction (autocommit),
    its rows fetched whole."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, /) -> Result[Any]: ...

    async def scalar(self, statement: Executable, /) -> Any: ...


def _unnamed_statement() -> str:
    return ""


# Behind a transaction-mode pooler (PgBouncer 1.18 and the like; database.transaction_pooler)
# the pooler may give each round trip of a client connection another server connection, so a
# statement prepared on one may be executed on another: "prepared statement "__asyncpg_stmt_1__"
# does not exist" (or "already exists", when another client's counter reached the same name).
# Hence: nothing cached, by asyncpg (`statement_cache_size`) or by SQLAlchemy's dialect
# (`prepared_statement_cache_size`); and each statement prepared unnamed (the name "", which
# `prepared_statement_name_func` hands to asyncpg's `Connection.prepare`). With no cache, asyncpg
# then sends an unnamed statement's Parse again in the same message as its Bind and Execute, so
# the statement is parsed and run on one server connection whichever one that is, and nothing
# is left behind on the server. SQLAlchemy's docs ("Prepared Statement Name with PGBouncer")
# suggest unique names instead: those still break outside a transaction (our autocommit
# statements), where the prepare and the execute may reach different server connections, and
# they pile up on the server. See asyncpg's FAQ on PgBouncer and its `Connection._get_statement`.
TRANSACTION_POOLER_CONNECT_ARGS: dict[str, Any] = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": _unnamed_statement,
}


def create_engine(database: DatabaseURL, *, pool_size: int = POOL_SIZE) -> AsyncEngine:
    """An async engine, for migrations and tooling on either database; on PostgreSQL with a
    pool of `pool_size` connections (SQLite's is SQLAlchemy's default)."""
    if database.is_sqlite:
        engine = create_async_engine(database.url, connect_args=database.connect_args)
        _open_privately(engine.sync_engine, database)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        # Migrations and tooling fold case as the app does: the search index's triggers need it.
        event.listen(engine.sync_engine, "connect", _register_functions)
        return engine
    pooler_args = TRANSACTION_POOLER_CONNECT_ARGS if database.transaction_pooler else {}
    return create_async_engine(
        database.url,
        # A database that is down or hung is a 503 within 5 s, never a request left hanging:
        # connecting gives up after 3 s, a statement after 4 s, waiting for a pooled
        # connection after 3 s.
        connect_args={"timeout": 3, "command_timeout": 4, **database.connect_args, **pooler_args},
        pool_timeout=3,
        # One connection per request in flight at the load we size for (32): with fewer, a
        # request queued for a connection had a p99 of 1 s (measured, docs/performance.md).
        pool_size=pool_size,
        max_overflow=0,
        # No pre-ping: it would cost a round trip on every request. A connection the server
        # dropped fails its statement instead, is thrown away by the pool, and the request gets
        # a 503 (see taskapi.main); a connection idle for 5 minutes is replaced (Neon closes
        # idle ones).
        pool_recycle=300,
    )


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """The driver pool's reset between two requests: nothing. asyncpg's default sends
    `RESET ALL`, `CLOSE ALL`, `UNLISTEN *` and `pg_advisory_unlock_all()` on every release, a
    round trip per request; our raw statements change no session state (no SET, no LISTEN, no
    cursor, no advisory lock) to undo. An open transaction is still rolled back by the pool
    before this runs (asyncpg's `Connection._reset`)."""


def create_driver_pool(database: DatabaseURL, *, size: int = DRIVER_POOL_SIZE) -> asyncpg.Pool:
    """asyncpg's own pool (not yet opened: await it), with the connection settings of
    `create_engine`'s connections: the same server, TLS (`ssl`), startup parameters
    (`application_name`), timeouts (connecting 3 s, a statement 4 s; waiting for a connection
    is given 3 s by `PostgresDatabase`), and prepared statements cached only on a direct
    connection (behind a transaction pooler asyncpg's cache is off: each statement is sent
    unnamed, see TRANSACTION_POOLER_CONNECT_ARGS). Connections are opened as needed, up to
    `size`, and one idle for 5 minutes is closed (Neon closes idle ones)."""
    if database.is_sqlite:
        raise ValueError("the driver pool is PostgreSQL's")
    connect_args = {"timeout": 3, "command_timeout": 4, **database.connect_args}
    if database.transaction_pooler:
        connect_args["statement_cache_size"] = 0
    return asyncpg.create_pool(
        **database.url.translate_connect_args(username="user"),
        **connect_args,
        min_size=0,
        max_size=size,
        max_inactive_connection_lifetime=300,
        reset=_keep_session,
    )


def open_database(database: DatabaseURL) -> PostgresDatabase | SQLiteDatabase:
    """What the app serves requests from."""
    return SQLiteDatabase(database) if database.is_sqlite else PostgresDatabase(database)


class Memo(Generic[K, V]):
    """A bounded map that forgets the least recently used entry beyond `size`; one per
    database object, so that nothing kept for one database is served for another."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


# Filtered list totals kept per process (taskapi.tasks.list_page): an entry (owner, version,
# filters, total) took about 520 bytes with a 36-character owner, a tag and a search phrase;
# 10,000 of them 5.2 MB (tracemalloc).
LIST_TOTALS = 10_000
# Filtered lists' matching task ids, in the list's order, kept per process (taskapi.tasks.
# list_page) for lists of at most MATCHES_KEPT matches: 8 bytes an id, so at most 8 MB.
LIST_MATCHES = 1_000
MATCHES_KEPT = 1_000


class TooManyLongReads(Exception):
    """The person already has `LONG_READS_PER_PERSON` long reads running in this process."""


class PerPersonLimit:
    """At most `limit` long reads of one person at a time in this process: the readers (SQLite)
    and the engine's pool (PostgreSQL, POOL_SIZE connections) are shared by everyone, and forty
    searches of one person at once held another person's list for 3.8 s and cost them a 503
    (with 32 connections then; a plain list now runs on the driver pool). Beyond the limit a
    read is refused at once (`TooManyLongReads`, a 429 with Retry-After: RFC 6585 §4) rather
    than queued, so the one who asks too much is the one who waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running: dict[str, int] = {}

    @contextmanager
    def slot(self, person: str) -> Iterator[None]:
        running = self._running.get(person, 0)
        if running >= self.limit:
            raise TooManyLongReads
        self._running[person] = running + 1
        try:
            yield
        finally:
            left = self._running[person] - 1
            if left:
                self._running[person] = left
            else:
                del self._running[person]


@asynccontextmanager
async def long_read(
    database: PostgresDatabase | SQLiteDatabase, person: str
) -> AsyncIterator[Connection]:
    """Where a read that may take long runs, within the person's share (`PerPersonLimit`): on
    SQLite a reader off the event loop with a time budget (`StatementTimeout`); on PostgreSQL,
    whose driver never blocks the loop, the usual connection (its statements are bounded by
    `command_timeout`)."""
    with database.long_reads.slot(person):
        reads = database.read() if isinstance(database, SQLiteDatabase) else database.connect()
        async with reads as connection:
            yield connection


Rows = Sequence[Sequence[Any]]


async def raw_rows(connection: Connection, statement: str, *params: Any) -> Rows:
    """The rows of one SQL statement written for the connection's own driver (`?` parameters on
    SQLite, `$1` on PostgreSQL), run by the driver itself: no SQLAlchemy statement to build,
    cache-key or wrap in a `Result` (a third of a list's time in the profile,
    docs/performance.md). For the fixed-shape statements of the hot requests only.

    On SQLite the requests' inline connection (statements awaited as `Connection.execute`'s
    are: a write that finds the lock taken waits for it off the loop). On PostgreSQL an
    autocommit connection (`PostgresDatabase.connect`; not inside `transaction`, whose BEGIN
    SQLAlchemy sends only with its own first statement): asyncpg prepares the statement and
    keeps it in its cache, or, behind a transaction pooler, where its cache is off
    (TRANSACTION_POOLER_CONNECT_ARGS), sends it unnamed with its parameters, prepared nowhere.
    Driver errors are raised as SQLAlchemy's (`DBAPIError`), which taskapi.main answers."""
    if isinstance(connection, _InlineConnection):
        return await connection.raw_rows(statement, params)
    if isinstance(connection, PooledConnection):
        return await connection.raw_rows(statement, params)
    if not isinstance(connection, AsyncConnection):
        raise TypeError("raw statements run on SQLite's inline connection or on PostgreSQL")
    return await _sqlalchemy_raw_rows(connection, statement, params)


async def _sqlalchemy_raw_rows(
    connection: AsyncConnection, statement: str, params: Sequence[Any]
) -> Rows:
    raw = await connection.get_raw_connection()
    # Inside `transaction()`, the adapter has not sent BEGIN yet: a raw statement would run
    # outside the transaction it was meant to be part of.
    if not getattr(raw.dbapi_connection, "autocommit", False):
        raise TypeError("raw statements run on PostgreSQL's autocommit connections only")
    driver: asyncpg.Connection = raw.driver_connection
    try:
        return await _fetch(driver, statement, params)
    except BaseException:
        if driver.is_closed():  # terminated by `_fetch`, or lost: never back to the pool
            await connection.invalidate()
        raise


async def _fetch(driver: asyncpg.Connection, statement: str, params: Sequence[Any]) -> Rows:
    """asyncpg's `fetch`, its errors raised as SQLAlchemy's, which taskapi.main answers; a
    connection that failed mid-statement is terminated (`_driver_errors`)."""
    try:
        with _driver_errors(statement, params, driver):
            rows: Rows = await driver.fetch(statement, *params)
    except asyncio.CancelledError:
        # Cancelled mid-statement (the client went away): its answer may still be on the wire.
        _terminate(driver)
        raise
    return rows


# What the driver raises when the connection itself failed rather than the statement: closed
# under us (InterfaceError), left mid-protocol by an earlier failure ("cannot switch to state
# 11; another operation is in progress": InternalClientError, which derives from Exception
# alone), the socket's errors, `command_timeout`.
DRIVER_FAILURES: tuple[type[Exception], ...] = (
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)


@contextmanager
def _driver_errors(
    statement: str, params: Sequence[Any] = (), driver: Any = None
) -> Iterator[None]:
    """asyncpg's errors raised as SQLAlchemy's: a server error as DBAPIError carrying it (its
    SQLSTATE says whose fault: taskapi.main, `rolled_back`), a failure of the connection
    (DRIVER_FAILURES) as an invalidated OperationalError (503, as SQLAlchemy's own lost
    connection). `driver`, when given, is terminated when anything but a server error leaves
    the block (a cancellation too): its protocol may be mid-operation, and its pool, which
    replaces a closed connection, must never hand it out again."""
    try:
        yield
    except asyncpg.PostgresError as error:
        # A connection the server closed (08xxx, 57P01 terminated by an administrator: a 503,
        # taskapi.main) is closed here too, and its pool replaces it when it comes back.
        raise DBAPIError(statement, params, error) from error
    except DRIVER_FAILURES as error:
        if driver is not None:
            _terminate(driver)
        raise OperationalError(statement, params, error, connection_invalidated=True) from error


def _terminate(driver: Any) -> None:
    """Close the connection now, without a word to the server. A pool's connection goes back
    to its pool as it closes, and asyncpg then refuses every call on it: once is enough."""
    with suppress(asyncpg.InterfaceError):
        driver.terminate()


class PooledConnection:
    """A request's PostgreSQL connection (`PostgresDatabase.connect`), each half taken at its
    first statement: raw statements (`raw_rows`) on a connection of asyncpg's own pool, with no
    SQLAlchemy pool checkout (its greenlet switches and bookkeeping were about 30% of a get);
    statements SQLAlchemy builds (`execute`, `scalar`) on a connection of the engine's pool. A
    request whose first statement is SQLAlchemy's (a filtered list, an edit) runs its raw ones
    on that same connection (its driver's), so it holds one connection; one that starts raw
    and then needs SQLAlchemy's (a toggle's 412, which reads the current task) holds one of
    each until it ends: pools are always taken in that order (driver, then engine), so no two
    requests can wait for each other's."""

    def __init__(self, database: PostgresDatabase, *, transaction: bool = False) -> None:
        self._database = database
        self.dialect: Dialect = database.engine.dialect
        self._driver: Any = None  # asyncpg's pool's connection (a proxy of asyncpg.Connection)
        self._sqlalchemy: AsyncConnection | None = None
        self._transaction = transaction  # inside asyncpg's transaction: raw statements only

    async def execute(self, statement: Executable, /) -> Result[Any]:
        return await (await self._engine_connection()).execute(statement)

    async def scalar(self, statement: Executable, /) -> Any:
        return await (await self._engine_connection()).scalar(statement)

    async def _engine_connection(self) -> AsyncConnection:
        if self._transaction:
            # Another connection: outside the transaction these statements belong to.
            raise TypeError("a raw transaction runs raw statements only")
        if self._sqlalchemy is None:
            self._sqlalchemy = await self._database.autocommit.connect()
        return self._sqlalchemy

    async def raw_rows(self, statement: str, params: Sequence[Any]) -> Rows:
        if self._driver is None and self._sqlalchemy is not None:
            return await _sqlalchemy_raw_rows(self._sqlalchemy, statement, params)
        return await _fetch(await self.driver(), statement, params)

    async def driver(self) -> Any:
        """This request's connection of the driver pool, taken now if not yet."""
        if self._driver is None:
            self._driver = await self._database.acquire_driver()
        return self._driver

    async def close(self) -> None:
        """Both connections back to their pools (a broken one is closed by its pool)."""
        try:
            if self._sqlalchemy is not None:
                await self._sqlalchemy.close()
        finally:
            if self._driver is not None:
                driver, self._driver = self._driver, None
                await self._database.release_driver(driver)


class PostgresDatabase:
    def __init__(self, database: DatabaseURL) -> None:
        self.engine = create_engine(database)
        self.autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # asyncpg's own pool for the raw statements (`PooledConnection`), opened at first use
        # (on the event loop that serves the requests) and closed by `dispose`.
        self._url = database
        self._driver_pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        # One connection of its own for the background work (the revocation poll,
        # taskapi.auth.revocation): in the requests' pool it waited behind them when all 32
        # were busy, and a process then went on accepting a purged account's writes.
        self._background_engine = create_engine(database, pool_size=1)
        self._background = self._background_engine.execution_options(isolation_level="AUTOCOMMIT")
        self.long_reads = PerPersonLimit(LONG_READS_PER_PERSON)
        self.list_totals: Memo[tuple[Any, ...], int] = Memo(LIST_TOTALS)
        self.list_matches: Memo[tuple[Any, ...], array[int]] = Memo(LIST_MATCHES)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        """Each statement its own transaction (`PooledConnection`: a connection taken at the
        first statement, from the pool its kind of statement runs on)."""
        connection = PooledConnection(self)
        try:
            yield connection
        finally:
            await connection.close()

    async def acquire_driver(self) -> Any:
        """A connection of asyncpg's pool (opening the pool at first use), within 3 s as the
        engine's pool (`pool_timeout`): TimeoutError, a 503, beyond. Connecting errors are
        raised as SQLAlchemy's would be (a refused or lost server: 503, taskapi.main)."""
        pool = self._driver_pool
        if pool is None:
            async with self._opening:
                if self._driver_pool is None:
                    self._driver_pool = await create_driver_pool(self._url)
                pool = self._driver_pool
        with _driver_errors("connect"):  # e.g. 53300 too many connections, 57P03 starting up
            return await pool.acquire(timeout=DRIVER_POOL_TIMEOUT_S)

    def driver_connections(self) -> int:
        """How many connections the driver pool has open (0 before its first use)."""
        return 0 if self._driver_pool is None else self._driver_pool.get_size()

    async def release_driver(self, driver: Any) -> None:
        if self._driver_pool is not None:
            await self._driver_pool.release(driver)

    @asynccontextmanager
    async def background(self) -> AsyncIterator[Connection]:
        """As `connect`, on a connection outside the requests' pool, never waiting behind them.
        For one background task (at most one user at a time: a second waits for the first)."""
        async with self._background.connect() as connection:
            yield connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """Statements that commit together, or not at all."""
        async with self.engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def raw_transaction(self) -> AsyncIterator[Connection]:
        """As `transaction`, for statements run by `raw_rows` only: a connection of the driver
        pool inside asyncpg's own transaction (BEGIN now, COMMIT at the end, ROLLBACK on any
        error; a COMMIT that fails, e.g. 40001, is raised as SQLAlchemy's DBAPIError)."""
        connection = PooledConnection(self, transaction=True)
        try:
            driver = await connection.driver()
            with _driver_errors("BEGIN/COMMIT", (), driver):
                async with driver.transaction():
                    yield connection
        finally:
            await connection.close()

    async def dispose(self) -> None:
        """Close both pools once their connections are back (the server has stopped taking
        requests when the lifespan ends); a connection still out after DRIVER_CLOSE_S is
        terminated."""
        pool, self._driver_pool = self._driver_pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), DRIVER_CLOSE_S)
            except TimeoutError:
                pool.terminate()
        await self.engine.dispose()
        await self._background_engine.dispose()


class SQLiteDatabase:
    def __init__(self, database: DatabaseURL) -> None:
        self.long_reads = PerPersonLimit(LONG_READS_PER_PERSON)
        self.list_totals: Memo[tuple[Any, ...], int] = Memo(LIST_TOTALS)
        self.list_matches: Memo[tuple[Any, ...], array[int]] = Memo(LIST_MATCHES)
        self.engine: Engine = sqlalchemy.create_engine(
            database.url.set(drivername="sqlite+pysqlite"),
            # One connection for the process: statements run one at a time on the loop's thread.
            poolclass=StaticPool,
            connect_args={**database.connect_args, "check_same_thread": False},
            isolation_level="AUTOCOMMIT",
        )
        _open_privately(self.engine, database)
        event.listen(self.engine, "connect", _tune_sqlite)
        event.listen(self.engine, "connect", _register_functions)
        event.listen(self.engine, "connect", _fail_when_busy)
        event.listen(self.engine, "connect", _gather_statistics)
        self._connection: _InlineConnection | None = None
        self.reader_engine: Engine = sqlalchemy.create_engine(
            database.url.set(drivername="sqlite+pysqlite"),
            pool_size=SQLITE_READERS,
            max_overflow=0,
            connect_args={**database.connect_args, "check_same_thread": False},
            isolation_level="AUTOCOMMIT",
        )
        _open_privately(self.reader_engine, database)
        event.listen(self.reader_engine, "connect", _tune_sqlite)
        event.listen(self.reader_engine, "connect", _register_functions)
        event.listen(self.reader_engine, "connect", _read_only)
        self.statement_budget = SQLITE_STATEMENT_BUDGET_S
        self._readers: asyncio.Queue[_ReaderConnection] = asyncio.Queue()
        self._opened: list[_ReaderConnection] = []

    def _inline(self) -> _InlineConnection:
        # Opened on first use and kept: checking a connection out of the pool for every
        # statement (and resetting its isolation level each time) was measurable on the list.
        if self._connection is None:
            self._connection = _InlineConnection(self.engine.connect())
        return self._connection

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        yield self._inline()

    @asynccontextmanager
    async def background(self) -> AsyncIterator[Connection]:
        """As `connect`: SQLite's one shared connection has no pool to wait for."""
        yield self._inline()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """Statements that commit together, on the same connection, between an explicit BEGIN
        IMMEDIATE (the write lock taken up front) and COMMIT. The block must only await this
        connection's statements: they never suspend, so no other request can slip in. Only the
        BEGIN waits for a lock another process holds (`when_unlocked`): it is awaited before the
        transaction starts, so other requests run meanwhile."""
        connection = self._inline()
        await when_unlocked(connection.begin_immediate)
        try:
            yield connection
            connection.run("COMMIT")
        except BaseException:
            # Never leave the shared connection inside a transaction, whatever failed.
            if connection.in_transaction():
                connection.run("ROLLBACK")
            raise

    def raw_transaction(self) -> AbstractAsyncContextManager[Connection]:
        """`transaction`: its statements, SQLAlchemy's or `raw_rows`', run on one connection."""
        return self.transaction()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        """A reader connection for statements that may run long: each runs on the reader's own
        thread, and one still running after `statement_budget` seconds is interrupted
        (`StatementTimeout`). Reads only (`PRAGMA query_only`)."""
        if self._readers.empty() and len(self._opened) < SQLITE_READERS:
            self._opened.append(_ReaderConnection(self.reader_engine.connect(), self))
            self._readers.put_nowait(self._opened[-1])
        reader = await self._readers.get()
        try:
            yield reader
        finally:
            self._readers.put_nowait(reader)

    async def dispose(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        for reader in self._opened:
            reader.close()
        self._opened.clear()
        self._readers = asyncio.Queue()
        self.engine.dispose()
        self.reader_engine.dispose()


def runs_raw(connection: Connection) -> bool:
    """Whether `raw_rows` runs on `connection`: SQLite's shared connection or a PostgreSQL
    request's (not a SQLite reader, nor one inside SQLAlchemy's `transaction`)."""
    return isinstance(connection, _InlineConnection | PooledConnection)


def sees_one_state(connection: Connection) -> bool:
    """Whether consecutive statements on `connection` see the database as no other request of
    this process changed it in between: SQLite's shared connection, whose statements run to
    completion without suspending (`_InlineConnection`), so no other request runs between two
    of them; not a reader nor a PostgreSQL connection, where other writes commit meanwhile."""
    return isinstance(connection, _InlineConnection)


class _InlineConnection:
    """Statements run to completion on the calling thread, their rows fetched whole: a
    RETURNING statement is not finished (nor its write committed) until its rows are read."""

    def __init__(self, connection: sqlalchemy.Connection) -> None:
        self._connection = connection
        self.dialect = connection.dialect
        self._dbapi: sqlite3.Connection = connection.connection.dbapi_connection  # type: ignore[assignment]

    async def execute(self, statement: Executable, /) -> Result[Any]:
        return await self._unless_busy(lambda: self._execute(statement))

    async def scalar(self, statement: Executable, /) -> Any:
        return await self._unless_busy(lambda: self._connection.scalar(statement))

    async def raw_rows(self, sql: str, params: Sequence[Any]) -> Rows:
        """`raw_rows` on this connection: sqlite3's own cursor (which keeps the prepared
        statement in its cache), its errors raised as SQLAlchemy's."""

        def fetch() -> Rows:
            try:
                return self._dbapi.execute(sql, params).fetchall()
            except sqlite3.Error as error:
                raise DBAPIError.instance(sql, params, error, sqlite3.Error) from error

        return await self._unless_busy(fetch)

    async def _unless_busy(self, run: Callable[[], T]) -> T:
        try:
            return run()
        except OperationalError as error:
            # Inside a transaction, the write lock is already ours (BEGIN IMMEDIATE), and
            # waiting would let another request's statements into it: such an error is raised.
            if not is_busy(error) or self.in_transaction():
                raise

        # Outside one, a statement that found the lock taken did nothing: it is tried again.
        async def attempt() -> T:
            return run()

        return await when_unlocked(attempt)

    def _execute(self, statement: Executable) -> Result[Any]:
        result = self._connection.execute(statement)
        return result.freeze()() if result.returns_rows else result

    async def begin_immediate(self) -> None:
        self.run("BEGIN IMMEDIATE")

    def run(self, sql: str) -> None:
        """A statement without parameters or rows (BEGIN, COMMIT, ROLLBACK), sent by sqlite3
        itself: through SQLAlchemy's `exec_driver_sql` each cost more than SQLite's own work
        for it, a fifth of a create's CPU (docs/performance.md §12). Errors are raised as
        SQLAlchemy's, as before (`is_busy`, taskapi.main's 503)."""
        try:
            self._dbapi.execute(sql)
        except sqlite3.Error as error:
            raise DBAPIError.instance(sql, (), error, sqlite3.Error) from error

    def in_transaction(self) -> bool:
        # What SQLite itself says, not SQLAlchemy (which sees an autocommit connection).
        return self._dbapi.in_transaction

    def close(self) -> None:
        self._connection.close()


class _ReaderConnection:
    """Statements run on this connection's own thread, one at a time, each within the budget."""

    def __init__(self, connection: sqlalchemy.Connection, owner: SQLiteDatabase) -> None:
        self._connection = connection
        self._owner = owner
        self._sqlite: Any = connection.connection.dbapi_connection
        # One thread per connection: a statement abandoned by a cancelled request still finishes
        # (or is interrupted) before the next one starts on this connection.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
        self.dialect = connection.dialect

    async def execute(self, statement: Executable, /) -> Result[Any]:
        return await self._run(statement)

    async def scalar(self, statement: Executable, /) -> Any:
        return (await self._run(statement)).scalar()

    async def _run(self, statement: Executable) -> Result[Any]:
        loop = asyncio.get_running_loop()
        # sqlite3_interrupt may be called from any thread; one that comes after the statement
        # ended is forgotten when the next statement starts.
        deadline = loop.call_later(self._owner.statement_budget, self._sqlite.interrupt)
        done = loop.run_in_executor(self._thread, self._fetch_all, statement)
        try:
            return await done
        except OperationalError as error:
            if "interrupted" in str(error.orig):
                raise StatementTimeout from None
            raise
        except asyncio.CancelledError:
            self._sqlite.interrupt()  # nobody is waiting for it any more
            raise
        finally:
            deadline.cancel()

    def _fetch_all(self, statement: Executable) -> Result[Any]:
        return self._connection.execute(statement).freeze()()

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._connection.close()


def _open_privately(engine: Engine, database: DatabaseURL) -> None:
    """Before every connection SQLite opens, the database file exists with mode 0600 (made so,
    or tightened): tasks are private, and SQLite would otherwise create it 0644 under the
    usual umask (taskapi.private_files)."""
    path = sqlite_path(database.url)
    if path is None:
        return

    def before_connect(*_args: Any) -> None:
        make_private(path)

    event.listen(engine, "do_connect", before_connect)


def _gather_statistics(dbapi_connection: Any, _record: Any) -> None:
    """Table statistics for SQLite's query planner, once when the server opens the database
    (PostgreSQL's autovacuum keeps its own). Without them SQLite guessed badly for filtered
    lists of a user with 100,000 tasks: it read all of them to count 20 search matches (6 ms
    instead of 0.07) and sorted 50,000 to show 50 overdue ones (23 ms instead of 0.14).
    `analysis_limit` samples each index, so this stays a few milliseconds however big the
    database grows. ANALYZE writes (sqlite_stat1): with the write lock held by another process
    it is left out, rather than waited for on the event loop; the planner then guesses."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
    finally:
        cursor.close()


def _register_functions(dbapi_connection: Any, _record: Any) -> None:
    # lower() as PostgreSQL's, for every script: sorting by title, short searches, the index.
    casefold.register(dbapi_connection)


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    # A reader can never write: an interrupted statement leaves nothing half done.
    dbapi_connection.execute("PRAGMA query_only=1")


def _fail_when_busy(dbapi_connection: Any, _record: Any) -> None:
    # The connection the event loop uses never sleeps for a lock: taskapi.sqlite_busy waits.
    dbapi_connection.execute("PRAGMA busy_timeout=0")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; busy_timeout waits for a lock instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
