"""Backup and restore of a SQLite database (备份与恢复).

A SQLite database in use keeps its latest committed transactions in the
write-ahead log (``juzhang.db-wal``) until a checkpoint copies them into the
main file, so copying the file alone (``cp juzhang.db``) silently loses them.
:func:`backup_sqlite` uses SQLite's online backup API
(:meth:`sqlite3.Connection.backup`), which reads a consistent snapshot of
the database *with* its log while others go on writing, into a single file
that needs no log; :func:`restore_sqlite` copies such a file back the same way.

PostgreSQL is backed up with its own tools (``pg_dump`` / ``pg_restore`` of
the whole schema); :data:`PG_ADVICE` says how.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from juzhang.errors import ValidationError

__all__ = ["PG_ADVICE", "backup_sqlite", "restore_sqlite", "sqlite_path"]

PG_ADVICE = """PostgreSQL 数据库请用 pg_dump / pg_restore 备份整个 schema（结构和数据一起）：
PostgreSQL: back up the whole schema with pg_dump / pg_restore (schema and data, never
--data-only: a data-only restore runs into the triggers and loses tables):

  pg_dump --format=custom --schema=SCHEMA --file=juzhang.dump "postgresql://USER@HOST/DB"
  createdb NEWDB && pg_restore --dbname="postgresql://USER@HOST/NEWDB" juzhang.dump
  juzhang --db postgresql+psycopg://USER@HOST/NEWDB verify
"""


_EXISTS = "文件已存在，用 --force 覆盖 / the file exists: use --force to replace it"


def sqlite_path(url: str) -> Path | None:
    """Return the file of a ``sqlite:///`` URL, or ``None`` for another database.

    Raises:
        ValidationError: an in-memory SQLite database (nothing to back up).
    """
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    if not u.database or u.database == ":memory:":
        raise ValidationError("数据库 database", "内存数据库无法备份 / an in-memory database")
    return Path(u.database)


def _copy(source: Path, target: Path) -> None:
    """Copy ``source`` into a new file ``target`` with the online backup API, atomically."""
    tmp = target.with_name(f".{target.name}.tmp-backup")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            dst.commit()
        finally:
            dst.close()
    except sqlite3.Error:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    tmp.replace(target)


def backup_sqlite(database: Path, out: Path, *, force: bool = False) -> None:
    """Write a consistent copy of ``database`` (with its WAL) to ``out``.

    Raises:
        ValidationError: ``database`` is missing, or ``out`` is the database itself.
        ValidationError: ``out`` exists and ``force`` is not set.
    """
    if not database.is_file():
        raise ValidationError(f"数据库 database {database}", "文件不存在 / no such file")
    own = {p.resolve() for p in (database, Path(f"{database}-wal"), Path(f"{database}-shm"))}
    if out.resolve() in own:
        raise ValidationError(
            f"备份文件 backup {out}", "不能覆盖数据库本身 / would overwrite the database itself"
        )
    if out.exists() and not force:
        raise ValidationError(f"备份文件 backup {out}", _EXISTS)
    if not out.parent.is_dir():
        raise ValidationError(f"备份文件 backup {out}", "目录不存在 / no such folder")
    _copy(database, out)


def restore_sqlite(backup: Path, database: Path, *, force: bool = False) -> None:
    """Copy the backup ``backup`` into ``database`` (refused when it exists, unless ``force``).

    The old database's log files are removed with it, so nothing of it survives.

    Raises:
        ValidationError: the backup is missing, not a SQLite database, or the database itself.
        ValidationError: ``database`` exists and ``force`` is not set.
    """
    if not backup.is_file():
        raise ValidationError(f"备份文件 backup {backup}", "文件不存在 / no such file")
    if backup.resolve() == database.resolve():
        raise ValidationError(
            f"备份文件 backup {backup}", "就是数据库本身 / is the database itself"
        )
    try:
        probe = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        raise ValidationError(
            f"备份文件 backup {backup}", f"不是 SQLite 数据库 / not a SQLite database ({exc})"
        ) from exc
    if database.exists() and not force:
        raise ValidationError(f"数据库 database {database}", _EXISTS)
    staged = database.with_name(f".{database.name}.tmp-restore")
    _copy(backup, staged)
    for log in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        log.unlink(missing_ok=True)
    staged.replace(database)
