"""Alembic environment for juzhang.

The engine (or connection) comes from ``config.attributes["connection"]`` when
juzhang runs the migrations itself (:func:`juzhang.storage.engine.upgrade`),
else from the ``sqlalchemy.url`` option / ``JUZHANG_DB`` for the plain
``alembic`` command.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from juzhang.storage.engine import make_engine
from juzhang.storage.schema import Base, include_object

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "JUZHANG_DB", "sqlite:///juzhang.db"
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("juzhang migrations run online only")
run_migrations_online()
