"""Download my data: the JSON and CSV buttons (task page, account page) save every task, through
the web app's forwarding of the task API's streamed export (GET /api/{user_id}/export)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from playwright.sync_api import Page, expect

from conftest import call_api, new_email, sign_up_by_api


def test_download_my_data_as_json_and_as_csv(page: Page) -> None:
    sign_up_by_api(page, "Dora", new_email())
    made = [
        call_api(page, "POST", body={"title": 'Milk, "eggs"', "tags": ["shop", "home"]}),
        call_api(page, "POST", body={"title": "=1+1", "description": "line one\nline two"}),
    ]
    page.reload()
    section = page.get_by_role("region", name="Download my data")

    with page.expect_download() as json_download:
        section.get_by_role("button", name="JSON").click()
    saved = json_download.value
    assert saved.suggested_filename.startswith("tasks-")
    assert saved.suggested_filename.endswith(".json")
    exported = json.loads(Path(saved.path()).read_text("utf-8"))
    assert exported == [{k: v for k, v in task.items() if k != "user_id"} for task in made]

    with page.expect_download() as csv_download:
        section.get_by_role("button", name="CSV").click()
    saved = csv_download.value
    assert saved.suggested_filename.endswith(".csv")
    text = Path(saved.path()).read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][:2] == ["id", "title"]
    assert [row[1] for row in rows[1:]] == ['Milk, "eggs"', "'=1+1"]  # a formula, neutralised
    assert rows[1][5] == '["shop","home"]'
    assert rows[2][2] == "line one\nline two"


def test_download_my_data_from_the_account_page_next_to_deleting_it(page: Page) -> None:
    """The same buttons (one component) in "Delete my account", where keeping a copy matters."""
    sign_up_by_api(page, "Edsger", new_email())
    made = call_api(page, "POST", body={"title": "Keep this one"})
    page.goto("/account")
    deletion = page.get_by_role("region", name="Delete my account")
    expect(deletion).to_contain_text(
        "If you want to keep a copy of your tasks, download them first"
    )
    section = deletion.get_by_role("region", name="Download my data")

    with page.expect_download() as json_download:
        section.get_by_role("button", name="JSON").click()
    exported = json.loads(Path(json_download.value.path()).read_text("utf-8"))
    assert exported == [{k: v for k, v in made.items() if k != "user_id"}]

    with page.expect_download() as csv_download:
        section.get_by_role("button", name="CSV").click()
    saved = csv_download.value
    assert saved.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(Path(saved.path()).read_text("utf-8"), newline="")))
    assert [row[1] for row in rows[1:]] == ["Keep this one"]
