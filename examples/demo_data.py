"""The demo agency's data (演示数据): three communities and a quarter of their money.

:func:`demo_agency` returns an :class:`Agency`: the agency's own staff, and
three communities on the three shipped charts, each with its cashier
(报账员) and 民主理财小组 supervisor, its detail accounts (明细科目), opening
balances (期初余额), bank account and statement layout.  :func:`plan_month`
makes one month of a community's activity, deterministically from a seed:

* bank receipts and payments the cashier records in the bank journal (the
  street office's allocation, shop rents, a donation, cadres' subsidies paid
  through the bank, the electricity bill);
* a cash withdrawal (提取备用金), cash receipts and small cash payments;
* a claim batch (报账单) of the month's petty expenses, with the paperwork
  rules (approvers above 300 元, a collective decision above 1000 元) and, in
  the first month, one claim whose 证明人 is missing (returned, never booked);
* a cheque (转账支票) written on the 28th that the bank pays early next month
  (an outstanding item at the month end: 企业已付、银行未付);
* bank-only lines: the account fee (手续费) and, in the quarter's last month,
  the interest (结息) — the cashier accepts them from the statement;
* special events given by the caller: a voucher booked to the wrong account
  (reversed and corrected), a cash count that comes up short (现金短款).

This module only makes data: plain frozen dataclasses, amounts as
:class:`~decimal.Decimal`.  It writes the files a real agency receives (the
bank statement in the bank's layout, the claim batch, the rules) through
:func:`write_statement`, :func:`write_claims` and :func:`rules_toml`, and
never touches the books: :mod:`juzhang.demo` drives the library with it.
``examples/demo_agency.py`` prints a month of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from juzhang.core.period import last_day
from juzhang.money import capitals

__all__ = [
    "PERIODS",
    "SEED",
    "Agency",
    "BankMove",
    "CashMove",
    "ClaimItem",
    "Community",
    "MonthPlan",
    "Person",
    "StatementLine",
    "claims_toml",
    "demo_agency",
    "plan_month",
    "rules_toml",
    "statement_lines",
    "write_claims",
    "write_statement",
]

SEED = 2026
"""The seed every demo run uses: the same data every time."""

PERIODS = (202607, 202608, 202609)
"""The demo's quarter: July to September 2026."""


@dataclass(frozen=True, slots=True)
class Person:
    """A person and the role they hold (``cashier``, ``bookkeeper``, ...)."""

    login: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Community:
    """One community (社区): its chart, people, accounts, opening balances and bank.

    ``kinds`` maps what money is for (``grant``, ``rent``, ``office`` ...) to
    the detail account of this community's chart; ``loss_pending`` is
    待处理财产损溢 where the chart has one.
    """

    code: str
    name: str
    chart: str
    cashier: Person
    supervisor: Person
    cash: str
    bank: str
    bank_name: str
    bank_number: str
    layout: str  # the bank statement layout (importers/profiles/NAME.toml)
    street: str  # the street office (街道办事处) that funds it
    accounts: tuple[tuple[str, str], ...]
    opening: tuple[tuple[str, Decimal], ...]
    kinds: tuple[tuple[str, str], ...]
    accumulated_depreciation: str
    depreciation: Decimal
    loss_pending: str | None = None
    secretary: str = ""  # 书记, printed in the board's signature block (fictional)
    director: str = ""  # 主任 / 理事长 (fictional)

    def account(self, kind: str) -> str:
        """The detail account booking money of ``kind``."""
        return dict(self.kinds)[kind]


@dataclass(frozen=True, slots=True)
class Agency:
    """The agency (代理中心): its staff (bookkeeper, reviewer, admin) and its communities."""

    name: str
    bookkeeper: Person
    reviewer: Person
    admin: Person
    communities: tuple[Community, ...]

    @property
    def people(self) -> tuple[Person, ...]:
        """Everyone, agency staff first."""
        staff = (self.bookkeeper, self.reviewer, self.admin)
        return staff + tuple(p for c in self.communities for p in (c.cashier, c.supervisor))


@dataclass(frozen=True, slots=True)
class CashMove:
    """A movement the cashier records and the bookkeeper books from the journal.

    ``amount`` is money in on ``custody`` when positive, out when negative;
    ``other`` is the counter account — when it is itself a custody account
    (a withdrawal) the cashier records both sides.  ``booked_as`` is the wrong
    account the bookkeeper first uses (the voucher is then reversed and
    corrected).  ``reference`` is a cheque number.
    """

    date: dt.date
    custody: str
    amount: Decimal
    other: str
    summary: str
    counterparty: str = ""
    attachments: int = 1
    booked_as: str | None = None
    reference: str = ""


@dataclass(frozen=True, slots=True)
class BankMove:
    """A bank movement the cashier records in the bank journal; the statement drafts it.

    ``purpose`` is the bank's 用途 (what the categorisation rules read and
    the cashier writes as the journal's summary); the bank books it the same day.
    """

    date: dt.date
    amount: Decimal
    summary: str
    purpose: str
    counterparty: str
    counterparty_account: str


@dataclass(frozen=True, slots=True)
class ClaimItem:
    """One row of the claim batch (报账单), as the cashier fills it in."""

    date: dt.date
    purpose: str
    amount: Decimal
    category: str
    payment: str
    handler: str
    witness: str
    approver: str
    attachments: int
    invoice_no: str = ""
    decision_ref: str = ""


@dataclass(frozen=True, slots=True)
class StatementLine:
    """A line of the bank's statement: signed amount (in positive), running balance after."""

    date: dt.date
    time: str
    serial: str
    amount: Decimal
    balance: Decimal
    summary: str
    purpose: str
    counterparty: str
    counterparty_account: str


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """One month of a community's activity.

    ``bank_moves`` the cashier records in the bank journal, then the statement
    import drafts them; ``cash_moves`` (and ``cheque``) the bookkeeper books
    straight from the journal; ``claims`` come as a claim batch;
    ``bank_only`` are lines only the bank knows (fee, interest) that the
    cashier accepts from the statement.  ``cash_short`` is how much the
    month-end cash count comes up short (0: it agrees).
    """

    period: int
    bank_moves: tuple[BankMove, ...]
    cash_moves: tuple[CashMove, ...]
    claims: tuple[ClaimItem, ...]
    bank_only: tuple[BankMove, ...]
    cheque: CashMove | None
    cash_short: Decimal = Decimal("0.00")

    @property
    def count_date(self) -> dt.date:
        """The month-end cash count's date."""
        return last_day(self.period)


# --------------------------------------------------------------------------- the agency


def _d(text: str) -> Decimal:
    return Decimal(text)


def demo_agency() -> Agency:
    """Return the demo agency: 幸福街道 三资代理服务中心 and its three communities."""
    h001 = Community(
        code="H001",
        secretary="郑海燕",
        director="马国庆",
        name="幸福社区股份经济合作社",
        chart="rural-2023",
        cashier=Person("liuxia", "刘霞", "cashier"),
        supervisor=Person("sunli", "孙立", "supervisor"),
        cash="101",
        bank="10201",
        bank_name="幸福农商银行营业部",
        bank_number="6230910000012345678",
        layout="rcb",
        street="幸福街道办事处",
        accounts=(
            ("10201", "农商银行基本户"),
            ("50101", "房屋出租收入"),
            ("50301", "街道拨付工作经费"),
            ("50401", "捐赠收入"),
            ("50402", "利息收入"),
            ("51301", "办公费"),
            ("51302", "干部补贴"),
            ("51303", "银行手续费"),
            ("51304", "水电费"),
            ("51305", "折旧费"),
            ("51306", "维修费"),
            ("51401", "困难居民慰问"),
            ("51402", "社区活动"),
        ),
        opening=(
            ("101", _d("1500.00")),
            ("10201", _d("186400.00")),
            ("151", _d("420000.00")),
            ("152", _d("-86000.00")),
            ("301", _d("-300000.00")),
            ("311", _d("-221900.00")),
        ),
        kinds=(
            ("grant", "50301"),
            ("rent", "50101"),
            ("donation", "50401"),
            ("interest", "50402"),
            ("office", "51301"),
            ("subsidy", "51302"),
            ("fee", "51303"),
            ("utilities", "51304"),
            ("depreciation", "51305"),
            ("repair", "51306"),
            ("relief", "51401"),
            ("activity", "51402"),
        ),
        accumulated_depreciation="152",
        depreciation=_d("1750.00"),
        loss_pending="181",
    )
    h002 = Community(
        code="H002",
        secretary="黄德胜",
        director="林秀梅",
        name="光明村经济合作社",
        chart="rural-2004",
        cashier=Person("chenfang", "陈芳", "cashier"),
        supervisor=Person("hegang", "何刚", "supervisor"),
        cash="101",
        bank="10201",
        bank_name="中国工商银行光明支行",
        bank_number="1202020309000123456",
        layout="icbc",
        street="光明街道办事处",
        accounts=(
            ("10201", "工商银行基本户"),
            ("50101", "门面出租收入"),
            ("52201", "街道补助"),
            ("53101", "捐赠收入"),
            ("53102", "利息收入"),
            ("54101", "办公费"),
            ("54102", "干部报酬"),
            ("54103", "银行手续费"),
            ("54104", "水电费"),
            ("54105", "折旧费"),
            ("54106", "维修费"),
            ("55101", "困难户慰问"),
            ("55102", "村民活动"),
        ),
        opening=(
            ("101", _d("2000.00")),
            ("10201", _d("95300.00")),
            ("151", _d("260000.00")),
            ("152", _d("-42000.00")),
            ("301", _d("-200000.00")),
            ("311", _d("-115300.00")),
        ),
        kinds=(
            ("grant", "52201"),
            ("rent", "50101"),
            ("donation", "53101"),
            ("interest", "53102"),
            ("office", "54101"),
            ("subsidy", "54102"),
            ("fee", "54103"),
            ("utilities", "54104"),
            ("depreciation", "54105"),
            ("repair", "54106"),
            ("relief", "55101"),
            ("activity", "55102"),
        ),
        accumulated_depreciation="152",
        depreciation=_d("980.00"),
    )
    s001 = Community(
        code="S001",
        secretary="许文华",
        director="高建平",
        name="和谐社区公益服务中心",
        chart="npo-2004",
        cashier=Person("zhoulan", "周兰", "cashier"),
        supervisor=Person("wuqiang", "吴强", "supervisor"),
        cash="1001",
        bank="100201",
        bank_name="幸福农商银行和谐分理处",
        bank_number="6230910000098765432",
        layout="rcb",
        street="和谐街道办事处",
        accounts=(
            ("100201", "农商银行基本户"),
            ("41010201", "社会捐赠"),  # under the shipped 410102 非限定性收入
            ("430101", "场地服务收入"),
            ("44010201", "街道购买服务"),  # under 440102 非限定性收入
            ("490101", "利息收入"),
            ("510101", "困难帮扶"),
            ("510102", "社区活动"),
            ("520101", "办公费"),
            ("520102", "工作人员补贴"),
            ("520103", "水电费"),
            ("520104", "折旧费"),
            ("520105", "维修费"),
            ("530101", "银行手续费"),
        ),
        opening=(
            ("1001", _d("800.00")),
            ("100201", _d("58600.00")),
            ("1501", _d("36000.00")),
            ("1502", _d("-6000.00")),
            ("3101", _d("-89400.00")),
        ),
        kinds=(
            ("grant", "44010201"),
            ("rent", "430101"),
            ("donation", "41010201"),
            ("interest", "490101"),
            ("office", "520101"),
            ("subsidy", "520102"),
            ("fee", "530101"),
            ("utilities", "520103"),
            ("depreciation", "520104"),
            ("repair", "520105"),
            ("relief", "510101"),
            ("activity", "510102"),
        ),
        accumulated_depreciation="1502",
        depreciation=_d("300.00"),
    )
    return Agency(
        name="幸福街道三资代理服务中心",
        bookkeeper=Person("wangjing", "王静", "bookkeeper"),
        reviewer=Person("zhaomin", "赵敏", "reviewer"),
        admin=Person("zhoujun", "周军", "admin"),
        communities=(h001, h002, s001),
    )


# --------------------------------------------------------------------------- a month


_TENANTS = (
    ("幸福便利店", "6217001234567890011"),
    ("惠民大药房", "6228481234567890022"),
    ("老街坊面馆", "6222021234567890033"),
)
_DONORS = (("鑫达物业有限公司", "3100012345678901"), ("爱心企业家 林先生", "6214831234567890"))
_POWER = ("国网供电公司", "1001234509876543210")
_CONTRACTORS = (
    ("宏达建筑装修队", "3301020304050607", "活动室门窗维修费"),
    ("建民水电维修部", "6228480987654321", "办公用房水电维修费"),
    ("顺达市政工程队", "6217009876543210", "广场地砖修补费"),
)
_HANDLERS = (("李梅", "王强"), ("张伟", "刘洋"), ("赵丽", "孙浩"))
_DIRECTOR, _SECRETARY = "郑主任", "冯书记"

#: Petty expenses the cashier claims: (事由, kind, lowest, highest) in 元.
_PETTY = (
    ("购办公用品（笔、文件夹）", "office", 80, 260),
    ("购打印纸和墨盒", "office", 150, 420),
    ("社区活动购买奖品", "activity", 200, 680),
    ("慰问困难居民（米、油）", "relief", 400, 1500),
    ("寄送材料快递费", "office", 20, 60),
    ("会议用茶水", "office", 40, 120),
    ("活动室维修材料", "repair", 120, 560),
)


def _money(rng: random.Random, low: int, high: int, step: int = 1) -> Decimal:
    """An amount between ``low`` and ``high`` 元 in steps of ``step`` 元, with some fen."""
    whole = rng.randrange(low, high + 1, step)
    fen = rng.choice((0, 0, 0, 50, 80)) if step == 1 else 0
    return Decimal(whole) + Decimal(fen) / 100


def _day(period: int, day: int) -> dt.date:
    return dt.date(period // 100, period % 100, day)


def plan_month(
    community: Community,
    period: int,
    seed: int = SEED,
    *,
    mistake: bool = False,
    cash_short: Decimal = Decimal("0.00"),
    returned_claim: bool = False,
    quarter_end: bool = False,
) -> MonthPlan:
    """Make ``community``'s activity for ``period`` from ``seed`` (same inputs, same month).

    ``mistake``: one cash payment is first booked to the wrong account;
    ``cash_short``: the month-end count comes up short by that much;
    ``returned_claim``: the claim batch carries a claim without a 证明人;
    ``quarter_end``: the bank pays the quarter's interest (结息) on the 21st.
    """
    rng = random.Random(f"{seed}-{community.code}-{period}")
    month = period % 100
    k = community.account
    bank: list[BankMove] = [
        BankMove(
            _day(period, rng.randint(2, 5)),
            _money(rng, 18000, 36000, 500),
            "转账",
            f"拨付{month}月社区工作经费",
            community.street,
            "1234500001000" + community.code[-3:],
        ),
    ]
    for tenant, account in rng.sample(_TENANTS, 2):
        bank.append(
            BankMove(
                _day(period, rng.randint(6, 12)),
                _money(rng, 25, 60, 5) * 100,
                "转账",
                f"{month}月门面租金",
                tenant,
                account,
            )
        )
    if month == 8:
        donor, account = rng.choice(_DONORS)
        bank.append(
            BankMove(
                _day(period, 16),
                _money(rng, 20, 80, 5) * 100,
                "转账",
                "捐赠助学助困",
                donor,
                account,
            )
        )
    bank.append(
        BankMove(
            _day(period, 10),
            -_money(rng, 80, 160, 5) * 100,
            "代发",
            f"代发{month - 1 or 12}月社区干部补贴",
            "",
            "",
        )
    )
    bank.append(
        BankMove(
            _day(period, rng.randint(14, 18)),
            -_money(rng, 900, 2600),
            "转账",
            f"缴纳{month - 1 or 12}月办公用房电费",
            _POWER[0],
            _POWER[1],
        )
    )
    handler, witness = _HANDLERS[rng.randrange(len(_HANDLERS))]
    withdrawal = CashMove(
        _day(period, 1),
        community.cash,
        Decimal("3000.00"),
        community.bank,
        "提取备用金",
        attachments=1,
    )
    cash: list[CashMove] = [
        withdrawal,
        CashMove(
            _day(period, rng.randint(8, 20)),
            community.cash,
            _money(rng, 2, 6) * 50,
            k("rent"),
            "收活动室场地使用费",
            "夕阳红舞蹈队",
        ),
        CashMove(
            _day(period, rng.randint(12, 24)),
            community.cash,
            -_money(rng, 120, 380),
            k("office"),
            "购社区宣传栏展板",
            "文兴广告部",
            2,
            booked_as=k("activity") if mistake else None,
        ),
    ]
    claims: list[ClaimItem] = []
    for purpose, kind, low, high in rng.sample(_PETTY, 4):
        amount = _money(rng, low, high)
        approver = _DIRECTOR if amount < 300 else f"{_DIRECTOR}、{_SECRETARY}"
        decision = f"两委会议纪要〔{period // 100}〕{month:02d}号" if amount > 1000 else ""
        claims.append(
            ClaimItem(
                _day(period, rng.randint(3, 25)),
                purpose,
                amount,
                f"{k(kind)} {dict(community.accounts)[k(kind)]}",
                "现金",
                handler,
                witness,
                approver,
                rng.randint(1, 3),
                f"{rng.randrange(10**19, 10**20)}",
                decision,
            )
        )
    if returned_claim:
        claims.append(
            ClaimItem(
                _day(period, 26),
                "购买垃圾分类宣传品",
                Decimal("186.00"),
                f"{k('activity')} {dict(community.accounts)[k('activity')]}",
                "现金",
                handler,
                "",
                _DIRECTOR,
                1,
            )
        )
    claims.sort(key=lambda c: c.date)
    contractor, account, what = _CONTRACTORS[rng.randrange(len(_CONTRACTORS))]
    cheque = CashMove(
        _day(period, 28),
        community.bank,
        -_money(rng, 8, 30, 1) * 100,
        k("repair"),
        f"开转账支票支付{what}",
        contractor,
        2,
        reference=f"支票{period % 10000:04d}{rng.randrange(1000, 9999)}",
    )
    only = [BankMove(_day(period, 20), -Decimal("15.00"), "手续费", "账户管理费", "", "")]
    if quarter_end:
        only.append(
            BankMove(_day(period, 21), _money(rng, 60, 180), "结息", "活期存款利息", "", "")
        )
    return MonthPlan(
        period,
        tuple(sorted(bank, key=lambda m: m.date)),
        tuple(cash),
        tuple(claims),
        tuple(only),
        cheque,
        cash_short,
    )


# --------------------------------------------------------------------------- the bank's side


def statement_lines(
    plan: MonthPlan, community: Community, opening: Decimal, cleared: Sequence[CashMove] = ()
) -> list[StatementLine]:
    """The bank's lines for the month: what the bank saw, in date order.

    ``opening`` is the bank's balance at the month start; ``cleared`` are
    cheques of earlier months the bank pays now (on the 3rd).  The month's
    own cheque is not on it: the bank pays it next month.
    """
    moves: list[tuple[dt.date, Decimal, str, str, str, str]] = [
        (m.date, m.amount, m.summary, m.purpose, m.counterparty, m.counterparty_account)
        for m in (*plan.bank_moves, *plan.bank_only)
    ]
    for m in plan.cash_moves:  # a withdrawal: money into cash is money out of the bank
        if m.other == community.bank:
            moves.append((m.date, -m.amount, "取现", "备用金", "", ""))
    for c in cleared:
        moves.append((_day(plan.period, 3), c.amount, "转账支票", c.reference, c.counterparty, ""))
    moves.sort(key=lambda m: m[0])
    lines, balance = [], opening
    for n, (date, amount, summary, purpose, who, account) in enumerate(moves, start=1):
        balance += amount
        lines.append(
            StatementLine(
                date,
                f"{9 + n % 8:02d}:{(n * 7) % 60:02d}:{(n * 13) % 60:02d}",
                f"{date:%Y%m%d}{community.code[-3:]}{n:04d}",
                amount,
                balance,
                summary,
                purpose,
                who,
                account,
            )
        )
    return lines


_RCB_HEADER = [
    "交易流水号",
    "交易日期",
    "交易账号",
    "对方账户名",
    "对方账号",
    "摘要",
    "用途",
    "支出金额",
    "收入金额",
    "余额",
]
_ICBC_HEADER = [
    "凭证号",
    "交易时间",
    "对方单位",
    "对方账号",
    "转入金额",
    "转出金额",
    "余额",
    "用途",
    "摘要",
    "附言",
]


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def write_statement(
    path: Path, community: Community, lines: Sequence[StatementLine], opening: Decimal
) -> Path:
    """Write the statement as the community's bank exports it (CSV), title rows and all.

    ``rcb`` (农商行): GBK, a title, 户名/账号 row, an opening-balance row, a
    总笔数 footer; ``icbc`` (工商银行): GB18030, ``[HISTORYDETAIL]``, 账号/户名
    rows, a 合计 row and a disclaimer.
    """
    rows: list[list[str]] = []
    out_total = sum((-ln.amount for ln in lines if ln.amount < 0), Decimal("0.00"))
    in_total = sum((ln.amount for ln in lines if ln.amount > 0), Decimal("0.00"))
    if community.layout == "rcb":
        rows.append([f"{community.bank_name} 客户账户交易明细"])
        rows.append(["户名", community.name, "", "账号", community.bank_number])
        rows.append(_RCB_HEADER)
        rows.append(["", "", "", "", "", "期初余额", "", "-", "-", f"{opening:.2f}"])
        for ln in lines:
            rows.append(
                [
                    ln.serial,
                    f"{ln.date.year}年{ln.date.month}月{ln.date.day}日",
                    community.bank_number,
                    ln.counterparty,
                    ln.counterparty_account,
                    ln.summary,
                    ln.purpose,
                    _amount(-ln.amount) if ln.amount < 0 else "-",
                    _amount(ln.amount) if ln.amount > 0 else "-",
                    f"{ln.balance:.2f}",
                ]
            )
        footer = [f"总笔数：{len(lines)}", "", "", "", "", "", ""]
        rows.append([*footer, f"{out_total:.2f}", f"{in_total:.2f}"])
        encoding = "gbk"
    elif community.layout == "icbc":
        rows += [["[HISTORYDETAIL]"], ["账号：", community.bank_number]]
        rows += [["户名：", community.name], []]
        rows.append(_ICBC_HEADER)
        for ln in lines:
            rows.append(
                [
                    ln.serial,
                    f"{ln.date:%Y-%m-%d} {ln.time}",
                    ln.counterparty,
                    ln.counterparty_account,
                    _amount(ln.amount) if ln.amount > 0 else "",
                    _amount(-ln.amount) if ln.amount < 0 else "",
                    _amount(ln.balance),
                    ln.purpose,
                    ln.summary,
                    "",
                ]
            )
        rows.append(["合计", "", "", "", _amount(in_total), _amount(out_total)])
        rows.append(["以上数据仅供参考，具体以银行账务为准"])
        encoding = "gb18030"
    else:  # pragma: no cover - the demo's communities use these two
        raise ValueError(f"no demo writer for layout {community.layout!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


#: The bookkeeper's categorisation rules: (name, condition, direction, kind, 摘要 template).
_RULES = (
    ("街道拨款", 'counterparty = "街道办事处"', "in", "grant", "收{counterparty}{purpose}"),
    ("门面租金", 'purpose = ["租金"]', "in", "rent", "收{counterparty}{purpose}"),
    ("捐赠", 'purpose = ["捐赠"]', "in", "donation", "收{counterparty}{purpose}"),
    ("存款利息", 'summary = ["结息", "利息"]', "in", "interest", "{date:%m}月活期存款利息"),
    ("手续费", 'summary = ["手续费"]', "out", "fee", "{date:%m}月银行账户管理费"),
    ("代发补贴", 'summary = ["代发"]', "out", "subsidy", "{purpose}"),
    ("电费", 'counterparty_regex = "(供电|电力)"', "out", "utilities", "{purpose}"),
)


def rules_toml(community: Community) -> str:
    """The bookkeeper's categorisation rules for the community's statement lines (TOML)."""
    out = [f"# {community.code} {community.name} 银行对账单分类规则 (first match wins)", ""]
    for name, condition, direction, kind, template in _RULES:
        out += ["[[rule]]", f'name = "{name}"', condition, f'direction = "{direction}"']
        out += [f'account = "{community.account(kind)}"', f'template = "{template}"', ""]
    return "\n".join(out)


def claims_toml(community: Community) -> str:
    """The community's claim rules: where 现金 and 银行 go, the default approval tiers."""
    return "\n".join(
        [
            f"# {community.code} {community.name} 报账规则",
            f'entity = "{community.code}"',
            "",
            "[rules]",
            "min_attachments = 1",
            "witness_not_handler = true",
            "",
            "[payment]",
            f'"现金" = "{community.cash}"',
            f'"银行" = "{community.bank}"',
            "",
        ]
    )


def write_claims(
    path: Path, community: Community, period: int, claims: Sequence[ClaimItem]
) -> Path:
    """Write the claim batch as the cashier fills in the 报账单 form (same sheet, same columns).

    Built like :func:`juzhang.exporters.claims_template.write_claims_template` (title, 单位
    line, the form's header) with the rows filled in, and a 合计 row.
    """
    from juzhang.exporters.excel import Column, Sheet, Value, new_workbook, save  # noqa: PLC0415 — start-up time (heavy, used here only)
    from juzhang.importers.claims import COLUMNS  # noqa: PLC0415 — start-up time (heavy, used here only)

    kinds = {"date": "date", "amount": "amount", "payment": "center", "attachments": "number"}
    wb = new_workbook("报账单", entity=community.name, subject="报账单 claim batch")
    sheet = Sheet.add(
        wb,
        "报账单",
        [
            Column(kinds.get(c.key, "text"), min_width=c.width, max_width=c.width + 10)
            for c in COLUMNS
        ],
    )
    sheet.title("报账单")
    sheet.info(
        f"单位：{community.name}",
        f"所属期间：{period // 100}年{period % 100}月",
        f"报账员（签字）：{community.cashier.name}",
    )
    sheet.header([c.header for c in COLUMNS])
    for c in claims:
        values: dict[str, Value] = {
            "date": c.date,
            "purpose": c.purpose,
            "amount": c.amount,
            "capitals": capitals(c.amount),
            "category": c.category,
            "payment": c.payment,
            "handler": c.handler,
            "witness": c.witness,
            "approver": c.approver,
            "attachments": c.attachments,
            "invoice_no": c.invoice_no,
            "decision_ref": c.decision_ref,
            "remark": "",
        }
        sheet.line([values[col.key] for col in COLUMNS])
    total = sum((c.amount for c in claims), Decimal("0.00"))
    sheet.line(["合计", None, total] + [None] * (len(COLUMNS) - 3))
    sheet.finish(landscape=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(wb, path)
    return path
