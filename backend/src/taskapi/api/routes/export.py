"""Download my data: every task of the person as one JSON or CSV file, streamed (taskapi.export)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from taskapi import export
from taskapi.api.deps import DatabaseDep, OwnerId
from taskapi.api.routes.tasks import AUTH_ANSWERS, LONG_READ_ANSWERS, long_read
from taskapi.db import PostgresDatabase, SQLiteDatabase

# Not under /tasks: there `/tasks/{task_id}` would take "export" for an id, and PUT or DELETE on
# it would be a 422 about the id rather than a 405. The web app forwards this path on its own.
router = APIRouter(prefix="/api/{user_id}", tags=["tasks"], responses=AUTH_ANSWERS)

ExportFormat = Literal["json", "csv"]

EXAMPLE_CSV = (
    "id,title,description,completed,priority,tags,due_at,created_at,updated_at,version\r\n"
    '7,\'=1+1,"Milk, eggs",false,high,"[""shopping""]",,2026-12-01T09:00:00Z,'
    "2026-12-01T09:00:00Z,1\r\n"
)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses=LONG_READ_ANSWERS
    | {
        200: {
            "description": "Every task, oldest first, as a file to save (Content-Disposition: "
            "attachment)",
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "text/csv": {"schema": {"type": "string"}, "example": EXAMPLE_CSV},
            },
        }
    },
    summary="Download every task, as JSON or CSV",
    description="Every field of every task, oldest first, streamed a batch at a time. JSON: "
    "an array of tasks as the other endpoints return them, without `user_id`. CSV (RFC 4180, "
    "UTF-8, CRLF): a header row, then a row per task; tags are one cell holding a JSON array; "
    "a title or description that starts with = + - @, a tab or a carriage return gets an "
    "apostrophe in front (OWASP, CSV Injection), so that a spreadsheet shows it as text.",
)
async def export_tasks(
    owner: OwnerId,
    database: DatabaseDep,
    file_format: Annotated[ExportFormat, Query(alias="format")] = "json",
) -> StreamingResponse:
    # The first batch is read before the answer starts, so that a database that is down or a
    # person with too many long reads running gets a status (503, 429) rather than a cut file.
    async with long_read(database, owner) as connection:
        first = await export.read_batch(connection, owner, None)
    media_type, encode = export.FORMATS[file_format]
    filename = f"tasks-{datetime.now(UTC):%Y-%m-%d}.{file_format}"
    return StreamingResponse(
        encode(export.batches(_batch_connection(database), owner, first)),
        media_type=media_type,
        headers={
            # RFC 6266 §4: a file to save, under this name (ASCII, so no filename* is needed).
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",  # a person's tasks: never kept by a shared cache
        },
    )


def _batch_connection(database: PostgresDatabase | SQLiteDatabase) -> export.Connect:
    """Where each further batch is read: on SQLite a reader, off the event loop (taskapi.db);
    on PostgreSQL a pooled connection, for the one statement."""
    return database.read if isinstance(database, SQLiteDatabase) else database.connect
