"""The whole system, started for real: taskapi and the built Next.js app on free ports, each with
fresh databases in a temporary folder, and Debian's Chromium driven by Playwright.

`make test` builds the frontend before this suite runs; the suite serves it with the web app's own
server (`frontend/server.ts`, compiled with the build; what `make run` uses), which does what
`next start` does and more.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from recording_backend import RecordingBackend, recording_backend
from smtp_sink import Mailbox, smtp_server

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
TASKAPI = ROOT / "backend" / ".venv" / "bin" / "taskapi"
NODE_BIN = FRONTEND / "node_modules" / ".bin"
NODE = shutil.which("node") or "node"
# The web app's server (frontend/server.ts, compiled by `npm run build`): `next start` and more.
WEB_SERVER = ".next/tasks-server/server.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-output" / "screenshots"
# An assertion waits as long as an action does (contexts' default, 15 s): on a loaded two-core
# machine a password check (scrypt) behind a click took more than expect's default 5 s, and a
# wait is not where speed is judged (make bench is). A passing assertion returns at once.
expect.set_options(timeout=15_000)


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


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {seconds} s:\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class System:
    url: str  # the web app: the only origin the browser talks to
    backend_url: str
    log: Path  # everything the web app wrote (stdout and stderr)
    auth_database: str = ""  # Better Auth's AUTH_DATABASE_URL (sqlite:… or postgresql://…)


def _start(
    command: list[str], cwd: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM to the process's group, as a service manager stops it; its exit status."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait()


@contextlib.contextmanager
def web_app(
    work: Path,
    backend_url: str,
    secret: str,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """The built web app on `port` (else a free one) of 127.0.0.1 with a fresh auth database in
    `work`, as `make run` starts it: (its origin, its log file, the process)."""
    port = port or free_port()
    origin = f"http://127.0.0.1:{port}"
    # The caller's own settings (a developer's SMTP_URL among them) never leak in.
    inherited = ("BETTER_AUTH", "DATABASE", "SMTP_", "MAIL_")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(inherited)},
        "BETTER_AUTH_SECRET": secret,
        "BETTER_AUTH_URL": origin,
        "AUTH_DATABASE_URL": f"sqlite:{work / 'auth.db'}",
        "BACKEND_URL": backend_url,
        "NEXT_TELEMETRY_DISABLED": "1",
        **(extra_env or {}),
    }
    subprocess.run([str(NODE_BIN / "tsx"), "scripts/migrate.ts"], cwd=FRONTEND, env=env, check=True)
    log = work / "frontend.log"
    process = _start(
        [NODE, WEB_SERVER, "--port", str(port), "--hostname", "127.0.0.1"],
        FRONTEND,
        env,
        log,
    )
    try:
        wait_until_up(f"{origin}/login", process, log)
        yield origin, log, process
    finally:
        stop(process)


def postgres_execute(url: str, *statements: str) -> None:
    """Runs SQL statements on the PostgreSQL database at `url`, one by one. asyncpg (already the
    task API's driver), on a thread of its own: Playwright's sync API keeps an event loop
    running on this one, where asyncio.run is refused."""

    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


# --- which tests the PostgreSQL pass runs ------------------------------------------------
#
# `make test` runs this suite twice: on SQLite, then with TEST_DATABASE_URL set. That variable is
# read by this suite alone (fresh_database here, and test_revocation's stack): no script, server or
# page of the project reads it. So a test that makes no database through them runs the very same
# code, on the very same SQLite files, in both passes; the second run is a duplicate, and the
# PostgreSQL pass leaves it out. The tests that do reach the server: those whose fixtures include
# one of DATABASE_FIXTURES, and those marked `postgresql` (they call fresh_database themselves).
# A test that reaches fresh_database otherwise fails, in either pass (`check_on_postgres_pass`).
DATABASE_FIXTURES = frozenset({"system", "verifying_system", "stack"})
POSTGRESQL_MARKER = (
    "postgresql: the test makes a database through fresh_database itself (not through one of"
    " DATABASE_FIXTURES), so the browser suite's PostgreSQL pass runs it too"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", POSTGRESQL_MARKER)


def runs_on_postgres(item: pytest.Item) -> bool:
    """Whether the PostgreSQL pass runs `item` (see DATABASE_FIXTURES)."""
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(DATABASE_FIXTURES & fixtures) or item.get_closest_marker("postgresql") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With TEST_DATABASE_URL set, the tests that never reach its server are deselected (pytest
    reports how many): the SQLite pass has run them as they are."""
    if not os.environ.get("TEST_DATABASE_URL"):
        return
    deselected = [item for item in items if not runs_on_postgres(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if runs_on_postgres(item)]


_running: list[pytest.Item] = []  # the test being run (its set-up, call and tear-down)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


def check_on_postgres_pass() -> None:
    """Fails the running test when the PostgreSQL pass would leave it out although it makes a
    database that TEST_DATABASE_URL decides: in the SQLite pass too, so that it is caught there."""
    if _running and not runs_on_postgres(_running[-1]):
        pytest.fail(
            f"{_running[-1].nodeid} makes a database through fresh_database but the PostgreSQL"
            " pass would leave it out: mark it `postgresql` or use a fixture of DATABASE_FIXTURES"
        )


@contextlib.contextmanager
def fresh_database(sqlite_url: str) -> Iterator[str]:
    """An empty database: on TEST_DATABASE_URL's PostgreSQL server when that is set (a database
    of its own, made here and dropped after), else `sqlite_url` (a file in the test's own
    directory). Its tables are made as `make run` makes them: `taskapi migrate` for the task
    API, scripts/migrate.ts for Better Auth."""
    check_on_postgres_pass()
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        yield sqlite_url
        return
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    postgres_execute(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        postgres_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# The subject of the password-reset message (frontend/src/lib/mail-messages.ts).
RESET_SUBJECT = "Reset your Tasks password"


@dataclass(frozen=True)
class SmtpServer:
    mailbox: Mailbox
    url: str  # the SMTP_URL that reaches it, user name and password included


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) that `system` sends its e-mail to: e2e/smtp_sink.py."""
    with smtp_server(free_port()) as (mailbox, url):
        yield SmtpServer(mailbox=mailbox, url=url)


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[System]:
    with whole_system(tmp_path_factory.mktemp("system"), smtp) as running:
        yield running


@pytest.fixture(scope="session")
def verifying_system(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer
) -> Iterator[System]:
    """The whole system as `system`, with REQUIRE_EMAIL_VERIFICATION on."""
    settings = {"REQUIRE_EMAIL_VERIFICATION": "true"}
    with whole_system(tmp_path_factory.mktemp("verifying"), smtp, settings) as running:
        yield running


@contextlib.contextmanager
def whole_system(
    work: Path, smtp: SmtpServer, extra_env: dict[str, str] | None = None
) -> Iterator[System]:
    """taskapi and the web app (sending e-mail to `smtp`) on free ports, with fresh databases
    (both on PostgreSQL when TEST_DATABASE_URL is set: `fresh_database`)."""
    if not (FRONTEND / ".next" / "BUILD_ID").exists() or not (FRONTEND / WEB_SERVER).exists():
        pytest.fail("the frontend is not built: run `make test` (it runs `npm run build` first)")
    backend_port, frontend_port = free_port(), free_port()
    secret = secrets.token_urlsafe(32)
    backend_url = f"http://127.0.0.1:{backend_port}"
    with (
        fresh_database(f"sqlite:///{work / 'tasks.db'}") as tasks_database,
        fresh_database(f"sqlite:{work / 'auth.db'}") as auth_database,
    ):
        backend_env = {
            **{
                k: v for k, v in os.environ.items() if not k.startswith(("BETTER_AUTH", "DATABASE"))
            },
            "BETTER_AUTH_SECRET": secret,
            "BETTER_AUTH_URL": f"http://127.0.0.1:{frontend_port}",
            "DATABASE_URL": tasks_database,
        }
        subprocess.run([str(TASKAPI), "migrate"], cwd=work, env=backend_env, check=True)
        backend = _start(
            [str(TASKAPI), "serve", "--port", str(backend_port)],
            work,
            backend_env,
            work / "backend.log",
        )
        try:
            # The suite's own client stands in for a reverse proxy (TRUSTED_PROXIES): every
            # browser context is a person on a machine of their own, named in X-Forwarded-For,
            # so that Better Auth's per-address rate limit treats them as the Internet would.
            settings = {
                "TRUSTED_PROXIES": "127.0.0.1",
                "SMTP_URL": smtp.url,
                "AUTH_DATABASE_URL": auth_database,
                **(extra_env or {}),
            }
            with web_app(work, backend_url, secret, settings, frontend_port) as (origin, log, _):
                wait_until_up(f"{backend_url}/health", backend, work / "backend.log")
                yield System(
                    url=origin, backend_url=backend_url, log=log, auth_database=auth_database
                )
        finally:
            stop(backend)
            backend_log = (work / "backend.log").read_text()
            assert "Traceback" not in backend_log, backend_log[-3000:]


@dataclass(frozen=True)
class PlainWebApp:
    url: str
    log: Path
    backend: RecordingBackend
    work: Path
    secret: str


@pytest.fixture(scope="session")
def plain_web_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainWebApp]:
    """A second web app with the defaults `make run` has (no TRUSTED_PROXIES), forwarding the
    task API to a recording stand-in (recording_backend.py). Tests that trip its per-address
    rate limit from 127.0.0.1 do it here, never on `system`. No SMTP_URL: its e-mail goes to
    `work/mail-outbox` (MAIL_OUTBOX), as `make run`'s goes to frontend/mail-outbox."""
    work = tmp_path_factory.mktemp("plain")
    secret = secrets.token_urlsafe(32)
    outbox = {"MAIL_OUTBOX": str(work / "mail-outbox")}
    with (
        recording_backend() as backend,
        web_app(work, backend.url, secret, outbox) as (origin, log, _),
    ):
        yield PlainWebApp(url=origin, log=log, backend=backend, work=work, secret=secret)


# Short limits for `strict_web_app`, so tests of them take seconds (defaults: 30 s, 10 s, 30 s).
STRICT_LIMITS = {
    "REQUEST_TIMEOUT_MS": "2000",
    "HEADERS_TIMEOUT_MS": "1000",
    "TASK_API_TIMEOUT_MS": "1000",
}


@pytest.fixture(scope="session")
def strict_web_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlainWebApp]:
    """A web app with STRICT_LIMITS (how long a request may take to arrive, how long the task
    API may take to begin its answer), forwarding to a recording stand-in of its own."""
    work = tmp_path_factory.mktemp("strict")
    secret = secrets.token_urlsafe(32)
    with (
        recording_backend() as backend,
        web_app(work, backend.url, secret, STRICT_LIMITS) as (origin, log, _),
    ):
        yield PlainWebApp(url=origin, log=log, backend=backend, work=work, secret=secret)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        # Debian's Chromium as root in a sandboxless container, with no background traffic
        # (this machine's network is closed and would refuse it).
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    yield chromium
    chromium.close()


_people = itertools.count(1)


def new_context(browser: Browser, system: System, **options: Any) -> BrowserContext:
    """A browser context for one person on their own machine. Better Auth rate-limits sign-in
    and sign-up per client address (3 in 10 s in production); the suite's web app trusts
    X-Forwarded-For from 127.0.0.1 (TRUSTED_PROXIES), so each person here gets an address of
    their own, as on the real Internet."""
    person = next(_people)
    ctx = browser.new_context(
        base_url=system.url,
        viewport=options.pop("viewport", {"width": 1280, "height": 900}),
        extra_http_headers={"X-Forwarded-For": f"198.51.100.{person % 250 + 1}"},
        **options,
    )
    ctx.set_default_timeout(15_000)
    return ctx


@pytest.fixture
def context(browser: Browser, system: System) -> Iterator[BrowserContext]:
    ctx = new_context(browser, system)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# --- what a person does, used by the tests -------------------------------------------


def new_email() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page: Page, name: str, email: str, password: str = "correct horse 42") -> None:
    page.goto("/signup")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/tasks$"))
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()


def sign_up_by_api(page: Page, name: str, email: str, password: str = "correct horse 42") -> None:
    """Where `sign_up` ends (a new account, signed in on `page`'s browser context, its empty task
    list shown), reached through the call the sign-up form makes (Better Auth's
    POST /api/auth/sign-up/email, from the context, with its cookies and client address) instead
    of the form: for tests of what comes after signing up, a page load cheaper. The form itself
    is what the tests calling `sign_up` go through (the journey, the front door, `make run`, the
    weak-password and confirmation tests, the page under its CSP)."""
    answer = page.request.post(
        "/api/auth/sign-up/email", data={"name": name, "email": email, "password": password}
    )
    assert answer.ok, (answer.status, answer.text())
    page.goto("/tasks")
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()


def add_task(page: Page, title: str, details: str = "") -> None:
    page.get_by_label("New task").fill(title)
    page.get_by_label("Details (optional)").fill(details)
    page.get_by_role("button", name="Add task").click()
    expect(task_titles(page).first).to_have_text(title)
    expect(page.get_by_label("New task")).to_have_value("")


def task_titles(page: Page) -> Locator:
    return page.get_by_test_id("task-title")


def call_api(page: Page, method: str, path: str = "", body: Any = None) -> Any:
    """The task API called as the person signed in on `page` (their session, a fresh JWT), for
    setting up and checking what the browser adds nothing to. `path` follows
    `/api/{user_id}/tasks`; answers the JSON body, and fails on anything but a 2xx."""
    token = page.request.get("/api/auth/token").json()["token"]
    user_id = page.request.get("/api/auth/get-session").json()["user"]["id"]
    response = page.request.fetch(
        f"/api/{user_id}/tasks{path}",
        method=method,
        headers={"Authorization": f"Bearer {token}"},
        data=body,
    )
    assert response.ok, (method, path, response.status, response.text())
    return response.json() if response.status != 204 else None
