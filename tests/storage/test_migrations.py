"""Migrations and models agree (迁移与模型一致), and the migrations run both ways.

The schema is created only by the Alembic migrations; the SQLAlchemy models
in :mod:`juzhang.storage.schema` are what the code queries.  After upgrading,
Alembic's autogenerate comparison must find no difference between the two,
on SQLite and on PostgreSQL, and on SQLite the migrations must go down to an
empty database and up again.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, String, inspect, text

from juzhang import books, custody, verify
from juzhang.core.period import parse_period
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.engine import alembic_config, make_engine, upgrade
from juzhang.storage.schema import PG_PARTIAL_UNIQUES, Base, include_object
from tests.conftest import World, build_world, pg_schema


def _differences(
    engine: Engine, metadata: MetaData = Base.metadata, include: Any = None
) -> list[Any]:
    """Alembic's differences between ``metadata`` and the database (``include``: its filter)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": include or include_object(engine.dialect.name),
            },
        )
        return list(compare_metadata(context, metadata))


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            rows = conn.execute(
                text(
                    "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
                )
            )
        return {name for (name,) in rows}


def test_models_and_migrations_agree(engine: Engine) -> None:
    assert _differences(engine) == []


def test_the_tables_are_declared_with_evaluated_annotations() -> None:
    """juzhang.storage.schema has no ``from __future__ import annotations``.

    ``Base`` reads each column's type and nullability from its annotation.
    """
    classes = Base.__subclasses__()
    assert {c.__table__.name for c in classes} == set(Base.metadata.tables)
    for cls in classes:
        for name, hint in vars(cls).get("__annotations__", {}).items():
            assert not isinstance(hint, str), f"{cls.__name__}.{name}: {hint!r}"


def test_the_comparison_sees_a_difference(engine: Engine) -> None:
    """Control: a model with one more column and one index fewer does not agree."""
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["voucher"].append_column(Column("note", String(10)))
    line = changed.tables["voucher_line"]
    line.indexes.discard(next(i for i in line.indexes if i.name == "ix_voucher_line_custody"))
    kinds = sorted(d[0] for d in _differences(engine, changed))
    assert kinds == ["add_column", "remove_index"]


def test_every_table_is_migrated_with_its_triggers(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set(Base.metadata.tables)
    names = _triggers(engine)
    expected = {"jz_grant_separation"}
    if engine.dialect.name == "sqlite":
        expected |= {"jz_voucher_post", "jz_voucher_update", "jz_line_insert", "jz_custody_insert"}
        expected |= {"jz_voucher_month_insert", "jz_custody_entry_month_insert"}
    else:  # 0007: statement checks, and row checks with a WHEN condition
        expected |= {
            "jz_voucher_month",
            "jz_custody_entry_month",
            "jz_voucher_updated",
            "jz_voucher_inserted",
            "jz_line_inserted",
            "jz_custody_inserted",
            "jz_voucher_never_changed",
            "jz_voucher_draft",
        }
        assert not names & {"jz_voucher_post", "jz_line_insert", "jz_custody_insert"}
    assert expected <= names
    assert all(n.startswith("jz_") for n in names)


def _downgrade(engine: Engine, revision: str) -> None:
    with engine.connect() as conn:
        conn.execution_options(juzhang_write=True)
        command.downgrade(alembic_config(conn), revision)
        conn.commit()


def test_downgrade_to_base_and_upgrade_again_sqlite(tmp_path: Path) -> None:
    """SQLite only: PostgreSQL's schema is shared by the whole test run."""
    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    try:
        upgrade(engine)
        build_world(engine)  # the upgraded schema takes data
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        _downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert _triggers(engine) == set()
        upgrade(engine)
        assert _differences(engine) == []
        world: World = build_world(engine)
        assert world.entity == "C001"
        assert "jz_voucher_post" in _triggers(engine)
    finally:
        engine.dispose()


def test_pg_statement_checks_go_down_and_up_again() -> None:
    """PostgreSQL, in a schema of its own: 0007 goes down to 0006's row triggers and up again.

    Books written at the head survive the way down and up (0012 chains the
    audit log again), and the statement checks take the posting on.
    """
    with pg_schema("jz_down") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            # the books are written at the head (0012 added columns today's code writes)
            world = build_world(engine)
            _post_cash(world, 1)
            _downgrade(engine, "0006")
            names = _triggers(engine)
            assert {"jz_voucher_post", "jz_line_insert", "jz_custody_insert"} <= names
            assert not names & {"jz_voucher_updated", "jz_line_inserted", "jz_voucher_draft"}
            upgrade(engine)  # 0012 chains the audit rows again
            assert "jz_voucher_updated" in _triggers(engine)
            assert "jz_voucher_post" not in _triggers(engine)
            assert _differences(engine) == []
            _post_cash(world, 2)  # under 0007's statement checks, numbers running on
            assert world.run(verify.verify, "C001") == []
            tb = world.run(trial_balance, "C001", parse_period("2026-09"))
            assert {r.code: r.closing_balance for r in tb.rows}["101"] == Decimal("30.00")
        finally:
            engine.dispose()


def _storage_parameters(engine: Engine) -> dict[str, dict[str, str]]:
    """Each table's storage parameters (``fillfactor`` …) as PostgreSQL holds them."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, reloptions FROM pg_class WHERE relkind = 'r'"
                " AND reloptions IS NOT NULL AND relnamespace = current_schema()::regnamespace"
            )
        )
        return {name: dict(o.split("=", 1) for o in options) for name, options in rows}


def test_pg_storage_parameters_follow_the_models() -> None:
    """PostgreSQL: the tables' storage parameters are the models' ``postgresql_with``.

    Alembic's comparison does not look at them.  0022 gives statement lines
    half-empty pages (drafting updates them in place) and its downgrade
    takes that back.
    """
    declared = {
        t.name: {k: str(v) for k, v in t.dialect_options["postgresql"]["with"].items()}
        for t in Base.metadata.sorted_tables
        if t.dialect_options["postgresql"]["with"]
    }
    assert declared == {"statement_line": {"fillfactor": "50"}}
    with pg_schema("jz_storage") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            assert _storage_parameters(engine) == declared
            _downgrade(engine, "0021")
            assert _storage_parameters(engine) == {}
            upgrade(engine)
            assert _storage_parameters(engine) == declared
        finally:
            engine.dispose()


def _function(engine: Engine, name: str) -> tuple[str, bool, list[str]]:
    """Function ``name()``'s body, whether it is SECURITY DEFINER, and its settings."""
    with engine.connect() as conn:
        source, definer, config = conn.execute(
            text(
                "SELECT prosrc, prosecdef, proconfig FROM pg_proc"
                " WHERE oid = CAST(:f AS regprocedure)"
            ),
            {"f": f"{name}()"},
        ).one()
        return source, definer, config


def _posting_check(engine: Engine) -> tuple[str, bool, list[str]]:
    """``jz_voucher_updated``'s body, whether it is SECURITY DEFINER, and its settings."""
    return _function(engine, "jz_voucher_updated")


def test_pg_0024_goes_down_to_0007s_posting_checks_and_up_again() -> None:
    """PostgreSQL: 0024's one-pass posting checks go down to 0007's and up; both post and verify.

    Each way the function keeps 0018's SECURITY DEFINER and 0008's pinned
    search path, which ``CREATE OR REPLACE`` would drop.
    """
    with pg_schema("jz_0024") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            world = build_world(engine)
            source, definer, config = _posting_check(engine)
            assert "lines AS MATERIALIZED" in source
            assert definer and config[0].startswith("search_path=pg_catalog, ")
            _post_cash(world, 1)
            _downgrade(engine, "0023")
            source, definer, config = _posting_check(engine)
            assert "COUNT(*) AS posted, MAX(v.number) AS last" in source  # 0007's
            assert definer and config[0].startswith("search_path=pg_catalog, ")
            _post_cash(world, 2)
            upgrade(engine)
            assert "lines AS MATERIALIZED" in _posting_check(engine)[0]
            _post_cash(world, 3)
            assert world.run(verify.verify, "C001") == []
        finally:
            engine.dispose()


def _post_cash(world: World, day: int) -> None:
    """Record two cash receipts and post their vouchers in one bulk call."""
    entries = [
        custody.CustodyInput(dt.date(2026, 9, day), "101", Decimal(amount), "收款")
        for amount in ("10.00", "5.00")
    ]
    ids = world.run(custody.record_entries, "C001", "cash", entries)
    drafts = [
        VoucherDraft(
            e.date,
            (
                Line("101", e.summary, debit=e.amount, custody_entry=i),
                Line("501", e.summary, credit=e.amount),
            ),
            1,
        )
        for i, e in zip(ids, entries, strict=True)
    ]
    world.run(books.post_bulk, "C001", drafts, preparer="bk", reviewer="rv", poster="bk")


def _custody_indexes(engine: Engine) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes("custody_entry")}


def _line_check(engine: Engine) -> tuple[str, bool, list[str]]:
    """``jz_line_inserted``'s body, whether it is SECURITY DEFINER, and its settings."""
    return _function(engine, "jz_line_inserted")


def _post_matched(world: World, day: int) -> None:
    """Record a bank receipt and post a voucher whose bank line names no entry: it is
    matched by amount within the window's months (ix_custody_entry_period since 0025)."""
    amount = Decimal(f"{day}7.00")
    date = dt.date(2026, 9, day)
    world.run(custody.record_entry, "C001", "cash", date, "101", amount, "收款")
    draft = VoucherDraft(
        date, (Line("101", "收款", debit=amount), Line("501", "收款", credit=amount)), 1
    )
    world.run(books.post_bulk, "C001", [draft], preparer="bk", reviewer="rv", poster="bk")


def _roundtrip_0025(engine: Engine) -> None:
    """0025 at the head, down to 0024 and up again; books written and verified each way."""
    pg = engine.dialect.name != "sqlite"
    upgrade(engine)
    world = build_world(engine)
    assert "ix_custody_entry_amount" not in _custody_indexes(engine)
    if pg:
        assert "jz_statement_update" in _triggers(engine)
        source, definer, config = _line_check(engine)
        assert "bool_or(v.status = 'posted')" in source
        assert definer and config[0].startswith("search_path=pg_catalog, ")
    _post_matched(world, 1)
    _downgrade(engine, "0024")
    assert "ix_custody_entry_amount" in _custody_indexes(engine)
    if pg:
        assert "jz_statement_update" not in _triggers(engine)
        assert "jz_statement_change" in _triggers(engine)
        source, definer, config = _line_check(engine)
        assert "SELECT v.status FROM voucher v WHERE" in source  # 0007's
        assert definer and config[0].startswith("search_path=pg_catalog, ")
    _post_matched(world, 2)
    upgrade(engine)
    assert _differences(engine) == []
    _post_matched(world, 3)
    assert world.run(verify.verify, "C001") == []


def test_0025_goes_down_and_up_again_sqlite(tmp_path: Path) -> None:
    """SQLite: the amount index comes back on the way down and goes on the way up."""
    engine = make_engine(f"sqlite:///{tmp_path / 'r0025.db'}")
    try:
        _roundtrip_0025(engine)
    finally:
        engine.dispose()


def test_pg_0025_goes_down_and_up_again() -> None:
    """PostgreSQL: the amount index, 0002's statement-line trigger and 0007's line check
    come back on the way down, each function keeping 0018's SECURITY DEFINER and 0008's
    pinned search path, and go on the way up."""
    with pg_schema("jz_0025") as url:
        engine = make_engine(url)
        try:
            _roundtrip_0025(engine)
        finally:
            engine.dispose()


def _unique_keys(engine: Engine) -> dict[str, tuple[str, str]]:
    """The keys of :data:`PG_PARTIAL_UNIQUES`: name → (how the database holds it, its rows).

    ``("constraint", "all")`` for a table constraint, ``("index", "set")`` for a
    unique index over the rows where its last column is set.
    """
    found: dict[str, tuple[str, str]] = {}
    inspector = inspect(engine)
    for table in ("voucher", "statement_line"):
        for uc in inspector.get_unique_constraints(table):
            if uc["name"] in PG_PARTIAL_UNIQUES:
                found[str(uc["name"])] = ("constraint", "all")
        for ix in inspector.get_indexes(table):
            where = ix.get("dialect_options", {}).get("postgresql_where")
            if (
                ix["name"] in PG_PARTIAL_UNIQUES
                and ix["unique"]
                and not ix.get("duplicates_constraint")
            ):
                found[str(ix["name"])] = ("index", "set" if where else "all")
    return found


def _line_custody_where(engine: Engine) -> str | None:
    (ix,) = [
        i
        for i in inspect(engine).get_indexes("voucher_line")
        if i["name"] == "ix_voucher_line_custody"
    ]
    where = ix.get("dialect_options", {}).get("postgresql_where")
    return None if where is None else str(where).strip("()")


def test_sqlite_keeps_the_partial_keys_as_table_constraints(tmp_path: Path) -> None:
    """SQLite: the keys the comparison leaves out (include_object) are its table constraints."""
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    try:
        upgrade(engine)
        assert _unique_keys(engine) == {n: ("constraint", "all") for n in PG_PARTIAL_UNIQUES}
    finally:
        engine.dispose()


def test_pg_0026_keys_hold_the_rows_where_set_and_go_down_and_up() -> None:
    """PostgreSQL: 0026's partial unique indexes, down to 0025's constraints and up again."""
    partial = {n: ("index", "set") for n in PG_PARTIAL_UNIQUES}
    with pg_schema("jz_0026") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            world = build_world(engine)
            assert _unique_keys(engine) == partial
            assert _line_custody_where(engine) == "custody_entry_id IS NOT NULL"
            _post_matched(world, 1)
            _downgrade(engine, "0025")
            assert _unique_keys(engine) == {n: ("constraint", "all") for n in PG_PARTIAL_UNIQUES}
            assert _line_custody_where(engine) is None
            _post_matched(world, 2)
            upgrade(engine)
            assert _unique_keys(engine) == partial
            assert _differences(engine) == []
            _post_matched(world, 3)
            assert world.run(verify.verify, "C001") == []
        finally:
            engine.dispose()
