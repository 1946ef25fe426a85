"""Benchmarks (性能基准) for juzhang: ``python -m benchmarks`` (``make bench``).

Not timed tests: they measure and print, they never fail on a figure.  Each
``bench_*.py`` module in this package names itself (``NAME``), says what it
measures (``DESCRIPTION``) and offers ``run(config)``, an iterable of
:class:`Result` yielded as they are measured;
:mod:`benchmarks.__main__` finds them, runs them and prints one table.

Each measured phase runs in a child process of its own (``spawn``), so that
its peak memory (``ru_maxrss`` of that child) is its own and one phase's
caches never help the next; :func:`in_child` does that.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import resource
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Config:
    """What the command line asked for; each benchmark picks what it needs."""

    quick: bool = False
    sqlite: bool = True
    pg_url: str | None = None
    communities: int | None = None
    months: int | None = None
    vouchers: int | None = None
    batch: str = "month"
    seed: int = 2026
    workdir: Path | None = None
    keep: bool = False
    profile: Path | None = None
    trigger_stats: bool = False
    verify: bool | None = None
    beancount_communities: int | None = None
    sizes: tuple[int, ...] | None = None
    history: tuple[int, ...] | None = None
    parts: tuple[str, ...] | None = None
    cli_parts: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """One measured line of the table.

    ``ratio`` is this method's time over the baseline's time measured in the
    same run on the same database (``None`` on the baseline itself).
    """

    bench: str
    db: str
    method: str
    vouchers: int
    lines: int
    custody: int
    seconds: float
    peak_rss_mb: float
    ratio: float | None = None
    db_mb: float | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def per_second(self) -> float:
        """Vouchers per second."""
        return self.vouchers / self.seconds if self.seconds > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready values."""
        return {
            "bench": self.bench,
            "db": self.db,
            "method": self.method,
            "vouchers": self.vouchers,
            "lines": self.lines,
            "custody": self.custody,
            "seconds": round(self.seconds, 3),
            "vouchers_per_second": round(self.per_second, 1),
            "ratio": None if self.ratio is None else round(self.ratio, 2),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "db_mb": None if self.db_mb is None else round(self.db_mb, 1),
            "notes": list(self.notes),
        }


def peak_rss_mb() -> float:
    """Return this process's peak resident set size (``ru_maxrss``) in MiB (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(target: str, kwargs: dict[str, Any], conn: Any) -> None:
    try:
        module, _, name = target.rpartition(".")
        fn: Callable[..., dict[str, Any]] = getattr(importlib.import_module(module), name)
        out = fn(**kwargs)
        out["peak_rss_mb"] = peak_rss_mb()
        conn.send(("ok", out))
    except BaseException:  # report everything to the parent, then fail
        conn.send(("error", traceback.format_exc()))
        raise
    finally:
        conn.close()


def in_child(target: str, /, **kwargs: Any) -> dict[str, Any]:
    """Run ``module.function(**kwargs)`` in a fresh spawned process and return its dict.

    The dict gains ``peak_rss_mb``: the child's ``ru_maxrss``.

    Raises:
        RuntimeError: the child failed (its traceback is in the message).
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(target, kwargs, child))
    proc.start()
    child.close()
    try:
        status, payload = parent.recv()
    except EOFError:
        status, payload = "error", "the child process died without a result"
    proc.join()
    if status != "ok":
        raise RuntimeError(f"{target} failed (exit {proc.exitcode}):\n{payload}")
    result: dict[str, Any] = payload
    return result
