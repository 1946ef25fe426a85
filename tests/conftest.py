"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

* SQLite: the migrations run once per test session into a template file,
  which each test copies (fast, and each test has its own database).
* PostgreSQL: ``JUZHANG_TEST_PG_URL`` names the server; each test run makes
  its own schema (``jz_test_<pid>_<random>``), migrates it once, empties the
  tables before every test and drops the schema at the end, so runs never
  see each other's state.  Without the URL the PostgreSQL variants skip with
  the reason; with ``JUZHANG_REQUIRE_PG=1`` (CI) such a skip fails the run.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from juzhang import agency, clock
from juzhang.books.period import _lock_period
from juzhang.core.period import parse_period
from juzhang.storage.engine import make_engine, transaction, upgrade
from juzhang.storage.identity import GROUP_ROLES
from juzhang.storage.schema import Base, User

T = TypeVar("T")

PG_URL = os.environ.get("JUZHANG_TEST_PG_URL", "")
REQUIRE_PG = os.environ.get("JUZHANG_REQUIRE_PG") == "1"
PG_SKIP_REASON = "JUZHANG_TEST_PG_URL is not set: PostgreSQL variant not run"

DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    """With JUZHANG_REQUIRE_PG=1 a skipped PostgreSQL test is a failure."""
    outcome = yield
    report = outcome.get_result()
    if (
        REQUIRE_PG
        and report.skipped
        and ("postgresql" in item.nodeid or item.get_closest_marker("pg"))
    ):
        report.outcome = "failed"
        report.longrepr = f"PostgreSQL test skipped but JUZHANG_REQUIRE_PG=1: {report.longrepr}"


TODAY = dt.date(2027, 6, 30)
"""Today's date for the whole suite (:func:`fixed_today`); other helpers rely on exactly this."""


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> Iterator[dt.date]:
    """Fix today at 2027-06-30 for every test, in this process and in ``juzhang`` subprocesses.

    A test that needs another date uses ``clock.fixed(date)`` (this process)
    or sets ``JUZHANG_TODAY`` itself (a subprocess).
    """
    monkeypatch.setenv(clock.ENV_TODAY, TODAY.isoformat())
    with clock.fixed(TODAY):
        yield TODAY


def lock_period(session: Any, entity: str, actor: str, period: int) -> None:
    """Test-only: lock a month WITHOUT the month-end checks or the carry-forward.

    The library has one public way to lock a month, :func:`juzhang.closing.close_month`;
    tests that only need a locked month (to see postings refused, the
    database backstop, reopening) use this, which calls the private lock.
    """
    _lock_period(session, entity, actor, period)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file that tests copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order (to prove nothing changed)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [tuple(r) for r in rows]
    return out


def server_url() -> str:
    """The PostgreSQL server's URL; without one, skip (with ``JUZHANG_REQUIRE_PG=1``, fail)."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("JUZHANG_REQUIRE_PG=1 but JUZHANG_TEST_PG_URL is not set")
        pytest.skip(PG_SKIP_REASON)
    return PG_URL


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """Yield the URL of a new, empty PostgreSQL schema; drop it afterwards.

    Skips (or, with ``JUZHANG_REQUIRE_PG=1``, fails) without a server URL.
    """
    server_url()
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            drop_roles(conn, schema)
        admin.dispose()


def drop_roles(conn: Any, namespace: str, *, keep: tuple[str, ...] = ()) -> None:
    """Drop the PostgreSQL roles of a store (``<namespace>.…``, migration 0018) but ``keep``.

    Roles belong to the server, not to the schema: the schema's group roles
    and the persons' login roles are dropped here so that no test leaves one
    behind.  Roles connected still are terminated first.
    """
    rows = conn.execute(
        text("SELECT rolname FROM pg_roles WHERE starts_with(rolname, :p)"),
        {"p": namespace + "."},
    )
    names = [n for (n,) in rows if n.removeprefix(namespace + ".") not in keep]
    for name in names:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :n"),
            {"n": name},
        )
        quoted = '"' + name.replace('"', '""') + '"'
        conn.execute(text(f"DROP OWNED BY {quoted}"))
        conn.execute(text(f"DROP ROLE {quoted}"))


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL schema for this test run."""
    with pg_schema("jz_test") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


def _truncate_pg(engine: Engine) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # the persons' login roles of an earlier test (their users are gone)
        namespace = conn.execute(
            text(
                "SELECT CASE WHEN current_schema() = 'public' THEN current_database()"
                " ELSE current_schema() END"
            )
        ).scalar_one()
        drop_roles(conn, namespace, keep=GROUP_ROLES)


def _emptied(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        _truncate_pg(engine)
    finally:
        engine.dispose()


PG_ONLY = [pytest.param("postgresql", marks=pytest.mark.pg)]


def postgresql_only(pg_url: str) -> Iterator[str]:
    """The ``db_url`` of a module whose tests are PostgreSQL's alone.

    The module declares ``db_url = pytest.fixture(name="db_url",
    params=PG_ONLY)(postgresql_only)``: the run's migrated schema, emptied
    before and after (no person's login role outlives the test).
    """
    _emptied(pg_url)
    yield pg_url
    _emptied(pg_url)


@pytest.fixture(params=DIALECTS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty, migrated database: SQLite (own file) or PostgreSQL (emptied)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "juzhang.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("pg_url")
    engine = make_engine(url)
    _truncate_pg(engine)
    engine.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty, migrated database of each dialect."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@dataclass
class World:
    """One community C001 (rural-2023, from 2026-09) with a person in every role.

    cashier ``cash``, bookkeepers ``bk`` and ``bk2``, reviewer ``rv``,
    supervisor ``sup``, admin ``adm``.  :meth:`run` calls a service function
    in its own transaction.
    """

    engine: Engine
    entity: str = "C001"

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with transaction(self.engine) as session:
            return fn(session, *args, **kwargs)


PEOPLE = {
    "cash": ("张出纳", "cashier"),
    "bk": ("李会计", "bookkeeper"),
    "bk2": ("孙会计", "bookkeeper"),
    "rv": ("王审核", "reviewer"),
    "sup": ("周理财", "supervisor"),
    "adm": ("赵主任", "admin"),
}


def build_world(engine: Engine, code: str = "C001", *, chart: str = "rural-2023") -> World:
    """Create a community and its people (used by the ``world`` fixture and scenarios)."""
    with transaction(engine) as s:
        agency.add_entity(
            s, code, "幸福社区居委会", chart=chart, start_period=parse_period("2026-09")
        )
        for login, (name, role) in PEOPLE.items():
            if code == "C001" or not _user_exists(s, login):
                agency.add_user(s, login, name)
            agency.grant(s, login, role, code)
    return World(engine, code)


def _user_exists(session: Any, login: str) -> bool:
    return session.execute(select(User.id).where(User.login == login)).first() is not None


@pytest.fixture
def world(engine: Engine) -> World:
    """A community C001 with people in every role, on each dialect."""
    return build_world(engine)
