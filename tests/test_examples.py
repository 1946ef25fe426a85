"""The worked example (examples/worked_example.py) runs on both databases and adds up.

The expected figures are computed by hand from the example's opening balances
and transactions (see the comments), not read back from the ledger.
"""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal as D
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import select

from juzhang import books, verify
from juzhang.core.period import parse_period
from juzhang.examples.demo_data import demo_agency, statement_lines
from juzhang.importers.bank import open_statement
from juzhang.importers.claims_config import parse_claims_config
from juzhang.importers.rules import parse_rules
from juzhang.storage.engine import make_engine, transaction
from juzhang.storage.schema import AuditLog

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "worked_example.py"
SEPTEMBER = parse_period("2026-09")


def _load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("juzhang_worked_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return _load_example()


def test_worked_example_figures(example: ModuleType, db_url: str) -> None:
    tb = example.main(db_url)

    assert tb.entity == "H001"
    assert tb.balanced
    # every debit of the month: 50000 + 3000 + 356 + 12000 + 6500 + 1280 + 2460 + 800
    # + 6500 (accrual) − 2460 (red reversal) + 2460 (correction)
    assert tb.debit_total == tb.credit_total == D("82896.00")
    assert tb.opening_total == tb.closing_total == D("0.00")

    def closing(code: str) -> D:
        return tb.row(code).closing_balance

    # 库存现金: 2000 + 3000 − 356 − 1280 − 800
    assert closing("101") == D("2564.00")
    assert tb.row("101").credit == D("2436.00")
    # 银行存款: 186500 + 50000 − 3000 + 12000 − 6500 − 2460 (+2460 red −2460 blue)
    assert closing("102") == D("236540.00")
    assert tb.row("102").debit == D("62000.00")
    # the red line is a negative credit: 3000 + 6500 + 2460 − 2460 + 2460
    assert tb.row("102").credit == D("11960.00")
    # 应收款 collected in full; 应付工资 paid (Aug) and accrued again (Sep)
    assert closing("112") == D("0.00")
    assert closing("212") == D("-6500.00")
    assert tb.row("212").debit == tb.row("212").credit == D("6500.00")
    # the mistaken 2460 left 环境卫生 and went to 水电费
    assert closing("51401") == D("1280.00")
    assert closing("51303") == D("2460.00")
    # a parent sums its children at every level: 513 = 356 + 6500 + 2460
    assert closing("5130101") == closing("51301") == D("356.00")
    assert closing("513") == D("9316.00")
    assert closing("514") == D("2080.00")
    assert closing("501") == D("-9000.00")
    assert closing("503") == D("-50000.00")
    # untouched accounts keep their opening balance
    assert closing("151") == D("120000.00")
    assert closing("321") == D("-15000.00")


def test_worked_example_leaves_clean_books(example: ModuleType, db_url: str) -> None:
    example.main(db_url)
    engine = make_engine(db_url)
    try:
        with transaction(engine, write=False) as s:
            assert verify.verify(s, "H001") == []
            # the close is held back by its checks (no cash count, no bank statement)
            assert not books.is_closed(s, "H001", SEPTEMBER)
            posted = books.list_vouchers(s, "H001", period=SEPTEMBER, status="posted")
            assert [v.number for v in posted] == list(range(1, 12))
            kinds = {v.number: v.kind for v in posted}
            assert kinds[10] == "reversal" and kinds[11] == "correction"
            red = posted[9]
            assert red.reverses == posted[6].id
            assert {ln.summary for ln in red.lines} == {"注销 9月18日 7号凭证"}
            assert all(ln.amount < 0 for ln in red.lines)
            assert all(ln.summary.startswith("订正 9月18日 7号凭证") for ln in posted[10].lines)
            # the cashier's entry for the water bill backs the original, the red and the blue
            water = {ln.custody_entry for v in posted[6:] for ln in v.lines if ln.account == "102"}
            assert len(water) == 1 and None not in water
            assert all(v.cashier == "zhang" for v in posted if v.number != 9)
            assert posted[8].prepared_by == "chen" and posted[8].reviewed_by == "wang"
            # every refused action left nothing behind: no draft is left over
            assert books.list_vouchers(s, "H001", status="draft") == []
            actions = list(s.scalars(select(AuditLog.action)))
            assert actions.count("voucher.post") == 11
            assert "period.close" not in actions
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the demo agency's data

DEMO_AGENCY = EXAMPLE.parent / "demo_agency.py"


def test_demo_agency_files_read_back_through_the_importers(tmp_path: Path) -> None:
    """The statements the demo writes are real files in their bank's layout: the reader agrees."""
    spec = importlib.util.spec_from_file_location("juzhang_demo_agency", DEMO_AGENCY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plans = module.main("2026-08", 11, tmp_path)
    agency = demo_agency()
    assert [p.period for p in plans] == [202608] * 3
    for community, plan in zip(agency.communities, plans, strict=True):
        opening = dict(community.opening)[community.bank]
        expected = statement_lines(plan, community, opening)
        path = tmp_path / community.code / "statement-2026-08.csv"
        with open_statement(path, account=community.bank_number) as stream:
            rows = list(stream)
            assert stream.profile.name == community.layout  # detected from the header
            assert stream.problems == []
        assert [r.credit - r.debit for r in rows] == [ln.amount for ln in expected]
        assert [r.balance for r in rows] == [ln.balance for ln in expected]
        assert [r.serial for r in rows] == [ln.serial for ln in expected]
        assert (tmp_path / community.code / "claims-2026-08.xlsx").stat().st_size > 0
        parse_rules((tmp_path / community.code / "rules.toml").read_text("utf-8"))
        parse_claims_config((tmp_path / community.code / "claims.toml").read_text("utf-8"))
