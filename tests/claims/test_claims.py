"""Claim batches (报账单): the template, the cashier's import, the bookkeeper's drafts.

A worked story on SQLite and PostgreSQL: the cashier of 幸福社区 fills in the
form for September (ten claims, three with faulty paperwork), imports it,
the bookkeeper drafts the vouchers, a reviewer reviews, the bookkeeper posts,
and the books show exactly the money the valid claims moved.  Around it:
roles refused both ways, re-importing, a resubmitted sheet, bad files
listing every problem and writing nothing, the per-community rules.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from juzhang import books, custody, verify
from juzhang.claims import (
    draft_claims,
    import_claims,
    list_claims,
    pending_claims,
    returned_claims,
)
from juzhang.errors import NotFoundError, ProblemsError, SegregationOfDutiesError, StateError
from juzhang.exporters.claims_template import write_claims_template
from juzhang.importers import claims
from juzhang.importers.claims import COLUMNS
from juzhang.importers.claims_config import ClaimsConfig, parse_claims_config
from juzhang.money import capitals
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.schema import Claim, CustodyEntry, ImportBatch
from tests.conftest import World, dump, lock_period

SEP = 202609
OPENING = {"101": D("5000.00"), "102": D("100000.00"), "301": D("-105000.00")}


@dataclass(frozen=True)
class Item:
    """One row of a claim form as the cashier writes it, and whether it should pass."""

    date: dt.date
    purpose: str
    amount: D
    category: str
    payment: str
    handler: str = "张三"
    witness: str = "李四"
    approver: str = "王主任"
    attachments: int | str = 1
    capitals: str = ""
    invoice: str = ""
    decision: str = ""
    remark: str = ""
    fails: str = ""  # a word the returned reason must contain, "" if the claim is valid

    def cells(self) -> list[Any]:
        return [
            self.date,
            self.purpose,
            self.amount,
            self.capitals,
            self.category,
            self.payment,
            self.handler,
            self.witness,
            self.approver,
            self.attachments,
            self.invoice,
            self.decision,
            self.remark,
        ]


def day(d: int) -> dt.date:
    return dt.date(2026, 9, d)


TWO = "王主任、刘书记"

SEPTEMBER: tuple[Item, ...] = (
    Item(day(2), "购买打印纸、墨盒", D("286.00"), "办公费", "现金", attachments=2,
         capitals="贰佰捌拾陆元整", invoice="04400190011100001234"),
    Item(day(3), "缴纳8月电费", D("512.40"), "51302", "银行", approver=TWO, invoice="00012345"),
    Item(day(5), "慰问困难户（5户）", D("1000.00"), "514", "银行", approver=TWO, attachments=5,
         capitals="壹仟元整"),
    Item(day(8), "社区活动室维修", D("3600.00"), "公益支出", "转账", approver=TWO, attachments=3,
         decision="两委会议纪要〔2026〕7号"),
    Item(day(10), "购买饮用水", D("45.00"), "管理费用—办公费", "现金", remark="=1+1 not a formula"),
    Item(day(12), "打印宣传材料", D("168.50"), "51301 办公费", "现金",
         capitals="壹佰陆拾捌元伍角整"),
    Item(day(15), "垃圾清运费", D("800.00"), "514", "银行", approver="王主任，刘书记",
         attachments="2张"),
    Item(day(16), "购买灯管", D("96.00"), "51301", "现金", witness="", fails="证明人"),
    Item(day(18), "会议茶歇", D("350.00"), "51301", "现金", approver=TWO,
         capitals="叁佰伍拾伍元整", fails="大写金额"),
    Item(day(20), "道路修补", D("2400.00"), "514", "银行", approver=TWO, attachments=4,
         fails="决议"),
)  # fmt: skip
"""Ten claims of September; three fail: no witness, capitals ≠ figures, > 1000 without decision."""


def prepare(world: World) -> None:
    """Detail accounts 51301 办公费 / 51302 水电费 and balanced opening balances."""
    world.run(books.add_account, world.entity, "51301", "办公费")
    world.run(books.add_account, world.entity, "51302", "水电费")
    world.run(books.set_opening, world.entity, "bk", OPENING)


def fill(
    path: Path, items: Sequence[Item], *, unit: str = "", extra: Sequence[list[Any]] = ()
) -> Path:
    """Fill the template as a cashier would: rows from 4 (over the example), saved to ``path``."""
    template = write_claims_template(path.with_name(f"tpl-{path.name}"))
    wb = load_workbook(template)
    ws = wb["报账单"]
    if unit:
        ws["A2"] = f"单位：{unit}"
    rows = [item.cells() for item in items] + [list(values) for values in extra]
    for n, values in enumerate(rows, start=4):
        for i, value in enumerate(values):
            cell = ws.cell(row=n, column=i + 1, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text, even "=1+1"
    wb.save(path)
    return path



def rows_of(world: World, table: Any) -> list[Any]:
    with world.engine.connect() as conn:
        return list(conn.execute(select(table).order_by(*table.__table__.primary_key.columns)))


# --------------------------------------------------------------------------- the template


def test_template_written_and_read_back(tmp_path: Path) -> None:
    path = write_claims_template(tmp_path / "报账单.xlsx", rows=25)
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "报账单" and "填写说明" in wb.sheetnames
    ws = wb["报账单"]
    assert ws["A1"].value == "报账单"
    assert str(ws["A2"].value).startswith("单位")
    headers = [ws.cell(row=3, column=i + 1).value for i in range(len(COLUMNS))]
    assert headers == [c.header for c in COLUMNS]
    assert headers[:3] == ["日期", "事由", "金额"] and "证明人" in headers and "决议文号" in headers
    # the dropdown for 支付方式, checks on amounts and attachments
    payment_col = chr(ord("A") + headers.index("支付方式"))
    rules = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    dropdown = [v for s, v in rules.items() if s.startswith(payment_col)]
    assert len(dropdown) == 1 and dropdown[0].type == "list"
    assert dropdown[0].formula1 == '"现金,银行"'
    assert str(dropdown[0].sqref) == f"{payment_col}4:{payment_col}29"
    assert {v.type for v in rules.values()} == {"list", "decimal", "whole"}
    # text format for text columns, date and amount formats, widths
    for i, column in enumerate(COLUMNS):
        cell = ws.cell(row=10, column=i + 1)
        assert cell.number_format == column.number_format, column.header
        letter = chr(ord("A") + i)
        assert ws.column_dimensions[letter].width >= column.width
    assert ws.cell(row=10, column=headers.index("发票号码") + 1).number_format == "@"
    # A4 landscape, header repeated on every page, header frozen
    assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4 == "9"  # A4
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$1:$3" and ws.freeze_panes == "A4"
    # the example row is marked and its capitals match its figures
    example = {c.key: ws.cell(row=4, column=i + 1).value for i, c in enumerate(COLUMNS)}
    assert str(example["purpose"]).startswith(claims.EXAMPLE_MARK)
    assert example["capitals"] == capitals(D(str(example["amount"])))


def test_the_empty_template_holds_no_claims(world: World, tmp_path: Path) -> None:
    path = write_claims_template(tmp_path / "空.xlsx")
    with pytest.raises(ProblemsError) as err:
        world.run(import_claims, world.entity, "cash", path)
    assert any("no claims" in p.message for p in err.value.problems)


# --------------------------------------------------------------------------- the story


def test_a_realistic_batch(world: World, tmp_path: Path) -> None:
    prepare(world)
    result = world.run(import_claims, world.entity, "cash", fill(tmp_path / "9月.xlsx", SEPTEMBER))
    valid = [i for i in SEPTEMBER if not i.fails]
    failing = [i for i in SEPTEMBER if i.fails]
    assert not result.already_imported and result.rows == len(SEPTEMBER)
    assert [c.purpose for c in result.pending] == [i.purpose for i in valid]
    assert [c.purpose for c in result.returned] == [i.purpose for i in failing]
    for claim, item in zip(result.returned, failing, strict=True):
        assert claim.status == "returned" and claim.custody_entry is None
        assert len(claim.reasons) == 1, claim.reasons
        assert item.fails in claim.reasons[0] and " / " in claim.reasons[0]
    # the cashier's journal: one entry per valid claim, money out
    entries = world.run(custody.list_entries, world.entity)
    assert len(entries) == len(valid) == len(result.custody_entries)
    assert [e.id for e in entries] == sorted(result.custody_entries)
    paid = {"现金": "101", "银行": "102", "转账": "102"}
    by_id = {e.id: e for e in entries}
    for claim, item in zip(result.pending, valid, strict=True):
        assert claim.custody_entry is not None
        entry = by_id[claim.custody_entry]
        assert entry.amount == -item.amount and entry.account == paid[item.payment]
        assert entry.summary == item.purpose and entry.date == item.date
        assert entry.reference == item.invoice and entry.source == "claims"
        assert claim.amount == item.amount and claim.status == "pending"
    # categories resolved by name, code, "code name" and path; text kept verbatim
    assert [c.account for c in result.pending] == ["51301", "51302", "514", "514", "51301",
                                                  "51301", "514"]  # fmt: skip
    stored = {c.row: c for c in world.run(list_claims, world.entity)}
    assert stored[5].invoice_no == "00012345"  # leading zeros kept
    assert stored[4].attachments == 2 and stored[10].attachments == 2  # "2张"
    assert stored[7].category == "公益支出" and stored[7].payment == "bank"
    batches = rows_of(world, ImportBatch)
    assert [(b.kind, b.rows_read, b.rows_new) for b in batches] == [("claims", 10, 10)]
    assert len(world.run(pending_claims, world.entity)) == len(valid)
    assert [c.purpose for c in world.run(returned_claims, world.entity)] == [
        i.purpose for i in failing
    ]


def test_drafting_review_and_posting(world: World, tmp_path: Path) -> None:
    prepare(world)
    result = world.run(import_claims, world.entity, "cash", fill(tmp_path / "9月.xlsx", SEPTEMBER))
    ids = world.run(draft_claims, world.entity, "bk")
    assert len(ids) == len(result.pending)
    claims_now = {c.id: c for c in world.run(list_claims, world.entity)}
    for claim in result.pending:
        now = claims_now[claim.id]
        assert now.status == "drafted" and now.voucher in ids
        v = world.run(books.get_voucher, world.entity, now.voucher)
        assert v.status == "draft" and v.prepared_by == "bk" and v.date == claim.date
        assert v.attachments == claim.attachments
        (debit, credit) = v.lines
        assert (debit.account, debit.side, debit.amount) == (claim.account, "D", claim.amount)
        assert (credit.account, credit.side, credit.amount) == (
            claim.custody_account,
            "C",
            claim.amount,
        )
        assert credit.custody_entry == claim.custody_entry
        assert debit.summary == credit.summary == claim.purpose
    assert world.run(pending_claims, world.entity) == []
    assert world.run(draft_claims, world.entity, "bk") == []  # nothing left
    world.run(books.review_vouchers, world.entity, "rv", ids)
    world.run(books.post_vouchers, world.entity, "bk", ids)
    tb = world.run(trial_balance, world.entity, SEP)
    cash = sum((c.amount for c in result.pending if c.payment == "cash"), D("0.00"))
    bank = sum((c.amount for c in result.pending if c.payment == "bank"), D("0.00"))
    assert tb.row("101").closing_balance == OPENING["101"] - cash
    assert tb.row("102").closing_balance == OPENING["102"] - bank
    assert tb.balanced
    assert world.run(verify.verify, world.entity) == []


def test_roles_are_refused_both_ways(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = fill(tmp_path / "9月.xlsx", SEPTEMBER)
    before = dump(world.engine)
    for person in ("bk", "rv", "sup", "adm"):
        with pytest.raises(SegregationOfDutiesError):
            world.run(import_claims, world.entity, person, path)
    assert dump(world.engine) == before
    world.run(import_claims, world.entity, "cash", path)
    middle = dump(world.engine)
    for person in ("cash", "rv", "sup"):
        with pytest.raises(SegregationOfDutiesError):
            world.run(draft_claims, world.entity, person)
    assert dump(world.engine) == middle


def test_reimporting_the_same_file_adds_nothing(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = fill(tmp_path / "9月.xlsx", SEPTEMBER)
    first = world.run(import_claims, world.entity, "cash", path)
    before = dump(world.engine)
    copy = tmp_path / "copy-of-9月.xlsx"
    copy.write_bytes(path.read_bytes())
    for again in (path, copy):
        second = world.run(import_claims, world.entity, "cash", again)
        assert second.already_imported and second.batch_id == first.batch_id
        assert second.custody_entries == () and second.duplicates == ()
    assert dump(world.engine) == before


def test_a_fixed_sheet_resubmitted_books_each_payment_once(world: World, tmp_path: Path) -> None:
    prepare(world)
    world.run(import_claims, world.entity, "cash", fill(tmp_path / "a.xlsx", SEPTEMBER))
    fixed = [
        replace(i, witness="李四", capitals="", decision="居民代表会议决议2026-3号", fails="")
        if i.fails
        else i
        for i in SEPTEMBER
    ]
    again = world.run(import_claims, world.entity, "cash", fill(tmp_path / "b.xlsx", fixed))
    assert not again.already_imported
    assert [row for row, _ in again.duplicates] == [4 + n for n, i in enumerate(SEPTEMBER)
                                                    if not i.fails]  # fmt: skip
    assert [c.purpose for c in again.pending] == [i.purpose for i in SEPTEMBER if i.fails]
    assert again.returned == ()
    assert len(world.run(custody.list_entries, world.entity)) == len(SEPTEMBER)
    # two identical rows in one sheet are two payments: only earlier ones count as repeats
    twice = [SEPTEMBER[0], SEPTEMBER[0]]
    third = world.run(import_claims, world.entity, "cash", fill(tmp_path / "c.xlsx", twice))
    assert [row for row, _ in third.duplicates] == [4] and len(third.pending) == 1


def test_a_gb18030_csv_batch(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = tmp_path / "9月.csv"
    with path.open("w", encoding="gb18030", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["报账单"])
        out.writerow(["单位：幸福社区", "", "所属期间：2026年9月"])
        out.writerow([f"{c.header}（必填）" if c.required else c.header for c in COLUMNS])
        for item in SEPTEMBER:
            cells = item.cells()
            cells[0] = f"{item.date.year}年{item.date.month}月{item.date.day}日"
            cells[2] = f"{item.amount:,}"
            out.writerow(cells)
        out.writerow(["合计", "", f"{sum(i.amount for i in SEPTEMBER):,}"])
        out.writerow(["报账员：张三", "", "审核："])
    result = world.run(import_claims, world.entity, "cash", path)
    assert len(result.pending) == sum(1 for i in SEPTEMBER if not i.fails)
    assert len(result.returned) == sum(1 for i in SEPTEMBER if i.fails)
    assert any("签字" in s for s in result.skipped)


# --------------------------------------------------------------------------- bad files


def test_a_bad_file_lists_every_problem_and_writes_nothing(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = tmp_path / "bad.xlsx"
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["报账单"])
    header = [c.header for c in COLUMNS if c.header not in ("证明人", "审批人")]
    ws.append(header)
    good = SEPTEMBER[0]
    bad_rows = {
        3: {"金额": "12,34.5"},
        4: {"日期": "2026-02-30"},
        5: {"支付方式": "支付宝"},
        6: {"金额": "-5"},
        7: {"日期": "", "金额": ""},  # a claim row without date and amount
    }
    for _number, change in bad_rows.items():
        values = dict(zip([c.header for c in COLUMNS], good.cells(), strict=True))
        values.update(change)
        ws.append([values[h] for h in header])
    wb.save(path)
    before = dump(world.engine)
    with pytest.raises(ProblemsError) as err:
        world.run(import_claims, world.entity, "cash", path)
    assert dump(world.engine) == before
    problems = err.value.problems
    where = [p.where for p in problems]
    col = {h: chr(ord("A") + header.index(h)) for h in ("日期", "金额", "支付方式")}
    assert where == [
        "bad.xlsx:2",
        "bad.xlsx:2",
        f"bad.xlsx:3:{col['金额']}",
        f"bad.xlsx:4:{col['日期']}",
        f"bad.xlsx:5:{col['支付方式']}",
        f"bad.xlsx:6:{col['金额']}",
        f"bad.xlsx:7:{col['日期']}",
        f"bad.xlsx:7:{col['金额']}",
    ]
    messages = [p.message for p in problems]
    assert "证明人" in messages[0] and "审批人" in messages[1]
    assert "'12,34.5'" in messages[2] and "'2026-02-30'" in messages[3]
    assert "'支付宝'" in messages[4] and "'-5'" in messages[5]
    assert all(" / " in m for m in messages)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("claims.pdf", b"%PDF-1.4", "unsupported file type"),
        ("claims.xlsx", b"%PDF-1.4 pretending", "PDF"),
        ("claims.csv", b"a,b\n\x80,c\n", "unknown encoding"),
        ("claims.csv", b"a,b\x00c\n", "binary"),
        ("claims.xlsx", b"PK\x03\x04 broken", "ZIP"),
        ("missing.csv", None, "not found"),
    ],
)
def test_unreadable_files(
    world: World, tmp_path: Path, name: str, content: bytes | None, says: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    before = dump(world.engine)
    with pytest.raises(ProblemsError) as err:
        world.run(import_claims, world.entity, "cash", path)
    assert any(says.lower() in p.message.lower() for p in err.value.problems), err.value
    assert dump(world.engine) == before


def test_a_total_row_is_checked(world: World, tmp_path: Path) -> None:
    prepare(world)
    two = SEPTEMBER[:2]
    total = sum((i.amount for i in two), D("0.00"))
    ok = fill(tmp_path / "ok.xlsx", two, extra=[["合计", "", total]])
    assert len(world.run(import_claims, world.entity, "cash", ok).pending) == 2
    wrong = fill(tmp_path / "wrong.xlsx", two[:1], extra=[["合计", "", total]])
    with pytest.raises(ProblemsError) as err:
        world.run(import_claims, world.entity, "cash", wrong)
    assert err.value.problems[0].where == "wrong.xlsx:5:C"


def test_a_batch_of_another_community_is_refused(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = fill(tmp_path / "x.xlsx", SEPTEMBER[:1], unit="光明社区")
    with pytest.raises(ProblemsError) as err:
        world.run(import_claims, world.entity, "cash", path)
    assert "光明社区" in err.value.problems[0].message
    own = fill(tmp_path / "y.xlsx", SEPTEMBER[:1], unit="幸福社区")
    assert len(world.run(import_claims, world.entity, "cash", own).pending) == 1


# --------------------------------------------------------------------------- months and rules


def test_claims_in_closed_months_or_before_the_books_are_returned(
    world: World, tmp_path: Path
) -> None:
    prepare(world)
    world.run(lock_period, world.entity, "rv", SEP)
    items = [
        replace(SEPTEMBER[0], purpose="九月的"),
        replace(SEPTEMBER[0], purpose="八月的", date=dt.date(2026, 8, 30)),
        replace(SEPTEMBER[0], date=dt.date(2026, 10, 2)),
    ]
    result = world.run(import_claims, world.entity, "cash", fill(tmp_path / "m.xlsx", items))
    reasons = {c.purpose: c.reasons for c in result.returned}
    assert "closed" in reasons["九月的"][0] and "before the books start" in reasons["八月的"][0]
    assert [c.date for c in result.pending] == [dt.date(2026, 10, 2)]


RULES = """
entity = "C001"

[rules]
categories = ["expense", "cost"]
min_attachments = 2
require_invoice = true

[payment]
"现金" = "101"
"农商行" = "102"

[aliases]
"电费" = "51302"
"生产" = "401"

[[approval]]
at_least = "200"
approvers = 2

[[approval]]
above = 5000
decision = true
decision_kinds = ["居民会议", "居民代表会议"]
"""


def test_rules_from_a_toml_file(world: World, tmp_path: Path) -> None:
    prepare(world)
    rules = parse_claims_config(RULES, "c001.toml")
    assert rules.approval[0].inclusive and not rules.approval[1].inclusive
    base = Item(day(3), "缴电费", D("200.00"), "电费", "农商行", approver=TWO, attachments=2,
                invoice="1")  # fmt: skip
    items = [
        base,
        replace(base, approver="王主任"),  # 200 needs two
        replace(base, attachments=1, invoice=""),  # two attachments and an invoice required
        replace(base, category="生产", amount=D("6000.00"), decision="两委会议纪要1号"),
        replace(base, category="生产", amount=D("6000.00"), decision="居民代表会议决议2号"),
        replace(base, payment="银行"),  # no 银行 in [payment]
    ]
    path = fill(tmp_path / "r.xlsx", items[:5])
    result = world.run(import_claims, world.entity, "cash", path, config=rules)
    assert [c.row for c in result.pending] == [4, 8]
    assert result.pending[1].account == "401" and result.pending[0].custody_account == "102"
    why = {c.row: " ".join(c.reasons) for c in result.returned}
    assert "2 approvers" in why[5]
    assert "attachments" in why[6] and "invoice" in why[6]
    assert "居民会议" in why[7]
    with pytest.raises(ProblemsError) as err:
        world.run(import_claims, world.entity, "cash", fill(tmp_path / "s.xlsx", items[5:]),
                  config=rules)  # fmt: skip
    assert "'银行'" in err.value.problems[0].message


def test_bad_rules_list_every_problem(world: World) -> None:
    bad = """
    entity = 5
    colour = "red"
    [rules]
    categories = ["spending"]
    min_attachments = -1
    [payment]
    "现金" = 101
    [[approval]]
    above = 300.0
    [[approval]]
    at_least = "1"
    above = "2"
    """
    with pytest.raises(ProblemsError) as err:
        parse_claims_config(bad, "bad.toml")
    where = sorted(p.where for p in err.value.problems)
    assert where == sorted(
        [
            "bad.toml:colour",
            "bad.toml:entity",
            "bad.toml:rules.categories",
            "bad.toml:rules.min_attachments",
            "bad.toml:payment.现金",
            "bad.toml:approval[1].above",
            "bad.toml:approval[2]",
        ]
    )
    with pytest.raises(ProblemsError):
        parse_claims_config("not = [toml", "x.toml")


def test_rules_that_do_not_fit_the_entity_are_refused(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = fill(tmp_path / "r.xlsx", SEPTEMBER[:1])
    for config, says in [
        (ClaimsConfig(entity="C002", source="c002.toml"), "C002"),
        (ClaimsConfig(payment=(("现金", "513"),)), "not a cash or bank account"),
        (ClaimsConfig(payment=(("现金", "999"),)), "no account 999"),
        (ClaimsConfig(aliases=(("办公", "101"),)), "cash or bank"),
        (ClaimsConfig(aliases=(("办公", "513"),)), "detail accounts"),
    ]:
        with pytest.raises(ProblemsError) as err:
            world.run(import_claims, world.entity, "cash", path, config=config)
        assert says in str(err.value)


def test_drafting_chosen_claims(world: World, tmp_path: Path) -> None:
    prepare(world)
    result = world.run(import_claims, world.entity, "cash", fill(tmp_path / "9月.xlsx", SEPTEMBER))
    first, second = result.pending[0].id, result.pending[1].id
    with pytest.raises(StateError):
        world.run(draft_claims, world.entity, "bk", [first, result.returned[0].id])
    with pytest.raises(NotFoundError):
        world.run(draft_claims, world.entity, "bk", [999])
    assert len(world.run(draft_claims, world.entity, "bk", [second, first])) == 2
    with pytest.raises(StateError):
        world.run(draft_claims, world.entity, "bk", [first])
    rest = world.run(draft_claims, world.entity, "bk")
    assert len(rest) == len(result.pending) - 2


def test_a_claim_whose_voucher_cannot_be_drafted_names_the_claim(
    world: World, tmp_path: Path
) -> None:
    prepare(world)
    result = world.run(import_claims, world.entity, "cash", fill(tmp_path / "9月.xlsx", SEPTEMBER))
    world.run(books.deactivate_account, world.entity, "51302")
    before = dump(world.engine)
    with pytest.raises(ProblemsError) as err:
        world.run(draft_claims, world.entity, "bk")
    (problem,) = err.value.problems
    electricity = next(c for c in result.pending if c.account == "51302")
    assert problem.where.startswith(f"报账 claim #{electricity.id} ")
    assert "inactive" in problem.message
    assert dump(world.engine) == before
    with world.engine.connect() as conn:
        statuses = set(conn.execute(select(Claim.status)).scalars())
    assert statuses == {"pending", "returned"}
    assert rows_of(world, CustodyEntry)  # the cashier's entries stay


def test_a_missing_column_is_reported_once_and_footers_are_told_apart(
    world: World, tmp_path: Path
) -> None:
    prepare(world)
    header = [c.header for c in COLUMNS if c.key != "date"]
    body = ["购打印纸", "12", "", "513", "现金", "张三", "李四", "王五", "1"]
    path = tmp_path / "no-date.csv"
    path.write_text(
        "\n".join(",".join(r) for r in [header, body, body, ["合计", "24"], ["审核：", ""]]),
        encoding="utf-8",
    )
    with pytest.raises(ProblemsError) as err:
        world.run(import_claims, world.entity, "cash", path)
    assert [p.where for p in err.value.problems] == ["no-date.csv:1"]
    # a claim whose 事由 looks like a signature label is still a claim (here: without a date)
    dated = tmp_path / "undated.csv"
    rows = [[c.header for c in COLUMNS], ["", "审核费：专家评审", "300", "", "513", "现金",
            "张三", "李四", TWO, "1"], ["报账员：张三"]]  # fmt: skip
    dated.write_text("\n".join(",".join(r) for r in rows), encoding="utf-8")
    with pytest.raises(ProblemsError) as err:
        world.run(import_claims, world.entity, "cash", dated)
    assert [p.where for p in err.value.problems] == ["undated.csv:2:A"]


# ------------------------------------------------------------------------ default payment account


def with_banks(world: World, *banks: str) -> None:
    """Detail accounts under 102 (10201 农商行…) before the opening balances go on them."""
    world.run(books.add_account, world.entity, "51301", "办公费")
    world.run(books.add_account, world.entity, "51302", "水电费")
    for n, name in enumerate(banks, start=1):
        world.run(books.add_account, world.entity, f"1020{n}", name)
    opening = {k: v for k, v in OPENING.items() if k != "102"} | {"10201": OPENING["102"]}
    world.run(books.set_opening, world.entity, "bk", opening)


def test_the_single_bank_leaf_is_the_default_payment_account(
    world: World, tmp_path: Path
) -> None:
    with_banks(world, "农商行")
    path = fill(tmp_path / "b.xlsx", SEPTEMBER[:2])
    result = world.run(import_claims, world.entity, "cash", path)
    entries = {e.id: e for e in world.run(custody.list_entries, world.entity)}
    assert [entries[c.custody_entry].account for c in result.pending if c.custody_entry] == [
        "101",
        "10201",
    ]


def test_several_bank_leaves_are_named_with_the_rules_option(world: World, tmp_path: Path) -> None:
    with_banks(world, "农商行", "建行")
    path = fill(tmp_path / "b.xlsx", SEPTEMBER[:2])
    with pytest.raises(ProblemsError) as err:
        world.run(import_claims, world.entity, "cash", path)
    (problem,) = err.value.problems
    assert "10201 农商行" in problem.message and "10202 建行" in problem.message
    assert "--rules claims.toml" in problem.message
    assert '"银行" = "10201"' in problem.message
    assert rows_of(world, ImportBatch) == []
