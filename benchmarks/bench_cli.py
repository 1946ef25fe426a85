"""Command-line benchmark (命令行性能): the real ``juzhang`` processes, as scripts run them.

The issue-15 benchmark.  The other benchmarks time the library's bulk API;
users run the command line, one process per step.  This one runs the
installed console script (``juzhang`` next to this Python) with
:mod:`subprocess` and measures each process from the outside: wall time
from start to exit, and its peak memory, the ``ru_maxrss`` that
:func:`os.wait4` returns for that one child (with the largest of the
processes it waited for itself, such as the workers of ``close --jobs 2``).

**(a) One community, one statement** of 100,000 rows (``--vouchers N`` sets
it, ``--quick`` uses 2,000) in the ICBC layout
(:func:`benchmarks.bench_import.write_csv`).  Set-up with the commands of
the user guide (``db upgrade``, ``entity add``, ``user add``, ``grant``,
``account add``, ``statement bank-account``, ``opening set``; timed apart),
then the five steps, each the acting person the guide names: the
bookkeeper's ``import bank`` (no cashier entries yet: every line waits for
the cashier), the cashier's ``custody accept-statement --all``, the
bookkeeper's ``statement draft`` (no rules: every line against the chart's
suspense account), the reviewer's ``voucher review --all`` and the
bookkeeper's ``voucher post --all``.  On SQLite and, with ``--pg``, on
PostgreSQL (a database or schema of its own, dropped afterwards).  In the
same run, on the same file:

* **raw sqlite3**: the file parsed with :mod:`csv` and the same rows (the
  statement lines, one custody entry, one voucher and two voucher lines per
  row) inserted with ``executemany`` into four plain tables without keys or
  constraints, one transaction, WAL, ``synchronous=FULL``: the floor of
  "read this file and store these rows" on this machine;
* **hledger** (``apt-get install hledger``; skipped with the reason when it
  is missing): ``hledger -f FILE --rules-file benchmarks/hledger_statement.rules
  print > journal`` then ``hledger -f journal bal``, run before and after
  each database's path and compared as the mean of the two (this machine's
  speed drifts by 10-20 % within minutes);
* **PostgreSQL's own floor** (PostgreSQL only, when the run has a database
  of its own): the rows the five steps stored, copied once with ``COPY`` into
  copies of the path's database emptied of them, three ways: juzhang's
  tables with their keys and foreign keys (triggers off), the same without
  foreign keys, and plain tables (:func:`benchmarks.pg_copy.path_floor`).
  What PostgreSQL needs to hold the path's rows, without juzhang's Python or
  its second writes; the whole path's note says how many times that it took.

Targets (issue 15): the whole path faster than hledger (ratio < 1.0) and
peak RSS < 150 MB.

**(b) An agency's month**: 200 communities × 300 rows (``--communities``,
``--quick`` 4 × 50), one statement file per community in the shipped
layouts in turn (ICBC, ICBC 借/贷, CCB, ABC, BOC, rural commercial bank;
:mod:`tests.statement_samples`), each community's own account number in its
file.  Set-up through the library (not timed).  The steps: import every
file, one ``accept-statement`` per community by its own cashier, statement
draft, voucher review and post, then ``close --all --jobs 2`` writing every
output.  Where the command line has the batch form (``import bank --dir``,
``--entities all``: found in the commands' ``--help``) one process runs
the step for every community; otherwise one process per community per step,
and the notes say so.  Targets: the agency's steps (all but the
acceptances) < 60 s on SQLite, < 90 s on PostgreSQL; each acceptance
< 0.5 s; peak RSS < 150 MB.  The acceptances are reported as median, 90th
percentile and max, beside their floor measured in the same run: the first
community's acceptance again once nothing waits (start-up, imports,
connection and role checks, no line), median of five.  When the command line
has ``juzhang daemon`` (the warm process, :mod:`juzhang.cli._warm`), it runs
during the acceptances and every other community's cashier uses it
(``JUZHANG_DAEMON``): the two halves, plain processes and processes that run
in the daemon, are reported side by side, each with its floor.

**(c) Start-up**: ``juzhang --help``, ``juzhang --version`` ("n/a" when it
exits non-zero) and a JSON trial balance of a small book, best of 5 each;
and the ten imports of ``import juzhang.cli`` with the largest cumulative
time (``python -X importtime``).  Targets: ``--help`` and ``--version``
< 0.25 s, a small report < 0.5 s.

**(d) PostgreSQL raw baseline** (with ``--pg``): see :mod:`benchmarks.pg_copy`; it
takes the posting benchmark's own size (``--quick`` or not), whatever the size
options say for (a) and (b).

Each section also prints a table of its own: step, seconds, rows/s, peak
RSS and the ratios against its baselines.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import math
import os
import random
import re
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks import Config, Result, in_child

NAME = "cli"
DESCRIPTION = "the juzhang command line: a 100,000-row statement, an agency's month, start-up"

FULL_ROWS = 100_000
QUICK_ROWS = 2_000
AGENCY_FULL = (200, 300)
AGENCY_QUICK = (4, 50)
STEP_TIMEOUT = 3 * 3600.0
"""A step still running after this many seconds is killed and reported as such."""

CODE = "B001"
BANK = "10201"
NUMBER = "6222000011112222"
PERIOD = "2026-09"
OPENING_YUAN = "100000000.00"
"""The ICBC statement's balance before its first row (``bench_import.movements``)."""

RULES = Path(__file__).with_name("hledger_statement.rules")
RSS_TARGET_MB = 150.0

PEOPLE = (
    ("cash", "张出纳", "cashier"),
    ("bk", "李会计", "bookkeeper"),
    ("rv", "王审核", "reviewer"),
)


def juzhang_script() -> Path:
    """Return the ``juzhang`` console script installed next to this Python."""
    return Path(sys.executable).parent / "juzhang"


def compile_juzhang() -> str:
    """Compile juzhang's modules to bytecode, as ``pip install`` does; say where.

    An installed juzhang has its ``.pyc`` files; an editable one gets them the
    first time each module is imported, unless ``PYTHONDONTWRITEBYTECODE`` is
    set (as on the machine these figures are recorded on).  Then every
    ``juzhang`` process would compile the modules it imports from source
    (0.1–0.4 s a process): a cost no installed juzhang pays, so it is paid once
    here, before any process is timed.
    """
    import compileall

    import juzhang

    package = Path(juzhang.__file__).parent
    ok = compileall.compile_dir(str(package), quiet=1)
    state = "compiled" if ok else "compiled with errors"
    return f"juzhang's bytecode {state} in {package} (as an installed juzhang has it)"


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True, slots=True)
class Proc:
    """One finished child process: how long it ran, its peak memory, how it ended."""

    argv: tuple[str, ...]
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: Path
    stderr: str
    timed_out: bool = False
    cpu_seconds: float = 0.0
    """The child's own user + system CPU time (``wait4``)."""

    @property
    def ok(self) -> bool:
        """Whether it exited 0."""
        return self.returncode == 0 and not self.timed_out

    def why(self) -> str:
        """Return a one-line reason for a failure: the exit code and the last stderr line."""
        if self.timed_out:
            return f"killed after {self.seconds:.0f} s (timeout)"
        last = [ln for ln in self.stderr.splitlines() if ln.strip()][-1:] or ["(no stderr)"]
        return f"exit {self.returncode}: {last[0][:300]}"


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
"""GNU time, for each command's own peak RSS (see :func:`run_proc`)."""


def run_proc(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdout: Path | None = None,
    timeout: float | None = STEP_TIMEOUT,
) -> Proc:
    """Run ``argv`` to its end; return its wall time, CPU time and its own peak RSS.

    stdout goes to the file ``stdout`` (or nowhere), so a process that prints
    a line per voucher never blocks on a pipe; stderr is kept.  The child is
    reaped with :func:`os.wait4` (its CPU time, with its own children's).

    The peak RSS comes from GNU time (``/usr/bin/time``, Debian's ``time``)
    where it is installed, which starts the command as its own child: the
    ``ru_maxrss`` of a process this one starts directly is at least this
    process's own RSS at that moment, because Linux keeps the high-water
    mark of the memory a process had before ``exec``, and for ``vfork`` that
    is the parent's (a ``juzhang --help`` of 21 MiB read 48 MiB started from
    the benchmark, 214 MiB from a parent holding 200 MiB).  Without GNU
    time, the figure is that upper bound.
    """
    sink = stdout.open("wb") if stdout is not None else open(os.devnull, "wb")  # noqa: SIM115
    with sink, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as peak:
        command = [*((GNU_TIME, "-q", "-f", "%M", "-o", peak.name) if GNU_TIME else ()), *argv]
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=err, env=env)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
            for pid in children.read_text().split() if children.exists() else ():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)  # the command under GNU time
            proc.kill()

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer is not None:
            timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer is not None:
                timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", errors="replace")
        kib = usage.ru_maxrss
        if GNU_TIME:
            lines = peak.read().split()
            kib = int(lines[-1]) if lines and lines[-1].isdigit() else kib
    return Proc(
        tuple(argv),
        seconds,
        kib / 1024,
        proc.returncode,
        stdout or Path(os.devnull),
        text[-4000:],
        killed.is_set(),
        usage.ru_utime + usage.ru_stime,
    )


class Cli:
    """Runs ``juzhang`` commands against one database, keeping every output."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.count = 0
        env = {k: v for k, v in os.environ.items() if k not in ("JUZHANG_USER", "JUZHANG_DB")}
        self.env = env | {"JUZHANG_DB": url, "COLUMNS": "160"}

    def __call__(
        self,
        *args: str,
        user: str | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
    ) -> Proc:
        """Run ``juzhang [--as USER] ARGS`` (``env`` added to the environment).

        Raises:
            RuntimeError: ``check`` and the command failed.
        """
        self.count += 1
        argv = [str(juzhang_script()), *(("--as", user) if user else ()), *args]
        out = self.folder / f"out-{self.count:05d}.txt"
        proc = run_proc(argv, env=self.env | (env or {}), stdout=out)
        if check and not proc.ok:
            raise RuntimeError(f"juzhang {' '.join(args)}: {proc.why()}")
        return proc

    def help_text(self, *command: str) -> str:
        """Return the ``--help`` text of a command ("" when it fails)."""
        proc = self(*command, "--help", check=False)
        return proc.stdout.read_text(encoding="utf-8", errors="replace") if proc.ok else ""


# --------------------------------------------------------------------------- tables


def _say(text: str) -> None:
    print(f"  {text}", flush=True)


def _table(title: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print a plain-text table (first column left, the others right)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    _say(title)
    for row in [head, ["-" * w for w in widths], *rows]:
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        _say("  " + "  ".join(cells))


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _verdict(ok: bool) -> str:
    return "met" if ok else "missed"


# --------------------------------------------------------------------------- (a) baselines


def _fen(text: str) -> int:
    """Parse ``"1234.56"`` into fen, exactly."""
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def raw_phase(path: str, db: str) -> dict[str, Any]:
    """Time parsing the statement and inserting its rows into four plain SQLite tables."""
    started = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(
        "CREATE TABLE statement_line (id, txn_date, txn_time, amount_fen, balance_fen,"
        " counterparty, counterparty_account, serial, purpose, summary);"
        "CREATE TABLE custody_entry (id, entry_date, period, account_code, amount_fen, summary,"
        " counterparty, reference);"
        "CREATE TABLE voucher (id, voucher_date, period, number, status);"
        "CREATE TABLE voucher_line (voucher_id, line_no, account_code, summary, side,"
        " amount_fen, custody_entry_id);"
    )
    lines: list[tuple[object, ...]] = []
    entries: list[tuple[object, ...]] = []
    vouchers: list[tuple[object, ...]] = []
    vlines: list[tuple[object, ...]] = []
    with open(path, encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        for _ in range(4):
            next(rows)
        for row in rows:
            if row[0] == "合计":
                continue
            n = len(lines) + 1
            day, _, clock = row[1].partition(" ")
            fen = _fen(row[4]) if row[4] else -_fen(row[5])
            period = int(day[:4] + day[5:7])
            lines.append((n, day, clock, fen, _fen(row[6]), row[2], row[3], row[0], row[7], row[8]))
            entries.append((n, day, period, BANK, fen, row[8], row[2], row[0]))
            vouchers.append((n, day, period, n, "posted"))
            side = ("D", "C") if fen > 0 else ("C", "D")
            vlines.append((n, 1, BANK, row[8], side[0], abs(fen), n))
            vlines.append((n, 2, "21199", row[8], side[1], abs(fen), None))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO statement_line VALUES (?,?,?,?,?,?,?,?,?,?)", lines)
    conn.executemany("INSERT INTO custody_entry VALUES (?,?,?,?,?,?,?,?)", entries)
    conn.executemany("INSERT INTO voucher VALUES (?,?,?,?,?)", vouchers)
    conn.executemany("INSERT INTO voucher_line VALUES (?,?,?,?,?,?,?)", vlines)
    conn.execute("COMMIT")
    conn.close()
    return {
        "seconds": time.perf_counter() - started,
        "rows": len(lines),
        "stored": len(lines) + len(entries) + len(vouchers) + len(vlines),
    }


def hledger_run(statement: Path, folder: Path) -> tuple[Proc, Proc] | str:
    """Run hledger's CSV rules → ``print`` → ``bal``; return both runs, or why not."""
    exe = shutil.which("hledger")
    if exe is None:
        return "hledger is not installed (apt-get install hledger)"
    journal = folder / "statement.journal"
    printed = run_proc(
        [exe, "-f", str(statement), "--rules-file", str(RULES), "print"], stdout=journal
    )
    if not printed.ok:
        return f"hledger print failed: {printed.why()}"
    balance = run_proc([exe, "-f", str(journal), "bal"], stdout=folder / "hledger-bal.txt")
    if not balance.ok:
        return f"hledger bal failed: {balance.why()}"
    return printed, balance


def _hledger_version() -> str:
    exe = shutil.which("hledger")
    if exe is None:
        return ""
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip().split(",")[0]


# --------------------------------------------------------------------------- (a) juzhang


STEPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("import bank", "bk", ("import", "bank", CODE, "{file}", "--account", BANK)),
    ("custody accept-statement --all", "cash", ("custody", "accept-statement", CODE, "--all")),
    ("statement draft", "bk", ("statement", "draft", CODE)),
    ("voucher review --all", "rv", ("voucher", "review", CODE, "--all")),
    ("voucher post --all", "bk", ("voucher", "post", CODE, "--all")),
)
"""The five steps of the guide: label, acting person, arguments."""


def setup_one(cli: Cli) -> float:
    """Set one community up with the guide's commands; return the seconds it took."""
    started = time.perf_counter()
    cli("db", "upgrade")
    cli("entity", "add", CODE, "基准社区", "--chart", "rural-2023", "--start", PERIOD)
    for login, name, _role in PEOPLE:
        cli("user", "add", login, name)
    for login, _name, role in PEOPLE:
        cli("grant", login, role, CODE)
    cli("account", "add", CODE, BANK, "农商银行基本户")
    cli("statement", "bank-account", CODE, BANK, NUMBER)
    cli("opening", "set", CODE, BANK, OPENING_YUAN, "301", "-" + OPENING_YUAN, user="bk")
    return time.perf_counter() - started


def _counts(url: str) -> dict[str, int]:
    """Return the stored statement lines, custody entries and vouchers by status."""
    from sqlalchemy import text

    from juzhang.storage.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            out = {
                t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in ("statement_line", "custody_entry", "voucher_line")
            }
            for status, n in conn.execute(text("SELECT status, count(*) FROM voucher GROUP BY 1")):
                out[str(status)] = int(n)
    finally:
        engine.dispose()
    return out


@dataclass(frozen=True, slots=True)
class Step:
    """One measured row of a section's table."""

    label: str
    seconds: float
    peak_rss_mb: float
    rows: int
    failed: str = ""
    client_cpu: float | None = None
    """The ``juzhang`` process's own CPU seconds."""
    server_cpu: float | None = None
    """CPU seconds of the local PostgreSQL server's processes during the step."""


class ServerCpu:
    """The CPU time the local PostgreSQL server's processes spend during a block.

    Every 20 ms reads the CPU time of the PostgreSQL servers' processes (each
    postmaster and its children: the step's backend, the WAL writer, the
    checkpointer; a few files of ``/proc``) and sums what each used from the
    start of the block, or from its own start for a backend that began inside
    it.  ``seconds`` stays ``None`` on SQLite, for a server on another
    host, or where ``/proc`` cannot be read.  A step's wall time is its client's
    CPU, the server's, and the waits between them: their sum against the wall
    says how far the two take turns rather than work side by side.
    """

    def __init__(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        u = make_url(url)
        local = u.get_backend_name() == "postgresql" and (u.host or "localhost") in (
            "localhost",
            "127.0.0.1",
            "::1",
        )
        self.on = local and Path("/proc/self/stat").exists()
        self.seconds: float | None = None
        self._stop = threading.Event()
        self._seen: dict[int, float] = {}
        self._base: dict[int, float] = {}
        self._postmasters: list[int] = []
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def _stat(pid: int | str) -> tuple[str, list[str]] | None:
        """A process's name and the fields after it in ``/proc/PID/stat``."""
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        return raw[raw.index("(") + 1 : raw.rindex(")")], raw.rsplit(")", 1)[1].split()

    @classmethod
    def _find_postmasters(cls) -> list[int]:
        """The ``postgres`` processes whose parent is not one (one scan of ``/proc``)."""
        parents: dict[int, int] = {}
        for pid in os.listdir("/proc"):
            got = cls._stat(pid) if pid.isdigit() else None
            if got is not None and got[0].startswith("postgres"):
                parents[int(pid)] = int(got[1][1])
        return [pid for pid, parent in parents.items() if parent not in parents]

    def _read(self) -> dict[int, float]:
        tick = os.sysconf("SC_CLK_TCK")
        out: dict[int, float] = {}
        for master in self._postmasters:
            try:
                children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            except OSError:
                children = []
            for pid in (master, *map(int, children)):
                got = self._stat(pid)
                if got is not None:
                    fields = got[1]
                    out[pid] = (int(fields[11]) + int(fields[12])) / tick
        return out

    def _loop(self) -> None:
        while not self._stop.wait(0.02):
            self._seen.update(self._read())

    def __enter__(self) -> ServerCpu:
        if self.on:
            self._postmasters = self._find_postmasters()
            self._base = self._read()
            self._seen = dict(self._base)
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.on:
            self._stop.set()
            self._thread.join()
            self._seen.update(self._read())
            self.seconds = sum(v - self._base.get(pid, 0.0) for pid, v in self._seen.items())


def _cpu(step: Step) -> str:
    """``client CPU x s, server CPU y s`` (what was measured of the two)."""
    parts = [f"client CPU {step.client_cpu:.1f} s"] if step.client_cpu is not None else []
    if step.server_cpu is not None:
        parts.append(f"server CPU {step.server_cpu:.1f} s")
    return ", ".join(parts)


def one_community(cli: Cli, statement: Path, rows: int) -> tuple[list[Step], dict[str, Any]]:
    """Set up and run the five steps; return the measured steps and what was stored."""
    setup = setup_one(cli)
    _say(f"{cli.url.split(':')[0].split('+')[0]} set-up: {cli.count} commands in {setup:.1f} s")
    steps: list[Step] = []
    failed = ""
    for label, user, args in STEPS:
        if failed:
            steps.append(Step(label, 0.0, 0.0, rows, f"not run: {failed}"))
            continue
        with ServerCpu(cli.url) as server:
            proc = cli(*(a.replace("{file}", str(statement)) for a in args), user=user, check=False)
        if not proc.ok:
            failed = f"{label} {proc.why()}"
        step = Step(
            label,
            proc.seconds,
            proc.peak_rss_mb,
            rows,
            "" if proc.ok else failed,
            proc.cpu_seconds,
            server.seconds,
        )
        steps.append(step)
        _say(
            f"  {label}: {proc.seconds:.1f} s, {proc.peak_rss_mb:.0f} MiB, {_cpu(step)}"
            + (f" — FAILED {proc.why()}" if not proc.ok else "")
        )
    return steps, {"setup_seconds": setup, "counts": _counts(cli.url), "failed": failed}


def _a_results(
    db: str,
    rows: int,
    steps: list[Step],
    stored: dict[str, Any],
    raw: dict[str, Any] | None,
    hledger: Hledger | str | None,
    floor: dict[str, dict[str, float]] | str | None = None,
) -> list[Result]:
    """Turn section (a)'s measurements into results, and print its table.

    ``floor`` is PostgreSQL's own time to store the rows the path left
    (:func:`benchmarks.pg_copy.path_floor`), or why it was not measured.
    """
    done = [s for s in steps if not s.failed]
    servers = [s.server_cpu for s in done]
    whole = Step(
        "whole path (5 steps)",
        sum(s.seconds for s in done),
        max((s.peak_rss_mb for s in done), default=0.0),
        rows,
        stored["failed"],
        sum(s.client_cpu or 0.0 for s in done),
        None if None in servers else sum(s or 0.0 for s in servers),
    )
    raw_s = raw["seconds"] if raw else None
    hl_s = hledger.seconds if isinstance(hledger, Hledger) else None
    counts = stored["counts"]
    results: list[Result] = []
    table: list[list[str]] = []
    for step in [*steps, whole]:
        ratio = step.seconds / raw_s if raw_s and not step.failed else None
        vs_hl = step.seconds / hl_s if hl_s and not step.failed else None
        notes = [step.failed] if step.failed else []
        if step.client_cpu is not None and not step.failed:
            notes.append(_cpu(step))
        if step is whole and not step.failed:
            notes += [
                f"set-up with the guide's commands {stored['setup_seconds']:.1f} s (not in this)",
                f"stored: {counts.get('statement_line', 0):,} statement lines,"
                f" {counts.get('custody_entry', 0):,} custody entries,"
                f" {counts.get('posted', 0):,} vouchers posted",
                f"target whole path < hledger: {_x(vs_hl)} —"
                f" {_verdict(vs_hl is not None and vs_hl < 1.0) if hl_s else 'no hledger'}",
                f"target peak RSS < {RSS_TARGET_MB:.0f} MB: {step.peak_rss_mb:.0f} MiB —"
                f" {_verdict(step.peak_rss_mb < RSS_TARGET_MB)}",
            ]
            if isinstance(floor, dict) and floor.get("keys"):
                keys = sum(floor["keys"].values())
                notes.append(
                    f"{step.seconds / keys:.1f}× PostgreSQL's own COPY of the rows it"
                    f" stored into juzhang's tables ({keys:.2f} s)"
                )
            elif isinstance(floor, str):
                notes.append(f"PostgreSQL floor not measured: {floor}")
            if counts.get("posted", 0) != rows:
                notes.append(
                    f"expected {rows:,} posted vouchers, found {counts.get('posted', 0):,}"
                )
        results.append(_result(db, f"(a) {step.label}", rows, step, ratio, notes))
        table.append(_row(step, ratio, vs_hl))
    if raw is not None:
        base = Step("raw sqlite3: csv + 4 plain tables", raw["seconds"], raw["peak_rss_mb"], rows)
        note = f"{raw['stored']:,} rows into 4 tables without constraints, parse included"
        results.append(_result(db, f"(a) {base.label}", rows, base, None, [note]))
        table.append(_row(base, None, base.seconds / hl_s if hl_s else None))
    if isinstance(floor, dict):
        from benchmarks.pg_copy import FLOOR_MODES

        for mode, took in floor.items():
            seconds = sum(took.values())
            base = Step(f"PostgreSQL COPY of the stored rows: {mode}", seconds, 0.0, rows)
            notes = [
                f"{FLOOR_MODES[mode]}; the rows the path stored, once, parse not included",
                "by table (COPY + ANALYZE): "
                + ", ".join(f"{t} {v:.2f} s" for t, v in took.items()),
            ]
            results.append(_result(db, f"(a) {base.label}", rows, base, None, notes))
            table.append(_row(base, None, seconds / hl_s if hl_s else None))
    if isinstance(hledger, Hledger):
        hl = Step(f"{_hledger_version()}: print + bal", hledger.seconds, hledger.peak_rss_mb, rows)
        ratio = hl.seconds / raw_s if raw_s else None
        notes = [
            f"rules: benchmarks/{RULES.name}",
            f"the mean of a run before this path ({hledger.before:.2f} s)"
            f" and one after it ({hledger.after:.2f} s)",
        ]
        results.append(_result(db, f"(a) {hl.label}", rows, hl, ratio, notes))
        table.append(_row(hl, ratio, 1.0))
    elif isinstance(hledger, str):
        table.append([f"hledger: skipped ({hledger})", "", "", "", "", "", ""])
    head = ["step", "seconds", "rows/s", "peak RSS MiB", "× raw", "× hledger", "CPU client/server"]
    _table(f"(a) {db}, one community, {rows:,} statement rows:", head, table)
    return results


def _row(step: Step, ratio: float | None, vs_hl: float | None) -> list[str]:
    if step.failed:
        return [step.label, "—", "—", "—", "—", step.failed[:60], ""]
    rate = step.rows / step.seconds if step.seconds else 0.0
    cpu = [f"{c:.2f}" if c is not None else "—" for c in (step.client_cpu, step.server_cpu)]
    return [
        step.label,
        f"{step.seconds:.2f}",
        f"{rate:,.0f}",
        f"{step.peak_rss_mb:.0f}",
        _x(ratio),
        _x(vs_hl),
        " / ".join(cpu) if step.client_cpu is not None else "",
    ]


def _result(
    db: str, method: str, rows: int, step: Step, ratio: float | None, notes: Sequence[str]
) -> Result:
    return Result(
        bench=NAME,
        db=db,
        method=method,
        vouchers=rows,
        lines=0,
        custody=0,
        seconds=step.seconds,
        peak_rss_mb=step.peak_rss_mb,
        ratio=ratio,
        notes=tuple(notes),
    )


def section_a(cfg: Config, folder: Path) -> Iterator[Result]:
    """One community, one statement: juzhang on each database, raw sqlite3, hledger."""
    from benchmarks.bench_import import write_csv

    rows = cfg.vouchers or (QUICK_ROWS if cfg.quick else FULL_ROWS)
    statement = write_csv(folder / "statement.csv", rows, cfg.seed)
    _say(f"(a) {rows:,}-row ICBC statement, {statement.stat().st_size / 2**20:.1f} MiB")
    raw = in_child(f"{__name__}.raw_phase", path=str(statement), db=str(folder / "raw.db"))
    _say(f"(a) raw sqlite3: {raw['seconds']:.2f} s")

    def hledger_now() -> tuple[float, float] | str:
        hl = hledger_run(statement, folder)
        if isinstance(hl, str):
            return hl
        _say(f"(a) hledger: {hl[0].seconds + hl[1].seconds:.2f} s")
        return hl[0].seconds + hl[1].seconds, max(hl[0].peak_rss_mb, hl[1].peak_rss_mb)

    # hledger runs before and after each database's path, and the path is
    # compared with the mean of the two: the speed of this machine drifts by
    # 10-20 % within minutes, and one hledger run before both paths compared
    # the second with a moment up to a few minutes earlier
    hl_runs = [hledger_now()]
    if cfg.sqlite:
        work = folder / "a-sqlite"
        work.mkdir()
        cli = Cli(f"sqlite:///{work / 'juzhang.db'}", work)
        steps, stored = one_community(cli, statement, rows)
        hl_runs.append(hledger_now())
        yield from _a_results("sqlite", rows, steps, stored, raw, _window(*hl_runs[-2:]))
    if cfg.pg_url:
        from benchmarks.bench_posting import _pg_space

        work = folder / "a-pg"
        work.mkdir()
        tag = f"jz_bench_cli_{os.getpid()}_{secrets.token_hex(3)}"
        floor: dict[str, dict[str, float]] | str = "the path failed"
        with _pg_space(cfg.pg_url, tag, cfg.keep) as (url, kind):
            _say(f"(a) postgresql: a {kind} of its own")
            steps, stored = one_community(Cli(url, work), statement, rows)
            if kind != "database":
                floor = "no CREATEDB privilege: the floor needs copies of the database"
            elif not stored["failed"]:
                # in a child of its own: the rows it holds would raise this
                # process's peak RSS, which every later child reports as its
                # own (Linux keeps the pre-exec memory's high-water mark)
                floor = in_child(
                    "benchmarks.pg_copy.path_floor",
                    admin_url=cfg.pg_url,
                    path_url=url,
                    name=f"{tag}_floor",
                )["modes"]
                _say(
                    "(a) postgresql floor: "
                    + ", ".join(f"{k} {sum(v.values()):.2f} s" for k, v in floor.items())
                )
        hl_runs.append(hledger_now())
        hledger = _window(*hl_runs[-2:])
        yield from _a_results("postgresql", rows, steps, stored, raw, hledger, floor)


@dataclass(frozen=True, slots=True)
class Hledger:
    """hledger's runs before and after one database's path: their mean is the baseline."""

    before: float
    after: float
    peak_rss_mb: float

    @property
    def seconds(self) -> float:
        """The mean of the run before and the run after."""
        return (self.before + self.after) / 2


def _window(before: tuple[float, float] | str, after: tuple[float, float] | str) -> Hledger | str:
    """hledger around one path, or why it did not run."""
    if isinstance(before, str):
        return before
    if isinstance(after, str):
        return after
    return Hledger(before[0], after[0], max(before[1], after[1]))


# --------------------------------------------------------------------------- (b) the agency


def agency_number(n: int) -> str:
    """Return community ``n``'s bank account number (0-based)."""
    return f"62220000{n + 1:08d}"


LAYOUTS = ("icbc", "icbc_dc", "ccb", "abc", "boc", "rcb")
ENCODINGS = {"icbc": "gbk", "ccb": "utf-8-sig", "abc": "gbk", "rcb": "gbk"}


def write_agency_file(folder: Path, n: int, rows: int, seed: int) -> Path:
    """Write community ``n``'s month in the next shipped layout, with its own account number."""
    from tests import statement_samples as ss

    rng = random.Random(seed * 1000 + n)
    layout_name = LAYOUTS[n % len(LAYOUTS)]
    layout: ss.Layout = getattr(ss, layout_name)()
    start = dt.datetime(2026, 9, 1, 8)
    step = dt.timedelta(days=29) / max(rows, 1)
    txns = []
    for i in range(rows):
        fen = rng.randint(1, 50_000) * (1 if rng.random() < 0.5 else -1)
        amount = Decimal(abs(fen)) / 100
        who = f"对方单位{rng.randrange(300)}"
        txns.append(
            ss.Transaction(
                start + step * i,
                amount if fen < 0 else Decimal(0),
                amount if fen > 0 else Decimal(0),
                who,
                f"6217{rng.randrange(10**8):08d}",
                "中国农业银行某某支行",
                "转账",
                "货款",
                "",
                f"S{n + 1:03d}{i:06d}",
            )
        )
    number = agency_number(n)

    def own(cell: object) -> object:
        return cell.replace(ss.OWN_ACCOUNT, number) if isinstance(cell, str) else cell

    # the samples' own writer: placeholders (the rcb opening balance) filled in
    rows_of = dataclasses.replace(layout, transactions=tuple(txns)).rows()
    table: list[list[object]] = [[own(c) for c in row] for row in rows_of]
    if layout_name == "abc":
        table = ss.abc_rows(table)
    path = folder / f"{n + 1:03d}-{layout.profile}.csv"
    ss.write_csv(path, table, ENCODINGS.get(layout_name, "utf-8"))
    return path


def prepare_agency(url: str, communities: int) -> dict[str, Any]:
    """Migrate and set up the communities, people, bank accounts and openings (library)."""
    from benchmarks.synthetic import entity_code, entity_name
    from juzhang import agency, books
    from juzhang import statements as statement
    from juzhang.storage.engine import make_engine, transaction, upgrade

    started = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as s:
        agency.add_user(s, "bk", "李会计")
        agency.add_user(s, "rv", "王审核")
        for n in range(communities):
            agency.add_user(s, f"cash{n + 1:03d}", f"出纳{n + 1}")
    for n in range(communities):
        code = entity_code(n)
        with transaction(engine) as s:
            agency.add_entity(s, code, entity_name(n), chart="rural-2023", start_period=202609)
            for login, role in (
                (f"cash{n + 1:03d}", "cashier"),
                ("bk", "bookkeeper"),
                ("rv", "reviewer"),
            ):
                agency.grant(s, login, role, code)
            books.add_account(s, code, BANK, "农商银行基本户")
            statement.set_bank_account(s, code, BANK, agency_number(n))
            opening = Decimal("100000.00")
            books.set_opening(s, code, "bk", {BANK: opening, "301": -opening})
    engine.dispose()
    return {"seconds": time.perf_counter() - started}


@dataclass(frozen=True, slots=True)
class Batch:
    """Which steps the command line can run for every community in one process."""

    import_dir: bool
    draft: bool
    review: bool
    post: bool


def detect_batch(cli: Cli) -> Batch:
    """Look for ``import bank --dir`` and ``--entities`` in the commands' ``--help``."""
    return Batch(
        "--dir" in cli.help_text("import", "bank"),
        "--entities" in cli.help_text("statement", "draft"),
        "--entities" in cli.help_text("voucher", "review"),
        "--entities" in cli.help_text("voucher", "post"),
    )


@dataclass
class Tally:
    """The processes of one agency step, added up."""

    label: str
    procs: list[Proc]
    mode: str

    @property
    def seconds(self) -> float:
        """Wall time of all its processes, one after the other."""
        return sum(p.seconds for p in self.procs)

    @property
    def peak_rss_mb(self) -> float:
        """The largest peak RSS of its processes."""
        return max((p.peak_rss_mb for p in self.procs), default=0.0)

    def failures(self) -> list[str]:
        """Return why each failed process failed."""
        return [f"{' '.join(p.argv[1:7])}: {p.why()}" for p in self.procs if not p.ok]


def _batch_or_each(
    cli: Cli,
    label: str,
    user: str,
    command: tuple[str, ...],
    batch: bool,
    codes: Sequence[str],
    extra: tuple[str, ...] = (),
) -> Tally:
    """Run one step for every community: in one process when the CLI can, else one each."""
    if batch:
        proc = cli(*command, "--entities", "all", *extra, user=user, check=False)
        if proc.returncode == 2 and extra:  # the batch form may not take --all
            proc = cli(*command, "--entities", "all", user=user, check=False)
        return Tally(label, [proc], "one process, --entities all")
    procs = [cli(*command, code, *extra, user=user, check=False) for code in codes]
    return Tally(label, procs, f"one process per community ({len(codes)})")


@dataclass(frozen=True, slots=True)
class Acceptances:
    """The cashiers' acceptances: plain processes, and those run in ``juzhang daemon``."""

    cold: Tally
    warm: Tally | None  # every other community's, when the CLI has ``juzhang daemon``
    floor: float | None
    warm_floor: float | None


@contextmanager
def warm_daemon(cli: Cli) -> Iterator[dict[str, str] | None]:
    """Run ``juzhang daemon`` while the block runs; yield the environment that uses it.

    ``None`` when the command line has no ``daemon`` command (or it did not start).
    """
    if "daemon" not in cli.help_text():
        yield None
        return
    sock = cli.folder / "daemon.sock"
    log = cli.folder / "daemon.log"  # a line per command: a file, never a pipe that fills
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(juzhang_script()), "daemon", "--socket", str(sock)],
            env=cli.env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while b"listening" not in log.read_bytes() and proc.poll() is None:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        yield {"JUZHANG_DAEMON": str(sock)} if b"listening" in log.read_bytes() else None
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def agency_month(cli: Cli, files: Path, communities: int) -> tuple[list[Tally], Acceptances, Batch]:
    """Run the agency's month; return the agency's steps, the acceptances and the mode.

    The cashiers' acceptances alternate, when the command line has ``juzhang
    daemon``: every other community's runs with the daemon up (a process
    that has the imports done), the others as plain processes, so both are
    measured in the same run on the same database.
    """
    from benchmarks.synthetic import entity_code

    codes = [entity_code(n) for n in range(communities)]
    batch = detect_batch(cli)
    steps: list[Tally] = []
    if batch.import_dir:
        proc = cli("import", "bank", "--dir", str(files), user="bk", check=False)
        steps.append(Tally("import bank", [proc], "one process, --dir"))
    else:
        paths = sorted(files.iterdir())
        procs = [
            cli("import", "bank", code, str(path), "--account", BANK, user="bk", check=False)
            for code, path in zip(codes, paths, strict=True)
        ]
        steps.append(Tally("import bank", procs, f"one process per file ({len(paths)})"))
    with warm_daemon(cli) as warm:
        procs = [
            cli(
                "custody",
                "accept-statement",
                code,
                "--all",
                user=f"cash{n + 1:03d}",
                check=False,
                env=warm if n % 2 else None,
            )
            for n, code in enumerate(codes)
        ]
        floor = _acceptance_floor(cli), _acceptance_floor(cli, warm) if warm else None
    accept = Tally(
        "custody accept-statement --all (each community's cashier)",
        procs[0::2] if warm else procs,
        f"one process per community ({len(procs[0::2]) if warm else len(procs)})",
    )
    accept_warm = (
        Tally(
            "custody accept-statement --all, juzhang daemon running",
            procs[1::2],
            f"one process per community ({len(procs[1::2])}), run in the daemon"
            " (peak RSS: the caller's)",
        )
        if warm
        else None
    )
    steps.append(
        _batch_or_each(cli, "statement draft", "bk", ("statement", "draft"), batch.draft, codes)
    )
    steps.append(
        _batch_or_each(
            cli, "voucher review", "rv", ("voucher", "review"), batch.review, codes, ("--all",)
        )
    )
    steps.append(
        _batch_or_each(
            cli, "voucher post", "bk", ("voucher", "post"), batch.post, codes, ("--all",)
        )
    )
    out = cli.folder / "closing"
    proc = cli(
        "close",
        "--period",
        PERIOD,
        "--all",
        "--out",
        str(out),
        "--jobs",
        "2",
        user="rv",
        check=False,
    )
    steps.append(Tally("close --all --jobs 2", [proc], "one process, 2 workers"))
    return steps, Acceptances(accept, accept_warm, *floor), batch


def section_b(cfg: Config, folder: Path) -> Iterator[Result]:
    """An agency's month on each database."""
    from benchmarks.bench_posting import _pg_space

    communities, rows = AGENCY_QUICK if cfg.quick else AGENCY_FULL
    communities = cfg.communities or communities
    files = folder / "statements"
    files.mkdir()
    for n in range(communities):
        write_agency_file(files, n, rows, cfg.seed)
    _say(f"(b) {communities} statement files of {rows} rows in {len(LAYOUTS)} layouts")
    places: list[tuple[str, str]] = []
    if cfg.sqlite:
        places.append(("sqlite", f"sqlite:///{folder / 'agency.db'}"))
    if cfg.pg_url:
        places.append(("postgresql", cfg.pg_url))
    for db, base_url in places:
        work = folder / f"b-{db}"
        work.mkdir()
        if db == "sqlite":
            yield from _agency_on(db, base_url, work, files, communities, rows)
            continue
        tag = f"jz_bench_cli_b_{os.getpid()}_{secrets.token_hex(3)}"
        with _pg_space(base_url, tag, cfg.keep) as (url, kind):
            _say(f"(b) postgresql: a {kind} of its own")
            yield from _agency_on(db, url, work, files, communities, rows)


FLOOR_RUNS = 5
"""How many times the acceptance's floor is measured."""


def _acceptance_floor(cli: Cli, env: dict[str, str] | None = None) -> float | None:
    """Median wall of the first community's acceptance once nothing waits (None if it fails).

    What a cashier's process costs before it has a line to accept: Python's
    start-up, the imports, the connection and the role checks; measured in the
    same run as the acceptances, so that their times can be read against it.
    """
    from benchmarks.synthetic import entity_code

    procs = [
        cli(
            "custody",
            "accept-statement",
            entity_code(0),
            "--all",
            user="cash001",
            check=False,
            env=env,
        )
        for _ in range(FLOOR_RUNS)
    ]
    if not all(p.ok for p in procs):
        return None
    return statistics.median(p.seconds for p in procs)


def _percentile(values: Sequence[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def _agency_on(
    db: str, url: str, work: Path, files: Path, communities: int, rows: int
) -> Iterator[Result]:
    setup = in_child(f"{__name__}.prepare_agency", url=url, communities=communities)
    _say(f"(b) {db} set-up through the library: {setup['seconds']:.1f} s")
    cli = Cli(url, work)
    steps, acceptances, batch = agency_month(cli, files, communities)
    accept, warm = acceptances.cold, acceptances.warm
    total = communities * rows
    agency_s = sum(t.seconds for t in steps)
    agency_rss = max(t.peak_rss_mb for t in [*steps, accept])
    limit = 60.0 if db == "sqlite" else 90.0
    counts = _counts(url)
    table: list[list[str]] = []
    accepted = _acceptance_notes(accept, acceptances.floor)
    warm_notes = _acceptance_notes(warm, acceptances.warm_floor) if warm else []
    for t in [*steps, accept, *([warm] if warm else [])]:
        notes = [t.mode, *t.failures()[:5]]
        if t is accept:
            notes += accepted
        if t is warm:
            notes += warm_notes
        yield _result(
            db, f"(b) {t.label}", total, Step(t.label, t.seconds, t.peak_rss_mb, total), None, notes
        )
        rate = total / t.seconds if t.seconds else 0.0
        bad = f" ({len(t.failures())} failed)" if t.failures() else ""
        table.append(
            [t.label, f"{t.seconds:.2f}", f"{rate:,.0f}", f"{t.peak_rss_mb:.0f}", t.mode + bad]
        )
    mode = (
        "batch"
        if all((batch.import_dir, batch.draft, batch.review, batch.post))
        else ("one process per community per step where the CLI has no batch form yet")
    )
    notes = [
        f"{communities} communities × {rows} rows; {mode}",
        f"stored: {counts.get('statement_line', 0):,} statement lines,"
        f" {counts.get('posted', 0):,} vouchers posted",
        f"target agency steps < {limit:.0f} s: {agency_s:.1f} s — {_verdict(agency_s < limit)}",
        f"target peak RSS < {RSS_TARGET_MB:.0f} MB: {agency_rss:.0f} MiB —"
        f" {_verdict(agency_rss < RSS_TARGET_MB)}",
    ]
    whole = Step("agency steps (all but the acceptances)", agency_s, agency_rss, total)
    yield _result(db, f"(b) {whole.label}", total, whole, None, notes)
    table.append(
        [
            whole.label,
            f"{agency_s:.2f}",
            f"{total / agency_s:,.0f}",
            f"{agency_rss:.0f}",
            f"target < {limit:.0f} s: {_verdict(agency_s < limit)}",
        ]
    )
    head = ["step", "seconds", "rows/s", "peak RSS MiB", "how"]
    _table(f"(b) {db}, {communities} communities × {rows} rows ({mode}):", head, table)
    for note in [
        *notes,
        *(f"acceptances: {a}" for a in accepted),
        *(f"acceptances, juzhang daemon running: {a}" for a in warm_notes),
    ]:
        _say(f"  - {note}")


def _acceptance_notes(tally: Tally, floor: float | None) -> list[str]:
    """The acceptances' spread against the 0.5 s target, and their floor."""
    each = [p.seconds for p in tally.procs]
    return [
        f"each: median {statistics.median(each):.2f} s,"
        f" 90th percentile {_percentile(each, 0.9):.2f} s, max {max(each):.2f} s"
        f" ({len(each)} processes); target each < 0.5 s — {_verdict(max(each) < 0.5)}",
        "the same command with nothing waiting (start-up, imports, connection, checks): "
        + (f"median {floor:.2f} s of {FLOOR_RUNS}" if floor is not None else "failed"),
    ]


# --------------------------------------------------------------------------- (c) start-up


def best_of(cli: Cli, args: Sequence[str], times: int) -> Proc:
    """Run a command ``times`` times; return the fastest run (or the first failure)."""
    best: Proc | None = None
    for _ in range(times):
        proc = cli(*args, check=False)
        if not proc.ok:
            return proc
        if best is None or proc.seconds < best.seconds:
            best = proc
    assert best is not None
    return best


IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def import_times(python: str | None = None) -> list[tuple[str, float, float]]:
    """Return ``(module, self ms, cumulative ms)`` of ``import juzhang.cli``, largest first.

    Runs ``python -X importtime -c "import juzhang.cli"`` twice and parses the
    second run's stderr (the first may be compiling byte code).
    """
    argv = [python or sys.executable, "-X", "importtime", "-c", "import juzhang.cli"]
    err = ""
    for _ in range(2):
        err = subprocess.run(argv, capture_output=True, text=True, check=True).stderr
    found = []
    for line in err.splitlines():
        m = IMPORT_LINE.match(line)
        if m:
            found.append((m.group(4), int(m.group(1)) / 1000, int(m.group(2)) / 1000))
    return sorted(found, key=lambda r: -r[2])


def small_book(url: str) -> dict[str, Any]:
    """Post a small book (one community, one month of 30 vouchers) for the start-up timing."""
    from benchmarks.bench_posting import Size, juzhang_phase

    out = juzhang_phase(
        url,
        Size(1, 1, 30),
        seed=1,
        batch="month",
        verify=False,
        profile=None,
        track_functions=False,
    )
    return {"vouchers": out["vouchers"]}


def section_c(cfg: Config, folder: Path) -> Iterator[Result]:
    """Start-up: --help, --version, a small trial balance; the slowest imports."""
    work = folder / "c"
    work.mkdir()
    url = f"sqlite:///{work / 'small.db'}"
    book = in_child(f"{__name__}.small_book", url=url)
    cli = Cli(url, work)
    repeat = 1 if cfg.quick else 5
    table: list[list[str]] = []
    runs = (
        ("juzhang --help", ("--help",), 0.25),
        ("juzhang --version", ("--version",), 0.25),
        (
            "report trial-balance (json, small book)",
            ("report", "trial-balance", "B001", "--period", "2026-01", "--format", "json"),
            0.5,
        ),
    )
    for label, args, target in runs:
        proc = best_of(cli, args, repeat)
        if not proc.ok:
            table.append([label, "n/a", "", proc.why()[:70]])
            _say(f"(c) {label}: n/a ({proc.why()})")
            continue
        verdict = f"target < {target} s — {_verdict(proc.seconds < target)}"
        notes = [f"best of {repeat}", verdict]
        if label.startswith("report"):
            notes.append(f"a book of {book['vouchers']} posted vouchers")
        step = Step(label, proc.seconds, proc.peak_rss_mb, 1)
        yield _result("sqlite", f"(c) {label}", 1, step, None, notes)
        table.append([label, f"{proc.seconds:.3f}", f"{proc.peak_rss_mb:.0f}", verdict])
    _table(
        f"(c) start-up, best of {repeat}:", ["command", "seconds", "peak RSS MiB", "target"], table
    )
    imports = import_times()
    top = [r for r in imports if r[0] != "juzhang.cli"][:10]
    total = next((r[2] for r in imports if r[0] == "juzhang.cli"), 0.0)
    _table(
        f"(c) import juzhang.cli: {total:.0f} ms cumulative; the ten largest below it:",
        ["module", "cumulative ms", "self ms"],
        [[m, f"{c:.1f}", f"{s:.1f}"] for m, s, c in top],
    )
    notes = [f"{m} {c:.0f} ms" for m, _s, c in top]
    step = Step("python -X importtime: import juzhang.cli", total / 1000, 0.0, 1)
    yield _result("sqlite", f"(c) {step.label}", 1, step, None, notes)


# --------------------------------------------------------------------------- the run


def run(cfg: Config) -> Iterator[Result]:
    """Run sections (a), (b), (c) and, with PostgreSQL, (d); yield the results."""
    if not juzhang_script().exists():
        raise RuntimeError(f"no juzhang console script at {juzhang_script()}: pip install -e .")
    folder = Path(tempfile.mkdtemp(prefix="jz-bench-cli-", dir=cfg.workdir))
    _say(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    _say(compile_juzhang())
    parts = cfg.cli_parts or ("a", "b", "c", "d")
    try:
        if "a" in parts:
            yield from section_a(cfg, folder)
        if "b" in parts:
            yield from section_b(cfg, folder)
        if "c" in parts:
            yield from section_c(cfg, folder)
        if cfg.pg_url and "d" in parts:
            from benchmarks import pg_copy

            yield from pg_copy.run(cfg)
    finally:
        _say(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
        if not cfg.keep:
            shutil.rmtree(folder, ignore_errors=True)


__all__ = ["DESCRIPTION", "NAME", "Proc", "import_times", "run", "run_proc", "write_agency_file"]


if __name__ == "__main__":  # python -m benchmarks.bench_cli [--quick]: this benchmark alone
    from benchmarks.__main__ import main

    sys.exit(main(["--only", NAME, *sys.argv[1:]]))
