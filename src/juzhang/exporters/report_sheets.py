"""The report forms (报表): each report result of :mod:`juzhang.reports` as its printed form.

The trial balance (科目余额表), the general and subsidiary ledgers (总账,
明细账), the cash and bank journals (日记账), the balance sheet and the income
statement, and the voucher print (记账凭证), each written with the form writer
(:class:`juzhang.exporters.form.Sheet`).  :func:`juzhang.exporters.excel.report_workbook`
picks the form of a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment

from juzhang.core.period import format_period, last_day
from juzhang.exporters import VoucherPrint, period_text
from juzhang.exporters.form import (
    YUAN_FORMAT,
    Column,
    Head,
    Sheet,
    Value,
    gc_paused,
    new_workbook,
    save,
)
from juzhang.exporters.tabular import journal_rows, voucher_refs
from juzhang.money import capitals, format_amount
from juzhang.reports.ledger import (
    CustodyJournal,
    CustodyJournalAccount,
    GeneralLedger,
    SubsidiaryLedger,
    direction,
)
from juzhang.reports.statements import BalanceSheet, IncomeStatement, Statement
from juzhang.reports.trial_balance import TrialBalance, TrialBalanceRow

__all__ = [
    "custody_journal_workbook",
    "general_ledger_workbook",
    "statement_workbook",
    "subsidiary_ledger_workbook",
    "trial_balance_workbook",
    "voucher_workbook",
    "write_voucher",
]


def _entity(code: str, name: str) -> str:
    return f"编制单位：{name or code}"


def _split(balance: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """A debit-positive balance as (借方, 贷方) cells: the side it is on, the other empty."""
    if balance > 0:
        return balance, None
    if balance < 0:
        return None, -balance
    return None, None


def _people(*labels: str) -> list[tuple[str, str]]:
    return [(label, "") for label in labels]


# --------------------------------------------------------------------------- trial balance


def trial_balance_workbook(
    tb: TrialBalance, *, entity_name: str = "", all_accounts: bool = False
) -> Workbook:
    """Return the trial balance (科目余额表) form.

    Columns 科目编码, 科目名称, then 期初余额, 本期发生额 and 期末余额 each as
    借方 / 贷方; names indented by level; a 合计 row (balances summed per
    side over the first-level accounts); a line saying whether it balances.
    Accounts without any amount are left out unless ``all_accounts``.
    """
    wb = new_workbook(f"{tb.entity} 科目余额表 {tb.period_label}", entity=tb.entity)
    amount = Column("amount", min_width=12)
    sheet = Sheet.add(
        wb,
        "科目余额表",
        [Column("center", min_width=8), Column("text", min_width=14)] + [amount] * 6,
    )
    sheet.title("科目余额表")
    sheet.info(_entity(tb.entity, entity_name), period_text(tb.first, tb.last), "单位：元")
    sheet.header(
        [
            Head("科目编码", rows=2),
            Head("科目名称", rows=2),
            Head("期初余额", cols=2),
            Head("本期发生额", cols=2),
            Head("期末余额", cols=2),
        ],
        ["借方", "贷方", "借方", "贷方", "借方", "贷方"],
    )
    totals = [Decimal("0.00")] * 6
    for r in tb.rows:
        amounts = (r.opening_balance, r.debit, r.credit, r.closing_balance)
        if not (all_accounts or any(amounts)):
            continue
        cells = _tb_cells(r)
        sheet.line([r.code, r.name, *cells], indent={1: r.level - 1})
        if r.level == 1:
            totals = [t + (c or 0) for t, c in zip(totals, cells, strict=True)]
    sheet.line(["", "合计", *totals], bold=True)
    verdict = (
        "试算平衡。"
        if tb.balanced
        else f"试算不平衡：期初差额 {format_amount(tb.opening_total)}，"
        f"发生额差额 {format_amount(tb.debit_total - tb.credit_total)}，"
        f"期末差额 {format_amount(tb.closing_total)}。"
    )
    sheet.note(verdict)
    sheet.signatures(_people("会计主管", "复核", "制表"))
    sheet.finish(landscape=True)
    return wb


def _tb_cells(r: TrialBalanceRow) -> list[Decimal | None]:
    od, oc = _split(r.opening_balance)
    cd, cc = _split(r.closing_balance)
    return [od, oc, r.debit or None, r.credit or None, cd, cc]


# --------------------------------------------------------------------------- ledgers


def _ledger_columns(extra: Sequence[Column]) -> list[Column]:
    return [
        *extra,
        Column("text", min_width=16, max_width=40, wrap=True),  # 摘要
        Column("amount", min_width=12),
        Column("amount", min_width=12),
        Column("center", min_width=6),  # 借或贷
        Column("amount", min_width=12),
    ]


def general_ledger_workbook(gl: GeneralLedger) -> Workbook:
    """Return the general ledger (总账) form.

    One block of rows per first-level account (code and name on each row):
    the opening row (期初余额 / 上年结转), then per month 本月合计 and 本年累计,
    each with 借方, 贷方, 借或贷 and 余额 (the balance's magnitude).
    """
    wb = new_workbook(f"{gl.entity} 总账 {gl.period_label}", entity=gl.entity)
    sheet = Sheet.add(
        wb,
        "总账",
        _ledger_columns(
            [
                Column("center", min_width=8),
                Column("text", min_width=12),
                Column("center", min_width=9),
            ]
        ),
    )
    sheet.title("总  账")
    sheet.info(_entity(gl.entity, gl.entity_name), period_text(gl.first, gl.last), "单位：元")
    sheet.header(["科目编码", "科目名称", "月份", "摘要", "借方", "贷方", "借或贷", "余额"])
    for a in gl.accounts:  # code and name on every row: a page break may fall anywhere
        sheet.line(
            [
                a.code,
                a.name,
                format_period(gl.first),
                a.opening_label,
                None,
                None,
                direction(a.opening_balance),
                abs(a.opening_balance),
            ]
        )
        for m in a.months:
            p = format_period(m.period)
            bal = abs(m.closing_balance)
            sheet.line([a.code, a.name, p, "本月合计", m.debit, m.credit, m.direction, bal])
            sheet.line([a.code, a.name, p, "本年累计", m.ytd_debit, m.ytd_credit, m.direction, bal])
    sheet.signatures(_people("会计主管", "记账"))
    sheet.finish(landscape=True)
    return wb


def subsidiary_ledger_workbook(sl: SubsidiaryLedger) -> Workbook:
    """Return the subsidiary ledger (明细账) form of one account.

    Columns 日期, 凭证号, (科目, when the account has detail accounts), 摘要,
    借方, 贷方, 借或贷, 余额; 本月合计 and 本年累计 rows in bold.
    """
    wb = new_workbook(f"{sl.entity} 明细账 {sl.code} {sl.period_label}", entity=sl.entity)
    with_account = any(r.account not in (None, sl.code) for r in sl.rows)
    extra = [Column("date", min_width=11), Column("center", min_width=9)]
    if with_account:
        extra.append(Column("center", min_width=8))
    sheet = Sheet.add(wb, f"明细账 {sl.code}", _ledger_columns(extra))
    sheet.title("明 细 账")
    sheet.info(_entity(sl.entity, sl.entity_name), period_text(sl.first, sl.last), "单位：元")
    sheet.info(f"科目：{sl.code} {sl.name}")
    heads = ["日期", "凭证号", *(["科目"] if with_account else []), "摘要"]
    sheet.header([*heads, "借方", "贷方", "借或贷", "余额"])
    for r in sl.rows:
        lead: list[Value] = [r.date, r.voucher or ""]
        if with_account:
            lead.append(r.account or "")
        total = r.kind in ("month_total", "year_total")
        sheet.line(
            [*lead, r.summary, r.debit, r.credit, r.direction, abs(r.balance)],
            bold=total,
        )
    sheet.signatures(_people("会计主管", "记账"))
    sheet.finish(landscape=True)
    return wb


def custody_journal_workbook(journal: CustodyJournal) -> Workbook:
    """Return the cash (现金日记账) or bank (银行日记账) journal form, a sheet per account.

    Columns 日期, 凭证号 (the posted vouchers backing the entry, or 未入账),
    摘要, 对方单位, 票据号, 收入, 支出, 余额, and on the 本月合计 rows the
    ledger's balance (总账余额) and the difference (差额, 账账核对).  Below
    the table: whether journal and ledger agree and the entries not yet
    booked.
    """
    wb = new_workbook(
        f"{journal.entity} {journal.title} {journal.period_label}", entity=journal.entity
    )
    for account in journal.accounts:
        _journal_sheet(wb, journal, account)
    if not journal.accounts:
        sheet = Sheet.add(wb, journal.title, [Column("text", min_width=40)])
        sheet.title(journal.title)
        sheet.note("没有此类科目 / no such account")
        sheet.finish(landscape=True)
    return wb


def _journal_sheet(wb: Workbook, journal: CustodyJournal, account: CustodyJournalAccount) -> None:
    columns = [
        Column("date", min_width=11),
        Column("center", min_width=9, max_width=24, wrap=True),
        Column("text", min_width=16, max_width=36, wrap=True),
        Column("text", min_width=8, max_width=20, wrap=True),
        Column("center", min_width=6, max_width=16),
        Column("amount", min_width=12),
        Column("amount", min_width=12),
        Column("amount", min_width=12),
        Column("amount", min_width=12),
        Column("amount", min_width=10),
    ]
    sheet = Sheet.add(wb, f"{account.code} {account.name}", columns)
    sheet.title(journal.title)
    sheet.info(
        _entity(journal.entity, journal.entity_name),
        period_text(journal.first, journal.last),
        "单位：元",
    )
    sheet.info(f"科目：{account.code} {account.name}")
    sheet.header(
        [
            "日期",
            "凭证号",
            "摘要",
            "对方单位",
            "票据号",
            "收入",
            "支出",
            "余额",
            "总账余额",
            "差额",
        ]
    )
    for r in journal_rows(journal, account):
        refs = voucher_refs(r.vouchers, period=r.period, sep="\n")
        voucher = refs
        if r.kind == "entry" and not r.backed:
            voucher = f"{refs} 未全额入账" if refs else "未入账"
        sheet.line(
            [
                r.date,
                voucher,
                r.summary,
                r.counterparty,
                r.reference,
                r.receipt,
                r.payment,
                r.balance,
                r.ledger_balance,
                r.difference,
            ],
            bold=r.kind in ("month_total", "year_total"),
        )
    if account.agrees:
        sheet.note("账账核对：日记账与总账各月末余额相符。")
    else:
        sheet.note("账账核对：日记账与总账余额不符，见差额栏及下列未入账日记账。")
    if account.unbacked:
        sheet.note(f"尚未入账（未被已记账凭证全额对应）的日记账 {len(account.unbacked)} 笔：")
        for u in account.unbacked:
            sheet.note(
                f"  {u.date.isoformat()}  #{u.id}  {u.summary}  金额 {format_amount(u.amount)}"
                f"  已入账 {format_amount(u.backed_amount)}"
            )
    sheet.signatures(_people("出纳", "会计", "审核"))
    sheet.finish(landscape=True)


# --------------------------------------------------------------------------- statements


def statement_workbook(st: BalanceSheet | IncomeStatement) -> Workbook:
    """Return a statement form: the balance sheet side by side, the income statement in one column.

    The balance sheet (资产负债表) prints 资产 on the left and 负债和所有者权益
    (净资产) on the right, each with 行次 and the statement's figure columns;
    the income statement (收益及收益分配表 / 业务活动表) prints 项目, 行次 and
    the figure columns (split 非限定性 / 限定性 / 合计 under two header rows
    when the form splits them).  Headings are bold; items indented.  The
    form's notes (附注: what a line was checked against, what is not
    computed) print under the table, then the signature line.  The two-sided
    balance sheet prints on landscape A4, the income statement on portrait.
    """
    if isinstance(st, BalanceSheet):
        when = last_day(st.period)
        date = f"{when.year}年{when.month}月{when.day}日"
        wb = new_workbook(f"{st.entity} {st.title} {format_period(st.period)}", entity=st.entity)
        sheet = _balance_sheet(wb, st, date)
    else:
        date = period_text(st.first, st.last)
        wb = new_workbook(f"{st.entity} {st.title} {format_period(st.last)}", entity=st.entity)
        sheet = _income_statement(wb, st, date)
    for note in st.notes:
        sheet.note(f"注：{note}", size=9)
    sheet.signatures(_people("单位负责人", "会计主管", "制表人"))
    # The two-sided balance sheet has eight columns or more: landscape, so that
    # fitting it to the page width keeps the type readable.
    sheet.finish(landscape=isinstance(st, BalanceSheet) and len(st.sections) == 2)
    return wb


def _strong(item: str, heading: bool, indent: int) -> bool:
    """Bold: a top-level heading, or a total line (…合计, …总计)."""
    return (heading and indent == 0) or item.rstrip("：:").endswith(("合计", "总计"))


def _statement_top(sheet: Sheet, st: Statement, date: str) -> None:
    sheet.title(st.title)
    if st.form:
        sheet.info(right=st.form)
    sheet.info(_entity(st.entity, st.entity_name), date, "单位：元")


def _balance_sheet(wb: Workbook, st: BalanceSheet, date: str) -> Sheet:
    n = len(st.columns)
    side = [Column("text", min_width=16, max_width=30, wrap=True), Column("number", min_width=5)]
    side += [Column("amount", min_width=13)] * n
    if len(st.sections) != 2:
        return _income_like(wb, st, date, "项目")
    sheet = Sheet.add(wb, st.title, side + side)
    _statement_top(sheet, st, date)
    labels = [c.label for c in st.columns]
    left, right = st.sections
    sheet.header([left.label, "行次", *labels, right.label, "行次", *labels])
    rows = max(len(left.lines), len(right.lines))
    width = 2 + n
    for i in range(rows):
        values: list[Value] = []
        indent: dict[int, int] = {}
        bold: set[int] = set()
        for k, section in enumerate((left, right)):
            if i >= len(section.lines):
                values += [None] * width
                continue
            ln = section.lines[i]
            indent[k * width] = ln.indent
            if _strong(ln.item, ln.values is None, ln.indent):
                bold.update(range(k * width, (k + 1) * width))
            values += [ln.item, ln.row, *(ln.values or [None] * n)]
        sheet.line(values, indent=indent, bold=frozenset(bold))
    return sheet


def _income_statement(wb: Workbook, st: IncomeStatement, date: str) -> Sheet:
    return _income_like(wb, st, date, "项目")


def _income_like(wb: Workbook, st: Statement, date: str, item_label: str) -> Sheet:
    n = len(st.columns)
    columns = [Column("text", min_width=24, max_width=44), Column("number", min_width=5)]
    columns += [Column("amount", min_width=13)] * n
    sheet = Sheet.add(wb, st.title, columns)
    _statement_top(sheet, st, date)
    split = any(c.part for c in st.columns)
    if split:
        groups: list[Head] = []
        for c in st.columns:
            if groups and groups[-1].text == c.label:
                groups[-1] = Head(c.label, cols=groups[-1].cols + 1)
            else:
                groups.append(Head(c.label, cols=1))
        sheet.header(
            [Head(item_label, rows=2), Head("行次", rows=2), *groups],
            [c.part or "" for c in st.columns],
        )
    else:
        sheet.header([item_label, "行次", *(c.label for c in st.columns)])
    for section in st.sections:
        for ln in section.lines:
            sheet.line(
                [ln.item, ln.row, *(ln.values or [None] * n)],
                indent={0: ln.indent},
                bold=_strong(ln.item, ln.values is None, ln.indent),
            )
    return sheet


# --------------------------------------------------------------------------- voucher


_VOUCHER_ROWS = 5  # a printed voucher has at least this many line rows


def voucher_workbook(vp: VoucherPrint) -> Workbook:
    """Return the printed voucher (记账凭证) form.

    Title 记账凭证; 核算单位, the date and 记字第 0003 号; columns 摘要,
    会计科目 (总账科目 / 明细科目), 借方金额, 贷方金额 and, down the right, 附件
    N 张; at least five line rows; the 合计 row with the amount in capitals
    (人民币…) and the figures with ¥; the signature line 会计主管, 记账, 审核,
    出纳, 制单 with the people's names; the voucher's chain hash below.
    """
    wb = new_workbook(
        f"{vp.entity} 记账凭证 {format_period(vp.period)} {vp.label}", entity=vp.entity
    )
    columns = [
        Column("text", min_width=22, max_width=36, wrap=True),  # 摘要
        Column("text", min_width=14, max_width=24, wrap=True),  # 总账科目
        Column("text", min_width=14, max_width=28, wrap=True),  # 明细科目
        Column("amount", min_width=15),  # 借方金额
        Column("amount", min_width=15),  # 贷方金额
        Column("center", min_width=4, max_width=4),  # 附件
    ]
    sheet = Sheet.add(wb, vp.label, columns)
    sheet.title("记账凭证", size=20, underline="double")
    d = vp.date
    sheet.info(
        f"核算单位：{vp.entity_name}", f"{d.year}年{d.month:02d}月{d.day:02d}日", vp.number_text
    )
    first, _ = sheet.header(
        [
            Head("摘要", rows=2),
            Head("会计科目", cols=2),
            Head("借方金额", rows=2),
            Head("贷方金额", rows=2),
            f"附件 {vp.attachments} 张",  # merged down to the 合计 row below
        ],
        ["总账科目", "明细科目"],
    )
    for ln in vp.lines:
        sheet.line([ln.summary, ln.general, ln.detail, ln.debit, ln.credit, None], height=26)
    for _ in range(_VOUCHER_ROWS - len(vp.lines)):
        sheet.line([None] * 6, height=26)
    credit = sum((ln.credit or Decimal(0) for ln in vp.lines), Decimal("0.00"))
    sheet.line(
        ["合计", f"人民币{capitals(vp.total)}", None, vp.total, credit, None],
        bold=True,
        spans={1: 2},
        formats={3: YUAN_FORMAT, 4: YUAN_FORMAT},
        height=26,
    )
    attach = sheet.ws.cell(row=first, column=6)
    attach.alignment = Alignment(
        horizontal="center", vertical="center", wrap_text=True, text_rotation=255
    )
    sheet.merge(first, 6, sheet.row, 6)
    sheet.signatures(
        [
            ("会计主管", vp.supervisor),
            ("记账", vp.posted_by),
            ("审核", vp.reviewed_by),
            ("出纳", vp.cashier),
            ("制单", vp.prepared_by),
        ]
    )
    if vp.hash:
        sheet.note(f"{format_period(vp.period)} {vp.label}  哈希 hash {vp.hash}", size=8)
    sheet.finish(landscape=False, freeze=False)
    return wb


@gc_paused
def write_voucher(vp: VoucherPrint, path: Path) -> None:
    """Write the printed voucher to ``path`` (xlsx).

    Raises:
        OSError: the file cannot be written.
    """
    save(voucher_workbook(vp), path)
