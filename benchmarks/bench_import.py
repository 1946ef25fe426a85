"""Bank statement import benchmark (对账单导入性能): a million rows, CSV and XLSX.

The issue-3 benchmark: a bank statement of 1,000,000 rows (ICBC layout;
``--vouchers N`` sets the number of rows, ``--quick`` uses 2,000) written as
CSV (UTF-8) and as XLSX (one sheet, inline strings, dates as date cells,
amounts as numbers) is imported into one community's bank account through
:func:`juzhang.statements.import_statement`, in one transaction, in a
child process of its own (peak memory is that process's ``ru_maxrss``).

What "end to end to draft vouchers" means here, measured per format:

* **read** — the file read and normalised only (the reader's ceiling, the
  baseline of the ``× raw`` column);
* **import, lines wait** — the import with no cashier entries on record:
  every row is read, keyed, checked against the stored lines and the
  cashier's journal, and stored as a statement line waiting for the
  cashier (no vouchers: there is nothing to back them yet);
* **import + draft** — the realistic month-end case: the cashier has
  recorded every movement in the bank journal beforehand (set-up through
  :func:`juzhang.custody.record_entries`, not timed); the import matches
  every row to its entry and drafts one voucher per row through
  :func:`juzhang.books.draft_pairs` (roles, periods, accounts and the
  custody backing all checked, audit log written).  This is the figure the
  targets (CSV ≥ 50,000 rows/s, XLSX ≥ 20,000 rows/s, < 300 MB) are for.

The ``vouchers`` column of the table is the number of statement rows (so
``vouchers/s`` reads rows/s); the notes give vouchers drafted and the target.
Every timed import is the whole path, file to committed rows: it starts
before the file is opened and stops after the transaction has committed,
and the rows it stored are counted afterwards.  PostgreSQL (``--pg``) runs
the CSV file through both import modes, in a database of its own each.
"""

from __future__ import annotations

import cProfile
import csv
import datetime as dt
import os
import random
import secrets
import shutil
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from benchmarks import Config, Result, in_child

NAME = "import"
DESCRIPTION = "a 1,000,000-row bank statement (CSV, XLSX) imported to draft vouchers"

FULL = 1_000_000
QUICK = 2_000
CODE = "B001"
BANK = "10201"
NUMBER = "6222000011112222"
START = dt.datetime(2026, 9, 1, 8)
HEADER = (
    "凭证号",
    "交易时间",
    "对方单位",
    "对方账号",
    "转入金额",
    "转出金额",
    "余额",
    "用途",
    "摘要",
    "附言",
)
COUNTERPARTIES = tuple(f"对方单位{i}" for i in range(500))
TARGETS = {"csv": 50_000, "xlsx": 20_000}


# --------------------------------------------------------------------------- the statement


def movements(rows: int, seed: int) -> Iterator[tuple[int, dt.datetime, int, int, str]]:
    """Yield ``(i, when, signed fen, balance fen, counterparty)``, all in 2026-09.

    Rows are spread evenly over the month so the cashier's entries (one per
    row, same date) fit the books' first month.
    """
    rng = random.Random(seed)
    step = dt.timedelta(days=29) / max(rows, 1)
    balance = 100_000_000_00
    for i in range(rows):
        fen = rng.randint(1, 5_000_00) * (1 if rng.random() < 0.5 else -1)
        balance += fen
        yield i, START + step * i, fen, balance, COUNTERPARTIES[rng.randrange(500)]


def _money(fen: int) -> str:
    return f"{abs(fen) // 100}.{abs(fen) % 100:02d}"


def write_csv(path: Path, rows: int, seed: int) -> Path:
    """Write the statement as an ICBC-layout CSV (UTF-8, CRLF)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\r\n")
        out.writerows([["[HISTORYDETAIL]"], ["账号：", NUMBER], ["户名：", "某某社区"], HEADER])
        for i, when, fen, balance, who in movements(rows, seed):
            amount = _money(fen)
            out.writerow(
                [
                    f"V{i:09d}",
                    when.strftime("%Y-%m-%d %H:%M:%S"),
                    who,
                    f"6222{i % 9973:08d}",
                    amount if fen > 0 else "",
                    "" if fen > 0 else amount,
                    _money(balance),
                    "货款",
                    "转账",
                    "",
                ]
            )
        out.writerow(["合计"])
    return path


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="明细" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
        '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills>'
        '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/>'
        "</cellXfs></styleSheet>"
    ),
}


def _cell(ref: str, value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        serial = (value - dt.datetime(1899, 12, 30)) / dt.timedelta(days=1)
        return f'<c r="{ref}" s="1"><v>{serial:.8f}</v></c>'
    if isinstance(value, int):  # fen: written as a number of 元
        return f'<c r="{ref}"><v>{_money(value) if value >= 0 else "-" + _money(value)}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def write_xlsx(path: Path, rows: int, seed: int) -> Path:
    """Write the statement as XLSX: inline strings, date cells, numbers; streamed."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, text in _XLSX_PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as raw:
            raw.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
                b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            head: list[list[object]] = [
                ["[HISTORYDETAIL]"],
                ["账号：", NUMBER],
                ["户名：", "某某社区"],
                list(HEADER),
            ]
            number = 0
            buffer: list[str] = []

            def put(values: list[object]) -> None:
                nonlocal number
                number += 1
                cells = "".join(_cell(f"{chr(65 + c)}{number}", v) for c, v in enumerate(values))
                buffer.append(f'<row r="{number}">{cells}</row>')
                if len(buffer) >= 2000:
                    raw.write("".join(buffer).encode("utf-8"))
                    buffer.clear()

            for values in head:
                put(values)
            for i, when, fen, balance, who in movements(rows, seed):
                put(
                    [
                        f"V{i:09d}",
                        when,
                        who,
                        f"6222{i % 9973:08d}",
                        fen if fen > 0 else None,
                        -fen if fen < 0 else None,
                        balance,
                        "货款",
                        "转账",
                        None,
                    ]
                )
            put(["合计"])
            raw.write("".join(buffer).encode("utf-8"))
            raw.write(b"</sheetData></worksheet>")
    return path


# --------------------------------------------------------------------------- set-up


def prepare(url: str, rows: int, seed: int, entries: bool) -> dict[str, Any]:
    """Migrate, make the community, people, bank account and (optionally) the cashier's entries."""
    from juzhang import agency, books, custody
    from juzhang import statements as statement
    from juzhang.custody import CustodyInput
    from juzhang.money import from_fen
    from juzhang.storage.engine import make_engine, transaction, upgrade

    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as s:
        agency.add_entity(s, CODE, "基准社区", start_period=202609)
        for login, name, role in (("cash", "出纳", "cashier"), ("bk", "会计", "bookkeeper")):
            agency.add_user(s, login, name)
            agency.grant(s, login, role, CODE)
        books.add_account(s, CODE, BANK, "农商行")
        statement.set_bank_account(s, CODE, BANK, NUMBER)
    started = time.perf_counter()
    recorded = 0
    if entries:
        batch: list[CustodyInput] = []
        for _i, when, fen, _balance, who in movements(rows, seed):
            batch.append(CustodyInput(when.date(), BANK, from_fen(fen), "转账", who))
            if len(batch) == 50_000:
                with transaction(engine) as s:
                    recorded += len(custody.record_entries(s, CODE, "cash", batch))
                batch = []
        if batch:
            with transaction(engine) as s:
                recorded += len(custody.record_entries(s, CODE, "cash", batch))
    engine.dispose()
    return {"entries": recorded, "seconds": time.perf_counter() - started}


# --------------------------------------------------------------------------- timed phases


def read_phase(path: str) -> dict[str, Any]:
    """Time reading and normalising the file only."""
    from juzhang.importers.bank import open_statement

    started = time.perf_counter()
    count = 0
    with open_statement(path, account=NUMBER) as stream:
        for _row in stream:
            count += 1
        problems = len(stream.problems)
    return {"seconds": time.perf_counter() - started, "rows": count, "problems": problems}


def import_phase(url: str, path: str, profile: str | None) -> dict[str, Any]:
    """Time one import in one transaction; then count what it stored (not timed)."""
    from sqlalchemy import func, select

    from juzhang import statements as statement
    from juzhang.storage.engine import make_engine, transaction
    from juzhang.storage.schema import StatementLine, Voucher

    engine = make_engine(url)
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    with transaction(engine) as s:
        result = statement.import_statement(s, CODE, "bk", Path(path), account=BANK)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        lines = conn.execute(select(func.count()).select_from(StatementLine)).scalar_one()
        vouchers = conn.execute(select(func.count()).select_from(Voucher)).scalar_one()
    engine.dispose()
    if lines != result.rows_read or vouchers != result.vouchers_drafted:
        raise RuntimeError(f"stored {lines} lines and {vouchers} vouchers: {result}")
    return {
        "seconds": seconds,
        "rows": result.rows_read,
        "vouchers": result.vouchers_drafted,
        "awaiting": result.awaiting_cashier,
    }


def floor_phase(src: str, template: str, floor: str, triggers: bool) -> dict[str, Any]:
    """Time the cheapest write SQLite has for the rows an import stored: no Python.

    ``floor`` starts as a copy of ``template`` (the set-up the import started
    from), with every trigger dropped unless ``triggers``; the batch,
    vouchers, lines and statement lines the import stored in ``src`` are
    copied in with ``INSERT … SELECT`` in one transaction, keys, foreign keys,
    CHECKs and indexes on, as juzhang's connections set SQLite up.  No
    importer can write these rows faster with this schema (and, with
    ``triggers``, with its backstop); reading the file comes on top.
    """
    shutil.copy(template, floor)
    conn = sqlite3.connect(floor, isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    names = list(conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"))
    for (name,) in names if not triggers else []:
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute("ATTACH DATABASE ? AS src", (src,))
    tables = ("import_batch", "voucher", "voucher_line", "statement_line")
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for table in tables:
        conn.execute(f"INSERT INTO main.{table} SELECT * FROM src.{table}")
    conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    counts = {t: conn.execute(f"SELECT count(*) FROM main.{t}").fetchone()[0] for t in tables}
    stored = {t: conn.execute(f"SELECT count(*) FROM src.{t}").fetchone()[0] for t in tables}
    conn.close()
    if counts != stored:
        raise RuntimeError(f"the floor holds {counts}, the import stored {stored}")
    return {"seconds": seconds, "rows": counts["statement_line"], "counts": counts}


# --------------------------------------------------------------------------- the run


def _say(text: str) -> None:
    print(f"  {text}", flush=True)


def _rows(cfg: Config) -> int:
    return cfg.vouchers or (QUICK if cfg.quick else FULL)


def _sqlite_template(folder: Path, rows: int, seed: int, entries: bool) -> Path:
    path = folder / ("entries.db" if entries else "empty.db")
    done = in_child(f"{__name__}.prepare", url=f"sqlite:///{path}", rows=rows, seed=seed,
                    entries=entries)  # fmt: skip
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if entries:
        _say(f"sqlite set-up: {done['entries']:,} cashier entries in {done['seconds']:.0f} s")
    return path


def _result(
    db: str, fmt: str, method: str, out: dict[str, Any], base: float | None, rows: int
) -> Result:
    rate = out["rows"] / out["seconds"] if out["seconds"] else 0.0
    notes = [f"{rate:,.0f} rows/s"]
    if "vouchers" in out:
        notes.append(f"{out['vouchers']:,} vouchers drafted, {out['awaiting']:,} lines wait")
    if method.startswith("import + draft"):
        target = TARGETS[fmt]
        verdict = "met" if rate >= target and out["peak_rss_mb"] < 300 else "missed"
        notes.append(f"target ≥ {target:,} rows/s and < 300 MB: {verdict}")
    if rows != out["rows"]:
        raise RuntimeError(f"{fmt} {method}: read {out['rows']} of {rows} rows")
    return Result(
        bench=NAME,
        db=db,
        method=f"{fmt}: {method}",
        vouchers=out["rows"],
        lines=out["rows"] if method != "read" else 0,
        custody=out.get("vouchers", 0),
        seconds=out["seconds"],
        peak_rss_mb=out["peak_rss_mb"],
        ratio=None if base is None else out["seconds"] / base,
        notes=tuple(notes),
    )


def _sqlite_runs(cfg: Config, folder: Path, files: dict[str, Path], rows: int) -> list[Result]:
    empty = _sqlite_template(folder, rows, cfg.seed, entries=False)
    full = _sqlite_template(folder, rows, cfg.seed, entries=True)
    results = []
    for fmt, path in files.items():
        read = in_child(f"{__name__}.read_phase", path=str(path))
        _say(f"{fmt} read: {read['rows']:,} rows in {read['seconds']:.1f} s")
        results.append(_result("sqlite", fmt, "read", read, None, rows))
        methods = [("import, lines wait (no vouchers)", empty), ("import + draft vouchers", full)]
        for method, template in methods:
            db = folder / "run.db"
            shutil.copy(template, db)
            profile = None
            if cfg.profile:
                cfg.profile.mkdir(parents=True, exist_ok=True)
                label = method.split(" (")[0].replace(" ", "")
                profile = str(cfg.profile / f"import-{fmt}-{label}.prof")
            out = in_child(f"{__name__}.import_phase", url=f"sqlite:///{db}", path=str(path),
                           profile=profile)  # fmt: skip
            _say(f"{fmt} {method}: {out['rows']:,} rows in {out['seconds']:.1f} s")
            results.append(_result("sqlite", fmt, method, out, read["seconds"], rows))
            if template is full and fmt == "csv":  # the rows stored are the same for XLSX
                for triggers in (False, True):
                    results.append(_floor(folder, db, full, read["seconds"], rows, triggers))
            db.unlink()
    return results


def _floor(
    folder: Path, db: Path, template: Path, read_seconds: float, rows: int, triggers: bool
) -> Result:
    """The write floor of the drafted import, and what it leaves of the targets."""
    out = in_child(f"{__name__}.floor_phase", src=str(db), template=str(template),
                   floor=str(folder / "floor.db"), triggers=triggers)  # fmt: skip
    (folder / "floor.db").unlink()
    written = sum(out["counts"].values())
    kind = "with the triggers" if triggers else "triggers dropped"
    _say(f"write floor, {kind}: {written:,} rows in {out['seconds']:.1f} s")
    best = rows / (read_seconds + out["seconds"])
    return Result(
        bench=NAME,
        db="sqlite",
        method=f"write floor ({kind}): INSERT … SELECT of the drafted rows",
        vouchers=out["rows"],
        lines=out["counts"]["voucher_line"],
        custody=out["counts"]["voucher"],
        seconds=out["seconds"],
        peak_rss_mb=out["peak_rss_mb"],
        ratio=None,
        notes=(
            f"{written:,} rows (statement lines, vouchers, voucher lines, batch) copied inside"
            f" SQLite, {kind}, keys and indexes on, no Python",
            f"CSV read {read_seconds:.1f} s + this {out['seconds']:.1f} s ="
            f" {read_seconds + out['seconds']:.1f} s: at best {best:,.0f} rows/s for any"
            f" importer that reads the CSV and stores these rows (target {TARGETS['csv']:,})",
        ),
    )


def _pg_runs(cfg: Config, folder: Path, rows: int) -> list[Result]:
    from benchmarks.bench_posting import _pg_space

    assert cfg.pg_url is not None
    files = {"csv": write_csv(folder / "pg.csv", rows, cfg.seed)}
    results = []
    tag = f"jz_bench_import_{os.getpid()}_{secrets.token_hex(3)}"
    for fmt, path in files.items():
        for n, (method, entries) in enumerate(
            (("import, lines wait (no vouchers)", False), ("import + draft vouchers", True))
        ):
            with _pg_space(cfg.pg_url, f"{tag}_{n}", cfg.keep) as (url, _kind):
                in_child(f"{__name__}.prepare", url=url, rows=rows, seed=cfg.seed, entries=entries)
                out = in_child(f"{__name__}.import_phase", url=url, path=str(path), profile=None)
                _say(f"postgresql {fmt} {method}: {rows:,} rows in {out['seconds']:.1f} s")
                results.append(_result("postgresql", fmt, method, out, None, rows))
    return results


def run(cfg: Config) -> list[Result]:
    """Write the statements, then time reading and importing them; return the results."""
    rows = _rows(cfg)
    folder = Path(tempfile.mkdtemp(prefix="jz-bench-import-", dir=cfg.workdir))
    try:
        started = time.perf_counter()
        files = {
            "csv": write_csv(folder / "statement.csv", rows, cfg.seed),
            "xlsx": write_xlsx(folder / "statement.xlsx", rows, cfg.seed),
        }
        sizes = ", ".join(f"{k} {p.stat().st_size / 2**20:.0f} MiB" for k, p in files.items())
        _say(f"{rows:,} rows written ({sizes}) in {time.perf_counter() - started:.0f} s")
        results = _sqlite_runs(cfg, folder, files, rows) if cfg.sqlite else []
        if cfg.pg_url:
            results += _pg_runs(cfg, folder, rows)
        return results
    finally:
        if not cfg.keep:
            shutil.rmtree(folder, ignore_errors=True)


__all__ = ["DESCRIPTION", "NAME", "movements", "run", "write_csv", "write_xlsx"]


if __name__ == "__main__":  # python -m benchmarks.bench_import [--quick]: this benchmark alone
    import sys

    from benchmarks.__main__ import main

    sys.exit(main(["--only", NAME, *sys.argv[1:]]))
