"""Better Auth's endpoints as an attacker meets them, over plain HTTP: every field's type and size,
the body limit, the client address behind the rate limit, caching, and the log.

Tests that sign in or up on `system` send a fresh X-Forwarded-For each time (`system` trusts
127.0.0.1 as a proxy), so no test's attempts count against another's; the default, which ignores
that header, is tested on `plain_web_app`."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import FRONTEND, NODE, WEB_SERVER, PlainWebApp, System, new_email, stop, web_app

PASSWORD = "correct horse 42"
# The limits the server promises (frontend/src/lib/auth-limits.ts).
NAME_MAX, EMAIL_MAX, LOCAL_PART_MAX, PASSWORD_MAX, URL_MAX, TOKEN_MAX = 100, 254, 64, 128, 2048, 512
BODY_MAX = 16 * 1024

_addresses = itertools.count(1)


def fresh_address() -> str:
    """An address no other request of the run has used (100.64.0.0/10, shared address space)."""
    n = next(_addresses)
    return f"100.{64 + n // 62500}.{n // 250 % 250}.{n % 250 + 1}"


def client(url: str, forwarded_for: str | None = None) -> httpx.Client:
    headers = {"Origin": url}  # Better Auth refuses cookie-bearing posts from other origins
    if forwarded_for:
        headers["X-Forwarded-For"] = forwarded_for
    return httpx.Client(base_url=url, headers=headers, timeout=15)


def signed_up(url: str, forwarded_for: str | None = None, **fields: Any) -> httpx.Client:
    person = client(url, forwarded_for or fresh_address())
    body = {"name": "Ada", "email": new_email(), "password": PASSWORD, **fields}
    answer = person.post("/api/auth/sign-up/email", json=body)
    assert answer.status_code == 200, answer.text
    return person


def post(person: httpx.Client, path: str, body: Any) -> httpx.Response:
    """A post from a fresh address when `person` is on `system`, so no rate limit is reached."""
    return person.post(f"/api/auth{path}", json=body, headers={"X-Forwarded-For": fresh_address()})


# --- every field, every endpoint ------------------------------------------------------------

# Each POST endpoint the app exposes (auth.api: Better Auth's core and the JWT plugin), with a
# body that is valid in shape. "EMAIL" becomes a fresh address.
ENDPOINTS: dict[str, dict[str, Any]] = {
    "/sign-up/email": {
        "name": "Ada",
        "email": "EMAIL",
        "password": PASSWORD,
        "image": "https://example.com/a.png",
        "callbackURL": "/tasks",
        "rememberMe": True,
    },
    "/sign-in/email": {
        "email": "EMAIL",
        "password": PASSWORD,
        "callbackURL": "/tasks",
        "rememberMe": True,
    },
    "/sign-in/social": {
        "provider": "github",
        "callbackURL": "/tasks",
        "newUserCallbackURL": "/tasks",
        "errorCallbackURL": "/login",
        "disableRedirect": True,
        "requestSignUp": False,
        "loginHint": "ada",
    },
    "/update-user": {"name": "Ada", "image": "https://example.com/a.png"},
    "/change-email": {"newEmail": "EMAIL", "callbackURL": "/tasks"},
    "/change-password": {
        "newPassword": "correct horse 43",
        "currentPassword": PASSWORD,
        "revokeOtherSessions": False,
    },
    "/verify-password": {"password": PASSWORD},
    "/reset-password": {"newPassword": "correct horse 43", "token": "not-a-token"},
    "/request-password-reset": {"email": "EMAIL", "redirectTo": "/login"},
    "/send-verification-email": {"email": "EMAIL", "callbackURL": "/tasks"},
    "/delete-user": {"callbackURL": "/", "password": PASSWORD, "token": "not-a-token"},
    "/revoke-session": {"token": "not-a-token"},
    "/link-social": {"provider": "github", "callbackURL": "/tasks"},
    "/unlink-account": {"accountId": "not-an-account"},
    "/refresh-token": {"providerId": "github", "accountId": "x", "userId": "x"},
    "/get-access-token": {"providerId": "github", "accountId": "x", "userId": "x"},
    "/update-session": {"note": "x"},
    "/sign-out": {},
    "/revoke-sessions": {},
    "/revoke-other-sessions": {},
}
# One value of each JSON type; a field gets those not of its own type.
JSON_VALUES: list[Any] = [123, 1.5, True, "text", ["x"], {"x": 1}, None]
# The longest value each text field takes.
LIMITS = {
    "name": NAME_MAX,
    "email": EMAIL_MAX,
    "newEmail": EMAIL_MAX,
    "password": PASSWORD_MAX,
    "newPassword": PASSWORD_MAX,
    "currentPassword": PASSWORD_MAX,
    "image": URL_MAX,
    "callbackURL": URL_MAX,
    "newUserCallbackURL": URL_MAX,
    "errorCallbackURL": URL_MAX,
    "redirectTo": URL_MAX,
    "loginHint": URL_MAX,
    "token": TOKEN_MAX,
    "provider": TOKEN_MAX,
    "providerId": TOKEN_MAX,
    "accountId": TOKEN_MAX,
    "userId": TOKEN_MAX,
}


def body_for(path: str, **changes: Any) -> dict[str, Any]:
    body = {k: new_email() if v == "EMAIL" else v for k, v in ENDPOINTS[path].items()}
    return {**body, **changes}


def assert_refused(answer: httpx.Response, what: str) -> None:
    assert 400 <= answer.status_code < 500, f"{what}: {answer.status_code} {answer.text[:300]}"
    assert answer.json()["message"], what  # in words, as Better Auth's client shows it


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_field_of_every_endpoint_refuses_a_wrong_type(system: System, path: str) -> None:
    person = signed_up(system.url)
    for name, valid in ENDPOINTS[path].items():
        for value in (v for v in JSON_VALUES if type(v) is not type(valid)):
            if path == "/update-user" and name == "image" and value is None:
                continue  # null clears the image: allowed
            assert_refused(post(person, path, body_for(path, **{name: value})), f"{name}={value!r}")
    for value in (["a", "b"], "text", 7, None):
        answer = post(person, path, value)
        assert answer.status_code < 500, f"body {value!r}: {answer.status_code} {answer.text}"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_text_field_of_every_endpoint_is_capped(system: System, path: str) -> None:
    person = signed_up(system.url)
    fields = [name for name, value in ENDPOINTS[path].items() if isinstance(value, str)]
    for name in [*fields, "anything_else"]:
        long = "x" * (LIMITS.get(name, 1024) + 1)
        if name in ("email", "newEmail"):
            long = f"{'a' * 60}@{'b' * (EMAIL_MAX - 60 - 4)}.com"  # 255 characters
        answer = post(person, path, body_for(path, **{name: long}))
        assert_refused(answer, f"{name} of {len(long)} characters")


# C0 controls and DEL: PostgreSQL cannot store NUL in text (it answered 500); no field needs any.
CONTROLS = ["\x00", "\x01", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_text_field_of_every_endpoint_refuses_control_characters(
    system: System, path: str
) -> None:
    person = signed_up(system.url)
    fields = [name for name, value in ENDPOINTS[path].items() if isinstance(value, str)]
    for n, name in enumerate([*fields, "anything_else"]):
        for control in ("\x00", CONTROLS[n % len(CONTROLS)]):
            valid = ENDPOINTS[path].get(name, "text")
            text = f"a{control}b" if valid == "EMAIL" else f"{valid}{control}x"
            value: Any = {"nested": [text]} if name == "anything_else" else text  # any depth
            answer = post(person, path, body_for(path, **{name: value}))
            assert answer.status_code == 400, (name, repr(control), answer.text[:300])
            assert answer.json()["code"] == "INVALID_CHARACTER", (name, answer.json())
            assert "control characters" in answer.json()["message"]


# Unpaired UTF-16 surrogates: a high one with nothing after, a low one alone, a high one before
# an ordinary letter. JSON's \uXXXX escapes carry them; they are no character at all.
LONE_SURROGATES = ["\ud800", "\udfff", "\udbffx"]


def post_escaped(person: httpx.Client, path: str, body: Any) -> httpx.Response:
    """As `post`, with every non-ASCII character sent as a JSON \\u escape (json.dumps's
    ensure_ascii), the only way a lone surrogate can travel in JSON."""
    return person.post(
        f"/api/auth{path}",
        content=json.dumps(body),
        headers={"Content-Type": "application/json", "X-Forwarded-For": fresh_address()},
    )


def test_every_text_field_of_every_endpoint_refuses_lone_surrogates(system: System) -> None:
    person = signed_up(system.url)
    for path, fields in ENDPOINTS.items():
        names = [name for name, value in fields.items() if isinstance(value, str)]
        for n, name in enumerate([*names, "anything_else"]):
            lone = LONE_SURROGATES[n % len(LONE_SURROGATES)]
            valid = fields.get(name, "text")
            text = f"a{lone}@example.com" if valid == "EMAIL" else f"{valid}{lone}"
            value: Any = {"nested": [text]} if name == "anything_else" else text  # any depth
            answer = post_escaped(person, path, body_for(path, **{name: value}))
            assert answer.status_code == 400, (path, name, answer.text[:300])
            assert answer.json()["code"] == "INVALID_CHARACTER", (path, name, answer.json())
            assert "unpaired UTF-16 surrogate" in answer.json()["message"], answer.json()


def test_a_name_with_a_lone_surrogate_is_refused_in_words_and_not_stored(system: System) -> None:
    person = signed_up(system.url)
    answer = post_escaped(person, "/update-user", {"name": "x\ud800"})
    assert answer.status_code == 400, answer.text
    assert answer.json() == {
        "code": "INVALID_CHARACTER",
        "message": "The name contains a broken character (an unpaired UTF-16 surrogate, "
        "U+D800 to U+DFFF): send it as valid Unicode text.",
    }
    # A pair is one character (U+1F600) and is kept.
    assert post_escaped(person, "/update-user", {"name": "Ada \U0001f600"}).status_code == 200
    assert person.get("/api/auth/get-session").json()["user"]["name"] == "Ada \U0001f600"


def test_a_control_character_in_a_query_is_refused(system: System) -> None:
    answer = client(system.url).get("/api/auth/verify-email?token=a%00b")
    assert answer.status_code == 400, answer.text
    assert (
        answer.json()["message"]
        == "The token cannot contain control characters (such as a line break or NUL)."
    )


# Empty, white space only, invisible only (zero width space, word joiner, BOM, Hangul filler).
BLANK_NAMES = ["", " ", "\u3000", "\u200b" * 100, "\u2060\ufeff", "\u3164", " \u200d "]
# A name that reorders the text shown around it (Trojan Source).
BIDI_NAMES = [f"Ada{c}gnp.exe" for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]


def test_a_blank_or_invisible_name_is_refused_in_words(system: System) -> None:
    person = signed_up(system.url)
    for name in BLANK_NAMES:
        for answer in (
            signed_up_answer(system, name=name),
            post(person, "/update-user", {"name": name}),
        ):
            assert answer.status_code == 400, (repr(name), answer.text)
            assert answer.json() == {
                "code": "NAME_IS_BLANK",
                "message": "The name cannot be blank: type at least one visible character.",
            }
    assert person.get("/api/auth/get-session").json()["user"]["name"] == "Ada"


def test_a_name_with_bidi_controls_is_refused_in_words(system: System) -> None:
    person = signed_up(system.url)
    for name in BIDI_NAMES:
        for answer in (
            signed_up_answer(system, name=name),
            post(person, "/update-user", {"name": name}),
        ):
            assert answer.status_code == 400, (repr(name), answer.text)
            assert answer.json()["code"] == "INVALID_CHARACTER"
            assert "bidirectional" in answer.json()["message"]


def test_a_name_is_stored_trimmed(system: System) -> None:
    person = signed_up(system.url, name="  Ada Lovelace \u3000")
    assert person.get("/api/auth/get-session").json()["user"]["name"] == "Ada Lovelace"
    assert post(person, "/update-user", {"name": " Grace  "}).status_code == 200
    assert person.get("/api/auth/get-session").json()["user"]["name"] == "Grace"


def test_a_long_user_agent_is_stored_cut_to_512_characters(system: System) -> None:
    agent = "Mozilla/5.0 " + "x" * 15_000
    person = client(system.url, fresh_address())
    person.headers["User-Agent"] = agent
    body = {"name": "Ada", "email": new_email(), "password": PASSWORD}
    assert person.post("/api/auth/sign-up/email", json=body).status_code == 200
    sessions = person.get("/api/auth/list-sessions").json()
    assert [s["userAgent"] for s in sessions] == [agent[:512]]


def test_names_and_addresses_up_to_their_limits_are_kept_whole(system: System) -> None:
    name = "N" * NAME_MAX
    local = "l" * LOCAL_PART_MAX
    email = f"{local}@{'d' * 61}.{'e' * 61}.{'f' * 61}.com"  # DNS labels of at most 63
    assert len(email) == EMAIL_MAX
    person = signed_up(system.url, name=name, email=email)
    user = person.get("/api/auth/get-session").json()["user"]
    assert (user["name"], user["email"]) == (name, email)

    too_long = post(person, "/update-user", {"name": name + "N"})
    assert too_long.status_code == 400
    assert too_long.json() == {
        "code": "FIELD_TOO_LONG",
        "message": f"The name can be at most {NAME_MAX} characters.",
    }
    local_part = signed_up_answer(system, email=f"{local}l@example.com")
    assert local_part.status_code == 400
    assert "before @" in local_part.json()["message"]


def signed_up_answer(system: System, **fields: Any) -> httpx.Response:
    body = {"name": "Ada", "email": new_email(), "password": PASSWORD, **fields}
    return post(client(system.url), "/sign-up/email", body)


def test_update_user_with_a_non_string_name_is_400_and_changes_nothing(system: System) -> None:
    person = signed_up(system.url)
    for value in ({"first": "Ada"}, ["Ada"], 42, True, None):
        answer = post(person, "/update-user", {"name": value})
        assert answer.status_code == 400, answer.text
        assert answer.json() == {"code": "INVALID_FIELD_TYPE", "message": "The name must be text."}
    assert person.get("/api/auth/get-session").json()["user"]["name"] == "Ada"


# --- the body limit -------------------------------------------------------------------------


def raw_exchange(url: str, head: str, body_parts: list[bytes]) -> bytes:
    """Sends a request's head and these parts of its body (never more) on one connection, and
    returns all the server answers before it closes the connection (or 15 s pass). The server
    may close it while parts are still being sent: that is a refusal too."""
    where = urlsplit(url)
    with socket.create_connection((where.hostname, where.port), timeout=15) as connection:
        try:
            connection.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
            for part in body_parts:
                connection.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def request_head(url: str, framing: str) -> str:
    return (
        f"POST /api/auth/sign-up/email HTTP/1.1\nHost: {urlsplit(url).netloc}\n"
        f"Origin: {url}\nContent-Type: application/json\n{framing}"
    )


def assert_413(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"cache-control: no-store" in head.lower()
    assert b"connection: close" in head.lower()  # the rest of the body is never read
    assert json.loads(body[body.index(b"{") : body.rindex(b"}") + 1])["message"] == (
        "The request is too large: at most 16 KiB is accepted here."
    )


def test_a_body_declared_over_the_limit_is_refused_before_it_is_sent(system: System) -> None:
    # 100 MB announced, one byte sent: the answer comes without waiting for the rest.
    head = request_head(system.url, "Content-Length: 100000000\n")
    assert_413(raw_exchange(system.url, head, [b"{"]))


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(system: System) -> None:
    # Chunks of 4 KiB, five of them (past 16 KiB), and the body never ends.
    chunk = b'{"name": "' + b"x" * 4086
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)]
    head = request_head(system.url, "Transfer-Encoding: chunked\n")
    assert_413(raw_exchange(system.url, head, parts))


def test_a_body_just_under_the_limit_is_read_and_judged(system: System) -> None:
    body = {"name": "x" * (BODY_MAX - 200), "email": new_email(), "password": PASSWORD}
    assert len(json.dumps(body)) < BODY_MAX
    answer = post(client(system.url), "/sign-up/email", body)
    assert answer.status_code == 400  # read, and refused for the name's length, not the body's
    assert answer.json()["code"] == "FIELD_TOO_LONG"


# --- the client's address -------------------------------------------------------------------


def sign_in(url: str, email: str, password: str, forwarded_for: str) -> httpx.Response:
    return client(url, forwarded_for).post(
        "/api/auth/sign-in/email", json={"email": email, "password": password}
    )


def session_address(person: httpx.Client) -> str:
    sessions = person.get("/api/auth/list-sessions").json()
    assert len(sessions) == 1, sessions
    return str(sessions[0]["ipAddress"])


def test_by_default_x_forwarded_for_neither_escapes_the_limit_nor_is_recorded(
    plain_web_app: PlainWebApp,
) -> None:
    email = new_email()
    person = signed_up(plain_web_app.url, "203.0.113.9", email=email)
    # Stored with the session: the TCP peer's address, not the one the client claimed.
    assert session_address(person) == "127.0.0.1"

    # Three wrong passwords from "three addresses", then the right one: still 127.0.0.1 to the
    # rate limit (3 in 10 s), so the fourth attempt is refused whatever it carries.
    for n in range(3):
        wrong = sign_in(plain_web_app.url, email, "wrong password", f"192.0.2.{n}")
        assert wrong.status_code == 401
    refused = sign_in(plain_web_app.url, email, PASSWORD, "192.0.2.200")
    assert refused.status_code == 429
    assert refused.headers["cache-control"] == "no-store"


def test_every_password_or_token_check_is_limited_as_sign_in_is(system: System) -> None:
    """3 in 10 s per client address (Better Auth's sign-in rule), not the general 100 in 10 s."""
    person = signed_up(system.url)
    checks = [
        ("POST", "/verify-password", {"password": "wrong password"}),
        ("POST", "/reset-password", {"newPassword": "correct horse 43", "token": "guess"}),
        ("POST", "/delete-user", {"password": "wrong password"}),
        ("GET", "/reset-password/guess?callbackURL=/login", None),
        ("GET", "/verify-email?token=guess", None),
    ]
    for method, path, body in checks:
        address = fresh_address()
        answers = [
            person.request(
                method, f"/api/auth{path}", json=body, headers={"X-Forwarded-For": address}
            )
            for _ in range(4)
        ]
        assert [a.status_code == 429 for a in answers] == [False, False, False, True], (
            path,
            [(a.status_code, a.text[:100]) for a in answers],
        )
        assert answers[3].headers["cache-control"] == "no-store"
    # The right password from a fresh address still works: the limit is per address.
    right = post(person, "/verify-password", {"password": PASSWORD})
    assert right.status_code == 200, right.text


def test_a_trusted_proxy_names_the_client_and_only_its_own_entries_count(system: System) -> None:
    # `system` trusts 127.0.0.1. The right-most entry that is not a trusted proxy is the client;
    # what stands left of it is whatever the client wrote.
    client_address = fresh_address()
    person = signed_up(system.url, f"6.6.6.6, {client_address}, 127.0.0.1")
    assert session_address(person) == client_address

    email = person.get("/api/auth/get-session").json()["user"]["email"]
    attacker = fresh_address()
    for n in range(3):
        forged = f"10.0.0.{n}, {attacker}"  # a new left-most entry each time
        assert sign_in(system.url, email, "wrong password", forged).status_code == 401
    assert sign_in(system.url, email, PASSWORD, f"10.0.0.9, {attacker}").status_code == 429
    # The limit is the attacker's, not everyone's.
    assert sign_in(system.url, email, PASSWORD, fresh_address()).status_code == 200


def test_trusted_proxies_must_be_addresses_or_ranges() -> None:
    env = {**os.environ, "TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}
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
    assert line["level"] == "error"
    assert line["message"] == (
        'TRUSTED_PROXIES: "proxy.internal" is not an IP address or a CIDR range (e.g. 10.0.0.0/8)'
    )


# --- caching --------------------------------------------------------------------------------


def test_every_auth_answer_is_no_store(system: System) -> None:
    email = new_email()
    person = client(system.url, fresh_address())
    answers = {
        "sign-up": person.post(
            "/api/auth/sign-up/email", json={"name": "Ada", "email": email, "password": PASSWORD}
        ),
        "get-session": person.get("/api/auth/get-session"),
        "token": person.get("/api/auth/token"),
        "list-sessions": person.get("/api/auth/list-sessions"),
        "jwks": person.get("/api/auth/jwks"),
        "refused field": person.post("/api/auth/update-user", json={"name": 1}),
        "unknown path": person.get("/api/auth/no-such-endpoint"),
        "other method": person.put("/api/auth/sign-in/email", json={}),
        "sign-out": person.post("/api/auth/sign-out"),
        "sign-in": person.post(
            "/api/auth/sign-in/email", json={"email": email, "password": PASSWORD}
        ),
        "wrong password": person.post(
            "/api/auth/sign-in/email", json={"email": email, "password": "wrong password"}
        ),
    }
    assert "token" in answers["token"].json()
    assert answers["sign-in"].status_code == 200
    for what, answer in answers.items():
        assert answer.headers.get("cache-control") == "no-store", (what, answer.headers)


# --- the log --------------------------------------------------------------------------------


# What JSON.stringify leaves raw: C1 controls (U+0085 NEL ends a line for some readers, U+009B
# CSI starts a terminal escape) and the Unicode line and paragraph separators.
UNSAFE_IN_LOG = "\u0085\u009b\u0080\u009f\u2028\u2029"


def test_what_a_client_sends_never_forges_a_log_line(system: System) -> None:
    marker = uuid.uuid4().hex
    forged = f"2026-01-01T00:00:00.000Z INFO [Better Auth]: admin signed in {marker}"
    callback = f"https://evil.example/\u0085{forged}\u20282K\u009b2K\u2029\u0080\u009f"
    answer = post(
        client(system.url),
        "/sign-in/email",
        {"email": new_email(), "password": PASSWORD, "callbackURL": callback},
    )
    assert answer.status_code == 403  # Better Auth refuses the callbackURL, and logs it

    log = system.log.read_text(encoding="utf-8")
    assert not any(char in log for char in UNSAFE_IN_LOG)
    for char in UNSAFE_IN_LOG:
        assert f"\\u{ord(char):04x}" in log  # written escaped
    lines = log.split("\n")[:-1]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert not any(line.startswith(forged) for line in lines)
    rejected = [e for e in entries if marker in json.dumps(e)]
    assert rejected, "the rejection was not logged"
    assert all(e["message"].startswith("Invalid callbackURL") for e in rejected), rejected
    assert [e["message"] for e in rejected] == [f"Invalid callbackURL: {callback}"]  # whole
    assert all(e["level"] == "warn" for e in rejected)  # a refusal as designed, not a fault


def test_expected_refusals_and_aborted_requests_are_not_logged_as_errors(system: System) -> None:
    before = len(system.log.read_text())
    person = signed_up(system.url)
    # A social provider this app does not have: Better Auth logs that at error level.
    social = post(person, "/sign-in/social", {"provider": "github"})
    assert social.status_code == 404, social.text
    assert social.json()["code"] == "PROVIDER_NOT_FOUND"

    where = urlsplit(system.url)
    head = (
        f"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: {where.netloc}\r\n"
        f"Origin: {system.url}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    with socket.create_connection((where.hostname, where.port), timeout=15) as connection:
        connection.sendall(head.encode() + b'{"email": ')  # the client goes away mid-body
    for _ in range(100):  # until the server has seen the client go
        written = [json.loads(line) for line in system.log.read_text()[before:].splitlines()]
        if any("went away" in e["message"] for e in written):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the aborted request was not logged: {written}")
    assert not any(e["level"] == "error" for e in written), written
    assert any(e["message"].startswith("Provider not found") for e in written)


# --- stopping -------------------------------------------------------------------------------


@pytest.fixture
def doomed_web_app(plain_web_app: PlainWebApp) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Another instance on the plain app's database, for a test that stops it."""
    with web_app(plain_web_app.work, plain_web_app.backend.url, plain_web_app.secret) as (
        url,
        _,
        process,
    ):
        yield url, process


def test_sigterm_lets_the_request_in_flight_finish_then_exits_143(
    doomed_web_app: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, process = doomed_web_app
    where = urlsplit(url)
    body = json.dumps({"email": new_email(), "password": "wrong password"}).encode()
    head = (
        f"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: {where.netloc}\r\nOrigin: {url}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((where.hostname, where.port), timeout=15) as connection:
        connection.sendall(head.encode() + body[:10])  # the request has begun ...
        os.killpg(process.pid, signal.SIGTERM)
        # ... the server stops taking connections ...
        for _ in range(300):
            try:
                socket.create_connection((where.hostname, where.port), timeout=5).close()
            except ConnectionRefusedError:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the server still takes connections after SIGTERM")
        connection.sendall(body[10:])  # ... and still finishes the one in flight.
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert stop(process) == 143
