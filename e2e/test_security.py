"""The browser-facing defences: session cookie attributes, the Content-Security-Policy, and
Better Auth's sign-in rate limit (on, since the suite runs the production build)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

from conftest import System, new_context, new_email, sign_up, sign_up_by_api


def test_the_session_cookie_is_httponly_and_samesite_lax(
    context: BrowserContext, page: Page
) -> None:
    sign_up_by_api(page, "Kim", new_email())
    session = [c for c in context.cookies() if "session_token" in c["name"]]
    assert session, context.cookies()
    for cookie in session:
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Lax"
    # Not readable from the page's scripts.
    assert "session_token" not in page.evaluate("() => document.cookie")


def test_pages_carry_a_nonce_based_csp_and_still_work(system: System, page: Page) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    seen: list[str] = []
    for path in ("/", "/login", "/signup"):
        response = httpx.get(f"{system.url}{path}")
        csp = response.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([^']+)'", csp)
        assert nonce is not None, csp
        seen.append(nonce.group(1))
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert f'nonce="{nonce.group(1)}"' in response.text  # Next.js put it on its scripts
    assert len(set(seen)) == len(seen)  # a fresh nonce for every response

    sign_up(page, "Lee", new_email())  # scripts run: the app works
    assert violations == []


def test_an_injected_script_does_not_run(page: Page) -> None:
    sign_up_by_api(page, "Max", new_email())
    page.get_by_label("New task").fill(
        '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    )
    page.get_by_role("button", name="Add task").click()
    expect(page.get_by_test_id("task-title").first).to_contain_text("<script>")  # shown as text
    assert page.evaluate("() => window.pwned") is None


def test_sign_in_is_rate_limited_per_client(browser: Browser, system: System) -> None:
    ctx = new_context(browser, system)
    try:
        page = ctx.new_page()
        page.goto("/login")
        for _ in range(4):
            page.get_by_label("Email").fill("nobody@example.com")
            page.get_by_label("Password").fill("not the password")
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("main").get_by_role("alert")).to_be_visible()
        expect(page.locator("main").get_by_role("alert")).to_have_text(
            "Too many attempts. Wait a few seconds and try again."
        )
    finally:
        ctx.close()
