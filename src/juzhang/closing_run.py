"""The closing run (批量结账): close one month for many communities and write their outputs.

:func:`close_all` takes every community asked for and, for each one:

1. closes the month (:func:`juzhang.closing.close_month`) in a transaction of
   its own, so an interruption (Ctrl-C, a killed process) leaves that
   community's month either closed with its carry-forward or open and
   unchanged — never half-done;
2. writes the month's outputs into ``OUT/CODE/`` (:data:`OUTPUTS`: the
   public disclosure workbook, the trial balance, the income statement and
   the bank reconciliation, as xlsx), each file first into a temporary
   folder next to it and then renamed into place, so a file that exists is
   always complete;
3. runs the risk checks (廉政风险提示, :mod:`juzhang.risk`) on the month and
   puts their count per check in the outcome's ``warnings``
   (:func:`risk_warnings`): information for the finance group, never a
   reason not to close.

One community's failure (problems found by the checks, a refused command, even
a bug) never stops the others: each gets an :class:`EntityOutcome` with its
status and every problem, and the :class:`RunSummary` collects them.

Re-running is safe: a month already closed is not closed again (status
``already closed``) and only its missing files are written; a month closed by
this run gets all its files (over older ones).

**Parallel runs** (``jobs > 1``): entities are closed in worker processes
(:class:`concurrent.futures.ProcessPoolExecutor`, ``spawn`` start method),
each with its own engine.  Workers ignore Ctrl-C: the parent stops handing
out entities and each worker finishes the one it is on, then the run ends.
On PostgreSQL the per-entity advisory locks keep writers of different
entities apart, so they really run side by side.  On
SQLite it is safe but the writes do not overlap: every write transaction
starts with ``BEGIN IMMEDIATE`` and waits (busy timeout 60 s) for the one
before it, while the reading and the writing of files overlap with it; an
in-memory SQLite database cannot be shared, so it always runs with one
worker in this process.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import re
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from juzhang import agency, books
from juzhang.closing import (
    close_month,
    ensure_system_user,
    published_disclosure,
    record_disclosure,
)
from juzhang.core.period import format_period
from juzhang.disclosure_config import DisclosureConfig
from juzhang.errors import JuzhangError, Problem, ValidationError
from juzhang.exporters.disclosure_excel import write_disclosure_workbook
from juzhang.exporters.excel import write_report
from juzhang.exporters.reconciliation_excel import write_reconciliation_workbook
from juzhang.reports.disclosure import Disclosure as DisclosureReport
from juzhang.reports.disclosure import disclosure
from juzhang.reports.reconciliation import bank_reconciliation
from juzhang.reports.statements import income_statement
from juzhang.reports.trial_balance import trial_balance
from juzhang.risk import risk_report, title_zh
from juzhang.storage.access import get_entity
from juzhang.storage.engine import database_files, make_engine, transaction
from juzhang.storage.schema import Disclosure as DisclosureRow

__all__ = [
    "OUTPUTS",
    "EntityOutcome",
    "Output",
    "RunSummary",
    "close_all",
    "close_entity",
    "output_names",
    "risk_warnings",
    "write_outputs",
]

#: Statuses of an entity in a run.
CLOSED = "closed"
ALREADY = "already closed"
PROBLEMS = "problems"
ERROR = "error"


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class Output:
    """One file a closed month gets: its name pattern and the function that writes it.

    ``write(session, entity, period, path)`` writes the file at ``path`` and
    returns what :func:`write_outputs` must record in the books afterwards
    (the disclosure report, for its draft row), or ``None``.
    """

    pattern: str
    write: Callable[[Connection, str, int, Path], DisclosureReport | None]

    def name(self, period: int) -> str:
        """The file name for ``period`` (``"trial-balance-2026-09.xlsx"``)."""
        return self.pattern.format(period=format_period(period))


def _write_disclosure(
    session: Connection,
    entity: str,
    period: int,
    path: Path,
    config: DisclosureConfig | None = None,
) -> DisclosureReport | None:
    """The month's board: the published one (from its snapshot) once signed, else the final one.

    ``config`` None: the entity's stored disclosure settings, else the chart's default.
    """
    published = published_disclosure(session, entity, period)
    if published is not None:
        write_disclosure_workbook(published, path)
        return None
    report = disclosure(session, entity, period, config=config)
    write_disclosure_workbook(report, path)
    return report


def _write_trial_balance(session: Connection, entity: str, period: int, path: Path) -> None:
    name = get_entity(session, entity).name
    write_report(trial_balance(session, entity, period), path, entity_name=name)


def _write_income(session: Connection, entity: str, period: int, path: Path) -> None:
    write_report(income_statement(session, entity, period), path)


def _write_reconciliation(session: Connection, entity: str, period: int, path: Path) -> None:
    write_reconciliation_workbook(bank_reconciliation(session, entity, period), path)


#: The files written for each closed month, in ``OUT/CODE/``: the public disclosure
#: (财务公开表; its draft row is recorded with the workbook's fingerprint), the trial
#: balance (科目余额表), the income statement (收益及收益分配表 / 业务活动表) and the bank
#: reconciliation (银行存款余额调节表).
OUTPUTS: tuple[Output, ...] = (
    Output("disclosure-{period}.xlsx", _write_disclosure),
    Output("trial-balance-{period}.xlsx", _write_trial_balance),
    Output("income-statement-{period}.xlsx", _write_income),
    Output("bank-reconciliation-{period}.xlsx", _write_reconciliation),
)


def output_names(period: int) -> list[str]:
    """Return the names of the files a closed month gets."""
    return [o.name(period) for o in OUTPUTS]


def _write_one(
    output: Output,
    session: Connection,
    entity: str,
    period: int,
    path: Path,
    config: DisclosureConfig | None,
) -> DisclosureReport | None:
    if config is not None and output.write is _write_disclosure:
        return _write_disclosure(session, entity, period, path, config)
    return output.write(session, entity, period, path)


def write_outputs(
    engine: Engine,
    entity: str,
    period: int,
    out_dir: Path,
    *,
    overwrite: bool = False,
    config: DisclosureConfig | None = None,
) -> tuple[list[str], list[Problem]]:
    """Write the month's outputs into ``out_dir/entity/``; return (paths, problems).

    The disclosure workbook follows ``config`` when given (``close --config``,
    a one-off), else the entity's stored disclosure settings
    (``juzhang disclosure config set``), else the chart's default.

    Files that exist are kept unless ``overwrite``; the disclosure workbook is
    written again when its draft row is missing (a run killed between the
    two), and the board of a month signed since is always written again (the
    published workbook replaces the draft one).  Each file is written into a
    temporary folder beside it (in a read transaction) and renamed into
    place; a file that cannot be written is a problem, and the others are
    still written.  Then, in a short write transaction, the disclosure's
    draft row is recorded with the fingerprint of the workbook just written
    (:func:`juzhang.closing.record_disclosure`).  Temporary folders left in
    ``out_dir/entity/`` by a killed run are removed first
    (:func:`remove_leftovers`).

    Raises:
        ValidationError: ``out_dir/entity`` is not a folder directly inside
            ``out_dir``, or an output would overwrite the database file.
    """
    target = output_folder(out_dir, entity)
    forbidden = database_files(engine.url)
    target.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    files: list[str] = []
    problems: list[Problem] = []
    if overwrite:
        todo = list(OUTPUTS)
    else:
        todo = missing_outputs(engine, entity, period, target, signed_again=True)
    files.extend(str(target / o.name(period)) for o in OUTPUTS if o not in todo)
    if not todo:
        return sorted(files), problems
    for output in todo:
        if (target / output.name(period)).resolve() in forbidden:
            raise ValidationError(
                str(target / output.name(period)),
                "是数据库文件，不能覆盖 / is the database file: it is never overwritten",
            )
    reports: list[tuple[DisclosureReport, Path]] = []
    # Named before it exists, so that a Ctrl-C at any point finds it in the finally.
    tmp = target / f"{_TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        tmp.mkdir()
        with transaction(engine, write=False) as session:
            for output in todo:
                name = output.name(period)
                try:
                    made = _write_one(output, session, entity, period, tmp / name, config)
                    os.replace(tmp / name, target / name)
                    files.append(str(target / name))
                    if made is not None:
                        reports.append((made, target / name))
                except Exception as exc:  # one file failing never stops the others
                    problems.append(_output_problem(entity, name, exc))
        _checkpoint("files written")
    finally:
        _remove(tmp)
    for report, path in reports:
        try:
            with transaction(engine) as session:
                record_disclosure(session, report, path)
        except Exception as exc:
            problems.append(_output_problem(entity, "disclosure", exc))
    return sorted(files), problems


def _checkpoint(name: str) -> None:
    """A point in :func:`write_outputs` where tests kill the process (does nothing here)."""


#: The temporary folders :func:`write_outputs` makes: ``.tmp-<pid>-<8 hex digits>``.
_TMP_PREFIX = ".tmp-"
_TMP_NAME = re.compile(r"\.tmp-(\d+)-[0-9a-f]{8}")


def output_folder(out_dir: Path, entity: str) -> Path:
    """Return ``out_dir/entity``, refused unless it resolves to a folder directly in ``out_dir``.

    Raises:
        ValidationError: the entity code would lead outside ``out_dir``.
    """
    base = out_dir.resolve()
    target = (out_dir / entity).resolve()
    if target.parent != base or target.name != entity:
        raise ValidationError(
            f"社区代码 entity code {entity!r}",
            f"输出会写到 {out_dir} 之外 / its output would be written outside {out_dir}",
        )
    return out_dir / entity


def missing_outputs(
    engine: Engine, entity: str, period: int, target: Path, *, signed_again: bool = False
) -> list[Output]:
    """Return the outputs of a closed month still to write in ``target``.

    A missing file is to write; so is the disclosure workbook when its draft
    row was never recorded (the row must carry the fingerprint of the file)
    and, with ``signed_again``, when the board has been signed since (the
    published workbook replaces the draft one).  The row is read once.
    """
    todo = [o for o in OUTPUTS if not (target / o.name(period)).exists()]
    board = next((o for o in OUTPUTS if o.write is _write_disclosure), None)
    if board is not None and board not in todo:
        status = _disclosure_status(engine, entity, period)
        if status is None:
            todo.insert(0, board)
        elif signed_again and status == "published":
            todo.append(board)
    return todo


def _disclosure_status(engine: Engine, entity: str, period: int) -> str | None:
    """The status of the month's disclosure row (``draft``, ``published``), ``None`` without one."""
    with transaction(engine, write=False) as session:
        ent = get_entity(session, entity)
        status = session.execute(
            select(DisclosureRow.status).where(
                DisclosureRow.entity_id == ent.id,
                DisclosureRow.first_period == period,
                DisclosureRow.last_period == period,
            )
        ).scalar_one_or_none()
    return None if status is None else str(status)


def remove_leftovers(target: Path) -> list[Path]:
    """Remove the temporary folders a killed run left in ``target``; return them.

    Only folders named as :func:`write_outputs` names its own
    (``.tmp-<pid>-<8 hex>``) whose process is gone are removed: a folder of a
    run still going (another ``close`` on the same folder) is left alone.
    """
    removed: list[Path] = []
    for path in target.iterdir():
        m = _TMP_NAME.fullmatch(path.name)
        if m is None or not path.is_dir() or path.is_symlink() or _alive(int(m.group(1))):
            continue
        _remove(path)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _remove(folder: Path) -> None:
    """Remove a temporary folder even if Ctrl-C comes while it is being removed.

    The interruption is raised again once the folder is gone: a Ctrl-C that
    arrived in the middle of the removal had left a ``.tmp-`` folder behind.
    """
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            shutil.rmtree(folder, ignore_errors=True)
            break
        except KeyboardInterrupt as exc:
            interrupted = exc
    if interrupted is not None:
        raise interrupted


def _output_problem(entity: str, name: str, exc: Exception) -> Problem:
    return Problem(
        f"{entity} {name}",
        f"文件写入失败 / could not write: {type(exc).__name__}: {exc}".splitlines()[0],
        "output",
    )


# --------------------------------------------------------------------------- one entity


@dataclass(frozen=True, slots=True)
class EntityOutcome:
    """What the run did for one entity.

    ``status`` is ``closed`` (closed by this run), ``already closed``,
    ``problems`` (the checks blocked the close; nothing changed) or ``error``
    (a refused command or a failure).  ``problems`` lists every problem,
    including files that could not be written; ``notes`` are information;
    ``warnings`` are the month's risk signals (廉政风险提示, :mod:`juzhang.risk`),
    counted per check — they never block the close.
    """

    entity: str
    status: str
    problems: tuple[Problem, ...] = ()
    notes: tuple[Problem, ...] = ()
    files: tuple[str, ...] = ()
    vouchers: tuple[str, ...] = ()
    seconds: float = 0.0
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the month is closed and every file is written."""
        return self.status in (CLOSED, ALREADY) and not self.problems


def close_entity(
    engine: Engine,
    entity: str,
    period: int,
    actor: str,
    out_dir: Path,
    config: DisclosureConfig | None = None,
) -> EntityOutcome:
    """Close one entity's month in its own transaction and write its outputs.

    ``config``: the disclosure configuration for this run's board (default:
    the entity's stored settings, else the chart's default).

    Never raises for the entity's own failures: they are the outcome's problems.
    """
    started = time.perf_counter()
    notes: tuple[Problem, ...] = ()
    vouchers: tuple[str, ...] = ()
    try:
        output_folder(out_dir, entity)  # refused before anything is closed
        with transaction(engine) as session:
            if books.is_closed(session, entity, period):
                status = ALREADY
            else:
                result = close_month(session, entity, period, actor)
                if not result.closed:
                    return EntityOutcome(
                        entity,
                        PROBLEMS,
                        result.problems,
                        result.notes,
                        seconds=time.perf_counter() - started,
                    )
                status, notes, vouchers = CLOSED, result.notes, result.vouchers
    except JuzhangError as exc:
        return _failed(entity, str(exc), started)
    except Exception as exc:  # a bug or a lost connection: this entity fails, the run goes on
        return _failed(entity, f"{type(exc).__name__}: {exc}", started)
    if status == ALREADY:
        notes = (_completeness_note(engine, entity, period, out_dir),)
    try:
        files, problems = write_outputs(
            engine, entity, period, out_dir, overwrite=status == CLOSED, config=config
        )
    except JuzhangError as exc:
        return _failed(entity, str(exc), started)
    return EntityOutcome(
        entity,
        status,
        tuple(problems),
        tuple(notes),
        tuple(files),
        tuple(vouchers),
        time.perf_counter() - started,
        risk_warnings(engine, entity, period),
    )


def risk_warnings(engine: Engine, entity: str, period: int) -> tuple[Problem, ...]:
    """The month's risk signals as one warning (count per check), or none when there are none.

    Never raises: a failure to run the checks is itself the warning, so the
    close is never blocked by them.
    """
    try:
        with transaction(engine, write=False) as session:
            report = risk_report(session, entity, period)
    except Exception as exc:  # the checks are information: they never stop a close
        return (Problem(entity, f"风险提示未能运行 / risk checks failed: {exc}", "risk"),)
    counts = report.counts()
    if not counts:
        return ()
    parts = "；".join(f"{title_zh(k)} {n}" for k, n in sorted(counts.items()))
    total = sum(counts.values())
    return (
        Problem(
            entity,
            f"廉政风险提示 {total} 条（{parts}）/ {total} risk signals:"
            f" juzhang risk report {entity} --period {format_period(period)}",
            "risk",
        ),
    )


def _completeness_note(engine: Engine, entity: str, period: int, out_dir: Path) -> Problem:
    """Say whether an already closed month was complete or what a re-run writes for it."""
    target = out_dir / entity
    todo = missing_outputs(engine, entity, period, target) if target.is_dir() else list(OUTPUTS)
    if not todo:
        return Problem(entity, "已完整，未改动 / already complete: nothing written", "closing")
    names = ", ".join(o.name(period) for o in todo)
    return Problem(entity, f"补写 / completing: {names}", "closing")


def _failed(entity: str, message: str, started: float) -> EntityOutcome:
    problem = Problem(entity, message.splitlines()[0] if message else "", "error")
    return EntityOutcome(entity, ERROR, (problem,), seconds=time.perf_counter() - started)


# --------------------------------------------------------------------------- worker processes

_WORKER_ENGINE: Engine | None = None


def _init_worker(url: str, parent: int) -> None:
    global _WORKER_ENGINE
    # Ctrl-C reaches the whole process group; the parent handles it (no new
    # entity is started) and each worker finishes the entity it is on, so
    # that no worker is stopped between its files and their clean-up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _stop_with_parent(parent)
    _WORKER_ENGINE = make_engine(url)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _stop_with_parent(parent: int) -> None:
    """Make this worker stop when the parent process dies (a killed ``close``).

    The parent's death sends SIGTERM (Linux: ``prctl(PR_SET_PDEATHSIG)``;
    elsewhere, and as a second line, a thread that sees the parent process
    change); SIGTERM raises :class:`SystemExit` here, so the entity in
    progress is rolled back by its transaction and its temporary folder
    removed, and the worker exits.  Without this the workers of a killed run
    went on closing communities nobody would report.
    """
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # died before the prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)


def _work(
    entity: str, period: int, actor: str, out_dir: str, config: DisclosureConfig | None
) -> EntityOutcome:
    assert _WORKER_ENGINE is not None, "worker not initialised"
    try:
        return close_entity(_WORKER_ENGINE, entity, period, actor, Path(out_dir), config)
    except SystemExit:
        # The parent died (SIGTERM, see _stop_with_parent): the entity's
        # transaction has rolled back and its temporary folder is gone.  Leave
        # now: the pool's worker loop would catch the exit, send it to a parent
        # that is no more and take the next entity.
        os._exit(1)


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The outcome of :func:`close_all`: one :class:`EntityOutcome` per entity, by code."""

    period: int
    outcomes: tuple[EntityOutcome, ...]
    jobs: int = 1
    seconds: float = 0.0
    out_dir: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether every entity's month is closed and its files written."""
        return all(o.ok for o in self.outcomes)

    @property
    def failed(self) -> tuple[EntityOutcome, ...]:
        """The entities with problems."""
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every problem of every entity."""
        return tuple(p for o in self.outcomes for p in o.problems)


def _ensure_system_user(engine: Engine) -> None:
    """Add the system user before the workers start (else the first close adds it)."""
    with transaction(engine) as session:
        ensure_system_user(session)


def _codes(engine: Engine, entities: Sequence[str] | None) -> list[str]:
    if entities is not None:
        return list(dict.fromkeys(entities))
    with transaction(engine, write=False) as session:
        return [code for code, _name, _chart in agency.list_entities(session)]


def close_all(
    url_or_engine: str | Engine,
    period: int,
    entities: Sequence[str] | None,
    out_dir: Path | str,
    jobs: int = 1,
    *,
    actor: str,
    on_done: Callable[[EntityOutcome], None] | None = None,
    config: DisclosureConfig | None = None,
) -> RunSummary:
    """Close ``period`` for ``entities`` (``None``: every entity) and write their outputs.

    ``actor`` is the reviewer closing the months; ``jobs`` the number of
    worker processes; ``on_done`` is called in this process with each
    entity's outcome as it finishes (for a progress bar); ``config`` a
    disclosure configuration for this run's boards, a one-off (default: each
    entity's stored settings, else its chart's default).  See the module
    docstring for what happens to each entity, re-runs and interruptions.

    Raises:
        ValidationError: ``jobs`` is below 1.
        KeyboardInterrupt: interrupted; every entity already finished stays
            finished; with one job the one in progress is rolled back, with
            several each worker first finishes the entity it is on.
    """
    if jobs < 1:
        raise ValidationError(f"--jobs {jobs}", "至少为 1 / must be at least 1")
    started = time.perf_counter()
    own = isinstance(url_or_engine, str)
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    out = Path(out_dir)
    notes: list[str] = []
    try:
        codes = _codes(engine, entities)
        _ensure_system_user(engine)
        in_memory = engine.dialect.name == "sqlite" and engine.url.database in (
            None,
            "",
            ":memory:",
        )
        if jobs > 1 and in_memory:
            notes.append("内存数据库只能单进程 / an in-memory SQLite database runs with one worker")
        workers = 1 if in_memory else min(jobs, max(1, len(codes)))
        if workers == 1:
            outcomes = []
            for code in codes:
                outcome = close_entity(engine, code, period, actor, out, config)
                outcomes.append(outcome)
                if on_done is not None:
                    on_done(outcome)
        else:
            url = engine.url.render_as_string(hide_password=False)
            outcomes = _parallel(url, codes, period, actor, out, workers, on_done, config)
    finally:
        if own:
            engine.dispose()
    return RunSummary(
        period,
        tuple(sorted(outcomes, key=lambda o: o.entity)),
        jobs,
        time.perf_counter() - started,
        str(out),
        tuple(notes),
    )


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C in this process for a moment, so that the workers spawned now start so.

    A spawned interpreter keeps an ignored SIGINT ignored.  A worker that got
    Ctrl-C while it was still starting (before :func:`_init_worker`) died of
    it, and the pool, broken, killed the other workers in the middle of their
    files.  Only the main thread can change signal handlers; elsewhere (a
    host application's thread), or when the handler was installed outside
    Python, this does nothing.
    """
    previous = signal.getsignal(signal.SIGINT)
    # None: a handler installed outside Python, which could not be put back.
    if previous is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _parallel(
    url: str,
    codes: Sequence[str],
    period: int,
    actor: str,
    out: Path,
    workers: int,
    on_done: Callable[[EntityOutcome], None] | None,
    config: DisclosureConfig | None = None,
) -> list[EntityOutcome]:
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_init_worker,
        initargs=(url, os.getpid()),
    )
    outcomes: list[EntityOutcome] = []
    try:
        with _sigint_ignored():  # the submits spawn the workers
            futures: dict[Future[EntityOutcome], str] = {
                pool.submit(_work, code, period, actor, str(out), config): code for code in codes
            }
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # the worker process died
                outcome = _failed(
                    futures[future], f"{type(exc).__name__}: {exc}", time.perf_counter()
                )
            outcomes.append(outcome)
            if on_done is not None:
                on_done(outcome)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return outcomes
