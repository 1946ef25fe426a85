"""``storage.access.update_many``: rows change in the order given, in few statements.

Posting relies on the order: SQLite's row trigger refuses number ``n`` before
``n - 1`` is posted.  On SQLite a statement changes its rows in rowid order,
so ``update_many`` puts only runs of ascending rowids into one statement.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from sqlalchemy import select

from juzhang import books, verify
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.storage.engine import transaction
from juzhang.storage.schema import Voucher
from tests.books.test_bulk_paths import counted
from tests.conftest import World


def _drafts(days: list[int]) -> list[VoucherDraft]:
    return [
        VoucherDraft(
            dt.date(2026, 9, day),
            (
                Line("112", f"应收 {i}", debit=D(i + 1)),
                Line("501", f"应收 {i}", credit=D(i + 1)),
            ),
        )
        for i, day in enumerate(days)
    ]


def _numbers(world: World) -> list[tuple[int, int]]:
    with transaction(world.engine, write=False) as s:
        assert verify.verify(s, "C001") == []
        return [
            (int(i), int(n))
            for i, n in s.execute(
                select(Voucher.id, Voucher.number)
                .where(Voucher.status == "posted")
                .order_by(Voucher.id)
            )
        ]


def test_vouchers_post_in_number_order_against_their_ids(world: World) -> None:
    # the later the id, the earlier the date: numbers run against the ids
    days = [28 - i // 12 for i in range(300)]
    ids = world.run(books.draft_vouchers, "C001", "bk", _drafts(days))
    world.run(books.review_bulk, "C001", "rv", "all")
    with counted() as posting:
        posted = world.run(books.post_reviewed, "C001", "bk", "all")
    assert posted.count == 300
    numbers = dict(_numbers(world))
    order = sorted(ids, key=lambda i: (days[ids.index(i)], i))
    assert [numbers[i] for i in order] == list(range(1, 301))
    assert posting[0] > 0


def test_vouchers_in_id_order_post_in_a_few_statements(world: World) -> None:
    ids = world.run(books.draft_vouchers, "C001", "bk", _drafts([1 + i // 25 for i in range(600)]))
    world.run(books.review_bulk, "C001", "rv", "all")
    with counted() as posting:
        world.run(books.post_reviewed, "C001", "bk", "all")
    assert [n for _i, n in _numbers(world)] == list(range(1, 601))
    assert sorted(ids) == ids
    # a statement per run of rows, not one per voucher (PostgreSQL: one per chunk)
    assert posting[0] < 60, posting[0]
