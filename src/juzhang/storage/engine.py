"""Engines, transactions and migrations (数据库连接与事务).

* SQLite connections always run with ``foreign_keys=ON``, WAL (for file
  databases; an in-memory one has no journal file), ``synchronous=FULL`` and a
  busy timeout; a write transaction starts with
  ``BEGIN IMMEDIATE`` so two writers never deadlock on a lock upgrade.
* PostgreSQL runs at READ COMMITTED; every write to an entity first takes a
  transaction-scoped advisory lock on that entity (:func:`lock_entity`), which
  serialises posting and id allocation per entity and nothing else.
* The schema is created only by the Alembic migrations (:func:`upgrade`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url

DEFAULT_URL = "sqlite:///juzhang.db"
_WRITE = "juzhang_write"


def default_url() -> str:
    """Return the database URL from ``JUZHANG_DB``, else ``sqlite:///juzhang.db``."""
    return os.environ.get("JUZHANG_DB") or DEFAULT_URL


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine with juzhang's connection settings.

    ``postgresql://`` URLs are given the psycopg 3 driver.  Extra keyword
    arguments go to :func:`sqlalchemy.create_engine`.
    """
    u = make_url(url or default_url())
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() == "sqlite":
        engine = create_engine(u, **kwargs)
        _configure_sqlite(engine)
        return engine
    if u.drivername == "postgresql+psycopg":
        # psycopg prepares a statement on its fifth run, and PostgreSQL then
        # may settle on a generic plan, made without the parameters' values
        # and on statistics that a bulk step has since outgrown: a close's
        # custody-link check was once caught 8 minutes into what was most
        # likely such a plan, where the values' own plan takes milliseconds.  The bulk paths
        # write with COPY or one statement per chunk, so planning each
        # statement afresh costs little; a caller may still set its own.
        args = dict(kwargs.pop("connect_args", None) or {})
        args.setdefault("prepare_threshold", None)
        kwargs["connect_args"] = args
    return create_engine(u, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def database_path(url: str | URL) -> Path | None:
    """Return the resolved path of the SQLite database file ``url`` names, else ``None``.

    ``None`` for PostgreSQL, an in-memory database or a ``file:`` URI.  Output
    paths are compared with it so that no ``--out`` overwrites the database.
    """
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        return None
    name = parsed.database
    if name in (None, "", ":memory:") or str(name).startswith("file:"):
        return None
    return Path(str(name)).resolve()


def database_files(url: str | URL) -> frozenset[Path]:
    """The database file of ``url`` and its journal, WAL and shared-memory files (may be empty)."""
    db = database_path(url)
    if db is None:
        return frozenset()
    return frozenset({db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))})


def is_sqlite(bind: Engine | Connection) -> bool:
    """Return whether ``bind`` talks to SQLite."""
    return bind.dialect.name == "sqlite"


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Connection]:
    """Open one database transaction on a :class:`~sqlalchemy.Connection`; commit on success.

    Any exception rolls everything back and propagates, so a command is all
    or nothing.  ``write=True`` starts SQLite transactions with
    ``BEGIN IMMEDIATE``.  juzhang works through SQLAlchemy Core alone: no ORM
    session, so no command pays for importing and configuring one.
    """
    with engine.connect() as conn:
        if write:
            conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


def lock_entity(session: Connection, entity_id: int) -> None:
    """Take the per-entity write lock for the rest of the transaction.

    PostgreSQL: ``pg_advisory_xact_lock``.  SQLite: the database is already
    locked by ``BEGIN IMMEDIATE``; nothing to do.
    """
    if not is_sqlite(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 7_400_000 + entity_id})


def alembic_config(connection: Connection | None = None) -> Any:
    """Return an Alembic ``Config`` pointing at the migrations shipped in the package.

    They are the repository's top-level ``migrations/`` folder, installed as
    ``juzhang.migrations``; in an editable install that is the folder itself.
    """
    from alembic.config import Config  # noqa: PLC0415 — start-up time (heavy, used here only)

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("juzhang.migrations")))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the newest)."""
    from alembic import command  # noqa: PLC0415 — start-up time (heavy, used here only)

    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        command.upgrade(alembic_config(conn), revision)
        conn.commit()
