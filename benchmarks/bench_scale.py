"""Scale benchmark (规模): how the time grows with the rows and with the history (issue 18).

Three parts, each on SQLite and, with ``--pg``, PostgreSQL; every figure is
compared with others of the same run, never with a constant.

**(a) Doubling.**  The command-line path of :mod:`benchmarks.bench_cli`
section (a) — set-up with the guide's commands, then ``import bank``,
``custody accept-statement --all``, ``statement draft``, ``voucher review
--all``, ``voucher post --all`` as separate ``juzhang`` processes — on one
community's statement of each size in ``--sizes`` (default 20,000, 40,000,
100,000 rows; ``--quick`` 500 and 1,000).  For each step and each pair of
consecutive sizes it prints the growth *per doubling*: the time ratio
normalised to a doubling of the rows, ``(t₂/t₁) ^ (ln 2 / ln(n₂/n₁))`` — for
20k → 40k that is t₂/t₁ itself, for 40k → 100k (2.5× the rows) the ratio
that, repeated, would give the measured one.  Linear work gives 2.0;
target ≤ 2.2.  Microseconds per row are shown beside it.

**(b) History.**  One month (300 vouchers a community, 4 communities by
default: ``--vouchers``, ``--communities``) posted and closed after 1 and
after 24 months of history (``--history 1,24``), the history set up first
(not timed) exactly as a month is lived: the cashier's entries
(``custody.record_entries``), the vouchers (``books.post_bulk``), the
month-end cash count, each bank account's statement (every line linked to
its entry; the entries of a month's last two days reach the bank two or
three days later, in the next month) and the close
(:func:`juzhang.closing_run.close_all` writing every file).  The timed month
is the same month (2026-11) with the same synthetic books whatever the
history; only the history differs.  Timed, each in a fresh process:
recording and posting the month; closing it with every file; and, after the
close, each community's bank reconciliation alone.  Each history is set up
once; the timed month then runs three times (``--quick`` once) on fresh
copies of its books (a file copy; ``CREATE DATABASE … TEMPLATE`` on
PostgreSQL), the histories taking turns so that they share the machine's
load, and the medians are compared.  Target: the month's posting and
closing within ±20 % from 1 to 24 months.

**(c) PostgreSQL posting against COPY** (with ``--pg``): the posting
benchmark's juzhang phase (``record_entries`` + ``post_bulk``, one per
community-month; default 5 communities × 11 months × 300 vouchers, set with
``--communities``/``--months``/``--vouchers`` only when running this part
alone) against the same rows ``COPY``-ed into juzhang's tables with
triggers dropped, foreign keys kept and statistics taken after the first
community (:func:`benchmarks.pg_copy.copy_phase`, mode
``fk_analyze_grown``), each in a database of its own.  Beside each time:
the index tuples read during it (``pg_stat_user_indexes.idx_tup_read``; the
juzhang phase's include its small set-up).  Target: posting ≤ 3× the COPY.

``--scale-part doubling|history|copy`` (repeatable) runs only those parts.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import math
import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks import Config, Result, in_child

NAME = "scale"
DESCRIPTION = "growth per doubling of the rows, and with 1 vs 24 months of history"

SIZES_FULL = (20_000, 40_000, 100_000)
SIZES_QUICK = (500, 1_000)
HISTORY_FULL = (1, 24)
HISTORY_QUICK = (1, 2)
MONTH_FULL = (4, 300)  # communities, vouchers per month
MONTH_QUICK = (1, 20)
COPY_FULL = (5, 11, 300)  # not December: the clock refuses entries dated after today
TIMED_PERIOD = 202611
DOUBLING_TARGET = 2.2
HISTORY_TARGET = 0.20
COPY_TARGET = 3.0
REPEATS = 3
PARTS = ("doubling", "history", "copy")
BANKS = ("10201", "10202")


def _say(text: str) -> None:
    print(f"  {text}", flush=True)


def _table(title: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print(f"  {title}", flush=True)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    for n, row in enumerate([head, *rows]):
        print(
            "    "
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ),
            flush=True,
        )
        if n == 0:
            print("    " + "  ".join("-" * w for w in widths), flush=True)


def per_doubling(n1: int, t1: float, n2: int, t2: float) -> float:
    """The time ratio normalised to a doubling of the rows: ``(t2/t1) ^ (ln 2 / ln(n2/n1))``."""
    if n1 <= 0 or n2 <= n1 or t1 <= 0 or t2 <= 0:
        raise ValueError("sizes must grow and times be positive")
    return float((t2 / t1) ** (math.log(2) / math.log(n2 / n1)))


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --------------------------------------------------------------------------- (a) doubling


def _one_size(db: str, cfg: Config, folder: Path, rows: int) -> dict[str, Any]:
    """Run bench_cli's five steps on a fresh database of ``db`` at ``rows``."""
    from benchmarks.bench_cli import Cli, one_community
    from benchmarks.bench_import import write_csv

    work = folder / f"{db}-{rows}"
    work.mkdir()
    statement = write_csv(work / "statement.csv", rows, cfg.seed)
    load = _load()
    if db == "sqlite":
        steps, stored = one_community(
            Cli(f"sqlite:///{work / 'juzhang.db'}", work), statement, rows
        )
    else:
        from benchmarks.bench_posting import _pg_space

        assert cfg.pg_url is not None
        tag = f"jz_bench_scale_{os.getpid()}_{secrets.token_hex(3)}"
        with _pg_space(cfg.pg_url, tag, cfg.keep) as (url, _kind):
            steps, stored = one_community(Cli(url, work), statement, rows)
    if not cfg.keep:
        shutil.rmtree(work, ignore_errors=True)
    return {"steps": steps, "stored": stored, "load": f"{load} → {_load()}"}


def _seconds(runs: dict[int, dict[str, Any]], rows: int, label: str) -> float | None:
    """One step's seconds at ``rows`` (all five for ``"whole path"``); ``None`` if one failed."""
    steps = [s for s in runs[rows]["steps"] if label in (s.label, "whole path")]
    if any(s.failed for s in steps):
        return None
    return float(sum(s.seconds for s in steps))


def doubling(cfg: Config, folder: Path, sizes: Sequence[int]) -> Iterator[Result]:
    """Part (a): the five CLI steps at each size, with the growth per doubling."""
    dbs = [d for d, on in (("sqlite", cfg.sqlite), ("postgresql", bool(cfg.pg_url))) if on]
    for db in dbs:
        runs: dict[int, dict[str, Any]] = {}
        for rows in sizes:
            _say(f"(a) {db}, {rows:,} rows (load {_load()})")
            runs[rows] = _one_size(db, cfg, folder, rows)
        labels = [s.label for s in runs[sizes[0]]["steps"]] + ["whole path"]

        head = ["step", *(f"{n:,} s" for n in sizes), *(f"µs/row {n:,}" for n in sizes)]
        head += [f"×/doubling {_k(a)}→{_k(b)}" for a, b in itertools.pairwise(sizes)]
        table = []
        for label in labels:
            times = [_seconds(runs, n, label) for n in sizes]
            ratios: list[float | None] = []
            for i in range(1, len(sizes)):
                ta, tb = times[i - 1], times[i]
                ratios.append(per_doubling(sizes[i - 1], ta, sizes[i], tb) if ta and tb else None)
            table.append(
                [
                    label,
                    *("—" if t is None else f"{t:.2f}" for t in times),
                    *(
                        "—" if t is None else f"{t / n * 1e6:.0f}"
                        for n, t in zip(sizes, times, strict=False)
                    ),
                    *("—" if r is None else f"{r:.2f}" for r in ratios),
                ]
            )
            worst = max((r for r in ratios if r is not None), default=None)
            for n, t in zip(sizes, times, strict=True):
                if t is None:
                    continue
                notes = [f"load {runs[n]['load']}"]
                if n == sizes[-1] and worst is not None:
                    verdict = "met" if worst <= DOUBLING_TARGET else "missed"
                    notes.append(
                        "× per doubling: "
                        + ", ".join("—" if r is None else f"{r:.2f}" for r in ratios)
                        + f"; target ≤ {DOUBLING_TARGET}: {verdict}"
                    )
                yield Result(
                    bench=NAME,
                    db=db,
                    method=f"(a) {label}",
                    vouchers=n,
                    lines=0,
                    custody=0,
                    seconds=t,
                    peak_rss_mb=max(s.peak_rss_mb for s in runs[n]["steps"]),
                    ratio=None if n == sizes[0] else t / (_seconds(runs, sizes[0], label) or t),
                    notes=tuple(notes),
                )
        _table(
            f"(a) {db}: one community, growth per doubling of the rows"
            f" (target ≤ {DOUBLING_TARGET}; linear = 2.00):",
            head,
            table,
        )


# --------------------------------------------------------------------------- (b) history


def _shift(period: int, months: int) -> int:
    index = (period // 100) * 12 + period % 100 - 1 + months
    return (index // 12) * 100 + index % 12 + 1


def _template(n: int, back: int, per_month: int, seed: int) -> Any:
    """Community ``n``'s books for the month ``back`` months before the timed one."""
    from benchmarks.synthetic import community_year

    return next(community_year(n * 1000 + back, months=1, per_month=per_month, seed=seed))


def _month_inputs(
    n: int, period: int, back: int, per_month: int, seed: int
) -> tuple[list[Any], list[Any], list[dt.date]]:
    """(entries, vouchers as ``SynthVoucher``, entry dates) moved into ``period``."""
    from dataclasses import replace

    book = _template(n, back, per_month, seed)
    days = calendar.monthrange(period // 100, period % 100)[1]

    def moved(d: dt.date) -> dt.date:
        return dt.date(period // 100, period % 100, min(d.day, days))

    custody = [replace(c, date=moved(c.date)) for c in book.custody]
    vouchers = [replace(v, date=moved(v.date)) for v in book.vouchers]
    return custody, vouchers, [c.date for c in custody]


def _post_month(engine: Any, code: str, custody: list[Any], vouchers: list[Any]) -> int:
    """Record the entries and post the vouchers of one month; return the vouchers posted."""
    from benchmarks.bench_posting import custody_inputs, voucher_drafts
    from juzhang import books
    from juzhang import custody as cust
    from juzhang.storage.engine import transaction

    with transaction(engine) as s:
        ids = cust.record_entries(s, code, "cash", custody_inputs(custody), source="import")
        real = {c.id: i for c, i in zip(custody, ids, strict=True)}
        drafts = voucher_drafts(vouchers, real)
        return len(books.post_bulk(s, code, drafts, preparer="bk", reviewer="rv", poster="bk"))


def _month_end(engine: Any, code: str, period: int) -> None:
    """The cash count and each bank account's statement of ``period`` (not timed).

    The statement holds the month's entries dated up to two days before its
    last entry, on their own date, and the previous month's last two days'
    entries, three days after their date; every line is linked to its entry
    and carries the running balance.
    """
    from sqlalchemy import func, insert, select

    from benchmarks.synthetic import OPENING_FEN
    from juzhang.cash_count import record_cash_count
    from juzhang.core.period import first_day, last_day
    from juzhang.money import from_fen
    from juzhang.storage.engine import transaction
    from juzhang.storage.schema import CustodyEntry, Entity, ImportBatch, StatementLine, User

    start, end = first_day(period), last_day(period)
    with transaction(engine) as s:
        entity_id = int(s.execute(select(Entity.id).where(Entity.code == code)).scalar_one())
        bk = int(s.execute(select(User.id).where(User.login == "bk")).scalar_one())
        cash = sum(
            int(f)
            for (f,) in s.execute(
                select(CustodyEntry.amount_fen).where(
                    CustodyEntry.entity_id == entity_id,
                    CustodyEntry.account_code == "101",
                    CustodyEntry.entry_date <= end,
                )
            )
        )
        record_cash_count(s, code, "cash", end, from_fen(OPENING_FEN["101"] + cash))
        prev_start = start - dt.timedelta(days=1)
        prev_start = prev_start.replace(day=1)
        rows = s.execute(
            select(
                CustodyEntry.id,
                CustodyEntry.entry_date,
                CustodyEntry.account_code,
                CustodyEntry.amount_fen,
                CustodyEntry.summary,
                CustodyEntry.counterparty,
            )
            .where(
                CustodyEntry.entity_id == entity_id,
                CustodyEntry.account_code.in_(BANKS),
                CustodyEntry.entry_date >= prev_start,
                CustodyEntry.entry_date <= end,
            )
            .order_by(CustodyEntry.entry_date, CustodyEntry.id)
        ).all()
        last_of: dict[str, dt.date] = {}
        for _i, d, acc, *_rest in rows:
            month = d.year * 100 + d.month
            if month == period:
                last_of[acc] = max(last_of.get(acc, d), d)
        prev_last: dict[str, dt.date] = {}
        for _i, d, acc, *_rest in rows:
            if d < start:
                prev_last[acc] = max(prev_last.get(acc, d), d)
        lines: list[tuple[dt.date, int, str, int, str, str]] = []
        for cid, d, acc, fen, summary, party in rows:
            if d >= start and d <= last_of[acc] - dt.timedelta(days=2):
                lines.append((d, int(cid), str(acc), int(fen), summary, party or ""))
            elif d < start and d > prev_last[acc] - dt.timedelta(days=2):
                lines.append(
                    (d + dt.timedelta(days=3), int(cid), str(acc), int(fen), summary, party or "")
                )
        lines.sort()
        balance = {}
        for acc in BANKS:
            balance[acc] = OPENING_FEN.get(acc, 0) + int(
                s.execute(
                    select(
                        func.coalesce(func.sum(StatementLine.in_fen - StatementLine.out_fen), 0)
                    ).where(StatementLine.entity_id == entity_id, StatementLine.account_code == acc)
                ).scalar_one()
            )
        next_line = 1 + int(
            s.execute(
                select(func.coalesce(func.max(StatementLine.id), 0)).where(
                    StatementLine.entity_id == entity_id
                )
            ).scalar_one()
        )
        next_batch = 1 + int(
            s.execute(
                select(func.coalesce(func.max(ImportBatch.id), 0)).where(
                    ImportBatch.entity_id == entity_id
                )
            ).scalar_one()
        )
        batches = {acc: next_batch + i for i, acc in enumerate(BANKS)}
        counts = dict.fromkeys(BANKS, 0)
        out: list[dict[str, Any]] = []
        for d, cid, acc, fen, summary, party in lines:
            balance[acc] += fen
            counts[acc] += 1
            out.append(
                {
                    "entity_id": entity_id,
                    "id": next_line + len(out),
                    "account_code": acc,
                    "batch_id": batches[acc],
                    "row_no": counts[acc],
                    "dedup_key": f"S{cid:07d}",
                    "txn_date": d,
                    "txn_time": None,
                    "out_fen": -fen if fen < 0 else 0,
                    "in_fen": fen if fen > 0 else 0,
                    "balance_fen": balance[acc],
                    "counterparty": party,
                    "counterparty_account": "",
                    "counterparty_bank": "",
                    "summary": summary,
                    "purpose": "",
                    "remark": "",
                    "serial": f"S{cid:07d}",
                    "custody_entry_id": cid,
                    "voucher_id": None,
                }
            )
        s.execute(
            insert(ImportBatch),
            [
                {
                    "entity_id": entity_id,
                    "id": batch,
                    "kind": "bank",
                    "file_name": f"{acc}-{period}.csv",
                    "file_sha256": secrets.token_hex(32),
                    "account_code": acc,
                    "profile": "benchmark",
                    "imported_by": bk,
                    "imported_at": dt.datetime.now(dt.UTC),
                    "rows_read": counts[acc],
                    "rows_new": counts[acc],
                }
                for acc, batch in batches.items()
            ],
        )
        if out:
            s.execute(insert(StatementLine), out)


def _close(url: str, period: int, out_dir: str, communities: int) -> float:
    from juzhang.closing_run import close_all

    t0 = time.perf_counter()
    summary = close_all(url, period, None, out_dir, 1, actor="rv")
    seconds = time.perf_counter() - t0
    if not summary.ok or len(summary.outcomes) != communities:
        bad = [
            f"{o.entity} {o.status}: {'; '.join(map(str, o.problems[:3]))}" for o in summary.failed
        ]
        raise RuntimeError(f"the close of {period} failed:\n  " + "\n  ".join(bad[:10]))
    shutil.rmtree(out_dir, ignore_errors=True)
    return seconds


def history_setup(
    url: str, history: int, communities: int, per_month: int, seed: int
) -> dict[str, Any]:
    """Set up ``history`` months before the timed one, each posted, counted, stated and closed."""
    from benchmarks.bench_posting import prepare
    from benchmarks.synthetic import entity_code
    from juzhang.storage.engine import make_engine

    t0 = time.perf_counter()
    start = _shift(TIMED_PERIOD, -history)
    prepare(url, communities, start)
    engine = make_engine(url)
    vouchers = 0
    try:
        for back in range(history, 0, -1):
            period = _shift(TIMED_PERIOD, -back)
            for n in range(communities):
                custody, vs, _dates = _month_inputs(n, period, back, per_month, seed)
                vouchers += _post_month(engine, entity_code(n), custody, vs)
                _month_end(engine, entity_code(n), period)
            _close(url, period, tempfile.mkdtemp(prefix="jz-scale-close-"), communities)
    finally:
        engine.dispose()
    return {"seconds": time.perf_counter() - t0, "vouchers": vouchers}


def history_post(url: str, communities: int, per_month: int, seed: int) -> dict[str, Any]:
    """Time recording and posting the timed month for every community."""
    from benchmarks.synthetic import entity_code
    from juzhang.storage.engine import make_engine

    engine = make_engine(url)
    inputs = [_month_inputs(n, TIMED_PERIOD, 0, per_month, seed) for n in range(communities)]
    t0, c0 = time.perf_counter(), time.process_time()
    posted = sum(
        _post_month(engine, entity_code(n), custody, vs)
        for n, (custody, vs, _d) in enumerate(inputs)
    )
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.dispose()
    return {"seconds": seconds, "cpu_seconds": cpu, "vouchers": posted}


def history_month_end(url: str, communities: int) -> dict[str, Any]:
    """The timed month's cash counts and statements (not timed)."""
    from benchmarks.synthetic import entity_code
    from juzhang.storage.engine import make_engine

    engine = make_engine(url)
    for n in range(communities):
        _month_end(engine, entity_code(n), TIMED_PERIOD)
    engine.dispose()
    return {}


def history_close(url: str, out_dir: str, communities: int) -> dict[str, Any]:
    """Time the close of the timed month (every file), then each bank reconciliation alone."""
    from benchmarks.synthetic import entity_code
    from juzhang.reports.reconciliation import bank_reconciliation
    from juzhang.storage.engine import make_engine, transaction

    c0 = time.process_time()
    seconds = _close(url, TIMED_PERIOD, out_dir, communities)
    cpu = time.process_time() - c0
    engine = make_engine(url)
    with transaction(engine, write=False) as s:  # imports and caches warmed, not timed
        bank_reconciliation(s, entity_code(0), TIMED_PERIOD)
    t0 = time.perf_counter()
    items = 0
    for n in range(communities):
        with transaction(engine, write=False) as s:
            rec = bank_reconciliation(s, entity_code(n), TIMED_PERIOD)
            items += sum(len(g.items) for a in rec.accounts for g in a.groups)
    rec_s = time.perf_counter() - t0
    engine.dispose()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "reconciliation_seconds": rec_s,
        "open_items": items,
    }


@contextmanager
def _books_copy(url: str, kind: str, n: int) -> Iterator[str]:
    """Yield the URL of a copy of the books at ``url`` (dropped afterwards).

    SQLite: a copy of the file; PostgreSQL: ``CREATE DATABASE … TEMPLATE``
    (a database of its own, see :func:`benchmarks.bench_posting._pg_space`).
    """
    if url.startswith("sqlite:///"):
        import sqlite3

        source = Path(url.removeprefix("sqlite:///"))
        target = source.with_name(f"{source.stem}-copy{n}.db")
        conn = sqlite3.connect(source)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        shutil.copyfile(source, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            target.unlink(missing_ok=True)
        return
    if kind != "database":
        raise RuntimeError("repeats on PostgreSQL need a database of their own (CREATEDB)")
    import psycopg
    from sqlalchemy.engine import make_url

    from benchmarks.bench_posting import _pg_conninfo

    u = make_url(url)
    name = f"{u.database}_r{n}"
    conninfo, _schema = _pg_conninfo(url)
    admin = make_url(conninfo).set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{u.database}"')
    try:
        yield u.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _timed_month(
    url: str, history: int, communities: int, per_month: int, seed: int, folder: Path
) -> dict[str, Any]:
    """Post, state and close the timed month on ``url``, each in a fresh process."""
    load0 = _load()
    post = in_child(
        f"{__name__}.history_post", url=url, communities=communities, per_month=per_month, seed=seed
    )
    in_child(f"{__name__}.history_month_end", url=url, communities=communities)
    close = in_child(
        f"{__name__}.history_close",
        url=url,
        out_dir=str(folder / f"out-{history}-{secrets.token_hex(3)}"),
        communities=communities,
    )
    return {"post": post, "close": close, "load": f"{load0} → {_load()}"}


def _median_run(tries: list[dict[str, Any]]) -> dict[str, Any]:
    """One run of medians (each figure's own), with every try's figures kept in ``all``."""
    out: dict[str, Any] = {"load": "; ".join(t["load"] for t in tries)}
    for part in ("post", "close"):
        keys = [k for k, v in tries[0][part].items() if isinstance(v, int | float)]
        out[part] = {k: statistics.median(t[part][k] for t in tries) for k in keys}
        out[part]["all"] = {k: [t[part][k] for t in tries] for k in keys}
    return out


def history(cfg: Config, folder: Path, months: Sequence[int]) -> Iterator[Result]:
    """Part (b): post and close one month after each amount of history.

    Every history is set up first; then the timed month runs ``repeats``
    times on fresh copies of each, the histories in turn (1, 24, 1, 24, …)
    so that they share the machine's load; the medians are compared.
    """
    from benchmarks.bench_posting import _pg_space

    base = MONTH_QUICK if cfg.quick else MONTH_FULL
    communities, per_month = cfg.communities or base[0], cfg.vouchers or base[1]
    repeats = 1 if cfg.quick else REPEATS
    dbs = [d for d, on in (("sqlite", cfg.sqlite), ("postgresql", bool(cfg.pg_url))) if on]
    for db in dbs:
        runs: dict[int, dict[str, Any]] = {}
        with ExitStack() as stack:
            books: dict[int, tuple[str, str, dict[str, Any]]] = {}
            for h in months:
                _say(f"(b) {db}: set-up of {h} months, {communities}×{per_month} (load {_load()})")
                if db == "sqlite":
                    url, kind = f"sqlite:///{folder / f'history-{h}.db'}", "file"
                else:
                    assert cfg.pg_url is not None
                    tag = f"jz_bench_hist_{os.getpid()}_{secrets.token_hex(3)}"
                    url, kind = stack.enter_context(_pg_space(cfg.pg_url, tag, cfg.keep))
                setup = in_child(
                    f"{__name__}.history_setup",
                    url=url,
                    history=h,
                    communities=communities,
                    per_month=per_month,
                    seed=cfg.seed,
                )
                books[h] = (url, kind, setup)
                _say(f"    set-up {setup['seconds']:.0f} s")
            tries: dict[int, list[dict[str, Any]]] = {h: [] for h in months}
            for n in range(repeats):
                for h in months:
                    url, kind, _setup = books[h]
                    with _books_copy(url, kind, n) as copy:
                        t = _timed_month(copy, h, communities, per_month, cfg.seed, folder)
                    tries[h].append(t)
                    _say(
                        f"(b) {db}, {h} months, try {n + 1}: post {t['post']['seconds']:.2f} s,"
                        f" close {t['close']['seconds']:.2f} s, reconciliation"
                        f" {t['close']['reconciliation_seconds']:.3f} s (load {_load()})"
                    )
            for h in months:
                runs[h] = _median_run(tries[h]) | {"setup": books[h][2]}
            if db == "sqlite" and not cfg.keep:
                for h in months:
                    Path(books[h][0].removeprefix("sqlite:///")).unlink(missing_ok=True)
        first = months[0]
        table = []
        for what, key in (
            ("post the month (record + post_bulk)", ("post", "seconds")),
            ("close the month (close_all, every file)", ("close", "seconds")),
            ("bank reconciliations alone", ("close", "reconciliation_seconds")),
        ):
            base_s = runs[first][key[0]][key[1]]
            cells = []
            for h in months:
                s = runs[h][key[0]][key[1]]
                change = s / base_s - 1 if base_s else 0.0
                cells.append(f"{s:.3f}" if h == first else f"{s:.3f} ({change:+.0%})")
                notes = [
                    f"{h} months of history; median of {repeats}:"
                    f" {', '.join(f'{x:.2f}' for x in runs[h][key[0]]['all'][key[1]])} s;"
                    f" load {runs[h]['load']}"
                ]
                if "cpu_seconds" in runs[h][key[0]] and key[1] == "seconds":
                    notes.append(f"CPU {runs[h][key[0]]['cpu_seconds']:.2f} s in juzhang's process")
                if h != first:
                    ok = abs(change) <= HISTORY_TARGET
                    notes.append(
                        f"vs {first} month(s): {change:+.0%}; target ±{HISTORY_TARGET:.0%}:"
                        f" {'met' if ok else 'missed'}"
                    )
                yield Result(
                    bench=NAME,
                    db=db,
                    method=f"(b) {what}, history {h}",
                    vouchers=runs[h]["post"]["vouchers"],
                    lines=0,
                    custody=0,
                    seconds=s,
                    peak_rss_mb=runs[h][key[0]]["peak_rss_mb"],
                    ratio=None if h == first else s / base_s,
                    notes=tuple(notes),
                )
            verdicts = (
                [
                    "met"
                    if abs(runs[h][key[0]][key[1]] / base_s - 1) <= HISTORY_TARGET
                    else "missed"
                    for h in months[1:]
                ]
                if base_s
                else ["—"]
            )
            table.append([what, *cells, ", ".join(verdicts)])
        head = ["step", *(f"history {h} s" for h in months), f"±{HISTORY_TARGET:.0%}"]
        _table(
            f"(b) {db}: one month ({communities} communities × {per_month} vouchers)"
            f" after 1 and more months of history:",
            head,
            table,
        )


# --------------------------------------------------------------------------- (c) COPY


def posting_phase(
    url: str, communities: int, months: int, per_month: int, seed: int
) -> dict[str, Any]:
    """bench_posting's juzhang phase, then the index tuples read in the database."""
    import psycopg

    from benchmarks.bench_posting import Size, _pg_conninfo, juzhang_phase
    from benchmarks.pg_copy import _stats

    size = Size(communities, months, per_month)
    out = juzhang_phase(url, size, seed, "month", False, None, False)
    conninfo, schema = _pg_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        stats: dict[str, Any] = {}
        for _ in range(50):  # the posting backend flushes its counters when it ends
            stats = _stats(conn, schema)
            if stats["idx"]:
                break
            time.sleep(0.1)
    out["idx"] = stats.get("idx", {})
    out["seq"] = stats.get("seq", {})
    out.pop("heads", None)
    return out


def copy_against(cfg: Config) -> Iterator[Result]:
    """Part (c): juzhang posting against the COPY with foreign keys and statistics."""
    from benchmarks.bench_posting import _checkpoint, _pg_space

    assert cfg.pg_url is not None
    base = (2, 2, 30) if cfg.quick else COPY_FULL
    c, m, v = base  # the size options belong to part (b) unless this part runs alone
    if cfg.parts == ("copy",):
        c, m, v = cfg.communities or c, cfg.months or m, cfg.vouchers or v
    tag = f"jz_bench_scale_copy_{os.getpid()}_{secrets.token_hex(3)}"
    load0 = _load()
    with _pg_space(cfg.pg_url, f"{tag}_p", cfg.keep) as (url, _kind):
        _checkpoint(cfg.pg_url)
        ours = in_child(
            f"{__name__}.posting_phase",
            url=url,
            communities=c,
            months=m,
            per_month=v,
            seed=cfg.seed,
        )
    with _pg_space(cfg.pg_url, f"{tag}_c", cfg.keep) as (url, _kind):
        _checkpoint(cfg.pg_url)
        raw = in_child(
            "benchmarks.pg_copy.copy_phase",
            url=url,
            communities=c,
            months=m,
            per_month=v,
            seed=cfg.seed,
            mode="fk_analyze_grown",
        )
    load = f"{load0} → {_load()}"
    rows = raw["vouchers"] + raw["lines"] + raw["custody"]
    ratio = ours["seconds"] / raw["seconds"]
    table = []
    for label, out, r in (
        ("juzhang: record_entries + post_bulk", ours, ratio),
        ("COPY, foreign keys, statistics after 1st community", raw, None),
    ):
        idx = sum(out["idx"].values())
        top = sorted(out["idx"].items(), key=lambda kv: -kv[1])[:3]
        table.append(
            [
                label,
                f"{out['seconds']:.2f}",
                "—" if r is None else f"{r:.2f}×",
                f"{idx:,}",
                f"{idx / rows:.1f}",
                ", ".join(f"{k} {n:,}" for k, n in top),
            ]
        )
        notes = [
            f"size {c}×{m}×{v}: {rows:,} rows; load {load}",
            f"index tuples read {idx:,} ({idx / rows:.1f} a row): "
            + ", ".join(f"{k} {n:,}" for k, n in top),
        ]
        if r is not None:
            notes.append(
                f"posting ÷ COPY {r:.2f}×; target ≤ {COPY_TARGET:.0f}×:"
                f" {'met' if r <= COPY_TARGET else 'missed'}"
            )
        yield Result(
            bench=NAME,
            db="postgresql",
            method=f"(c) {label}",
            vouchers=out["vouchers"],
            lines=out["lines"],
            custody=out["custody"],
            seconds=out["seconds"],
            peak_rss_mb=out["peak_rss_mb"],
            ratio=r,
            notes=tuple(notes),
        )
    _table(
        f"(c) postgresql: posting against COPY, {c}×{m}×{v} ({rows:,} rows;"
        f" target ≤ {COPY_TARGET:.0f}×):",
        ["load", "seconds", "× COPY", "index tuples read", "a row", "most read"],
        table,
    )


# --------------------------------------------------------------------------- the run


def run(cfg: Config) -> Iterator[Result]:
    """Run parts (a), (b) and, with PostgreSQL, (c); yield the results."""
    from benchmarks.bench_cli import juzhang_script

    parts = cfg.parts or PARTS
    sizes = cfg.sizes or (SIZES_QUICK if cfg.quick else SIZES_FULL)
    months = cfg.history or (HISTORY_QUICK if cfg.quick else HISTORY_FULL)
    if len(sizes) < 2 or list(sizes) != sorted(set(sizes)):
        raise ValueError(f"--sizes must be two or more growing sizes, not {sizes}")
    folder = Path(tempfile.mkdtemp(prefix="jz-bench-scale-", dir=cfg.workdir))
    _say(f"load average: {_load()}")
    try:
        if "doubling" in parts:
            if not juzhang_script().exists():
                raise RuntimeError(f"no juzhang console script at {juzhang_script()}")
            yield from doubling(cfg, folder, sizes)
        if "history" in parts:
            yield from history(cfg, folder, months)
        if "copy" in parts and cfg.pg_url:
            yield from copy_against(cfg)
    finally:
        _say(f"load average: {_load()}")
        if not cfg.keep:
            shutil.rmtree(folder, ignore_errors=True)


__all__ = ["DESCRIPTION", "NAME", "per_doubling", "run"]
