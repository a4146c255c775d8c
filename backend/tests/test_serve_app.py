"""`taskapi serve`'s app factory (taskapi.main.serve_app)."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from taskapi import main


def test_start_up_s_objects_are_left_out_of_full_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What start-up made is frozen (`gc.freeze`) once the app is built, so that a full
    collection while serving walks only what the requests keep (docs/performance.md §12)."""
    built: list[Any] = []

    def create_app(settings: Any) -> Any:
        built.append(object())
        assert gc.get_freeze_count() == 0  # not before the app is built
        return built[-1]

    monkeypatch.setattr(main, "create_app", create_app)
    monkeypatch.setattr(main, "configure_logging", lambda **_: None)
    monkeypatch.setattr(main, "get_settings", lambda: type("S", (), {"log_requests": True})())
    gc.unfreeze()
    try:
        assert main.serve_app() is built[0]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
