"""Import batches (导入批次): the record of one file brought into an entity's books.

Every import writes one ``import_batch`` row — the kind (``bank``, ``claims``,
``beancount``), the file's name and SHA-256, the bank account and layout or
rules it was read with, who imported it and when, rows read and rows new —
and the rows it stored name their batch.  The same content (same SHA-256,
kind and, where given, profile) found again means the file was imported
before (:func:`earlier_batch`).  This module is the one place that writes
and finds those rows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from juzhang.errors import Problem, ProblemsError
from juzhang.storage.access import EntityInfo, next_id, now
from juzhang.storage.schema import ImportBatch

__all__ = ["earlier_batch", "file_sha256", "record_batch", "set_batch_counts"]


def file_sha256(path: Path, name: str) -> str:
    """Return the SHA-256 of a file's content (hex), read in 1 MiB blocks.

    Raises :class:`~juzhang.errors.ProblemsError` naming ``name`` when the
    file is missing or cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        raise ProblemsError(
            f"无法读取 / cannot read {name}", [Problem(name, "文件不存在 / file not found", "file")]
        ) from None
    except OSError as exc:
        raise ProblemsError(
            f"无法读取 / cannot read {name}",
            [Problem(name, f"无法打开文件 / cannot open the file: {exc.strerror or exc}", "file")],
        ) from None
    return digest.hexdigest()


def earlier_batch(
    session: Connection, ent: EntityInfo, kind: str, sha: str, profile: str | None = None
) -> Row[Any] | None:
    """Return the first batch of ``kind`` with this content (and ``profile``, if given), if any."""
    q = select(ImportBatch).where(
        ImportBatch.entity_id == ent.id, ImportBatch.kind == kind, ImportBatch.file_sha256 == sha
    )
    if profile is not None:
        q = q.where(ImportBatch.profile == profile)
    return session.execute(q.order_by(ImportBatch.id).limit(1)).first()


def record_batch(
    session: Connection,
    ent: EntityInfo,
    uid: int,
    *,
    kind: str,
    file_name: str,
    sha: str,
    profile: str,
    account: str | None = None,
    rows_read: int = 0,
    rows_new: int = 0,
) -> int:
    """Write the ``import_batch`` row of a file imported by user ``uid`` now; return its id."""
    batch_id = next_id(session, ImportBatch.__table__, ent.id)
    session.execute(
        insert(ImportBatch).values(
            entity_id=ent.id,
            id=batch_id,
            kind=kind,
            file_name=file_name,
            file_sha256=sha,
            account_code=account,
            profile=profile,
            imported_by=uid,
            imported_at=now(),
            rows_read=rows_read,
            rows_new=rows_new,
        )
    )
    return batch_id


def set_batch_counts(
    session: Connection, ent: EntityInfo, batch_id: int, rows_read: int, rows_new: int
) -> None:
    """Record the rows read and stored of a batch written before its file was read to the end."""
    session.execute(
        update(ImportBatch)
        .where(ImportBatch.entity_id == ent.id, ImportBatch.id == batch_id)
        .values(rows_read=rows_read, rows_new=rows_new)
    )
