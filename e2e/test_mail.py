"""E-mail and "Forgot password" (issue #13, items 1 and 9): the web app sends through SMTP_URL to
a real SMTP server the suite runs (smtp_sink.py), and without SMTP_URL writes to its outbox."""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import subprocess
import time
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from conftest import (
    FRONTEND,
    NODE,
    RESET_SUBJECT,
    WEB_SERVER,
    PlainWebApp,
    SmtpServer,
    System,
    new_context,
    new_email,
    sign_up_by_api,
)
from smtp_sink import PASSWORD as SMTP_PASSWORD
from smtp_sink import REFUSED
from smtp_sink import USER as SMTP_USER

OLD_PASSWORD = "correct horse 42"
NEW_PASSWORD = "battery staple 99"
LINK = re.compile(r"https?://\S+/api/auth/reset-password/\S+")
SAME_ANSWER = re.compile(r"If an account uses (\S+), we have sent it a link")


def ask_for_a_link(page: Page, email: str) -> str:
    """ "Forgot password?" from the sign-in page; the answer shown, with the address left out."""
    page.goto("/login")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page).to_have_url(re.compile(r"/forgot-password$"))
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    answer = page.locator("main").get_by_role("status")
    expect(answer).to_contain_text(f"If an account uses {email}")
    return answer.inner_text().replace(email, "ADDRESS")


def sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_forgot_password_by_email_ends_every_session_and_the_link_works_once(
    browser: Browser, system: System, smtp: SmtpServer
) -> None:
    email = new_email()
    elsewhere = new_context(browser, system)  # the account, signed in on another machine
    other_session = elsewhere.new_page()
    sign_up_by_api(other_session, "Ada", email, OLD_PASSWORD)
    forgetful = new_context(browser, system)
    page = forgetful.new_page()
    try:
        ask_for_a_link(page, email)
        # Sign-up sent its confirmation first (emailVerification.sendOnSignUp).
        message = smtp.mailbox.wait_for(email, subject=RESET_SUBJECT)
        # No MAIL_FROM, and the site is reached by IP address: the default names localhost.
        assert message.headers["From"] == "Tasks <no-reply@localhost>"
        # The credentials in SMTP_URL, percent-decoded, are what the server was given.
        assert (SMTP_USER.encode(), SMTP_PASSWORD.encode()) in smtp.mailbox.logins
        found = LINK.search(message.text)
        assert found, message.text
        link = found.group(0)
        assert link.startswith(f"{system.url}/api/auth/reset-password/")

        token = link.rsplit("/", 1)[1].split("?")[0]
        # The password rule holds here as on sign-up (src/lib/auth-limits.ts), and a refused
        # password does not spend the link.
        short = page.request.post(
            "/api/auth/reset-password",
            data={"newPassword": "7 chars", "token": token},
            headers={"Origin": system.url},
        )
        assert short.status == 400, short.text()
        assert short.json()["code"] == "PASSWORD_TOO_SHORT"

        page.goto(link)
        expect(page).to_have_url(re.compile(r"/reset-password\?token="))
        page.get_by_label("New password").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Set new password").click()
        expect(page).to_have_url(re.compile(r"/login\?reset=1$"))
        expect(page.locator("main").get_by_role("status")).to_have_text(
            "Your password has been changed. Sign in with the new one."
        )

        # The other session ended with the reset.
        other_session.goto("/tasks")
        expect(other_session).to_have_url(re.compile(r"/login\?expired=1$"))
        assert other_session.request.get("/api/auth/get-session").json() is None

        # The old password is refused, the new one works.
        sign_in(page, email, OLD_PASSWORD)
        expect(page.locator("main").get_by_role("alert")).to_contain_text(
            "Invalid email or password"
        )
        sign_in(page, email, NEW_PASSWORD)
        expect(page).to_have_url(re.compile(r"/tasks$"))

        # The link works once: opened again it says so, and its token is refused.
        page.goto(link)
        expect(page).to_have_url(re.compile(r"/reset-password\?error=INVALID_TOKEN$"))
        expect(page.locator("main").get_by_role("alert")).to_contain_text(
            "expired or was already used"
        )
        again = page.request.post(
            "/api/auth/reset-password",
            data={"newPassword": "a third password", "token": token},
            headers={"Origin": system.url},
        )
        assert again.status == 400, again.text()
        assert again.json()["code"] == "INVALID_TOKEN"
    finally:
        forgetful.close()
        elsewhere.close()


def test_the_answer_is_the_same_for_an_address_with_no_account(
    browser: Browser, system: System, smtp: SmtpServer
) -> None:
    known, unknown = new_email(), new_email()
    contexts = [new_context(browser, system) for _ in range(3)]
    try:
        sign_up_by_api(contexts[0].new_page(), "Ada", known)
        # Each from a machine of its own: the rate limit (3 a minute) is per address.
        for_unknown = ask_for_a_link(contexts[1].new_page(), unknown)
        for_known = ask_for_a_link(contexts[2].new_page(), known)
        assert for_unknown == for_known
        api = [
            contexts[n].request.post(
                "/api/auth/request-password-reset",
                data={"email": address, "redirectTo": "/reset-password"},
                headers={"Origin": system.url},
            )
            for n, address in ((1, unknown), (2, known))
        ]
        assert [a.status for a in api] == [200, 200]
        assert api[0].json() == api[1].json()
        # Both of the known address's links arrive; none was ever sent to the other.
        smtp.mailbox.wait_for(known, count=2, subject=RESET_SUBJECT)
        assert smtp.mailbox.to(unknown) == []
    finally:
        for context in contexts:
            context.close()


def test_an_smtp_failure_is_logged_without_the_link_and_the_answer_stays_the_same(
    system: System, smtp: SmtpServer
) -> None:
    email = f"{REFUSED}{new_email()}"  # the SMTP server answers 550 for this recipient
    address = f"198.18.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    headers = {"Origin": system.url, "X-Forwarded-For": address}
    with httpx.Client(base_url=system.url, headers=headers) as web:
        body = {"name": "Ada", "email": email, "password": OLD_PASSWORD}
        assert web.post("/api/auth/sign-up/email", json=body).status_code == 200
        answer = web.post(
            "/api/auth/request-password-reset",
            json={"email": email, "redirectTo": "/reset-password"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] is True

    line = mail_log_line(system.log, email)
    assert (line["level"], line["message"]) == ("error", "E-mail not sent: the SMTP server failed")
    details = line["args"][0]  # type: ignore[index]
    assert details["responseCode"] == 550
    assert details["command"] == "RCPT TO"
    # Neither the link nor its token reaches the log.
    log = system.log.read_text()
    assert "/api/auth/reset-password/" not in log
    assert smtp.mailbox.to(email) == []


def mail_log_line(log: Path, to: str, seconds: float = 15) -> dict[str, object]:
    """The web app's `mail` log line about a message to `to`, once written (the message is sent
    after the answer): the log is read again until it is there, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for raw in log.read_text().splitlines():
            if raw.startswith("{") and to in raw:
                entry: dict[str, object] = json.loads(raw)
                if entry["logger"] == "mail":
                    return entry
        time.sleep(0.05)
    raise AssertionError(f"no mail log line about {to}:\n{log.read_text()[-3000:]}")


def test_without_smtp_the_message_is_written_to_the_outbox_and_the_log_says_not_sent(
    plain_web_app: PlainWebApp,
) -> None:
    email = new_email()
    with httpx.Client(base_url=plain_web_app.url, headers={"Origin": plain_web_app.url}) as web:
        body = {"name": "Ada", "email": email, "password": OLD_PASSWORD}
        assert web.post("/api/auth/sign-up/email", json=body).status_code == 200
        answer = web.post(
            "/api/auth/request-password-reset",
            json={"email": email, "redirectTo": "/reset-password"},
        )
        assert answer.status_code == 200, answer.text

        # The outbox is written before the request returns (no await before it in lib/mail.ts).
        outbox = plain_web_app.work / "mail-outbox"
        # The sign-up's confirmation is there too (sendOnSignUp); the reset message is alone.
        files = [
            f
            for f in outbox.iterdir()
            if f"To: {email}" in (text := f.read_text()) and f"Subject: {RESET_SUBJECT}" in text
        ]
        assert len(files) == 1, list(outbox.iterdir())
        file = files[0]
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
        text = file.read_text()
        assert text.startswith("NOT SENT: SMTP_URL is not set")
        assert "Subject: Reset your Tasks password" in text
        found = LINK.search(text)
        assert found, text
        token = found.group(0).rsplit("/", 1)[1].split("?")[0]

        line = not_sent_line(plain_web_app.log, file)
        assert (line["level"], line["logger"]) == ("warn", "mail")
        assert "NOT sent (SMTP_URL is not set)" in str(line["message"])
        assert token not in json.dumps(line)

        # The link in the file is the real one.
        reset = web.post(
            "/api/auth/reset-password", json={"newPassword": NEW_PASSWORD, "token": token}
        )
        assert reset.status_code == 200, reset.text


def not_sent_line(log: Path, file: Path) -> dict[str, object]:
    for raw in log.read_text().splitlines():
        # NULs may come first: a web app restarted on plain_web_app's folder truncated the log
        # that the first one still writes to (test_auth_hardening's doomed_web_app).
        line = raw.lstrip("\x00")
        if line.startswith("{") and str(file) in line:
            entry: dict[str, object] = json.loads(line)
            return entry
    raise AssertionError(f"no log line names {file}:\n{log.read_text()[-3000:]}")


def test_a_mistyped_smtp_url_stops_the_server_with_one_line() -> None:
    for value, message in (
        (
            "mail.example.org:587",
            "SMTP_URL must start with smtp:// or smtps://, not mail.example.org://",
        ),
        ("https://mail.example.org", "SMTP_URL must start with smtp:// or smtps://, not https://"),
    ):
        env = {**os.environ, "SMTP_URL": value}
        run = subprocess.run(
            [NODE, WEB_SERVER, "--port", "0"],
            cwd=FRONTEND,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 2
        line = json.loads(run.stderr.strip().splitlines()[-1])
        assert (line["level"], line["message"]) == ("error", message)


def test_the_start_up_line_says_where_e_mail_goes(
    system: System, smtp: SmtpServer, plain_web_app: PlainWebApp
) -> None:
    def ready(log: Path) -> object:
        for raw in log.read_text().splitlines():
            line = raw.lstrip("\x00")
            if '"ready on' in line:
                return json.loads(line)["args"][0]["mail"]
        raise AssertionError(log.read_text()[-3000:])

    port = httpx.URL(smtp.url).port
    assert ready(system.log) == f"smtp://127.0.0.1:{port}"  # the password never
    # The folder is work/mail-outbox, or frontend/mail-outbox when test_auth_hardening has
    # restarted the app there without MAIL_OUTBOX (the restart rewrites the same log).
    outbox = str(ready(plain_web_app.log))
    assert outbox.startswith("not sent (SMTP_URL is not set): written to /"), outbox
    assert outbox.endswith("/mail-outbox"), outbox
