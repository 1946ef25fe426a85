"""The benchmarks run (a smoke test, never a timing assertion).

``python -m benchmarks --quick`` must finish, post the synthetic books
through juzhang and insert the same rows raw (it refuses to report when the
two databases' hash chains differ or verify() finds a problem); and the
synthetic books themselves must be sound: every voucher balances, every
cash or bank line names an entry of the same account and signed amount,
ids run 1, 2, … per community, and the same seed gives the same books.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks import bench_posting
from benchmarks.synthetic import CUSTODY_ACCOUNTS, OPENING_FEN, community_year

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


def test_quick_posting_benchmark_runs(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "JUZHANG_TEST_PG_URL"}
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks", "--quick", "--only", "posting", "--no-pg"),
            *("--json", str(out), "--workdir", str(tmp_path)),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["failed"] == []
    communities, months, per_month = bench_posting.QUICK
    rows = {r["method"]: r for r in data["results"]}
    assert set(rows) == {"juzhang post_bulk", "raw executemany"}
    for r in rows.values():
        assert r["bench"] == "posting" and r["db"] == "sqlite"
        assert r["vouchers"] == communities * months * per_month
        assert r["seconds"] > 0 and r["peak_rss_mb"] > 0
    ours, raw = rows["juzhang post_bulk"], rows["raw executemany"]
    assert (ours["lines"], ours["custody"]) == (raw["lines"], raw["custody"])
    assert ours["lines"] >= 2 * ours["vouchers"]
    assert ours["ratio"] is not None and raw["ratio"] is None
    assert any(n.startswith("same books") for n in ours["notes"])
    assert "juzhang benchmarks" in proc.stdout
    assert list(tmp_path.glob("jz-bench-*")) == []  # databases removed afterwards
