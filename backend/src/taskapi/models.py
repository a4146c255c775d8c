"""The task, split by use: what a client may send, what is stored, what is returned."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StringConstraints,
    field_validator,
)
from pydantic import Field as PydanticField
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel
from typing_extensions import TypedDict

from taskapi import text

TITLE_MAX = 200
DESCRIPTION_MAX = 1000


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold U+0000; refuse it for every database so both behave alike.
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


def _assigned(value: str) -> str:
    # What an unassigned code point will be is unknown: whether it shows, how it composes
    # (taskapi.text). Checked on the value stored, for every text field alike.
    found = text.unassigned(value)
    if found is not None:
        raise ValueError(
            f"must not contain U+{ord(found):04X}, a code point Unicode "
            f"{text.UNICODE_VERSION} leaves unassigned"
        )
    return value


def _normalised(normalise: Callable[[str], str]) -> BeforeValidator:
    """Normalise a string (taskapi.text) before the type and its limits are checked, so that the
    limits hold for the value stored. Anything else goes on to be refused as not a string."""
    return BeforeValidator(lambda value: normalise(value) if isinstance(value, str) else value)


# What the schema promises, in its own (ECMAScript) regex dialect: no NUL, and a title (or tag)
# with a character that shows (neither invisible nor a combining mark: taskapi.text.shows).
# Validation itself is the normalisation, constraints and checks beside it.
TITLE_PATTERN = (
    rf"^[^\x00]*[^\x00{text.regex_class([*text.INVISIBLE_RANGES, *text.MARK_RANGES])}][^\x00]*$"
)
DESCRIPTION_PATTERN = r"^[^\x00]*$"

Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_MAX),
    _normalised(text.title),
    AfterValidator(_no_nul),
    AfterValidator(_assigned),
    PydanticField(
        json_schema_extra={"pattern": TITLE_PATTERN},
        description="Unicode NFC, trimmed of invisible characters at both ends; the limits "
        "count the trimmed value. Something must show (not only invisible characters or "
        "combining marks); no code point unassigned in Unicode " + text.UNICODE_VERSION,
    ),
]
Description = Annotated[
    str,
    StringConstraints(max_length=DESCRIPTION_MAX),
    _normalised(text.description),
    AfterValidator(_no_nul),
    AfterValidator(_assigned),
    PydanticField(
        json_schema_extra={"pattern": DESCRIPTION_PATTERN},
        description="Unicode NFC; spacing kept as sent",
    ),
]

# A search phrase is something typed to find a task, not a pasted paragraph; the trigram
# search's cost grows with the phrase's length (about 1 ms per character over 200 long tasks).
SEARCH_MAX = 100

SearchText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SEARCH_MAX),
    _normalised(text.search_text),
    AfterValidator(_no_nul),
    AfterValidator(_assigned),
    PydanticField(json_schema_extra={"pattern": DESCRIPTION_PATTERN}),
]


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, also on SQLite, which stores no zone."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: refusing to guess its time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Priority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


PRIORITY_RANK = {Priority.low: 0, Priority.medium: 1, Priority.high: 2}
PRIORITY_OF_RANK = {rank: priority.value for priority, rank in PRIORITY_RANK.items()}


class PriorityRank(sa.TypeDecorator[str]):
    """Stored as a small number, so that sorting by priority is sorting by importance."""

    impl = sa.SmallInteger()
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> int | None:
        return None if value is None else PRIORITY_RANK[Priority(value)]

    def process_result_value(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else PRIORITY_OF_RANK[value]


# What a date-time must look like, as the 422 says it (taskapi.api.messages words the rest).
DATE_TIME_EXPECTED = "a date and time with a time zone, such as 2026-12-01T17:00:00Z"


def _iso_8601_only(value: object) -> object:
    # Pydantic would also take a number (or a numeric string) as a Unix time; the schema
    # promises an ISO 8601 date-time, and a number is more likely a mistake than a date.
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value.strip())
    ):
        raise ValueError(f"must be {DATE_TIME_EXPECTED}")
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError("is out of range once converted to UTC") from None


DueTime = Annotated[AwareDatetime, BeforeValidator(_iso_8601_only), AfterValidator(_in_utc)]

TAGS_MAX = 10
TAG_MAX = 30


def _distinct(tags: list[str]) -> list[str]:
    # "Work" and "work " are one tag once normalised: keep the first, in order. The limit counts
    # the tags kept, as stored.
    distinct = list(dict.fromkeys(tags))
    if len(distinct) > TAGS_MAX:
        # pydantic's own error for a list too long, so it is worded as the others are.
        raise PydanticCustomError(
            "too_long",
            "At most {max_length} different tags are allowed, not {actual_length}.",
            {"field_type": "List", "max_length": TAGS_MAX, "actual_length": len(distinct)},
        )
    return distinct


Tag = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TAG_MAX),
    _normalised(text.tag),
    AfterValidator(_no_nul),
    AfterValidator(_assigned),
    PydanticField(
        json_schema_extra={"pattern": TITLE_PATTERN},
        description="Normalised as a title, then lower-cased; the limits count the result",
    ),
]
Tags = Annotated[
    list[Tag], AfterValidator(_distinct), PydanticField(json_schema_extra={"maxItems": TAGS_MAX})
]


# SQLite only autoincrements an `INTEGER PRIMARY KEY`; elsewhere ids are 64-bit.
TaskId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MAX_TASK_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1  # an INTEGER column


class TaskBase(SQLModel):
    title: Title = Field(max_length=TITLE_MAX)
    description: Description | None = Field(default=None, max_length=DESCRIPTION_MAX)
    completed: StrictBool = False
    priority: Priority = Field(
        default=Priority.medium,
        sa_type=PriorityRank,
        nullable=False,
        sa_column_kwargs={"server_default": "1"},
    )
    tags: Tags = Field(
        default_factory=list,
        sa_type=sa.JSON,
        nullable=False,
        sa_column_kwargs={"server_default": "[]"},
    )
    due_at: DueTime | None = Field(default=None, sa_type=UTCDateTime)


class TaskCreate(TaskBase):
    """POST body. Unknown fields (`id`, `user_id`, …) are ignored: they never take effect."""


class TaskReplace(TaskBase):
    """PUT body: replaces every editable field; an omitted one takes its default."""


class TaskPatch(SQLModel):
    """PATCH body: only the fields sent change."""

    # Omitted means "leave as is"; the schema offers no null for these, since null is refused.
    title: Title | SkipJsonSchema[None] = None
    description: Description | None = None
    completed: StrictBool | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None
    tags: Tags | SkipJsonSchema[None] = None
    due_at: DueTime | None = None

    @field_validator("title", "completed", "priority", "tags")
    @classmethod
    def _omit_rather_than_null(cls, value: object) -> object:
        # Validators run only on fields that were sent: null for these is a mistake, not "unset".
        if value is None:
            raise ValueError("may be omitted, but not null")
        return value


class CompletionUpdate(BaseModel):
    """Body of PATCH …/complete when it sets rather than toggles."""

    model_config = ConfigDict(extra="forbid")

    completed: StrictBool


class Task(TaskBase, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        # One index per way a person's list can be ordered (newest first is the default).
        sa.Index("ix_tasks_user_id_created_at", "user_id", "created_at", "id"),
        sa.Index("ix_tasks_user_id_updated_at", "user_id", "updated_at", "id"),
        sa.Index("ix_tasks_user_id_due_at", "user_id", "due_at", "id"),
        sa.Index("ix_tasks_user_id_priority", "user_id", "priority", "id"),
    )

    id: int | None = Field(default=None, sa_type=TaskId, primary_key=True)
    user_id: str = Field(sa_type=sa.String, nullable=False)
    description: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, nullable=False)
    # Starts at 1 and grows by one with every change: the ETag, and what If-Match compares.
    version: int = Field(default=1, nullable=False, sa_column_kwargs={"server_default": "1"})


class TaskPublic(TaskBase):
    id: int
    user_id: str
    created_at: datetime
    updated_at: datetime
    version: int


class TaskJSON(TypedDict):
    """A stored task on its way out: `TaskPublic`'s fields, serialised straight from a database
    row by pydantic-core without building a model first (six times faster for a page of 50; a
    row from our own table needs no validation). A test keeps the two in step."""

    id: int
    user_id: str
    title: str
    description: str | None
    completed: bool
    priority: str
    tags: list[str]
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class TaskCount(SQLModel, table=True):
    """How many tasks each user has, and how many are completed: kept by database triggers on
    `tasks` (migration 0002), so that a list's total is one row read instead of a count over
    every task the user has (3 ms for 100,000 on SQLite, against 0.05 ms for the page itself)."""

    __tablename__ = "task_counts"
    __table_args__ = (
        sa.Index(
            "ix_task_counts_erased_until",
            "erased_until",
            sqlite_where=sa.text("erased_until IS NOT NULL"),
            postgresql_where=sa.text("erased_until IS NOT NULL"),
        ),
    )

    user_id: str = Field(sa_type=sa.String, primary_key=True)
    total: int = Field(sa_type=sa.BigInteger, nullable=False)
    completed: int = Field(sa_type=sa.BigInteger, nullable=False)
    # Set while the account is erased (migration 0008): no task may be created for it until
    # then, when every token issued before the erasure has expired and the row is deleted.
    erased_until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    # Raised by the same triggers on every write to the user's tasks (migration 0009): the
    # user's lists can have changed only when it has (list ETags, cached filtered totals).
    version: int = Field(
        default=0, sa_type=sa.BigInteger, nullable=False, sa_column_kwargs={"server_default": "0"}
    )


class IdempotencyKey(SQLModel, table=True):
    """A POST made with an `Idempotency-Key`: what it asked (a hash of the validated body) and
    the task it made, so that a retry gets that task and never a second one."""

    __tablename__ = "idempotency_keys"

    user_id: str = Field(sa_type=sa.String, primary_key=True)
    key: str = Field(sa_type=sa.String(255), primary_key=True)
    request_hash: str = Field(sa_type=sa.String(64), nullable=False)
    task_id: int = Field(sa_type=TaskId, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class TaskTag(SQLModel, table=True):
    """One row per tag of a task, beside the task's own `tags` list (which is what is returned):
    what filtering by tag and counting tags look up, through an index instead of every task."""

    __tablename__ = "task_tags"
    __table_args__ = (sa.Index("ix_task_tags_user_id_tag", "user_id", "tag", "task_id"),)

    task_id: int = Field(
        sa_column=sa.Column(TaskId, sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(sa_type=sa.String, primary_key=True)
    user_id: str = Field(sa_type=sa.String, nullable=False)


class TaskTagCount(SQLModel, table=True):
    """How many of a user's tasks carry a tag: kept by database triggers on `tasks` (migration
    0010), so that a list filtered by several tags can start from the rarest of them, and the
    tags endpoint need not group every tag entry of the user."""

    __tablename__ = "task_tag_counts"

    user_id: str = Field(sa_type=sa.String, primary_key=True)
    tag: str = Field(sa_type=sa.String, primary_key=True)
    count: int = Field(sa_type=sa.BigInteger, nullable=False)


class TagCount(BaseModel):
    tag: str
    count: int


class Cleared(BaseModel):
    deleted: int


class Revocation(SQLModel, table=True):
    """A security event the task API has applied (taskapi.revocation): a session ended
    (`session_id` set: CAEP session-revoked) or a person's account erased (`session_id` NULL:
    RISC account-purged). Kept only `until` every token it could concern has expired, then
    deleted. `id` grows with each row: what the processes' polling compares."""

    __tablename__ = "revocations"
    __table_args__ = (sa.Index("ix_revocations_until", "until"),)

    id: int | None = Field(default=None, sa_type=TaskId, primary_key=True)
    session_id: str | None = Field(default=None, sa_type=sa.String(255), nullable=True)
    user_id: str = Field(sa_type=sa.String, nullable=False)
    until: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ReceivedSecurityEvent(SQLModel, table=True):
    """The `jti` of each Security Event Token applied (RFC 8417 §2.2), so that one delivered
    again is acknowledged without being applied twice; kept as long as such a SET is accepted."""

    __tablename__ = "received_security_events"
    __table_args__ = (sa.Index("ix_received_security_events_until", "until"),)

    jti: str = Field(sa_type=sa.String(255), primary_key=True)
    until: datetime = Field(sa_type=UTCDateTime, nullable=False)
