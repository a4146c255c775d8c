"""Properties over any text: what is accepted comes back as normalised (taskapi.text), and the
limits hold for what is stored."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskapi import text
from taskapi.models import DESCRIPTION_MAX, TAG_MAX, TAGS_MAX, TITLE_MAX
from tests.keys import hs256

# Any character a JSON string can carry, except NUL (refused: PostgreSQL cannot store it) and
# lone surrogates (not Unicode text at all); unassigned code points (refused) included...
characters = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
# ... and more often than chance, those normalising changes: invisible ones, combining marks,
# ones that NFC spells with two, ones that lower-casing lengthens.
TRICKY = "\u200b\ufeff\u3164\u00ad\ufe0f\u0301\u0307\u0130\u01c5\u0958\ufb2c\u212b\u00df \t\x85"
tricky = st.one_of(characters, st.sampled_from(TRICKY))
INVISIBLE = text.INVISIBLE
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
pytestmark = pytest.mark.usefixtures("live_api")


@pytest.fixture(scope="module")
def http(live_api: str) -> Iterator[httpx.Client]:
    # Made when the module's tests start, not when it is imported: a token older than the
    # longest lifetime is refused (taskapi.auth.revocation), and a whole suite takes longer.
    headers = {"Authorization": f"Bearer {hs256('prop', exp=2**31 - 1)}"}
    with httpx.Client(base_url=live_api, headers=headers) as client:
        yield client


@FAST
@given(title=st.text(tricky, min_size=1, max_size=TITLE_MAX))
def test_any_title_is_stored_composed_and_trimmed(http: httpx.Client, title: str) -> None:
    response = http.post("/api/prop/tasks", json={"title": title})
    expected = text.title(title)
    if not expected or len(expected) > TITLE_MAX or text.unassigned(expected):
        assert response.status_code == 422
        return
    assert response.status_code == 201, response.text
    assert response.json()["title"] == expected
    stored = http.get(f"/api/prop/tasks/{response.json()['id']}")
    assert stored.json()["title"] == expected


def _within_every_limit(task: dict[str, Any]) -> bool:
    """The limits the README states, on a task as stored."""
    title, description, tags = task["title"], task["description"] or "", task["tags"]
    texts = [title, description, *tags]
    return (
        1 <= len(title) <= TITLE_MAX
        and title[0] not in INVISIBLE
        and len(description) <= DESCRIPTION_MAX
        and len(tags) <= TAGS_MAX
        and len(set(tags)) == len(tags)
        and text.shows(title)
        and all(1 <= len(tag) <= TAG_MAX and text.shows(tag) and tag == tag.lower() for tag in tags)
        and all(unicodedata.is_normalized("NFC", value) for value in texts)
        and not any("\x00" in value for value in texts)
        and not any(text.unassigned(value) for value in texts)
    )


@FAST
@given(
    title=st.text(tricky, min_size=1, max_size=TITLE_MAX + 5),
    description=st.none() | st.text(tricky, max_size=DESCRIPTION_MAX + 5),
    tags=st.lists(
        st.text(tricky, min_size=1, max_size=TAG_MAX + 2)
        | st.integers(14, 16).map(lambda n: "\u0130" * n),
        max_size=TAGS_MAX + 1,
    ),
)
def test_any_accepted_body_is_stored_within_every_limit(
    http: httpx.Client, title: str, description: str | None, tags: list[str]
) -> None:
    body = {"title": title, "description": description, "tags": tags}
    response = http.post("/api/prop/tasks", json=body)
    normalised = {
        "title": text.title(title),
        "description": None if description is None else text.description(description),
        "tags": list(dict.fromkeys(text.tag(tag) for tag in tags)),
    }
    if response.status_code == 422:  # refused only for breaking a limit once normalised
        assert not _within_every_limit(normalised)
        return
    assert response.status_code == 201, response.text
    stored = http.get(f"/api/prop/tasks/{response.json()['id']}").json()
    assert _within_every_limit(stored)
    assert {name: stored[name] for name in normalised} == normalised


@FAST
@given(
    description=st.text(characters, max_size=DESCRIPTION_MAX + 50),
)
def test_any_description_round_trips_within_the_limit(http: httpx.Client, description: str) -> None:
    response = http.post("/api/prop/tasks", json={"title": "t", "description": description})
    composed = unicodedata.normalize("NFC", description)
    if len(composed) > DESCRIPTION_MAX or text.unassigned(composed):
        assert response.status_code == 422
        return
    assert response.status_code == 201, response.text
    stored = http.get(f"/api/prop/tasks/{response.json()['id']}")
    assert stored.json()["description"] == composed  # composed, whitespace kept


@FAST
@given(
    padding=st.text(st.sampled_from(sorted(set(INVISIBLE) - set(text.MODIFIERS))), max_size=20),
    extra=st.integers(0, 3),
)
def test_the_title_limit_counts_after_trimming(
    http: httpx.Client, padding: str, extra: int
) -> None:
    title = padding + "x" * (TITLE_MAX + extra) + padding
    response = http.post("/api/prop/tasks", json={"title": title})
    assert response.status_code == (201 if extra == 0 else 422)


@FAST
@given(bad=st.text(characters, max_size=20).map(lambda s: s + "\x00"))
def test_nul_is_refused_everywhere(http: httpx.Client, bad: str) -> None:
    for body in (
        {"title": "t" + bad},
        {"title": bad + "t"},
        {"title": "t", "description": bad},
        {"title": "t", "tags": [bad + "t"]},
    ):
        assert http.post("/api/prop/tasks", json=body).status_code == 422
    for query in ({"q": bad + "t"}, {"tag": "t" + bad}):
        assert http.get("/api/prop/tasks", params=query).status_code == 422
