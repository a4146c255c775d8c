"""The concurrency model (tests/reliability/model.py) against one server, and on PostgreSQL
against two server processes sharing the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.keys import SECRET
from tests.live import serving
from tests.reliability.model import run_model

pytestmark = pytest.mark.anyio


async def test_concurrent_writers_lose_nothing_and_duplicate_nothing(
    tmp_path: Path, fresh_database: str
) -> None:
    with serving(tmp_path, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=fresh_database) as base:
        outcome = await run_model([base])
    assert outcome.bad_statuses == []
    assert outcome.mismatches == []
    assert outcome.requests > 700
    assert outcome.conflicts > 0  # the writers did race each other


@pytest.mark.postgresql
async def test_two_server_processes_on_one_database_lose_nothing(
    tmp_path: Path, fresh_database: str
) -> None:
    env = {"BETTER_AUTH_SECRET": SECRET, "DATABASE_URL": fresh_database}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with serving(tmp_path / "a", **env) as first, serving(tmp_path / "b", **env) as second:
        outcome = await run_model([first, second], seed=2)
    assert outcome.bad_statuses == []
    assert outcome.mismatches == []
    assert outcome.conflicts > 0
