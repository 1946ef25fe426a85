"""A worked example: one community's September 2026, told through juzhang's public API.

和平社区居民委员会 (entity ``H001``, chart rural-2023) keeps its books with the
agency from September 2026.  This script plays one month:

1. set-up (the operator): the community, five people and their roles, the
   detail accounts (明细科目), and a refused grant that would break 钱账分离;
2. the bookkeeper enters the opening balances (期初余额);
3. the cashier (报账员) records nine cash and bank journal entries;
4. the bookkeeper prepares a voucher (记账凭证) for each, the reviewer reviews
   them, the bookkeeper posts them (记-0001 … 记-0008);
5. refused actions, each caught and shown: the cashier trying to post, a
   voucher on cash that the cashier never recorded, a 主管会计 reviewing a
   voucher she prepared herself;
6. a month-end accrual (计提) prepared by the 主管会计, reviewed by someone else;
7. a mistake found after posting: a red reversal (红字冲销, 注销) and a blue
   correcting voucher (订正), both through review and posting;
8. the month-end checks (:func:`juzhang.closing.close_month`, the one way
   to lock a month) run: the bookkeeper may not close, and the reviewer's
   close is held back, nothing changed, until the cashier's cash count and
   the bank's statement are in (the guide's §13 does the whole close from
   the command line); the trial balance (科目余额表) is printed and
   :func:`juzhang.verify.verify` finds nothing wrong.

Run it::

    python examples/worked_example.py                      # a fresh SQLite file in a temp dir
    python examples/worked_example.py --db postgresql://user@host/db

:func:`main` returns the :class:`~juzhang.reports.trial_balance.TrialBalance`
so tests can check the figures (tests/test_examples.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine

from juzhang import agency, books, closing, custody, verify
from juzhang.core.period import format_period, parse_period
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import JuzhangError
from juzhang.money import capitals, format_amount
from juzhang.reports.trial_balance import TrialBalance, trial_balance
from juzhang.storage.engine import make_engine, transaction, upgrade

T = TypeVar("T")

ENTITY = "H001"
SEPTEMBER = parse_period("2026-09")

#: login → (name, roles).  chen is the agency's 主管会计: she prepares some
#: vouchers and reviews those of others, never her own.
PEOPLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "zhang": ("张秀英", ("cashier",)),  # 报账员 (community side)
    "li": ("李建国", ("bookkeeper",)),  # 代理会计
    "chen": ("陈静", ("bookkeeper", "reviewer")),  # 主管会计
    "wang": ("王芳", ("reviewer",)),  # 审核
    "zhou": ("周德明", ("supervisor",)),  # 民主理财小组组长
    "zhao": ("赵志强", ("admin",)),  # 代理中心主任
}

#: Detail accounts (明细科目); the parent is taken from the code.
DETAIL_ACCOUNTS = [
    ("50101", "门面租金"),
    ("50301", "街道办公经费补助"),
    ("51301", "办公费"),
    ("5130101", "文具纸张"),
    ("5130102", "打印复印"),
    ("51302", "居民干部补贴"),
    ("51303", "水电费"),
    ("51401", "环境卫生"),
    ("51402", "困难帮扶"),
]

#: 期初余额 on 2026-09-01, debit positive and credit negative.
OPENING = {
    "101": Decimal("2000.00"),  # 库存现金
    "102": Decimal("186500.00"),  # 银行存款
    "112": Decimal("3000.00"),  # 应收款: 刘记便利店 8 月门面租金未付
    "151": Decimal("120000.00"),  # 固定资产
    "152": Decimal("-24000.00"),  # 累计折旧
    "212": Decimal("-6500.00"),  # 应付工资: 8 月居民干部补贴
    "301": Decimal("-200000.00"),  # 资本
    "311": Decimal("-66000.00"),  # 公积公益金
    "321": Decimal("-15000.00"),  # 本年收益 (1–8 月)
}


def _d(day: int) -> dt.date:
    return dt.date(2026, 9, day)


def _money(text: str) -> Decimal:
    return Decimal(text)


#: The cashier's journal (现金/银行日记账): date, account, in + / out −, summary, counterparty.
CASHIER_ENTRIES = [
    (_d(2), "102", "50000.00", "收街道拨付三季度办公经费", "和平街道财政所"),
    (_d(3), "102", "-3000.00", "提取备用金", "本社区基本户"),
    (_d(3), "101", "3000.00", "提取备用金", "本社区基本户"),
    (_d(5), "101", "-356.00", "购打印纸、墨盒", "文华办公用品店"),
    (_d(8), "102", "12000.00", "收门面租金（8月欠租及9月租金）", "刘记便利店"),
    (_d(10), "102", "-6500.00", "发放8月居民干部补贴", "居民干部5人"),
    (_d(15), "101", "-1280.00", "支付垃圾清运费", "城南保洁服务部"),
    (_d(18), "102", "-2460.00", "缴纳8月办公用房水电费", "市供电公司、市自来水公司"),
    (_d(24), "101", "-800.00", "中秋慰问困难居民5户", "困难居民5户"),
]


def _voucher(day: int, attachments: int, *lines: tuple[str, str, str, str]) -> VoucherDraft:
    """Build a draft from (account, summary, "D"|"C", amount) tuples."""
    return VoucherDraft(
        _d(day),
        tuple(
            Line(acc, summary, debit=_money(amount))
            if side == "D"
            else Line(acc, summary, credit=_money(amount))
            for acc, summary, side, amount in lines
        ),
        attachments,
    )


#: The bookkeeper's vouchers for the cashier's entries.  Cash and bank lines
#: name no custody entry: the ledger links the one unlinked entry of the same
#: account, amount and direction.  记-0007 charges the water and electricity
#: bill to 环境卫生 by mistake; it is corrected after posting.
VOUCHERS = [
    _voucher(
        2,
        1,
        ("102", "收街道拨付三季度办公经费", "D", "50000.00"),
        ("50301", "收街道拨付三季度办公经费", "C", "50000.00"),
    ),
    _voucher(3, 1, ("101", "提取备用金", "D", "3000.00"), ("102", "提取备用金", "C", "3000.00")),
    _voucher(
        5,
        2,
        ("5130101", "购打印纸、墨盒", "D", "356.00"),
        ("101", "购打印纸、墨盒", "C", "356.00"),
    ),
    _voucher(
        8,
        2,
        ("102", "收刘记便利店门面租金", "D", "12000.00"),
        ("112", "收回8月欠租", "C", "3000.00"),
        ("50101", "收9月门面租金", "C", "9000.00"),
    ),
    _voucher(
        10,
        1,
        ("212", "发放8月居民干部补贴", "D", "6500.00"),
        ("102", "发放8月居民干部补贴", "C", "6500.00"),
    ),
    _voucher(
        15,
        1,
        ("51401", "支付垃圾清运费", "D", "1280.00"),
        ("101", "支付垃圾清运费", "C", "1280.00"),
    ),
    _voucher(
        18,
        2,
        ("51401", "缴纳8月办公用房水电费", "D", "2460.00"),  # wrong: should be 51303 水电费
        ("102", "缴纳8月办公用房水电费", "C", "2460.00"),
    ),
    _voucher(
        24,
        1,
        ("51402", "中秋慰问困难居民5户", "D", "800.00"),
        ("101", "中秋慰问困难居民5户", "C", "800.00"),
    ),
]


def _say(text: str) -> None:
    print(text)


def _run(engine: Engine, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one service call in its own database transaction (all or nothing)."""
    with transaction(engine) as session:
        return fn(session, *args, **kwargs)


def _refused(engine: Engine, what: str, fn: Callable[..., Any], *args: Any) -> JuzhangError:
    """Attempt something the ledger must refuse; show the refusal and return it."""
    try:
        _run(engine, fn, *args)
    except JuzhangError as exc:
        _say(f"  ✗ {what}\n    {type(exc).__name__}: {exc}")
        return exc
    raise AssertionError(f"{what}: expected a refusal")  # pragma: no cover


def set_up(engine: Engine) -> None:
    """The operator's set-up: the community, its people, roles and detail accounts."""
    _say("一、建账 set-up")
    _run(
        engine,
        agency.add_entity,
        ENTITY,
        "和平社区居民委员会",
        chart="rural-2023",
        start_period=SEPTEMBER,
    )
    for login, (name, roles) in PEOPLE.items():
        _run(engine, agency.add_user, login, name)
        for role in roles:
            _run(engine, agency.grant, login, role, ENTITY)
    _say(f"  {ENTITY}: {len(PEOPLE)} 人 people, roles granted")
    _refused(
        engine,
        "报账员兼任代理会计 / the cashier also made bookkeeper",
        agency.grant,
        "zhang",
        "bookkeeper",
        ENTITY,
    )
    for code, name in DETAIL_ACCOUNTS:
        _run(engine, books.add_account, ENTITY, code, name)
    _say(f"  明细科目 detail accounts: {', '.join(c for c, _ in DETAIL_ACCOUNTS)}")


def record_month(engine: Engine) -> list[int]:
    """Opening balances, the cashier's journal, and the first eight vouchers posted."""
    _say("二、期初余额 opening balances")
    _run(engine, books.set_opening, ENTITY, "li", OPENING)
    _say(f"  {len(OPENING)} 个科目 accounts, 借贷平衡 balanced")

    _say("三、出纳登记日记账 the cashier's journal")
    entry_ids: list[int] = []
    for date, account, amount, summary, counterparty in CASHIER_ENTRIES:
        entry_id = _run(
            engine,
            custody.record_entry,
            ENTITY,
            "zhang",
            date,
            account,
            _money(amount),
            summary,
            counterparty=counterparty,
        )
        entry_ids.append(entry_id)
        _say(f"  #{entry_id} {date} {account} {format_amount(_money(amount)):>12} {summary}")

    _say("四、制单、审核、记账 draft, review, post")
    ids = _run(engine, books.draft_vouchers, ENTITY, "li", VOUCHERS)
    _run(engine, books.review_vouchers, ENTITY, "wang", ids)
    _refused(engine, "报账员记账 / the cashier posts", books.post_vouchers, ENTITY, "zhang", ids)
    numbers = _run(engine, books.post_vouchers, ENTITY, "li", ids)
    _say(f"  记账 posted: {', '.join(f'记-{n:04d}' for n in numbers)}")
    return entry_ids


def refused_cash_without_journal(engine: Engine) -> None:
    """The books may never claim money moved that the cashier did not record."""
    draft = _voucher(
        26,
        1,
        ("5130101", "购饮用水", "D", "200.00"),
        ("101", "购饮用水", "C", "200.00"),
    )
    _refused(
        engine,
        "出纳未登记的现金支出 / a cash payment the cashier never recorded",
        books.draft_voucher,
        ENTITY,
        "li",
        draft,
    )


def accrual(engine: Engine) -> int:
    """Month-end accrual prepared by the 主管会计; she may not review it herself."""
    _say("五、月末计提 month-end accrual")
    draft = _voucher(
        30,
        1,
        ("51302", "计提9月居民干部补贴", "D", "6500.00"),
        ("212", "计提9月居民干部补贴", "C", "6500.00"),
    )
    vid = _run(engine, books.draft_voucher, ENTITY, "chen", draft)
    _refused(engine, "审核自己制单的凭证 / review one's own voucher", _review, "chen", vid)
    _run(engine, books.review_vouchers, ENTITY, "wang", [vid])
    (number,) = _run(engine, books.post_vouchers, ENTITY, "li", [vid])
    _say(f"  记-{number:04d} 计提9月居民干部补贴 6,500.00")
    return number


def _review(session: Any, actor: str, voucher_id: int) -> None:
    books.review_vouchers(session, ENTITY, actor, [voucher_id])


def correct_mistake(engine: Engine, water_entry: int) -> tuple[int, int]:
    """记-0007 went to the wrong account: red reversal (注销) then blue correction (订正)."""
    _say("六、错账更正 correcting a posted voucher")
    red = _run(engine, books.reverse_voucher, ENTITY, "li", SEPTEMBER, 7, date=_d(28))
    _run(engine, books.review_vouchers, ENTITY, "wang", [red])
    (red_number,) = _run(engine, books.post_vouchers, ENTITY, "li", [red])
    shown = _run(engine, books.get_voucher, ENTITY, red)
    _say(f"  记-{red_number:04d} 红字 {shown.lines[0].summary}: {shown.lines[0].amount}")
    blue = VoucherDraft(
        _d(28),
        (
            Line("51303", "缴纳8月办公用房水电费", debit=_money("2460.00")),
            # The bank entry is free again once the reversal is posted; name it explicitly.
            Line(
                "102", "缴纳8月办公用房水电费", credit=_money("2460.00"), custody_entry=water_entry
            ),
        ),
        0,
    )
    fix = _run(engine, books.draft_correction, ENTITY, "li", SEPTEMBER, 7, blue)
    _run(engine, books.review_vouchers, ENTITY, "wang", [fix])
    (blue_number,) = _run(engine, books.post_vouchers, ENTITY, "li", [fix])
    shown = _run(engine, books.get_voucher, ENTITY, fix)
    _say(f"  记-{blue_number:04d} 蓝字 {shown.lines[0].summary}")
    return red_number, blue_number


def close_and_report(engine: Engine) -> TrialBalance:
    """Run the month-end checks, print the trial balance, verify the books."""
    _say("七、月末检查与科目余额表 month-end checks and trial balance")
    _refused(
        engine, "代理会计结账 / the bookkeeper closes", closing.close_month, ENTITY, SEPTEMBER, "li"
    )
    held = _run(engine, closing.close_month, ENTITY, SEPTEMBER, "wang")
    _say(f"  结账暂缓，账簿未变 / the close waits, nothing changed: {len(held.problems)} 项 items")
    for problem in held.problems:
        _say(f"    - {problem}")
    with transaction(engine, write=False) as session:
        tb = trial_balance(session, ENTITY, SEPTEMBER)
        problems = verify.verify(session, ENTITY)
    _print_trial_balance(tb)
    cash = tb.row("101").closing_balance
    _say(f"  库存现金期末余额 cash on hand: ¥{format_amount(cash)}（人民币{capitals(cash)}）")
    if problems:
        for problem in problems:
            _say(f"  核对 verify ✗ {problem}")
        raise SystemExit(1)
    _say("  核对 verify: 无问题 no problems")
    return tb


def _width(text: str) -> int:
    """Columns the text takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: str, width: int, *, right: bool = True) -> str:
    pad = " " * max(0, width - _width(text))
    return pad + text if right else text + pad


def _tb_line(label: str, *amounts: str) -> str:
    return "  " + _cell(label, 28, right=False) + "".join(_cell(a, 15) for a in amounts)


def _print_trial_balance(tb: TrialBalance) -> None:
    _say(f"  {tb.entity} 科目余额表 trial balance {tb.period_label}")
    _say(_tb_line("科目 account", "期初余额", "借方", "贷方", "期末余额"))
    for r in tb.rows:
        if not (r.opening_balance or r.debit or r.credit or r.closing_balance):
            continue
        label = "  " * (r.level - 1) + f"{r.code} {r.name}"
        amounts = (r.opening_balance, r.debit, r.credit, r.closing_balance)
        _say(_tb_line(label, *(format_amount(a) for a in amounts)))
    totals = (tb.opening_total, tb.debit_total, tb.credit_total, tb.closing_total)
    _say(_tb_line("合计 total", *(format_amount(a) for a in totals)))
    _say(f"  试算平衡 balanced: {'是 yes' if tb.balanced else '否 NO'}")


def main(db_url: str | None = None) -> TrialBalance:
    """Play the month on ``db_url`` (default: a new SQLite file); return the trial balance.

    The database is migrated first (a no-op when it is up to date); it must not
    hold an entity ``H001`` yet.
    """
    if db_url is None:
        folder = Path(tempfile.mkdtemp(prefix="juzhang-example-"))
        db_url = f"sqlite:///{folder / 'worked_example.db'}"
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        _say(f"数据库 database: {engine.url.render_as_string(hide_password=True)}")
        set_up(engine)
        entry_ids = record_month(engine)
        refused_cash_without_journal(engine)
        accrual(engine)
        correct_mistake(engine, water_entry=entry_ids[7])
        tb = close_and_report(engine)
        _say(f"{ENTITY} {format_period(SEPTEMBER)} 完成 done")
        return tb
    finally:
        engine.dispose()


def _cli() -> None:
    parser = argparse.ArgumentParser(description="juzhang worked example: one community, one month")
    parser.add_argument("--db", help="database URL (default: a new SQLite file in a temp folder)")
    args = parser.parse_args()
    main(args.db)


if __name__ == "__main__":
    _cli()
