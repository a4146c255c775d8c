"""Schemathesis hooks for tests/security/test_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

Each request carries a token for the very user its path names, whatever the fuzzer generated:
any valid user id reaches the task code (not a 403), an invalid one is refused as the token's
`sub` (401), and the fuzzer's own mutations of the path are never undone by a fixed value. It
is an auth provider (not a hook on the case) so that the `ignored_auth` check can still send the
same request without it."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import schemathesis
from pydantic import BaseModel, ValidationError
from schemathesis.openapi.checks import RejectedPositiveData

from taskapi import models, text
from tests.keys import hs256

FOREVER = 2**31 - 1


# No caching (each case has its own user) and no retry on 401: a 401 is an answer under test.
@schemathesis.auth(refresh_interval=None, retry_on=[])
class TokenForThePathsUser:
    def get(self, _case: Any, _context: Any) -> str:
        return "minted in set()"  # the token depends on the case; see set()

    def set(self, case: Any, _data: str, _context: Any) -> None:
        user_id = (case.path_parameters or {}).get("user_id")
        sub = user_id if isinstance(user_id, str) else "fuzzer"
        case.headers = {
            **(case.headers or {}),
            "Authorization": f"Bearer {hs256(sub, exp=FOREVER)}",
        }


@schemathesis.hook
def filter_case(_context: Any, case: Any) -> bool:
    """Leave out a negative case whose body the app accepts and stores within the schema, and a
    positive case with an unassigned code point in a text field (see `TEXT_FIELDS`).

    Every limit here counts the value as stored, after normalisation (NFC, trimming, invisible
    characters dropped, tags lower-cased and made distinct; each field's description says so),
    and JSON Schema cannot say that: a title of 200 letters and a trailing space, or the same tag
    eleven times, is "invalid" to the fuzzer and valid here. So such a body is checked the way
    the contract reads: the model normalises it, and what it would store must satisfy the
    schema. A body stored outside the schema is kept, and fails the run as it should."""
    meta = getattr(case, "meta", None)
    if meta is not None and not meta.generation.mode.is_negative and _holds_unassigned(case):
        return False
    if meta is None or not meta.generation.mode.is_negative or not isinstance(case.body, dict):
        return True
    model = _body_model(case)
    if model is None:
        return True
    try:
        stored = model.model_validate_json(json.dumps(case.body))
    except (ValidationError, ValueError):
        return True  # refused by the app: the fuzzer's check applies as it is
    schema = model.model_json_schema()
    as_stored = stored.model_dump(mode="json", exclude_unset=True)
    return not jsonschema_rs.Draft202012Validator(schema).is_valid(as_stored)


# The text fields, in bodies and queries: none may hold a code point unassigned in the server's
# Unicode version (taskapi.text.unassigned), a rule their descriptions state and no compact JSON
# Schema pattern can (a class of about 700 ranges). A case the fuzzer thinks valid for holding
# one there is left out; any other text it sends is still checked.
TEXT_FIELDS = ("title", "description", "tags", "q", "tag")


@schemathesis.hook
def filter_failure(_context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Drop a "schema-valid request rejected" failure only where the body sent holds an unassigned
    code point in a text field and the 422 names that rule for every error it lists.

    `filter_case` leaves such bodies out, but a stateful step merges values from earlier
    responses into its body after the case hooks ran (schemathesis's inferred links), so a step
    can still send one. Any other refusal, or one that names another rule, stays a failure."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 422:
        return True
    if not _holds_unassigned(case):
        return True
    try:
        errors = response.json().get("detail")
    except ValueError:
        return True
    only_unassigned = (
        isinstance(errors, list)
        and bool(errors)
        and all(
            isinstance(error, dict) and UNASSIGNED_RULE in str(error.get("msg", ""))
            for error in errors
        )
    )
    return not only_unassigned


# How the app words the rule (taskapi.models._assigned).
UNASSIGNED_RULE = f"a code point Unicode {text.UNICODE_VERSION} leaves unassigned"


def _holds_unassigned(case: Any) -> bool:
    values: list[Any] = []
    for part in (case.body, case.query):
        if isinstance(part, dict):
            for name in TEXT_FIELDS:
                value = part.get(name)
                values.extend(value if isinstance(value, list) else [value])
    return any(isinstance(value, str) and text.unassigned(value) for value in values)


def _body_model(case: Any) -> type[BaseModel] | None:
    body = case.operation.definition.raw.get("requestBody", {})
    reference = body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    if not isinstance(reference, str):
        return None
    model = getattr(models, reference.rsplit("/", 1)[-1], None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None
