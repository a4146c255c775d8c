"""Searching and sorting ignore case in every script, with the same answers on SQLite as on
PostgreSQL (its `lower()` on a C.UTF-8 database, which is what production and these tests use).

The expected values are PostgreSQL's own answers: `ILIKE` and `ORDER BY lower(title)` on these
titles. One and two characters go through `lower(…) LIKE` on SQLite, three or more through its
trigram index; both are checked.
"""

# Letters that look Latin but are not are the point of these tests.
# ruff: noqa: RUF001

from __future__ import annotations

import sys

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from taskapi.casefold import pg_lower
from tests.api.test_organising import titles
from tests.api.test_tasks import create
from tests.keys import bearer

pytestmark = pytest.mark.anyio

TITLES = [
    "Россия",
    "Ägypten",
    "École",
    "Émile",
    "élan",
    "ΟΔΟΣ",
    "Οδός",
    "Հայաստան",  # Armenian
    "ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ",  # Georgian capitals (Mtavruli), lower case since Unicode 11
    "ᏣᎳᎩ",  # Cherokee, lower case since Unicode 8
    "İstanbul",
    "ǅemal",  # a title-case digraph
    "Straße",
    "zebra",
    "Apple",
]

SEARCHES = [
    # one and two characters: lower(…) LIKE lower(…)
    ("ро", ["Россия"]),
    ("äg", ["Ägypten"]),
    ("éc", ["École"]),
    ("É", ["École", "Émile", "élan"]),
    ("οσ", ["ΟΔΟΣ"]),
    ("ος", []),  # final sigma is not sigma to PostgreSQL's lower()
    ("այ", ["Հայաստան"]),
    ("ქა", ["ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ"]),
    ("Ꮳ", ["ᏣᎳᎩ"]),
    ("i", ["Émile", "İstanbul"]),
    ("ǆe", ["ǅemal"]),
    ("SS", []),  # ß is one letter; lower() does not expand it
    ("ẞ", ["Straße"]),
    ("e", ["Ägypten", "École", "Émile", "ǅemal", "Straße", "zebra", "Apple"]),
    # three or more: the trigram index
    ("РОС", ["Россия"]),
    ("ÄGYPT", ["Ägypten"]),
    ("ÉCOLE", ["École"]),
    ("δοσ", ["ΟΔΟΣ"]),
    ("δος", []),
    ("ΟΔΌ", ["Οδός"]),
    ("ՀԱՅ", ["Հայաստան"]),
    ("საქ", ["ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ"]),
    ("ꮳꮃꭹ", ["ᏣᎳᎩ"]),
    ("İST", ["İstanbul"]),
    ("ist", ["İstanbul"]),
    ("STRASSE", []),
    ("ǅEM", ["ǅemal"]),
]

BY_TITLE = [
    "Apple",
    "İstanbul",
    "Straße",
    "zebra",
    "Ägypten",
    "École",
    "élan",
    "Émile",
    "ǅemal",
    "ΟΔΟΣ",
    "Οδός",
    "Россия",
    "Հայաստան",
    "ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ",
    "ᏣᎳᎩ",
]


@pytest.fixture
async def stored(client: httpx.AsyncClient) -> httpx.AsyncClient:
    for title in TITLES:
        await create(client, title)
    await create(client, "Россия Ägypten École", sub="bob")  # another's: never found
    return client


@pytest.mark.parametrize(("query", "expected"), SEARCHES)
async def test_search_ignores_case_in_every_script(
    stored: httpx.AsyncClient, query: str, expected: list[str]
) -> None:
    found = await titles(stored, f"sort=created&order=asc&{httpx.QueryParams(q=query)}")
    assert found == expected


async def test_search_finds_the_description_in_every_script(client: httpx.AsyncClient) -> None:
    await create(client, "a", description="Встреча в ΑΘΗΝΑ")
    await create(client, "b", description="встреча")
    assert await titles(client, "sort=created&order=asc&q=ВСТРЕЧА") == ["a", "b"]
    assert await titles(client, "q=αθ") == ["a"]
    assert await titles(client, "q=θην") == ["a"]


async def test_search_follows_a_renamed_title_in_every_script(client: httpx.AsyncClient) -> None:
    task = await create(client, "ΑΘΗΝΑ")
    await client.patch(
        f"/api/alice/tasks/{task['id']}",
        json={"title": "МОСКВА"},
        headers=bearer(),
    )
    assert await titles(client, "q=αθή") == []
    assert await titles(client, "q=моск") == ["МОСКВА"]


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_sorting_by_title_ignores_case_in_every_script(
    stored: httpx.AsyncClient, order: str
) -> None:
    listed = await titles(stored, f"sort=title&order={order}")
    assert listed == (BY_TITLE if order == "asc" else BY_TITLE[::-1])


async def test_lower_in_sql_is_postgresqls_on_either_database(app: FastAPI) -> None:
    async with app.state.database.connect() as connection:
        lowered = await connection.scalar(text("SELECT lower('ÄΣ ΟΔΟΣ İ ᲡᲐ Ꮳ ǅ')"))
    assert lowered == "äσ οδοσ i სა ꮳ ǆ"


CHUNK = 65_536


@pytest.mark.postgresql
async def test_the_sqlite_fold_is_postgresqls_lower_for_every_character(app: FastAPI) -> None:
    code_points = [cp for cp in range(1, sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    lower_each = text("SELECT cp, lower(chr(cp)) FROM unnest(CAST(:cps AS int[])) AS cp")
    differences = []
    async with app.state.database.connect() as connection:
        for start in range(0, len(code_points), CHUNK):  # each well within the statement timeout
            rows = await connection.execute(
                lower_each.bindparams(cps=code_points[start : start + CHUNK])
            )
            differences += [(hex(cp), low) for cp, low in rows if pg_lower(chr(cp)) != low]
    assert differences == []
