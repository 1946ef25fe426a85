"""The audit chain's hashes: the bulk form gives exactly the one-row form's hashes."""

from __future__ import annotations

import datetime as dt
import hashlib

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


def test_voucher_hash_hashes_the_canonical_json() -> None:
    """The voucher chain's text is pinned: json.dumps with these options, sorted lines."""
    import hashlib
    import json

    from juzhang.core.voucher import voucher_hash

    lines = [(2, "501", "C", 1234, "应收 “甲”\n", None), (1, "10201", "D", 1234, "应收", 7)]
    canonical = json.dumps(
        {
            "entity": "C001",
            "seq": 3,
            "period": 202609,
            "number": 2,
            "date": "2026-09-05",
            "kind": "normal",
            "reverses": None,
            "lines": [list(x) for x in sorted(lines)],
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    )
    expected = hashlib.sha256((GENESIS_HASH + canonical).encode("utf-8")).hexdigest()
    got = voucher_hash(
        GENESIS_HASH,
        entity="C001",
        seq=3,
        period=202609,
        number=2,
        date=dt.date(2026, 9, 5),
        kind="normal",
        reverses=None,
        lines=lines,
    )
    assert got == expected


def test_voucher_hash_text_is_the_encoders_for_every_kind_of_value() -> None:
    """The text written directly is json.dumps' for awkward strings; other types fall back."""
    import json
    import random
    from decimal import Decimal

    from juzhang.core.voucher import _direct, voucher_hash

    def encoder(**v: object) -> str:
        v["date"] = v["date"].isoformat()  # type: ignore[attr-defined]
        v["lines"] = [list(x) for x in sorted(v["lines"])]  # type: ignore[call-overload]
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    pick = random.Random(7)
    texts = ["", "应收", 'a "quoted" \\ back', "tab\tnew\nline\x00\x1f", "🙂", "\u2028\u2029", "é"]
    for _ in range(300):
        lines = [
            (
                n,
                pick.choice(texts),
                pick.choice("DC"),
                pick.randint(-(10**15), 10**15),
                pick.choice(texts),
                pick.choice([None, pick.randint(1, 10**9)]),
            )
            for n in range(1, pick.randint(1, 6))
        ]
        value = {
            "entity": pick.choice(texts),
            "seq": pick.randint(1, 10**9),
            "period": 202609,
            "number": pick.randint(1, 10**6),
            "date": dt.date(2026, 9, pick.randint(1, 30)),
            "kind": pick.choice(["normal", "reversal", 'x"y']),
            "reverses": pick.choice([None, pick.randint(1, 10**6)]),
        }
        assert _direct(**value, lines=sorted(lines)) == encoder(**value, lines=lines)
    base = {
        "entity": "C001",
        "seq": 1,
        "period": 202609,
        "number": 1,
        "date": dt.date(2026, 9, 1),
        "kind": "normal",
        "reverses": None,
    }
    line = (1, "10201", "D", 100, "摘要", None)
    for other in ({"number": Decimal(1)}, {"date": dt.datetime(2026, 9, 1, 12)}):
        assert _direct(**(base | {"lines": [line]} | other)) is None  # type: ignore[arg-type]
    # values of other types go through the encoder itself: the same hash as json.dumps
    for other in (
        {"seq": True},
        {"lines": [[*line]]},
        {"lines": [(*line[:3], True, *line[4:])]},
    ):
        value = base | {"lines": [line]} | other
        assert _direct(**value) is None, other  # type: ignore[arg-type]
        expected = hashlib.sha256((GENESIS_HASH + encoder(**value)).encode("utf-8")).hexdigest()
        assert voucher_hash(GENESIS_HASH, **value) == expected, other  # type: ignore[arg-type]


def test_audit_detail_text_is_json_dumps() -> None:
    """Flat details are written directly; the text must be json.dumps' text, every kind."""
    import json
    from decimal import Decimal

    from juzhang.storage.access import detail_text

    def dumps(detail: object) -> str:
        return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)

    cases: list[dict[str, object] | None] = [
        None,
        {},
        {"entry": 7, "recorded": True},
        {"recorded": False, "entry": -12345678901234567890},
        {"b": None, "a": "", "c": '张三 “甲”\n\t\\"\x00\x1f\u2028 é 😀'},
        {"vouchers": 0, "lines": True, "z": "x"},
        {'key "q"': 1, "键": "值"},
        {"amount": Decimal("12.30")},  # default=str
        {"nested": {"b": 1, "a": [1, "x", None]}},
        {"ratio": 1.5},
        {"flag": 1, "other": True},
        {3: "int key"},  # type: ignore[dict-item]
    ]
    for detail in cases:
        expected = dumps(detail or {})
        assert detail_text(detail) == expected, detail  # type: ignore[arg-type]
