"""Priority, tags and due dates in the browser: create, then find by tag and by search; sort,
page, clear completed and the keyboard shortcuts."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from conftest import add_task, new_email, screenshot, sign_up_by_api, task_titles


def local_input(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_a_task_with_priority_tags_and_due_date_is_found_by_tag_and_by_search(
    page: Page,
) -> None:
    sign_up_by_api(page, "Kim", new_email())
    add_task(page, "Buy stamps")
    page.get_by_label("New task").fill("Renew passport")
    page.get_by_label("Details (optional)").fill("Photo booth first")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Tags").fill("Travel, admin")
    page.get_by_label("Due").fill(local_input(datetime.now() + timedelta(days=3)))
    page.get_by_role("button", name="Add task").click()

    task = page.get_by_test_id("task").filter(has_text="Renew passport")
    expect(task.get_by_test_id("priority")).to_have_text("high")
    expect(task.get_by_role("button", name="Show tasks tagged travel")).to_be_visible()
    # The task's tags are a list named after it: "Tags" alone is the form's field, only that.
    expect(task.get_by_role("list", name="Tags of Renew passport")).to_be_visible()
    expect(page.get_by_label("Tags", exact=True)).to_have_count(1)
    expect(task.get_by_test_id("due")).to_contain_text("Due ")
    expect(task_titles(page)).to_have_text(["Renew passport", "Buy stamps"])

    # By tag: a click on the chip filters the list; the ✕ lifts the filter.
    task.get_by_role("button", name="Show tasks tagged admin").click()
    expect(task_titles(page)).to_have_text(["Renew passport"])
    page.get_by_role("button", name="Stop filtering by admin").click()
    expect(task_titles(page)).to_have_count(2)

    # By search, once typing pauses; the description counts too, in any case.
    page.get_by_label("Search").fill("PHOTO")
    expect(task_titles(page)).to_have_text(["Renew passport"])
    page.get_by_label("Search").fill("nothing like it")
    expect(page.get_by_text("No tasks match.")).to_be_visible()
    page.get_by_label("Search").fill("")
    expect(task_titles(page)).to_have_count(2)

    # The tag list counts what carries each tag.
    expect(page.get_by_role("button", name="#travel 1")).to_be_visible()
    screenshot(page, "tasks-organised")  # docs/tasks.png


def test_overdue_tasks_stand_out_and_sorting_by_due_date(page: Page) -> None:
    sign_up_by_api(page, "Lee", new_email())
    for title, days in (("Later", 5), ("Late", -2), ("No date", None)):
        page.get_by_label("New task").fill(title)
        if days is not None:
            page.get_by_label("Due").fill(local_input(datetime.now() + timedelta(days=days)))
        page.get_by_role("button", name="Add task").click()
        expect(page.get_by_label("New task")).to_have_value("")

    late = page.get_by_test_id("task").filter(has_text="Late").first
    expect(late).to_have_attribute("data-overdue", "true")
    expect(late.get_by_test_id("due")).to_contain_text("Overdue")
    page.get_by_label("Sort by").select_option("due")
    expect(task_titles(page)).to_have_text(["Late", "Later", "No date"])
    page.get_by_label("Done: Late", exact=True).click()
    expect(page.get_by_test_id("task").filter(has_text="Late").first).not_to_have_attribute(
        "data-overdue", "true"
    )


def test_clear_completed_asks_first_then_says_how_many(page: Page) -> None:
    sign_up_by_api(page, "Max", new_email())
    for title in ("Keep", "Done one", "Done two"):
        add_task(page, title)
    page.get_by_label("Done: Done one").click()
    expect(page.get_by_label("Done: Done one")).to_be_checked()
    page.get_by_label("Done: Done two").click()
    expect(page.get_by_label("Done: Done two")).to_be_checked()

    page.get_by_role("button", name="Clear completed").click()
    page.get_by_role("button", name="Cancel").click()
    expect(task_titles(page)).to_have_count(3)
    page.get_by_role("button", name="Clear completed").click()
    page.get_by_role("button", name="Yes, clear them").click()
    expect(page.get_by_role("status").filter(has_text="Cleared 2 completed tasks.")).to_be_visible()
    expect(task_titles(page)).to_have_text(["Keep"])


def test_long_lists_are_paged(page: Page) -> None:
    sign_up_by_api(page, "Ned", new_email())
    for n in range(21):
        add_task(page, f"Task {n:02d}")
    expect(page.get_by_text("Showing 1\u201320 of 21")).to_be_visible()
    expect(task_titles(page)).to_have_count(20)
    page.get_by_role("button", name="Next").click()
    expect(task_titles(page)).to_have_text(["Task 00"])
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    page.get_by_role("button", name="Previous").click()
    expect(task_titles(page).first).to_have_text("Task 20")


def test_keyboard_shortcuts_n_and_slash(page: Page) -> None:
    sign_up_by_api(page, "Oli", new_email())
    page.locator("body").click()
    page.keyboard.press("n")
    expect(page.get_by_label("New task")).to_be_focused()
    page.keyboard.type("Typed, not a shortcut: n/")
    expect(page.get_by_label("New task")).to_have_value("Typed, not a shortcut: n/")
    page.locator("body").click()
    page.keyboard.press("/")
    expect(page.get_by_label("Search")).to_be_focused()
