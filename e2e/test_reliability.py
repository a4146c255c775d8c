"""Races and retries as a person meets them: an edit that lost the race, and a create whose
answer never arrived."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, Route, expect

from conftest import add_task, new_email, sign_up_by_api, task_titles


def test_an_edit_that_lost_the_race_shows_the_newer_version_and_asks(
    page: Page, context: BrowserContext
) -> None:
    sign_up_by_api(page, "Hal", new_email())
    add_task(page, "Draft the plan")
    other_tab = context.new_page()
    other_tab.goto("/tasks")
    expect(task_titles(other_tab)).to_have_text(["Draft the plan"])

    page.get_by_role("button", name="Edit: Draft the plan").click()
    page.get_by_label("Title").fill("My version of the plan")

    # Meanwhile, in the other tab, the same task is renamed and saved first.
    other_tab.get_by_role("button", name="Edit: Draft the plan").click()
    other_tab.get_by_label("Title").fill("Their version of the plan")
    other_tab.get_by_role("button", name="Save").click()
    expect(task_titles(other_tab)).to_have_text(["Their version of the plan"])

    page.get_by_role("button", name="Save").click()
    conflict = page.get_by_test_id("conflict")
    expect(conflict).to_contain_text("changed elsewhere")
    expect(conflict).to_contain_text("Their version of the plan")
    expect(page.get_by_label("Title")).to_have_value("My version of the plan")  # nothing lost

    page.get_by_role("button", name="Save mine over it").click()
    expect(task_titles(page)).to_have_text(["My version of the plan"])
    other_tab.reload()
    expect(task_titles(other_tab)).to_have_text(["My version of the plan"])


def test_keeping_the_newer_version_drops_the_edit(page: Page, context: BrowserContext) -> None:
    sign_up_by_api(page, "Ida", new_email())
    add_task(page, "Original")
    other_tab = context.new_page()
    other_tab.goto("/tasks")
    other_tab.get_by_role("button", name="Edit: Original").click()
    other_tab.get_by_label("Title").fill("Newer")
    page.get_by_role("button", name="Edit: Original").click()
    other_tab.get_by_role("button", name="Save").click()
    expect(task_titles(other_tab)).to_have_text(["Newer"])

    page.get_by_label("Title").fill("Mine")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("button", name="Keep the newer version").click()
    expect(task_titles(page)).to_have_text(["Newer"])
    page.reload()
    expect(task_titles(page)).to_have_text(["Newer"])


def test_a_create_whose_answer_was_lost_is_retried_without_a_duplicate(page: Page) -> None:
    sign_up_by_api(page, "Jo", new_email())
    keys: list[str | None] = []

    def lose_the_first_answer(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server creates the task...
            route.abort("connectionreset")  # ...but its answer never reaches the page
        else:
            route.continue_()

    page.route(re.compile(r"/api/[^/]+/tasks$"), lose_the_first_answer)
    page.get_by_label("New task").fill("Only once")
    page.get_by_role("button", name="Add task").click()
    expect(task_titles(page)).to_have_text(["Only once"])

    assert len(keys) == 2
    assert keys[0]
    assert keys[0] == keys[1]  # the retry carried the same key
    page.unroute(re.compile(r"/api/[^/]+/tasks$"))
    page.reload()
    expect(task_titles(page)).to_have_text(["Only once"])
