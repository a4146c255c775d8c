"""The throwaway PostgreSQL server of tests/postgres_server.py: its own port and directory, stop and
start on demand, and nothing left behind however the test ends."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer, postgres_server

pytestmark = pytest.mark.postgresql


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


class Boom(Exception):
    pass


def exercise_then_fail(seen: list[PostgresServer]) -> None:
    with postgres_server() as server:
        seen.append(server)
        assert server.port != 5432
        assert accepts(server.port)
        assert (server.directory / f".s.PGSQL.{server.port}").is_socket()
        server.stop()
        assert not accepts(server.port)
        assert not server.running()
        server.start()
        assert accepts(server.port)
        raise Boom


def test_it_stops_and_starts_on_demand_then_leaves_nothing_behind_even_on_failure() -> None:
    seen: list[PostgresServer] = []
    with pytest.raises(Boom):
        exercise_then_fail(seen)
    (server,) = seen
    assert not accepts(server.port)
    assert not Path(server.directory).exists()
