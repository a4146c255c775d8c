"""A real SMTP server for the browser suite (aiosmtpd, https://aiosmtpd.aio-libs.org/): the web
app sends its e-mail here through SMTP_URL, with a user name and password, as it would to a
provider; the tests read what arrived."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

# Characters that must be percent-encoded in the URL, so that decoding them is tested too.
USER = "tasks@mail.test"
# Recipients starting with this are refused (550), as a provider refuses an unknown mailbox.
REFUSED = "refused-"
PASSWORD = "p@ss:word/1"


@dataclass(frozen=True)
class Message:
    sender: str
    recipients: list[str]
    headers: EmailMessage
    text: str  # the text/plain body, decoded


class Mailbox:
    """Every message the server accepted, in order of arrival."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._arrived = threading.Condition()
        self.logins: list[tuple[bytes, bytes]] = []

    # aiosmtpd's handler hooks (https://aiosmtpd.aio-libs.org/en/latest/handlers.html).
    async def handle_RCPT(  # noqa: N802 (the name aiosmtpd calls)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith(REFUSED):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(("plain",))
        message = Message(
            sender=envelope.mail_from or "",
            recipients=list(envelope.rcpt_tos),
            headers=parsed,
            text=body.get_content() if body is not None else "",
        )
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        ok = (data.login, data.password) == (USER.encode(), PASSWORD.encode())
        return AuthResult(success=ok, handled=False)

    def to(self, address: str, subject: str | None = None) -> list[Message]:
        """The messages to `address` (with this `subject` only, when given)."""
        with self._arrived:
            return [
                m
                for m in self._messages
                if address in m.recipients and subject in (None, m.headers["Subject"])
            ]

    def wait_for(
        self, address: str, count: int = 1, seconds: float = 15, subject: str | None = None
    ) -> Message:
        """The `count`-th message to `address` (of those with `subject`, when given), once it has
        arrived (the web app sends in the background, after answering); fails after `seconds`."""
        with self._arrived:
            arrived = self._arrived.wait_for(
                lambda: len(self.to(address, subject)) >= count, seconds
            )
            assert arrived, f"no message {count} to {address} in {seconds} s: {self._messages}"
            return self.to(address, subject)[count - 1]


@contextmanager
def smtp_server(port: int) -> Iterator[tuple[Mailbox, str]]:
    """An SMTP server on 127.0.0.1:`port` that offers AUTH and checks the login (no TLS):
    (its mailbox, the SMTP_URL that reaches it)."""
    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=mailbox.authenticate,
        # A login without TLS (loopback only). Not demanded, which aiosmtpd warns against without
        # TLS; the tests check `logins` instead, and a wrong login is refused (535) either way.
        auth_require_tls=False,
    )
    controller.start()
    try:
        url = f"smtp://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@127.0.0.1:{port}"
        yield mailbox, url
    finally:
        controller.stop()
