"""Closing benchmark (结账性能): one month closed for many communities, every file written.

The issue-5 benchmark.  Full size: 200 communities with one month (January
2026) of 300 synthetic vouchers each (:mod:`benchmarks.synthetic`, with the
cashier's journal entries behind every cash and bank line).  Set-up, not
timed, in a child process: the communities, people, detail accounts and
opening balances (:func:`benchmarks.bench_posting.prepare`), the journal
entries (``custody.record_entries``) and vouchers (``books.post_bulk``), the
cashier's month-end cash count, and each bank account's statement for the
month stored as the statement importer stores it (every line linked to the
journal entry it matches; the entries of the month's last two days not yet
at the bank, so the reconciliations have outstanding items).

Timed, in a fresh child process per run, on a fresh copy of the books:
:func:`juzhang.closing_run.close_all` for every community with ``--jobs 1``
and ``--jobs 2`` — all month-end checks, the carry-forward voucher, the lock,
the draft disclosure row, and the four files per community (disclosure
workbook, trial balance, income statement, bank reconciliation).  Every
community must close with every file written, or the benchmark fails.

Peak memory: the child's ``ru_maxrss``, and with ``--jobs 2`` the largest
worker's (``RUSAGE_CHILDREN``).  CPU time of the child and its workers is
noted too: on a machine busy with other work the wall time says little, and
CPU seconds ÷ cores is what an idle machine would take.  "Flat in the number of communities": with
``--jobs 1`` the peak is also read after the first quarter of the
communities; the two figures should be about equal.

Target (issue 5): under 60 s with ``--jobs 2`` on a 2-core machine.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import secrets
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import Config, Result, in_child
from benchmarks.bench_posting import _inputs, _pg_schema, _sqlite_mb, prepare
from benchmarks.synthetic import (
    OPENING_FEN,
    START_PERIOD,
    MonthBook,
    community_year,
    entity_code,
)

NAME = "close"
DESCRIPTION = "close one month for every community and write its files, --jobs 1 and --jobs 2"

FULL = (200, 300)
QUICK = (4, 30)
TARGET_SECONDS = 60.0
PERIOD = START_PERIOD  # January 2026


@dataclass(frozen=True, slots=True)
class Size:
    """How many communities and vouchers per community."""

    communities: int
    per_month: int

    @property
    def label(self) -> str:
        """``"200×300"``."""
        return f"{self.communities}×{self.per_month}"


def _book(n: int, size: Size, seed: int) -> MonthBook:
    return next(community_year(n, months=1, per_month=size.per_month, seed=seed))


# --------------------------------------------------------------------------- set-up


def _statement_rows(
    entity_id: int, book: MonthBook, batches: dict[str, int], at: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The bank's statement of each bank account: one line per entry not in the last two days."""
    last = max((c.date for c in book.custody), default=dt.date(2026, 1, 31))
    cutoff = last - dt.timedelta(days=2)
    lines: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    balance = {code: OPENING_FEN.get(code, 0) for code in batches}
    for c in sorted(book.custody, key=lambda c: (c.date, c.id)):
        if c.account not in batches or c.date > cutoff:
            continue
        balance[c.account] += c.fen
        counts[c.account] = counts.get(c.account, 0) + 1
        lines.append(
            {
                "entity_id": entity_id,
                "id": len(lines) + 1,
                "account_code": c.account,
                "batch_id": batches[c.account],
                "row_no": counts[c.account],
                "dedup_key": f"S{c.id:06d}",
                "txn_date": c.date,
                "txn_time": None,
                "out_fen": -c.fen if c.fen < 0 else 0,
                "in_fen": c.fen if c.fen > 0 else 0,
                "balance_fen": balance[c.account],
                "counterparty": c.counterparty,
                "counterparty_account": "",
                "counterparty_bank": "",
                "summary": c.summary,
                "purpose": "",
                "remark": "",
                "serial": f"S{c.id:06d}",
                "custody_entry_id": c.id,
                "voucher_id": None,
            }
        )
    batch_rows = [
        {
            "entity_id": entity_id,
            "id": batch_id,
            "kind": "bank",
            "file_name": f"{code}-2026-01.csv",
            "file_sha256": secrets.token_hex(32),
            "account_code": code,
            "profile": "benchmark",
            "imported_by": 0,  # set by the caller
            "imported_at": at,
            "rows_read": counts.get(code, 0),
            "rows_new": counts.get(code, 0),
        }
        for code, batch_id in batches.items()
    ]
    return batch_rows, lines


def setup_phase(url: str, size: Size, seed: int) -> dict[str, Any]:
    """Make the books of the month for every community (not timed)."""
    from sqlalchemy import insert, select

    from juzhang import books, custody
    from juzhang.cash_count import record_cash_count
    from juzhang.core.period import last_day
    from juzhang.money import from_fen
    from juzhang.storage.engine import make_engine, transaction
    from juzhang.storage.schema import Entity, ImportBatch, StatementLine, User

    t0 = time.perf_counter()
    prepare(url, size.communities)
    engine = make_engine(url)
    vouchers = lines = entries = 0
    with transaction(engine, write=False) as s:
        bk = int(s.execute(select(User.id).where(User.login == "bk")).scalar_one())
    for n in range(size.communities):
        code = entity_code(n)
        book = _book(n, size, seed)
        items, drafts = _inputs(book)
        with transaction(engine) as s:
            entity_id = int(s.execute(select(Entity.id).where(Entity.code == code)).scalar_one())
            custody.record_entries(s, code, "cash", items, source="import")
            books.post_bulk(s, code, drafts, preparer="bk", reviewer="rv", poster="bk")
            cash = OPENING_FEN["101"] + sum(c.fen for c in book.custody if c.account == "101")
            record_cash_count(s, code, "cash", last_day(PERIOD), from_fen(cash))
            batches, rows = _statement_rows(
                entity_id, book, {"10201": 1, "10202": 2}, dt.datetime.now(dt.UTC)
            )
            s.execute(insert(ImportBatch), [{**b, "imported_by": bk} for b in batches])
            s.execute(insert(StatementLine), rows)
        vouchers += len(book.vouchers)
        lines += sum(len(v.lines) for v in book.vouchers)
        entries += len(book.custody)
    engine.dispose()
    return {
        "vouchers": vouchers,
        "lines": lines,
        "custody": entries,
        "seconds": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------- timed


def close_phase(url: str, out_dir: str, jobs: int, communities: int) -> dict[str, Any]:
    """Time :func:`juzhang.closing_run.close_all` for every community (in a fresh process)."""
    from juzhang.closing_run import EntityOutcome, close_all

    quarter: list[float] = []
    done = 0

    def progress(_outcome: EntityOutcome) -> None:
        nonlocal done
        done += 1
        if done == max(1, communities // 4):
            quarter.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    t0 = time.perf_counter()
    cpu0 = _cpu()
    summary = close_all(url, PERIOD, None, out_dir, jobs, actor="rv", on_done=progress)
    seconds = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    if not summary.ok or len(summary.outcomes) != communities:
        bad = [
            f"{o.entity} {o.status}: {'; '.join(map(str, o.problems[:3]))}" for o in summary.failed
        ]
        raise RuntimeError(
            f"the close failed for {len(bad)} communities:\n  " + "\n  ".join(bad[:10])
        )
    files = sum(len(o.files) for o in summary.outcomes)
    if files != 4 * communities:
        raise RuntimeError(f"{files} files written, expected {4 * communities}")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "load": os.getloadavg()[0],
        "files": files,
        "closed": sum(1 for o in summary.outcomes if o.status == "closed"),
        "quarter_rss_mb": quarter[0] if quarter and jobs == 1 else None,
        "workers_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "out_mb": sum(p.stat().st_size for p in Path(out_dir).rglob("*") if p.is_file()) / 2**20,
    }


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its finished workers."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


# --------------------------------------------------------------------------- the run


def _size(cfg: Config) -> Size:
    base = QUICK if cfg.quick else FULL
    return Size(cfg.communities or base[0], cfg.vouchers or base[1])


def _result(
    db: str,
    size: Size,
    books: dict[str, Any],
    jobs: int,
    run: dict[str, Any],
    base: float | None,
    db_mb: float | None,
) -> Result:
    peak = max(run["peak_rss_mb"], run["workers_rss_mb"])
    notes = [
        f"size {size.label}: {run['closed']} communities closed, {run['files']} files"
        f" ({run['out_mb']:.0f} MiB); set-up {books['seconds']:.0f} s, not timed",
        f"peak RSS: this process {run['peak_rss_mb']:.0f} MiB"
        + (f", largest worker {run['workers_rss_mb']:.0f} MiB" if jobs > 1 else ""),
    ]
    if run["quarter_rss_mb"] is not None:
        notes.append(
            f"memory flat: peak {run['quarter_rss_mb']:.0f} MiB after a quarter of the"
            f" communities, {run['peak_rss_mb']:.0f} MiB after all"
        )
    notes.append(
        f"CPU {run['cpu_seconds']:.0f} s in juzhang's processes"
        f" ({run['cpu_seconds'] / size.communities:.2f} s per community"
        + ("; the database server's is not counted" if db != "sqlite" else "")
        + f"); load average {run['load']:.1f} at the end"
    )
    if jobs == 2:
        verdict = "met" if run["seconds"] < TARGET_SECONDS else "missed"
        notes.append(f"target < {TARGET_SECONDS:.0f} s with --jobs 2: {verdict}")
    return Result(
        bench=NAME,
        db=db,
        method=f"close_all --jobs {jobs}",
        vouchers=books["vouchers"],
        lines=books["lines"],
        custody=books["custody"],
        seconds=run["seconds"],
        peak_rss_mb=peak,
        ratio=None if base is None else run["seconds"] / base,
        db_mb=db_mb,
        notes=tuple(notes),
    )


def _runs(
    db: str,
    size: Size,
    urls: list[str],
    books: dict[str, Any],
    folder: Path,
    mb: list[float | None],
) -> list[Result]:
    results: list[Result] = []
    base: float | None = None
    for jobs, url, db_mb in zip((1, 2), urls, mb, strict=True):
        out = folder / f"out-{db}-{jobs}"
        run = in_child(
            f"{__name__}.close_phase",
            url=url,
            out_dir=str(out),
            jobs=jobs,
            communities=size.communities,
        )
        results.append(_result(db, size, books, jobs, run, base, db_mb))
        base = base or run["seconds"]
        shutil.rmtree(out, ignore_errors=True)
    return results


def run(cfg: Config) -> list[Result]:
    """Run the benchmark on SQLite, and on PostgreSQL when a URL is given."""
    size = _size(cfg)
    folder = Path(tempfile.mkdtemp(prefix="jz-bench-close-", dir=cfg.workdir))
    results: list[Result] = []
    try:
        first = folder / "books-1.db"
        books = in_child(
            f"{__name__}.setup_phase", url=f"sqlite:///{first}", size=size, seed=cfg.seed
        )
        second = folder / "books-2.db"
        _copy_sqlite(first, second)
        mb = [_sqlite_mb(str(first)), None]
        urls = [f"sqlite:///{first}", f"sqlite:///{second}"]
        results += _runs("sqlite", size, urls, books, folder, mb)
        if cfg.pg_url:
            tag = f"jz_bench_close_{os.getpid()}_{secrets.token_hex(3)}"
            with ExitStack() as stack:
                pg_urls = [
                    stack.enter_context(_pg_schema(cfg.pg_url, f"{tag}_{i}", cfg.keep))
                    for i in (1, 2)
                ]
                pg_books = _setup_both(pg_urls, size, cfg.seed)
                results += _runs("postgresql", size, pg_urls, pg_books, folder, [None, None])
    finally:
        if not cfg.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return results


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database (checkpointed first, so the main file holds everything)."""
    import sqlite3

    conn = sqlite3.connect(source)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copyfile(source, target)


def _setup_both(urls: list[str], size: Size, seed: int) -> dict[str, Any]:
    """Set up the same books in both schemas, side by side (two processes)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(in_child, f"{__name__}.setup_phase", url=u, size=size, seed=seed)
            for u in urls
        ]
        done = [f.result() for f in futures]
    return done[0]


__all__ = ["DESCRIPTION", "NAME", "Size", "close_phase", "run", "setup_phase"]
