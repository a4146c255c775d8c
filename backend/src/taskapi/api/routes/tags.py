"""The tags a person uses, with how many tasks carry each: what the UI offers as filters."""

from __future__ import annotations

from fastapi import APIRouter

from taskapi import tasks
from taskapi.api.deps import DatabaseDep, OwnerId
from taskapi.api.routes.tasks import AUTH_ANSWERS, LONG_READ_ANSWERS, long_read
from taskapi.models import TagCount

router = APIRouter(prefix="/api/{user_id}/tags", tags=["tags"], responses=AUTH_ANSWERS)


@router.get(
    "",
    response_model=list[TagCount],
    responses=LONG_READ_ANSWERS,
    summary="List tags, the most used first",
)
async def list_tags(owner: OwnerId, database: DatabaseDep) -> list[TagCount]:
    # Groups every tag the person uses: off the event loop on SQLite.
    async with long_read(database, owner) as connection:
        return [TagCount(**row) for row in await tasks.tag_counts(connection, owner)]
