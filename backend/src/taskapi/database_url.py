"""Turn a DATABASE_URL as people write it into what the async drivers need.

People (and Neon's console) write `postgresql://user:pw@host/db?sslmode=require`; asyncpg takes
no `sslmode` in the URL but an `ssl` argument, and SQLAlchemy needs the `+asyncpg` driver name.

It also says whether the URL leads to a transaction-mode connection pooler (PgBouncer with
`pool_mode = transaction`, Neon's pooled endpoints, Supabase's port 6543): there, consecutive
statements of one client connection may run on different server connections, so the driver must
not rely on prepared statements it made earlier (taskapi.db turns them off). Direct connections
keep them: the pooler setting costs each statement a parse. Chosen, in order:
1. `DATABASE_POOLER=transaction` or `none` (taskapi.config), when set;
2. `pgbouncer=true` or `false` in the URL's query (the flag Prisma and Supabase document);
3. the host: a Neon endpoint whose first label ends in `-pooler` (Neon's docs, "Connection
   pooling"), or Supabase's `*.pooler.supabase.com` on port 6543 (its transaction mode);
4. otherwise a direct connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

_POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg"}
_SQLITE_SCHEMES = {"sqlite", "sqlite+aiosqlite"}
_SSL_MODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
# libpq parameters that asyncpg does not understand and that carry no meaning for it.
_LIBPQ_ONLY = {"channel_binding", "gssencmode", "target_session_attrs"}

Pooler = Literal["auto", "transaction", "none"]
POOLER_FLAG = "pgbouncer"
_FLAG_VALUES = {"true": True, "false": False}
SUPABASE_TRANSACTION_PORT = 6543


@dataclass(frozen=True)
class DatabaseURL:
    url: URL
    connect_args: dict[str, Any] = field(default_factory=dict)
    # Behind a transaction-mode pooler: no prepared statement may outlive its own statement.
    transaction_pooler: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"


def parse_database_url(raw: str, pooler: Pooler = "auto") -> DatabaseURL:
    """Raise ValueError (with the reason) for anything but a file SQLite or a PostgreSQL URL.
    `pooler` is DATABASE_POOLER: "auto" looks at the URL (see the module's docstring)."""
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
        # Popped whatever DATABASE_POOLER says: asyncpg would take it for an argument of its own.
        flag = query.pop(POOLER_FLAG, None)
        if flag is not None and (not isinstance(flag, str) or flag.lower() not in _FLAG_VALUES):
            raise ValueError(
                f"has an unknown {POOLER_FLAG}= value; use {POOLER_FLAG}=true or false"
            )
        if pooler == "auto":
            pooled = _FLAG_VALUES[flag.lower()] if flag is not None else is_pooler_host(url)
        else:
            pooled = pooler == "transaction"
        connect_args.update(_startup_parameters(query))
        return DatabaseURL(
            url.set(drivername="postgresql+asyncpg", query={}),
            connect_args=connect_args,
            transaction_pooler=pooled,
        )

    raise ValueError(
        f"uses {url.drivername!r}, which is not supported; use sqlite:///file.db or postgresql://…"
    )


def _startup_parameters(query: dict[str, Any]) -> dict[str, Any]:
    """What is left of the URL's query after the parameters handled above: `application_name`
    goes to the server as a startup parameter (asyncpg's `server_settings`; SQLAlchemy would
    hand it to asyncpg.connect as an argument it does not take). Anything else is refused here,
    with its name, rather than failing at the first connection. Other settings (such as
    `statement_timeout`) are not taken as startup parameters on purpose: PgBouncer refuses
    those it does not know ("unsupported startup parameter"), and so do managed poolers."""
    unknown = sorted(set(query) - {"application_name"})
    if unknown:
        raise ValueError(
            f"has the query parameter {unknown[0]!r}, which is not supported "
            "(supported: sslmode, channel_binding, application_name, pgbouncer)"
        )
    name = query.get("application_name")
    if name is None:
        return {}
    if not isinstance(name, str):
        raise ValueError("has application_name more than once")
    return {"server_settings": {"application_name": name}}


def is_pooler_host(url: URL) -> bool:
    """Whether the host is a managed transaction-mode pooler: Neon's pooled endpoint
    (`ep-name-123456-pooler.region.aws.neon.tech`; its direct one has no `-pooler`) or
    Supabase's pooler on its transaction port 6543 (port 5432 there is session mode)."""
    host = (url.host or "").lower().rstrip(".")
    if host.endswith(".neon.tech") and host.split(".", 1)[0].endswith("-pooler"):
        return True
    return host.endswith(".pooler.supabase.com") and url.port == SUPABASE_TRANSACTION_PORT
