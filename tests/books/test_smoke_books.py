"""A first worked story: one voucher through draft, review, post, reversal and correction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from juzhang import books, custody, verify
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.reports.trial_balance import trial_balance
from tests.conftest import World


def test_voucher_lifecycle(world: World) -> None:
    world.run(books.add_account, "C001", "51301", "办公费")
    world.run(
        books.set_opening, "C001", "bk", {"101": D("500"), "102": D("10000"), "301": D("-10500")}
    )
    world.run(
        custody.record_entry, "C001", "cash", dt.date(2026, 9, 5), "101", D("-120.00"), "购办公用品"
    )
    draft = VoucherDraft(
        dt.date(2026, 9, 5),
        (
            Line("51301", "购办公用品", debit=D("120.00")),
            Line("101", "购办公用品", credit=D("120.00")),
        ),
        2,
    )
    vid = world.run(books.draft_voucher, "C001", "bk", draft)
    world.run(books.review_vouchers, "C001", "rv", [vid])
    assert world.run(books.post_vouchers, "C001", "bk", [vid]) == [1]
    tb = world.run(trial_balance, "C001", 202609)
    assert tb.balanced
    assert tb.row("101").closing_balance == D("380.00")
    assert tb.row("513").debit == D("120.00")
    assert world.run(verify.verify, "C001") == []
