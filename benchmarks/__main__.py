"""``python -m benchmarks``: find every ``bench_*`` module, run it, print one table.

Options: ``--quick`` (a small size, a smoke test in seconds), ``--only NAME``
(repeatable), ``--pg URL`` (default ``JUZHANG_TEST_PG_URL``; ``--no-pg`` to
skip PostgreSQL), size overrides, ``--json FILE`` for the figures, and
``--profile DIR`` (cProfile of the timed juzhang calls, written to DIR),
``--trigger-stats`` (PostgreSQL: time spent in each trigger function, from
``pg_stat_user_functions``; implied by ``--profile``), and for the scale
benchmark ``--sizes 20k,40k,100k``, ``--history 1,24`` and ``--scale-part
PART``.  Exits 0
when every benchmark ran, whatever the figures; 1 when one failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import benchmarks
from benchmarks import Config, Result


def discover() -> dict[str, ModuleType]:
    """Return the benchmark modules of this package by name (``bench_posting`` → ``posting``)."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda i: i.name):
        if info.name.startswith("bench_"):
            module = importlib.import_module(f"benchmarks.{info.name}")
            found[getattr(module, "NAME", info.name.removeprefix("bench_"))] = module
    return found


def _parser(names: Sequence[str]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small size, for a smoke test")
    p.add_argument(
        "--only",
        action="append",
        choices=list(names),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(names)}",
    )
    p.add_argument(
        "--pg",
        metavar="URL",
        default=os.environ.get("JUZHANG_TEST_PG_URL") or None,
        help="PostgreSQL server URL (default: $JUZHANG_TEST_PG_URL)",
    )
    p.add_argument("--no-pg", action="store_true", help="SQLite only")
    p.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    p.add_argument("--communities", type=int, help="override the number of communities")
    p.add_argument("--months", type=int, help="override the number of months (≤ 12)")
    p.add_argument("--vouchers", type=int, help="override vouchers per community-month")
    p.add_argument(
        "--batch",
        choices=("month", "community"),
        default="month",
        help="one post_bulk per community-month (default) or per community",
    )
    p.add_argument(
        "--beancount-communities",
        type=int,
        metavar="N",
        help="reports: load only the first N communities' year with beancount (default: all)",
    )
    p.add_argument(
        "--sizes",
        type=_ints,
        metavar="N,N,…",
        help="scale (a): statement rows of each run, growing (default 20000,40000,100000)",
    )
    p.add_argument(
        "--history",
        type=_ints,
        metavar="N,N,…",
        help="scale (b): months of history before the timed month (default 1,24)",
    )
    p.add_argument(
        "--scale-part",
        action="append",
        choices=("doubling", "history", "copy"),
        help="scale: run only this part (repeatable; default all three)",
    )
    p.add_argument(
        "--cli-part",
        action="append",
        choices=("a", "b", "c", "d"),
        help="cli: run only this section (repeatable; default all four)",
    )
    p.add_argument("--seed", type=int, default=2026, help="seed of the synthetic books")
    p.add_argument("--no-verify", action="store_true", help="skip verify() after the run")
    p.add_argument("--workdir", type=Path, help="folder for the SQLite files (default: temp)")
    p.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    p.add_argument("--profile", type=Path, metavar="DIR", help="write profiles into DIR")
    p.add_argument(
        "--trigger-stats",
        action="store_true",
        help="PostgreSQL: report time per trigger function (track_functions; also on --profile)",
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    return p


def _ints(text: str) -> tuple[int, ...]:
    """``"20000,40000"`` → ``(20000, 40000)``; ``20k`` is 20,000."""
    try:
        return tuple(
            int(t.strip().lower().removesuffix("k"))
            * (1000 if t.strip().lower().endswith("k") else 1)
            for t in text.split(",")
            if t.strip()
        )
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None


def machine() -> dict[str, str]:
    """Return what the figures depend on: CPUs, Python, SQLite, and the host's speed now.

    Machines of the same kind differed from one session to the next by more
    than any change measured on them: the same juzhang step took 1.5–1.8
    times as long on one "AMD EPYC" host as on another; the PostgreSQL
    acceptance's imports took 0.40 s on one and 0.59–0.69 s on the other,
    while a small pure-Python loop took the same time throughout.  So each
    run records both probes, and figures from two runs are compared only
    with them in view.
    """
    return {
        "cpus": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "python": f"{platform.python_version()} ({sys.executable})",
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "loop_us": f"{_loop_us():.1f}",
        "imports_s": f"{_imports_s():.3f}",
    }


def _cpu_model() -> str:
    """The processor's name from ``/proc/cpuinfo`` ("" where there is none)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _loop_us() -> float:
    """Best of 5: µs for a small pure-Python loop (json, str, Decimal), as ``timeit`` gives it."""
    import timeit

    timer = timeit.Timer(
        "json.dumps(d); [str(i) for i in range(200)]; sum(Decimal(i) for i in range(50))",
        "from decimal import Decimal; import json; d = {'a': 1, 'b': 'x' * 10, 'c': [1, 2, 3]}",
    )
    return min(timer.repeat(5, 2000)) / 2000 * 1e6


def _imports_s() -> float:
    """Best of 3: seconds for a new Python process that imports SQLAlchemy, psycopg and typer.

    What every ``juzhang`` command pays before it does anything (psycopg
    and SQLAlchemy's PostgreSQL dialect only where they are installed).
    """
    import subprocess

    code = (
        "import sqlalchemy, typer\n"
        "try:\n import psycopg, sqlalchemy.dialects.postgresql.psycopg\n"
        "except ImportError:\n pass"
    )
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        best = min(best, time.perf_counter() - started)
    return best


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def render(results: Sequence[Result]) -> None:
    """Print the results as a table (rich when it is installed, plain text otherwise)."""
    head = [
        "bench",
        "db",
        "method",
        "vouchers",
        "lines",
        "custody",
        "seconds",
        "vouchers/s",
        "× raw",
        "peak RSS MiB",
        "db MiB",
    ]
    rows = [
        [
            r.bench,
            r.db,
            r.method,
            f"{r.vouchers:,}",
            f"{r.lines:,}",
            f"{r.custody:,}",
            f"{r.seconds:.2f}",
            f"{r.per_second:,.0f}",
            _fmt(r.ratio, ".2f", "×"),
            f"{r.peak_rss_mb:.0f}",
            _fmt(r.db_mb, ".1f"),
        ]
        for r in results
    ]
    notes = [f"{r.db} {r.method}: {n}" for r in results for n in r.notes]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
        for row in [head, *rows]:
            print(
                "  ".join(
                    c.rjust(w) if i >= 3 else c.ljust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
            )
        for n in notes:
            print(f"  - {n}")
        return
    table = Table(title="juzhang benchmarks")
    for i, h in enumerate(head):
        table.add_column(h, justify="right" if i >= 3 else "left")
    for row in rows:
        table.add_row(*row)
    console = Console(width=max(140, Console().width))
    console.print(table)
    for n in notes:
        console.print(f"  - {n}", highlight=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; return the exit code."""
    modules = discover()
    args = _parser(list(modules)).parse_args(argv)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    cfg = Config(
        quick=args.quick,
        sqlite=not args.no_sqlite,
        pg_url=None if args.no_pg else args.pg,
        communities=args.communities,
        months=args.months,
        vouchers=args.vouchers,
        batch=args.batch,
        seed=args.seed,
        workdir=args.workdir,
        keep=args.keep,
        profile=args.profile,
        trigger_stats=args.trigger_stats or args.profile is not None,
        verify=False if args.no_verify else None,
        beancount_communities=args.beancount_communities,
        sizes=args.sizes,
        history=args.history,
        parts=tuple(args.scale_part) if args.scale_part else None,
        cli_parts=tuple(args.cli_part) if args.cli_part else None,
    )
    info = machine()
    print(
        f"machine: {info['cpus']} CPUs ({info['cpu'] or 'processor not named'}),"
        f" Python {info['python']}, SQLite {info['sqlite']},"
        f" {info['platform']}; PostgreSQL: {'yes' if cfg.pg_url else 'not run'}",
        flush=True,
    )
    print(
        f"host now: a small pure-Python loop {info['loop_us']} µs; a new process importing"
        f" SQLAlchemy, psycopg and typer {info['imports_s']} s (best of 3)",
        flush=True,
    )
    results: list[Result] = []
    failed: list[str] = []
    for name in args.only or list(modules):
        module = modules[name]
        print(f"running {name}: {getattr(module, 'DESCRIPTION', '')} …", flush=True)
        t0 = time.perf_counter()
        try:
            for result in module.run(cfg):  # keep what was measured if a later part fails
                results.append(result)
        except Exception as exc:  # report, go on with the others, exit 1
            failed.append(name)
            print(f"benchmark {name} failed: {exc}", file=sys.stderr)
        print(f"  {name} took {time.perf_counter() - t0:.1f} s", flush=True)
    if results:
        render(results)
    if args.json:
        payload = {"machine": info, "results": [r.as_dict() for r in results], "failed": failed}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
