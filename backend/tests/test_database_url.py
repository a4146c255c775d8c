"""DATABASE_URL as people write it, turned into what the async drivers need."""

from __future__ import annotations

import pytest

from taskapi.database_url import parse_database_url


def test_sqlite_file_gets_the_async_driver() -> None:
    parsed = parse_database_url("sqlite:///data/tasks.db")
    assert parsed.is_sqlite
    assert parsed.url.drivername == "sqlite+aiosqlite"
    assert parsed.url.database == "data/tasks.db"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+asyncpg"])
def test_postgres_gets_asyncpg(scheme: str) -> None:
    parsed = parse_database_url(f"{scheme}://u:p@db.example:5433/tasks")
    assert not parsed.is_sqlite
    assert parsed.url.drivername == "postgresql+asyncpg"
    assert (parsed.url.host, parsed.url.port, parsed.url.database) == ("db.example", 5433, "tasks")
    assert parsed.url.password == "p"
    assert parsed.connect_args == {}


def test_neon_form_with_sslmode_and_channel_binding() -> None:
    parsed = parse_database_url(
        "postgresql://neondb_owner:pw@ep-cool-1.eu-central-1.aws.neon.tech/neondb"
        "?sslmode=require&channel_binding=require"
    )
    assert parsed.connect_args == {"ssl": "require"}
    assert dict(parsed.url.query) == {}  # asyncpg would refuse both in the URL


def test_other_query_parameters_are_kept() -> None:
    parsed = parse_database_url("postgresql://u@h/db?application_name=taskapi&sslmode=disable")
    assert dict(parsed.url.query) == {"application_name": "taskapi"}
    assert parsed.connect_args == {"ssl": "disable"}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://u@h/db?sslmode=sometimes", "sslmode"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://root@localhost/test", "not supported"),
        ("not a url", "not a database URL"),
    ],
)
def test_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_database_url(url)
