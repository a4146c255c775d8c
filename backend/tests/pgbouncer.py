"""A real PgBouncer in transaction mode (Debian's `pgbouncer` package), started for one test on
a port of its own, in front of one database of the shared PostgreSQL server, and removed after.

Transaction mode hands a server connection to a client for one transaction only: the next
statement of the same client may run on another server connection, so nothing a session holds
(named prepared statements, SET, advisory locks, LISTEN, temporary tables) can be relied on.
https://www.pgbouncer.org/features.html#sql-feature-map-for-pooling-modes
"""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.live import free_port

PGBOUNCER = "/usr/sbin/pgbouncer"
PSQL = "/usr/bin/psql"


@dataclass(frozen=True)
class PgBouncer:
    url: str  # the pooled database, in the form of the URL it stands in front of
    port: int
    pool_size: int

    def show(self, what: str) -> list[dict[str, str]]:
        """Rows of `SHOW <what>` on PgBouncer's admin console. Through psql: the console speaks
        only the simple query protocol, and asyncpg fetches rows with the extended one."""
        console = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "pgbouncer"]
        output = subprocess.run(
            [PSQL, *console, "-X", "--csv", "-c", f"SHOW {what}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        return list(csv.DictReader(io.StringIO(output)))


@contextmanager
def pgbouncer(database_url: str, directory: Path, *, pool_size: int) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode with at most `pool_size` server connections to the database
    of `database_url`; yields it once it accepts connections, stops it on exit."""
    target = make_url(database_url)
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    userlist = directory / "userlist.txt"
    userlist.write_text('"postgres" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        f"""\
[databases]
{target.database} = host={target.host or "127.0.0.1"} port={target.port or 5432} \
dbname={target.database} user={target.username or "postgres"} pool_size={pool_size}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
; no Unix socket: the default directory (/tmp) may already hold another instance's
unix_socket_dir =
; the server trusts local connections, and so does this pooler (tests only)
auth_type = trust
auth_file = {userlist}
admin_users = postgres
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
; the client waits for a server connection rather than being refused
reserve_pool_size = 0
"""
    )
    command = [PGBOUNCER, str(config)]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root ("PgBouncer should not run as root"); -u drops to
        # another user after the configuration and the user list have been read.
        command[1:1] = ["-u", "nobody"]
    log = directory / "pgbouncer.log"
    with log.open("wb") as out:
        # In the foreground (no -d): terminating this process stops PgBouncer, nothing lingers.
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        yield PgBouncer(
            url=target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False),
            port=port,
            pool_size=pool_size,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pgbouncer exited with {process.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"pgbouncer did not listen on {port} within 10 s:\n{log.read_text()}")
