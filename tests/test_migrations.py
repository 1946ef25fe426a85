"""Migrations and models agree (迁移与模型一致), and the migrations run both ways.

The schema is created only by the Alembic migrations; the SQLAlchemy models
in :mod:`juzhang.storage.schema` are what the code queries.  After upgrading,
Alembic's autogenerate comparison must find no difference between the two,
on SQLite and on PostgreSQL, and on SQLite the migrations must go down to an
empty database and up again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, String, inspect, text

from juzhang.storage.engine import alembic_config, make_engine, upgrade
from juzhang.storage.schema import Base

from .conftest import World, build_world


def _differences(engine: Engine, metadata: MetaData = Base.metadata) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
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
    for expected in (
        "jz_voucher_post",
        "jz_voucher_update",
        "jz_line_insert",
        "jz_grant_separation",
        "jz_custody_insert",
    ):
        assert expected in names
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
