"""Killing an import at any moment leaves the books as before (中断导入不留痕迹).

A worker process (``python -m tests.import_worker``) imports a generated
statement of 20,000 rows — one in ten recorded by the cashier beforehand,
so vouchers are drafted for those and the rest wait for the cashier — in one
transaction.  Once it says its transaction is open, it is killed with
SIGKILL at a random moment between 0.05 s and 60 % of the time a whole
(dry) import takes, five times, earliest first; after each kill every table
must be exactly as before the import (at least four of the five runs must
really be killed part way).  Then the import runs to completion: every line once, a
voucher for every matched line, ``verify()`` clean; and running it again
changes nothing.  On SQLite (a file database) and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from juzhang import verify
from juzhang.storage.engine import make_engine, transaction
from juzhang.storage.schema import ImportBatch, StatementLine, Voucher
from tests.conftest import dump as _dump
from tests.import_worker import csv_rows, record_entries, setup_books, transactions, write_csv

ROOT = Path(__file__).resolve().parents[2]
ROWS = 20_000
KILLS = 5



def _worker(url: str, path: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.import_worker", url, str(path), *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _complete(url: str, path: Path, *extra: str) -> float:
    """Run the worker to the end; return how long the import itself took."""
    proc = _worker(url, path, *extra)
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err
    lines = out.split()
    assert lines[:2] == ["begin", "done"], out
    return float(lines[-1])


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_killed_import_leaves_nothing_and_a_rerun_completes_it_once(
    db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    try:
        setup_books(engine, "C001")
        txns = transactions(ROWS, step=dt.timedelta(minutes=2))  # 2026-09-01 … 2026-09-28
        record_entries(engine, "C001", txns[::10])  # vouchers for these, the rest wait
        path = write_csv(tmp_path / "statement.csv", csv_rows(txns))
        before = _dump(engine)
        # Each dry run does everything, then rolls back; the faster of two, as
        # the first one in a process can be slowed by a cold start.
        typical = min(_complete(db_url, path, "--dry-run") for _ in range(2))
        assert _dump(engine) == before
        rng = random.Random(int.from_bytes(os.urandom(4), "big"))
        # Kill between 0.05 s and half the dry run's time, earliest first: a
        # loaded machine can make the dry run slower than the real runs.
        moments = sorted(rng.uniform(0.05, max(0.5 * typical, 0.1)) for _ in range(KILLS))
        killed = 0
        for moment in moments:
            proc = _worker(db_url, path)
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "begin"  # the transaction is open
            try:
                proc.wait(timeout=moment)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            if proc.returncode == 0 or _count(engine, StatementLine) == ROWS:
                break  # it finished (or committed) before the kill: later runs add nothing
            assert proc.returncode == -signal.SIGKILL
            killed += 1
            assert _dump(engine) == before, f"killed at {moment:.2f}s left traces"
        assert killed >= KILLS - 1, f"only {killed} of {KILLS} runs were killed part way"
        _complete(db_url, path)
        assert _count(engine, StatementLine) == ROWS
        assert _count(engine, Voucher) == ROWS // 10
        assert _count(engine, ImportBatch) == 1
        with transaction(engine, write=False) as s:
            assert verify.verify(s, "C001") == []
        done = _dump(engine)
        _complete(db_url, path)  # exactly once: a second run adds nothing
        assert _dump(engine) == done
    finally:
        engine.dispose()
