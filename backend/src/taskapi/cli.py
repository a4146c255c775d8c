"""`taskapi serve | migrate | secret | token`: the service's command line.

Every failure a person can cause (a wrong setting, an unreachable or un-migrated database) ends
in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import time
from collections.abc import Sequence

import jwt
from sqlalchemy.exc import SQLAlchemyError

from taskapi import migrate
from taskapi.auth.subject import USER_ID_MAX, NotAUserId, valid_user_id
from taskapi.config import ConfigurationError, Settings, get_settings
from taskapi.observability import configure_logging

DEFAULT_TOKEN_TTL = 15 * 60  # as Better Auth's own tokens
EXIT_CONFIG = 2
EXIT_DATABASE = 3
GRACEFUL_SHUTDOWN_SECONDS = 8
# How long an idle kept-alive connection stays open. Longer than any client's own idle limit
# (httpx 5 s, Node's undici 4 s, HAProxy and nginx upstream pools 60 s at most by default): the
# side that closes first must be the client, or a request it sends on the connection at the
# moment the server closes it is lost ("server disconnected"), and a POST cannot be replayed
# safely (RFC 9112 §9.3.1).
KEEP_ALIVE_SECONDS = 75


class CommandError(Exception):
    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    _plain_warnings()
    try:
        args.run(args)
    except ConfigurationError as error:
        _fail(str(error), EXIT_CONFIG)
    except CommandError as error:
        _fail(str(error), error.exit_code)


def _plain_warnings() -> None:
    """Warnings (a database file made private, taskapi.private_files) as lines a person reads,
    until `serve` turns its logs into JSON (taskapi.observability.configure_logging)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("taskapi: %(message)s"))
    logger = logging.getLogger("taskapi")
    logger.handlers = [handler]
    logger.setLevel(logging.WARNING)
    logger.propagate = False


def _fail(message: str, code: int) -> None:
    print(f"taskapi: {message}", file=sys.stderr)
    raise SystemExit(code)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taskapi", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="command")

    serve = commands.add_parser("serve", help="serve the API (default 127.0.0.1:8000)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=_positive_int, default=1, help="processes (default 1)")
    serve.set_defaults(run=_serve)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        run=_migrate
    )
    commands.add_parser(
        "secret", help="print a new random secret for BETTER_AUTH_SECRET"
    ).set_defaults(run=_secret)

    token = commands.add_parser("token", help="mint an HS256 token with BETTER_AUTH_SECRET")
    token.add_argument(
        "--sub", required=True, type=_user_id, help="the user id the token speaks for"
    )
    token.add_argument(
        "--ttl", type=_positive_int, default=DEFAULT_TOKEN_TTL, help="lifetime in seconds"
    )
    token.set_defaults(run=_token)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def _user_id(text: str) -> str:
    # The server refuses a token whose `sub` breaks this rule: say so now, not at first use.
    try:
        return valid_user_id(text)
    except NotAUserId:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a user id: 1 to {USER_ID_MAX} ASCII letters, digits, '-' or '_'"
        ) from None


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = get_settings()
    if args.workers > 1 and settings.database.is_sqlite:
        # Statements on SQLite run on the event loop (taskapi.db); a second process would make
        # them wait on each other's locks with the loop stopped. One process is the fast way.
        raise CommandError(
            "--workers needs PostgreSQL; SQLite is served by one process", EXIT_CONFIG
        )
    _require_current_schema(settings)
    configure_logging(requests=settings.log_requests)
    uvicorn.run(
        "taskapi.main:serve_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        server_header=False,  # do not announce what we run
        proxy_headers=False,
        access_log=False,  # ours logs the route template; uvicorn's would log query strings
        log_config=None,  # serve_app sets up JSON logging in each worker
        # On SIGTERM: stop accepting, let requests in flight finish, exit within 10 s.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


def _require_current_schema(settings: Settings) -> None:
    head = migrate.head_revision()
    try:
        current = migrate.current_revision(settings.database)
    except (OSError, SQLAlchemyError) as error:
        raise CommandError(_database_problem(error), EXIT_DATABASE) from None
    if current != head:
        raise CommandError(
            f"the database schema is at {current or 'nothing'}, not {head}: run `taskapi migrate`",
            EXIT_DATABASE,
        )


def _migrate(_args: argparse.Namespace) -> None:
    settings = get_settings()
    try:
        migrate.upgrade(settings.database)
    except (OSError, SQLAlchemyError) as error:
        raise CommandError(_database_problem(error), EXIT_DATABASE) from None
    print(f"taskapi: database schema is at {migrate.head_revision()} (latest)")


def _database_problem(error: Exception) -> str:
    reason = str(getattr(error, "orig", None) or error).splitlines()[0]
    return f"cannot use the database: {reason}"


def _secret(_args: argparse.Namespace) -> None:
    print(secrets.token_urlsafe(32))  # 32 random bytes, 43 URL-safe characters


def _token(args: argparse.Namespace) -> None:
    settings = get_settings()
    if settings.better_auth_secret is None:
        raise CommandError("BETTER_AUTH_SECRET is not set, so no HS256 token can be made", 2)
    now = int(time.time())
    claims: dict[str, object] = {"sub": args.sub, "iat": now, "exp": now + args.ttl}
    if settings.better_auth_url:
        claims |= {"iss": settings.better_auth_url, "aud": settings.better_auth_url}
    print(jwt.encode(claims, settings.better_auth_secret.get_secret_value(), algorithm="HS256"))
