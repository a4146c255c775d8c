"""A person's whole journey, in a real browser against the real backend and the built frontend."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, expect

from conftest import (
    System,
    add_task,
    new_context,
    new_email,
    screenshot,
    sign_up,
    sign_up_by_api,
    task_titles,
)


def test_sign_up_manage_tasks_reload_and_sign_out(page: Page) -> None:
    page.goto("/signup")
    expect(page.get_by_text("At least 8 characters")).to_be_visible()  # the password rule
    screenshot(page, "signup")
    sign_up(page, "Ada", new_email())

    expect(page.get_by_text("No tasks yet")).to_be_visible()
    screenshot(page, "tasks-empty")

    add_task(page, "Buy milk", "2 litres, semi-skimmed")
    add_task(page, "Write report")
    add_task(page, "Call the plumber")
    expect(task_titles(page)).to_have_text(["Call the plumber", "Write report", "Buy milk"])

    # Edit in place.
    page.get_by_role("button", name="Edit: Write report").click()
    page.get_by_label("Title").fill("Write the quarterly report")
    page.get_by_role("button", name="Save").click()
    expect(task_titles(page)).to_have_text(
        ["Call the plumber", "Write the quarterly report", "Buy milk"]
    )

    # Toggle.
    page.get_by_label("Done: Buy milk").click()  # checked once the server has answered
    expect(page.get_by_label("Done: Buy milk")).to_be_checked()

    # Filter.
    page.get_by_role("button", name="Completed", exact=True).click()
    expect(task_titles(page)).to_have_text(["Buy milk"])
    page.get_by_role("button", name="Pending", exact=True).click()
    expect(task_titles(page)).to_have_text(["Call the plumber", "Write the quarterly report"])
    page.get_by_role("button", name="All", exact=True).click()
    expect(task_titles(page)).to_have_count(3)

    # Delete, with confirmation (and a change of mind first).
    page.get_by_role("button", name="Delete: Call the plumber").click()
    page.get_by_role("button", name="Keep it").click()
    expect(task_titles(page)).to_have_count(3)
    page.get_by_role("button", name="Delete: Call the plumber").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(task_titles(page)).to_have_text(["Write the quarterly report", "Buy milk"])

    # Reload: the same state comes back from the server.
    page.reload()
    expect(task_titles(page)).to_have_text(["Write the quarterly report", "Buy milk"])
    expect(page.get_by_label("Done: Buy milk")).to_be_checked()
    expect(page.get_by_label("Done: Write the quarterly report")).not_to_be_checked()
    expect(page.get_by_text("2 litres, semi-skimmed")).to_be_visible()
    screenshot(page, "tasks")

    # Sign out, and /tasks sends us to the login page.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    screenshot(page, "login")
    page.goto("/tasks")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_a_second_account_sees_none_of_the_first_accounts_tasks(
    browser: Browser, system: System
) -> None:
    first = new_context(browser, system)
    second = new_context(browser, system)
    try:
        alice, bob = first.new_page(), second.new_page()
        sign_up_by_api(alice, "Alice", new_email())
        add_task(alice, "Alice's secret plan")
        sign_up_by_api(bob, "Bob", new_email())
        expect(bob.get_by_text("No tasks yet")).to_be_visible()
        expect(bob.get_by_text("Alice's secret plan")).to_have_count(0)
        bob.reload()
        expect(bob.get_by_text("No tasks yet")).to_be_visible()
    finally:
        first.close()
        second.close()


def test_signing_in_again_finds_the_same_tasks(browser: Browser, system: System) -> None:
    email, password = new_email(), "another good one"
    first = new_context(browser, system)
    try:
        page = first.new_page()
        sign_up_by_api(page, "Carol", email, password)
        add_task(page, "Kept across sessions")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/login$"))

        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("main").get_by_role("alert")).to_be_visible()
        expect(page.get_by_label("Email")).to_have_value(email)  # what was typed stays

        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/tasks$"))
        expect(task_titles(page)).to_have_text(["Kept across sessions"])
    finally:
        first.close()


def test_a_session_that_ends_sends_the_person_to_login_with_a_message(
    context: BrowserContext, page: Page
) -> None:
    page.clock.install()
    sign_up_by_api(page, "Dan", new_email())
    add_task(page, "First task")

    # The session ends (cookie gone) and time passes beyond the 15-minute token.
    context.clear_cookies()
    page.clock.fast_forward("16:00")

    page.get_by_label("New task").fill("Typed after the session ended")
    page.get_by_role("button", name="Add task").click()
    expect(page).to_have_url(re.compile(r"/login\?expired=1$"))
    expect(page.get_by_text("You have been signed out. Please sign in again.")).to_be_visible()
    screenshot(page, "login-expired")


def test_a_rejected_token_is_refreshed_once_and_the_action_succeeds(page: Page) -> None:
    sign_up_by_api(page, "Eve", new_email())
    rejected: list[str | None] = []

    def reject_once(route: Route, request: Request) -> None:
        if not rejected and request.method == "POST":
            rejected.append(request.headers.get("authorization"))
            route.fulfill(
                status=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                json={"detail": "Invalid token: expired"},
            )
        else:
            route.continue_()

    page.route(re.compile(r"/api/[^/]+/tasks$"), reject_once)
    add_task(page, "Saved after a token refresh")
    assert len(rejected) == 1
    page.reload()
    expect(task_titles(page)).to_have_text(["Saved after a token refresh"])


def test_a_network_failure_keeps_what_was_typed(page: Page) -> None:
    sign_up_by_api(page, "Fay", new_email())
    page.route(re.compile(r"/api/[^/]+/tasks$"), lambda route: route.abort())
    page.get_by_label("New task").fill("Do not lose me")
    page.get_by_label("Details (optional)").fill("important details")
    page.get_by_role("button", name="Add task").click()
    expect(page.locator("main").get_by_role("alert")).to_contain_text("Cannot reach the server")
    expect(page.get_by_label("New task")).to_have_value("Do not lose me")
    expect(page.get_by_label("Details (optional)")).to_have_value("important details")
    page.unroute(re.compile(r"/api/[^/]+/tasks$"))
    page.get_by_role("button", name="Add task").click()
    expect(task_titles(page)).to_have_text(["Do not lose me"])


def test_the_token_never_touches_web_storage(page: Page) -> None:
    sign_up_by_api(page, "Gus", new_email())
    add_task(page, "Check storage")
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert "eyJ" not in stored  # no JWT (they all start with a base64url '{"')


def test_the_task_page_fits_a_phone(browser: Browser, system: System) -> None:
    phone = new_context(browser, system, viewport={"width": 390, "height": 844})
    try:
        page = phone.new_page()
        sign_up_by_api(page, "Hal", new_email())
        add_task(page, "A task with a rather long title that has to wrap on a small phone screen")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390
        screenshot(page, "tasks-phone")
    finally:
        phone.close()


def test_the_whole_form_works_from_the_keyboard(page: Page) -> None:
    sign_up_by_api(page, "Ivy", new_email())
    page.get_by_label("New task").focus()
    page.keyboard.type("Typed, never clicked")
    page.keyboard.press("Enter")
    expect(task_titles(page)).to_have_text(["Typed, never clicked"])
