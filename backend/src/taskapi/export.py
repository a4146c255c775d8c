"""A person's every task, read a batch at a time and written out as JSON or CSV as it is read,
so that the server holds one batch (`BATCH` tasks), never the whole list.

Batches are keyset pages (Markus Winand, "Paging Through Results", use-the-index-luke.com):
each starts after the last task of the one before in `(created_at, id)` order, which is the
index `ix_tasks_user_id_created_at` read in order, so every batch costs the same however far
into the list it is. Each batch is one statement of its own (its own transaction, a connection
held for its length only): nothing is held open between batches, which is what a
transaction-mode pooler (PgBouncer) requires, and a slow download never pins a connection.

Consistency: not a snapshot. A task that exists for the whole export appears exactly once
(`created_at` never changes, so no change moves a task across the cursor); one created during
the export appears at the end; one changed during it appears as it was when its batch was
read; one deleted during it may be missing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, cast

from pydantic import TypeAdapter
from sqlalchemy import RowMapping, select, tuple_
from typing_extensions import TypedDict

from taskapi.db import Connection
from taskapi.tasks import columns

BATCH = 1000  # tasks a statement reads: at most about 1.5 MB of text (200 + 1,000 characters each)


class ExportedTask(TypedDict):
    """One task as exported: every field of `TaskPublic` but `user_id` (the path's)."""

    id: int
    title: str
    description: str | None
    completed: bool
    priority: str
    tags: list[str]
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


FIELDS: tuple[str, ...] = tuple(ExportedTask.__annotations__)
EXPORTED_COLUMNS = [columns[name] for name in FIELDS]
ONE = TypeAdapter(ExportedTask)
MANY = TypeAdapter(list[ExportedTask])

Batch = Sequence[RowMapping]
Connect = Callable[[], AbstractAsyncContextManager[Connection]]


async def read_batch(
    connection: Connection, owner: str, after: tuple[datetime, int] | None
) -> Batch:
    """Up to `BATCH` of the owner's tasks, oldest first, after the task `after` names
    (`(created_at, id)` of the last one read), or from the first when it is None."""
    statement = select(*EXPORTED_COLUMNS).where(columns.user_id == owner)
    if after is not None:
        # A row value comparison (SQL-92; SQLite 3.15+): reads the index from that point on.
        statement = statement.where(tuple_(columns.created_at, columns.id) > tuple_(*after))
    statement = statement.order_by(columns.created_at, columns.id).limit(BATCH)
    return (await connection.execute(statement)).mappings().all()


async def batches(connect: Connect, owner: str, first: Batch) -> AsyncIterator[Batch]:
    """`first` (already read, so that a database that is down is a 503 before the answer
    starts), then every further batch, each read on a connection of its own from `connect`."""
    batch = first
    while batch:
        yield batch
        if len(batch) < BATCH:
            return
        last = batch[-1]
        async with connect() as connection:
            batch = await read_batch(connection, owner, (last["created_at"], last["id"]))


async def as_json(tasks: AsyncIterator[Batch]) -> AsyncIterator[bytes]:
    """One JSON array (RFC 8259) of `ExportedTask` objects, in the task API's own form (the
    same dates, the same field names), written a batch at a time."""
    yield b"["
    separator = b""
    async for batch in tasks:
        yield separator + MANY.dump_json([_exported(row) for row in batch])[1:-1]
        separator = b","
    yield b"]"


# OWASP, "CSV Injection" (owasp.org/www-community/attacks/CSV_Injection): a spreadsheet reads a
# cell that starts with one of these as a formula, which can run commands or send data away.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """`text`, with an apostrophe (') put before it when it starts as a formula would: a
    spreadsheet then shows it as text, and the apostrophe itself is not shown (OWASP's
    advice). A reader of the file that is not a spreadsheet removes that one apostrophe from
    cells starting with an apostrophe and then one of `FORMULA_STARTS`."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


async def as_csv(tasks: AsyncIterator[Batch]) -> AsyncIterator[bytes]:
    """CSV (RFC 4180) in UTF-8: a header row of `FIELDS`, then one row per task; lines end in
    CRLF; a cell with a comma, a quote or a line break is quoted, and its quotes doubled.
    Each cell is the field's JSON value as text: `true`/`false`, dates in ISO 8601 as in the
    JSON export, no due date or no description an empty cell. Tags are one cell holding a JSON
    array (`["work","home, garden"]`): a tag may itself hold commas, spaces or line breaks, so
    no separator would be unambiguous. Title and description are `neutralised`."""
    yield _csv_rows([FIELDS])
    async for batch in tasks:
        yield _csv_rows(_cells(ONE.dump_python(_exported(row), mode="json")) for row in batch)


def _csv_rows(rows: Any) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def _cells(task: dict[str, Any]) -> list[str]:
    return [
        str(task["id"]),
        neutralised(task["title"]),
        "" if task["description"] is None else neutralised(task["description"]),
        "true" if task["completed"] else "false",
        task["priority"],
        json.dumps(task["tags"], ensure_ascii=False, separators=(",", ":")),
        task["due_at"] or "",
        task["created_at"],
        task["updated_at"],
        str(task["version"]),
    ]


def _exported(row: RowMapping) -> ExportedTask:
    return cast(ExportedTask, dict(row))  # a row of exactly `EXPORTED_COLUMNS`


FORMATS: dict[str, tuple[str, Callable[[AsyncIterator[Batch]], AsyncIterator[bytes]]]] = {
    "json": ("application/json", as_json),
    "csv": ("text/csv; charset=utf-8", as_csv),
}
