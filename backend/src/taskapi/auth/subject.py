"""What a user id is: the `sub` a token must carry, and so the only `{user_id}` a path can name.

A user id is 1 to 64 characters, each an ASCII letter, digit, `-` or `_`.

Why: Better Auth makes ids with `generateId`, 32 characters of [A-Za-z0-9] (better-auth
`utils/id.ts`: `createRandomStringGenerator("a-z", "A-Z", "0-9")(32)`). Its
`advanced.database.generateId` option may instead use UUIDs (36 characters with `-`), the
database's serial numbers (digits), or an application's own generator (nanoid's alphabet adds
`_`). Every one of those fits, with room to spare. Nothing else does: no NUL or other control
character (PostgreSQL text cannot hold U+0000, and the id is bound as a query parameter), no
whitespace, no `/`, `%` or `.` (a path segment must not look like a path), nothing outside ASCII
(no two Unicode spellings of one id). A token whose `sub` breaks the rule is refused (401) when
it is verified, before the id is used anywhere.
"""

from __future__ import annotations

import re

from taskapi import errors

USER_ID_MAX = 64
USER_ID_CHARACTERS = re.compile(r"[A-Za-z0-9_-]*")
# The same rule for the OpenAPI document (ECMAScript regex dialect).
USER_ID_PATTERN = rf"^[A-Za-z0-9_-]{{1,{USER_ID_MAX}}}$"


class NotAUserId(ValueError):
    """`reason` is a message from taskapi.errors, safe to show the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def valid_user_id(value: object) -> str:
    """`value` if it is a user id; else raises NotAUserId saying which rule it breaks."""
    if not isinstance(value, str) or not value:
        raise NotAUserId(errors.INVALID_SUBJECT)
    if len(value) > USER_ID_MAX:
        raise NotAUserId(errors.SUBJECT_TOO_LONG)
    # fullmatch: `$` would also match before a final newline.
    if USER_ID_CHARACTERS.fullmatch(value) is None:
        raise NotAUserId(errors.SUBJECT_CHARACTERS)
    return value


SESSION_ID_MAX = 255


def valid_session_id(value: object) -> str:
    """`value` if it is a session id (Better Auth's are 32 letters and digits, like user ids:
    the same characters, up to 255), as a token's `sid` or an event's subject carries it; else
    raises NotAUserId with the reason."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > SESSION_ID_MAX
        or USER_ID_CHARACTERS.fullmatch(value) is None
    ):
        raise NotAUserId(errors.INVALID_SESSION_ID)
    return value
