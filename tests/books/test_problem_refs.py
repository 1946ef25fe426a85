"""Problems say, typed, what they are about (``Problem.ref``), so no caller reads the text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from juzhang import books
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import ClaimRowRef, Problem, ProblemsError, StatementLineRef, VoucherRef
from tests.conftest import World

DAY = dt.date(2026, 9, 3)


def test_the_reference_takes_no_part_in_comparing_problems() -> None:
    plain = Problem("a.csv:3", "bad", "row")
    about = plain.about(ClaimRowRef(None, 3))
    assert about == plain and about.ref == ClaimRowRef(None, 3) and plain.ref is None
    assert str(about) == "a.csv:3: bad"
    assert StatementLineRef(7, 3, "a.csv") != StatementLineRef(7, 4, "a.csv")


def test_draft_vouchers_name_the_draft_of_each_problem(world: World) -> None:
    good = VoucherDraft(
        DAY, (Line("515", "x", debit=Decimal("1")), Line("504", "x", credit=Decimal("1")))
    )
    bad = VoucherDraft(
        DAY, (Line("999", "x", debit=Decimal("1")), Line("401", "x", credit=Decimal("1")))
    )
    with pytest.raises(ProblemsError) as caught:
        world.run(books.draft_vouchers, world.entity, "bk", [good, bad, bad])
    assert {p.ref for p in caught.value.problems} == {VoucherRef(draft=2), VoucherRef(draft=3)}


def test_draft_pairs_name_the_draft_of_each_problem(world: World) -> None:
    drafts = [
        books.PairDraft(DAY, "101", "401", "", 0, 1),
        books.PairDraft(DAY, "101", "401", "利息", 0, 1),
    ]
    with pytest.raises(ProblemsError) as caught:
        world.run(books.draft_pairs, world.entity, "bk", drafts)
    refs = [p.ref for p in caught.value.problems]
    assert set(refs) == {VoucherRef(draft=1), VoucherRef(draft=2)}
    assert refs.count(VoucherRef(draft=1)) == 2  # no 摘要, a zero amount
