"""Two-factor sign-in with TOTP and "Delete my account" (issue #13, items 4 and 6), through the
browser: the secret is read from the set-up page as a person would type it into an app, and the
codes are computed from it with pyotp (RFC 6238), as an authenticator app computes them.

Better Auth limits each two-factor route, and /delete-user, to 3 requests in 10 s per client
address (production, as here; the count starts again only after 10 s without one); a test that
needs more moves to another address (`move`: the same browser on another network) or opens a
browser context of its own (`another_machine`, conftest.new_context).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import secrets
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from conftest import (
    FRONTEND,
    NODE_BIN,
    System,
    fresh_database,
    new_context,
    new_email,
    postgres_execute,
    screenshot,
    sign_up_by_api,
)

PASSWORD = "correct horse 42"
CODE_FIELD = "Code from your authenticator app"


PERIOD = 30  # seconds, RFC 6238's and Better Auth's default
# Four characters of a backup code (frontend/src/lib/backup-code.ts).
BACKUP_GROUP = "[23456789ACDEFGHJKMNPQRTVWXY]{4}"


@dataclass
class TwoFactor:
    totp: pyotp.TOTP
    backup_codes: list[str]
    last_step: int = 0  # the time-step of the last code handed out

    def code(self) -> str:
        """A code the server has not taken yet: the current period's, or the next one's when the
        current one has been used (Better Auth's window reaches one period ahead); when both
        have, the next period is waited for. A code is accepted once
        (frontend/src/lib/totp-once.ts, RFC 6238 §5.2)."""
        while (step := max(int(time.time()) // PERIOD, self.last_step + 1)) > (
            int(time.time()) // PERIOD + 1
        ):
            time.sleep(PERIOD - time.time() % PERIOD + 0.1)
        self.last_step = step
        return self.totp.at(step * PERIOD)


def wrong_code(totp: pyotp.TOTP) -> str:
    """Six digits that none of the codes accepted now is (the current one and one period either
    side: Better Auth's window)."""
    now = time.time()
    accepted = {totp.at(now + 30 * step) for step in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def alert(page: Page) -> Locator:
    return page.locator("main").get_by_role("alert")


@pytest.fixture
def people(browser: Browser, system: System) -> Iterator[list[BrowserContext]]:
    """Browser contexts opened by a test (each a person on a machine of their own), closed after."""
    opened: list[BrowserContext] = []
    yield opened
    for ctx in opened:
        ctx.close()


_addresses = itertools.count(1)


def move(page: Page) -> None:
    """The same browser (and session) on another network: a new X-Forwarded-For address, from a
    range conftest.new_context does not use."""
    page.context.set_extra_http_headers(
        {"X-Forwarded-For": f"203.0.113.{next(_addresses) % 250 + 1}"}
    )


def another_machine(browser: Browser, system: System, people: list[BrowserContext]) -> Page:
    ctx = new_context(browser, system)
    people.append(ctx)
    return ctx.new_page()


def turn_on_two_factor(page: Page, password: str = PASSWORD) -> TwoFactor:
    """From the task page: Account → turn on → password → QR code and key → a wrong code is
    refused → the right one turns it on → the backup codes, shown once."""
    page.get_by_role("link", name="Account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_test_id("two-factor-status")).to_contain_text("Two-factor sign-in is off")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    screenshot(page, "account-two-factor-set-up")
    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32,}", secret), secret
    totp = pyotp.TOTP(secret)

    page.get_by_label(CODE_FIELD).fill(wrong_code(totp))
    page.get_by_role("button", name="Turn on", exact=True).click()
    expect(alert(page)).to_contain_text("That code is not right")
    # Not on yet: the server still says off.
    assert page.request.get("/api/auth/get-session").json()["user"]["twoFactorEnabled"] is not True

    factor = TwoFactor(totp=totp, backup_codes=[])
    page.get_by_label(CODE_FIELD).fill(factor.code())
    page.get_by_role("button", name="Turn on", exact=True).click()
    codes = page.get_by_test_id("backup-code")
    expect(codes).to_have_count(10)
    screenshot(page, "account-backup-codes")
    factor.backup_codes = [code.strip() for code in codes.all_inner_texts()]
    assert len(set(factor.backup_codes)) == 10
    # Easy to read off paper: one case, no look-alikes (0/O, 1/I/L, 2/Z, 5/S, 8/B), in groups.
    for backup_code in factor.backup_codes:
        assert re.fullmatch(rf"{BACKUP_GROUP}-{BACKUP_GROUP}-{BACKUP_GROUP}", backup_code)
    expect(page.get_by_role("button", name="Download codes")).to_be_visible()
    page.get_by_role("button", name="I have saved them").click()
    expect(codes).to_have_count(0)  # shown once
    expect(page.get_by_test_id("two-factor-status")).to_contain_text("Two-factor sign-in is on")
    return factor


def sign_in_with_password(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def use_backup_code(page: Page) -> None:
    """Switches the two-factor page to a backup code. A click that lands before the page is
    hydrated does nothing, and enter_code would then type into the app-code field: clicked again
    until the backup-code field is there."""
    field = page.get_by_role("textbox", name="Backup code")
    switch = page.get_by_role("button", name="Use a backup code instead")
    for _ in range(20):
        if switch.count():
            switch.click()
        try:
            expect(field).to_be_visible(timeout=500)
            return
        except AssertionError:
            continue
    expect(field).to_be_visible()


def enter_code(page: Page, code: str) -> None:
    page.get_by_role(
        "textbox", name=re.compile("Code from your authenticator app|Backup code")
    ).fill(code)
    page.get_by_role("button", name="Verify").click()


def test_two_factor_sign_in_with_app_codes_and_backup_codes(
    browser: Browser, system: System, people: list[BrowserContext]
) -> None:
    email = new_email()
    page = another_machine(browser, system, people)
    sign_up_by_api(page, "Ada", email)
    factor = turn_on_two_factor(page)

    # Signed out, the password alone no longer lets in: the code is asked for.
    page.goto("/tasks")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    move(page)
    sign_in_with_password(page, email)
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    screenshot(page, "login-two-factor")
    assert page.request.get("/api/auth/get-session").json() is None
    page.goto("/tasks")
    expect(page).to_have_url(re.compile(r"/login"))

    # A wrong code is refused; the right one lets in.
    page.goto("/login/two-factor")
    enter_code(page, wrong_code(factor.totp))
    expect(alert(page)).to_contain_text("That code is not right")
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    enter_code(page, factor.code())
    expect(page).to_have_url(re.compile(r"/tasks$"))
    expect(page.get_by_role("heading", name="Your tasks")).to_be_visible()

    # A backup code works once, on another machine, typed as from paper: in lower case, without
    # its dashes, spaced as the person likes...
    backup = factor.backup_codes[3]
    laptop = another_machine(browser, system, people)
    sign_in_with_password(laptop, email)
    expect(laptop).to_have_url(re.compile(r"/login/two-factor$"))
    use_backup_code(laptop)
    typed = backup.lower().replace("-", "")
    enter_code(laptop, f" {typed[:6]} {typed[6:]}")
    expect(laptop).to_have_url(re.compile(r"/tasks$"))

    # ...and not twice, in any form.
    library = another_machine(browser, system, people)
    sign_in_with_password(library, email)
    expect(library).to_have_url(re.compile(r"/login/two-factor$"))
    use_backup_code(library)
    enter_code(library, backup)
    expect(alert(library)).to_contain_text("That backup code is not right, or it has been used")
    assert library.request.get("/api/auth/get-session").json() is None
    # Another of the codes still works.
    enter_code(library, factor.backup_codes[4])
    expect(library).to_have_url(re.compile(r"/tasks$"))


USED_CODE = "That code has just been used. Wait for the next one your app shows."


def test_a_code_is_accepted_once_only(
    browser: Browser, system: System, people: list[BrowserContext]
) -> None:
    """RFC 6238 §5.2: a code that has signed in does not sign in again, though it is still in
    Better Auth's window (which alone would take it for 90 s); the next period's code does.
    Nor does the code that turned two-factor on (frontend/src/lib/totp-once.ts). A spent code is
    said to be used, not wrong, in the window and after it (a slow second machine once met its
    code after the window, and read "not right")."""
    email = new_email()
    page = another_machine(browser, system, people)
    sign_up_by_api(page, "Alan", email)
    factor = turn_on_two_factor(page)
    set_up_code = factor.totp.at(factor.last_step * PERIOD)

    laptop = another_machine(browser, system, people)
    sign_in_with_password(laptop, email)
    expect(laptop).to_have_url(re.compile(r"/login/two-factor$"))
    enter_code(laptop, set_up_code)
    expect(alert(laptop)).to_have_text(USED_CODE)
    assert laptop.request.get("/api/auth/get-session").json() is None
    code = factor.code()
    enter_code(laptop, code)
    expect(laptop).to_have_url(re.compile(r"/tasks$"))
    # At once, inside the plugin's window (factor.code() leaves it 30 s at least): refused by
    # the server with a code of its own, not the plugin's INVALID_CODE for a wrong one.
    assert int(time.time()) // PERIOD - factor.last_step <= 1
    answer = laptop.request.post(
        "/api/auth/two-factor/verify-totp", data={"code": code}, headers={"Origin": system.url}
    )
    assert answer.status == 401, answer.text()
    assert answer.json()["code"] == "TOTP_CODE_ALREADY_USED"

    phone = another_machine(browser, system, people)
    sign_in_with_password(phone, email)
    expect(phone).to_have_url(re.compile(r"/login/two-factor$"))
    enter_code(phone, code)
    # Said as used, not as mistyped: the person waits for the next code rather than retyping.
    expect(alert(phone)).to_have_text(USED_CODE)
    assert phone.request.get("/api/auth/get-session").json() is None
    # A code older than the last one accepted, out of the plugin's window: used as well (the
    # steps only go forward), and said so.
    older = factor.totp.at((factor.last_step - 3) * PERIOD)
    answer = phone.request.post(
        "/api/auth/two-factor/verify-totp", data={"code": older}, headers={"Origin": system.url}
    )
    assert answer.status == 401, answer.text()
    assert answer.json()["code"] == "TOTP_CODE_ALREADY_USED"
    assert phone.request.get("/api/auth/get-session").json() is None
    # The next period's code signs in.
    enter_code(phone, factor.code())
    expect(phone).to_have_url(re.compile(r"/tasks$"))


def test_turning_two_factor_off_needs_the_right_password_and_a_code(
    browser: Browser, system: System, people: list[BrowserContext]
) -> None:
    email = new_email()
    page = another_machine(browser, system, people)
    sign_up_by_api(page, "Grace", email)
    factor = turn_on_two_factor(page)

    page.get_by_role("button", name="Turn off two-factor sign-in").click()
    page.get_by_label("Your password").fill("not the password")
    code = factor.code()
    page.get_by_label(CODE_FIELD).fill(code)
    page.get_by_role("button", name="Turn off", exact=True).click()
    expect(alert(page)).to_contain_text("That password is not right")
    # The right password with a wrong code: still on (the server checks the code).
    move(page)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label(CODE_FIELD).fill(wrong_code(factor.totp))
    page.get_by_role("button", name="Turn off", exact=True).click()
    expect(alert(page)).to_contain_text("That code is not right")
    page.reload()
    expect(page.get_by_test_id("two-factor-status")).to_contain_text("Two-factor sign-in is on")

    # The code typed with the wrong password was not used up by it (the password is checked
    # first): it still turns two-factor off.
    page.get_by_role("button", name="Turn off two-factor sign-in").click()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label(CODE_FIELD).fill(code)
    page.get_by_role("button", name="Turn off", exact=True).click()
    expect(page.locator("main").get_by_role("status")).to_contain_text("Two-factor sign-in is off")
    page.reload()
    expect(page.get_by_test_id("two-factor-status")).to_contain_text("Two-factor sign-in is off")

    # The password alone signs in again, on another machine.
    other = another_machine(browser, system, people)
    sign_in_with_password(other, email)
    expect(other).to_have_url(re.compile(r"/tasks$"))


def test_new_backup_codes_replace_the_old_ones(
    browser: Browser, system: System, people: list[BrowserContext]
) -> None:
    email = new_email()
    page = another_machine(browser, system, people)
    sign_up_by_api(page, "Frances", email)
    factor = turn_on_two_factor(page)
    old = factor.backup_codes

    page.get_by_role("button", name="Make new backup codes").click()
    page.get_by_label("Your password").fill("not the password")
    page.get_by_label(CODE_FIELD).fill(factor.code())
    page.get_by_role("button", name="Make new codes").click()
    expect(alert(page)).to_contain_text("That password is not right")
    move(page)
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label(CODE_FIELD).fill(wrong_code(factor.totp))
    page.get_by_role("button", name="Make new codes").click()
    expect(alert(page)).to_contain_text("That code is not right")
    expect(page.get_by_test_id("backup-code")).to_have_count(0)
    page.get_by_label(CODE_FIELD).fill(factor.code())
    page.get_by_role("button", name="Make new codes").click()
    codes = page.get_by_test_id("backup-code")
    expect(codes).to_have_count(10)
    new = [code.strip() for code in codes.all_inner_texts()]
    assert not set(new) & set(old)

    other = another_machine(browser, system, people)
    sign_in_with_password(other, email)
    expect(other).to_have_url(re.compile(r"/login/two-factor$"))
    use_backup_code(other)
    enter_code(other, old[0])
    expect(alert(other)).to_contain_text("That backup code is not right")
    enter_code(other, new[0])
    expect(other).to_have_url(re.compile(r"/tasks$"))


def delete_account(page: Page, password: str, code: str | None = None) -> None:
    page.get_by_role("button", name="Delete my account…").click()
    page.get_by_label("Your password").fill(password)
    if code is not None:
        page.get_by_label(CODE_FIELD).fill(code)
    page.get_by_role("button", name="Delete my account and everything in it").click()


def verification_rows(system: System) -> list[tuple[str, str]]:
    """Better Auth's `verification` table (identifier, value), read from its database as another
    process would: SQLite, or PostgreSQL (asyncpg on a thread of its own, as postgres_execute)."""
    query = "SELECT identifier, value FROM verification"
    if system.auth_database.startswith("sqlite:"):
        path = system.auth_database.removeprefix("sqlite:")
        with contextlib.closing(sqlite3.connect(path)) as connection:
            return [(row[0], row[1]) for row in connection.execute(query)]

    async def fetch() -> list[tuple[str, str]]:
        connection = await asyncpg.connect(system.auth_database)
        try:
            return [(row[0], row[1]) for row in await connection.fetch(query)]
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, fetch()).result()


def test_deleting_the_account_needs_the_password_and_ends_on_the_sign_in_page(
    browser: Browser, system: System, people: list[BrowserContext]
) -> None:
    email = new_email()
    page = another_machine(browser, system, people)
    sign_up_by_api(page, "Linus", email)
    page.get_by_role("link", name="Account").click()
    section = page.get_by_role("region", name="Delete my account")
    expect(section).to_contain_text("every task and tag")
    expect(section).to_contain_text("every setting you saved")

    # Without two-factor there is no code field. A wrong password deletes nothing.
    page.get_by_role("button", name="Delete my account…").click()
    expect(page.get_by_label(CODE_FIELD)).to_have_count(0)
    page.get_by_role("button", name="Cancel").click()
    delete_account(page, "not the password")
    expect(alert(page)).to_contain_text("That password is not right. Nothing was deleted.")
    expect(page).to_have_url(re.compile(r"/account$"))
    assert page.request.get("/api/auth/get-session").json()["user"]["email"] == email

    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account and everything in it").click()
    expect(page).to_have_url(re.compile(r"/login\?deleted=1$"))
    expect(page.locator("main").get_by_role("status")).to_contain_text(
        "Your account has been deleted"
    )
    assert page.request.get("/api/auth/get-session").json() is None

    sign_in_with_password(page, email)
    expect(alert(page)).to_contain_text("Invalid email or password")


def test_deleting_an_account_with_two_factor_needs_a_current_code_too(
    browser: Browser, system: System, people: list[BrowserContext]
) -> None:
    email = new_email()
    page = another_machine(browser, system, people)
    sign_up_by_api(page, "Margaret", email)
    factor = turn_on_two_factor(page)
    page.reload()

    # The right password with a wrong code deletes nothing (checked by the server).
    delete_account(page, PASSWORD, wrong_code(factor.totp))
    expect(alert(page)).to_contain_text("That code is not right")
    expect(alert(page)).to_contain_text("Nothing was deleted.")
    assert page.request.get("/api/auth/get-session").json()["user"]["email"] == email

    # A sign-in elsewhere that passed the password and waits for a code: Better Auth's challenge
    # (identifier 2fa-…, value the user's id) and its attempt counter.
    user_id = page.request.get("/api/auth/get-session").json()["user"]["id"]
    laptop = another_machine(browser, system, people)
    sign_in_with_password(laptop, email)
    expect(laptop).to_have_url(re.compile(r"/login/two-factor$"))
    challenges = [name for name, value in verification_rows(system) if value == user_id]
    assert challenges
    assert all(name.startswith("2fa-") for name in challenges)

    page.get_by_label(CODE_FIELD).fill(factor.code())
    page.get_by_role("button", name="Delete my account and everything in it").click()
    expect(page).to_have_url(re.compile(r"/login\?deleted=1$"))
    expect(page.locator("main").get_by_role("status")).to_contain_text(
        "Your account has been deleted"
    )
    # The pending sign-in went with the account, counter included, not left to expire.
    left = verification_rows(system)
    assert not [row for row in left if row[1] == user_id]
    assert not [row for row in left if row[0] in {f"2fa-attempts-{c}" for c in challenges}]

    other = another_machine(browser, system, people)
    sign_in_with_password(other, email)
    expect(alert(other)).to_contain_text("Invalid email or password")


def test_the_server_refuses_deletion_without_the_password_or_the_code(
    browser: Browser, system: System, people: list[BrowserContext]
) -> None:
    """The checks are the server's, not the page's: straight to POST /api/auth/delete-user."""
    email = new_email()
    page = another_machine(browser, system, people)
    sign_up_by_api(page, "Barbara", email)

    # A fresh session and no password: Better Auth alone would delete; this app refuses.
    origin = {"Origin": system.url}  # as a browser's fetch sends it (Better Auth's CSRF check)
    answer = page.request.post("/api/auth/delete-user", data={}, headers=origin)
    assert answer.status == 400, answer.text()
    assert answer.json()["code"] == "PASSWORD_REQUIRED"
    assert answer.json()["message"] == "Type your password to delete your account."

    factor = turn_on_two_factor(page)
    move(page)
    for body, code in [
        ({"password": PASSWORD}, "TWO_FACTOR_CODE_REQUIRED"),
        ({"password": PASSWORD, "code": wrong_code(factor.totp)}, "INVALID_TWO_FACTOR_CODE"),
        ({"password": PASSWORD, "code": 123456}, "INVALID_FIELD_TYPE"),
    ]:
        answer = page.request.post("/api/auth/delete-user", data=body, headers=origin)
        assert answer.status == 400, (body, answer.text())
        assert answer.json()["code"] == code, answer.text()
    assert page.request.get("/api/auth/get-session").json()["user"]["email"] == email


def test_the_session_and_password_alone_cannot_read_the_secret_turn_off_or_renew(
    browser: Browser, system: System, people: list[BrowserContext]
) -> None:
    """With two-factor on, whoever has the session cookie and the password but not the app
    cannot get the TOTP secret (and so compute codes), make new backup codes or turn two-factor
    off: each endpoint, called straight, is refused (400, in words) without a code and with a
    wrong one, and does its work with a current one. Checked by the server
    (frontend/src/lib/second-factor-guard.ts)."""
    email = new_email()
    page = another_machine(browser, system, people)
    sign_up_by_api(page, "Katherine", email)
    origin = {"Origin": system.url}  # as a browser's fetch sends it (Better Auth's CSRF check)
    factor = turn_on_two_factor(page)

    def post(path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
        move(page)  # each route allows 3 requests in 10 s per address
        answer = page.request.post(f"/api/auth/two-factor/{path}", data=body, headers=origin)
        return answer.status, answer.json()

    for path in ("get-totp-uri", "generate-backup-codes", "disable"):
        status, body = post(path, {"password": PASSWORD})
        assert (status, body["code"]) == (400, "TWO_FACTOR_CODE_REQUIRED"), (path, body)
        assert "type the 6-digit code from your authenticator app" in str(body["message"])
        status, body = post(path, {"password": PASSWORD, "code": wrong_code(factor.totp)})
        assert (status, body["code"]) == (400, "INVALID_TWO_FACTOR_CODE"), (path, body)
        assert body["message"] == (
            "That code is not right: type the 6 digits your authenticator app shows now."
        )
        assert "totpURI" not in body
        assert "backupCodes" not in body

    # Refused without changing anything: still on, the old backup codes still good.
    assert page.request.get("/api/auth/get-session").json()["user"]["twoFactorEnabled"] is True
    status, body = post("disable", {"password": PASSWORD, "code": "ABCDE-FGHIJ"})
    assert (status, body["code"]) == (400, "INVALID_TWO_FACTOR_CODE"), body
    assert body["message"] == "That backup code is not right, or it has been used already."

    # A current code: the secret is the one the set-up page showed...
    status, body = post("get-totp-uri", {"password": PASSWORD, "code": factor.code()})
    assert status == 200, body
    assert f"secret={factor.totp.secret}" in str(body["totpURI"])
    # ...new backup codes replace the old ones...
    status, body = post("generate-backup-codes", {"password": PASSWORD, "code": factor.code()})
    assert status == 200, body
    new = body["backupCodes"]
    assert isinstance(new, list)
    assert len(new) == 10
    assert not set(new) & set(factor.backup_codes)
    # ...an old backup code no longer turns it off, a new one does (the phone lost).
    status, body = post("disable", {"password": PASSWORD, "code": factor.backup_codes[0]})
    assert (status, body["code"]) == (400, "INVALID_TWO_FACTOR_CODE"), body
    status, body = post("disable", {"password": PASSWORD, "code": str(new[0])})
    assert status == 200, body
    assert page.request.get("/api/auth/get-session").json()["user"]["twoFactorEnabled"] is False


def test_two_factor_fields_are_checked_before_the_endpoint(system: System, page: Page) -> None:
    """/two-factor/* fields have rules in auth-input.ts: type and length, in words."""
    too_long = page.request.post("/api/auth/two-factor/verify-totp", data={"code": "1" * 33})
    assert too_long.status == 400
    assert too_long.json()["message"] == "The code can be at most 32 characters."
    not_text = page.request.post("/api/auth/two-factor/verify-backup-code", data={"code": 12345})
    assert not_text.status == 400
    assert not_text.json()["message"] == "The code must be text."
    not_flag = page.request.post(
        "/api/auth/two-factor/verify-totp", data={"code": "123456", "trustDevice": "yes"}
    )
    assert not_flag.status == 400
    assert not_flag.json()["message"] == "trustDevice must be true or false."


@pytest.mark.postgresql
def test_migrate_brings_a_database_from_before_two_factor_up_to_date(tmp_path: Path) -> None:
    """scripts/migrate.ts on a database made before the two-factor plugin (its table and column
    taken away again here) adds them in place, and the second run finds nothing to do; on
    PostgreSQL too when TEST_DATABASE_URL is set."""
    with fresh_database(f"sqlite:{tmp_path / 'auth.db'}") as url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BETTER_AUTH", "AUTH_"))},
            "BETTER_AUTH_SECRET": secrets.token_urlsafe(32),
            "AUTH_DATABASE_URL": url,
        }

        def migrate() -> str:
            done = subprocess.run(
                [str(NODE_BIN / "tsx"), "scripts/migrate.ts"],
                cwd=FRONTEND,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            return done.stdout.strip()

        assert "twoFactor" in migrate()
        drop = ['DROP TABLE "twoFactor"', 'ALTER TABLE "user" DROP COLUMN "twoFactorEnabled"']
        if url.startswith("sqlite:"):
            with sqlite3.connect(url.removeprefix("sqlite:")) as db:
                for statement in drop:
                    db.execute(statement)
        else:
            postgres_execute(url, *drop)
        assert migrate() == (
            "auth database: migrated (created twoFactor; added user.twoFactorEnabled)"
        )
        assert migrate() == "auth database: up to date"


def test_a_refusal_from_the_server_is_shown_in_its_words_and_nothing_is_deleted(
    browser: Browser, system: System, people: list[BrowserContext]
) -> None:
    """When the server cannot delete (the task API, which must erase the tasks first, cannot be
    reached, say), the page shows the server's message and stays; the account is kept. The
    refusal is played here by the browser's network layer, as the server would send it."""
    email = new_email()
    page = another_machine(browser, system, people)
    sign_up_by_api(page, "Edsger", email)
    page.get_by_role("link", name="Account").click()
    message = "Your tasks could not be erased: the task service cannot be reached. Try again later."
    page.route(
        "**/api/auth/delete-user",
        lambda route: route.fulfill(
            status=503, json={"code": "TASK_API_UNAVAILABLE", "message": message}
        ),
    )
    delete_account(page, PASSWORD)
    expect(alert(page)).to_have_text(f"{message} Nothing was deleted.")
    expect(page).to_have_url(re.compile(r"/account$"))
    assert page.request.get("/api/auth/get-session").json()["user"]["email"] == email
