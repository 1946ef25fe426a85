"""The month-end close (月末结账): checks, carry-forward, lock; reopening; disclosure sign-off.

:func:`close_month` closes one community's month in the caller's transaction.
It runs :data:`CHECKS`, a list of small functions ``check_x(ctx) ->
list[Problem]`` (like beancount's ``BASIC_VALIDATIONS``; each testable alone
on a :class:`CloseContext`), and only when none finds a problem does it change
anything:

1. months close in order: every earlier month of the books is closed;
2. no voucher dated in the month is left unposted (draft or reviewed);
3. every cashier's journal entry of the month backs a posted voucher, and each
   cash and bank account's journal balance equals its ledger balance at the
   month end (账账相符);
4. the cashier's cash count (现金盘点, :mod:`juzhang.cash_count`) agrees with
   the cash journal (账实相符) — see *cash differences* below;
5. the bank reconciliation (银行存款余额调节表) of every bank account agrees
   (调节后余额相等), with the bank's statement read for the month;
6. voucher numbers run without gaps, the trial balance balances, and
   :func:`juzhang.verify.verify` finds nothing;
7. the accounts the carry-forward needs exist as leaf accounts.

Then it posts the carry-forward (结转损益): one machine voucher (kind
``closing``, no attachments, dated the month's last day) that brings every
income and expense account to zero against the chart's
``current_year_result`` (321 本年收益; 3101 非限定性净资产 in the non-profit
chart, where income of detail accounts named 限定性收入 goes to 限定性净资产);
in December a second one carries the year's result to ``result_distribution``
(321 → 322, or to its detail 未分配收益 when 322 has details) where the chart
has one.  Both are prepared and posted by the system user and reviewed by the
acting reviewer
(:func:`juzhang.books.post_closing_voucher`); a month without income or
expense needs none.  Last the month is locked.  This is the only public way
to lock a month; a month can be closed only after its last day
(:func:`juzhang.clock.today`).
Balances simply carry on into the next month and year: the January opening is
December's closing, with income and expense at zero.

Everything happens in one savepoint of the caller's transaction: a refusal
or an interruption leaves the month open and unchanged.  Problems are returned
as values in :class:`CloseResult` (all of them, one per finding); a command the
actor may not give (not a reviewer, month already closed) raises.

The close is a package, one concept a module: :mod:`~juzhang.closing.checks`
(the checks and notes, and cash differences 现金长短款),
:mod:`~juzhang.closing.close` (carry-forward and lock),
:mod:`~juzhang.closing.signoff` (the disclosure sign-off 民主理财小组签字,
:func:`sign_disclosure`) and :mod:`~juzhang.closing.reopen` (反结账,
:func:`reopen_month`).  Callers use the names re-exported here.  The closing
run over many communities, which also writes the month's files, is
:mod:`juzhang.closing_run`.
"""

from __future__ import annotations

# The public API is __all__; the single checks and notes and the carry-forward's
# account names stay importable from here as before (tests take them one by one).
from juzhang.closing.checks import (  # noqa: F401
    CHECKS,
    NOTES,
    Check,
    CloseContext,
    check_bank_reconciliation,
    check_cash_count,
    check_custody_backed,
    check_journal_ledger,
    check_numbering,
    check_result_accounts,
    check_sequence,
    check_trial_balance,
    check_unposted,
    check_verify,
    make_context,
    note_cash_differences,
    note_outstanding_items,
    run_checks,
)
from juzhang.closing.close import (  # noqa: F401
    RESTRICTED_INCOME,
    RESTRICTED_NET_ASSETS,
    CloseResult,
    carry_forward_draft,
    close_month,
    ensure_system_user,
)
from juzhang.closing.reopen import ReopenResult, reopen_month
from juzhang.closing.signoff import (
    SignedDisclosure,
    board_path,
    disclosure_fingerprint,
    published_boards,
    published_disclosure,
    record_disclosure,
    sign_disclosure,
    site_address,
    write_published,
)

__all__ = [
    "CHECKS",
    "NOTES",
    "CloseContext",
    "CloseResult",
    "ReopenResult",
    "SignedDisclosure",
    "board_path",
    "carry_forward_draft",
    "close_month",
    "disclosure_fingerprint",
    "ensure_system_user",
    "make_context",
    "published_boards",
    "published_disclosure",
    "record_disclosure",
    "reopen_month",
    "run_checks",
    "sign_disclosure",
    "site_address",
    "write_published",
]
