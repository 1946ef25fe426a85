"""Reports benchmark (报表性能): a year's trial balances, one disclosure workbook, vs beancount.

The issue-4 benchmark.  Full size: 200 communities × 12 months × 417
synthetic vouchers (:mod:`benchmarks.synthetic`; 1,000,800 vouchers of 2–4
lines with the cashier's journal entries behind every cash and bank line).

**The books, built once and cached.**  Posting a million vouchers through
``books.post_bulk`` takes a quarter of an hour or more here, so the year is
loaded by a bulk loader that writes exactly the rows the service writes: the
communities, people, detail accounts and opening balances are made by
juzhang (:func:`benchmarks.bench_posting.prepare`); then, with the schema's
triggers set aside (their SQL saved), the custody entries, the vouchers
(numbered, reviewed, posted, hash-chained with juzhang's own
:func:`juzhang.core.voucher.voucher_hash`), their lines, the running balances
(``account_balance``, as the posting trigger sums them) and the audit records
(``custody.record`` and ``voucher.bulk``, as ``record_entries`` and
``post_bulk`` write them) are inserted (``executemany`` on SQLite, ``COPY``
on PostgreSQL), and the triggers are put back.  Then, not timed,
:func:`juzhang.verify.verify` checks a sample of the communities (all of them
up to 20; else every tenth and the last): balanced vouchers, gapless numbers,
the hash chain, running balances against the lines, custody links, opening
balances.  Any problem fails the benchmark loudly; the figures are taken on
books that juzhang itself finds sound.  ``tests/test_benchmarks.py`` checks
on a small size that the loader stores the same rows as posting through the
service.

The built database is cached **in the work folder** (``--workdir``; default
``$TMPDIR/juzhang-bench-cache``) under a name keyed by the size, the seed, the
schema's migration head and the loader's version
(``reports-200x12x417-s2026-r0005-v1.db``; on PostgreSQL a database
``jz_bench_reports_200x12x417_s2026_r0005_v1``).  It is written under a
temporary name and renamed only once verify() passed, so a cache that exists
is a verified one; a re-run with the same arguments reuses it (and says so).
Delete the file or drop the database to rebuild; ``--keep`` is not needed.

**Timed**, each in a fresh child process (its peak RSS is the figure):

* *trial balance*: :func:`juzhang.reports.trial_balance.trial_balance` (the
  function ``juzhang report trial-balance`` calls) for every community over
  the whole year, in one read-only transaction — the whole loop, including
  opening the transaction; every one must balance.  Run three times; the
  figure is the first run, the others are noted.
* *disclosure workbook*: one community's last month, as ``juzhang report
  disclosure ENTITY --period … --out FILE.xlsx`` does it — compute
  :func:`juzhang.reports.disclosure.disclosure`, write
  :func:`juzhang.exporters.disclosure_excel.write_disclosure_workbook`.  First
  run in a fresh process (modules imported beforehand), two more noted.
* *beancount*: the same books exported with
  :func:`juzhang.exporters.beancount.export_beancount` (not timed), then
  loaded with :func:`juzhang.exporters.beancount.check_beancount` — beancount's
  ``loader.load_file``, what ``bean-check`` runs — which must report no error
  (the file asserts every account's balance at every month end).  By default
  the whole year of every community: at full size beancount needs about five
  minutes and 7 GiB for it; ``--beancount-communities N`` loads only the
  first N communities' year, and the table then says it is a subset.  The
  ratio is beancount's load time over juzhang's trial-balance time for the
  same communities, measured in the same run (for a subset, the sum of those
  communities' times within the timed loop).

Targets (issue 4): the trial balance of all 200 communities under 1 s
together; a disclosure workbook under 0.3 s.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks import Config, Result, in_child
from benchmarks.bench_posting import (
    CUSTODY_COLS,
    LINE_COLS,
    VOUCHER_COLS,
    Size,
    _ids,
    _pg_conninfo,
    _RawBuilder,
    _sqlite_mb,
    prepare,
)
from benchmarks.synthetic import START_PERIOD, MonthBook, community_year, entity_code
from juzhang.core.audit import GENESIS_HASH, audit_hash

NAME = "reports"
DESCRIPTION = "trial balance of every community's year, a disclosure workbook, vs beancount"

FULL = (200, 12, 417)
QUICK = (3, 2, 20)
TB_TARGET = 1.0
DISCLOSURE_TARGET = 0.3
LOADER_VERSION = 1
"""Bump when the loader writes different rows, so old caches are not reused."""
REPEAT = 3

BALANCE_COLS = ("entity_id", "account_code", "period", "debit_fen", "credit_fen")
AUDIT_COLS = ("entity_id", "seq", "at", "actor", "action", "subject", "detail", "hash")


# --------------------------------------------------------------------------- cache key


def schema_head() -> str:
    """Return the migration head (``"0005"``): a cached database is only reused at it."""
    from alembic.script import ScriptDirectory

    from juzhang.storage.engine import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return str(head)


def cache_key(size: Size, seed: int) -> str:
    """Return ``200x12x417-s2026-r0005-v1``: size, seed, schema and loader version."""
    s = size
    return f"{s.communities}x{s.months}x{s.per_month}-s{seed}-r{schema_head()}-v{LOADER_VERSION}"


def cache_folder(cfg: Config) -> Path:
    """The work folder that holds the cached books (``--workdir``, else a fixed temp folder)."""
    folder = cfg.workdir or Path(tempfile.gettempdir()) / "juzhang-bench-cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sample(codes: Sequence[str]) -> list[str]:
    """The communities verify() checks: all up to 20, else every tenth and the last."""
    if len(codes) <= 20:
        return list(codes)
    return sorted(set(codes[::10]) | {codes[-1]})


# --------------------------------------------------------------------------- rows


class _Rows:
    """The rows of one community's year that the service would write, beyond the set-up."""

    def __init__(self, builder: _RawBuilder, audit: tuple[int, str], sqlite: bool) -> None:
        self.builder = builder
        self.audit_seq, self.audit_prev = audit  # the next number and the hash before it
        self.sqlite = sqlite

    def community(self, code: str, eid: int, months: list[MonthBook]) -> dict[str, list[Any]]:
        custody, vouchers, lines = self.builder.community(code, iter(months))
        at = self.builder.stamp()
        sums: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
        audit: list[tuple[Any, ...]] = []
        seq, prev = self.audit_seq, self.audit_prev

        def record(actor: str, action: str, subject: str, detail: str) -> None:
            nonlocal seq, prev
            prev = audit_hash(
                prev,
                entity_id=eid,
                seq=seq,
                at=self.builder.at,  # ``at`` is its text on SQLite
                actor=actor,
                action=action,
                subject=subject,
                detail=detail,
            )
            audit.append((eid, seq, at, actor, action, subject, detail, prev))
            seq += 1

        for book in months:
            for c in book.custody:
                record(
                    "cash",
                    "custody.record",
                    f"#{c.id}",
                    _json({"account": c.account, "fen": c.fen}),
                )
            for v in book.vouchers:
                record("bk", "voucher.bulk", f"#{v.id}", _BULK_DETAIL)
                for ln in v.lines:
                    sums[(ln.account, book.period)][0 if ln.side == "D" else 1] += ln.fen
        balances = [(eid, acc, p, d, c) for (acc, p), (d, c) in sorted(sums.items())]
        return {
            "custody_entry": custody,
            "voucher": vouchers,
            "voucher_line": lines,
            "account_balance": balances,
            "audit_log": audit,
        }


def _json(detail: dict[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


_BULK_DETAIL = _json({"reviewer": "rv", "poster": "bk"})

TABLES = (
    ("custody_entry", CUSTODY_COLS),
    ("voucher", VOUCHER_COLS),
    ("voucher_line", LINE_COLS),
    ("account_balance", BALANCE_COLS),
    ("audit_log", AUDIT_COLS),
)


def _months(size: Size, n: int, seed: int) -> list[MonthBook]:
    return list(community_year(n, months=size.months, per_month=size.per_month, seed=seed))


def _next_audit(url: str) -> dict[int, tuple[int, str]]:
    """Each entity's next audit sequence number after the set-up, and the hash before it."""
    from sqlalchemy import func, select

    from juzhang.storage.engine import make_engine, transaction
    from juzhang.storage.schema import AuditLog

    engine = make_engine(url)
    with transaction(engine, write=False) as s:
        last = (
            select(AuditLog.entity_id, func.max(AuditLog.seq).label("seq"))
            .group_by(AuditLog.entity_id)
            .subquery()
        )
        rows = s.execute(
            select(AuditLog.entity_id, AuditLog.seq, AuditLog.hash).join(
                last,
                (last.c.entity_id == AuditLog.entity_id) & (last.c.seq == AuditLog.seq),
            )
        )
        out = {int(e): (int(q) + 1, str(h)) for e, q, h in rows}
    engine.dispose()
    return out


# --------------------------------------------------------------------------- build


def _verify(url: str, size: Size) -> tuple[float, list[str]]:
    """Run verify() on a sample of the loaded communities; fail loudly on any problem.

    Returns (seconds, the codes checked).
    """
    from juzhang.storage.engine import make_engine, transaction
    from juzhang.verify import verify

    checked = sample([entity_code(n) for n in range(size.communities)])
    engine = make_engine(url)
    t0 = time.perf_counter()
    problems: list[str] = []
    with transaction(engine, write=False) as s:
        for code in checked:
            problems += [str(p) for p in verify(s, code)]
    engine.dispose()
    if problems:
        raise RuntimeError(
            f"verify() found {len(problems)} problem(s) in the bulk-loaded books:\n  "
            + "\n  ".join(problems[:20])
        )
    return time.perf_counter() - t0, checked


class _Loader:
    """Generates every community's rows and hands them to an inserter.

    The ids it needs (entities, people, the next audit numbers) are read when
    it is made, before the triggers are set aside: on PostgreSQL dropping a
    trigger locks its table until the loading transaction commits.
    """

    def __init__(self, url: str, size: Size, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.sqlite = url.startswith("sqlite")
        self.ids, self.users = _ids(url)
        self.audit = _next_audit(url)

    def load(self, insert: Any) -> dict[str, int]:
        """Call ``insert(tables)`` once per community; return the counts loaded."""
        counts = dict.fromkeys(("vouchers", "lines", "custody"), 0)
        for n in range(self.size.communities):
            code = entity_code(n)
            eid = self.ids[code]
            builder = _RawBuilder(self.ids, self.users, sqlite=self.sqlite)
            rows = _Rows(builder, self.audit.get(eid, (1, GENESIS_HASH)), sqlite=self.sqlite)
            tables = rows.community(code, eid, _months(self.size, n, self.seed))
            insert(tables)
            counts["vouchers"] += len(tables["voucher"])
            counts["lines"] += len(tables["voucher_line"])
            counts["custody"] += len(tables["custody_entry"])
        return counts


def build_sqlite(path: str, size: Size, seed: int) -> dict[str, Any]:
    """Build, verify and only then move into place the cached SQLite books at ``path``."""
    t0 = time.perf_counter()
    tmp = path + ".building"
    for suffix in ("", "-wal", "-shm"):
        Path(tmp + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{tmp}"
    prepare(url, size.communities)
    loader = _Loader(url, size, seed)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA journal_mode=WAL")
    triggers = list(conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'"))
    conn.execute("BEGIN IMMEDIATE")
    for name, _sql in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    sql = {
        table: f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        for table, cols in TABLES
    }

    def insert(tables: dict[str, list[Any]]) -> None:
        for table, _cols in TABLES:
            conn.executemany(sql[table], tables[table])

    counts = loader.load(insert)
    for _name, trigger_sql in triggers:
        conn.execute(trigger_sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    load_s = time.perf_counter() - t0
    verify_s, checked = _verify(url, size)
    os.replace(tmp, path)
    for suffix in ("-wal", "-shm"):
        Path(tmp + suffix).unlink(missing_ok=True)
    return {**counts, "load_seconds": load_s, "verify_seconds": verify_s, "verified": checked}


def build_pg(server_url: str, database: str, size: Size, seed: int) -> dict[str, Any]:
    """Build, verify and only then rename into place the cached PostgreSQL books."""
    import psycopg
    from sqlalchemy.engine import make_url

    t0 = time.perf_counter()
    building = f"{database}_building"
    conninfo, _schema = _pg_conninfo(server_url)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{building}"')
    url = make_url(server_url).set(database=building).render_as_string(hide_password=False)
    prepare(url, size.communities)
    loader = _Loader(url, size, seed)
    with psycopg.connect(_pg_conninfo(url)[0]) as conn:
        triggers = conn.execute(
            "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        ).fetchall()
        for tg, table, _def in triggers:
            conn.execute(f'DROP TRIGGER "{tg}" ON "{table}"')
        with conn.cursor() as cur:

            def insert(tables: dict[str, list[Any]]) -> None:
                for table, cols in TABLES:
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in tables[table]:
                            copy.write_row(row)

            counts = loader.load(insert)
        for _tg, _table, definition in triggers:
            conn.execute(definition)
        conn.commit()
        conn.execute("ANALYZE")
    load_s = time.perf_counter() - t0
    verify_s, checked = _verify(url, size)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{database}"')
    return {**counts, "load_seconds": load_s, "verify_seconds": verify_s, "verified": checked}


# --------------------------------------------------------------------------- timed


def trial_balance_phase(url: str, codes: list[str], first: int, last: int) -> dict[str, Any]:
    """Time the trial balance of every community over ``first..last`` (whole loop, 3 runs)."""
    from juzhang.reports.trial_balance import trial_balance
    from juzhang.storage.engine import make_engine, transaction

    engine = make_engine(url)
    runs: list[float] = []
    cpu: list[float] = []
    per_entity: list[float] = []
    rows = 0
    for attempt in range(REPEAT):
        times: list[float] = []
        t0, c0 = time.perf_counter(), time.process_time()
        with transaction(engine, write=False) as s:
            for code in codes:
                t = time.perf_counter()
                tb = trial_balance(s, code, first, last)
                times.append(time.perf_counter() - t)
                if not tb.balanced:
                    raise RuntimeError(f"{code}: the trial balance does not balance")
                if attempt == 0:
                    rows += len(tb.rows)
        runs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if attempt == 0:
            per_entity = times
    engine.dispose()
    return {
        "seconds": runs[0],
        "runs": runs,
        "cpu": cpu,
        "per_entity": per_entity,
        "rows": rows,
        "load": os.getloadavg()[0],
    }


def disclosure_phase(url: str, code: str, period: int, out: str) -> dict[str, Any]:
    """Time one entity-month's disclosure workbook as the CLI makes it (3 runs)."""
    from juzhang.exporters.disclosure_excel import write_disclosure_workbook
    from juzhang.reports.disclosure import disclosure
    from juzhang.storage.engine import make_engine, transaction

    engine = make_engine(url)
    runs: list[tuple[float, float]] = []
    cpu: list[float] = []
    items = 0
    for attempt in range(REPEAT):
        path = Path(out) / f"disclosure-{code}-{attempt}.xlsx"
        t0, c0 = time.perf_counter(), time.process_time()
        with transaction(engine, write=False) as s:
            d = disclosure(s, code, period, period)
        t1 = time.perf_counter()
        write_disclosure_workbook(d, path)
        runs.append((t1 - t0, time.perf_counter() - t1))
        cpu.append(time.process_time() - c0)
        items = len(d.items)
    engine.dispose()
    size = (Path(out) / f"disclosure-{code}-0.xlsx").stat().st_size
    return {
        "seconds": sum(runs[0]),
        "compute": runs[0][0],
        "write": runs[0][1],
        "runs": [a + b for a, b in runs],
        "cpu": cpu,
        "load": os.getloadavg()[0],
        "items": items,
        "kib": size / 1024,
    }


def export_phase(url: str, codes: list[str], path: str) -> dict[str, Any]:
    """Export the communities' books to beancount (not a timed figure)."""
    from juzhang.exporters.beancount import export_beancount
    from juzhang.storage.engine import make_engine, transaction

    engine = make_engine(url)
    t0 = time.perf_counter()
    with transaction(engine, write=False) as s:
        summary = export_beancount(s, Path(path), codes)
    engine.dispose()
    return {
        "seconds": time.perf_counter() - t0,
        "transactions": summary.transactions,
        "balances": summary.balances,
        "mib": Path(path).stat().st_size / 2**20,
    }


def beancount_phase(path: str) -> dict[str, Any]:
    """Time beancount's loader on the file (what bean-check does); it must find no error."""
    from juzhang.exporters.beancount import check_beancount

    t0, c0 = time.perf_counter(), time.process_time()
    errors = check_beancount(Path(path))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if errors:
        raise RuntimeError(
            f"beancount found {len(errors)} error(s) in the export:\n  " + "\n  ".join(errors[:10])
        )
    return {"seconds": seconds, "cpu": cpu, "load": os.getloadavg()[0]}


# --------------------------------------------------------------------------- the run


def _size(cfg: Config) -> Size:
    base = QUICK if cfg.quick else FULL
    return Size(cfg.communities or base[0], min(12, cfg.months or base[1]), cfg.vouchers or base[2])


def _say(text: str) -> None:
    print(f"  {text}", flush=True)


def _sqlite_books(cfg: Config, size: Size) -> tuple[str, dict[str, Any] | None, float]:
    path = cache_folder(cfg) / f"reports-{cache_key(size, cfg.seed)}.db"
    built = None
    if path.exists():
        _say(f"sqlite: reusing the verified books cached in {path}")
    else:
        _say(f"sqlite: building {size.label} into {path} (cached for the next run)")
        built = in_child(f"{__name__}.build_sqlite", path=str(path), size=size, seed=cfg.seed)
        _say(_built_text(built))
    return f"sqlite:///{path}", built, _sqlite_mb(str(path))


def _pg_books(cfg: Config, size: Size) -> tuple[str, dict[str, Any] | None, float | None]:
    import psycopg
    from sqlalchemy.engine import make_url

    assert cfg.pg_url is not None
    database = "jz_bench_reports_" + cache_key(size, cfg.seed).replace("-", "_")
    conninfo, _schema = _pg_conninfo(cfg.pg_url)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        found = exists.fetchone() is not None
    built = None
    if found:
        _say(f"postgresql: reusing the verified books cached in database {database}")
    else:
        _say(f"postgresql: building {size.label} into database {database} (cached)")
        built = in_child(
            f"{__name__}.build_pg",
            server_url=cfg.pg_url,
            database=database,
            size=size,
            seed=cfg.seed,
        )
        _say(_built_text(built))
    url = make_url(cfg.pg_url).set(database=database).render_as_string(hide_password=False)
    with psycopg.connect(_pg_conninfo(url)[0]) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return url, built, float(row[0]) / 2**20 if row else None


def _list(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def _built_text(built: dict[str, Any]) -> str:
    return (
        f"built {built['vouchers']:,} vouchers in {built['load_seconds']:.0f} s; verify() of"
        f" {len(built['verified'])} communities: 0 problems ({built['verify_seconds']:.0f} s)"
    )


def _counts(url: str, codes: Sequence[str] | None = None) -> dict[str, int]:
    """Count the vouchers, lines and custody entries (of ``codes``, default all)."""
    from sqlalchemy import func, select

    from juzhang.storage.engine import make_engine, transaction
    from juzhang.storage.schema import CustodyEntry, Entity, Voucher, VoucherLine

    engine = make_engine(url)
    out = {}
    with transaction(engine, write=False) as s:
        ids = select(Entity.id).where(Entity.code.in_(codes)) if codes is not None else None
        for key, table in (
            ("vouchers", Voucher),
            ("lines", VoucherLine),
            ("custody", CustodyEntry),
        ):
            q = select(func.count()).select_from(table)
            if ids is not None:
                q = q.where(table.entity_id.in_(ids))
            out[key] = int(s.scalar(q) or 0)
    engine.dispose()
    return out


def _results(
    cfg: Config, db: str, size: Size, url: str, built: dict[str, Any] | None, db_mb: float | None
) -> list[Result]:
    codes = [entity_code(n) for n in range(size.communities)]
    last = START_PERIOD + size.months - 1
    counts = _counts(url)
    origin = (
        "books reused from the verified cache"
        if built is None
        else f"books built in {built['load_seconds']:.0f} s, verify() of"
        f" {len(built['verified'])} communities: 0 problems ({built['verify_seconds']:.0f} s)"
    )
    tb = in_child(
        f"{__name__}.trial_balance_phase", url=url, codes=codes, first=START_PERIOD, last=last
    )
    _say(f"{db} trial balance ×{len(codes)}: {tb['seconds']:.3f} s")
    folder = Path(tempfile.mkdtemp(prefix="jz-bench-reports-", dir=cfg.workdir))
    try:
        disc = in_child(
            f"{__name__}.disclosure_phase", url=url, code=codes[0], period=last, out=str(folder)
        )
        _say(f"{db} disclosure workbook: {disc['seconds']:.3f} s")
        subset = codes[: cfg.beancount_communities or len(codes)]
        bean_file = folder / "books.beancount"
        export = in_child(f"{__name__}.export_phase", url=url, codes=subset, path=str(bean_file))
        bean = in_child(f"{__name__}.beancount_phase", path=str(bean_file))
        _say(f"{db} beancount load of {len(subset)} communities: {bean['seconds']:.2f} s")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    n_sub = len(subset)
    tb_subset = tb["seconds"] if n_sub == len(codes) else sum(tb["per_entity"][:n_sub])
    sub = counts if n_sub == len(codes) else _counts(url, subset)
    sub_vouchers, sub_lines = sub["vouchers"], sub["lines"]
    verdict_tb = "met" if tb["seconds"] < TB_TARGET else "missed"
    verdict_d = "met" if disc["seconds"] < DISCLOSURE_TARGET else "missed"
    load = os.getloadavg()
    load_note = f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end"
    month_vouchers = size.per_month
    cpu_of = "SQLite's work included" if db == "sqlite" else "the server's not included"
    ratio = bean["seconds"] / tb_subset if tb_subset else None
    whole = (
        "the whole year"
        if n_sub == len(codes)
        else f"a subset: the first {n_sub} of {len(codes)} communities"
    )
    results = [
        Result(
            bench=NAME,
            db=db,
            method=f"trial_balance ×{len(codes)}, {size.months} months",
            vouchers=counts["vouchers"],
            lines=counts["lines"],
            custody=counts["custody"],
            seconds=tb["seconds"],
            peak_rss_mb=tb["peak_rss_mb"],
            db_mb=db_mb,
            notes=(
                f"size {size.label}; {origin}",
                f"first run in a fresh process, one read-only transaction; runs:"
                f" {_list(tb['runs'])} s, CPU {_list(tb['cpu'])} s ({cpu_of}); load average"
                f" {tb['load']:.1f}; {tb['rows']:,} rows, every trial balance balanced",
                f"target < {TB_TARGET:.0f} s for all: {verdict_tb}; {load_note}",
            ),
        ),
        Result(
            bench=NAME,
            db=db,
            method="disclosure workbook, 1 entity-month",
            vouchers=month_vouchers,
            lines=0,
            custody=0,
            seconds=disc["seconds"],
            peak_rss_mb=disc["peak_rss_mb"],
            notes=(
                f"{codes[0]} {last // 100}-{last % 100:02d}: compute {disc['compute']:.3f} s +"
                f" workbook {disc['write']:.3f} s ({disc['items']} items, {disc['kib']:.0f} KiB);"
                f" runs: {_list(disc['runs'])} s (median {statistics.median(disc['runs']):.3f}),"
                f" CPU {_list(disc['cpu'])} s ({cpu_of}); load average {disc['load']:.1f}",
                f"target < {DISCLOSURE_TARGET} s: {verdict_d}",
            ),
        ),
        Result(
            bench=NAME,
            db=db,
            method=f"beancount load_file ×{n_sub} (bean-check)",
            vouchers=export["transactions"],
            lines=sub_lines,
            custody=0,
            seconds=bean["seconds"],
            peak_rss_mb=bean["peak_rss_mb"],
            ratio=ratio,
            notes=(
                f"{whole}: {export['transactions']:,} transactions and {export['balances']:,}"
                f" balance assertions, {export['mib']:.0f} MiB (export {export['seconds']:.1f} s,"
                f" not timed); 0 errors; CPU {bean['cpu']:.1f} s, load average {bean['load']:.1f}",
                "× = beancount's load time over juzhang's trial balance of the same books"
                + ("" if ratio is None else f": {ratio:,.0f}×"),
            ),
        ),
    ]
    if n_sub < len(codes):  # the baseline of the ratio: the subset's share of the loop
        results.insert(
            2,
            Result(
                bench=NAME,
                db=db,
                method=f"trial_balance ×{n_sub} (beancount's books)",
                vouchers=sub_vouchers,
                lines=sub_lines,
                custody=0,
                seconds=tb_subset,
                peak_rss_mb=tb["peak_rss_mb"],
                notes=(f"the first {n_sub} communities' times within the timed loop above",),
            ),
        )
    return results


def run(cfg: Config) -> Iterator[Result]:
    """Build or reuse the cached books on SQLite (and PostgreSQL), then measure."""
    size = _size(cfg)
    if cfg.sqlite:
        url, built, mb = _sqlite_books(cfg, size)
        yield from _results(cfg, "sqlite", size, url, built, mb)
    if cfg.pg_url:
        url, built, mb = _pg_books(cfg, size)
        yield from _results(cfg, "postgresql", size, url, built, mb)


__all__ = [
    "DESCRIPTION",
    "NAME",
    "build_pg",
    "build_sqlite",
    "cache_key",
    "run",
    "sample",
]
