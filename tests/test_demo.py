"""The demo (``juzhang demo``): an agency's quarter, checked in the books it leaves behind.

The demo runs once per module into a temporary folder; every test reads the
database and files it left, through the library's own reports, and checks
what issue 5 asks of it: three communities on three charts, five roles,
three closed months each, clean books, a reversal, a cash difference booked,
an outstanding cheque in the reconciliation, signed disclosures and workbooks
that open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Connection, select, text

from juzhang import agency, books, custody
from juzhang.cash_count import list_cash_counts
from juzhang.claims import list_claims
from juzhang.closing_run import output_names
from juzhang.core.period import format_period, last_day
from juzhang.demo import CASH_SHORT, MISTAKE, RETURNED_CLAIM, DemoResult, build_demo
from juzhang.disclosure_config import load_config, stored_config
from juzhang.examples.demo_data import PERIODS, demo_agency, plan_month, statement_lines
from juzhang.exporters.board_verify import verify_report
from juzhang.reports.reconciliation import bank_reconciliation
from juzhang.storage.engine import make_engine, transaction
from juzhang.storage.schema import Disclosure, Entity, ImportBatch
from juzhang.verify import verify

JUL, AUG, SEP = PERIODS


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    out = tmp_path_factory.mktemp("demo-out")
    return build_demo(out / "juzhang.db", out)


@pytest.fixture
def s(demo: DemoResult) -> Iterator[Connection]:
    engine = make_engine(f"sqlite:///{demo.database}")
    try:
        with transaction(engine, write=False) as session:
            yield session
    finally:
        engine.dispose()


def test_three_communities_on_three_charts_with_all_five_roles(
    demo: DemoResult, s: Connection
) -> None:
    entities = agency.list_entities(s)
    assert [code for code, _n, _c in entities] == ["H001", "H002", "S001"]
    assert {chart for _c, _n, chart in entities} == {"rural-2023", "rural-2004", "npo-2004"}
    grants = s.execute(
        text(
            "SELECT e.code, u.login, g.role FROM role_grant g"
            " JOIN entity e ON e.id = g.entity_id JOIN app_user u ON u.id = g.user_id"
        )
    ).all()
    for code, _n, _c in entities:
        roles = {role for c, _login, role in grants if c == code}
        assert roles == {"cashier", "bookkeeper", "reviewer", "supervisor", "admin"}, code
        cashiers = {login for c, login, role in grants if c == code and role == "cashier"}
        agency_side = {
            login
            for c, login, role in grants
            if c == code and role in ("bookkeeper", "reviewer", "admin")
        }
        assert cashiers and not cashiers & agency_side  # 钱账分离
    assert demo.problems == ()


def test_three_closed_months_each_with_clean_books(demo: DemoResult, s: Connection) -> None:
    for c in demo.communities:
        assert c.months_closed == PERIODS
        for period in PERIODS:
            assert books.is_closed(s, c.code, period)
            kinds = {v.kind for v in books.list_vouchers(s, c.code, period=period)}
            assert "closing" in kinds  # the carry-forward (结转损益)
        assert verify(s, c.code) == []
        assert books.list_vouchers(s, c.code, status="draft") == []
        assert all(e.backed for e in custody.list_entries(s, c.code))
        # a quarter of real activity, not a token voucher or two
        assert c.vouchers >= 40 and c.custody_entries >= 40 and c.statement_lines >= 20


def test_the_reversal_and_its_correction(demo: DemoResult, s: Connection) -> None:
    code, period = MISTAKE
    vouchers = books.list_vouchers(s, code, period=period, status="posted")
    red = [v for v in vouchers if v.kind == "reversal"]
    blue = [v for v in vouchers if v.kind == "correction"]
    assert len(red) == 1 and len(blue) == 1
    original = next(v for v in vouchers if v.id == red[0].reverses)
    assert demo.reversal == f"{code} 2026-07 {original.label}"
    assert original.number is not None
    assert {ln.summary for ln in red[0].lines} == {
        f"注销 {original.date.month}月{original.date.day}日 {original.number}号凭证"
    }
    assert all(ln.amount < 0 for ln in red[0].lines)
    # the correction books the same money to another expense account
    wrong = {ln.account for ln in original.lines} - {"101"}
    right = {ln.account for ln in blue[0].lines} - {"101"}
    assert wrong != right and len(wrong) == len(right) == 1


def test_the_cash_difference_is_counted_and_booked(demo: DemoResult, s: Connection) -> None:
    code, period, short = CASH_SHORT
    assert demo.cash_difference == short
    (count,) = list_cash_counts(s, code, period=period)
    entries = [e for e in custody.list_entries(s, code) if e.account == "101"]
    opening = dict(demo_agency().communities[0].opening)["101"]
    journal = sum((e.amount for e in entries if e.date <= count.date), opening)
    assert count.amount == journal  # the count equals the journal once the shortfall is in
    lost = [
        v
        for v in books.list_vouchers(s, code, period=period, status="posted")
        if any(ln.account == "181" for ln in v.lines)
    ]
    assert len(lost) == 1
    lines = {ln.account: ln for ln in lost[0].lines}
    assert lines["181"].debit == short and lines["101"].credit == short
    assert lines["101"].custody_entry is not None
    # the other months' counts agree without a difference
    for other in (JUL, SEP):
        (c,) = list_cash_counts(s, code, period=other)
        assert not any(
            ln.account == "181"
            for v in books.list_vouchers(s, code, period=other)
            for ln in v.lines
        )
        assert c.amount > 0


def test_the_outstanding_cheque_is_in_the_month_end_reconciliation(
    demo: DemoResult, s: Connection
) -> None:
    for c in demo.communities:
        by_month = {}
        for period in PERIODS:
            (rec,) = bank_reconciliation(s, c.code, period).accounts
            assert rec.agrees and rec.has_statement, (c.code, period)
            outstanding = rec.booked_out_not_bank.items
            assert len(outstanding) == 1, (c.code, period)
            assert outstanding[0].summary.startswith("开转账支票")
            assert outstanding[0].reference.startswith("支票")
            assert rec.statement_balance - outstanding[0].amount == rec.journal_balance
            by_month[period] = outstanding[0].id
        # each month's cheque is paid next month: a different one is outstanding each time
        assert len(set(by_month.values())) == 3
        sheet_text = _workbook_text(demo.out_dir / c.code / "bank-reconciliation-2026-09.xlsx")
        assert "开转账支票" in sheet_text


def test_statements_in_two_bank_layouts_and_claims_through_the_form(
    demo: DemoResult, s: Connection
) -> None:
    rows = s.execute(
        select(Entity.code, ImportBatch.kind, ImportBatch.profile, ImportBatch.file_name).join(
            Entity, Entity.id == ImportBatch.entity_id
        )
    ).all()
    profiles = {p for _c, kind, p, _f in rows if kind == "bank"}
    assert {"rcb", "icbc"} <= profiles
    assert sum(1 for _c, kind, _p, _f in rows if kind == "claims") == 9
    inputs = demo.out_dir / "inputs"
    first = (inputs / "H001" / "statement-2026-07.csv").read_text("gbk").splitlines()[0]
    assert "客户账户交易明细" in first
    icbc = (inputs / "H002" / "statement-2026-07.csv").read_text("gb18030").splitlines()
    assert icbc[0] == "[HISTORYDETAIL]" and "合计" in icbc[-2]
    assert "报账单" in _workbook_text(inputs / "H001" / "claims-2026-07.xlsx")
    returned = list_claims(s, RETURNED_CLAIM[0], status="returned")
    assert len(returned) == 1 and "证明人" in " ".join(returned[0].reasons)
    for c in demo.communities:
        assert c.claims_booked == 12
        assert c.claims_returned == (1 if c.code == RETURNED_CLAIM[0] else 0)
        assert len(list_claims(s, c.code, status="drafted")) == 12


def test_disclosures_are_signed_and_every_workbook_opens(demo: DemoResult, s: Connection) -> None:
    published = s.execute(
        select(Entity.code, Disclosure.first_period, Disclosure.signer_name)
        .join(Entity, Entity.id == Disclosure.entity_id)
        .where(Disclosure.status == "published")
    ).all()
    supervisors = {c.code: c.supervisor.name for c in demo_agency().communities}
    assert sorted((c, p) for c, p, _n in published) == [
        (c, p) for c in ("H001", "H002", "S001") for p in PERIODS
    ]
    assert all(name == supervisors[c] for c, _p, name in published)
    for c in demo.communities:
        folder = demo.out_dir / c.code
        for period in PERIODS:
            for name in output_names(period):
                assert folder / name in c.files
                wb = openpyxl.load_workbook(folder / name, read_only=True)
                try:
                    assert wb.sheetnames
                finally:
                    wb.close()
        assert c.name in _workbook_text(folder / "disclosure-2026-09.xlsx")


def test_the_boards_left_are_the_published_ones_with_filled_signature_blocks(
    demo: DemoResult, s: Connection
) -> None:
    supervisors = {c.code: c.supervisor.name for c in demo_agency().communities}
    for c in demo.communities:
        for period in PERIODS:
            board = demo.out_dir / c.code / f"disclosure-{format_period(period)}.xlsx"
            words = _workbook_text(board)
            signed = last_day(period) + dt.timedelta(days=5)
            opinion = (
                "民主理财小组意见：经民主理财小组审核，收支真实，同意公开"
                f"　　签字人：{supervisors[c.code]}"
                f"　　日期：{signed.year}年{signed.month}月{signed.day}日"
            )
            assert opinion in words, (c.code, period)
            assert "待民主理财小组审核签字" not in words and "草稿" not in words
            assert verify_report(s, board).exit_code == 0, (c.code, period)


def test_the_boards_name_each_communitys_secretary_and_director(
    demo: DemoResult, s: Connection
) -> None:
    """The demo stores each community's disclosure settings; its boards print the names."""
    for c in demo_agency().communities:
        assert c.secretary and c.director and c.secretary != c.director
        stored = stored_config(s, c.code)
        assert stored is not None
        assert (stored.signatures.secretary, stored.signatures.director) == (
            c.secretary,
            c.director,
        )
        written = load_config(demo.out_dir / "inputs" / c.code / "disclosure.toml")
        assert written.signatures == stored.signatures
        for period in PERIODS:
            words = _workbook_text(
                demo.out_dir / c.code / f"disclosure-{format_period(period)}.xlsx"
            )
            assert f"书记：{c.secretary}" in words and f"主任：{c.director}" in words
            assert f"报账员：{c.cashier.name}" in words
            assert "书记：__________" not in words and "主任：__________" not in words


def test_the_data_is_deterministic() -> None:
    community = demo_agency().communities[0]
    one = plan_month(community, AUG, 7)
    assert plan_month(community, AUG, 7) == one
    assert plan_month(community, AUG, 8) != one
    amounts = [m.amount for m in one.bank_moves] + [c.amount for c in one.claims]
    assert all(isinstance(a, D) and a == a.quantize(D("0.01")) for a in amounts)
    lines = statement_lines(one, community, D("1000.00"))
    assert lines[-1].balance == D("1000.00") + sum(ln.amount for ln in lines)
    assert all(ln.date.month == 8 for ln in lines)
    assert one.cheque is not None and one.cheque.date == dt.date(2026, 8, 28)


def _workbook_text(path: Path) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return " ".join(
            str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row
            if v is not None
        )  # fmt: skip
    finally:
        wb.close()
