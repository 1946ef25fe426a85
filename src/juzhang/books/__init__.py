"""The books (账簿): the one service that changes what the books hold.

Everything that changes the books comes through here, and every function
checks, before it writes anything, the acting person's roles *as they are
now* (:mod:`juzhang.core.duty`), the period's state and the bookkeeping rules;
the database triggers refuse the same things if this module is bypassed.

Voucher lifecycle (凭证流程)::

    draft (制单, bookkeeper) → reviewed (审核, reviewer ≠ preparer) → posted (记账, bookkeeper)

* A draft may be edited or deleted by its preparer; editing a reviewed
  voucher sends it back to draft.
* Numbers (记-0001) are given at posting: gapless and unique per entity and
  month, under the entity's write lock.
* A line on a cash or bank account must be backed by the cashier's journal
  entry of the same entity, account, amount and direction; the posted lines
  naming one entry always net to that entry's amount or to zero.
* Posted vouchers never change.  A mistake is corrected by a red reversal
  (:func:`reverse_voucher`, 摘要 "注销 X月X日 X号凭证") and a blue correcting
  voucher (:func:`draft_correction`, "订正 …"), both through the same workflow.
* Posting chains each voucher's hash to the previous one and updates the
  running balances (by trigger, in the same transaction).

The service is a package, one concept a module: :mod:`~juzhang.books.account`
(detail accounts), :mod:`~juzhang.books.opening` (opening balances),
:mod:`~juzhang.books.drafting` (制单, edit, delete), :mod:`~juzhang.books.posting`
(审核 and 记账: numbers, hash chain, bulk posting), :mod:`~juzhang.books.correction`
(red reversal, blue correction), :mod:`~juzhang.books.machine` (the close's
machine vouchers), :mod:`~juzhang.books.period` (the lock under the month-end
close, and reopening a month; the only public way to lock a month is
:func:`juzhang.closing.close_month`)
and :mod:`~juzhang.books.view` (reading vouchers back); their shared row shapes
are in :mod:`~juzhang.books.rows` and the custody links in
:mod:`~juzhang.books.custody_link`.  Callers use the names re-exported here
(``from juzhang import books; books.post_bulk(...)``).
"""

from __future__ import annotations

from juzhang.books.account import add_account, deactivate_account, delete_account
from juzhang.books.correction import correction_label as correction_label
from juzhang.books.correction import draft_correction, reverse_voucher
from juzhang.books.drafting import (
    PairDraft,
    PairWriter,
    check_pairs,
    custody_lookups,
    delete_voucher,
    draft_pairs,
    draft_pairs_for,
    draft_voucher,
    draft_vouchers,
    edit_voucher,
)
from juzhang.books.machine import SYSTEM_LOGIN as SYSTEM_LOGIN
from juzhang.books.machine import post_closing_voucher
from juzhang.books.opening import opening_difference, set_opening
from juzhang.books.period import is_closed, reopen_period
from juzhang.books.posting import (
    Posted,
    post_bulk,
    post_reviewed,
    post_vouchers,
    review_bulk,
    review_vouchers,
    unreview_voucher,
)
from juzhang.books.rows import LineRow as LineRow
from juzhang.books.view import chain_head, find_voucher, get_voucher, list_vouchers

__all__ = [
    "PairDraft",
    "PairWriter",
    "Posted",
    "add_account",
    "chain_head",
    "check_pairs",
    "custody_lookups",
    "deactivate_account",
    "delete_account",
    "delete_voucher",
    "draft_correction",
    "draft_pairs",
    "draft_pairs_for",
    "draft_voucher",
    "draft_vouchers",
    "edit_voucher",
    "find_voucher",
    "get_voucher",
    "is_closed",
    "list_vouchers",
    "opening_difference",
    "post_bulk",
    "post_closing_voucher",
    "post_reviewed",
    "post_vouchers",
    "reopen_period",
    "reverse_voucher",
    "review_bulk",
    "review_vouchers",
    "set_opening",
    "unreview_voucher",
]
