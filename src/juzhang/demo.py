"""The demo (演示): one community's first month, kept the way the rules say.

:func:`build_demo` makes a fresh SQLite file holding 幸福社区居委会 (H001, the
rural 2023 chart) with a person in each of the five roles, balanced opening
balances and a month (2026-09) of realistic activity:

1. the cashier (报账员 刘霞) records every movement of cash and bank money in
   the cash and bank journals (现金/银行日记账): the street office's
   allocation, shop rents, a donation, cadres' subsidies, office supplies,
   utilities, a bank fee, a cash withdrawal into petty cash, relief for needy
   residents, interest;
2. the agency's bookkeeper (代理会计 王静) prepares a voucher for each, backed
   by the cashier's entries, plus the month's depreciation (计提折旧);
3. the reviewer (审核 赵敏) reviews them, and the bookkeeper posts them;
4. one voucher was booked to the wrong expense account: it is reversed
   (红字冲销 "注销 …") and corrected (订正), both through the same workflow.

Everything goes through the public service functions, exactly as a host
application would.  The result carries the trial balance, which is also
written as JSON next to the database.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from juzhang import agency, books, custody
from juzhang.core.duty import Role
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.custody import CustodyInput
from juzhang.errors import Problem
from juzhang.money import parse_money
from juzhang.reports.trial_balance import TrialBalance, trial_balance
from juzhang.storage.engine import make_engine, transaction, upgrade
from juzhang.verify import verify

ENTITY = "H001"
ENTITY_NAME = "幸福社区居委会"
PERIOD = 202609

CASHIER, BOOKKEEPER, REVIEWER = "liuxia", "wangjing", "zhaomin"
PEOPLE = (
    (CASHIER, "刘霞", Role.CASHIER),
    (BOOKKEEPER, "王静", Role.BOOKKEEPER),
    (REVIEWER, "赵敏", Role.REVIEWER),
    ("sunli", "孙立", Role.SUPERVISOR),
    ("zhoujun", "周军", Role.ADMIN),
)

DETAIL_ACCOUNTS = (
    ("10201", "农商银行基本户"),
    ("21101", "应付绿化养护费"),
    ("50101", "房屋出租收入"),
    ("50301", "街道拨付工作经费"),
    ("50401", "捐赠收入"),
    ("50402", "利息收入"),
    ("51301", "办公费"),
    ("51302", "干部补贴"),
    ("51303", "银行手续费"),
    ("51304", "水电费"),
    ("51305", "折旧费"),
    ("51401", "困难居民慰问"),
    ("51402", "社区活动"),
)

OPENING = {
    "101": "1,500.00",
    "10201": "186,400.00",
    "151": "420,000.00",
    "152": "-86,000.00",
    "21101": "-12,000.00",
    "301": "-300,000.00",
    "311": "-209,900.00",
}


@dataclass(frozen=True, slots=True)
class Event:
    """A money movement: the cashier's entry and the account the voucher books it against.

    ``amount`` is in on ``account`` when positive, out when negative; when
    ``other`` is itself a cash or bank account (a withdrawal) the cashier
    records both sides.  ``booked_as`` is the wrong account a voucher first
    used (then reversed and corrected).
    """

    day: int
    account: str
    amount: str
    other: str
    summary: str
    counterparty: str = ""
    attachments: int = 1
    booked_as: str | None = None


EVENTS = (
    Event(1, "10201", "80,000.00", "50301", "收街道办三季度社区工作经费", "幸福街道办事处"),
    Event(2, "10201", "-3,000.00", "101", "提取现金备用"),
    Event(3, "10201", "6,000.00", "50101", "收沿街一号商铺9月租金", "幸福便利店"),
    Event(5, "101", "-120.00", "51301", "购办公用品", "文兴文具店", 2),
    Event(8, "10201", "5,000.00", "50401", "收爱心企业捐赠", "鑫达物业有限公司"),
    Event(10, "10201", "-18,600.00", "51302", "发放8月社区干部补贴", "", 3),
    Event(12, "101", "-360.00", "51301", "购打印纸和墨盒", "文兴文具店", 1, "51302"),
    Event(15, "10201", "-2,400.00", "51304", "缴纳8月办公用房水电费", "市供电公司", 2),
    Event(16, "101", "300.00", "50101", "收活动室场地使用费", "夕阳红舞蹈队"),
    Event(18, "101", "-1,200.00", "51401", "中秋慰问困难居民", "", 4),
    Event(20, "10201", "-25.00", "51303", "银行账户管理费", "农商银行"),
    Event(22, "10201", "6,000.00", "50101", "收沿街二号商铺9月租金", "惠民药店"),
    Event(24, "101", "-86.00", "51301", "寄送材料快递费", "顺丰速运"),
    Event(25, "10201", "-4,500.00", "21101", "支付上半年绿化养护费", "绿源园林公司"),
    Event(26, "101", "-650.00", "51402", "社区活动室维修材料", "建民五金店", 2),
    Event(28, "10201", "38.60", "50402", "银行存款利息", "农商银行"),
    Event(29, "101", "-240.00", "51301", "购会议用茶水", "便民超市"),
)

CUSTODY_ACCOUNTS = frozenset({"101", "10201"})


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo built: where, how much, the trial balance and what verify found."""

    database: Path
    entity: str
    name: str
    period: int
    custody_entries: int
    vouchers: int
    reversed_number: int
    trial_balance: TrialBalance
    problems: tuple[Problem, ...]
    files: tuple[Path, ...]


def _date(day: int) -> dt.date:
    return dt.date(PERIOD // 100, PERIOD % 100, day)


def custody_inputs(event: Event) -> list[CustodyInput]:
    """Return the cashier's journal entries for one event (two for a withdrawal)."""
    amount = parse_money(event.amount)
    items = [
        CustodyInput(_date(event.day), event.account, amount, event.summary, event.counterparty)
    ]
    if event.other in CUSTODY_ACCOUNTS:
        items.append(CustodyInput(_date(event.day), event.other, -amount, event.summary))
    return items


def voucher_for(event: Event, entries: list[int], *, account: str | None = None) -> VoucherDraft:
    """Return the voucher booking one event, naming the custody entries that back it."""
    amount = parse_money(event.amount)
    inflow = amount > 0
    backing = entries[1] if len(entries) > 1 else None
    money = _line(event.account, event.summary, abs(amount), inflow, entries[0])
    other = account or event.booked_as or event.other
    against = _line(other, event.summary, abs(amount), not inflow, backing)
    lines = (money, against) if inflow else (against, money)
    return VoucherDraft(_date(event.day), lines, event.attachments)


def _line(account: str, summary: str, amount: Decimal, debit: bool, entry: int | None) -> Line:
    if debit:
        return Line(account, summary, debit=amount, custody_entry=entry)
    return Line(account, summary, credit=amount, custody_entry=entry)


DEPRECIATION = VoucherDraft(
    _date(30),
    (
        Line("51305", "计提9月固定资产折旧", debit=parse_money("1,750.00")),
        Line("152", "计提9月固定资产折旧", credit=parse_money("1,750.00")),
    ),
    0,
)


def _fresh_engine(db_path: Path) -> Engine:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    return engine


def _set_up(engine: Engine) -> None:
    with transaction(engine) as s:
        agency.add_entity(s, ENTITY, ENTITY_NAME, chart="rural-2023", start_period=PERIOD)
        for login, name, role in PEOPLE:
            agency.add_user(s, login, name)
            agency.grant(s, login, role, ENTITY)
        for code, name in DETAIL_ACCOUNTS:
            books.add_account(s, ENTITY, code, name)
    with transaction(engine) as s:
        opening = {code: parse_money(text) for code, text in OPENING.items()}
        books.set_opening(s, ENTITY, BOOKKEEPER, opening)


def _record_month(engine: Engine) -> list[list[int]]:
    """The cashier records the month; return the entry ids of each event."""
    inputs = [custody_inputs(e) for e in EVENTS]
    with transaction(engine) as s:
        ids = custody.record_entries(s, ENTITY, CASHIER, [i for group in inputs for i in group])
    out: list[list[int]] = []
    for group in inputs:
        out.append(ids[: len(group)])
        ids = ids[len(group) :]
    return out


def _review_and_post(engine: Engine, ids: list[int]) -> None:
    with transaction(engine) as s:
        books.review_vouchers(s, ENTITY, REVIEWER, ids)
    with transaction(engine) as s:
        books.post_vouchers(s, ENTITY, BOOKKEEPER, ids)


def _correct(engine: Engine, event: Event, entries: list[int], voucher_id: int) -> int:
    """Reverse the wrongly booked voucher and post a corrected one; return its number."""
    with transaction(engine) as s:
        number = books.get_voucher(s, ENTITY, voucher_id).number
        assert number is not None
        red = books.reverse_voucher(s, ENTITY, BOOKKEEPER, PERIOD, number)
    _review_and_post(engine, [red])
    fixed = voucher_for(event, entries, account=event.other)
    with transaction(engine) as s:
        blue = books.draft_correction(s, ENTITY, BOOKKEEPER, PERIOD, number, fixed)
    _review_and_post(engine, [blue])
    return number


def write_trial_balance(tb: TrialBalance, out_dir: Path) -> Path:
    """Write the trial balance JSON into ``out_dir``; return the file's path."""
    path = out_dir / f"trial-balance-{tb.entity}-{tb.period_label}.json"
    path.write_text(json.dumps(tb.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


def build_demo(db_path: Path, out_dir: Path | None = None) -> DemoResult:
    """Build the demo community in a fresh SQLite file at ``db_path``.

    Any existing file there is replaced.  The trial balance JSON is written
    into ``out_dir`` (default: the database's folder).

    Returns:
        The :class:`DemoResult`; ``problems`` is what :func:`juzhang.verify.verify`
        found (nothing, unless juzhang is broken).
    """
    engine = _fresh_engine(db_path)
    try:
        _set_up(engine)
        entries = _record_month(engine)
        drafts = [voucher_for(e, ids) for e, ids in zip(EVENTS, entries, strict=True)]
        with transaction(engine) as s:
            vids = books.draft_vouchers(s, ENTITY, BOOKKEEPER, [*drafts, DEPRECIATION])
        _review_and_post(engine, vids)
        wrong = next(i for i, e in enumerate(EVENTS) if e.booked_as)
        number = _correct(engine, EVENTS[wrong], entries[wrong], vids[wrong])
        with transaction(engine, write=False) as s:
            tb = trial_balance(s, ENTITY, PERIOD)
            problems = tuple(verify(s, ENTITY))
            posted = len(books.list_vouchers(s, ENTITY, period=PERIOD, status="posted"))
    finally:
        engine.dispose()
    path = write_trial_balance(tb, out_dir or db_path.parent)
    return DemoResult(
        database=db_path,
        entity=ENTITY,
        name=ENTITY_NAME,
        period=PERIOD,
        custody_entries=sum(len(e) for e in entries),
        vouchers=posted,
        reversed_number=number,
        trial_balance=tb,
        problems=problems,
        files=(path,),
    )


__all__ = ["EVENTS", "DemoResult", "Event", "build_demo", "write_trial_balance"]
