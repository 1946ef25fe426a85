"""Sample bank statements for every profile, and the rows they must normalise to.

One month of a community's bank account (:data:`TRANSACTIONS`, opening balance
:data:`OPENING`) is written in the layout of each bank profile, in the file
formats banks use: CSV in GBK, UTF-8 with BOM and plain UTF-8, XLSX (openpyxl)
and the old binary XLS.  The files carry what real exports carry: title and
metadata rows, ``[HISTORYDETAIL]``, two-row headers with a merged group,
footers (合计, 以上数据仅供参考, 总笔数), full-width spaces, tab-padded cells,
``"-"`` for an empty amount, thousands separators, Excel date cells, serial
numbers in both date systems.

The expected output (``<file>.expected.json``) is computed here from
:data:`TRANSACTIONS` and the layout, never from the reader, so comparing the
two tests the reader.

Run ``python -m tests.statement_samples`` to rewrite ``tests/data/``.  XLS
files need the ``xlwt`` package (not a juzhang dependency); without it the
committed ``.xls`` files are kept as they are.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
OWN_ACCOUNT = "6222000011112222"
OWN_NAME = "某某社区居民委员会"
OPENING = Decimal("100000.00")


@dataclass(frozen=True)
class Transaction:
    """One line of the sample month, as the bank saw it."""

    when: datetime
    debit: Decimal
    credit: Decimal
    counterparty: str
    account: str
    bank: str
    summary: str
    purpose: str
    remark: str
    serial: str


def _d(text: str) -> Decimal:
    return Decimal(text)


TRANSACTIONS: tuple[Transaction, ...] = (
    Transaction(datetime(2025, 1, 2, 9, 15), _d("0"), _d("50000.00"), "某某街道办事处",
                "1234567890123", "中国工商银行某某支行", "转账", "办公经费拨款", "", "S0001"),
    Transaction(datetime(2025, 1, 3, 10, 20, 30), _d("1234.56"), _d("0"), "某某物业服务有限公司",
                "9876543210", "中国建设银行某某支行", "转账", "一月物业费", "发票 No.123", "S0002"),
    Transaction(datetime(2025, 1, 5, 16, 0), _d("12.00"), _d("0"), "", "", "",
                "手续费", "", "", "S0003"),
    Transaction(datetime(2025, 1, 20, 8, 30), _d("0"), _d("35.18"), "", "", "",
                "结息", "利息", "", "S0004"),
    Transaction(datetime(2025, 1, 31, 14, 5, 9), _d("8000.00"), _d("0"), "张三",
                "6217000000001234", "中国农业银行某某分理处", "代发工资", "一月工资", "=SUM(A1)",
                "S0005"),
)  # fmt: skip


def balances(
    transactions: Sequence[Transaction] = TRANSACTIONS, opening: Decimal = OPENING
) -> list[Decimal]:
    """The running balance after each transaction."""
    result, balance = [], opening
    for txn in transactions:
        balance = balance + txn.credit - txn.debit
        result.append(balance)
    return result


OPENING_CELL = object()
"""Stands in a layout's opening row for its opening balance (written ``100000.00``)."""


# --------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class Column:
    """A column of a layout: its header text and how a transaction fills it."""

    header: str
    render: Callable[[Transaction, Decimal], object]
    field: str = ""  # the normalised field it feeds ("" for none)
    numbered: bool = False  # 序号: the row's position (1, 2, …), not from the transaction


@dataclass
class Layout:
    """Where everything goes in one sample file."""

    profile: str
    columns: list[Column]
    before: list[list[object]] = field(default_factory=list)  # title and metadata rows
    group: list[object] | None = None  # a group header row above the header (two-row header)
    after: list[list[object]] = field(default_factory=list)  # footer rows
    opening_row: list[object] | None = None
    own_account: str | None = OWN_ACCOUNT
    own_name: str | None = OWN_NAME
    has_time: bool = True
    transactions: tuple[Transaction, ...] = TRANSACTIONS
    opening: Decimal = OPENING

    def rows(self) -> list[list[object]]:
        """Every row of the sheet, top to bottom."""
        table = [list(row) for row in self.before]
        if self.group is not None:
            table.append(list(self.group))
        table.append([c.header for c in self.columns])
        if self.opening_row is not None:
            opening = f"{self.opening:.2f}"
            table.append([opening if c is OPENING_CELL else c for c in self.opening_row])
        running = balances(self.transactions, self.opening)
        for number, (txn, balance) in enumerate(zip(self.transactions, running, strict=True), 1):
            table.append([number if c.numbered else c.render(txn, balance) for c in self.columns])
        table.extend(list(row) for row in self.after)
        return table

    def header_row(self) -> int:
        return len(self.before) + (2 if self.group is not None else 1)

    def expected(self) -> dict[str, Any]:
        """The normalised statement this layout must read as."""
        fields = {c.field for c in self.columns}
        payer_payee = "payer_account" in fields
        first = self.header_row() + 1 + (1 if self.opening_row is not None else 0)
        rows = []
        running = balances(self.transactions, self.opening)
        for index, (txn, balance) in enumerate(zip(self.transactions, running, strict=True)):
            counter = {
                "counterparty": txn.counterparty,
                "counterparty_account": txn.account,
                "counterparty_bank": txn.bank,
            }
            rows.append(
                {
                    "number": first + index,
                    "date": txn.when.date().isoformat(),
                    "time": txn.when.time().isoformat() if self.has_time else None,
                    "debit": f"{txn.debit:.2f}",
                    "credit": f"{txn.credit:.2f}",
                    "balance": f"{balance:.2f}" if "balance" in fields else None,
                    **{k: (v if k in fields or payer_payee else "") for k, v in counter.items()},
                    **{
                        k: (getattr(txn, k) if k in fields else "")
                        for k in ("summary", "purpose", "remark", "serial")
                    },
                }
            )
        return {
            "profile": self.profile,
            "own_account": self.own_account,
            "own_name": self.own_name,
            "header_row": self.header_row(),
            "opening_balance": f"{self.opening:.2f}" if self.opening_row is not None else None,
            "rows": rows,
        }


def _money(value: Decimal) -> str:
    return f"{value:,.2f}" if value else ""


def _plain(value: Decimal) -> str:
    return f"{value:.2f}" if value else ""


def _number(value: Decimal) -> object:
    return float(value) if value else None


def _dash(value: Decimal) -> str:
    return f"{value:.2f}" if value else "-"


def _serial_1900(moment: datetime) -> int:
    return (moment.date() - date(1899, 12, 30)).days


def _serial_1904(moment: datetime) -> int:
    return (moment.date() - date(1904, 1, 1)).days


def icbc() -> Layout:
    """ICBC, 转入/转出: [HISTORYDETAIL], metadata rows, thousands separators, footers."""
    return Layout(
        "icbc",
        [
            Column("凭证号", lambda t, b: t.serial, "serial"),
            Column("交易时间", lambda t, b: t.when.strftime("%Y-%m-%d %H:%M:%S"), "date"),
            Column("对方单位", lambda t, b: t.counterparty, "counterparty"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("转入金额", lambda t, b: _money(t.credit), "credit"),
            Column("转出金额", lambda t, b: _money(t.debit), "debit"),
            Column("余额", lambda t, b: _money(b), "balance"),
            Column("用途", lambda t, b: f"\t{t.purpose}" if t.purpose else "", "purpose"),
            Column("摘要", lambda t, b: f"{t.summary}\u3000", "summary"),
            Column("附言", lambda t, b: t.remark, "remark"),
        ],
        before=[["[HISTORYDETAIL]"], ["账号：", OWN_ACCOUNT], ["户名：", OWN_NAME], []],
        after=[["合计", "", "", "", _money(Decimal("50035.18")), _money(Decimal("9246.56"))],
               ["以上数据仅供参考，具体以银行账务为准"]],
    )  # fmt: skip


def icbc_dc(dates: str = "cell") -> Layout:
    """ICBC 借/贷 variant: own account on every row, a Dr/Cr flag, date cells or serials."""

    def when(t: Transaction, b: Decimal) -> object:
        if dates == "1904":
            return _serial_1904(t.when)
        return t.when

    return Layout(
        "icbc-dc",
        [
            Column("凭证号", lambda t, b: t.serial, "serial"),
            Column("本方账号", lambda t, b: OWN_ACCOUNT, "own_account"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("交易时间", when, "date"),
            Column("借/贷", lambda t, b: "借 Dr" if t.debit else "贷 Cr", "direction"),
            Column("借方发生额", lambda t, b: _number(t.debit), "debit"),
            Column("贷方发生额", lambda t, b: _number(t.credit), "credit"),
            Column("对方行号", lambda t, b: t.bank, "counterparty_bank"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("用途", lambda t, b: t.purpose, "purpose"),
            Column("对方单位名称", lambda t, b: t.counterparty, "counterparty"),
            Column("余额", lambda t, b: float(b), "balance"),
        ],
        before=[["中国工商银行对公账户明细"], ["查询日期：2025-02-01"]],
        own_name=None,
        has_time=dates == "cell",
    )


def ccb() -> Layout:
    """CCB: own account and name on every row, full-width brackets, tab-padded numbers."""
    return Layout(
        "ccb",
        [
            Column("账号", lambda t, b: f"{OWN_ACCOUNT}\t", "own_account"),
            Column("账户名称", lambda t, b: OWN_NAME, "own_name"),
            Column("交易时间", lambda t, b: t.when.strftime("%Y%m%d %H:%M:%S"), "date"),
            Column("借方发生额（支取）", lambda t, b: f"{_plain(t.debit)}\t", "debit"),
            Column("贷方发生额（收入）", lambda t, b: f"{_plain(t.credit)}\t", "credit"),
            Column("余额", lambda t, b: f"{b:.2f}\t", "balance"),
            Column("币种", lambda t, b: "人民币", "currency"),
            Column("对方户名", lambda t, b: t.counterparty, "counterparty"),
            Column("对方账号", lambda t, b: f'="{t.account}"' if t.account else "",
                   "counterparty_account"),
            Column("对方开户机构", lambda t, b: t.bank, "counterparty_bank"),
            Column("记账日期", lambda t, b: t.when.strftime("%Y%m%d"), ""),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("备注", lambda t, b: t.remark, "remark"),
            Column("账户明细编号-交易流水号", lambda t, b: t.serial, "serial"),
        ],
    )  # fmt: skip


def abc() -> Layout:
    """ABC: metadata in one cell each, a two-row header (交易金额 over 支出/收入), 2025/1/2."""
    columns = [
        Column("交易时间", lambda t, b: t.when.strftime("%Y/%-m/%-d %H:%M:%S"), "date"),
        Column("支出金额", lambda t, b: _number(t.debit), "debit"),
        Column("收入金额", lambda t, b: _number(t.credit), "credit"),
        Column("账户余额", lambda t, b: float(b), "balance"),
        Column("对方户名", lambda t, b: t.counterparty, "counterparty"),
        Column("对方账号", lambda t, b: t.account, "counterparty_account"),
        Column("交易用途", lambda t, b: t.purpose, "purpose"),
        Column("摘要", lambda t, b: t.summary, "summary"),
    ]
    return Layout(
        "abc",
        columns,
        before=[
            ["中国农业银行 账户明细查询"],
            [f"账户名称：{OWN_NAME}"],
            [f"账户号：{OWN_ACCOUNT}", "", "币种：人民币"],
        ],
        group=["", "交易金额", "", "", "对方信息", "", "", ""],
        after=[["以上数据仅供参考"]],
    )


def boc() -> Layout:
    """BOC: bilingual headers, signed amounts, payer and payee; no metadata (inferred)."""

    def side(t: Transaction, payer: bool, what: str) -> str:
        ours = {"account": OWN_ACCOUNT, "name": OWN_NAME, "bank": "中国银行某某支行"}
        theirs = {"account": t.account, "name": t.counterparty, "bank": t.bank}
        outgoing = bool(t.debit)
        return (ours if outgoing == payer else theirs)[what]

    return Layout(
        "boc",
        [
            Column("交易类型[ Transaction Type ]", lambda t, b: "转账", ""),
            Column("付款人开户行名[ Payer account bank name ]",
                   lambda t, b: side(t, True, "bank"), "payer_bank"),
            Column("付款人账号[ Debit Account No. ]",
                   lambda t, b: side(t, True, "account"), "payer_account"),
            Column("付款人名称[ Payer's Name ]", lambda t, b: side(t, True, "name"), "payer_name"),
            Column("收款人开户行名[ Payee's Account Bank Name ]",
                   lambda t, b: side(t, False, "bank"), "payee_bank"),
            Column("收款人账号[ Payee's Account Number ]",
                   lambda t, b: side(t, False, "account"), "payee_account"),
            Column("收款人名称[ Payee's Name ]", lambda t, b: side(t, False, "name"), "payee_name"),
            Column("交易日期[ Transaction Date ]", lambda t, b: t.when.strftime("%Y%m%d"), "date"),
            Column("交易时间[ Transaction time ]",
                   lambda t, b: t.when.strftime("%H:%M:%S"), "time"),
            Column("交易货币[ Trade Currency ]", lambda t, b: "CNY", "currency"),
            Column("交易金额[ Trade Amount ]",
                   lambda t, b: f"{t.credit:.2f}" if t.credit else f"-{t.debit:.2f}", "amount"),
            Column("交易后余额[ After-transaction balance ]", lambda t, b: f"{b:.2f}", "balance"),
            Column("交易流水号[ Transaction reference number ]", lambda t, b: t.serial, "serial"),
            Column("摘要[ Reference ]", lambda t, b: t.summary, "summary"),
            Column("用途[ Purpose ]", lambda t, b: t.purpose, "purpose"),
            Column("交易附言[ Remark ]", lambda t, b: t.remark, "remark"),
        ],
        own_name=None,
    )  # fmt: skip


def rcb(dates: str = "text") -> Layout:
    """Rural commercial bank: 2025年1月2日 or Excel serials, '-' for no amount, 总笔数 footer."""

    def when(t: Transaction, b: Decimal) -> object:
        return (
            _serial_1900(t.when)
            if dates == "serial"
            else f"{t.when:%Y}年{t.when.month}月{t.when.day}日"
        )

    return Layout(
        "rcb",
        [
            Column("交易流水号", lambda t, b: t.serial, "serial"),
            Column("交易日期", when, "date"),
            Column("交易账号", lambda t, b: OWN_ACCOUNT, "own_account"),
            Column("对方账户名", lambda t, b: t.counterparty, "counterparty"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("用途", lambda t, b: t.purpose, "purpose"),
            Column("支出金额", lambda t, b: _dash(t.debit), "debit"),
            Column("收入金额", lambda t, b: _dash(t.credit), "credit"),
            Column("余额", lambda t, b: f"{b:.2f}", "balance"),
        ],
        before=[["某某农村商业银行 客户账户交易明细"], ["户名", OWN_NAME, "", "账号", OWN_ACCOUNT]],
        opening_row=["", "", "", "", "", "期初余额", "", "-", "-", OPENING_CELL],
        after=[["总笔数：5", "", "", "", "", "", "", "9246.56", "50035.18"],
               ["打印日期：2025-02-01"]],
        has_time=False,
    )  # fmt: skip


def icbc_flag() -> Layout:
    """ICBC corporate, one 发生额 column and a 借贷标志 column (借/贷), date and time apart."""
    return Layout(
        "icbc-flag",
        [
            Column("交易日期", lambda t, b: t.when.strftime("%Y%m%d"), "date"),
            Column("交易时间", lambda t, b: t.when.strftime("%H:%M:%S"), "time"),
            Column("凭证号", lambda t, b: t.serial, "serial"),
            Column("对方户名", lambda t, b: t.counterparty, "counterparty"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("用途", lambda t, b: t.purpose, "purpose"),
            Column("借贷标志", lambda t, b: "借" if t.debit else "贷", "direction"),
            Column("发生额", lambda t, b: f"{t.debit or t.credit:,.2f}", "amount"),
            Column("余额", lambda t, b: f"{b:,.2f}", "balance"),
        ],
        before=[["中国工商银行 对公账户历史明细"], [f"账号：{OWN_ACCOUNT}"], [f"户名：{OWN_NAME}"]],
        after=[["合计", "", "", "", "", "", "", "", "", ""], ["以上数据仅供参考"]],
    )  # fmt: skip


def boc_debit() -> Layout:
    """BOC personal debit card export (中国银行 借记卡 交易明细), as public parsers read it.

    Twelve columns 记账日期, 记账时间, 币别, 金额 (signed: negative out), 余额,
    交易名称, 渠道, 网点名称, 附言, 对方账户名, 对方卡号/账号, 对方开户行, with
    ``-------------------`` in the empty text cells; no layout ships for it:
    ``juzhang import suggest-mapping`` writes its mapping.
    """
    dashes = "-------------------"

    def text(value: str) -> str:
        return value or dashes

    return Layout(
        "boc-debit",
        [
            Column("记账日期", lambda t, b: t.when.strftime("%Y-%m-%d"), "date"),
            Column("记账时间", lambda t, b: t.when.strftime("%H:%M:%S"), "time"),
            Column("币别", lambda t, b: "人民币", "currency"),
            Column("金额", lambda t, b: f"{t.credit:.2f}" if t.credit else f"-{t.debit:.2f}",
                   "amount"),
            Column("余额", lambda t, b: f"{b:.2f}", "balance"),
            Column("交易名称", lambda t, b: t.summary, "summary"),
            Column("渠道", lambda t, b: "网上银行", ""),
            Column("网点名称", lambda t, b: dashes, ""),
            Column("附言", lambda t, b: t.remark, "remark"),
            Column("对方账户名", lambda t, b: t.counterparty, "counterparty"),
            Column("对方卡号/账号", lambda t, b: t.account, "counterparty_account"),
            Column("对方开户行", lambda t, b: t.bank, "counterparty_bank"),
        ],
        before=[["中国银行储蓄卡账单明细"], [f"借记卡号：{OWN_ACCOUNT}"],
                [f"客户姓名：{OWN_NAME}"]],
    )  # fmt: skip


def signed_mapping() -> Layout:
    """A bank without a shipped profile, read through tests/data/mapping-signed.toml."""
    return Layout(
        "village-bank",
        [
            Column("记账日", lambda t, b: t.when.strftime("%Y-%m-%d"), "date"),
            Column("发生额", lambda t, b: f"{t.credit:,.2f}" if t.credit else f"({t.debit:,.2f})",
                   "amount"),
            Column("余额", lambda t, b: f"¥{b:,.2f}", "balance"),
            Column("对方名称", lambda t, b: t.counterparty, "counterparty"),
            Column("说明", lambda t, b: t.summary, "summary"),
        ],
        before=[["某某村镇银行 对账单"], ["账户：", OWN_ACCOUNT]],
        own_name=None,
        has_time=False,
    )  # fmt: skip


def flag_mapping() -> Layout:
    """A bank with a 借/贷 flag and one amount column, through mapping-flag.toml."""
    return Layout(
        "credit-union",
        [
            Column("日期", lambda t, b: t.when.strftime("%Y.%m.%d"), "date"),
            Column("借贷", lambda t, b: "借" if t.debit else "贷", "direction"),
            Column("金额", lambda t, b: f"{t.debit or t.credit:.2f}", "amount"),
            Column("余额", lambda t, b: f"{b:.2f}", "balance"),
            Column("对方", lambda t, b: t.counterparty, "counterparty"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("流水号", lambda t, b: t.serial, "serial"),
        ],
        own_account=None,
        own_name=None,
        has_time=False,
    )  # fmt: skip


# --------------------------------------------------------------------------- corporate layouts
# Built from the columns each profile's comment cites; see src/juzhang/importers/profiles/.


def _ymd(moment: datetime) -> str:
    return moment.strftime("%Y%m%d")


def bocom() -> Layout:
    """BOCOM 明细对账单: 序号, 会计日期 and 交易日期, numbers as cells, a 合计 footer."""
    return Layout(
        "bocom",
        [
            Column("序号", lambda t, b: None, numbered=True),
            Column("会计日期", lambda t, b: _ymd(t.when)),
            Column("交易日期", lambda t, b: t.when.strftime("%Y-%m-%d"), "date"),
            Column("交易名称", lambda t, b: "转账" if t.account else t.summary),
            Column("借方发生额", lambda t, b: _number(t.debit), "debit"),
            Column("贷方发生额", lambda t, b: _number(t.credit), "credit"),
            Column("余额", lambda t, b: float(b), "balance"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("对方户名", lambda t, b: t.counterparty, "counterparty"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("流水号", lambda t, b: t.serial, "serial"),
        ],
        before=[["交通银行明细对账单"],
                ["账号：", OWN_ACCOUNT, "户名：", OWN_NAME, "币种：", "人民币"]],
        after=[["合计", "", "", "", 9246.56, 50035.18]],
        has_time=False,
    )  # fmt: skip


def cmb() -> Layout:
    """CMB U-BANK export: 公司名称/银行帐号 side by side, 交易日 20250102, 交易时间 091500."""
    return Layout(
        "cmb",
        [
            Column("交易日", lambda t, b: _ymd(t.when), "date"),
            Column("交易时间", lambda t, b: t.when.strftime("%H%M%S"), "time"),
            Column("起息日", lambda t, b: _ymd(t.when)),
            Column("交易类型", lambda t, b: "转账" if t.account else "其他"),
            Column("借方金额", lambda t, b: float(t.debit), "debit"),
            Column("贷方金额", lambda t, b: float(t.credit), "credit"),
            Column("余额", lambda t, b: float(b), "balance"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("流水号", lambda t, b: t.serial, "serial"),
            Column("流程实例号", lambda t, b: ""),
            Column("业务名称", lambda t, b: ""),
            Column("用途", lambda t, b: t.purpose, "purpose"),
            Column("业务参考号", lambda t, b: ""),
            Column("业务摘要", lambda t, b: t.remark, "remark"),
            Column("其它摘要", lambda t, b: ""),
            Column("收/付方分行名", lambda t, b: ""),
            Column("收/付方名称", lambda t, b: t.counterparty, "counterparty"),
            Column("收/付方帐号", lambda t, b: t.account, "counterparty_account"),
            Column("收/付方开户行行号", lambda t, b: ""),
            Column("收/付方开户行名", lambda t, b: t.bank, "counterparty_bank"),
        ],
        before=[["公司名称", OWN_NAME, "银行帐号", OWN_ACCOUNT],
                ["查询开始日期", "20250101", "查询结束日期", "20250131"]],
    )  # fmt: skip


def spdb() -> Layout:
    """SPDB 电子对账单: 发生额 over 借方/贷方, 交易对手信息 over 对手机构/对手名称."""
    return Layout(
        "spdb",
        [
            Column("交易日期", lambda t, b: _ymd(t.when), "date"),
            Column("交易流水号", lambda t, b: t.serial, "serial"),
            Column("借方", lambda t, b: _number(t.debit), "debit"),
            Column("贷方", lambda t, b: _number(t.credit), "credit"),
            Column("账户余额", lambda t, b: float(b), "balance"),
            Column("对手机构", lambda t, b: t.bank, "counterparty_bank"),
            Column("对手名称", lambda t, b: t.counterparty, "counterparty"),
            Column("摘要代码", lambda t, b: t.summary, "summary"),
            Column("备注", lambda t, b: t.remark, "remark"),
        ],
        before=[["上海浦东发展银行电子对账单"],
                [f"客户名称：{OWN_NAME}"],
                [f"账户名称：{OWN_NAME}", "", f"账号：{OWN_ACCOUNT}"],
                ["汇总交易笔数 5 借方发生总额 9,246.56 贷方发生总额 50,035.18"]],
        group=["", "", "发生额", "", "", "交易对手信息", "", "", ""],
        has_time=False,
    )  # fmt: skip


def psbc() -> Layout:
    """PSBC 账户交易明细: 查询账号 and 户名 in the second row, the header fifth, 12 columns."""
    return Layout(
        "psbc",
        [
            Column("交易日期", lambda t, b: t.when.strftime("%Y-%m-%d"), "date"),
            Column("交易时间", lambda t, b: t.when.strftime("%H:%M:%S"), "time"),
            Column("交易渠道", lambda t, b: "网上银行" if t.account else "柜面"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("支出金额", lambda t, b: _plain(t.debit), "debit"),
            Column("收入金额", lambda t, b: _plain(t.credit), "credit"),
            Column("余额", lambda t, b: f"{b:.2f}", "balance"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("对方户名", lambda t, b: t.counterparty, "counterparty"),
            Column("对方开户行", lambda t, b: t.bank, "counterparty_bank"),
            Column("附言", lambda t, b: t.remark, "remark"),
            Column("交易流水号", lambda t, b: t.serial, "serial"),
        ],
        before=[["中国邮政储蓄银行账户交易明细"],
                ["查询账号", OWN_ACCOUNT, "", "", "户名", OWN_NAME],
                ["查询起止日期", "2025-01-01至2025-01-31"],
                ["币种", "人民币"]],
    )  # fmt: skip


def cib() -> Layout:
    """CIB: own account and name on every row, 现/转, no balance column, GBK CSV."""
    return Layout(
        "cib",
        [
            Column("交易日期", lambda t, b: t.when.strftime("%Y-%m-%d"), "date"),
            Column("交易时间", lambda t, b: t.when.strftime("%H:%M:%S"), "time"),
            Column("账号", lambda t, b: OWN_ACCOUNT, "own_account"),
            Column("户名", lambda t, b: OWN_NAME, "own_name"),
            Column("币种", lambda t, b: "人民币", "currency"),
            Column("现/转", lambda t, b: "转"),
            Column("凭证代号", lambda t, b: ""),
            Column("借方金额", lambda t, b: _plain(t.debit), "debit"),
            Column("贷方金额", lambda t, b: _plain(t.credit), "credit"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("用途", lambda t, b: t.purpose, "purpose"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("对方户名", lambda t, b: t.counterparty, "counterparty"),
            Column("对方银行", lambda t, b: t.bank, "counterparty_bank"),
            Column("备注", lambda t, b: t.remark, "remark"),
            Column("银行流水号", lambda t, b: t.serial, "serial"),
        ],
        before=[["兴业银行交易明细对账单"], [f"活期账号：{OWN_ACCOUNT}"]],
    )  # fmt: skip


def citic() -> Layout:
    """CITIC 账户交易明细: 账户：/查询周期： above, 柜员交易号, the own account on every row."""
    return Layout(
        "citic",
        [
            Column("交易日期", lambda t, b: _ymd(t.when), "date"),
            Column("交易时间", lambda t, b: t.when.strftime("%H:%M:%S"), "time"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("对方账户名称", lambda t, b: t.counterparty, "counterparty"),
            Column("对方账号开户网点名称", lambda t, b: t.bank, "counterparty_bank"),
            Column("借方发生额", lambda t, b: _number(t.debit), "debit"),
            Column("贷方发生额", lambda t, b: _number(t.credit), "credit"),
            Column("账户余额", lambda t, b: float(b), "balance"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("退汇标识", lambda t, b: ""),
            Column("退汇日期", lambda t, b: ""),
            Column("柜员交易号", lambda t, b: t.serial, "serial"),
            Column("附言", lambda t, b: t.remark, "remark"),
            Column("币种", lambda t, b: "人民币", "currency"),
            Column("交易账号", lambda t, b: OWN_ACCOUNT, "own_account"),
            Column("交易账号开户网点名称", lambda t, b: "中信银行某某支行"),
            Column("对账编号", lambda t, b: ""),
            Column("单位结算卡号", lambda t, b: ""),
        ],
        before=[["账户交易明细"], [f"账户：{OWN_ACCOUNT}"], ["查询周期：20250101-20250131"]],
        own_name=None,
    )  # fmt: skip


def rcc() -> Layout:
    """Rural credit cooperative 交易明细清单: metadata lines, 收入/支出 flag, one amount."""
    return Layout(
        "rcc",
        [
            Column("序号", lambda t, b: None, numbered=True),
            Column("交易日期", lambda t, b: t.when.strftime("%Y-%m-%d"), "date"),
            Column("交易类型", lambda t, b: "转账" if t.account else "其他"),
            Column("收入/支出", lambda t, b: "支出" if t.debit else "收入", "direction"),
            Column("交易金额", lambda t, b: f"{t.debit or t.credit:.2f}", "amount"),
            Column("账户余额", lambda t, b: f"{b:.2f}", "balance"),
            Column("对方户名", lambda t, b: t.counterparty, "counterparty"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("摘要", lambda t, b: t.summary, "summary"),
        ],
        before=[["交易明细清单"],
                [f"户名：{OWN_NAME}"],
                [f"账号/卡号：{OWN_ACCOUNT}"],
                ["币种：人民币"],
                ["开户机构：某某县农村信用合作联社营业部"],
                ["起止日期：2025-01-01至2025-01-31"],
                ["钞汇标志：本币"]],
        has_time=False,
    )  # fmt: skip


def rcc_serial() -> Layout:
    """Rural credit cooperative, the other variant: 交易流水号, 交易网点, 实时余额, XLSX."""
    return Layout(
        "rcc",
        [
            Column("交易流水号", lambda t, b: t.serial, "serial"),
            Column("交易日期", lambda t, b: _ymd(t.when), "date"),
            Column("交易网点", lambda t, b: "某某信用社营业部" if t.account else ""),
            Column("收入/支出", lambda t, b: "支出" if t.debit else "收入", "direction"),
            Column("交易金额", lambda t, b: float(t.debit or t.credit), "amount"),
            Column("实时余额", lambda t, b: float(b), "balance"),
            Column("对方户名", lambda t, b: t.counterparty, "counterparty"),
            Column("对方账号", lambda t, b: t.account, "counterparty_account"),
            Column("摘要", lambda t, b: t.summary, "summary"),
        ],
        before=[["某某省农村信用社联合社 账户交易明细"],
                [f"账号：{OWN_ACCOUNT}", "", f"户名：{OWN_NAME}"]],
        has_time=False,
    )  # fmt: skip


def rcb_corp() -> Layout:
    """Rural commercial bank, corporate: 对方账号/户名 in one cell, 借方总笔数 footers."""
    return Layout(
        "rcb-corp",
        [
            Column("交易日期", lambda t, b: _ymd(t.when), "date"),
            Column("摘要", lambda t, b: t.summary, "summary"),
            Column("借方金额", lambda t, b: _plain(t.debit), "debit"),
            Column("贷方金额", lambda t, b: _plain(t.credit), "credit"),
            Column("余额", lambda t, b: f"{b:.2f}", "balance"),
            Column("币种", lambda t, b: "人民币", "currency"),
            Column("对方账号/户名",
                   lambda t, b: f"{t.account}/{t.counterparty}" if t.account else ""),
            Column("用途", lambda t, b: t.purpose, "purpose"),
        ],
        before=[["某某农村商业银行客户账户明细对账单"],
                [f"账号/卡号：{OWN_ACCOUNT}", "", f"户名：{OWN_NAME}"]],
        after=[["借方总笔数：3", "", "借方总金额：9,246.56"],
               ["贷方总笔数：2", "", "贷方总金额：50,035.18"]],
        has_time=False,
    )  # fmt: skip


MAPPINGS = {
    "mapping-signed.toml": """\
# A user-written mapping for a bank juzhang has no profile for: one signed amount
# column, negative in accounting brackets.
name = "village-bank"
title = "某某村镇银行 对账单"
direction = "signed"
signed_positive = "credit"
detect = ["发生额", "记账日"]

[columns]
date = ["记账日"]
amount = ["发生额"]
balance = ["余额"]
counterparty = ["对方名称"]
summary = ["说明"]
""",
    "mapping-flag.toml": """\
# A user-written mapping: a 借/贷 flag and one amount column.
name = "credit-union"
title = "某某信用社 流水"
direction = "flag"
detect = ["借贷", "金额"]

[columns]
date = ["日期"]
direction = ["借贷"]
amount = ["金额"]
balance = ["余额"]
counterparty = ["对方"]
summary = ["摘要"]
serial = ["流水号"]
""",
}

# --------------------------------------------------------------------------- writers


def write_csv(
    path: Path, rows: Sequence[Sequence[object]], encoding: str, delimiter: str = ","
) -> None:
    """Write rows as CSV the way Excel saves it (CRLF, minimal quoting)."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        for row in rows:
            writer.writerow(["" if cell is None else cell for cell in row])


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    merge: str | None = None,
    epoch_1904: bool = False,
) -> None:
    """Write rows with openpyxl; datetimes become date cells."""
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    book = Workbook()
    if epoch_1904:
        book.epoch = CALENDAR_MAC_1904
    sheet = book.active
    sheet.title = "明细"
    for row in rows:
        sheet.append(list(row))
    for column in sheet.iter_cols():
        for cell in column:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as banks write it
    if merge:
        for block in merge.split(","):
            sheet.merge_cells(block)
    book.properties.created = datetime(2025, 2, 1)
    book.properties.modified = datetime(2025, 2, 1)
    book.save(path)


def write_xls(path: Path, rows: Sequence[Sequence[object]]) -> bool:
    """Write rows as binary XLS with xlwt; returns False when xlwt is not installed."""
    try:
        import xlwt
    except ImportError:
        return False
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value not in (None, ""):
                sheet.write(r, c, value)
    book.save(str(path))
    return True


def write_formula_xls(path: Path) -> bool:
    """The rural bank sample as XLS with a formula that was never calculated (row 8, 收入金额).

    xlwt stores no result for a formula (an empty string), as files written
    without calculation do.  Returns False when xlwt is not installed.
    """
    try:
        import xlwt
    except ImportError:
        return False
    rows = rcb().rows()
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if r == 7 and c == 8:
                sheet.write(r, c, xlwt.Formula("30+5.18"))
            elif value not in (None, ""):
                sheet.write(r, c, value)
    book.save(str(path))
    return True


@dataclass(frozen=True)
class Sample:
    """One sample file: its name, layout and how it is written."""

    filename: str
    layout: Callable[[], Layout]
    write: Callable[[Path, list[list[object]]], bool | None]
    mapping: str | None = None  # a mapping file to read it with

    def expected(self) -> dict[str, Any]:
        data = self.layout().expected()
        data["file"] = self.filename
        return data


def abc_rows(rows: list[list[object]]) -> list[list[object]]:
    """Put the un-grouped headers in the group row (as a merged cell shows them)."""
    return lift_headers(rows, 3, (0, 3))


def lift_headers(
    rows: list[list[object]], group_row: int, columns: Sequence[int]
) -> list[list[object]]:
    """Move the headers of ``columns`` up into the group row (0-based ``group_row``)."""
    group, header = rows[group_row], rows[group_row + 1]
    for column in columns:
        group[column], header[column] = header[column], ""
    return rows


SAMPLES: tuple[Sample, ...] = (
    Sample("icbc.gbk.csv", icbc, lambda p, rows: write_csv(p, rows, "gbk")),
    Sample("icbc-dc.xlsx", icbc_dc, lambda p, rows: write_xlsx(p, rows)),
    Sample("icbc-dc-1904.xlsx", lambda: icbc_dc("1904"),
           lambda p, rows: write_xlsx(p, rows, epoch_1904=True)),
    Sample("ccb.utf8-bom.csv", ccb, lambda p, rows: write_csv(p, rows, "utf-8-sig")),
    Sample("abc.xlsx", abc, lambda p, rows: write_xlsx(p, abc_rows(rows),
                                                       merge="B4:C4,E4:F4,A4:A5,D4:D5")),
    Sample("boc.utf8.csv", boc, lambda p, rows: write_csv(p, rows, "utf-8")),
    Sample("rcb.xls", rcb, write_xls),
    Sample("rcb-serial.xls", lambda: rcb("serial"), write_xls),
    Sample("rcb.gbk.tsv", rcb, lambda p, rows: write_csv(p, rows, "gbk", "\t")),
    Sample("village-bank.utf8.csv", signed_mapping, lambda p, rows: write_csv(p, rows, "utf-8"),
           "mapping-signed.toml"),
    Sample("credit-union.gb18030.csv", flag_mapping,
           lambda p, rows: write_csv(p, rows, "gb18030", ";"), "mapping-flag.toml"),
    Sample("bocom.xlsx", bocom, lambda p, rows: write_xlsx(p, rows)),
    Sample("cmb.xlsx", cmb, lambda p, rows: write_xlsx(p, rows)),
    Sample("spdb.xlsx", spdb, lambda p, rows: write_xlsx(
        p, lift_headers(rows, 4, (0, 1, 4, 7, 8)),
        merge="C5:D5,F5:G5,A5:A6,B5:B6,E5:E6,H5:H6,I5:I6")),
    Sample("psbc.xlsx", psbc, lambda p, rows: write_xlsx(p, rows)),
    Sample("cib.gbk.csv", cib, lambda p, rows: write_csv(p, rows, "gbk")),
    Sample("citic.xls", citic, write_xls),
    Sample("rcc.gbk.csv", rcc, lambda p, rows: write_csv(p, rows, "gbk")),
    Sample("rcc-serial.xlsx", rcc_serial, lambda p, rows: write_xlsx(p, rows)),
    Sample("rcb-corp.xls", rcb_corp, write_xls),
    Sample("icbc-flag.gbk.csv", icbc_flag, lambda p, rows: write_csv(p, rows, "gbk")),
)  # fmt: skip

SUGGESTED: tuple[Sample, ...] = (
    Sample("boc-debit.utf8.csv", boc_debit, lambda p, rows: write_csv(p, rows, "utf-8")),
)  # fmt: skip
"""Samples no shipped layout reads: ``juzhang import suggest-mapping`` writes their mapping."""


def write_samples(folder: Path, *, expected: bool = True) -> list[Path]:
    """Write every sample (and its expected JSON, and the mapping files) into ``folder``.

    Returns the sample files written (XLS ones only when xlwt is installed).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bad").mkdir(exist_ok=True)
    write_formula_xls(folder / "bad" / "formula-uncalculated.xls")
    for name, text in MAPPINGS.items():
        (folder / name).write_text(text, encoding="utf-8")
    written = []
    for sample in SAMPLES + SUGGESTED:
        path = folder / sample.filename
        if sample.write(path, sample.layout().rows()) is not False:
            written.append(path)
        if expected:
            (folder / f"{sample.filename}.expected.json").write_text(
                json.dumps(sample.expected(), ensure_ascii=False, indent=1) + "\n",
                encoding="utf-8",
            )
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA
    for written_path in write_samples(target):
        print(written_path)


# --------------------------------------------------------------------------- crafted XLSX

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def cell_ref(row: int, column: int) -> str:
    """``(1, 0)`` → ``"A1"``."""
    letters, index = "", column + 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def sheet_xml(
    rows: Sequence[Sequence[object]],
    inject: dict[tuple[int, int], str] | None = None,
    *,
    prologue: str = "",
) -> str:
    """Worksheet XML for rows (inline strings, numbers); ``inject`` puts raw cell XML at
    (1-based row, 0-based column)."""
    from xml.sax.saxutils import escape

    inject = dict(inject or {})
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>{prologue}<worksheet xmlns="{_MAIN}"><sheetData>'
    ]
    height = max([len(rows)] + [r for r, _ in inject])
    for number in range(1, height + 1):
        row = list(rows[number - 1]) if number <= len(rows) else []
        cells = []
        width = max([len(row)] + [c + 1 for r, c in inject if r == number])
        for column in range(width):
            ref = cell_ref(number, column)
            if (number, column) in inject:
                cells.append(inject.pop((number, column)).replace("REF", ref))
                continue
            value = row[column] if column < len(row) else None
            if value is None or value == "":
                continue
            if isinstance(value, int | float | Decimal):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
        parts.append(f'<row r="{number}">{"".join(cells)}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts)


def write_raw_xlsx(
    path: Path,
    sheet: str,
    *,
    shared: str | None = None,
    workbook: str | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """Write a minimal XLSX by hand, for files no spreadsheet program would write."""
    import zipfile

    book = workbook or (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_RELS}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )
    root = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", root)
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared is not None:
            archive.writestr("xl/sharedStrings.xml", shared)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path
