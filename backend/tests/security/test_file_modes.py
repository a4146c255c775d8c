"""The tasks database is for its owner only: another account on the machine cannot read it.

SQLite creates a database file with mode 0644 under the usual umask (022); every file here must
be 0600 instead: the database, made so from its first moment, and its -wal and -shm files.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskapi import migrate
from taskapi.database_url import parse_database_url
from taskapi.db import SQLiteDatabase, open_database
from tests.keys import SECRET
from tests.live import run_taskapi, serving

OWNER_ONLY = 0o600


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """022, as on most machines (this process's, and so the servers' it starts)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(folder: Path) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}


def test_a_served_database_and_its_side_files_are_for_the_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'taskapi.db'}"
    with serving(tmp_path, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=url) as base:
        token = run_taskapi(tmp_path, "token", "--sub", "ann", BETTER_AUTH_SECRET=SECRET)
        created = httpx.post(
            f"{base}/api/ann/tasks",
            json={"title": "private"},
            headers={"Authorization": f"Bearer {token.stdout.strip()}"},
        )
        assert created.status_code == 201
        # While the server holds the database open in WAL mode, its side files exist.
        found = modes(data)
    assert {"taskapi.db", "taskapi.db-wal", "taskapi.db-shm"} <= set(found)
    assert found == dict.fromkeys(found, OWNER_ONLY)


def test_an_open_database_and_its_side_files_are_tightened_with_a_message(
    tmp_path: Path,
) -> None:
    path = tmp_path / "taskapi.db"
    # Made by an older version (or copied in) under umask 022: 0644, as are its WAL files,
    # which exist while this connection is open.
    older = sqlite3.connect(path)
    try:
        older.execute("PRAGMA journal_mode=WAL")
        older.execute("CREATE TABLE kept (x)")
        older.commit()
        assert set(modes(tmp_path).values()) == {0o644}

        result = run_taskapi(
            tmp_path, "migrate", BETTER_AUTH_SECRET=SECRET, DATABASE_URL=f"sqlite:///{path}"
        )
        assert result.returncode == 0, result.stderr
        found = modes(tmp_path)
    finally:
        older.close()
    assert found == dict.fromkeys(["taskapi.db", "taskapi.db-wal", "taskapi.db-shm"], OWNER_ONLY)
    warnings = result.stderr.strip().splitlines()
    assert len(warnings) == 3, result.stderr
    names = ("taskapi.db", "taskapi.db-wal", "taskapi.db-shm")
    for line, name in zip(warnings, names, strict=True):
        assert line.startswith(f"taskapi: {tmp_path / name} was open to other accounts (0644)")
        assert line.endswith("it is now 0600, for its owner only")


def _migrate(url: str) -> None:
    migrate.upgrade(url)


def _open_for_requests(url: str) -> None:
    database = open_database(parse_database_url(url))
    assert isinstance(database, SQLiteDatabase)
    for engine in (database.engine, database.reader_engine):
        with engine.connect():
            pass
        engine.dispose()


@pytest.mark.parametrize("opener", [_migrate, _open_for_requests], ids=["migrations", "requests"])
@pytest.mark.parametrize("form", ["path", "uri"])
def test_the_file_is_0600_before_sqlite_opens_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    opener: Callable[[str], None],
    form: str,
) -> None:
    """No moment in which the new file is readable by others: it exists, 0600, before SQLite
    opens it, even under a umask that takes nothing away."""
    os.umask(0)
    path = tmp_path / "taskapi.db"
    url = f"sqlite:///{path}" if form == "path" else f"sqlite:///file:{path}?uri=true"
    seen: list[int | None] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        seen.append(stat.S_IMODE(path.stat().st_mode) if path.exists() else None)
        return real_connect(*args, **kwargs)

    # aiosqlite (migrations) calls sqlite3.connect; SQLAlchemy's pysqlite, sqlite3.dbapi2's.
    monkeypatch.setattr(sqlite3, "connect", connect)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", connect)
    opener(url)
    assert seen, "SQLite was never opened"
    assert seen == [OWNER_ONLY] * len(seen)
    assert modes(tmp_path) == {"taskapi.db": OWNER_ONLY}
