"""Turn a DATABASE_URL as people write it into what the async drivers need.

People (and Neon's console) write `postgresql://user:pw@host/db?sslmode=require`; asyncpg takes
no `sslmode` in the URL but an `ssl` argument, and SQLAlchemy needs the `+asyncpg` driver name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
# libpq parameters that asyncpg does not understand and that carry no meaning for it.
_LIBPQ_ONLY = {"channel_binding", "gssencmode", "target_session_attrs"}


@dataclass(frozen=True)
class DatabaseURL:
    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def parse_database_url(raw: str) -> DatabaseURL:
    """Raise ValueError (with the reason) for anything but a file SQLite or a PostgreSQL URL."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise ValueError(
            "is not a database URL; use sqlite:///path/to/file.db or postgresql://user@host/db"
        ) from None

    if url.drivername in _SQLITE_SCHEMES:
        if not url.database or url.database == ":memory:":
            # Each pooled connection would get its own empty in-memory database.
            raise ValueError("must name an SQLite file (sqlite:///tasks.db), not an in-memory one")
        return DatabaseURL(url.set(drivername="sqlite+aiosqlite"))

    if url.drivername in _POSTGRES_SCHEMES:
        query = dict(url.query)
        connect_args: dict[str, Any] = {}
        sslmode = query.pop("sslmode", None)
        if sslmode is not None:
            if not isinstance(sslmode, str) or sslmode not in _SSL_MODES:
                raise ValueError(f"has an unknown sslmode; use one of {sorted(_SSL_MODES)}")
            connect_args["ssl"] = sslmode
        for name in _LIBPQ_ONLY:
            query.pop(name, None)
        return DatabaseURL(
            url.set(drivername="postgresql+asyncpg", query=query), connect_args=connect_args
        )

    raise ValueError(
        f"uses {url.drivername!r}, which is not supported; use sqlite:///file.db or postgresql://…"
    )
