"""The audit log's hash chain (审计日志哈希链).

Every audit row carries the SHA-256 of the previous row's hash (the same
``entity_id``; the first row follows :data:`GENESIS_HASH`) and its own
content, as the posted vouchers do.  A row inserted, changed or removed
around the service breaks the chain at that row, and
:func:`juzhang.verify.verify` names it.  The hash is unkeyed: it shows
tampering by anyone who does not recompute the rest of the chain; anchors
kept outside the database (:mod:`juzhang.anchors`) cover the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

GENESIS_HASH = "0" * 64


def canonical_time(at: dt.datetime) -> str:
    """Return ``at`` in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffff`` (naive values are UTC).

    SQLite gives back the stored UTC time without its zone, PostgreSQL with it;
    both give this text.
    """
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def audit_hash(
    prev_hash: str,
    *,
    entity_id: int,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    detail: str,
) -> str:
    """Return the chain hash of one audit row (hex SHA-256)."""
    canonical = json.dumps(
        [prev_hash, entity_id, seq, canonical_time(at), actor, action, subject, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
