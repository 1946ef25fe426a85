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
from collections.abc import Iterable, Iterator
from json.encoder import encode_basestring

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


def audit_hashes(
    prev_hash: str,
    *,
    entity_id: int,
    first_seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    items: Iterable[tuple[str, str]],
) -> Iterator[str]:
    """Yield the chain hashes of consecutive audit rows of one action, as :func:`audit_hash`.

    ``items`` are ``(subject, detail)`` of the rows numbered from
    ``first_seq``, each chained to the one before (the first to
    ``prev_hash``).  The same text :func:`audit_hash` hashes: ``json.dumps``
    of a list with ``","`` between items is the items' own JSON joined by
    ``","`` in brackets (an int is its ``repr``, a text
    :func:`json.encoder.encode_basestring`, which ``ensure_ascii=False``
    uses), so the parts every row shares are encoded once.
    """
    shared = ",".join(encode_basestring(t) for t in (canonical_time(at), actor, action))
    prev = prev_hash
    for seq, (subject, detail) in enumerate(items, start=first_seq):
        canonical = (
            f"[{encode_basestring(prev)},{int(entity_id)!r},{int(seq)!r},{shared},"
            f"{encode_basestring(subject)},{encode_basestring(detail)}]"
        )
        prev = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        yield prev
