"""The fuzzer's failure filter (fuzz_hooks.filter_failure) drops only the refusal it is meant
to: a 422 for an unassigned code point in a text field the body really holds. A filter that
dropped more would hide real faults from test_fuzz.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from schemathesis.openapi.checks import RejectedPositiveData, UndefinedStatusCode

from taskapi import text
from tests.security.fuzz_hooks import filter_failure

UNASSIGNED = "\U000d211e"  # unassigned in every Unicode version so far (plane 13)


@dataclass
class Case:
    body: Any = None
    query: Any = None


@dataclass
class Response:
    status_code: int
    body: Any = field(default_factory=dict)

    def json(self) -> Any:
        if isinstance(self.body, Exception):
            raise self.body
        return self.body


def rejected() -> RejectedPositiveData:
    return RejectedPositiveData(
        operation="PUT /api/{user_id}/tasks/{task_id}",
        message="",
        status_code=422,
        allowed_statuses=["2xx"],
    )


def refusal(*messages: str) -> Response:
    return Response(422, {"detail": [{"type": "value_error", "msg": m} for m in messages]})


def unassigned_message(field_name: str) -> str:
    return (
        f"{field_name} must not contain U+D211E, a code point Unicode {text.UNICODE_VERSION} "
        "leaves unassigned."
    )


def test_a_refusal_for_the_unassigned_code_point_the_body_holds_is_dropped() -> None:
    case = Case(body={"title": "ok", "description": f"a{UNASSIGNED}", "tags": ["x", UNASSIGNED]})
    answer = refusal(unassigned_message("The description"), unassigned_message("Tag 2"))
    assert filter_failure(None, rejected(), case, answer) is False


@pytest.mark.parametrize(
    ("case", "answer"),
    [
        # The body holds no unassigned code point: the refusal is a fault.
        (Case(body={"title": "fine"}), refusal(unassigned_message("The title"))),
        # Another rule named beside the unassigned one.
        (
            Case(body={"title": UNASSIGNED}),
            refusal(unassigned_message("The title"), "The title must be at most 200 characters"),
        ),
        # Some other status, or no list of errors.
        (Case(body={"title": UNASSIGNED}), Response(500)),
        (Case(body={"title": UNASSIGNED}), Response(422, {"detail": "nope"})),
        (Case(body={"title": UNASSIGNED}), Response(422, {"detail": []})),
        (Case(body={"title": UNASSIGNED}), Response(422, ValueError("not JSON"))),
        # An unassigned code point outside the text fields.
        (Case(body={"priority": UNASSIGNED}), refusal(unassigned_message("The title"))),
    ],
)
def test_every_other_rejection_stays_a_failure(case: Case, answer: Response) -> None:
    assert filter_failure(None, rejected(), case, answer) is True


def test_other_kinds_of_failure_are_kept() -> None:
    failure = UndefinedStatusCode(
        operation="PUT /x",
        status_code=422,
        defined_status_codes=["200"],
        allowed_status_codes=[200],
        message="",
    )
    case = Case(body={"title": UNASSIGNED})
    assert filter_failure(None, failure, case, refusal(unassigned_message("The title"))) is True


def test_a_query_text_field_counts_too() -> None:
    case = Case(query={"q": UNASSIGNED})
    answer = refusal(unassigned_message("The search"))
    assert filter_failure(None, rejected(), case, answer) is False
