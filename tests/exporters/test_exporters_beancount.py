"""The beancount export round trip: export → load with beancount → no errors → balances equal.

The books are the worked story of ``tests/reports/test_reports_ledger.py`` (detail
accounts, two months, a red reversal and its correction).  The balances are
recomputed here from the postings beancount loads, independently of the
exporter, and compared with the trial balance of every account at every level.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from beancount.core import account as bc_account
from beancount.core import data
from sqlalchemy import Engine, text

from juzhang import books, custody
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import NotFoundError
from juzhang.exporters.beancount import (
    account_component,
    account_names,
    check_beancount,
    entity_component,
    export_beancount,
    render_beancount,
)
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.access import accounts_of, get_entity
from tests.conftest import World, build_world
from tests.reports.test_reports_ledger import build_scenario

SEP, OCT = 202609, 202610


def load(path: Path) -> tuple[list[Any], list[Any]]:
    entries, errors, _options = loader.load_file(str(path))
    return entries, errors


def posted_balances(entries: list[Any]) -> dict[str, D]:
    """Sum the postings of every account (CNY only)."""
    out: dict[str, D] = defaultdict(lambda: D("0.00"))
    for entry in entries:
        if isinstance(entry, data.Transaction):
            for p in entry.postings:
                assert p.units.currency == "CNY"
                out[p.account] += p.units.number
    return out


def subtree_balance(balances: dict[str, D], name: str) -> D:
    return sum((v for k, v in balances.items() if k == name or k.startswith(name + ":")), D("0.00"))


def names_of(world: World, entity: str) -> dict[str, str]:
    def read(s: Any) -> dict[str, str]:
        return account_names(accounts_of(s, get_entity(s, entity).id), entity)

    return world.run(read)


def check_against_trial_balance(world: World, entity: str, path: Path, last: int) -> int:
    """Every account at every level: balance from the file == trial balance closing."""
    entries, errors = load(path)
    assert errors == []
    balances = posted_balances(entries)
    start = get_entity_start(world, entity)
    tb = world.run(trial_balance, entity, start, last)
    names = names_of(world, entity)
    for row in tb.rows:
        assert subtree_balance(balances, names[row.code]) == row.closing_balance, row.code
    return len(tb.rows)


def get_entity_start(world: World, entity: str) -> int:
    return world.run(lambda s: get_entity(s, entity).start_period)


@pytest.fixture
def scenario(world: World) -> World:
    build_scenario(world)
    return world


# --------------------------------------------------------------------------- names


def test_account_names_follow_beancounts_rule() -> None:
    assert account_component("101", "库存现金") == "101-库存现金"
    assert account_component("401", "生产（劳务）成本") == "401-生产-劳务-成本"
    assert account_component("51301", "办公费 (A·B)") == "51301-办公费-A-B"
    assert account_component("9", "（）") == "9"
    assert entity_component("C001") == "C001"
    assert entity_component("c001") == "E-c001"
    assert entity_component("幸福 社区") == "E-幸福-社区"
    for name in (
        "Assets:C001:101-库存现金",
        "Assets:C001:401-生产-劳务-成本",
        "Assets:E-c001:101",
        "Assets:E-幸福-社区:101-库存现金",
    ):
        assert bc_account.is_valid(name), name
    assert not bc_account.is_valid("Assets:C001:库存现金")  # why the code comes first


def test_every_chart_gives_valid_names(engine: Engine) -> None:
    for i, chart in enumerate(("rural-2023", "rural-2004", "npo-2004")):
        world = build_world(engine, f"K00{i}", chart=chart)
        names = names_of(world, world.entity)
        assert names and all(bc_account.is_valid(n) for n in names.values())
        assert len(set(names.values())) == len(names)
    roots = {n.split(":")[0] for n in names.values()}
    assert roots == {"Assets", "Liabilities", "Equity", "Income", "Expenses"}


# --------------------------------------------------------------------------- the round trip


def test_round_trip_balances_equal_the_trial_balance(scenario: World, tmp_path: Path) -> None:
    path = tmp_path / "c001.beancount"
    summary = scenario.run(export_beancount, path, ["C001"])
    # 7 vouchers in September, 6 in October (4 + the red reversal + the correction)
    assert (summary.entities, summary.transactions) == (("C001",), 13)
    assert check_beancount(path) == []
    assert check_against_trial_balance(scenario, "C001", path, OCT) > 40
    entries, _ = load(path)
    names = names_of(scenario, "C001")
    balances = posted_balances(entries)
    # hand-computed: 101 1,050 借; 102 55,200 借; 51301 350 + 80 + 420 − 350 = 500; 514 8,350
    assert balances[names["101"]] == D("1050.00")
    assert balances[names["102"]] == D("55200.00")
    assert balances[names["51301"]] == D("500.00")
    assert balances[names["514"]] == D("8350.00")
    assert subtree_balance(balances, names["513"]) == D("2000.00")
    assert names["51301"] == "Expenses:C001:513-管理费用:51301-办公费"


def test_bean_check_script(scenario: World, tmp_path: Path) -> None:
    script = shutil.which("bean-check") or str(Path(sys.executable).with_name("bean-check"))
    if not Path(script).exists():
        pytest.skip("bean-check is not installed")
    path = tmp_path / "c001.beancount"
    scenario.run(export_beancount, path, ["C001"])
    done = subprocess.run([script, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "" and done.stderr.strip() == ""


def test_vouchers_links_and_metadata(scenario: World, tmp_path: Path) -> None:
    path = tmp_path / "c001.beancount"
    scenario.run(export_beancount, path, ["C001"])
    entries, _ = load(path)
    txns = [e for e in entries if isinstance(e, data.Transaction)]
    opening = txns[0]
    assert opening.date == dt.date(2026, 9, 1) and opening.meta["voucher"] == "期初"
    assert sum(p.units.number for p in opening.postings) == 0
    by_label = {(e.meta.get("period"), e.meta["voucher"]): e for e in txns[1:]}
    original = by_label[("2026-09", "记-0003")]
    red = by_label[("2026-10", "记-0005")]
    blue = by_label[("2026-10", "记-0006")]
    assert original.narration == "购办公用品" and original.date == dt.date(2026, 9, 10)
    assert original.links == {"C001-2026-09-0003"}
    assert red.links == {"C001-2026-10-0005", "C001-2026-09-0003"}
    assert (red.meta["kind"], red.meta["reverses"]) == ("reversal", "2026-09 记-0003")
    assert blue.meta["kind"] == "correction" and "kind" not in original.meta
    names = names_of(scenario, "C001")
    red_amounts = {p.account: p.units.number for p in red.postings}
    # the red voucher: D 51301 −350 / C 101 −350 → postings −350 and +350
    assert red_amounts == {names["51301"]: D("-350.00"), names["101"]: D("350.00")}
    view = scenario.run(books.find_voucher, "C001", SEP, 3)
    assert original.meta["hash"] == view.hash and original.meta["attachments"] == 1
    opens = {e.account: e for e in entries if isinstance(e, data.Open)}
    assert len(opens) == len(names)
    assert opens[names["51301"]].meta["name"] == "办公费"
    assert opens[names["51301"]].meta["code"] == "51301"
    assert opens[names["101"]].currencies == ["CNY"]


def test_balance_assertions_at_every_month_end(scenario: World, tmp_path: Path) -> None:
    path = tmp_path / "c001.beancount"
    summary = scenario.run(export_beancount, path, ["C001"])
    entries, _ = load(path)
    names = names_of(scenario, "C001")
    asserted = {
        (e.date, e.account): e.amount.number for e in entries if isinstance(e, data.Balance)
    }
    assert len(asserted) == summary.balances
    assert all(e.tolerance == 0 for e in entries if isinstance(e, data.Balance))  # exact
    # a balance is checked at the start of its day: the end of September is asserted on 10-01
    assert asserted[(dt.date(2026, 10, 1), names["101"])] == D("2150.00")
    assert asserted[(dt.date(2026, 11, 1), names["101"])] == D("1050.00")
    assert asserted[(dt.date(2026, 10, 1), names["513"])] == D("1850.00")  # a parent
    assert asserted[(dt.date(2026, 11, 1), names["11202"])] == D("600.00")
    assert (dt.date(2026, 10, 1), names["11202"]) not in asserted  # no history yet
    assert (dt.date(2026, 11, 1), names["111"]) not in asserted  # never used
    assert {d for d, _a in asserted} == {dt.date(2026, 10, 1), dt.date(2026, 11, 1)}


def test_assertions_come_from_the_running_balances(scenario: World, tmp_path: Path) -> None:
    """Running balances that disagree with the lines make bean-check fail."""
    with scenario.engine.begin() as conn:
        try:
            conn.execute(
                text(
                    "UPDATE account_balance SET debit_fen = debit_fen + 1"
                    " WHERE account_code = '514' AND period = 202610"
                )
            )
        except Exception:  # pragma: no cover - a backstop refusing the change is fine too
            pytest.skip("the database refuses to change running balances")
    path = tmp_path / "bad.beancount"
    scenario.run(export_beancount, path, ["C001"])
    errors = check_beancount(path)
    assert errors and any("514" in e and "Balance failed" in e for e in errors)


def test_all_entities_in_one_file(scenario: World, tmp_path: Path) -> None:
    other = build_world(scenario.engine, "N001", chart="npo-2004")
    other.run(books.set_opening, "N001", "bk", {"1002": D("900"), "3101": D("-900")})
    other.run(custody.record_entry, "N001", "cash", dt.date(2026, 9, 9), "1002", D("-12.34"), "付")
    draft = VoucherDraft(
        dt.date(2026, 9, 9),
        (Line("5201", 'say "hi" \\ ok', debit=D("12.34")), Line("1002", "付", credit=D("12.34"))),
        0,
    )
    ids = other.run(books.draft_vouchers, "N001", "bk", [draft])
    other.run(books.review_vouchers, "N001", "rv", ids)
    other.run(books.post_vouchers, "N001", "bk", ids)
    path = tmp_path / "all.beancount"
    summary = scenario.run(export_beancount, path, None)
    assert summary.entities == ("C001", "N001") and summary.transactions == 13 + 1
    assert check_beancount(path) == []
    check_against_trial_balance(scenario, "C001", path, OCT)
    check_against_trial_balance(other, "N001", path, SEP)
    entries, _ = load(path)
    quoted = [e for e in entries if isinstance(e, data.Transaction) and "hi" in e.narration]
    assert quoted[0].narration == 'say "hi" \\ ok'
    post = next(p for p in quoted[0].postings if p.account.endswith("1002-银行存款"))
    assert post.meta["summary"] == "付" and post.account == "Assets:N001:1002-银行存款"


def test_unbalanced_opening_still_loads(world: World, tmp_path: Path) -> None:
    world.run(books.set_opening, "C001", "bk", {"101": D("100"), "301": D("-90")})
    text_ = world.run(render_beancount, ["C001"])
    assert "Equity:C001:Opening-Balances  -10.00 CNY" in text_
    path = tmp_path / "u.beancount"
    path.write_text(text_, encoding="utf-8")
    assert check_beancount(path) == []


def test_unknown_entity(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.run(render_beancount, ["X999"])


def test_check_reports_errors_as_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.beancount"
    path.write_text('2026-09-01 * "x"\n  Assets:A 1.00 CNY\n  Assets:B -2.00 CNY\n', "utf-8")
    errors = check_beancount(path)
    assert errors and all(e.startswith(str(path)) for e in errors)
