"""The benchmarks run (a smoke test, never a timing assertion).

``python -m benchmarks --quick`` must finish, post the synthetic books
through juzhang and insert the same rows raw (it refuses to report when the
two databases' hash chains differ or verify() finds a problem); the reports
benchmark's bulk loader must store the same rows as posting through the
service, and its quick run must build, verify and cache its books once and
reuse them on the next run; the command-line benchmark must take a small
statement and two communities' month through the real ``juzhang`` processes
and time the start-up; and the
synthetic books themselves must be sound: every voucher balances, every
cash or bank line names an entry of the same account and signed amount,
ids run 1, 2, … per community, and the same seed gives the same books.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from benchmarks import bench_posting, bench_publish, bench_reports
from benchmarks.bench_scale import per_doubling
from benchmarks.synthetic import CUSTODY_ACCOUNTS, OPENING_FEN, community_year
from sqlalchemy import text

from juzhang.storage.engine import make_engine
from tests.conftest import server_url

ROOT = Path(__file__).resolve().parent.parent


def test_synthetic_books_are_sound_and_deterministic() -> None:
    months = list(community_year(3, months=3, per_month=40, seed=7))
    assert months == list(community_year(3, months=3, per_month=40, seed=7))
    assert months != list(community_year(4, months=3, per_month=40, seed=7))
    assert sum(OPENING_FEN.values()) == 0
    entries = {c.id: c for m in months for c in m.custody}
    vouchers = [v for m in months for v in m.vouchers]
    assert sorted(entries) == list(range(1, len(entries) + 1))
    assert [v.id for v in vouchers] == list(range(1, len(vouchers) + 1))
    named = []
    for m in months:
        assert [v.date for v in m.vouchers] == sorted(v.date for v in m.vouchers)
        for v in m.vouchers:
            assert 2 <= len(v.lines) <= 4
            assert v.date.year * 100 + v.date.month == m.period
            assert sum(ln.fen if ln.side == "D" else -ln.fen for ln in v.lines) == 0
            for ln in v.lines:
                assert ln.fen > 0
                assert (ln.custody is not None) == (ln.account in CUSTODY_ACCOUNTS)
                if ln.custody is not None:
                    entry = entries[ln.custody]
                    assert entry.account == ln.account
                    assert entry.fen == (ln.fen if ln.side == "D" else -ln.fen)
                    assert entry.date == v.date
                    named.append(ln.custody)
    assert sorted(named) == sorted(entries)  # each entry backs exactly one line


def _quick(tmp_path: Path, bench: str, name: str, *extra: str) -> tuple[str, dict[str, Any]]:
    """Run ``python -m benchmarks --quick --only BENCH`` on SQLite; return (stdout, its JSON)."""
    env = {k: v for k, v in os.environ.items() if k != "JUZHANG_TEST_PG_URL"}
    out = tmp_path / f"{name}.json"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks", "--quick", "--only", bench, "--no-pg"),
            *("--json", str(out), "--workdir", str(tmp_path), *extra),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # the CLI smoke run starts ~40 processes: slow on a loaded machine
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert data["failed"] == []
    return proc.stdout, data


def test_quick_posting_benchmark_runs(tmp_path: Path) -> None:
    stdout, data = _quick(tmp_path, "posting", "bench")
    communities, months, per_month = bench_posting.QUICK
    rows = {r["method"]: r for r in data["results"]}
    assert set(rows) == {"juzhang post_bulk", "raw executemany", "backstop floor"}
    for r in rows.values():
        assert r["bench"] == "posting" and r["db"] == "sqlite"
        assert r["vouchers"] == communities * months * per_month
        assert r["seconds"] > 0 and r["peak_rss_mb"] > 0
    ours, raw = rows["juzhang post_bulk"], rows["raw executemany"]
    assert (ours["lines"], ours["custody"]) == (raw["lines"], raw["custody"])
    assert ours["lines"] >= 2 * ours["vouchers"]
    assert ours["ratio"] is not None and raw["ratio"] is None
    assert any(n.startswith("same books") for n in ours["notes"])
    floor = rows["backstop floor"]
    assert (floor["lines"], floor["custody"]) == (raw["lines"], raw["custody"])
    assert floor["ratio"] is not None and floor["seconds"] < ours["seconds"]
    assert "juzhang benchmarks" in stdout
    assert list(tmp_path.glob("jz-bench-*")) == []  # databases removed afterwards


def _rows(path: Path, table: str, skip: tuple[str, ...]) -> list[tuple[object, ...]]:
    """Every row of ``table`` without the columns ``skip`` (timestamps), in key order."""
    with closing(sqlite3.connect(path)) as conn:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in skip]
        return list(conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY 1, 2, 3"))


def test_reports_bulk_loader_writes_what_the_service_writes(tmp_path: Path) -> None:
    size = bench_posting.Size(2, 2, 12)
    service, loaded = tmp_path / "service.db", tmp_path / "loaded.db"
    bench_posting.juzhang_phase(
        f"sqlite:///{service}",
        size,
        seed=11,
        batch="month",
        verify=False,
        profile=None,
        track_functions=False,
    )
    built = bench_reports.build_sqlite(str(loaded), size, seed=11)
    assert built["vouchers"] == 2 * 2 * 12 and built["verified"] == ["B001", "B002"]
    assert not Path(str(loaded) + ".building").exists()
    # the audit hash covers the time of writing, so it differs as the stamps do
    stamps = ("recorded_at", "prepared_at", "reviewed_at", "posted_at", "at", "hash")
    for table in ("custody_entry", "voucher", "voucher_line", "account_balance", "audit_log"):
        ours = _rows(loaded, table, stamps)
        assert ours, table
        assert ours == _rows(service, table, stamps), table
    with closing(sqlite3.connect(service)) as a, closing(sqlite3.connect(loaded)) as b:
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        assert list(a.execute(sql)) == list(b.execute(sql))  # the triggers are back


def _quick_reports(tmp_path: Path, name: str, *extra: str) -> tuple[str, list[dict[str, Any]]]:
    stdout, data = _quick(tmp_path, "reports", name, *extra)
    results: list[dict[str, Any]] = data["results"]
    assert all(r["bench"] == "reports" and r["db"] == "sqlite" for r in results)
    assert all(r["seconds"] > 0 and r["peak_rss_mb"] > 0 for r in results)
    return stdout, results


def test_quick_reports_benchmark_runs_and_reuses_its_books(tmp_path: Path) -> None:
    communities, months, per_month = bench_reports.QUICK
    stdout, results = _quick_reports(tmp_path, "first")
    assert "building" in stdout and "verify() of" in stdout
    assert [r["method"].split(" ")[0] for r in results] == [
        "trial_balance",
        "disclosure",
        "beancount",
    ]
    tb, disclosure, bean = results
    assert tb["vouchers"] == communities * months * per_month
    assert any("every trial balance balanced" in n for n in tb["notes"])
    assert disclosure["vouchers"] == per_month
    assert (bean["vouchers"], bean["lines"]) == (tb["vouchers"], tb["lines"])
    assert bean["ratio"] == pytest.approx(bean["seconds"] / tb["seconds"], rel=0.1)
    assert any("the whole year" in n and "0 errors" in n for n in bean["notes"])

    stdout, results = _quick_reports(tmp_path, "second", "--beancount-communities", "1")
    assert "reusing the verified books" in stdout and "building" not in stdout
    methods = [r["method"] for r in results]
    assert methods[2:] == [
        "trial_balance ×1 (beancount's books)",
        "beancount load_file ×1 (bean-check)",
    ]
    part, bean = results[2:]
    assert bean["vouchers"] == part["vouchers"] == months * per_month
    assert 0 < part["seconds"] < results[0]["seconds"]
    assert any("a subset: the first 1 of" in n for n in bean["notes"])
    key = bench_reports.cache_key(bench_posting.Size(*bench_reports.QUICK), 2026)
    assert [p.name for p in tmp_path.glob("reports-*.db")] == [f"reports-{key}.db"]
    assert list(tmp_path.glob("jz-bench-reports-*")) == []  # work files removed


def test_quick_cli_benchmark_runs(tmp_path: Path) -> None:
    """The real juzhang processes: a small statement, two communities, start-up (SQLite)."""
    stdout, data = _quick(tmp_path, "cli", "cli", "--vouchers", "100", "--communities", "2")
    results = {r["method"]: r for r in data["results"]}
    assert all(r["bench"] == "cli" and r["db"] == "sqlite" for r in results.values())
    steps = [m for m in results if m.startswith("(a) ") and "raw" not in m and "hledger" not in m]
    assert steps[:5] == [
        "(a) import bank",
        "(a) custody accept-statement --all",
        "(a) statement draft",
        "(a) voucher review --all",
        "(a) voucher post --all",
    ]
    whole = results["(a) whole path (5 steps)"]
    assert whole["vouchers"] == 100 and whole["seconds"] > 0 and whole["peak_rss_mb"] > 0
    assert any("100 vouchers posted" in n for n in whole["notes"]), whole["notes"]
    assert not any(n.startswith("expected") for n in whole["notes"])
    raw = results["(a) raw sqlite3: csv + 4 plain tables"]
    assert raw["seconds"] > 0 and whole["ratio"] is not None
    agency = results["(b) agency steps (all but the acceptances)"]
    assert agency["vouchers"] == 2 * 50
    assert any("100 vouchers posted" in n for n in agency["notes"]), agency["notes"]
    for method in results:
        if method.startswith("(b) "):
            assert not any("exit " in n for n in results[method]["notes"]), results[method]
    warm = results["(b) custody accept-statement --all, juzhang daemon running"]
    assert "run in the daemon" in warm["notes"][0]  # one of the two communities, in the daemon
    assert any(n.startswith("each: median") for n in warm["notes"]), warm["notes"]
    assert "(c) juzhang --help" in results
    assert any(m.startswith("(c) python -X importtime") for m in results)
    assert "(a) sqlite, one community, 100 statement rows:" in stdout
    assert list(tmp_path.glob("jz-bench-*")) == []  # work files removed


def test_quick_cli_benchmark_measures_postgresql_floor(tmp_path: Path) -> None:
    """On PostgreSQL, (a) also times PostgreSQL's own COPY of the rows the path stored."""
    pg_url = server_url()
    out = tmp_path / "cli-pg.json"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks", "--quick", "--only", "cli", "--no-sqlite"),
            *("--pg", pg_url, "--cli-part", "a", "--vouchers", "100"),
            *("--json", str(out), "--workdir", str(tmp_path)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = {r["method"]: r for r in json.loads(out.read_text(encoding="utf-8"))["results"]}
    assert all(r["db"] == "postgresql" for r in results.values())
    whole = results["(a) whole path (5 steps)"]
    assert any("100 vouchers posted" in n for n in whole["notes"]), whole["notes"]
    assert any("PostgreSQL's own COPY of the rows it stored" in n for n in whole["notes"])
    # the server is local: each step's CPU is split into the client's and the server's
    assert any(n.startswith("client CPU") and "server CPU" in n for n in whole["notes"])
    for mode in ("keys", "no_fk", "plain"):
        floor = results[f"(a) PostgreSQL COPY of the stored rows: {mode}"]
        assert floor["seconds"] > 0
        by_table = next(n for n in floor["notes"] if n.startswith("by table"))
        for table in ("custody_entry", "voucher_line", "statement_line", "audit_log"):
            assert f"{table} " in by_table
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            left = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE 'jz_bench_cli_%'")
            ).all()
    finally:
        engine.dispose()
    assert left == []  # the path's database and the floor's copies are dropped


def test_run_proc_reports_the_commands_own_peak_and_kills_it_on_timeout(tmp_path: Path) -> None:
    """The peak RSS is the command's, not this process's; a timeout kills the command itself."""
    from benchmarks.bench_cli import GNU_TIME, run_proc

    if GNU_TIME is None:
        pytest.skip("GNU time (/usr/bin/time) is not installed: run_proc reports an upper bound")
    held = b"x" * (64 * 2**20)  # this process holds 64 MiB more than the command will
    small = run_proc([sys.executable, "-S", "-c", "pass"])
    assert small.ok and 0 < small.peak_rss_mb < 48, small
    marker = tmp_path / "still-running"
    script = f"import time, pathlib; time.sleep(1.5); pathlib.Path({str(marker)!r}).touch()"
    slow = run_proc([sys.executable, "-S", "-c", script], timeout=0.3)
    assert slow.timed_out and not slow.ok
    time.sleep(2.0)
    assert not marker.exists()  # the command under GNU time was killed, not only GNU time
    del held


def test_quick_publish_benchmark_runs(tmp_path: Path) -> None:
    """publish on a few communities: every published board gets its page, timed once."""
    _stdout, data = _quick(tmp_path, "publish", "publish")
    (row,) = data["results"]
    communities, months, items = bench_publish.QUICK
    assert row["bench"] == "publish" and row["db"] == "sqlite"
    assert row["lines"] == communities * months  # pages
    assert row["vouchers"] == communities * months * items
    assert row["seconds"] > 0 and row["peak_rss_mb"] > 0


def test_per_doubling_normalises_the_growth() -> None:
    """Linear work is 2.0 per doubling whatever the step between the sizes."""
    assert per_doubling(20_000, 10.0, 40_000, 20.0) == pytest.approx(2.0)
    assert per_doubling(40_000, 10.0, 100_000, 25.0) == pytest.approx(2.0)  # 2.5× rows, linear
    assert per_doubling(40_000, 10.0, 100_000, 62.5) == pytest.approx(4.0)  # quadratic
    assert per_doubling(1_000, 3.0, 2_000, 3.0) == pytest.approx(1.0)  # flat
    with pytest.raises(ValueError):
        per_doubling(2_000, 1.0, 1_000, 1.0)


def test_quick_scale_benchmark_runs(tmp_path: Path) -> None:
    """Doubling and history on SQLite: every step at both sizes, the month after 1 and 2."""
    stdout, data = _quick(tmp_path, "scale", "scale", "--sizes", "200,400", "--history", "1,2")
    results = {(r["method"], r["vouchers"]): r for r in data["results"]}
    assert all(r["bench"] == "scale" and r["db"] == "sqlite" for r in data["results"])
    for rows in (200, 400):
        whole = results[("(a) whole path", rows)]
        assert whole["seconds"] > 0 and whole["peak_rss_mb"] > 0
    assert any("× per doubling" in n for n in results[("(a) whole path", 400)]["notes"])
    assert "×/doubling 200→400" in stdout
    methods = {m for m, _n in results}
    for what in ("post the month", "close the month", "bank reconciliations alone"):
        for h in (1, 2):
            assert any(m.startswith(f"(b) {what}") and m.endswith(f"history {h}") for m in methods)
    assert "history 2 s" in stdout


def test_every_agency_file_layout_reads_without_problems(tmp_path: Path) -> None:
    """(b) writes one file per community in turn through the layouts: each must read cleanly.

    The quick run's four communities never reach the sixth layout; the full
    run's 200 did, and a sample change had made every rcb file unreadable.
    """
    from benchmarks.bench_cli import LAYOUTS, agency_number, write_agency_file

    from juzhang.importers.bank import read_statement

    for n in range(len(LAYOUTS)):
        path = write_agency_file(tmp_path, n, 20, 1)
        statement, problems = read_statement(path)
        assert problems == [] and len(statement.rows) == 20, (path.name, problems[:3])
        assert statement.own_account == agency_number(n)
