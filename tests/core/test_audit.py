"""The audit chain's hashes: the bulk form gives exactly the one-row form's hashes."""

from __future__ import annotations

import datetime as dt

from juzhang.core.audit import GENESIS_HASH, audit_hash, audit_hashes

AT = dt.datetime(2027, 6, 30, 8, 15, 1, 250, tzinfo=dt.UTC)

ITEMS = [
    ("line #1", '{"entry": 7, "recorded": true}'),
    ('#2 引号"和\\反斜杠', '{"summary": "收到\\n报销款"}'),
    ("控制\x01字符\u202e", "{}"),
    ("tab\tand\nnewline", '{"x": "\u2028\u00e9\U0001f600"}'),
    ("", ""),
]


def test_audit_hashes_chain_as_audit_hash_does() -> None:
    expected = []
    prev = GENESIS_HASH
    for i, (subject, detail) in enumerate(ITEMS):
        prev = audit_hash(
            prev,
            entity_id=12,
            seq=41 + i,
            at=AT,
            actor="李会计",
            action="statement.accept",
            subject=subject,
            detail=detail,
        )
        expected.append(prev)
    got = audit_hashes(
        GENESIS_HASH,
        entity_id=12,
        first_seq=41,
        at=AT,
        actor="李会计",
        action="statement.accept",
        items=ITEMS,
    )
    assert list(got) == expected


def test_audit_hashes_depend_on_every_part() -> None:
    base = {
        "entity_id": 1,
        "first_seq": 1,
        "at": AT,
        "actor": "a",
        "action": "x",
        "items": [("s", "{}")],
    }
    first = list(audit_hashes(GENESIS_HASH, **base))  # type: ignore[arg-type]
    for key, other in (
        ("entity_id", 2),
        ("first_seq", 2),
        ("at", AT + dt.timedelta(microseconds=1)),
        ("actor", "b"),
        ("action", "y"),
        ("items", [("s", "{ }")]),
    ):
        assert list(audit_hashes(GENESIS_HASH, **(base | {key: other}))) != first, key  # type: ignore[arg-type]
