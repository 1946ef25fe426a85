"""PostgreSQL: the backstop cannot be walked around with shadowing TEMP tables (issue 17).

Any connection may create TEMP tables, and PostgreSQL searches ``pg_temp``
first for an unqualified table name unless the search path lists it.  A
trigger function that read the unqualified ``period`` found the attacker's
temp table of that name, so ``CREATE TEMP TABLE period (...)`` and an insert
into a closed, published month went through.  Since 0008 every function of
juzhang's schema runs with ``search_path = pg_catalog, <schema>, pg_temp``.

The tests find every table a function of the schema reads (from the function
bodies in ``pg_proc``), shadow each one in the attacking transaction — with
views over the real rows that hide what a check refuses on (closed months,
posted vouchers, grants, published disclosures), or with empty copies — and
prove that each refusal holds and nothing changed.  The attacker's own
statements name the schema (an unqualified one would write into its temp
table).  A last test checks that every function of the schema carries the
pinned search path, so a later ``CREATE OR REPLACE FUNCTION`` that drops it
fails the suite.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from juzhang import verify
from juzhang.closing import sign_disclosure
from juzhang.storage.engine import make_engine, upgrade
from juzhang.storage.schema import TABLES
from tests.books.test_backstop import OCT06, SEP05, Booked, Step, accepted, dump, refused
from tests.books.test_backstop import b as b  # the fixture the books are built with
from tests.conftest import (
    PG_ONLY,
    PG_URL,
    World,
    build_world,
    lock_period,
    pg_schema,
    postgresql_only,
)
from tests.storage.test_migrations import _downgrade, _post_cash

pytestmark = pytest.mark.pg
db_url = pytest.fixture(name="db_url", params=PG_ONLY)(postgresql_only)

# Tables a function reads, at the least: a control that the search of the bodies works.
KNOWN_READS = {
    "account",
    "account_balance",
    "custody_entry",
    "disclosure",
    "entity",
    "opening_balance",
    "period",
    "role_grant",
    "voucher",
    "voucher_line",
}


def _schema(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def read_tables(engine: Engine) -> list[str]:
    """The tables of juzhang's schema named in the body of any function of that schema."""
    with engine.connect() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        bodies = "\n".join(
            conn.execute(
                text(
                    "SELECT prosrc FROM pg_proc WHERE pronamespace = current_schema()::regnamespace"
                )
            ).scalars()
        )
    return sorted(t for t in tables if re.search(rf"\b{t}\b", bodies))


def _q(schema: str) -> str:
    return '"' + schema.replace('"', '""') + '"'


# What each shadow hides so that the check reading it lets the write through.
_HIDE = {
    "period": "WHERE status <> 'closed'",
    "role_grant": "WHERE false",
    "disclosure": "WHERE false",
}


def permissive_shadows(engine: Engine) -> list[Step]:
    """TEMP views named like every table a function reads, showing what permits the write."""
    s = _q(_schema(engine))
    steps: list[Step] = []
    for table in read_tables(engine):
        if table == "voucher":  # every voucher looks like a draft
            columns = ", ".join(
                "'draft'::text AS status" if c.name == "status" else c.name
                for c in TABLES["voucher"].columns
            )
            select = f"SELECT {columns} FROM {s}.voucher"
        else:
            select = f"SELECT * FROM {s}.{table} {_HIDE.get(table, '')}"
        steps.append((f"CREATE TEMP VIEW {table} AS {select}", {}))
    return steps


def empty_shadows(engine: Engine) -> list[Step]:
    """Empty TEMP tables like every table a function reads."""
    s = _q(_schema(engine))
    return [
        (f"CREATE TEMP TABLE {t} (LIKE {s}.{t}) ON COMMIT DROP", {}) for t in read_tables(engine)
    ]


def issue_shadow(engine: Engine) -> list[Step]:
    """The issue's own attack: one loose ``period`` table."""
    return [("CREATE TEMP TABLE period (entity_id int, period int, status text)", {})]


SHADOWS = {"permissive": permissive_shadows, "empty": empty_shadows, "issue": issue_shadow}


@pytest.fixture(params=sorted(SHADOWS))
def shadows(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def shut(b: Booked) -> Booked:
    """``b`` with September closed and its disclosure signed, so published."""
    b.world.run(lock_period, "C001", "rv", 202609)
    b.world.run(sign_disclosure, "C001", 202609, "sup", None, "同意", dt.date(2026, 10, 5))
    return b


def attack(b: Booked, shadows: str, *steps: Step, match: str) -> None:
    """Shadow the tables, then run ``steps`` with the schema named: refused, nothing changed."""
    schema = _schema(b.engine)
    attacker = b.engine.execution_options(schema_translate_map={None: schema})
    qualified = [
        (re.sub(r"^(UPDATE|INSERT INTO|DELETE FROM) (\w+)", rf"\1 {_q(schema)}.\2", s[0]), s[1])
        if isinstance(s, tuple)
        else s
        for s in steps
    ]
    refused(attacker, *SHADOWS[shadows](b.engine), *qualified, match=match)


def _where(b: Booked, **ids: int) -> dict[str, Any]:
    return {"e": b.eid, **ids}


def test_custody_entry_into_a_closed_published_month(shut: Booked, shadows: str) -> None:
    b = shut
    attack(b, shadows, b.entry(50, SEP05, "101", 100), match="juzhang: the period is closed")


@pytest.mark.parametrize("shadows", ["permissive", "empty"])
def test_voucher_inserted_and_posted_into_a_closed_month(shut: Booked, shadows: str) -> None:
    b = shut
    attack(
        b,
        shadows,
        b.voucher(50, SEP05),
        b.line(50, 1, "51301", "D", 100),
        b.line(50, 2, "501", "C", 100),
        b.review(50),
        b.post(50, 2),
        match="juzhang: the period is closed",
    )


@pytest.mark.parametrize("shadows", ["permissive", "empty"])
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE custody_entry SET amount_fen = -130 WHERE entity_id = :e AND id = :i",
        "DELETE FROM custody_entry WHERE entity_id = :e AND id = :i",
    ],
    ids=["update", "delete"],
)
def test_custody_entry_backing_a_posted_line_is_frozen(b: Booked, shadows: str, sql: str) -> None:
    attack(
        b,
        shadows,
        (sql, _where(b, i=b.e1)),
        match="juzhang: the custody entry backs a posted voucher",
    )


@pytest.mark.parametrize("shadows", ["permissive", "empty"])
def test_cashier_is_not_granted_the_bookkeeper_role(b: Booked, shadows: str) -> None:
    grant = (
        TABLES["role_grant"]
        .insert()
        .values(
            entity_id=b.eid,
            user_id=b.users["cash"],
            role="bookkeeper",
            granted_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        )
    )
    attack(b, shadows, grant, match="juzhang: 钱账分离")


@pytest.mark.parametrize("shadows", ["permissive", "empty"])
def test_a_published_month_is_not_reopened(shut: Booked, shadows: str) -> None:
    attack(
        shut,
        shadows,
        (
            "UPDATE period SET status = 'open' WHERE entity_id = :e AND period = 202609",
            _where(shut),
        ),
        match="juzhang: ",
    )


def test_the_shadows_cover_every_table_a_function_reads(b: Booked) -> None:
    assert set(read_tables(b.engine)) >= KNOWN_READS


def test_every_function_runs_with_the_pinned_search_path(engine: Engine) -> None:
    """Every function of the schema (a later CREATE OR REPLACE FUNCTION must pin it again)."""
    with engine.connect() as conn:
        pinned = conn.execute(
            text("SELECT format('search_path=pg_catalog, %I, pg_temp', current_schema())")
        ).scalar_one()
        rows = conn.execute(
            text(
                "SELECT p.proname, p.proconfig FROM pg_proc p"
                " WHERE p.pronamespace = current_schema()::regnamespace"
                " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass"
                " AND d.objid = p.oid AND d.deptype = 'e')"
            )
        ).all()
    assert len(rows) > 20
    assert [name for name, config in rows if pinned not in (config or [])] == []


def test_functions_find_the_tables_under_an_empty_search_path(shut: Booked) -> None:
    """pg_dump's restore sets ``search_path`` to empty: the triggers still find their tables.

    Before 0008 every write that fired a trigger failed there with
    ``relation "period" does not exist`` (a restore of ``--data-only`` stopped
    at its first table with a trigger).
    """
    b = shut
    qualified = b.engine.execution_options(schema_translate_map={None: _schema(b.engine)})
    empty: Step = ("SELECT pg_catalog.set_config('search_path', '', true)", {})
    refused(qualified, empty, b.entry(50, SEP05, "101", 100), match="the period is closed")
    accepted(qualified, empty, b.entry(50, OCT06, "101", 100))


def _pins(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT proname, proconfig FROM pg_proc"
                " WHERE pronamespace = current_schema()::regnamespace"
            )
        ).all()
    return {
        name: [c for c in config or [] if c.startswith("search_path=")] for name, config in rows
    }


def test_0008_goes_down_and_up_and_a_replaced_function_loses_its_pin() -> None:
    """In a schema of its own: down to 0007 unpins every function, up pins them again.

    ``CREATE OR REPLACE FUNCTION`` keeps only the settings it names: that is
    why :func:`test_every_function_runs_with_the_pinned_search_path` checks
    every function after all migrations.
    """
    with pg_schema("jz_pin") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            assert all(len(p) == 1 for p in _pins(engine).values())
            _downgrade(engine, "0007")
            assert all(p == [] for p in _pins(engine).values())
            with engine.connect() as conn:  # 0006's other setting stays
                config = conn.execute(
                    text("SELECT proconfig FROM pg_proc WHERE oid = 'jz_voucher_post'::regproc")
                ).scalar_one()
            assert config == ["enable_seqscan=off"]
            upgrade(engine)
            assert all(len(p) == 1 for p in _pins(engine).values())
            with engine.begin() as conn:
                source = conn.execute(
                    text("SELECT pg_get_functiondef('jz_refuse'::regproc)")
                ).scalar_one()
                conn.execute(text(re.sub(r"\n SET search_path TO [^\n]*", "", source)))
            assert _pins(engine)["jz_refuse"] == []
        finally:
            engine.dispose()


# --------------------------------------------------------------------------- dump and restore


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not on this machine")
    return path


def _client(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL client program against the test server; the output as text."""
    url = make_url(PG_URL)
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    conn = ["-h", url.host or "localhost", "-p", str(url.port or 5432)]
    conn += ["-U", url.username or "postgres", "-d", url.database or "postgres"]
    return subprocess.run(
        [_pg_tool(tool), *conn, *args], capture_output=True, text=True, env=env, timeout=120
    )


def _books_with_a_published_month(engine: Engine) -> str:
    """Post, close and sign September in a fresh schema; return the schema's name."""
    upgrade(engine)
    world = build_world(engine)
    _post_cash(world, 1)
    world.run(lock_period, "C001", "rv", 202609)
    world.run(sign_disclosure, "C001", 202609, "sup", None, "同意", dt.date(2026, 10, 5))
    assert world.run(verify.verify, "C001") == []
    return _schema(engine)


def _drop(schema: str, *, make_again: bool) -> None:
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {_q(schema)} CASCADE"))
        if make_again:
            conn.execute(text(f"CREATE SCHEMA {_q(schema)}"))
    admin.dispose()


def _dump(url: str, path: Path, *options: str) -> tuple[str, dict[str, list[Any]]]:
    """Dump the books of a fresh schema with ``options``; return the schema and its rows.

    A data-only dump leaves out Alembic's version: the schema it goes into has one.
    """
    engine = make_engine(url)
    schema = _books_with_a_published_month(engine)
    rows = dump(engine)
    engine.dispose()
    if "--data-only" in options:
        options += ("-T", f"{_q(schema)}.alembic_version")
    done = _client("pg_dump", "-n", _q(schema), "-f", str(path), *options)
    assert done.returncode == 0, done.stderr
    return schema, rows


def _restore(path: Path) -> subprocess.CompletedProcess[str]:
    """Run a plain-text dump through psql in one transaction, stopping at an error."""
    return _client("psql", "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-f", str(path))


@pytest.mark.parametrize("data_only", [False, True], ids=["whole", "data-only"])
def test_a_dump_restores_into_an_empty_schema(tmp_path: Path, data_only: bool) -> None:
    """``pg_dump`` of a schema restores to the same rows, the backstop in place, verify clean.

    Whole: schema and data, where the schema was (pg_dump makes the
    triggers after the data).  Data only, into a freshly upgraded schema:
    with ``--disable-triggers`` (see the next test).
    """
    _pg_tool("pg_dump")
    with pg_schema("jz_dump") as url:
        options = ["--data-only", "--disable-triggers"]
        schema, before = _dump(url, tmp_path / "dump.sql", *(options if data_only else []))
        _drop(schema, make_again=data_only)  # a whole dump makes the schema
        engine = make_engine(url)
        try:
            if data_only:
                upgrade(engine)
            restore = _restore(tmp_path / "dump.sql")
            assert restore.returncode == 0, restore.stderr
            assert dump(engine) == before
            assert World(engine).run(verify.verify, "C001") == []
            assert all(len(p) == 1 for p in _pins(engine).values())
            qualified = engine.execution_options(schema_translate_map={None: schema})
            with engine.connect() as conn:
                eid, uid = conn.execute(text("SELECT entity_id, user_id FROM role_grant")).first()
            entry = (
                TABLES["custody_entry"]
                .insert()
                .values(
                    entity_id=eid,
                    id=99,
                    entry_date=SEP05,
                    period=202609,
                    account_code="101",
                    amount_fen=100,
                    summary="raw",
                    counterparty="",
                    reference="",
                    source="manual",
                    recorded_by=uid,
                    recorded_at=dt.datetime(2026, 10, 6, tzinfo=dt.UTC),
                )
            )
            refused(qualified, *permissive_shadows(engine), entry, match="the period is closed")
        finally:
            engine.dispose()


def test_a_data_only_restore_with_triggers_is_refused_by_the_backstop(tmp_path: Path) -> None:
    """Without ``--disable-triggers`` the rules refuse the rows, whole, by their own message.

    Posted vouchers, closed months and running balances cannot arrive row by
    row past the backstop.  Before 0008 the restore broke instead on
    ``relation "voucher_line" does not exist`` inside the first trigger.
    """
    _pg_tool("pg_dump")
    with pg_schema("jz_dump") as url:
        schema, _rows = _dump(url, tmp_path / "dump.sql", "--data-only")
        _drop(schema, make_again=True)
        engine = make_engine(url)
        try:
            upgrade(engine)
            empty = dump(engine)
            restore = _restore(tmp_path / "dump.sql")
            assert restore.returncode != 0
            assert "juzhang: a voucher is inserted as a draft" in restore.stderr, restore.stderr
            assert dump(engine) == empty
        finally:
            engine.dispose()
