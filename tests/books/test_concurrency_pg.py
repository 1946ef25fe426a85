"""Posting from several processes at once (并发记账): numbers stay gapless, books balance.

PostgreSQL (the issue's requirement): 8 processes, each with its own engine,
post 100 vouchers each into the same community and month.  SQLite: 4
processes × 25 vouchers on one database file, which proves that
``BEGIN IMMEDIATE`` plus the busy timeout serialise the writers without a
single "database is locked".

Each voucher is drafted by ``bk``, reviewed by ``rv`` and posted by ``bk``.
Workers with an even index do all three steps in one transaction per
voucher; workers with an odd index commit after each step, so drafts,
reviews and postings of different processes interleave and posting order
differs from id order.  Every voucher pays office supplies in cash: its cash
line names, explicitly, a cashier's entry the set-up recorded, and each
worker has its own disjoint set of entries.

Afterwards: every process exited 0 within the time limit (no deadlock), the
month's numbers are exactly 1..N with each handed out once, no voucher is
left unposted, the trial balance balances with the expected amounts, every
custody entry is backed, the hash chain is N long, and verify() is clean.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import shutil
import time
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from juzhang import books, custody
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.custody import CustodyInput
from juzhang.money import from_fen
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.engine import make_engine, transaction
from juzhang.verify import verify
from tests.conftest import _truncate_pg, build_world

ENTITY = "C001"
PERIOD = 202609
OPENING_CASH = Decimal("200000.00")
JOIN_TIMEOUT = 300.0
SUMMARY = "购办公用品"


def _fen(worker: int, i: int) -> int:
    """The amount of worker ``worker``'s ``i``-th voucher, in fen (all distinct)."""
    return 1_000 * (worker + 1) + 7 * i + 1


def _date(worker: int, i: int) -> dt.date:
    return dt.date(2026, 9, 1 + (worker * 7 + i) % 30)


def _setup(url: str, workers: int, per_worker: int) -> list[list[int]]:
    """Make C001 with its people, an office account, opening cash and the cashier's entries.

    Returns each worker's custody entry ids.
    """
    engine = make_engine(url)
    world = build_world(engine)
    world.run(books.add_account, ENTITY, "51301", "办公费")
    world.run(books.set_opening, ENTITY, "bk", {"101": OPENING_CASH, "301": -OPENING_CASH})
    items = [
        CustodyInput(_date(w, i), "101", -from_fen(_fen(w, i)), f"{SUMMARY} w{w}-{i}")
        for w in range(workers)
        for i in range(per_worker)
    ]
    ids = world.run(custody.record_entries, ENTITY, "cash", items)
    engine.dispose()
    return [ids[w * per_worker : (w + 1) * per_worker] for w in range(workers)]


def _worker(url: str, worker: int, entry_ids: list[int], barrier: Any, out: str) -> None:
    """Post one voucher per custody entry; write the numbers (or the traceback) to ``out``."""
    result: dict[str, Any] = {"numbers": [], "error": None}
    try:
        engine = make_engine(url)
        with transaction(engine, write=False) as s:  # connect before the race starts
            books.chain_head(s, ENTITY)
        barrier.wait(timeout=120)
        for i, entry in enumerate(entry_ids):
            amount = from_fen(_fen(worker, i))
            summary = f"{SUMMARY} w{worker}-{i}"
            draft = VoucherDraft(
                _date(worker, i),
                (
                    Line("51301", summary, debit=amount),
                    Line("101", summary, credit=amount, custody_entry=entry),
                ),
                1,
            )
            if worker % 2 == 0:  # one transaction per voucher
                with transaction(engine) as s:
                    vid = books.draft_voucher(s, ENTITY, "bk", draft)
                    books.review_vouchers(s, ENTITY, "rv", [vid])
                    numbers = books.post_vouchers(s, ENTITY, "bk", [vid])
            else:  # one transaction per step
                with transaction(engine) as s:
                    vid = books.draft_voucher(s, ENTITY, "bk", draft)
                with transaction(engine) as s:
                    books.review_vouchers(s, ENTITY, "rv", [vid])
                with transaction(engine) as s:
                    numbers = books.post_vouchers(s, ENTITY, "bk", [vid])
            result["numbers"].extend(numbers)
        engine.dispose()
    except BaseException:
        result["error"] = traceback.format_exc()
        raise
    finally:
        Path(out).write_text(json.dumps(result), encoding="utf-8")


def _race(url: str, tmp: Path, workers: int, per_worker: int) -> tuple[list[list[int]], float]:
    """Run the workers as spawned processes; return their numbers and the seconds taken."""
    shares = _setup(url, workers, per_worker)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers)
    outs = [tmp / f"worker{w}.json" for w in range(workers)]
    procs = [
        ctx.Process(target=_worker, args=(url, w, shares[w], barrier, str(outs[w])))
        for w in range(workers)
    ]
    start = time.monotonic()
    for p in procs:
        p.start()
    deadline = start + JOIN_TIMEOUT
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    took = time.monotonic() - start
    hung = [w for w, p in enumerate(procs) if p.is_alive()]
    for w in hung:
        procs[w].kill()
        procs[w].join()
    assert not hung, f"workers {hung} still running after {JOIN_TIMEOUT:.0f} s: deadlock?"
    results = [
        json.loads(o.read_text(encoding="utf-8")) if o.exists() else {"error": "no result"}
        for o in outs
    ]
    errors = {w: r["error"] for w, r in enumerate(results) if r["error"]}
    codes = [p.exitcode for p in procs]
    assert codes == [0] * workers and not errors, f"exit codes {codes}; errors: {errors}"
    return [r["numbers"] for r in results], took


def _check_books(url: str, numbers: list[list[int]], workers: int, per_worker: int) -> None:
    total = workers * per_worker
    handed_out = sorted(n for ns in numbers for n in ns)
    assert [len(ns) for ns in numbers] == [per_worker] * workers
    assert handed_out == list(range(1, total + 1))
    spent = from_fen(sum(_fen(w, i) for w in range(workers) for i in range(per_worker)))
    engine = make_engine(url)
    with transaction(engine, write=False) as s:
        vouchers = books.list_vouchers(s, ENTITY, period=PERIOD)
        assert {v.status for v in vouchers} == {"posted"}
        assert sorted(v.number or 0 for v in vouchers) == list(range(1, total + 1))
        assert books.chain_head(s, ENTITY)[0] == total
        tb = trial_balance(s, ENTITY, PERIOD)
        assert tb.balanced
        assert tb.closing_total == 0 and tb.debit_total == tb.credit_total == spent
        assert tb.row("51301").debit == spent
        assert tb.row("101").credit == spent
        assert tb.row("101").closing_balance == OPENING_CASH - spent
        entries = custody.list_entries(s, ENTITY, period=PERIOD)
        assert len(entries) == total and all(e.backed for e in entries)
        assert verify(s) == []
    engine.dispose()


@pytest.mark.pg
@pytest.mark.slow
def test_eight_processes_post_800_vouchers_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    _truncate_pg(engine)
    engine.dispose()
    numbers, took = _race(pg_url, tmp_path, workers=8, per_worker=100)
    print(f"PostgreSQL: 8 × 100 vouchers posted in {took:.1f} s")
    _check_books(pg_url, numbers, workers=8, per_worker=100)


def test_four_processes_post_100_vouchers_on_sqlite(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    numbers, took = _race(url, tmp_path, workers=4, per_worker=25)
    print(f"SQLite: 4 × 25 vouchers posted in {took:.1f} s")
    _check_books(url, numbers, workers=4, per_worker=25)
