"""Settings: what is accepted, and the one-line refusals for what is not."""

from __future__ import annotations

from typing import Any

import pytest

from taskapi.config import ConfigurationError, Settings, get_settings
from tests.keys import SECRET


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name in (
        "BETTER_AUTH_SECRET",
        "BETTER_AUTH_URL",
        "BETTER_AUTH_JWKS_URL",
        "DATABASE_URL",
        "DATABASE_POOLER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir("/")  # no .env file here
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError) as refused:
            get_settings()
    finally:
        get_settings.cache_clear()
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("configuration error: ")
    return message


def test_a_secret_alone_is_enough() -> None:
    loaded = settings(better_auth_secret=SECRET)
    assert loaded.jwks_url is None
    assert loaded.database.is_sqlite


def test_the_url_alone_is_enough_and_gives_the_jwks_address() -> None:
    loaded = settings(better_auth_url="http://localhost:3000/")
    assert loaded.better_auth_url == "http://localhost:3000"  # as Better Auth writes `iss`
    assert loaded.jwks_url == "http://localhost:3000/api/auth/jwks"


def test_the_jwks_address_can_be_overridden() -> None:
    loaded = settings(
        better_auth_url="https://app.example", better_auth_jwks_url="https://keys.example/jwks"
    )
    assert loaded.jwks_url == "https://keys.example/jwks"


def test_blank_values_count_as_unset() -> None:
    loaded = settings(better_auth_secret=SECRET, better_auth_url="  ")
    assert loaded.better_auth_url is None


def test_a_short_secret_is_refused_without_showing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, BETTER_AUTH_SECRET="tooshort-but-secret")
    assert "BETTER_AUTH_SECRET" in message
    assert "32" in message
    assert "tooshort-but-secret" not in message


def test_a_secret_of_exactly_32_characters_is_accepted() -> None:
    assert settings(better_auth_secret="x" * 32).better_auth_secret is not None


def test_no_way_to_verify_tokens_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch)
    assert "BETTER_AUTH_SECRET" in message
    assert "BETTER_AUTH_URL" in message


@pytest.mark.parametrize(
    "url",
    ["mysql://root@localhost/test", "sqlite://", "sqlite:///:memory:", "nonsense", "redis://x"],
)
def test_unsupported_databases_are_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    message = refusal(monkeypatch, BETTER_AUTH_SECRET=SECRET, DATABASE_URL=url)
    assert message.startswith("configuration error: DATABASE_URL ")


@pytest.mark.parametrize("url", ["localhost:3000", "ftp://x", "http://"])
def test_a_url_that_is_not_http_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    message = refusal(monkeypatch, BETTER_AUTH_URL=url)
    assert "BETTER_AUTH_URL" in message


def test_leeway_is_at_most_60_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, BETTER_AUTH_SECRET=SECRET, JWT_LEEWAY_SECONDS="61")
    assert "JWT_LEEWAY_SECONDS" in message
    assert settings(better_auth_secret=SECRET, jwt_leeway_seconds=60).jwt_leeway_seconds == 60


def test_a_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("BETTER_AUTH_SECRET", "BETTER_AUTH_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(f"BETTER_AUTH_SECRET={SECRET}\nBETTER_AUTH_URL=\n")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        loaded = get_settings()
    finally:
        get_settings.cache_clear()
    assert loaded.better_auth_secret is not None
    assert loaded.better_auth_secret.get_secret_value() == SECRET
    assert loaded.better_auth_url is None


NEON_POOLED = "postgresql://o:pw@ep-cool-1-pooler.eu-central-1.aws.neon.tech/neondb"


@pytest.mark.parametrize(
    ("pooler", "url", "pooled"),
    [
        (None, NEON_POOLED, True),  # auto: Neon's pooled host
        (None, "postgresql://u@h/db", False),
        ("auto", "postgresql://u@h/db?pgbouncer=true", True),
        (" Transaction ", "postgresql://u@h/db", True),
        ("none", NEON_POOLED, False),
        ("", NEON_POOLED, True),  # `DATABASE_POOLER=` in a .env file: not set
    ],
)
def test_database_pooler_decides_with_the_url(pooler: str | None, url: str, pooled: bool) -> None:
    values = {} if pooler is None else {"database_pooler": pooler}
    loaded = settings(better_auth_secret=SECRET, database_url=url, **values)
    assert loaded.database.transaction_pooler is pooled


def test_an_unknown_pooler_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    message = refusal(monkeypatch, BETTER_AUTH_SECRET=SECRET, DATABASE_POOLER="session")
    assert message.startswith("configuration error: DATABASE_POOLER ")
    assert "'transaction'" in message


def test_a_transaction_pooler_in_front_of_sqlite_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Most likely DATABASE_URL was forgotten and SQLite is the default.
    message = refusal(monkeypatch, BETTER_AUTH_SECRET=SECRET, DATABASE_POOLER="transaction")
    assert "DATABASE_POOLER=transaction needs a postgresql:// DATABASE_URL" in message
