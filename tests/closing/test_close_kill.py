"""A close killed mid-way is all or nothing; the re-run closes the month once.

* SIGKILL: a child process closes September of a community with a few
  hundred vouchers and is killed at random points of its run (seeded,
  printed).  After each kill the database must hold the month either
  **closed with its carry-forward** (exactly one closing voucher, income and
  expense at zero, ``verify`` clean) or **open and unchanged** (every row of
  every table as before).  Then a close runs to the end and closes it exactly
  once: a further close is refused.
* Ctrl-C: ``juzhang close --all --jobs 2`` over six communities gets SIGINT
  (the whole process group, as a terminal sends it) part-way.  Every
  community is closed in full or untouched, no temporary folder or partial
  file is left, and the re-run closes the rest and writes the missing files.

Both dialects.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from juzhang import books, custody, verify
from juzhang.closing import close_month
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import StateError
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.access import get_entity
from juzhang.storage.engine import transaction
from juzhang.storage.schema import Base
from tests.closing.test_closing import SEP, cash_moves, count, dump, setup_books
from tests.conftest import World, build_world

VOUCHERS = 360
ATTEMPTS = 6

CHILD = """
import sys, time
from juzhang.closing import close_month
from juzhang.storage.engine import make_engine, transaction

class Dry(Exception):
    pass

engine = make_engine(sys.argv[1])
with engine.connect():
    pass  # connect before timing
print("start", flush=True)
started = time.perf_counter()
try:
    with transaction(engine) as session:
        result = close_month(session, "C001", 202609, "rv")
        assert result.closed, result.problems
        if sys.argv[2] == "dry":
            raise Dry()
except Dry:
    pass
print("done", time.perf_counter() - started, flush=True)
"""


def busy_month(w: World) -> None:
    """September with VOUCHERS cash vouchers over income and expense, counted at the end."""
    setup_books(w)
    rng = random.Random(9)
    entries, drafts = [], []
    for i in range(VOUCHERS):
        date = dt.date(2026, 9, 1 + i % 30)
        fen = rng.randint(100, 20_000)
        amount = D(fen) / 100 if i % 3 else -D(fen) / 100
        entries.append(custody.CustodyInput(date, "101", amount, f"收支{i}"))
    ids = w.run(custody.record_entries, "C001", "cash", entries)
    for entry_id, item in zip(ids, entries, strict=True):
        other = "501" if item.amount > 0 else "514"
        side = "debit" if item.amount > 0 else "credit"
        cash = Line("101", item.summary, custody_entry=entry_id, **{side: abs(item.amount)})
        counter_side = "credit" if side == "debit" else "debit"
        counter = Line(other, item.summary, **{counter_side: abs(item.amount)})
        drafts.append(VoucherDraft(item.date, (cash, counter), 1))
    w.run(books.post_bulk, "C001", drafts, preparer="bk", reviewer="rv", poster="bk")
    count(w, SEP)


def _child(url: str, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_start(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "start":
        proc.kill()
        _out, err = proc.communicate()
        pytest.fail(f"the child did not start: {line!r} {err}")


def close_duration(url: str) -> float:
    """How long a close takes in a child process (run and rolled back)."""
    proc = _child(url, "dry")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return float(out.split()[-1])


def _closing_vouchers(w: World) -> int:
    return sum(1 for v in w.run(books.list_vouchers, "C001", period=SEP) if v.kind == "closing")


def assert_all_or_nothing(w: World, engine: Engine, before: dict[str, list[object]]) -> bool:
    """Return whether the month is closed, after checking it is closed in full or untouched."""
    if not w.run(books.is_closed, "C001", SEP):
        assert dump(engine) == before, "an interrupted close left something behind"
        return False
    assert _closing_vouchers(w) == 1
    with transaction(engine, write=False) as s:
        tb = trial_balance(s, "C001", SEP)
        assert verify.verify(s, "C001") == []
    assert tb.row("501").closing_balance == 0 and tb.row("514").closing_balance == 0
    assert tb.row("321").closing_balance != 0 and tb.balanced
    return True


def test_a_killed_close_is_all_or_nothing(world: World, db_url: str) -> None:
    busy_month(world)
    before = dump(world.engine)
    seconds = close_duration(db_url)
    assert dump(world.engine) == before  # the dry run rolled back
    seed = int(os.environ.get("JUZHANG_KILL_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    outcomes = []
    for attempt in range(ATTEMPTS):
        proc = _child(db_url, "real")
        _wait_start(proc)
        # spread the kills over the run: early, middle, late, and now and then after it
        delay = seconds * (attempt + rng.random()) / (ATTEMPTS - 1)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        closed = assert_all_or_nothing(world, world.engine, before)
        outcomes.append((round(delay, 3), "closed" if closed else "open"))
        if closed:
            break
    print(f"seed {seed}, close takes {seconds:.2f} s, kills: {outcomes}")
    if not world.run(books.is_closed, "C001", SEP):
        result = world.run(close_month, "C001", SEP, "rv")
        assert result.closed, (seed, result.problems)
    assert assert_all_or_nothing(world, world.engine, before)
    with pytest.raises(StateError, match="closed"):
        world.run(close_month, "C001", SEP, "rv")
    assert _closing_vouchers(world) == 1


# --------------------------------------------------------------------------- Ctrl-C


def entity_rows(engine: Engine, entity_id: int) -> dict[str, list[tuple[object, ...]]]:
    """Every row of one entity in every entity-scoped table, in primary-key order."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        for t in Base.metadata.sorted_tables:
            if "entity_id" in t.c:
                rows = conn.execute(
                    select(t).where(t.c.entity_id == entity_id).order_by(*t.primary_key.columns)
                )
                out[t.name] = [tuple(r) for r in rows]
    return out


def test_ctrl_c_during_a_batch_run_leaves_nothing_half_done(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    codes = [f"C{n:03d}" for n in range(1, 7)]
    worlds = {code: build_world(engine, code) for code in codes}
    for w in worlds.values():
        setup_books(w)
        cash_moves(w, SEP, [(1 + i % 28, "-3.00", "514", f"慰问{i}") for i in range(120)])
        count(w, SEP)
    ids = {code: w.run(lambda s, c=code: get_entity(s, c).id) for code, w in worlds.items()}
    before = {code: entity_rows(engine, ids[code]) for code in codes}
    out = tmp_path / "out"
    command = [
        *(sys.executable, "-c", "from juzhang.cli import main; main()"),
        *("--db", db_url, "--as", "rv", "close", "--period", "2026-09", "--all"),
        *("--out", str(out), "--jobs", "2"),
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:  # till the first is closed
        if out.exists() and any(out.iterdir()):
            break
        time.sleep(0.02)
    time.sleep(random.uniform(0.0, 0.6))
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    proc.communicate(timeout=120)
    closed = []
    for code in codes:
        if worlds[code].run(books.is_closed, code, SEP):
            closed.append(code)
            assert closing_vouchers_of(worlds[code], code) == 1
        else:
            assert entity_rows(engine, ids[code]) == before[code], code
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".tmp-")] if out.exists() else []
    assert leftovers == []
    for path in out.rglob("*.xlsx") if out.exists() else []:
        assert zipfile.is_zipfile(path), path  # every file there is complete
    print(f"closed before Ctrl-C took effect: {closed}")
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    for code in codes:
        assert worlds[code].run(books.is_closed, code, SEP)
        assert closing_vouchers_of(worlds[code], code) == 1
        assert len(list((out / code).glob("*.xlsx"))) == 4


def closing_vouchers_of(w: World, code: str) -> int:
    return sum(1 for v in w.run(books.list_vouchers, code, period=SEP) if v.kind == "closing")


def test_ctrl_c_while_writing_or_removing_leaves_no_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C inside a file's writer, then again inside the clean-up: nothing is left.

    The batch-run test above once left a ``.tmp-`` folder: the interruption
    came while the folder was being removed.
    """
    from juzhang import closing_run
    from juzhang.storage.engine import make_engine

    def interrupted(_session: object, _entity: str, _period: int, path: Path) -> None:
        path.write_bytes(b"half a workbook")
        raise KeyboardInterrupt

    monkeypatch.setattr(
        closing_run, "OUTPUTS", (closing_run.Output("a-{period}.xlsx", interrupted),)
    )
    real_rmtree = closing_run.shutil.rmtree
    removals: list[Path] = []

    def rmtree_interrupted_once(path: Path, ignore_errors: bool = False) -> None:
        removals.append(path)
        if len(removals) == 1:
            raise KeyboardInterrupt  # the second Ctrl-C, in the middle of the clean-up
        real_rmtree(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(closing_run.shutil, "rmtree", rmtree_interrupted_once)
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(KeyboardInterrupt):
            closing_run.write_outputs(engine, "C001", 202609, tmp_path / "out")
    finally:
        engine.dispose()
    assert len(removals) == 2
    assert list((tmp_path / "out").rglob("*")) == [tmp_path / "out" / "C001"]


# --------------------------------------------------------------------------- files before records

KILL_AFTER_FILES = """
import os, signal, sys
from juzhang import closing_run
from juzhang.cli import main

def die(name):
    if name == "files written":
        os.kill(os.getpid(), signal.SIGKILL)

closing_run._checkpoint = die
sys.argv = ["juzhang", *sys.argv[1:]]
main()
"""


def _disclosure_rows(engine: Engine, code: str) -> int:
    from juzhang.storage.schema import Disclosure, Entity

    with engine.connect() as conn:
        rows = conn.execute(
            select(Disclosure.id)
            .join(Entity, Entity.id == Disclosure.entity_id)
            .where(Entity.code == code)
        )
        return len(rows.all())


def test_a_kill_between_the_workbook_and_its_record_is_completed_by_a_rerun(
    world: World, db_url: str, tmp_path: Path
) -> None:
    """Killed after the files are in place, before the disclosure's draft row: the re-run
    removes the temporary folder, writes the workbook again and records its row."""
    setup_books(world)
    cash_moves(world, SEP, [(5, "-3.00", "514", "慰问")])
    count(world, SEP)
    out = tmp_path / "out"
    args = ["--db", db_url, "--as", "rv", "close", "--period", "2026-09", "--all"]
    args += ["--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FILES, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert world.run(books.is_closed, "C001", SEP)
    assert _disclosure_rows(world.engine, "C001") == 0  # the hole the attack run found
    assert [p.name for p in (out / "C001").iterdir() if p.name.startswith(".tmp-")]
    command = [sys.executable, "-c", "from juzhang.cli import main; main()", *args]
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _disclosure_rows(world.engine, "C001") == 1
    assert sorted(p.name for p in (out / "C001").iterdir()) == sorted(
        [
            "bank-reconciliation-2026-09.xlsx",
            "disclosure-2026-09.xlsx",
            "income-statement-2026-09.xlsx",
            "trial-balance-2026-09.xlsx",
        ]
    )
    from juzhang.exporters.board_verify import read_fingerprint

    assert read_fingerprint(out / "C001" / "disclosure-2026-09.xlsx") is not None
    third = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr[-2000:]
    assert "already complete" in third.stdout + third.stderr
    assert _disclosure_rows(world.engine, "C001") == 1


def test_leftovers_of_other_names_or_live_runs_are_kept(tmp_path: Path) -> None:
    from juzhang.closing_run import remove_leftovers

    dead = tmp_path / ".tmp-999999999-0123abcd"  # no such process
    live = tmp_path / f".tmp-{os.getpid()}-0123abcd"
    mine = tmp_path / ".tmp-notes"  # not our pattern: someone else's
    for folder in (dead, live, mine):
        folder.mkdir()
    assert remove_leftovers(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, mine.name])


# --------------------------------------------------------------------------- the parent dies


def _workers_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_stop_when_the_parent_is_killed(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    codes = [f"C{n:03d}" for n in range(1, 7)]
    worlds = {code: build_world(engine, code) for code in codes}
    for w in worlds.values():
        setup_books(w)
        cash_moves(w, SEP, [(1 + i % 28, "-3.00", "514", f"慰问{i}") for i in range(120)])
        count(w, SEP)
    ids = {code: w.run(lambda s, c=code: get_entity(s, c).id) for code, w in worlds.items()}
    before = {code: entity_rows(engine, ids[code]) for code in codes}
    out = tmp_path / "out"
    command = [
        *(sys.executable, "-c", "from juzhang.cli import main; main()"),
        *("--db", db_url, "--as", "rv", "close", "--period", "2026-09", "--all"),
        *("--out", str(out), "--jobs", "2"),
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    proc = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    workers: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _workers_of(proc.pid) or workers
        if workers and out.exists() and any(out.iterdir()):
            break
        time.sleep(0.02)
    assert workers, "no worker seen"
    proc.kill()  # the parent only, as a crash or an OOM kill would
    proc.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(p) for p in workers):
        time.sleep(0.1)
    assert not [p for p in workers if _running(p)], "workers outlived their parent"
    for code in codes:
        if worlds[code].run(books.is_closed, code, SEP):
            assert closing_vouchers_of(worlds[code], code) == 1
        else:
            assert entity_rows(engine, ids[code]) == before[code], code
