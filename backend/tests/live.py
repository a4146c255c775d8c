"""The real `taskapi` command, run as a person (or CI) runs it: in its own process."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def clean_environment(**env: str) -> dict[str, str]:
    """This process's environment without any taskapi setting, plus the given ones."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BETTER_AUTH", "DATABASE", "JWT_"))
    }
    return {**inherited, **env}


def run_taskapi(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskapi", *args],
        cwd=cwd,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PORTS_FROM = 20000  # up to the first ephemeral port (32768 on Linux)


def free_port() -> int:
    """A port nobody listens on, chosen below the kernel's ephemeral range: a port from that
    range (bind to 0) can be taken by some client's outgoing connection before our server binds
    it, which suites running side by side made happen (EADDRINUSE at start-up)."""
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        port = random.randrange(PORTS_FROM, max(first_ephemeral, PORTS_FROM + 1000))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found below the ephemeral range")


def start_serve(cwd: Path, **env: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`taskapi serve` on a free port, not waited for: the process, its base URL, its log."""
    port = free_port()
    # Output to a file, not a pipe: a pipe nobody reads fills up and blocks the server's logging.
    log = cwd / f"taskapi-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "taskapi", "serve", "--port", str(port)],
            cwd=cwd,
            env=clean_environment(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}", log


def wait_until_up(
    base: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 90
) -> None:
    """Return once this very server is up: its log says it listens and `GET {base}/health`
    answers 200. Fails (with the server's log) when the process exits first or `seconds` pass,
    so that a test never goes on against a server that is not there, or against another
    suite's server that took the same port (ours then exits, unable to bind)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"taskapi serve exited with {process.returncode}:\n{_tail(log)}")
        if "Uvicorn running on" in log.read_text(errors="replace"):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"taskapi serve was not up within {seconds} s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


@contextmanager
def serving(cwd: Path, **env: str) -> Iterator[str]:
    """Migrate, then `taskapi serve` on a free port; yields its base URL. On exit the server is
    stopped, and its output must hold no traceback."""
    migrated = run_taskapi(cwd, "migrate", **env)
    assert migrated.returncode == 0, migrated.stderr
    process, base, log = start_serve(cwd, **env)
    try:
        wait_until_up(base, process, log)
        yield base
    finally:
        process.terminate()
        # A graceful stop takes well under a second; a loaded machine once took 22 s.
        process.wait(timeout=60)
        output = log.read_text()
        assert "Traceback" not in output, output[-5000:]
