"""The task page's details: an edit sends only what the person changed, long unbroken text never
widens the page, the forms show the API's limits and its words, Escape leaves what it opened,
"Clear completed" only when something is, signed-in people sent to their tasks, the 404 page and
the icon."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, Request, Route, expect

from conftest import (
    System,
    add_task,
    call_api,
    new_context,
    new_email,
    screenshot,
    sign_up_by_api,
    task_titles,
)

TASKS = re.compile(r"/api/[^/]+/tasks$")


# Chromium's datetime-local needs about 215 px for "12/31/2026, 12:00 PM" and its picker icon.
DUE_FIELD_MIN_WIDTH = 216


def test_an_edit_sends_only_what_the_person_changed_and_escape_leaves_it(page: Page) -> None:
    sign_up_by_api(page, "Uma", new_email())
    created = call_api(
        page,
        "POST",
        body={
            "title": "Plan the trip",
            "description": "  padded, with spaces  ",
            "priority": "high",
            "tags": ["zeta", "alpha"],
            "due_at": "2026-12-01T17:00:45Z",  # seconds, which the form's minutes cannot show
        },
    )
    page.reload()
    sent: list[Any] = []

    def record(request: Request) -> None:
        if request.method == "PATCH":
            sent.append(request.post_data_json)

    page.on("request", record)
    editor = page.get_by_test_id("task").locator("form")

    # A title-only edit sends the title, and nothing else changes.
    page.get_by_role("button", name="Edit: Plan the trip").click()
    # The due time shows whole in the editor too (at 1280 px its column once cut off AM/PM).
    due_widths = [
        box["width"] for box in (f.bounding_box() for f in page.get_by_label("Due").all()) if box
    ]
    assert len(due_widths) == 2
    assert min(due_widths) >= DUE_FIELD_MIN_WIDTH, due_widths
    editor.get_by_label("Title", exact=True).fill("Plan the trip to Rome")
    editor.get_by_role("button", name="Save").click()
    expect(task_titles(page)).to_have_text(["Plan the trip to Rome"])
    assert sent == [{"title": "Plan the trip to Rome"}]
    stored = call_api(page, "GET", f"/{created['id']}")
    assert created["due_at"].startswith("2026-12-01T17:00:45")
    for name in ("due_at", "description", "tags", "priority"):
        assert stored[name] == created[name], name

    # Fields touched but left as they were (other spacing between the same tags, in the same
    # order) send nothing at all.
    page.get_by_role("button", name="Edit: Plan the trip to Rome").click()
    editor.get_by_label("Details").fill("something else")
    editor.get_by_label("Details").fill("  padded, with spaces  ")
    editor.get_by_label("Priority").select_option("low")
    editor.get_by_label("Priority").select_option("high")
    editor.get_by_label("Tags").fill("zeta,alpha")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_count(0)
    assert len(sent) == 1

    # Tags in another order are a change; a cleared due date is null; details go as typed.
    page.get_by_role("button", name="Edit: Plan the trip to Rome").click()
    editor.get_by_label("Tags").fill("alpha, zeta")
    editor.get_by_label("Details").fill("New details ")
    editor.get_by_label("Due").fill("")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_have_count(0)
    assert sent[1:] == [{"description": "New details ", "tags": ["alpha", "zeta"], "due_at": None}]
    stored = call_api(page, "GET", f"/{created['id']}")
    assert (stored["title"], stored["priority"]) == ("Plan the trip to Rome", "high")

    # Escape leaves the form, unsaved, and gives the focus back to its Edit button.
    edit = page.get_by_role("button", name="Edit: Plan the trip to Rome")
    edit.click()
    editor.get_by_label("Title", exact=True).fill("Not kept")
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(edit).to_be_focused()
    expect(task_titles(page)).to_have_text(["Plan the trip to Rome"])
    assert len(sent) == 2

    # Escape also takes back a delete about to be confirmed.
    page.get_by_role("button", name="Delete: Plan the trip to Rome").click()
    expect(page.get_by_role("button", name="Yes, delete")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Yes, delete")).to_have_count(0)
    expect(task_titles(page)).to_have_count(1)


# Every rendered button, scrolled to: inside the viewport's width, and the element a click at its
# centre reaches (not text lying over it). Answers the ones that are not, by their text.
BUTTONS_OUT_OF_REACH = """() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  for (const button of document.querySelectorAll("button")) {
    if (button.getClientRects().length === 0) continue;
    button.scrollIntoView({ block: "center", inline: "nearest" });
    const box = button.getBoundingClientRect();
    const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    if (box.left < 0 || box.right > width || !button.contains(hit)) {
      bad.push(`${button.textContent} (${Math.round(box.left)}-${Math.round(box.right)})`);
    }
  }
  window.scrollTo(0, 0);
  return bad;
}"""


def assert_fits(page: Page, width: int, state: str) -> None:
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, (state, width, scroll_width)
    assert page.evaluate(BUTTONS_OUT_OF_REACH) == [], (state, width)


def test_long_unbroken_text_never_widens_the_page(browser: Browser, system: System) -> None:
    ctx = new_context(browser, system)
    try:
        page = ctx.new_page()
        sign_up_by_api(page, "N" * 100, new_email())  # the name is shown in the header
        tags = [f"{'t' * 28}{n:02d}" for n in range(10)]
        call_api(page, "POST", body={"title": "A" * 120})
        call_api(page, "POST", body={"title": "B" * 200, "description": "D" * 1000, "tags": tags})
        page.reload()
        expect(task_titles(page)).to_have_count(2)
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            assert_fits(page, width, "list")

            page.get_by_role("button", name=f"Delete: {'A' * 120}").click()
            expect(page.get_by_role("button", name="Yes, delete")).to_be_visible()
            assert_fits(page, width, "confirming a delete")
            page.get_by_role("button", name="Keep it").click()

            page.get_by_role("button", name=f"Edit: {'B' * 200}").click()
            assert_fits(page, width, "editing")
            page.get_by_role("button", name="Cancel").click()

            page.get_by_role("button", name=f"Show tasks tagged {tags[0]}").click()
            expect(task_titles(page)).to_have_count(1)
            assert_fits(page, width, "filtered by a tag")
            page.get_by_role("button", name=f"Stop filtering by {tags[0]}").click()

            page.get_by_label("Search").fill("S" * 100)
            expect(page.get_by_text("No tasks match")).to_be_visible()
            assert_fits(page, width, "searching")
            page.get_by_label("Search").fill("")
            expect(task_titles(page)).to_have_count(2)
        screenshot(page, "tasks-long-text-phone")
    finally:
        ctx.close()


def api_limits(system: System) -> dict[str, int]:
    """The limits the form must show, read from the API's own OpenAPI document."""
    spec = httpx.get(f"{system.backend_url}/openapi.json").json()
    tasks = spec["paths"]["/api/{user_id}/tasks"]
    reference = tasks["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = spec["components"]["schemas"][reference.rsplit("/", 1)[-1]]["properties"]
    (q,) = (p for p in tasks["get"]["parameters"] if p["name"] == "q")
    return {
        "title": body["title"]["maxLength"],
        "description": next(s for s in body["description"]["anyOf"] if "maxLength" in s)[
            "maxLength"
        ],
        "tags": body["tags"]["maxItems"],
        "tag": body["tags"]["items"]["maxLength"],
        "q": q["schema"]["maxLength"],
    }


def test_the_forms_show_the_apis_limits_and_its_words(page: Page, system: System) -> None:
    limits = api_limits(system)
    sign_up_by_api(page, "Vic", new_email())
    create = page.locator("form").first
    add = create.get_by_role("button", name="Add task")

    title = create.get_by_label("New task")
    expect(create.get_by_text(f"0/{limits['title']}", exact=True)).to_be_visible()
    expect(create.get_by_text(f"0/{limits['description']}", exact=True)).to_be_visible()
    expect(create.get_by_text(f"Up to {limits['tags']} tags")).to_contain_text(
        f"{limits['tag']} characters"
    )
    expect(page.get_by_label("Search")).to_have_attribute("maxlength", str(limits["q"]))

    # Past a limit: said beside the field, before anything is sent.
    title.fill("é" * (limits["title"] + 1))
    expect(create.get_by_text(f"{limits['title'] + 1}/{limits['title']}")).to_contain_text(
        "1 too many"
    )
    expect(add).to_be_disabled()
    title.fill("é" * limits["title"])
    expect(add).to_be_enabled()
    tags = create.get_by_label("Tags")
    tags.fill(", ".join(f"t{n}" for n in range(limits["tags"] + 1)))
    expect(create.get_by_text(f"at most {limits['tags']}")).to_be_visible()
    expect(add).to_be_disabled()
    tags.fill("x" * (limits["tag"] + 1))
    expect(create.get_by_text(f"longer than {limits['tag']} characters")).to_be_visible()
    expect(add).to_be_disabled()

    # The edit form shows the same limits, counting what is there.
    tags.fill("")
    title.fill("Short")
    add.click()
    page.get_by_role("button", name="Edit: Short").click()
    editor = page.get_by_test_id("task").locator("form")
    expect(editor.get_by_text(f"5/{limits['title']}", exact=True)).to_be_visible()
    expect(editor.get_by_text(f"Up to {limits['tags']} tags")).to_be_visible()
    editor.get_by_role("button", name="Cancel").click()

    # What the API refuses is shown in its words, as they are: one more tag than the limit
    # slipped past the form on the way.
    def add_tags(route: Route) -> None:
        body: dict[str, Any] = route.request.post_data_json or {}
        route.continue_(post_data={**body, "tags": [f"t{n}" for n in range(limits["tags"] + 1)]})

    page.route(TASKS, add_tags)
    title.fill("Too many tags")
    add.click()
    expect(page.locator("main").get_by_role("alert")).to_have_text(
        f"At most {limits['tags']} tags are allowed, not {limits['tags'] + 1}."
    )


def test_pages_around_the_tasks_and_clear_completed(page: Page) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    # The icon, on every page: /favicon.ico and the one the pages link to.
    favicon = page.request.get("/favicon.ico")
    assert favicon.ok
    assert favicon.headers["content-type"].startswith("image/")
    response = page.goto("/no-such-page")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    icon = page.locator('link[rel="icon"]').first.get_attribute("href")
    assert icon is not None
    answer = page.request.get(icon)
    assert answer.ok, icon
    assert answer.headers["content-type"].startswith("image/"), icon
    home = page.get_by_role("link", name="Go to the home page")
    assert float(home.evaluate("a => parseFloat(getComputedStyle(a).paddingLeft)")) > 0  # styled
    home.click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="Create an account")).to_be_visible()

    # Signed in, the front door, the sign-in and sign-up pages lead to the tasks.
    sign_up_by_api(page, "Wes", new_email())
    for path in ("/", "/login", "/signup", "/login?expired=1"):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/tasks$"))
    page.goto("/no-such-page")
    page.get_by_role("link", name="Go to the home page").click()
    expect(page).to_have_url(re.compile(r"/tasks$"))

    # "Clear completed" is offered only when there is something completed.
    clear = page.get_by_role("button", name="Clear completed")
    expect(page.get_by_text("No tasks yet")).to_be_visible()
    expect(clear).to_have_count(0)
    add_task(page, "Only one")
    expect(clear).to_have_count(0)
    page.get_by_label("Done: Only one").click()
    expect(page.get_by_label("Done: Only one")).to_be_checked()
    clear.click()
    expect(page.get_by_text("Delete the 1 completed task?")).to_be_visible()
    page.keyboard.press("Escape")  # takes back the question
    expect(page.get_by_role("button", name="Yes, clear them")).to_have_count(0)
    page.get_by_label("Done: Only one").click()
    expect(page.get_by_label("Done: Only one")).not_to_be_checked()
    expect(clear).to_have_count(0)
    page.reload()
    expect(task_titles(page)).to_have_text(["Only one"])
    expect(clear).to_have_count(0)
    assert violations == []
