"""`make test-backend`: the backend suite on SQLite and, when TEST_DATABASE_URL names a server,
on PostgreSQL, the two passes side by side.

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
BACKEND = ROOT / "backend"
LOGS = ROOT / "test-output"
PYTEST = [str(BACKEND / ".venv" / "bin" / "pytest"), "-q", "-p", "no:cacheprovider"]


def main() -> int:
    LOGS.mkdir(exist_ok=True)
    sqlite_env = {name: value for name, value in os.environ.items() if name != "TEST_DATABASE_URL"}
    passes = {"SQLite": sqlite_env}
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        passes["PostgreSQL"] = dict(os.environ)
    else:
        print("--- TEST_DATABASE_URL not set: the PostgreSQL pass is skipped")

    started = time.monotonic()
    running = {}
    for name, env in passes.items():
        log = (LOGS / f"backend-{name.lower()}.log").open("w")
        process = subprocess.Popen(  # noqa: S603 (our own pytest, our own arguments)
            PYTEST, cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        running[name] = (process, log)

    failed = []
    for name, (process, log) in running.items():
        code = process.wait()
        log.close()
        where = f" ({server.split('@')[-1]})" if name == "PostgreSQL" and server else ""
        print(f"--- {name}{where}: exit {code} after {time.monotonic() - started:.0f} s")
        print(Path(log.name).read_text(), end="", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"--- failed on {' and '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
