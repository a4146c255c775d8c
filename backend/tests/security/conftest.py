from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.keys import SECRET
from tests.live import serving


@pytest.fixture(scope="session")
def live_api(
    tmp_path_factory: pytest.TempPathFactory, empty_database: Callable[[], str]
) -> Iterator[str]:
    """A real `taskapi serve` on its own fresh database, for the fuzzers and properties."""
    workdir: Path = tmp_path_factory.mktemp("live")
    with serving(workdir, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=empty_database()) as base:
        yield base
