"""What a 422 says, in a person's words: one sentence per error, naming the field.

pydantic's messages speak of its own types and steps ("List should have at most 10 items after
validation, not 11", "Input should be a valid datetime or date, input is too short"). Each error
is worded here again from its `type` and its `ctx` (pydantic-core's error types and their context:
https://docs.pydantic.dev/latest/errors/validation_errors/), so the numbers come from the
constraint that failed and the sentence says what to send instead ("At most 10 tags are allowed,
not 11."). A `value_error` is one of this API's own checks, whose message is the predicate that
follows the field's name ("must not contain the NUL character (U+0000)").

An error type not listed in `WORDING` still gets a sentence naming the field (`FALLBACK`); the
tests walk every constraint of the OpenAPI document and require that none reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from taskapi.models import DATE_TIME_EXPECTED as _DATE_TIME

# The predicate for a text that is empty once normalised (taskapi.text trims invisible
# characters before the limits are measured): what was sent may have looked like something.
BLANK = "must not be empty, nor only spaces and invisible characters"

# How a field or parameter is called in a sentence; any other by its own name, after what it is
# (`_KIND`): "The field score", "The parameter page".
LABELS: Mapping[str, str] = {
    "title": "The title",
    "description": "The description",
    "completed": "The completed flag",
    "priority": "The priority",
    "tags": "The tags",
    "due_at": "The due date",
    "q": "The search text",
    "tag": "The tag filter",
    "status": "The status filter",
    "sort": "The sort field",
    "order": "The sort order",
    "limit": "The page size (limit)",
    "offset": "The offset",
    "due_before": "The due_before date",
    "due_after": "The due_after date",
    "overdue": "The overdue filter",
    "task_id": "The task id",
    "Idempotency-Key": "The Idempotency-Key header",
    "If-Match": "The If-Match header",
}
# What one element of a list is called ("Tag 3"), and what several are.
ITEMS: Mapping[str, tuple[str, str]] = {
    "tags": ("Tag", "tags"),
    "tag": ("Tag filter", "tag filters"),
    "priority": ("Priority filter", "priority filters"),
}
_WHERE = {"body": "The request body", "query": "The query", "header": "A header"}
_KIND = {
    "body": "The field",
    "query": "The parameter",
    "header": "The header",
    "path": "The path's",
}
_WHOLE = "{what} must be a whole number."
_OBJECT = "{what} must be a JSON object."

# One template per pydantic error type: `{what}` is the field's label, `{items}` what several
# elements of a list are called, and the rest is the error's `ctx`.
WORDING: Mapping[str, str] = {
    "missing": "{what} is required.",
    "string_type": "{what} must be text.",
    "string_too_short": "{what} must be at least {min_length} characters long.",
    "string_too_long": "{what} must be at most {max_length} characters long.",
    "string_pattern_mismatch": "{what} has characters that are not allowed there.",
    "string_unicode": "{what} must be valid Unicode text.",
    "too_short": "At least {min_length} {items} are needed, not {actual_length}.",
    "too_long": "At most {max_length} {items} are allowed, not {actual_length}.",
    "list_type": "{what} must be a list.",
    "bool_type": "{what} must be true or false.",
    "bool_parsing": "{what} must be true or false.",
    "int_type": _WHOLE,
    "int_parsing": _WHOLE,
    "int_from_float": _WHOLE,
    "int_parsing_size": "{what} is far too large a number.",
    "greater_than": "{what} must be more than {gt}.",
    "greater_than_equal": "{what} must be {ge} or more.",
    "less_than": "{what} must be less than {lt}.",
    "less_than_equal": "{what} must be {le} or less.",
    "enum": "{what} must be {expected}.",
    "literal_error": "{what} must be {expected}.",
    "datetime_type": f"{{what}} must be {_DATE_TIME}.",
    "datetime_parsing": f"{{what}} must be {_DATE_TIME}.",
    "datetime_from_date_parsing": f"{{what}} must be {_DATE_TIME}.",
    "datetime_object_invalid": f"{{what}} must be {_DATE_TIME}.",
    "timezone_aware": "{what} needs a time zone (Z for UTC, or an offset such as +02:00), "
    "e.g. 2026-12-01T17:00:00Z.",
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dict_type": _OBJECT,
    "json_invalid": "{what} is not valid JSON.",
    "json_type": "{what} is not valid JSON.",
    "extra_forbidden": "{what} is not accepted here.",
}
# For an error type not worded above, or a template whose numbers pydantic did not give.
FALLBACK = "{what} is not valid."


def label(loc: Sequence[str | int]) -> str:
    """How the error's location is named: `["body", "tags", 2]` → "Tag 3", `["query", "limit"]`
    → "The page size (limit)", `["body"]` → "The request body". `loc` is as `validation.clean`
    leaves it: where, then field names and list indexes."""
    name = _name(loc)
    if name is None:
        return _WHERE.get(str(loc[0]), "The request") if loc else "The request"
    called = LABELS.get(name) or f"{_KIND.get(str(loc[0]), 'The field')} {name}"
    if isinstance(loc[-1], int):
        if name in ITEMS:
            return f"{ITEMS[name][0]} {loc[-1] + 1}"
        return f"Item {loc[-1] + 1} of {called[:1].lower()}{called[1:]}"
    return called


def _name(loc: Sequence[str | int]) -> str | None:
    names = [part for part in loc[1:] if isinstance(part, str)]
    return names[-1] if names else None


def sentence(
    error_type: str, loc: Sequence[str | int], ctx: Mapping[str, Any], message: str
) -> str:
    """One sentence in words for a pydantic error, from its `type` (e.g. "string_too_long"), its
    location as `validation.clean` leaves it, its `ctx` (the constraint's numbers) and pydantic's
    own `msg`, which only this API's own checks (`value_error`) contribute."""
    what = label(loc)
    if error_type == "value_error":
        # A predicate ("must …", "is …") follows the field's name; a whole sentence stays whole.
        predicate = message.removeprefix("Value error, ").rstrip(".")
        return f"{predicate}." if predicate[:1].isupper() else f"{what} {predicate}."
    if error_type == "string_too_short" and ctx.get("min_length") == 1:
        return f"{what} {BLANK}."
    name = _name(loc) or ""
    items = ITEMS[name][1] if name in ITEMS else f"items in {what[:1].lower()}{what[1:]}"
    try:
        return WORDING.get(error_type, FALLBACK).format(what=what, items=items, **ctx)
    except (KeyError, IndexError, TypeError):
        return FALLBACK.format(what=what)
