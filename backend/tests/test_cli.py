"""The command line as a person uses it: real processes, real exit codes, one-line errors."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.keys import ISSUER, SECRET
from tests.live import run_taskapi, serving, start_serve, wait_until_up


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path  # no .env here: only what each test passes counts


def run(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_taskapi(workdir, *args, **env)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("taskapi: ")
    return lines[0]


def test_secret_prints_a_fresh_url_safe_secret(workdir: Path) -> None:
    first, second = (run(workdir, "secret").stdout.strip() for _ in range(2))
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", first)
    assert first != second


def test_token_mints_a_verifiable_hs256_token(workdir: Path) -> None:
    result = run(
        workdir,
        "token",
        "--sub",
        "bob",
        "--ttl",
        "60",
        BETTER_AUTH_SECRET=SECRET,
        BETTER_AUTH_URL=ISSUER,
    )
    assert result.returncode == 0, result.stderr
    claims = jwt.decode(
        result.stdout.strip(), SECRET, algorithms=["HS256"], audience=ISSUER, issuer=ISSUER
    )
    assert claims["sub"] == "bob"
    assert claims["exp"] - claims["iat"] == 60


def test_token_needs_the_secret(workdir: Path) -> None:
    line = assert_one_line_error(run(workdir, "token", "--sub", "bob", BETTER_AUTH_URL=ISSUER), 2)
    assert "BETTER_AUTH_SECRET" in line


@pytest.mark.parametrize(
    ("env", "mentions"),
    [
        ({"BETTER_AUTH_SECRET": "short"}, "BETTER_AUTH_SECRET"),
        ({}, "BETTER_AUTH_URL"),
        ({"BETTER_AUTH_SECRET": SECRET, "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_a_wrong_configuration_stops_with_one_line(
    workdir: Path, env: dict[str, str], mentions: str, command: str
) -> None:
    line = assert_one_line_error(run(workdir, command, **env), 2)
    assert mentions in line


def test_serve_refuses_several_workers_on_sqlite(workdir: Path) -> None:
    result = run(
        workdir,
        "serve",
        "--workers",
        "2",
        BETTER_AUTH_SECRET=SECRET,
        DATABASE_URL=f"sqlite:///{workdir / 'tasks.db'}",
    )
    assert "PostgreSQL" in assert_one_line_error(result, 2)


def test_serve_refuses_a_database_that_is_not_migrated(
    workdir: Path, empty_database: Callable[[], str]
) -> None:
    result = run(workdir, "serve", BETTER_AUTH_SECRET=SECRET, DATABASE_URL=empty_database())
    assert "taskapi migrate" in assert_one_line_error(result, 3)


def test_an_unreachable_database_is_one_line(workdir: Path) -> None:
    result = run(
        workdir,
        "migrate",
        BETTER_AUTH_SECRET=SECRET,
        DATABASE_URL="postgresql://nobody@127.0.0.1:9/none",
    )
    assert "cannot use the database" in assert_one_line_error(result, 3)


@pytest.fixture
def served(workdir: Path, empty_database: Callable[[], str]) -> Iterator[str]:
    with serving(workdir, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=empty_database()) as base:
        yield base


def test_migrate_then_serve_answers_with_a_minted_token(workdir: Path, served: str) -> None:
    token = run(workdir, "token", "--sub", "carol", BETTER_AUTH_SECRET=SECRET).stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(f"{served}/api/carol/tasks", json={"title": "from curl"}, headers=headers)
    assert created.status_code == 201
    listed = httpx.get(f"{served}/api/carol/tasks", headers=headers)
    assert [task["title"] for task in listed.json()] == ["from curl"]
    assert "server" not in listed.headers  # the server does not announce itself
    assert httpx.get(f"{served}/api/carol/tasks").status_code == 401


@pytest.mark.parametrize("sub", ["a/b", "al ice", "x" * 65, ""])
def test_token_refuses_a_sub_the_server_would_refuse(workdir: Path, sub: str) -> None:
    result = run(workdir, "token", "--sub", sub, BETTER_AUTH_SECRET=SECRET, BETTER_AUTH_URL=ISSUER)
    assert result.returncode == 2
    assert "is not a user id" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("setting", "logged"), [({}, True), ({"LOG_REQUESTS": "0"}, False)])
def test_request_lines_are_logged_unless_turned_off(
    workdir: Path, empty_database: Callable[[], str], setting: dict[str, str], logged: bool
) -> None:
    """A server's access log by default; LOG_REQUESTS=0 (what `make run` sets) leaves the
    terminal to errors. Start-up lines and errors are logged either way."""
    env = {"BETTER_AUTH_SECRET": SECRET, "DATABASE_URL": empty_database(), **setting}
    assert run(workdir, "migrate", **env).returncode == 0
    process, base, log = start_serve(workdir, **env)
    try:
        wait_until_up(base, process, log)
        assert httpx.get(f"{base}/api/dan/tasks").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=15)
    lines = log.read_text().splitlines()
    requests = [line for line in lines if '"logger": "taskapi.access"' in line]
    assert bool(requests) is logged, lines
    assert any("Uvicorn running on" in line for line in lines), lines
    assert not any("\\u001b[" in line for line in lines), lines  # no terminal colour codes
