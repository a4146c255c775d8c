"""Start the task API and the web app together; Ctrl-C stops both.

`make run` calls this after installing, building and migrating. Both listen on 127.0.0.1 unless
LISTEN_HOST says otherwise, the web app on WEB_PORT (3000) and the API on API_PORT (8000)
(scripts/local_settings.py). A port another program holds is named before anything starts. The
address is printed only once both answer and the answers come from our own processes (still
running, and the only listeners on their ports). If either process dies, the other is stopped
too, so nothing is left half-running.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from configure import read
from local_settings import (
    LocalSettings,
    SettingError,
    is_loopback,
    local_origin,
    read_settings,
    url_host,
)
from ports import in_use, who_listens

ROOT = Path(__file__).resolve().parent.parent
FRONTEND_ENV = ROOT / "frontend" / ".env.local"
EXIT_SETTING = 2
LOOPBACKS = ("127.0.0.1", "::1")


def api_command(settings: LocalSettings) -> list[str]:
    return [
        str(ROOT / "backend/.venv/bin/taskapi"),
        "serve",
        "--host",
        settings.host,
        "--port",
        str(settings.api_port),
    ]


def web_command(settings: LocalSettings) -> list[str]:
    """The web app's server, listening on settings.host:settings.web_port."""
    return [  # frontend/server.ts as built: `next start`, and the client's address for Better Auth
        "node",
        ".next/tasks-server/server.js",
        "--hostname",
        settings.host,
        "--port",
        str(settings.web_port),
    ]


def configured(name: str) -> str | None:
    """A setting of the web app: the environment first, then frontend/.env.local (as Next)."""
    if os.environ.get(name):
        return os.environ[name]
    return read(FRONTEND_ENV).get(name) or None


def busy_port(settings: LocalSettings) -> str | None:
    """What keeps this run from listening where it must, in a person's words (every port that
    is taken, and settings that would work together); None if nothing."""
    names = {
        settings.web_port: ("WEB_PORT", "the web app"),
        settings.api_port: ("API_PORT", "the task API"),
    }
    wanted = [(settings.host, settings.web_port), (settings.host, settings.api_port)]
    # The web app's other loopback names are trusted origins (frontend/src/lib/loopback-origins.ts),
    # and browsers try ::1 first for localhost: no other program may listen there either.
    wanted += [(host, settings.web_port) for host in LOOPBACKS if host != settings.host]
    taken: dict[int, str] = {}  # port -> where, in words
    for host, port in wanted:
        error = in_use(host, port)
        if error is None or (host != settings.host and error.errno != errno.EADDRINUSE):
            continue  # an extra address only matters when taken (a machine may have no IPv6)
        _name, what = names[port]
        if error.errno == errno.EADDRINUSE:
            # On the run's own address the other program may listen anywhere (0.0.0.0 too):
            # name the address only when it is one of the extra loopback names.
            where = "" if host == settings.host else f" (on {url_host(host)}:{port})"
            taken.setdefault(port, f"port {port} ({what}) is in use by another program{where}")
            continue
        if error.errno == errno.EADDRNOTAVAIL:
            return f"LISTEN_HOST={host} is not an address of this machine; unset it for 127.0.0.1"
        return f"cannot listen on {url_host(host)}:{port} ({what}): {error.strerror}"
    if not taken:
        return None
    avoid = set(names)
    choices = []
    for port in taken:
        free = free_port_after(settings.host, port, avoid)
        avoid.add(free)
        choices.append(f"{names[port][0]}={free}")
    return (
        "; ".join(taken.values())
        + ". Stop that program, or choose other ports: make run "
        + " ".join(choices)
    )


def free_port_after(host: str, port: int, taken: set[int]) -> int:
    """The first port after `port` that is free now (a suggestion; checked again when run)."""
    for candidate in range(port + 1, min(port + 100, 65536)):
        if candidate not in taken and in_use(host, candidate) is None:
            return candidate
    return port + 1


def up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own server)
            return bool(response.status < 500)
    except (urllib.error.URLError, OSError):
        return False


class Intruder(Exception):
    """Another program listens on one of our ports beside our server (on another address)."""


@dataclass(frozen=True)
class Server:
    setting: str  # the setting that chooses its port
    process: subprocess.Popen[bytes]
    port: int


def ready(settings: LocalSettings, servers: list[Server]) -> bool:
    """Both answer, and what answered is ours: each server still runs and, where the kernel
    tells (Linux), listens on its port, with nothing else listening there."""
    if not (up(f"{settings.api_url}/health") and up(settings.web_url("/login"))):
        return False
    for server in servers:
        if server.process.poll() is not None:
            return False  # it failed (to bind, say); the caller reports it
        listening = who_listens(server.port, server.process.pid)
        if listening is None:
            continue
        ours, others = listening
        if ours and others:
            raise Intruder(
                f"another program listens on port {server.port} too. Stop that program, or "
                f"choose another port: make run {server.setting}=..."
            )
        if not ours:
            return False  # what answered is another program; ours has not bound (yet)
    return True


def main() -> int:
    try:
        settings = read_settings(os.environ)
    except SettingError as error:
        print(f"run: {error}", file=sys.stderr)
        return EXIT_SETTING
    origin = local_origin(configured("BETTER_AUTH_URL"), settings)
    open_at = origin or configured("BETTER_AUTH_URL") or ""
    problem = busy_port(settings)
    if problem:
        print(f"run: {problem}", file=sys.stderr)
        return 1
    if "--check-ports" in sys.argv[1:]:
        return 0  # `make run` checks before it migrates, then starts
    if not is_loopback(settings.host):
        print(
            f"run: LISTEN_HOST={settings.host}: other machines can reach this run; they sign "
            f"in only at BETTER_AUTH_URL ({open_at}), so set it to an address they can open",
            file=sys.stderr,
        )

    # A loopback BETTER_AUTH_URL follows WEB_PORT, for both processes (Better Auth checks
    # origins against it, the API checks tokens' iss and aud); the web app forwards the task
    # API to the one started here. The environment wins over the .env files in both.
    shared = {**os.environ, **({"BETTER_AUTH_URL": origin} if origin else {})}
    api_env = {**shared, "LOG_REQUESTS": "1" if settings.log_requests else "0"}
    web_env = {**shared, "BACKEND_URL": settings.api_url}
    # Each server leads a process group of its own: stopping the group stops any child it made,
    # and the readiness check tells our listening sockets from another program's.
    servers = [
        Server("API_PORT", start(api_command(settings), "backend", api_env), settings.api_port),
        Server("WEB_PORT", start(web_command(settings), "frontend", web_env), settings.web_port),
    ]
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)

    announced = False
    try:
        while not stopping:
            if any(server.process.poll() is not None for server in servers):
                print(
                    "run: a process stopped (its error is above); stopping the other",
                    file=sys.stderr,
                )
                return 1
            if not announced and ready(settings, servers):
                print(
                    f"\n  Tasks is running: open {open_at}  (API: {settings.api_url}/docs)"
                    "  Ctrl-C stops it.\n",
                    flush=True,
                )
                announced = True
            time.sleep(0.3)
        return 0
    except Intruder as error:
        print(f"run: {error}", file=sys.stderr)
        return 1
    finally:
        # The whole group, even when its leader has gone: any child it made goes too.
        for server in servers:
            _signal_group(server.process, signal.SIGTERM)
        for server in servers:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(server.process, signal.SIGKILL)
                server.process.wait()


def start(command: list[str], folder: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=ROOT / folder, env=env, process_group=0)  # noqa: S603


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


if __name__ == "__main__":
    raise SystemExit(main())
