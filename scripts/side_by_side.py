"""Run one test suite's passes (SQLite, and PostgreSQL when TEST_DATABASE_URL names a server)
side by side: `make test-backend` (scripts/test_backend.py), `make test-e2e` (scripts/test_e2e.py).

They share nothing (each makes its own databases, servers and ports), and each is mostly one
process waiting on another (a test and the server it drives), so on two cores they take little
longer together than the longer one alone. Each pass writes to its own log in test-output/,
printed whole when it ends, so that the two never interleave. Exit status: 0 only when every
pass that ran passed (pytest's 5, "no tests ran", is a failure too).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "test-output"


def run_passes(suite: str, command: list[str], cwd: Path) -> int:
    """Runs `command` in `cwd` once without TEST_DATABASE_URL and, when it is set, once with it,
    at the same time; logs in test-output/{suite}-sqlite.log and -postgresql.log. The exit
    status: 0 when every pass that ran exited 0, else 1."""
    LOGS.mkdir(exist_ok=True)
    sqlite_env = {name: value for name, value in os.environ.items() if name != "TEST_DATABASE_URL"}
    passes = {"SQLite": sqlite_env}
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        passes["PostgreSQL"] = dict(os.environ)
    else:
        print(f"--- {suite}: TEST_DATABASE_URL not set: the PostgreSQL pass is skipped")

    started = time.monotonic()
    running = {}
    for name, env in passes.items():
        log = (LOGS / f"{suite}-{name.lower()}.log").open("w")
        process = subprocess.Popen(  # noqa: S603 (our own pytest, our own arguments)
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        running[name] = (process, log)

    failed = []
    for name, (process, log) in running.items():
        code = process.wait()
        log.close()
        where = f" ({server.split('@')[-1]})" if name == "PostgreSQL" and server else ""
        print(f"--- {suite}, {name}{where}: exit {code} after {time.monotonic() - started:.0f} s")
        print(Path(log.name).read_text(), end="", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"--- {suite}: failed on {' and '.join(failed)}", file=sys.stderr)
        return 1
    return 0
