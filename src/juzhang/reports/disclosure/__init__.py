"""Public disclosure (财务公开表): what a community posts on its board.

公开透明: income and expenditure are disclosed to the residents, item by item
(逐项逐笔), at least quarterly and monthly where busy (DOMAIN §7).  This
module computes, for one entity and a month or a quarter (any months of one
year), everything the board table shows:

* the title ("幸福社区2026年9月财务收支明细公开表", or "…2026年第3季度…"), the
  entity, the period, the date it is posted and the date it stays up to
  (defaults: by the ``post_by_day`` of the next month, up for as many months
  as it covers, until the day before the next one goes up; a recorded
  :class:`~juzhang.storage.schema.Disclosure` row's dates win);
* every income and expenditure item (:class:`DisclosureItem`): each posted
  voucher line on an income or expense account, closing vouchers (结转,
  kind ``closing``) left out; 序号, 日期, 凭证号, 摘要/用途, 收入 (credit
  positive) or 支出 (debit positive) — so red (红字) lines and refunds show
  negative —, 经办人 (the claim's 经手人 where a claim batch made the voucher,
  else the cashier who recorded the money) and 备注 (red reversal,
  correction, the budget line it belongs to);
* a summary by category (:class:`CategoryRow`), 本期 and 本年累计, configured in
  :mod:`juzhang.disclosure_config` (accounts no category takes are shown as
  其他收入/其他支出（未分类）, so the totals always add up), with the totals
  also in capitals (大写);
* cash and bank (:class:`FundRow`): opening balance, money in, money out and
  closing balance, 本期 and 本年累计, from the ledger;
* the special sections the practice requires (:class:`SectionReport`):
  居民干部补贴、奖金, 救灾救济款物 received and handed out, 各种费用的收缴,
  一事一议 funds and their use — each the posted lines of its accounts with
  totals (and balances where configured);
* each expenditure above the configured threshold again (大额支出);
* receivables and payables (债权债务, :class:`DebtRow`) per detail account;
* budget against actual (:class:`BudgetRow`) where a budget is recorded
  (:mod:`juzhang.budget`);
* the residents' questions about earlier months and the community's answers
  (:class:`QuestionRow`, 提问栏/回音栏; :func:`juzhang.question.board_questions`),
  as of the board's last day;
* the signature block (书记, 主任, 报账员, 代理会计, 民主理财小组 and its opinion,
  from the disclosure's sign-off when there is one);
* a **fingerprint** tying the table to the books: the entity's hash-chain
  head (:func:`juzhang.books.chain_head`) at computation and a digest of every
  figure, ``"H001:2026-09:42:1f0c…(16 hex):9ab3…(16 hex)"`` (entity, period,
  chain sequence, head hash, figure digest).

Every amount the table shows is a :class:`Figure` with a stable key; the
result, its figures and its JSON form are described in
:mod:`juzhang.reports.disclosure.report`.  The report is a package: the rows
(:mod:`~juzhang.reports.disclosure.rows`), the result
(:mod:`~juzhang.reports.disclosure.report`) and reading the books
(:mod:`~juzhang.reports.disclosure.compute`); callers import from here.
"""

from __future__ import annotations

from juzhang.reports.disclosure.compute import disclosure
from juzhang.reports.disclosure.report import Disclosure, disclosure_from_json, period_title
from juzhang.reports.disclosure.report import debt_total as debt_total
from juzhang.reports.disclosure.report import digest_body as digest_body
from juzhang.reports.disclosure.report import figures_digest as figures_digest
from juzhang.reports.disclosure.rows import (
    BudgetRow,
    CategoryRow,
    DebtRow,
    DisclosureItem,
    Figure,
    FundRow,
    QuestionRow,
    SectionReport,
    SectionRow,
    SignatureBlock,
    figure_key,
)

__all__ = [
    "BudgetRow",
    "CategoryRow",
    "DebtRow",
    "Disclosure",
    "DisclosureItem",
    "Figure",
    "FundRow",
    "QuestionRow",
    "SectionReport",
    "SectionRow",
    "SignatureBlock",
    "disclosure",
    "disclosure_from_json",
    "figure_key",
    "period_title",
]
