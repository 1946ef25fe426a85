"""The closing run over several communities, from the command line and the library.

Four communities book the same September (see :mod:`tests.closing.test_closing`);
C003's cashier has not counted the cash.  ``juzhang close`` closes the other
three, writes their files, lists C003's problem and exits 1; once C003 is
counted, a re-run (in two worker processes) closes C003 only, exits 0 and
leaves the others as they were.  Both dialects.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from juzhang import books
from juzhang.cli import app
from juzhang.closing_run import EntityOutcome, close_all, output_names
from juzhang.exporters.board_verify import read_fingerprint
from juzhang.storage.schema import Disclosure, Entity, Voucher
from tests.closing.test_closing import SEP, SEPTEMBER, cash_moves, count, setup_books
from tests.conftest import World, build_world

runner = CliRunner()
CODES = ("C001", "C002", "C003", "C004")


def jz(db_url: str, cmd: str, *, actor: str | None = "rv") -> Any:
    """Run ``juzhang --db URL --as ACTOR CMD`` in-process."""
    head = ["--db", db_url, *(["--as", actor] if actor else [])]
    return runner.invoke(app, [*head, *shlex.split(cmd)], env={"JUZHANG_DB": None})


def four(engine: Engine) -> dict[str, World]:
    """C001…C004 with September booked; C003's cash is not counted."""
    worlds = {code: build_world(engine, code) for code in CODES}
    for code, w in worlds.items():
        setup_books(w)
        cash_moves(w, SEP, SEPTEMBER)
        if code != "C003":
            count(w, SEP)
    return worlds


def closing_count(engine: Engine) -> dict[str, int]:
    """Posted closing vouchers of September per entity id."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Voucher.entity_id, func.count())
            .where(Voucher.kind == "closing", Voucher.period == SEP)
            .group_by(Voucher.entity_id)
        ).all()
    return {str(e): int(n) for e, n in rows}


def test_batch_run_with_one_failing_entity_then_a_rerun(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    worlds = four(engine)
    out = tmp_path / "out"
    result = jz(db_url, f"close --period 2026-09 --all --out {out}")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for code in CODES:
        assert code in result.stdout
    problem_lines = [ln for ln in result.stderr.splitlines() if ln.startswith("  - ")]
    assert len(problem_lines) == 1
    assert problem_lines[0].startswith("  - C003 2026-09 101 库存现金")
    assert "no cash count for the month end" in problem_lines[0]
    assert "closed 3" in result.stderr
    names = output_names(SEP)
    assert len(names) == 4 and any(n.startswith("disclosure") for n in names)
    for code in ("C001", "C002", "C004"):
        assert worlds[code].run(books.is_closed, code, SEP)
        files = sorted(p.name for p in (out / code).iterdir())
        assert files == sorted(names), code
        assert all((out / code / n).stat().st_size > 0 for n in names)
    # the disclosure's draft row carries the fingerprint its workbook prints
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(Entity.code, Disclosure.fingerprint).join(
                    Entity, Entity.id == Disclosure.entity_id
                )
            ).all()
        )
    assert sorted(rows) == ["C001", "C002", "C004"]
    for code, fingerprint in rows.items():
        printed = read_fingerprint(out / code / "disclosure-2026-09.xlsx")["fingerprint"]
        assert printed == fingerprint
    assert not worlds["C003"].run(books.is_closed, "C003", SEP)
    assert not (out / "C003").exists() or not any((out / "C003").iterdir())
    assert sorted(closing_count(engine).values()) == [1, 1, 1]

    # C003 counts its cash; the re-run closes it alone, in two processes
    count(worlds["C003"], SEP)
    (out / "C001" / names[1]).unlink()  # a lost file is written again
    again = jz(
        db_url, f"close --period 2026-09 --entities C001,C002,C003,C004 --out {out} --jobs 2"
    )
    assert again.exit_code == 0, again.output
    assert again.stderr.count("  - ") == 0
    assert "closed 1" in again.stderr
    for code in CODES:
        assert worlds[code].run(books.is_closed, code, SEP)
        assert sorted(p.name for p in (out / code).iterdir()) == sorted(names)
    assert sorted(closing_count(engine).values()) == [1, 1, 1, 1]  # each exactly once

    # and once more: nothing left to do
    third = jz(db_url, f"close --period 2026-09 --all --out {out}")
    assert third.exit_code == 0 and "closed 0" in third.stderr
    assert sorted(closing_count(engine).values()) == [1, 1, 1, 1]


def test_close_all_reports_each_failure_and_goes_on(engine: Engine, tmp_path: Path) -> None:
    worlds = four(engine)
    count(worlds["C003"], SEP)
    seen: list[EntityOutcome] = []
    summary = close_all(
        engine, SEP, ["C002", "C999", "C001"], tmp_path, actor="rv", on_done=seen.append
    )
    assert [o.entity for o in summary.outcomes] == ["C001", "C002", "C999"]
    assert sorted(o.entity for o in seen) == ["C001", "C002", "C999"]
    status = {o.entity: o.status for o in summary.outcomes}
    assert status == {"C001": "closed", "C002": "closed", "C999": "error"}
    (missing,) = summary.failed
    assert "C999" in str(missing.problems[0]) and not summary.ok
    assert summary.outcomes[0].vouchers == ("记-0004",) and len(summary.outcomes[0].files) == 4
    # an actor who may not close one entity: that one fails, the others close
    summary = close_all(engine, SEP, None, tmp_path, actor="bk")
    assert {o.entity: o.status for o in summary.outcomes} == {
        "C001": "already closed",
        "C002": "already closed",
        "C003": "error",
        "C004": "error",
    }
    assert "reviewer" in str(summary.failed[0].problems[0])


def test_usage_errors_exit_2(world: World, db_url: str, tmp_path: Path) -> None:
    for cmd in (
        "close --period 2026-09",
        "close --period 2026-09 --all --entities C001",
        "close --period 2026-09 --all --jobs 0",
        "close --period 2026-13 --all",
    ):
        result = jz(db_url, cmd)
        assert result.exit_code == 2, (cmd, result.output)
    assert jz(db_url, "close --period 2026-09 --all", actor=None).exit_code == 2


def test_cash_count_and_sign_off_from_the_command_line(
    world: World, db_url: str, tmp_path: Path
) -> None:
    setup_books(world)
    cash_moves(world, SEP, SEPTEMBER)
    assert jz(db_url, "cash count C001 2026-09-30 880", actor="rv").exit_code == 1
    result = jz(db_url, "cash count C001 2026-09-30 880.00", actor="cash")
    assert result.exit_code == 0 and result.stdout.strip().isdigit()
    assert jz(db_url, "cash count C001 2026-09-30 abc", actor="cash").exit_code == 2
    out = tmp_path / "out"
    assert jz(db_url, f"close --period 2026-09 --entities C001 --out {out}").exit_code == 0
    refused = jz(db_url, "disclosure sign C001 --period 2026-09 --opinion 同意", actor="rv")
    assert refused.exit_code == 1 and "supervisor" in refused.stderr
    signed = jz(
        db_url,
        "disclosure sign C001 --period 2026-09 --opinion 账目清楚 --date 2026-10-05",
        actor="sup",
    )
    assert signed.exit_code == 0, signed.output
    assert signed.stdout.startswith("C001:2026-09:")
    reopen = jz(db_url, "reopen C001 --period 2026-09 --reason 错账 --reviewer rv", actor="adm")
    assert reopen.exit_code == 1 and "published" in reopen.stderr


def test_reopen_from_the_command_line_reverses_the_carry_forward(
    world: World, db_url: str, tmp_path: Path
) -> None:
    setup_books(world)
    cash_moves(world, SEP, SEPTEMBER)
    count(world, SEP)
    assert jz(db_url, f"close --period 2026-09 --all --out {tmp_path}").exit_code == 0
    no_reviewer = jz(db_url, "reopen C001 --period 2026-09 --reason 补记", actor="adm")
    assert no_reviewer.exit_code == 1 and "reviewer" in no_reviewer.stderr
    done = jz(db_url, "reopen C001 --period 2026-09 --reason 补记 --reviewer rv", actor="adm")
    assert done.exit_code == 0, done.output
    assert "记-0005" in done.stderr
    assert not world.run(books.is_closed, "C001", SEP)


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_in_memory_database_runs_in_one_process(jobs: int, tmp_path: Path) -> None:
    from sqlalchemy.pool import StaticPool

    from juzhang.storage.engine import make_engine, upgrade

    engine = make_engine("sqlite://", poolclass=StaticPool)
    upgrade(engine)
    worlds = {"C001": build_world(engine, "C001")}
    setup_books(worlds["C001"])
    cash_moves(worlds["C001"], SEP, SEPTEMBER)
    count(worlds["C001"], SEP)
    summary = close_all(engine, SEP, None, tmp_path, jobs, actor="rv")
    assert summary.ok and [o.status for o in summary.outcomes] == ["closed"]
    assert bool(summary.notes) == (jobs > 1)


def test_the_close_benchmark_runs(tmp_path: Path) -> None:
    """``python -m benchmarks --only close`` at a tiny size: every community closes."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "JUZHANG_TEST_PG_URL"}
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks", "--only", "close", "--no-pg"),
            *("--communities", "2", "--vouchers", "20", "--json", str(out)),
            *("--workdir", str(tmp_path)),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert [r["method"] for r in results] == ["close_all --jobs 1", "close_all --jobs 2"]
    assert all(r["vouchers"] == 40 and r["seconds"] > 0 for r in results)
    assert any("2 communities closed, 8 files" in n for n in results[0]["notes"])
