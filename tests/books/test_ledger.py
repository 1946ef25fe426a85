"""The ledger service (账簿服务) unit by unit, on SQLite and PostgreSQL.

Drafting and its validation, the preparer's rights, numbering, custody links,
reversal and correction, bulk posting, opening balances, periods, detail
accounts, the hash chain, and that a refused command leaves every table as
it was.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from juzhang import books, custody, verify
from juzhang.core.voucher import GENESIS_HASH, Line, VoucherDraft
from juzhang.errors import (
    ConflictError,
    JuzhangError,
    NotFoundError,
    PeriodClosedError,
    ProblemsError,
    SegregationOfDutiesError,
    StateError,
    UnbalancedError,
    ValidationError,
)
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.access import get_entity, insert_many
from juzhang.storage.engine import transaction
from juzhang.storage.schema import AuditLog, VoucherLine
from tests.conftest import World, dump, lock_period

SEP = 202609
OCT = 202610


def day(month: int, d: int) -> dt.date:
    return dt.date(2026, month, d)



def simple(
    date: dt.date,
    amount: str = "10.00",
    debit: str = "112",
    credit: str = "501",
    summary: str = "往来",
) -> VoucherDraft:
    """A two-line voucher on non-custody accounts."""
    return VoucherDraft(
        date, (Line(debit, summary, debit=D(amount)), Line(credit, summary, credit=D(amount)))
    )


def cash_out(date: dt.date, amount: str, entry: int | None = None) -> VoucherDraft:
    """Pay ``amount`` in cash for office supplies (51301 / 101)."""
    return VoucherDraft(
        date,
        (
            Line("51301", "购办公用品", debit=D(amount)),
            Line("101", "购办公用品", credit=D(amount), custody_entry=entry),
        ),
        1,
    )


def post(world: World, *ids: int) -> list[int]:
    """Review (rv) and post (bk) vouchers; return the numbers given."""
    world.run(books.review_vouchers, "C001", "rv", list(ids))
    return world.run(books.post_vouchers, "C001", "bk", list(ids))


def messages(err: ProblemsError) -> list[str]:
    return [str(p) for p in err.problems]


@pytest.fixture
def w(world: World) -> World:
    """C001 with 51301 办公费 and 51302 (inactive), balanced opening balances."""
    world.run(books.add_account, "C001", "51301", "办公费")
    world.run(books.add_account, "C001", "51302", "差旅费")
    world.run(books.deactivate_account, "C001", "51302")
    world.run(
        books.set_opening, "C001", "bk", {"101": D("500"), "102": D("10000"), "301": D("-10500")}
    )
    return world


def refused(
    world: World, exc: type[JuzhangError], fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> JuzhangError:
    """Call a service that must refuse; the database must be unchanged afterwards."""
    before = dump(world.engine)
    with pytest.raises(exc) as info:
        world.run(fn, *args, **kwargs)
    assert dump(world.engine) == before
    return info.value


# --------------------------------------------------------------------------- drafting


def test_draft_lists_every_problem_at_once(w: World) -> None:
    w.run(lock_period, "C001", "rv", SEP)
    drafts = [
        simple(day(10, 1), debit="999"),  # 1 unknown account
        simple(day(10, 1), debit="513"),  # 2 513 has detail accounts
        simple(day(10, 1), debit="51302"),  # 3 inactive
        VoucherDraft(  # 4 unbalanced by 0.30
            day(10, 1),
            (Line("112", "x", debit=D("10.30")), Line("501", "x", credit=D("10.00"))),
        ),
        VoucherDraft(  # 5 zero amount and missing summary
            day(10, 1),
            (Line("112", "x", debit=D("0")), Line("501", " ", credit=D("0"))),
        ),
        simple(day(8, 31)),  # 6 before the books start
        simple(day(9, 30)),  # 7 closed period
        simple(day(10, 2)),  # 8 fine
    ]
    err = refused(w, ProblemsError, books.draft_vouchers, "C001", "bk", drafts)
    assert isinstance(err, ProblemsError)
    text = messages(err)
    expected = {
        "凭证1": "no account 999",
        "凭证2": "513 has detail accounts",
        "凭证3": "51302 is inactive",
        "凭证4": "differ by 0.30",
        "凭证5": "amount cannot be zero",
        "凭证6": "before the books start",
        "凭证7": "the period is closed",
    }
    for where, what in expected.items():
        assert any(where in t and what in t for t in text), (where, what, text)
    assert any("凭证5" in t and "summary" in t for t in text)
    assert sum("凭证5" in t and "zero" in t for t in text) == 2
    assert not any("凭证8" in t for t in text)
    assert "借贷不平，相差 0.30" in "\n".join(text)


def test_draft_imbalance_listed_with_a_missing_summary(w: World) -> None:
    draft = VoucherDraft(
        day(10, 1), (Line("112", "", debit=D("10.30")), Line("501", "x", credit=D("10.00")))
    )
    err = refused(w, ProblemsError, books.draft_voucher, "C001", "bk", draft)
    assert isinstance(err, ProblemsError)
    text = "\n".join(messages(err))
    assert "summary" in text and "0.30" in text


def test_draft_line_shape_problems(w: World) -> None:
    both = Line("112", "x", debit=D("1"), credit=D("1"))
    neither = Line("501", "x")
    err = refused(
        w,
        ProblemsError,
        books.draft_voucher,
        "C001",
        "bk",
        VoucherDraft(day(10, 1), (both, neither), -1),
    )
    assert isinstance(err, ProblemsError)
    text = "\n".join(messages(err))
    assert text.count("exactly one of debit and credit") == 2
    assert "attachments cannot be negative" in text
    one_line = VoucherDraft(day(10, 1), (Line("112", "x", debit=D("1")),))
    err = refused(w, ProblemsError, books.draft_voucher, "C001", "bk", one_line)
    assert "at least two lines" in str(err)


def test_draft_is_stored_as_given(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(10, 3), "12.34"))
    v = w.run(books.get_voucher, "C001", vid)
    assert (v.status, v.number, v.period, v.prepared_by, v.reviewed_by) == (
        "draft",
        None,
        OCT,
        "bk",
        None,
    )
    assert [(ln.account, ln.side, ln.amount) for ln in v.lines] == [
        ("112", "D", D("12.34")),
        ("501", "C", D("12.34")),
    ]
    assert v.total == D("12.34") and v.label == f"草稿#{vid}"


# --------------------------------------------------------------------------- the preparer's rights


def test_edit_and_delete_by_preparer_only(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(10, 3)))
    err = refused(
        w, SegregationOfDutiesError, books.edit_voucher, "C001", "bk2", vid, simple(day(10, 4))
    )
    assert "preparer" in str(err)
    refused(w, SegregationOfDutiesError, books.delete_voucher, "C001", "bk2", vid)
    w.run(books.edit_voucher, "C001", "bk", vid, simple(day(10, 4), "99.00"))
    v = w.run(books.get_voucher, "C001", vid)
    assert v.date == day(10, 4) and v.total == D("99.00")
    w.run(books.delete_voucher, "C001", "bk", vid)
    with pytest.raises(NotFoundError):
        w.run(books.get_voucher, "C001", vid)


def test_editing_reviewed_voucher_sends_it_back_to_draft(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(10, 3)))
    w.run(books.review_vouchers, "C001", "rv", [vid])
    assert w.run(books.get_voucher, "C001", vid).reviewed_by == "rv"
    w.run(books.edit_voucher, "C001", "bk", vid, simple(day(10, 3), "11.00"))
    v = w.run(books.get_voucher, "C001", vid)
    assert (v.status, v.reviewed_by) == ("draft", None)
    refused(w, StateError, books.post_vouchers, "C001", "bk", [vid])
    with w.engine.connect() as conn:
        detail = conn.execute(
            select(AuditLog.detail).where(AuditLog.action == "voucher.edit")
        ).scalar_one()
    assert json.loads(detail) == {"was": "reviewed"}


def test_invalid_edit_changes_nothing(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(10, 3)))
    w.run(books.review_vouchers, "C001", "rv", [vid])
    refused(w, ProblemsError, books.edit_voucher, "C001", "bk", vid, simple(day(10, 3), debit="9"))
    assert w.run(books.get_voucher, "C001", vid).status == "reviewed"


def test_posted_voucher_cannot_be_edited_deleted_or_reviewed(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(10, 3)))
    post(w, vid)
    refused(w, StateError, books.edit_voucher, "C001", "bk", vid, simple(day(10, 3)))
    refused(w, StateError, books.delete_voucher, "C001", "bk", vid)
    refused(w, StateError, books.review_vouchers, "C001", "rv", [vid])
    refused(w, StateError, books.unreview_voucher, "C001", "rv", vid)
    refused(w, StateError, books.post_vouchers, "C001", "bk", [vid])


def test_unreview_sends_back_to_draft(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(10, 3)))
    refused(w, StateError, books.unreview_voucher, "C001", "rv", vid)
    w.run(books.review_vouchers, "C001", "rv", [vid])
    w.run(books.unreview_voucher, "C001", "rv", vid)
    assert w.run(books.get_voucher, "C001", vid).status == "draft"


# --------------------------------------------------------------------------- numbering


def test_numbers_run_per_month_and_restart(w: World) -> None:
    dates = [day(10, 9), day(9, 20), day(10, 1), day(9, 3), day(9, 20), day(10, 30)]
    ids = w.run(books.draft_vouchers, "C001", "bk", [simple(d) for d in dates])
    # post in two batches, out of date order
    post(w, ids[0], ids[1], ids[2])
    post(w, ids[3], ids[4], ids[5])
    got = {vid: w.run(books.get_voucher, "C001", vid) for vid in ids}
    # batch 1: Sep 20 -> 1; Oct 1 -> 1, Oct 9 -> 2.  batch 2: Sep 3 -> 2, Sep 20 -> 3; Oct 30 -> 3
    assert [got[i].number for i in ids] == [2, 1, 1, 2, 3, 3]
    for period in (SEP, OCT):
        numbers = [v.number for v in w.run(books.list_vouchers, "C001", period=period)]
        assert numbers == [1, 2, 3]
    assert got[ids[1]].label == "记-0001"
    assert w.run(books.find_voucher, "C001", OCT, 2).id == ids[0]
    with pytest.raises(NotFoundError):
        w.run(books.find_voucher, "C001", OCT, 4)
    assert w.run(verify.verify, "C001") == []


def test_numbers_in_one_batch_follow_date_then_id(w: World) -> None:
    ids = w.run(
        books.draft_vouchers,
        "C001",
        "bk",
        [simple(day(9, 9)), simple(day(9, 2)), simple(day(9, 9)), simple(day(9, 1))],
    )
    numbers = post(w, *ids)
    assert numbers == [1, 2, 3, 4]
    assert [w.run(books.get_voucher, "C001", i).number for i in ids] == [3, 2, 4, 1]


def test_an_id_listed_twice_is_reviewed_and_posted_once(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 5)))
    w.run(books.review_vouchers, "C001", "rv", [vid, vid])
    assert w.run(books.post_vouchers, "C001", "bk", [vid, vid]) == [1]
    assert w.run(books.chain_head, "C001")[0] == 1
    assert w.run(verify.verify, "C001") == []


# --------------------------------------------------------------------------- custody links


def test_custody_line_links_the_nearest_entry(w: World) -> None:
    far = w.run(custody.record_entry, "C001", "cash", day(9, 1), "101", D("-120"), "办公用品")
    near = w.run(custody.record_entry, "C001", "cash", day(9, 8), "101", D("-120"), "办公用品")
    w.run(custody.record_entry, "C001", "cash", day(9, 6), "101", D("-121"), "别的")
    w.run(custody.record_entry, "C001", "cash", day(9, 6), "101", D("120"), "收款")
    vid = w.run(books.draft_voucher, "C001", "bk", cash_out(day(9, 6), "120.00"))
    line = w.run(books.get_voucher, "C001", vid).lines[1]
    assert line.custody_entry == near
    # the next voucher of the same amount takes the other one
    vid2 = w.run(books.draft_voucher, "C001", "bk", cash_out(day(9, 6), "120.00"))
    assert w.run(books.get_voucher, "C001", vid2).lines[1].custody_entry == far
    # and a third finds none
    err = refused(
        w, ProblemsError, books.draft_voucher, "C001", "bk", cash_out(day(9, 6), "120.00")
    )
    assert "no unlinked custody entry" in str(err)
    post(w, vid, vid2)
    v = w.run(books.get_voucher, "C001", vid)
    assert v.cashier == "cash"
    assert w.run(verify.verify, "C001") == []
    backed = {e.id: e.backed for e in w.run(custody.list_entries, "C001", account="101")}
    assert backed[near] and backed[far]


def test_custody_link_window(w: World) -> None:
    w.run(custody.record_entry, "C001", "cash", day(9, 1), "101", D("-120"), "办公用品")
    err = refused(
        w, ProblemsError, books.draft_voucher, "C001", "bk", cash_out(day(9, 12), "120.00")
    )
    assert "within 10 days" in str(err)
    w.run(books.draft_voucher, "C001", "bk", cash_out(day(9, 11), "120.00"))


def test_custody_link_without_entry_is_refused(w: World) -> None:
    err = refused(
        w, ProblemsError, books.draft_voucher, "C001", "bk", cash_out(day(9, 5), "120.00")
    )
    assert "the cashier must record it first" in str(err)
    # an entry of the other direction does not count
    w.run(custody.record_entry, "C001", "cash", day(9, 5), "101", D("120"), "收款")
    refused(w, ProblemsError, books.draft_voucher, "C001", "bk", cash_out(day(9, 5), "120.00"))
    # nor one on the bank account
    w.run(custody.record_entry, "C001", "cash", day(9, 5), "102", D("-120"), "转账")
    refused(w, ProblemsError, books.draft_voucher, "C001", "bk", cash_out(day(9, 5), "120.00"))


def test_custody_link_tie_is_refused_naming_the_entries(w: World) -> None:
    a = w.run(custody.record_entry, "C001", "cash", day(9, 4), "101", D("-120"), "办公用品")
    b = w.run(custody.record_entry, "C001", "cash", day(9, 8), "101", D("-120"), "办公用品")
    err = refused(
        w, ProblemsError, books.draft_voucher, "C001", "bk", cash_out(day(9, 6), "120.00")
    )
    assert f"#{a}" in str(err) and f"#{b}" in str(err) and "name one" in str(err)
    # naming one settles it
    vid = w.run(books.draft_voucher, "C001", "bk", cash_out(day(9, 6), "120.00", entry=b))
    assert w.run(books.get_voucher, "C001", vid).lines[1].custody_entry == b


def test_explicit_custody_entry_must_match(w: World) -> None:
    e = w.run(custody.record_entry, "C001", "cash", day(9, 5), "101", D("-120"), "办公用品")
    # wrong amount
    err = refused(
        w, ProblemsError, books.draft_voucher, "C001", "bk", cash_out(day(9, 5), "100.00", entry=e)
    )
    assert "amount or direction differ" in str(err)
    # wrong direction: a debit (money in) naming an outflow
    wrong_way = VoucherDraft(
        day(9, 5),
        (Line("101", "x", debit=D("120"), custody_entry=e), Line("501", "x", credit=D("120"))),
    )
    err = refused(w, ProblemsError, books.draft_voucher, "C001", "bk", wrong_way)
    assert "amount or direction differ" in str(err)
    # wrong account
    bank = VoucherDraft(
        day(9, 5),
        (Line("51301", "x", debit=D("120")), Line("102", "x", credit=D("120"), custody_entry=e)),
    )
    refused(w, ProblemsError, books.draft_voucher, "C001", "bk", bank)
    # unknown entry
    err = refused(
        w,
        ProblemsError,
        books.draft_voucher,
        "C001",
        "bk",
        cash_out(day(9, 5), "120.00", entry=999),
    )
    assert "no custody entry #999" in str(err)
    # a non-custody line may not name an entry
    odd = VoucherDraft(
        day(9, 5),
        (Line("51301", "x", debit=D("120"), custody_entry=e), Line("101", "x", credit=D("120"))),
    )
    err = refused(w, ProblemsError, books.draft_voucher, "C001", "bk", odd)
    assert "only cash and bank lines name a custody entry" in str(err)
    # the entry named by a draft is not free for another
    w.run(books.draft_voucher, "C001", "bk", cash_out(day(9, 5), "120.00", entry=e))
    err = refused(
        w, ProblemsError, books.draft_voucher, "C001", "bk", cash_out(day(9, 5), "120.00", entry=e)
    )
    assert "already backs another voucher" in str(err)
    # nor two lines of one batch
    e2 = w.run(custody.record_entry, "C001", "cash", day(9, 5), "101", D("-50"), "办公用品")
    err = refused(
        w,
        ProblemsError,
        books.draft_vouchers,
        "C001",
        "bk",
        [cash_out(day(9, 5), "50.00", entry=e2), cash_out(day(9, 5), "50.00", entry=e2)],
    )
    assert "already backs another voucher" in str(err)


def test_editing_keeps_own_custody_link(w: World) -> None:
    e = w.run(custody.record_entry, "C001", "cash", day(9, 5), "101", D("-120"), "办公用品")
    vid = w.run(books.draft_voucher, "C001", "bk", cash_out(day(9, 5), "120.00"))
    w.run(books.edit_voucher, "C001", "bk", vid, cash_out(day(9, 6), "120.00"))
    assert w.run(books.get_voucher, "C001", vid).lines[1].custody_entry == e
    # the cashier cannot delete an entry a voucher names
    refused(w, StateError, custody.delete_entry, "C001", "cash", e)


# ----------------------------------------------------------------------- reversal and correction


def test_reversal_and_correction(w: World) -> None:
    e = w.run(custody.record_entry, "C001", "cash", day(9, 5), "101", D("-120"), "办公用品")
    filler = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 1)))
    vid = w.run(books.draft_voucher, "C001", "bk", cash_out(day(9, 5), "120.00"))
    assert post(w, filler, vid) == [1, 2]
    red = w.run(books.reverse_voucher, "C001", "bk", SEP, 2)
    r = w.run(books.get_voucher, "C001", red)
    assert (r.kind, r.status, r.reverses, r.date) == ("reversal", "draft", vid, day(9, 5))
    assert {ln.summary for ln in r.lines} == {"注销 9月5日 2号凭证"}
    assert [(ln.account, ln.side, ln.amount, ln.custody_entry) for ln in r.lines] == [
        ("51301", "D", D("-120.00"), None),
        ("101", "C", D("-120.00"), e),
    ]
    # a correction needs the reversal posted first
    err = refused(
        w, StateError, books.draft_correction, "C001", "bk", SEP, 2, cash_out(day(9, 5), "120.00")
    )
    assert "not reversed" in str(err)
    assert post(w, red) == [3]
    # reversing twice, or reversing the reversal, is refused
    refused(w, StateError, books.reverse_voucher, "C001", "bk", SEP, 2)
    refused(w, StateError, books.reverse_voucher, "C001", "bk", SEP, 3)
    refused(w, NotFoundError, books.reverse_voucher, "C001", "bk", SEP, 9)
    # the entry is free again after the reversal: the correction links it
    fixed = VoucherDraft(
        day(9, 5),
        (Line("51301", "办公用品", debit=D("120")), Line("101", "办公用品", credit=D("120"))),
        1,
    )
    blue = w.run(books.draft_correction, "C001", "bk", SEP, 2, fixed)
    b = w.run(books.get_voucher, "C001", blue)
    assert b.kind == "correction"
    assert [ln.summary for ln in b.lines] == ["订正 9月5日 2号凭证 办公用品"] * 2
    assert b.lines[1].custody_entry == e
    assert post(w, blue) == [4]
    assert w.run(verify.verify, "C001") == []
    tb = w.run(trial_balance, "C001", SEP)
    assert tb.balanced
    assert tb.row("101").closing_balance == D("380.00")
    assert tb.row("51301").debit == D("120.00")  # 120 - 120 (red) + 120


def test_reversal_of_a_closed_month_goes_into_an_open_one(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 5)))
    post(w, vid)
    w.run(lock_period, "C001", "rv", SEP)
    refused(w, PeriodClosedError, books.reverse_voucher, "C001", "bk", SEP, 1, date=day(9, 30))
    red = w.run(books.reverse_voucher, "C001", "bk", SEP, 1, date=day(10, 2))
    r = w.run(books.get_voucher, "C001", red)
    assert (r.period, r.lines[0].summary) == (OCT, "注销 9月5日 1号凭证")
    assert post(w, red) == [1]
    assert w.run(verify.verify, "C001") == []


def test_reversal_cannot_predate_the_books(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 5)))
    post(w, vid)
    err = refused(w, ValidationError, books.reverse_voucher, "C001", "bk", SEP, 1, date=day(8, 31))
    assert "before the books start" in str(err)


def test_reversing_the_same_voucher_twice_in_draft_is_refused(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 5)))
    post(w, vid)
    w.run(books.reverse_voucher, "C001", "bk", SEP, 1)
    err = refused(w, StateError, books.reverse_voucher, "C001", "bk", SEP, 1)
    assert "already reversed" in str(err)


# --------------------------------------------------------------------------- bulk


def _fifty(bad: dict[int, VoucherDraft] | None = None) -> list[VoucherDraft]:
    drafts = [simple(day(9 + i % 2, 1 + i % 28), f"{i + 1}.00") for i in range(50)]
    for n, d in (bad or {}).items():
        drafts[n - 1] = d
    return drafts


def test_post_bulk_is_all_or_nothing(w: World) -> None:
    bad = {
        17: simple(day(9, 3), debit="999"),
        33: VoucherDraft(
            day(9, 3), (Line("112", "", debit=D("0")), Line("501", "x", credit=D("1")))
        ),
    }
    err = refused(
        w,
        ProblemsError,
        books.post_bulk,
        "C001",
        _fifty(bad),
        preparer="bk",
        reviewer="rv",
        poster="bk2",
    )
    assert isinstance(err, ProblemsError)
    text = messages(err)
    assert any("凭证17" in t and "no account 999" in t for t in text)
    assert any("凭证33" in t and "zero" in t for t in text)
    assert any("凭证33" in t and "summary" in t for t in text)
    assert all("凭证17" in t or "凭证33" in t for t in text)
    ids = w.run(books.post_bulk, "C001", _fifty(), preparer="bk", reviewer="rv", poster="bk2")
    assert len(ids) == 50
    views = [w.run(books.get_voucher, "C001", i) for i in ids]
    assert {(v.status, v.prepared_by, v.reviewed_by, v.posted_by) for v in views} == {
        ("posted", "bk", "rv", "bk2")
    }
    for period in (SEP, OCT):
        numbers = sorted(v.number or 0 for v in views if v.period == period)
        assert numbers == list(range(1, 26))
    assert w.run(verify.verify, "C001") == []
    assert w.run(trial_balance, "C001", SEP, OCT).balanced


def test_post_bulk_of_hundreds_of_vouchers(w: World) -> None:
    """On SQLite the rows go in multi-row INSERTs of about a hundred and post in one UPDATE.

    The drafts alternate between two months and their days do not run in
    order: numbering and the gapless check hold all the same.
    """
    drafts = [simple(day(9 + i % 2, 1 + i % 28), f"{i + 1}.00") for i in range(300)]
    ids = w.run(books.post_bulk, "C001", drafts, preparer="bk", reviewer="rv", poster="bk2")
    assert ids == list(range(ids[0], ids[0] + 300))
    views = [w.run(books.get_voucher, "C001", i) for i in ids]
    assert [v.lines[0].debit for v in views] == [D(f"{i + 1}.00") for i in range(300)]
    for period in (SEP, OCT):
        posted = sorted((v.date, v.id, v.number or 0) for v in views if v.period == period)
        assert [n for _date, _id, n in posted] == list(range(1, 151))
    assert w.run(verify.verify, "C001") == []
    assert w.run(trial_balance, "C001", SEP, OCT).balanced


def test_a_refused_row_deep_in_a_bulk_insert_leaves_nothing(w: World) -> None:
    """The line trigger still checks every row of a multi-row INSERT, in order."""
    done = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 5)))
    post(w, done)
    draft = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 6)))
    with transaction(w.engine, write=False) as s:
        eid = get_entity(s, "C001").id
    columns = (
        "entity_id",
        "voucher_id",
        "line_no",
        "account_code",
        "summary",
        "side",
        "amount_fen",
        "custody_entry_id",
    )
    rows = [(eid, draft, n, "112", "x", "D", 100, None) for n in range(3, 400)]
    rows.insert(300, (eid, done, 3, "112", "x", "D", 100, None))  # into the posted voucher
    before = dump(w.engine)
    with (
        pytest.raises(sa_exc.IntegrityError, match="juzhang: a posted voucher is never changed"),
        transaction(w.engine) as s,
    ):
        insert_many(s, VoucherLine, columns, rows)
    assert dump(w.engine) == before
    del rows[300]
    with transaction(w.engine) as s:
        insert_many(s, VoucherLine, columns, rows)
    lines = w.run(books.get_voucher, "C001", draft).lines
    assert [ln.line_no for ln in lines] == list(range(1, 400))


def test_post_bulk_checks_custody_and_roles(w: World) -> None:
    w.run(custody.record_entry, "C001", "cash", day(9, 5), "101", D("-120"), "办公用品")
    drafts = [cash_out(day(9, 5), "120.00"), cash_out(day(9, 5), "120.00")]
    err = refused(
        w, ProblemsError, books.post_bulk, "C001", drafts, preparer="bk", reviewer="rv", poster="bk"
    )
    assert "凭证2" in str(err) and "凭证1" not in str(err)
    refused(
        w,
        SegregationOfDutiesError,
        books.post_bulk,
        "C001",
        drafts[:1],
        preparer="rv",
        reviewer="rv",
        poster="bk",
    )
    refused(
        w,
        SegregationOfDutiesError,
        books.post_bulk,
        "C001",
        drafts[:1],
        preparer="bk",
        reviewer="bk2",
        poster="bk",
    )
    (vid,) = w.run(books.post_bulk, "C001", drafts[:1], preparer="bk", reviewer="rv", poster="bk")
    assert w.run(books.get_voucher, "C001", vid).cashier == "cash"


# --------------------------------------------------------------------------- opening balances


def test_unbalanced_opening_blocks_posting(world: World) -> None:
    world.run(books.set_opening, "C001", "bk", {"101": D("500"), "301": D("-400.50")})
    assert world.run(books.opening_difference, "C001") == D("99.50")
    vid = world.run(books.draft_voucher, "C001", "bk", simple(day(9, 5)))
    world.run(books.review_vouchers, "C001", "rv", [vid])
    err = refused(world, UnbalancedError, books.post_vouchers, "C001", "bk", [vid])
    assert "99.50" in str(err)
    err = refused(
        world,
        UnbalancedError,
        books.post_bulk,
        "C001",
        [simple(day(9, 5))],
        preparer="bk",
        reviewer="rv",
        poster="bk",
    )
    assert "99.50" in str(err)
    problems = world.run(verify.verify, "C001")
    assert [p.subject for p in problems] == ["opening"]
    world.run(books.set_opening, "C001", "bk", {"301": D("-500")})
    assert world.run(books.post_vouchers, "C001", "bk", [vid]) == [1]


def test_opening_balances_rules(w: World) -> None:
    err = refused(
        w,
        ProblemsError,
        books.set_opening,
        "C001",
        "bk",
        {"999": D("1"), "513": D("1"), "51302": D("1")},
    )
    assert isinstance(err, ProblemsError) and len(err.problems) == 3
    # zero removes a balance
    w.run(books.set_opening, "C001", "bk", {"102": D("0"), "301": D("-500")})
    tb = w.run(trial_balance, "C001", SEP)
    assert tb.row("102").opening_balance == 0 and tb.opening_total == 0
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 5)))
    post(w, vid)
    refused(w, StateError, books.set_opening, "C001", "bk", {"102": D("1"), "301": D("-501")})


# --------------------------------------------------------------------------- periods


def test_close_and_reopen_period(w: World) -> None:
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 5)))
    err = refused(w, StateError, lock_period, "C001", "rv", SEP)
    assert "1 unposted" in str(err)
    post(w, vid)
    w.run(lock_period, "C001", "rv", SEP)
    assert w.run(books.is_closed, "C001", SEP)
    refused(w, StateError, lock_period, "C001", "rv", SEP)
    # nothing enters the closed month
    err = refused(w, ProblemsError, books.draft_voucher, "C001", "bk", simple(day(9, 30)))
    assert "closed" in str(err)
    err = refused(
        w, ProblemsError, custody.record_entry, "C001", "cash", day(9, 30), "101", D("1"), "x"
    )
    assert "closed" in str(err)
    oct_id = w.run(books.draft_voucher, "C001", "bk", simple(day(10, 1)))
    refused(w, ProblemsError, books.edit_voucher, "C001", "bk", oct_id, simple(day(9, 30)))
    # reopen: admin only, with a reason, recorded
    for person in ("rv", "bk", "sup", "cash"):
        refused(w, SegregationOfDutiesError, books.reopen_period, "C001", person, SEP, "补记")
    err = refused(w, ValidationError, books.reopen_period, "C001", "adm", SEP, "  ")
    assert "reason" in str(err)
    w.run(books.reopen_period, "C001", "adm", SEP, "漏记一笔利息收入")
    assert not w.run(books.is_closed, "C001", SEP)
    refused(w, StateError, books.reopen_period, "C001", "adm", SEP, "again")
    with w.engine.connect() as conn:
        rows = conn.execute(
            select(AuditLog.actor, AuditLog.action, AuditLog.subject, AuditLog.detail)
            .where(AuditLog.action.like("period.%"))
            .order_by(AuditLog.seq)
        ).all()
    assert [(a, act, s) for a, act, s, _d in rows] == [
        ("rv", "period.close", "2026-09"),
        ("adm", "period.reopen", "2026-09"),
    ]
    assert json.loads(rows[1][3]) == {"reason": "漏记一笔利息收入"}
    # the month takes drafts again, and closes again
    again = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 30)))
    post(w, again)
    assert w.run(books.get_voucher, "C001", again).number == 2
    w.run(lock_period, "C001", "rv", SEP)


def test_bulk_into_a_closed_month_refused(w: World) -> None:
    w.run(lock_period, "C001", "rv", SEP)
    err = refused(
        w,
        ProblemsError,
        books.post_bulk,
        "C001",
        [simple(day(9, 5))],
        preparer="bk",
        reviewer="rv",
        poster="bk",
    )
    assert "closed" in str(err)


# --------------------------------------------------------------------------- detail accounts


def test_detail_accounts(w: World) -> None:
    # several levels: 513 -> 51303 -> 5130301
    w.run(books.add_account, "C001", "51303", "会议费")
    w.run(books.add_account, "C001", "5130301", "场地")
    err = refused(
        w, ProblemsError, books.draft_voucher, "C001", "bk", simple(day(9, 5), debit="51303")
    )
    assert "51303 has detail accounts" in str(err)
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 5), debit="5130301"))
    post(w, vid)
    tb = w.run(trial_balance, "C001", SEP)
    assert tb.row("513").debit == tb.row("51303").debit == tb.row("5130301").debit == D("10")
    # a child under an account with postings is refused
    err = refused(w, ValidationError, books.add_account, "C001", "50101", "租金")
    assert "already carries amounts" in str(err)
    refused(w, ValidationError, books.add_account, "C001", "513030101", "x")
    refused(w, ValidationError, books.add_account, "C001", "10101", "x")  # opening balance
    # and other refusals
    refused(w, ConflictError, books.add_account, "C001", "51301", "again")
    refused(w, NotFoundError, books.add_account, "C001", "59901", "no parent")
    refused(w, ValidationError, books.add_account, "C001", "599", "first level")
    # deactivated accounts take no new lines; used accounts cannot be deleted
    w.run(books.deactivate_account, "C001", "5130301")
    err = refused(
        w, ProblemsError, books.draft_voucher, "C001", "bk", simple(day(9, 5), debit="5130301")
    )
    assert "inactive" in str(err)
    refused(w, StateError, books.delete_account, "C001", "5130301")
    refused(w, StateError, books.delete_account, "C001", "51303")  # has a child
    refused(w, StateError, books.delete_account, "C001", "513")  # first level
    w.run(books.add_account, "C001", "51304", "unused")
    w.run(books.delete_account, "C001", "51304")
    assert w.run(verify.verify, "C001") == []


def test_detail_account_under_custody_account_is_custody(world: World) -> None:
    world.run(books.add_account, "C001", "10201", "农商行")
    world.run(books.add_account, "C001", "10202", "邮储")
    e = world.run(custody.record_entry, "C001", "cash", day(9, 5), "10201", D("-50"), "手续费")
    err = refused(
        world, ProblemsError, custody.record_entry, "C001", "cash", day(9, 5), "102", D("-50"), "x"
    )
    assert "use a detail account" in str(err)
    vid = world.run(
        books.draft_voucher,
        "C001",
        "bk",
        VoucherDraft(
            day(9, 5),
            (Line("513", "手续费", debit=D("50")), Line("10201", "手续费", credit=D("50"))),
        ),
    )
    assert world.run(books.get_voucher, "C001", vid).lines[1].custody_entry == e


# --------------------------------------------------------------------------- hash chain


def test_chain_head_moves_with_each_posting(w: World) -> None:
    heads = [w.run(books.chain_head, "C001")]
    assert heads[0] == (0, GENESIS_HASH)
    ids = w.run(books.draft_vouchers, "C001", "bk", [simple(day(9, i)) for i in (1, 2, 3)])
    for vid in ids:
        post(w, vid)
        heads.append(w.run(books.chain_head, "C001"))
        assert heads[-1] == (len(heads) - 1, w.run(books.get_voucher, "C001", vid).hash)
    assert len({h for _s, h in heads}) == 4
    # a refused posting leaves the head where it was
    other = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 4)))
    refused(w, StateError, books.post_vouchers, "C001", "bk", [other])
    assert w.run(books.chain_head, "C001") == heads[-1]


def test_chains_are_per_entity(w: World) -> None:
    from tests.conftest import build_world

    w2 = build_world(w.engine, "C002")
    vid = w.run(books.draft_voucher, "C001", "bk", simple(day(9, 1)))
    post(w, vid)
    vid2 = w2.run(books.draft_voucher, "C002", "bk", simple(day(9, 1)))
    w2.run(books.review_vouchers, "C002", "rv", [vid2])
    assert w2.run(books.post_vouchers, "C002", "bk", [vid2]) == [1]
    h1, h2 = w.run(books.chain_head, "C001"), w.run(books.chain_head, "C002")
    assert h1[0] == h2[0] == 1 and h1[1] != h2[1]


# ----------------------------------------------------------------------- refusals change nothing


def _busy(w: World) -> dict[str, int]:
    e = w.run(custody.record_entry, "C001", "cash", day(9, 5), "101", D("-120"), "办公用品")
    posted = w.run(books.draft_voucher, "C001", "bk", cash_out(day(9, 5), "120.00"))
    post(w, posted)
    reviewed = w.run(books.draft_voucher, "C001", "bk", simple(day(10, 2)))
    w.run(books.review_vouchers, "C001", "rv", [reviewed])
    draft = w.run(books.draft_voucher, "C001", "bk", simple(day(10, 3)))
    return {"e": e, "posted": posted, "reviewed": reviewed, "draft": draft}


REFUSALS: list[tuple[str, type[JuzhangError], Callable[[dict[str, int]], tuple[Any, ...]]]] = [
    (
        "bad draft",
        ProblemsError,
        lambda i: (books.draft_vouchers, "C001", "bk", [simple(day(10, 1)), simple(day(8, 1))]),
    ),
    (
        "edit posted",
        StateError,
        lambda i: (books.edit_voucher, "C001", "bk", i["posted"], simple(day(9, 6))),
    ),
    ("delete posted", StateError, lambda i: (books.delete_voucher, "C001", "bk", i["posted"])),
    (
        "review twice",
        StateError,
        lambda i: (books.review_vouchers, "C001", "rv", [i["draft"], i["reviewed"]]),
    ),
    (
        "post draft",
        StateError,
        lambda i: (books.post_vouchers, "C001", "bk", [i["reviewed"], i["draft"]]),
    ),
    ("unknown voucher", NotFoundError, lambda i: (books.post_vouchers, "C001", "bk", [999])),
    (
        "opening after posting",
        StateError,
        lambda i: (books.set_opening, "C001", "bk", {"102": D("1")}),
    ),
    ("reopen open month", StateError, lambda i: (books.reopen_period, "C001", "adm", SEP, "x")),
    ("close with drafts", StateError, lambda i: (lock_period, "C001", "rv", OCT)),
    ("delete linked entry", StateError, lambda i: (custody.delete_entry, "C001", "cash", i["e"])),
    (
        "unknown entity",
        NotFoundError,
        lambda i: (books.draft_voucher, "C999", "bk", simple(day(10, 1))),
    ),
    (
        "unknown user",
        NotFoundError,
        lambda i: (books.draft_voucher, "C001", "nobody", simple(day(10, 1))),
    ),
    (
        "bad custody batch",
        ProblemsError,
        lambda i: (
            custody.record_entries,
            "C001",
            "cash",
            [
                custody.CustodyInput(day(10, 1), "101", D("5"), "ok"),
                custody.CustodyInput(day(10, 1), "112", D("0"), " "),
            ],
        ),
    ),
    (
        "child under used account",
        ValidationError,
        lambda i: (books.add_account, "C001", "11201", "x"),
    ),
]


@pytest.mark.parametrize(("name", "exc", "call"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_command_changes_nothing(
    w: World,
    name: str,
    exc: type[JuzhangError],
    call: Callable[[dict[str, int]], tuple[Any, ...]],
) -> None:
    ids = _busy(w)
    fn, *args = call(ids)
    refused(w, exc, fn, *args)


def test_refused_command_inside_a_longer_transaction_leaves_nothing(w: World) -> None:
    """A command runs in a savepoint: after its refusal the caller's transaction goes on clean."""
    from juzhang.storage.engine import transaction

    before = dump(w.engine)
    with transaction(w.engine) as s:
        ok = books.draft_voucher(s, "C001", "bk", simple(day(10, 1)))
        with pytest.raises(ProblemsError):
            books.draft_vouchers(
                s, "C001", "bk", [simple(day(10, 2)), simple(day(10, 2), debit="9")]
            )
    after = dump(w.engine)
    assert after != before
    assert [r[1] for r in after["voucher"]] == [ok]
    assert len(after["voucher_line"]) == 2
