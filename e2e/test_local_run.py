"""`make run` as a newcomer meets it: scripts/configure.py writes the settings, scripts/run.py
starts both servers. The secrets and databases are for their owner only, a busy port is named
before anything starts, both servers listen on the loopback interface, the address is printed
once both answer, and the terminal shows no line per request."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from conftest import NODE_BIN, ROOT, TASKAPI, add_task, free_port, new_email, sign_up

sys.path.insert(0, str(ROOT / "scripts"))
import local_settings  # scripts/ is not a package
import ports
import run

SCRIPTS = ROOT / "scripts"
OWNER_ONLY = 0o600
RUN_SETTINGS = ("LISTEN_HOST", "WEB_PORT", "API_PORT", "LOG_REQUESTS")
STARTED = re.compile(r"Tasks is running: open (\S+)")


def clean_env(**env: str) -> dict[str, str]:
    """This environment without any setting of the app or of `make run`, plus the given ones."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BETTER_AUTH", "DATABASE", "AUTH_DATABASE", "BACKEND_URL"))
        and name not in RUN_SETTINGS
    }
    return {**kept, **env}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- scripts/configure.py, in a copy of the project's layout -----------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("configure.py", "local_settings.py"):
        (tmp_path / "scripts").mkdir(exist_ok=True)
        shutil.copy(SCRIPTS / name, tmp_path / "scripts" / name)
    (tmp_path / "backend").mkdir()
    (tmp_path / "frontend").mkdir()
    return tmp_path


def configure(project: Path, umask: int = 0o022, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(project / "scripts" / "configure.py")],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        umask=umask,
        timeout=30,
        check=False,
    )


def settings_of(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def test_configure_writes_the_secret_for_its_owner_only(project: Path) -> None:
    # Even under a umask that takes nothing away, no other account can read the secret.
    result = configure(project, umask=0)
    assert result.returncode == 0, result.stderr
    backend, frontend = project / "backend" / ".env", project / "frontend" / ".env.local"
    assert mode(backend) == mode(frontend) == OWNER_ONLY
    assert settings_of(backend)["BETTER_AUTH_SECRET"] == settings_of(frontend)["BETTER_AUTH_SECRET"]
    assert settings_of(frontend)["BETTER_AUTH_URL"] == "http://localhost:3000"
    assert sorted(path.name for path in project.rglob("*.env*")) == [".env", ".env.local"]


def test_configure_tightens_existing_files_and_says_so(project: Path) -> None:
    assert configure(project).returncode == 0
    backend, frontend = project / "backend" / ".env", project / "frontend" / ".env.local"
    before = {path: path.read_text() for path in (backend, frontend)}
    for path in before:
        path.chmod(0o644)  # as an older `make run` wrote them

    result = configure(project)
    assert result.returncode == 0, result.stderr
    assert mode(backend) == mode(frontend) == OWNER_ONLY
    assert {path: path.read_text() for path in before} == before  # nothing else changed
    for name in ("backend/.env", "frontend/.env.local"):
        assert f"{name}: was open to other accounts (0644); it is now 0600" in result.stdout


def test_configure_follows_the_chosen_ports(project: Path) -> None:
    result = configure(project, WEB_PORT="3100", API_PORT="8100")
    assert result.returncode == 0, result.stderr
    frontend = settings_of(project / "frontend" / ".env.local")
    assert frontend["BETTER_AUTH_URL"] == "http://localhost:3100"
    assert frontend["BACKEND_URL"] == "http://127.0.0.1:8100"
    assert settings_of(project / "backend" / ".env")["BETTER_AUTH_URL"] == "http://localhost:3100"


# --- scripts/run.py: what it refuses before starting anything ----------------------------


def run_script(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "run.py")],
        env=clean_env(BETTER_AUTH_URL="http://localhost:3000", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("busy", "address"),
    [
        ("WEB_PORT", "127.0.0.1"),
        ("API_PORT", "127.0.0.1"),
        ("WEB_PORT", "0.0.0.0"),  # noqa: S104 (another program on every interface)
        ("API_PORT", "0.0.0.0"),  # noqa: S104
        ("WEB_PORT", "::1"),  # where browsers look first for localhost
    ],
)
def test_run_names_a_busy_port_and_starts_nothing(busy: str, address: str) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as other_program:
        try:
            other_program.bind((address, 0))
        except OSError:
            pytest.skip(f"this machine has no {address} to listen on")
        other_program.listen()
        taken = other_program.getsockname()[1]
        ports = {"WEB_PORT": str(free_port()), "API_PORT": str(free_port()), busy: str(taken)}
        result = run_script(**ports)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "running" not in result.stdout
    message = result.stderr.strip()
    assert message.startswith(f"run: port {taken} (")
    assert "in use by another program" in message
    assert re.search(rf"make run {busy}=\d+$", message), message


def test_run_names_every_busy_port_and_advice_that_works_as_given() -> None:
    """Both ports held (a first `make run` still up): one message names both, and the settings
    it suggests are free together."""
    with socket.socket() as web, socket.socket() as api:
        for other_program in (web, api):
            other_program.bind(("127.0.0.1", 0))
            other_program.listen()
        taken = {"WEB_PORT": web.getsockname()[1], "API_PORT": api.getsockname()[1]}
        result = run_script(**{name: str(port) for name, port in taken.items()})
        assert result.returncode == 1, result.stdout + result.stderr
        message = result.stderr.strip()
        for port in taken.values():
            assert f"port {port} (" in message, message
        advice = re.search(r"make run WEB_PORT=(\d+) API_PORT=(\d+)$", message)
        assert advice is not None, message
        suggested = {int(advice.group(1)), int(advice.group(2))}
        assert len(suggested) == 2
        assert not suggested & set(taken.values())
        for port in suggested:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", port))  # free, as advised


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"WEB_PORT": "http"}, "WEB_PORT must be a port number from 1 to 65535"),
        ({"API_PORT": "70000"}, "API_PORT must be a port number from 1 to 65535"),
        ({"WEB_PORT": "4000", "API_PORT": "4000"}, "WEB_PORT and API_PORT are both 4000"),
        ({"LISTEN_HOST": "192.0.2.1"}, "LISTEN_HOST=192.0.2.1 is not an address of this machine"),
    ],
)
def test_run_refuses_a_wrong_setting_in_one_line(env: dict[str, str], says: str) -> None:
    result = run_script(**env)
    assert result.returncode in (1, 2)
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert says in result.stderr
    assert "running" not in result.stdout


# --- scripts/run.py, started for real on free ports with databases of its own ------------


@dataclass
class LocalRun:
    process: subprocess.Popen[str]
    web_port: int
    api_port: int
    data: Path
    secret: str
    output: list[str] = field(default_factory=list)
    started: queue.Queue[str] = field(default_factory=queue.Queue)

    def stop(self) -> str:
        """Ctrl-C, as a person stops it; the whole output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=30)
        return "".join(self.output)


def _read(run: LocalRun) -> None:
    assert run.process.stdout is not None
    for line in run.process.stdout:
        run.output.append(line)
        if found := STARTED.search(line):
            run.started.put(found.group(1))
    run.started.put("")  # it ended


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    data = tmp_path_factory.mktemp("local-run")
    web_port, api_port, secret = free_port(), free_port(), secrets.token_urlsafe(32)
    env = clean_env(
        BETTER_AUTH_SECRET=secret,
        BETTER_AUTH_URL="http://localhost:3000",  # as configure.py writes it; WEB_PORT moves it
        DATABASE_URL=f"sqlite:///{data / 'taskapi.db'}",
        AUTH_DATABASE_URL=f"sqlite:{data / 'auth.db'}",
        WEB_PORT=str(web_port),
        API_PORT=str(api_port),
    )
    for command, cwd in (
        ([str(TASKAPI), "migrate"], data),
        ([str(NODE_BIN / "tsx"), "scripts/migrate.ts"], ROOT / "frontend"),
    ):
        subprocess.run(command, cwd=cwd, env=env, check=True, umask=0o022, capture_output=True)
    process = subprocess.Popen(
        [sys.executable, str(SCRIPTS / "run.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        umask=0o022,
    )
    run = LocalRun(process, web_port, api_port, data, secret)
    threading.Thread(target=_read, args=(run,), daemon=True).start()
    try:
        address = run.started.get(timeout=90)
        assert address == f"http://localhost:{web_port}", "".join(run.output)
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_both_servers_listen_on_the_loopback_interface_only(local_run: LocalRun) -> None:
    for port in (local_run.web_port, local_run.api_port):
        assert not refused("127.0.0.1", port)
        # 127.0.0.2 is this machine too, but not the address they listen on: a server on every
        # interface (0.0.0.0, ::) would accept it, as it would a connection from the network.
        assert refused("127.0.0.2", port)


def test_a_newcomer_signs_up_at_127_0_0_1_although_the_address_printed_is_localhost(
    local_run: LocalRun, browser: Browser
) -> None:
    context = browser.new_context(
        base_url=f"http://127.0.0.1:{local_run.web_port}",
        extra_http_headers={"X-Forwarded-For": "198.51.100.251"},
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_up(page, "Noor", new_email())
        add_task(page, "Opened at 127.0.0.1")
        page.reload()
        expect(page.get_by_test_id("task-title").first).to_have_text("Opened at 127.0.0.1")
    finally:
        context.close()


def test_the_databases_and_their_side_files_are_for_their_owner_only(local_run: LocalRun) -> None:
    web = f"http://127.0.0.1:{local_run.web_port}"
    signed_up = httpx.post(
        f"{web}/api/auth/sign-up/email",
        json={"name": "Ola", "email": new_email(), "password": "correct horse 42"},
        headers={
            "Origin": f"http://localhost:{local_run.web_port}",
            "X-Forwarded-For": "198.51.100.252",
        },
    )
    assert signed_up.status_code == 200, signed_up.text
    token = subprocess.run(
        [str(TASKAPI), "token", "--sub", "ola"],
        # iss and aud: the origin run.py gave both servers (BETTER_AUTH_URL moved to WEB_PORT).
        env=clean_env(
            BETTER_AUTH_SECRET=local_run.secret,
            BETTER_AUTH_URL=f"http://localhost:{local_run.web_port}",
        ),
        cwd=local_run.data,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    created = httpx.post(
        f"http://127.0.0.1:{local_run.api_port}/api/ola/tasks",
        json={"title": "kept private"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    # Both servers hold their database open in WAL mode: the side files exist now.
    files = {path.name: mode(path) for path in local_run.data.iterdir() if ".db" in path.name}
    expected = {f"{db}{side}" for db in ("taskapi.db", "auth.db") for side in ("", "-wal", "-shm")}
    assert expected <= set(files)
    assert files == dict.fromkeys(files, OWNER_ONLY)


def test_ctrl_c_stops_both_and_the_terminal_showed_no_line_per_request(
    local_run: LocalRun,
) -> None:
    """Last in this module: it stops the run."""
    api = f"http://127.0.0.1:{local_run.api_port}"
    for _ in range(3):
        assert httpx.get(f"{api}/health").status_code == 200
        assert httpx.get(f"{api}/api/nobody/tasks").status_code == 401
    output = local_run.stop()
    assert local_run.process.returncode == 0, output
    assert '"logger": "taskapi.access"' not in output
    assert output.count("Tasks is running") == 1
    assert "Traceback" not in output
    # run.py waited for both process groups: nothing of them is left listening.
    assert refused("127.0.0.1", local_run.web_port)
    assert refused("127.0.0.1", local_run.api_port)


# --- Better Auth's database, as `make run` migrates it (frontend/scripts/migrate.ts) ------


def migrate_auth(database: Path, umask: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(NODE_BIN / "tsx"), "scripts/migrate.ts"],
        cwd=ROOT / "frontend",
        env=clean_env(
            BETTER_AUTH_SECRET=secrets.token_urlsafe(32), AUTH_DATABASE_URL=f"sqlite:{database}"
        ),
        capture_output=True,
        text=True,
        umask=umask,
        timeout=120,
        check=False,
    )


def test_the_auth_database_is_made_for_its_owner_only(tmp_path: Path) -> None:
    # Even under a umask that takes nothing away.
    result = migrate_auth(tmp_path / "auth.db", umask=0)
    assert result.returncode == 0, result.stderr
    files = {path.name: mode(path) for path in tmp_path.iterdir()}
    assert "auth.db" in files
    assert files == dict.fromkeys(files, OWNER_ONLY)


def test_an_open_auth_database_is_tightened_and_said_so(tmp_path: Path) -> None:
    database = tmp_path / "auth.db"
    # Made 0644 by an older version; its WAL files exist (0644 too) while this connection is open.
    older = sqlite3.connect(database)
    try:
        older.execute("PRAGMA journal_mode=WAL")
        older.execute("CREATE TABLE kept (x)")
        older.commit()
        assert {mode(path) for path in tmp_path.iterdir()} == {0o644}
        result = migrate_auth(database, umask=0o022)
        assert result.returncode == 0, result.stderr
        files = {path.name: mode(path) for path in tmp_path.iterdir()}
    finally:
        older.close()
    assert files == dict.fromkeys(["auth.db", "auth.db-wal", "auth.db-shm"], OWNER_ONLY)
    for name in files:
        assert f"{tmp_path / name} was open to other accounts (0644); it is now 0600" in (
            result.stderr
        )


# --- scripts/run.py's readiness check: an answer must come from our own server -----------

# Who listens is read from the kernel's socket tables, which only Linux has (/proc/net/tcp).
linux_only = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net/tcp"
)


@pytest.fixture
def squatter() -> Iterator[int]:
    """Another program answering HTTP on 127.0.0.1 (a second copy of the app, say)."""
    port = free_port()
    with serving_http(port):
        yield port


def child(*code: str) -> subprocess.Popen[bytes]:
    """A process started as run.py starts a server: leading a process group of its own."""
    return subprocess.Popen(
        [sys.executable, "-c", "\n".join(code)], process_group=0, stdout=subprocess.PIPE
    )


@linux_only
def test_an_answer_from_another_program_is_not_our_server_being_ready(squatter: int) -> None:
    ours = child("import time", "time.sleep(60)")  # running, but never bound its port
    try:
        api = free_port()
        settings = local_settings.read_settings({"WEB_PORT": str(squatter), "API_PORT": str(api)})
        with serving_http(api) as api_server:
            servers = [
                run.Server("API_PORT", api_server, api),
                run.Server("WEB_PORT", ours, squatter),
            ]
            assert run.up(settings.web_url("/login"))  # something answers there...
            assert not run.ready(settings, servers)  # ...but it is not ours
    finally:
        ours.kill()
        ours.wait()


@linux_only
def test_another_program_beside_our_server_stops_the_run(squatter: int) -> None:
    if ports.in_use("::1", 0) is not None:
        pytest.skip("this machine has no ::1 to listen on")
    api = free_port()
    settings = local_settings.read_settings({"WEB_PORT": str(squatter), "API_PORT": str(api)})
    with serving_http(api) as api_server, serving_http(squatter, "::1") as ours:
        servers = [run.Server("API_PORT", api_server, api), run.Server("WEB_PORT", ours, squatter)]
        with pytest.raises(run.Intruder, match=rf"another program listens on port {squatter}"):
            run.ready(settings, servers)


def test_our_own_servers_answering_are_ready() -> None:
    web, api = free_port(), free_port()
    settings = local_settings.read_settings({"WEB_PORT": str(web), "API_PORT": str(api)})
    with serving_http(api) as api_server, serving_http(web) as web_server:
        servers = [run.Server("API_PORT", api_server, api), run.Server("WEB_PORT", web_server, web)]
        assert run.ready(settings, servers)


@contextlib.contextmanager
def serving_http(port: int, host: str = "127.0.0.1") -> Iterator[subprocess.Popen[bytes]]:
    """An HTTP server on host:port in a process group of its own, once it listens."""
    process = child(
        "import http.server, socket",
        "class Answer(http.server.BaseHTTPRequestHandler):",
        "    def do_GET(self):",
        "        self.send_response(200)",
        "        self.send_header('Content-Length', '0')",
        "        self.end_headers()",
        "class Server(http.server.ThreadingHTTPServer):",
        f"    address_family = socket.{'AF_INET6' if ':' in host else 'AF_INET'}",
        f"server = Server(({host!r}, {port}), Answer)",
        "print('listening', flush=True)",
        "server.serve_forever()",
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"listening\n"  # bound and listening by now
        yield process
    finally:
        process.kill()
        process.wait()


@pytest.mark.parametrize("mask", [0o000, 0o001, 0o004])
@pytest.mark.parametrize("target", ["run", "test"])
def test_make_refuses_a_umask_that_lets_others_write_the_code_it_installs(
    target: str, mask: int
) -> None:
    """Under such a umask, .venv, node_modules and .next would be writable by every local
    account, and what they hold runs with the secrets: refused before anything is installed."""
    make = shutil.which("make") or "make"
    # Its own session: were the check to let it through, the whole tree is stopped below.
    process = subprocess.Popen(
        [make, "--no-print-directory", "-C", str(ROOT), target],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: os.umask(mask),
    )
    try:
        stdout, stderr = process.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert result.returncode != 0
    assert f"umask {mask:04o} would let every local account write" in result.stderr
    assert "Tasks is running" not in result.stdout
    assert "pytest" not in result.stdout  # nothing else ran
