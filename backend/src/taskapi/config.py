"""Settings, read once from the environment or a `.env` file in the working directory."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from taskapi.database_url import DatabaseURL, Pooler, parse_database_url

MIN_SECRET_LENGTH = 32
MAX_LEEWAY_SECONDS = 60
MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60
DEFAULT_TASK_QUOTA = 10_000


class ConfigurationError(Exception):
    """A setting is wrong; the message is one line a person can act on."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    better_auth_secret: SecretStr | None = None
    better_auth_url: str | None = None
    better_auth_jwks_url: str | None = None
    database_url: str = "sqlite:///taskapi.db"
    jwt_leeway_seconds: Annotated[int, Field(ge=0, le=MAX_LEEWAY_SECONDS)] = 30
    # The longest an access token may live (JWT_MAX_LIFETIME_SECONDS): Better Auth's JWT
    # `expirationTime` (15m, frontend/src/lib/auth.ts). A token issued longer ago (`iat`) is
    # refused, and a revocation is kept this long (taskapi.auth.revocation).
    jwt_max_lifetime_seconds: Annotated[int, Field(ge=60, le=MAX_TOKEN_LIFETIME_SECONDS)] = 15 * 60
    # The most tasks one person may keep (TASK_QUOTA): far more than a person's list needs, and
    # a bound on what any one person's search, sort or count can cost.
    task_quota: Annotated[int, Field(ge=1)] = DEFAULT_TASK_QUOTA
    # One JSON line per request (LOG_REQUESTS): on by default, as a server's access log; `make
    # run` turns it off unless asked (scripts/run.py), so a local terminal shows errors only.
    log_requests: bool = True

    @field_validator("better_auth_secret", "better_auth_url", "better_auth_jwks_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `BETTER_AUTH_URL=` in a .env file means "not set", not "the empty origin".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("better_auth_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters "
                f"(it has {len(value.get_secret_value())}); `taskapi secret` prints a good one"
            )
        return value

    @field_validator("better_auth_url", "better_auth_jwks_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an http(s) URL such as http://localhost:3000, not {value!r}")
        # Better Auth puts the origin without a trailing slash in `iss` and `aud`.
        return value.strip().rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        parse_database_url(value)  # raises ValueError with the reason
        return value

    @model_validator(mode="after")
    def _can_verify_tokens(self) -> Self:
        if self.better_auth_secret is None and self.better_auth_url is None:
            raise ValueError(
                "set BETTER_AUTH_SECRET (HS256 tokens) or BETTER_AUTH_URL (Better Auth's JWKS), "
                "or both: without either no token can be verified"
            )
        return self

    @property
    def jwks_url(self) -> str | None:
        if self.better_auth_jwks_url is not None:
            return self.better_auth_jwks_url
        if self.better_auth_url is not None:
            return f"{self.better_auth_url}/api/auth/jwks"
        return None

    @property
    def database(self) -> DatabaseURL:
        return parse_database_url(self.database_url, self.database_pooler)

    # Whether DATABASE_URL leads to a transaction-mode pooler (PgBouncer, Neon's pooled URL):
    # "auto" decides from the URL (taskapi.database_url); "transaction" or "none" says so.
    database_pooler: Pooler = "auto"

    @field_validator("database_pooler", mode="before")
    @classmethod
    def _pooler_words(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip().lower() or "auto"
        return value

    @model_validator(mode="after")
    def _pooler_needs_postgres(self) -> Self:
        # Most likely DATABASE_URL was meant to be set too and fell back to the SQLite default.
        if self.database_pooler == "transaction" and self.database.is_sqlite:
            raise ValueError("DATABASE_POOLER=transaction needs a postgresql:// DATABASE_URL")
        return self


def describe_validation_error(error: ValidationError) -> str:
    """One line naming the setting and what is wrong with it, never its value."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{name} {message}" if name else message)
    return "configuration error: " + "; ".join(problems)


@lru_cache
def get_settings() -> Settings:
    """The process's settings; raises ConfigurationError with a one-line reason."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error)) from None
