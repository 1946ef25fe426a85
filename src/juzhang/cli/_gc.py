"""The cyclic garbage collector while a command starts (start-up time).

A command imports about 400 modules before it does any work (SQLAlchemy, the
database driver, the command's own code).  Their classes and functions are
hundreds of thousands of objects that live as long as the process, and with
Python's default thresholds the collector ran over them again and again while
they loaded: about 5 % of the instructions of a cashier's acceptance.  So
:func:`starting` raises the first threshold until :func:`started`, which runs
once the command has its database connection: it moves everything loaded so
far out of the collector's sight (``gc.freeze``) and puts the thresholds back.
A command that never connects keeps the raised threshold (cycles are still
collected, less often); the services raise it anyway while they run
(:data:`juzhang.storage.access.GC_FIRST_THRESHOLD`).
"""

from __future__ import annotations

import gc

STARTING_THRESHOLD = 100_000
_saved: tuple[int, int, int] | None = None


def starting() -> None:
    """Collect rarely while the command's modules load."""
    global _saved
    if _saved is None:
        _saved = gc.get_threshold()
        if _saved[0]:  # 0: collection is off; leave it so
            gc.set_threshold(max(_saved[0], STARTING_THRESHOLD), *_saved[1:])


def started() -> None:
    """The modules are loaded: freeze what is alive and restore the thresholds (once)."""
    global _saved
    if _saved is not None:
        gc.freeze()
        gc.set_threshold(*_saved)
        _saved = None
