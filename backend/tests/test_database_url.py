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


def test_application_name_goes_to_the_server_as_a_startup_parameter() -> None:
    parsed = parse_database_url("postgresql://u@h/db?application_name=taskapi&sslmode=disable")
    assert dict(parsed.url.query) == {}  # asyncpg.connect takes no application_name argument
    assert parsed.connect_args == {
        "ssl": "disable",
        "server_settings": {"application_name": "taskapi"},
    }


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://u@h/db?sslmode=sometimes", "sslmode"),
        ("postgresql://u@h/db?pgbouncer=yes", "pgbouncer=true or false"),
        ("postgresql://u@h/db?statement_timeout=5000", "'statement_timeout', which is not"),
        ("postgresql://u@h/db?options=-c%20jit%3Doff", "'options', which is not supported"),
        ("postgresql://u@h/db?application_name=a&application_name=b", "more than once"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://root@localhost/test", "not supported"),
        ("not a url", "not a database URL"),
    ],
)
def test_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_database_url(url)


NEON_POOLED = "postgresql://o:pw@ep-cool-1-pooler.eu-central-1.aws.neon.tech/neondb"
NEON_DIRECT = "postgresql://o:pw@ep-cool-1.eu-central-1.aws.neon.tech/neondb"


@pytest.mark.parametrize(
    "url",
    [
        # Neon's pooled connection string as its console gives it, and other regions/clouds.
        f"{NEON_POOLED}?sslmode=require&channel_binding=require",
        "postgresql://o@ep-x-2-pooler.c-2.us-east-2.aws.neon.tech/db",
        "postgresql://o@EP-X-2-POOLER.eastus2.azure.neon.tech./db",
        # Supabase's pooler on its transaction-mode port.
        "postgresql://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
        # Said in the URL, as Prisma and Supabase write it.
        "postgresql://u@pgbouncer.internal:6432/db?pgbouncer=true",
        "postgresql://u@h/db?pgbouncer=TRUE&sslmode=require",
    ],
)
def test_transaction_poolers_are_recognised(url: str) -> None:
    parsed = parse_database_url(url)
    assert parsed.transaction_pooler
    assert "pgbouncer" not in parsed.url.query  # asyncpg would take it for an argument


@pytest.mark.parametrize(
    "url",
    [
        NEON_DIRECT,
        "postgresql://u@127.0.0.1:5432/db",
        # Supabase's pooler on port 5432 is in session mode: prepared statements work there.
        "postgresql://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
        # Only Neon's own hosts are taken at their word.
        "postgresql://u@db-pooler.example.com/db",
        "postgresql://u@ep-x-pooler.neon.tech.example.com/db",
        # The URL's own flag wins over the host.
        f"{NEON_POOLED}?pgbouncer=false",
    ],
)
def test_direct_connections_are_recognised(url: str) -> None:
    assert not parse_database_url(url).transaction_pooler


def test_the_setting_wins_over_the_url_and_the_host() -> None:
    assert parse_database_url(NEON_DIRECT, "transaction").transaction_pooler
    assert not parse_database_url(NEON_POOLED, "none").transaction_pooler
    flagged = parse_database_url("postgresql://u@h/db?pgbouncer=true", "none")
    assert not flagged.transaction_pooler
    assert "pgbouncer" not in flagged.url.query


def test_sqlite_is_never_behind_a_pooler() -> None:
    assert not parse_database_url("sqlite:///tasks.db").transaction_pooler
