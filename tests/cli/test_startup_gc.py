"""The collector while a command starts (juzhang.cli._gc)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from juzhang.cli import _gc


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)
    gc.unfreeze()
    _gc._saved = None  # noqa: SLF001 — a test that failed half-way


def test_starting_collects_rarely_until_started_restores_and_freezes() -> None:
    gc.set_threshold(700, 10, 10)
    _gc.starting()
    assert gc.get_threshold() == (_gc.STARTING_THRESHOLD, 10, 10)
    _gc.starting()  # a second call changes nothing
    assert gc.get_threshold() == (_gc.STARTING_THRESHOLD, 10, 10)
    frozen = gc.get_freeze_count()
    alive = [object() for _ in range(10)]  # loaded "modules" to move out of sight
    _gc.started()
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() > frozen and alive
    _gc.started()  # once only
    assert gc.get_threshold() == (700, 10, 10)


def test_started_without_starting_changes_nothing() -> None:
    gc.set_threshold(700, 10, 10)
    frozen = gc.get_freeze_count()
    _gc.started()
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == frozen


def test_a_collector_turned_off_stays_off() -> None:
    gc.set_threshold(0, 10, 10)
    _gc.starting()
    assert gc.get_threshold() == (0, 10, 10)
    _gc.started()
    assert gc.get_threshold() == (0, 10, 10)
