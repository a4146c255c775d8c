"""The web app's front door on a local origin: a person may open it under any loopback name of
BETTER_AUTH_URL (the suite's is http://127.0.0.1:port; `make run`'s is http://localhost:3000)
and sign up there, while every other origin stays refused, whatever Host it claims."""

from __future__ import annotations

import itertools
import re
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, expect

from conftest import System, add_task, sign_up, task_titles

_addresses = itertools.count(1)


def test_a_person_signs_up_at_localhost_when_the_origin_is_127_0_0_1(
    system: System, browser: Browser
) -> None:
    port = urlsplit(system.url).port
    assert urlsplit(system.url).hostname == "127.0.0.1"
    context = browser.new_context(
        base_url=f"http://localhost:{port}",
        extra_http_headers={"X-Forwarded-For": "203.0.113.250"},
    )
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_up(page, "Lou", f"lou-{next(_addresses)}@example.com")
        assert page.url.startswith(f"http://localhost:{port}/")
        add_task(page, "Signed up at localhost")  # its token, from this origin, is accepted
        page.reload()
        expect(task_titles(page).first).to_have_text("Signed up at localhost")
    finally:
        context.close()


def sign_in(system: System, origin: str, host: str | None = None) -> httpx.Response:
    """A sign-in with a wrong password: 401 from a trusted origin, 403 from any other."""
    headers = {
        "Origin": origin,
        # An address of its own each time: Better Auth limits sign-ins per client address.
        "X-Forwarded-For": f"203.0.113.{next(_addresses) % 200 + 1}",
    }
    if host is not None:
        headers["Host"] = host
    return httpx.post(
        f"{system.url}/api/auth/sign-in/email",
        json={"email": "nobody@example.com", "password": "not the password"},
        headers=headers,
    )


def test_the_loopback_names_of_the_origin_are_trusted(system: System) -> None:
    port = urlsplit(system.url).port
    for origin in (system.url, f"http://localhost:{port}", f"http://[::1]:{port}"):
        assert sign_in(system, origin).status_code == 401, origin


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example:{port}",
        "http://localhost:{other}",  # another program on this machine
        "http://127.0.0.1:{other}",
        "https://localhost:{port}",
        "http://127.0.0.2:{port}",
        "http://localhost.evil.example:{port}",
        "http://sub.localhost:{port}",
    ],
)
@pytest.mark.parametrize("forged_host", [False, True])
def test_any_other_origin_is_refused_whatever_host_it_claims(
    system: System, origin: str, forged_host: bool
) -> None:
    port = urlsplit(system.url).port
    assert port is not None
    origin = origin.format(port=port, other=port + 1)
    response = sign_in(system, origin, host=urlsplit(origin).netloc if forged_host else None)
    assert response.status_code == 403, (origin, response.text)
    assert re.search("origin", response.text, re.IGNORECASE)
