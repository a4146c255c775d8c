"""The fast serialiser (`TaskJSON`) writes exactly what the documented `TaskPublic` would."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import TypeAdapter

from taskapi.models import TaskJSON, TaskPublic


def test_task_json_writes_what_task_public_would() -> None:
    row = {
        "id": 7,
        "user_id": "ann",
        "title": "Pay rent",
        "description": None,
        "completed": True,
        "priority": "high",
        "tags": ["home", "bills"],
        "due_at": datetime(2026, 12, 1, 17, 0, tzinfo=UTC),
        "created_at": datetime(2026, 11, 28, 9, 30, 1, 250, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        "version": 3,
    }
    fast = json.loads(TypeAdapter(TaskJSON).dump_json(row))  # type: ignore[arg-type]
    assert fast == TaskPublic.model_validate(row).model_dump(mode="json")
    assert set(fast) == set(TaskPublic.model_fields)
