"""PostgreSQL raw baseline (原始 COPY 基线): how fast can PostgreSQL itself store these rows?

Part (d) of :mod:`benchmarks.bench_cli` (issues 15 and 18).  The posting
benchmark's raw side (:func:`benchmarks.bench_posting.raw_pg_phase`) copies
its synthetic year into juzhang's tables with every juzhang trigger dropped
and has taken 38–67 s for 180,000 vouchers, where a plain ``COPY`` of the
same volume takes about a second.  This measures the same rows
(:class:`benchmarks.bench_posting._RawBuilder`, the posting benchmark's size,
``--quick`` its quick size) ``COPY``-ed in one transaction, one session,
into:

1. **plain** tables: ``CREATE TABLE … AS … WITH NO DATA`` copies of
   ``custody_entry``, ``voucher`` and ``voucher_line`` (no keys, no
   constraints, no indexes);
2. juzhang's tables with the triggers **and the foreign keys** dropped
   (primary keys, unique constraints, CHECKs and indexes kept);
3. juzhang's tables with the triggers dropped, foreign keys kept, **no
   statistics** (the posting benchmark's raw phase, as it runs);
4. the same after ``ANALYZE`` of the set-up (the tables the rows go into
   are still empty);
5. the same with statistics taken after the first community's rows (one
   ``ANALYZE`` inside the load, in its own session).

Each phase runs in a fresh database (or schema) after a ``CHECKPOINT``.
Beside the time, each reports what ``pg_stat_user_indexes`` and
``pg_stat_user_tables`` counted during the load: the index tuples read
(``idx_tup_read``, by index), and the sequential-scan tuples read.  A
foreign-key check reads one index tuple per row when it is planned right.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from benchmarks import Config, Result, in_child

NAME = "pg_copy"

MODES = {
    "plain": "plain tables, no constraints or indexes",
    "no_fk": "juzhang's tables, triggers and foreign keys dropped",
    "fk": "juzhang's tables, triggers dropped, foreign keys, no statistics",
    "fk_analyze": "the same after ANALYZE of the set-up (tables still empty)",
    "fk_analyze_grown": "the same, ANALYZE after the first community's rows",
}
TABLES = ("custody_entry", "voucher", "voucher_line")


def _stats(conn: Any, schema: str) -> dict[str, Any]:
    """Return index tuples read by index, and seq tuples read by table, for the schema."""
    conn.execute("SELECT pg_stat_clear_snapshot()")
    idx = {
        str(name): int(n)
        for name, n in conn.execute(
            "SELECT indexrelname, idx_tup_read FROM pg_stat_user_indexes"
            " WHERE schemaname = %s AND idx_tup_read > 0",
            (schema,),
        )
    }
    seq = {
        str(name): int(n)
        for name, n in conn.execute(
            "SELECT relname, seq_tup_read FROM pg_stat_user_tables"
            " WHERE schemaname = %s AND seq_tup_read > 0",
            (schema,),
        )
    }
    return {"idx": idx, "seq": seq}


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0) > 0}


def copy_phase(
    url: str, communities: int, months: int, per_month: int, seed: int, mode: str
) -> dict[str, Any]:
    """Set up, build the rows (not timed), then time their ``COPY`` in one transaction."""
    import psycopg

    from benchmarks.bench_posting import (
        CUSTODY_COLS,
        LINE_COLS,
        VOUCHER_COLS,
        Size,
        _ids,
        _months,
        _pg_conninfo,
        _RawBuilder,
        prepare,
    )
    from benchmarks.synthetic import entity_code

    size = Size(communities, months, per_month)
    prepare(url, size.communities)
    ids, users = _ids(url)
    conninfo, schema = _pg_conninfo(url)
    builder = _RawBuilder(ids, users, sqlite=False)
    data = [builder.community(entity_code(n), _months(size, n, seed)) for n in range(communities)]
    cols = {"custody_entry": CUSTODY_COLS, "voucher": VOUCHER_COLS, "voucher_line": LINE_COLS}
    target = {t: t for t in TABLES}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        # the reference checks stand for foreign keys: kept where the keys are
        keep = set() if mode == "no_fk" else set(conn.execute(REFERENCE_CHECKS).fetchall())
        for tg, table in conn.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
        ).fetchall():
            if (tg, table) not in keep:
                conn.execute(f'DROP TRIGGER "{tg}" ON "{table}"')
        if mode == "plain":
            for t in TABLES:
                conn.execute(f"CREATE TABLE plain_{t} AS SELECT * FROM {t} WITH NO DATA")
                target[t] = f"plain_{t}"
        if mode == "no_fk":
            for con, table in conn.execute(
                "SELECT conname, conrelid::regclass::text FROM pg_constraint"
                " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
                " AND conrelid::regclass::text = ANY(%s)",
                (list(TABLES),),
            ).fetchall():
                conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{con}"')
        if mode.startswith("fk_analyze"):
            conn.execute("ANALYZE")
        conn.execute("CHECKPOINT")
        before = _stats(conn, schema)
    started = time.perf_counter()
    analyze_s = 0.0
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for n, rows in enumerate(data):
            for t, part in zip(TABLES, rows, strict=True):
                with cur.copy(f"COPY {target[t]} ({', '.join(cols[t])}) FROM STDIN") as copy:
                    for row in part:
                        copy.write_row(row)
            if n == 0 and mode == "fk_analyze_grown":
                t0 = time.perf_counter()
                conn.commit()  # ANALYZE sees committed rows only; its own session
                with psycopg.connect(conninfo, autocommit=True) as other:
                    other.execute("ANALYZE")
                conn.execute("DISCARD PLANS")  # the foreign-key plans made on empty tables
                analyze_s = time.perf_counter() - t0
        conn.commit()
    seconds = time.perf_counter() - started
    stats: dict[str, Any] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for _ in range(50):  # the loading backend flushes its counters when it ends
            stats = _stats(conn, schema)
            if stats != before:
                break
            time.sleep(0.1)
    counts = [sum(len(d[i]) for d in data) for i in (1, 2, 0)]
    return {
        "seconds": seconds,
        "analyze_seconds": analyze_s,
        "vouchers": counts[0],
        "lines": counts[1],
        "custody": counts[2],
        "idx": _diff(stats["idx"], before["idx"]),
        "seq": _diff(stats["seq"], before["seq"]),
    }


def run(cfg: Config) -> Iterator[Result]:
    """Time every mode in a database of its own; yield one result each."""
    import dataclasses
    import os
    import secrets

    from benchmarks.bench_posting import _checkpoint, _pg_space, _size

    assert cfg.pg_url is not None
    # The posting benchmark's own size: under ``--only cli`` the size options
    # mean (a)'s statement rows and (b)'s communities, and as a posting size
    # ``--vouchers 100000`` asked this part for millions of vouchers.
    size = _size(dataclasses.replace(cfg, communities=None, months=None, vouchers=None))
    tag = f"jz_bench_copy_{os.getpid()}_{secrets.token_hex(3)}"
    base: float | None = None
    for i, (mode, label) in enumerate(MODES.items()):
        with _pg_space(cfg.pg_url, f"{tag}_{i}", cfg.keep) as (url, _kind):
            _checkpoint(cfg.pg_url)
            out = in_child(
                f"{__name__}.copy_phase",
                url=url,
                communities=size.communities,
                months=size.months,
                per_month=size.per_month,
                seed=cfg.seed,
                mode=mode,
            )
        base = base or out["seconds"]
        rows = out["vouchers"] + out["lines"] + out["custody"]
        idx_total = sum(out["idx"].values())
        top = sorted(out["idx"].items(), key=lambda kv: -kv[1])[:4]
        notes = [
            f"{label}; size {size.label}, {rows:,} rows; × column: over the plain COPY",
            f"index tuples read {idx_total:,} ({idx_total / rows:.1f} a row):"
            + ", ".join(f" {k} {v:,}" for k, v in top),
        ]
        if out["seq"]:
            notes.append(
                "seq tuples read: " + ", ".join(f"{k} {v:,}" for k, v in out["seq"].items())
            )
        if out["analyze_seconds"]:
            notes.append(f"ANALYZE after the first community: {out['analyze_seconds']:.2f} s")
        print(f"  (d) COPY {mode}: {out['seconds']:.2f} s; {notes[1]}", flush=True)
        yield Result(
            bench="cli",
            db="postgresql",
            method=f"(d) COPY: {label}",
            vouchers=out["vouchers"],
            lines=out["lines"],
            custody=out["custody"],
            seconds=out["seconds"],
            peak_rss_mb=out["peak_rss_mb"],
            ratio=out["seconds"] / base if mode != "plain" else None,
            notes=tuple(notes),
        )


# --------------------------------------------------------------------------- (a)'s floor

FLOOR_TABLES = (
    "import_batch",
    "custody_entry",
    "voucher",
    "voucher_line",
    "statement_line",
    "audit_log",
)
"""What the 100,000-row path stores, in the order the foreign keys need."""

REFERENCE_CHECKS = (
    "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
    " JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'jz_refs' AND t.tgtype & 4 <> 0"
    " AND c.relnamespace = current_schema()::regnamespace"
)
"""The statement triggers that check the book tables' inserted references to
the reference tables on PostgreSQL since migration 0021 (foreign keys before):
a floor "with foreign keys" keeps them (``tgtype & 4``: an INSERT trigger)."""

FLOOR_MODES = {
    "keys": "juzhang's tables: keys, indexes, CHECKs, foreign keys and the reference"
    " checks that stand for them (other triggers off)",
    "no_fk": "juzhang's tables without their foreign keys (triggers off)",
    "plain": "plain tables, no constraints or indexes",
}


def path_floor(admin_url: str, path_url: str, name: str) -> dict[str, Any]:
    """Time a ``COPY`` of the rows the CLI path stored, once each, three ways.

    Section (a)'s PostgreSQL floor: what PostgreSQL itself needs to store the
    rows juzhang's five steps leave behind (statement lines, custody entries,
    vouchers, their lines, the audit trail), written once, in one transaction,
    each table analysed after its rows as juzhang's steps do, so that the
    foreign keys of the tables after it are checked through their keys. Each
    way runs in a copy of the path's database (``CREATE DATABASE … TEMPLATE``)
    with those tables emptied, after a ``CHECKPOINT``; parsing is not in it.
    Returns ``{"modes": …}``: by :data:`FLOOR_MODES` key, the seconds each
    table took (its ``COPY`` and its ``ANALYZE``) and the commit's.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    from benchmarks.bench_posting import _pg_conninfo

    admin, _schema = _pg_conninfo(admin_url)
    source, _schema = _pg_conninfo(path_url)
    data: dict[str, bytes] = {}
    with psycopg.connect(source) as conn, conn.cursor() as cur:
        for t in FLOOR_TABLES:
            with cur.copy(f"COPY {t} TO STDOUT (FORMAT binary)") as copy:
                data[t] = b"".join(copy)
    template = make_url(path_url).database
    target = make_url(source).set(database=name).render_as_string(hide_password=False)
    out: dict[str, dict[str, float]] = {}
    for mode in FLOOR_MODES:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            with psycopg.connect(target, autocommit=True) as conn:
                conn.execute(f"TRUNCATE {', '.join(FLOOR_TABLES)} CASCADE")
                for t in FLOOR_TABLES:
                    conn.execute(f"ALTER TABLE {t} DISABLE TRIGGER USER")
                if mode == "keys":
                    for tg, table in conn.execute(REFERENCE_CHECKS).fetchall():
                        conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER "{tg}"')
                if mode != "keys":
                    for con, table in conn.execute(
                        "SELECT conname, conrelid::regclass::text FROM pg_constraint"
                        " WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
                        (list(FLOOR_TABLES),),
                    ).fetchall():
                        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{con}"')
                if mode == "plain":
                    for t in FLOOR_TABLES:
                        conn.execute(f"CREATE TABLE plain_{t} AS SELECT * FROM {t} WITH NO DATA")
                conn.execute("ANALYZE")
                conn.execute("CHECKPOINT")
            prefix = "plain_" if mode == "plain" else ""
            with psycopg.connect(target) as conn, conn.cursor() as cur:
                took = out[mode] = {}
                for t in FLOOR_TABLES:
                    started = time.perf_counter()
                    with cur.copy(f"COPY {prefix}{t} FROM STDIN (FORMAT binary)") as copy:
                        copy.write(data[t])
                    cur.execute(f"ANALYZE {prefix}{t}")
                    took[t] = time.perf_counter() - started
                started = time.perf_counter()
                conn.commit()
                took["commit"] = time.perf_counter() - started
        finally:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {"modes": out}
