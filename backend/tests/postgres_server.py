"""A throwaway PostgreSQL server for one test: Debian's server binaries, a data directory made by
`initdb` in a temporary directory, listening on 127.0.0.1 on a free port (its Unix socket in that
directory too), stopped and removed on exit.

A test that needs the database to go down stops this one, never the machine's shared server,
which other test runs are using. https://www.postgresql.org/docs/current/app-initdb.html,
https://www.postgresql.org/docs/current/app-pg-ctl.html
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live import free_port

DEBIAN_VERSIONS = Path("/usr/lib/postgresql")  # one <version>/bin per installed server package
SUPERUSER = "postgres"
SECONDS = 60  # for initdb, and for pg_ctl to see the server up or gone

# For a test server whose data is thrown away: no fsync (a crash of the machine loses nothing
# that matters), and no Unix socket in /var/run/postgresql, where the shared server keeps its own.
SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_directory}'
fsync = off
synchronous_commit = off
full_page_writes = off
"""


def server_binaries() -> Path:
    """The bin directory of the newest PostgreSQL server package installed (`postgresql-<n>`)."""
    versions = [
        path
        for path in DEBIAN_VERSIONS.glob("*")
        if path.name.isdigit() and (path / "bin" / "initdb").exists()
    ]
    if not versions:
        raise AssertionError(
            f"no PostgreSQL server binaries in {DEBIAN_VERSIONS}/<version>/bin: "
            "install Debian's `postgresql` package"
        )
    return max(versions, key=lambda path: int(path.name)) / "bin"


@dataclass(frozen=True)
class PostgresServer:
    url: str  # postgresql://postgres@127.0.0.1:<port>/postgres, trust authentication
    port: int
    directory: Path  # data/, the server's log and its Unix socket
    binaries: Path

    @property
    def log(self) -> Path:
        return self.directory / "postgres.log"

    def start(self) -> None:
        """Starts the server; returns once it accepts connections (`pg_ctl start -w`)."""
        self.pg_ctl("start", "-l", str(self.log))

    def stop(self) -> None:
        """Fast shutdown: open sessions are ended, their transactions rolled back; returns once
        the server is gone (`pg_ctl stop -m fast -w`)."""
        self.pg_ctl("stop", "-m", "fast")

    def running(self) -> bool:
        # `pg_ctl status` exits with 3 when no server runs in the data directory.
        status = _run(self.binaries / "pg_ctl", "-D", str(self.directory / "data"), "status")
        return status.returncode == 0

    def pg_ctl(self, action: str, *options: str) -> None:
        """`pg_ctl <action> <options>` on this server, waiting for it to finish."""
        data = str(self.directory / "data")
        done = _run(
            self.binaries / "pg_ctl", "-D", data, "-w", "-t", str(SECONDS), action, *options
        )
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise AssertionError(f"pg_ctl {action} failed:\n{done.stderr}\n{log[-3000:]}")


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server of its own; yields it once it accepts connections. On exit,
    however the block ends, the server is stopped and its directory removed."""
    binaries = server_binaries()
    # Not pytest's tmp_path: under root that is /tmp/pytest-of-root (mode 0700), which the
    # `postgres` user the server runs as could not enter.
    directory = Path(tempfile.mkdtemp(prefix="taskapi-postgres-"))
    server = PostgresServer(
        url=f"postgresql://{SUPERUSER}@127.0.0.1:{(port := free_port())}/postgres",
        port=port,
        directory=directory,
        binaries=binaries,
    )
    try:
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root ("root" execution of the PostgreSQL server is
            # not permitted): everything runs as the `postgres` user, who owns the directory.
            owner = pwd.getpwnam("postgres")
            os.chown(directory, owner.pw_uid, owner.pw_gid)
        initdb = _run(
            binaries / "initdb",
            *("-D", str(directory / "data"), "-U", SUPERUSER, "--auth=trust"),
            *("--encoding=UTF8", "--no-locale", "--no-sync"),
        )
        if initdb.returncode != 0:
            raise AssertionError(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
        with (directory / "data" / "postgresql.conf").open("a") as config:
            config.write(SETTINGS.format(port=port, socket_directory=directory))
        server.start()
        yield server
    finally:
        try:
            if server.running():
                # Immediate: nothing here is worth a checkpoint, and a test that failed may
                # have left sessions open.
                server.pg_ctl("stop", "-m", "immediate")
        finally:
            shutil.rmtree(directory)


def _run(program: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(program), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    # In /, not the caller's directory: the `postgres` user may not be allowed into that one.
    return subprocess.run(
        command,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=SECONDS + 10,
        check=False,
    )
