"""A service raises the collector's first threshold while it runs, and restores it."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import Connection, create_engine

from juzhang.storage import access


def test_the_threshold_is_raised_inside_and_restored_after() -> None:
    seen: list[tuple[int, int, int]] = []

    @access.command
    def inner(session: Connection) -> None:
        seen.append(gc.get_threshold())

    @access.command
    def outer(session: Connection, fail: bool) -> None:
        seen.append(gc.get_threshold())
        inner(session)
        seen.append(gc.get_threshold())
        if fail:
            raise ValueError("refused")

    before = gc.get_threshold()
    engine = create_engine("sqlite://")
    try:
        gc.set_threshold(700, 10, 10)
        with Connection(engine) as session:
            outer(session, False)
            assert gc.get_threshold() == (700, 10, 10)
            assert seen == [(access.GC_FIRST_THRESHOLD, 10, 10)] * 3
            with pytest.raises(ValueError, match="refused"):
                outer(session, True)
            assert gc.get_threshold() == (700, 10, 10)
            gc.set_threshold(0, 10, 10)  # collection switched off stays off
            seen.clear()
            outer(session, False)
            assert seen == [(0, 10, 10)] * 3
            assert gc.get_threshold() == (0, 10, 10)
    finally:
        gc.set_threshold(*before)
        engine.dispose()
