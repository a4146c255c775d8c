"""Properties over any text: what is accepted comes back exactly, and the limits hold."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskapi.models import DESCRIPTION_MAX, TITLE_MAX
from tests.keys import hs256

# Titles are trimmed of Unicode White_Space (what pydantic-core's trim removes), nothing else.
WHITE_SPACE = "".join(
    [
        *map(chr, range(0x09, 0x0E)),
        *" \x85\xa0\u1680",
        *map(chr, range(0x2000, 0x200B)),
        *"\u2028\u2029\u202f\u205f\u3000",
    ]
)

# Any character a JSON string can carry, except NUL (refused: PostgreSQL cannot store it) and
# lone surrogates (not Unicode text at all).
characters = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
HEADERS = {"Authorization": f"Bearer {hs256('prop', exp=2**31 - 1)}"}
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
pytestmark = pytest.mark.usefixtures("live_api")


@pytest.fixture(scope="module")
def http(live_api: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_api, headers=HEADERS) as client:
        yield client


@FAST
@given(title=st.text(characters, min_size=1, max_size=TITLE_MAX))
def test_any_title_round_trips_trimmed(http: httpx.Client, title: str) -> None:
    response = http.post("/api/prop/tasks", json={"title": title})
    stripped = title.strip(WHITE_SPACE)
    if not stripped:
        assert response.status_code == 422
        return
    assert response.status_code == 201, response.text
    assert response.json()["title"] == stripped
    stored = http.get(f"/api/prop/tasks/{response.json()['id']}")
    assert stored.json()["title"] == stripped


@FAST
@given(
    description=st.text(characters, max_size=DESCRIPTION_MAX + 50),
)
def test_any_description_round_trips_within_the_limit(http: httpx.Client, description: str) -> None:
    response = http.post("/api/prop/tasks", json={"title": "t", "description": description})
    if len(description) > DESCRIPTION_MAX:
        assert response.status_code == 422
        return
    assert response.status_code == 201, response.text
    stored = http.get(f"/api/prop/tasks/{response.json()['id']}")
    assert stored.json()["description"] == description  # kept exactly, whitespace included


@FAST
@given(padding=st.text(st.sampled_from(WHITE_SPACE), max_size=20), extra=st.integers(0, 3))
def test_the_title_limit_counts_after_trimming(
    http: httpx.Client, padding: str, extra: int
) -> None:
    title = padding + "x" * (TITLE_MAX + extra) + padding
    response = http.post("/api/prop/tasks", json={"title": title})
    assert response.status_code == (201 if extra == 0 else 422)


@FAST
@given(bad=st.text(characters, max_size=20).map(lambda s: s + "\x00"))
def test_nul_is_refused_everywhere(http: httpx.Client, bad: str) -> None:
    for body in ({"title": "t" + bad}, {"title": "t", "description": bad}):
        assert http.post("/api/prop/tasks", json=body).status_code == 422
