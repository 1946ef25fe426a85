"""JSON and CSV exports: documented schemas, snapshots, round trips, CSV injection.

The books are the worked story of ``tests/reports/test_reports_ledger.py``.  The
snapshots (``tests/snapshots/trial_balance.json`` and
``tests/snapshots/csv_*.csv``) pin the schemas; they were written once from a
run checked against the hand-computed figures below; set
``JUZHANG_UPDATE_SNAPSHOTS=1`` to rewrite them.
"""

from __future__ import annotations

import csv
import io
import json
import os
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from juzhang.exporters import Report
from juzhang.exporters.tabular import (
    FORMULA_PREFIXES,
    csv_table,
    csv_text,
    render_csv,
    render_json,
    write_csv,
    write_json,
)
from juzhang.reports.ledger import bank_journal, cash_journal, general_ledger, subsidiary_ledger
from juzhang.reports.statements import balance_sheet, income_statement
from juzhang.reports.trial_balance import trial_balance
from tests.conftest import World
from tests.exporters.test_exporters_excel import RISKY, risky_books
from tests.reports.test_reports_ledger import build_scenario, check_snapshot

SNAPSHOTS = Path(__file__).parent.parent / "snapshots"
SEP, OCT = 202609, 202610

HEADERS = {
    "trial-balance": [
        "code",
        "name",
        "level",
        "opening_balance",
        "debit",
        "credit",
        "closing_balance",
    ],
    "general-ledger": [
        "code",
        "name",
        "kind",
        "period",
        "summary",
        "debit",
        "credit",
        "direction",
        "balance",
    ],
    "ledger": [
        "kind",
        "period",
        "date",
        "voucher",
        "account",
        "summary",
        "debit",
        "credit",
        "direction",
        "balance",
    ],
    "cash-journal": [
        "account",
        "account_name",
        "kind",
        "period",
        "date",
        "entry",
        "vouchers",
        "summary",
        "counterparty",
        "reference",
        "receipt",
        "payment",
        "balance",
        "backed",
        "ledger_balance",
        "difference",
    ],
    "balance-sheet": ["section", "row", "item", "indent", "closing", "opening"],
    "income": ["section", "row", "item", "indent", "current", "cumulative"],
}


@pytest.fixture
def reports(world: World) -> dict[str, Report]:
    """Every report of the two-month story."""
    build_scenario(world)

    def make(s: Any) -> dict[str, Report]:
        return {
            "trial-balance": trial_balance(s, "C001", SEP, OCT),
            "general-ledger": general_ledger(s, "C001", SEP, OCT),
            "ledger": subsidiary_ledger(s, "C001", "513", SEP, OCT),
            "cash-journal": cash_journal(s, "C001", SEP, OCT),
            "bank-journal": bank_journal(s, "C001", SEP, OCT),
            "balance-sheet": balance_sheet(s, "C001", OCT),
            "income": income_statement(s, "C001", OCT),
        }

    return world.run(make)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def check_text_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("JUZHANG_UPDATE_SNAPSHOTS") == "1":
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"no snapshot {path}: run once with JUZHANG_UPDATE_SNAPSHOTS=1"
    assert path.read_bytes().decode("utf-8") == text


# --------------------------------------------------------------------------- JSON


def test_trial_balance_json(reports: dict[str, Report], tmp_path: Path) -> None:
    tb = reports["trial-balance"]
    data = json.loads(render_json(tb))
    assert set(data) == {"entity", "period", "accounts", "totals"}
    cash = next(a for a in data["accounts"] if a["code"] == "101")
    # debit positive: 2,000 + 2,000 − 2,950 = 1,050
    assert cash == {
        "code": "101",
        "name": "库存现金",
        "level": 1,
        "opening_balance": "2000.00",
        "debit": "2000.00",
        "credit": "2950.00",
        "closing_balance": "1050.00",
    }
    capital = next(a for a in data["accounts"] if a["code"] == "301")
    assert capital["closing_balance"] == "-100000.00"  # a credit balance is negative
    assert data["totals"] == {
        "opening_balance": "0.00",
        "debit": "34150.00",
        "credit": "34150.00",
        "closing_balance": "0.00",
        "balanced": True,
    }
    check_snapshot("trial_balance", data)
    path = tmp_path / "tb.json"
    write_json(tb, path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and "库存现金" in text  # not \u-escaped
    assert json.loads(text) == tb.to_json()


def test_every_report_has_json(reports: dict[str, Report]) -> None:
    for kind, report in reports.items():
        assert json.loads(render_json(report)) == report.to_json(), kind


# --------------------------------------------------------------------------- CSV


def test_csv_headers_and_snapshots(reports: dict[str, Report]) -> None:
    for kind, report in reports.items():
        text = render_csv(report)
        header = text.split("\r\n", 1)[0].split(",")
        assert header == HEADERS.get(kind, HEADERS["cash-journal"]), kind
        assert not text.startswith("\ufeff")
        check_text_snapshot(f"csv_{kind}.csv", text)


def test_csv_file_has_bom_and_crlf(reports: dict[str, Report], tmp_path: Path) -> None:
    path = tmp_path / "tb.csv"
    write_csv(reports["trial-balance"], path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == len(reports["trial-balance"].rows) + 1  # type: ignore[union-attr]
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.decode("utf-8-sig") == render_csv(reports["trial-balance"])


def test_csv_round_trip_trial_balance(reports: dict[str, Report]) -> None:
    tb = reports["trial-balance"]
    rows = rows_of(render_csv(tb, bom=True))
    assert [r["code"] for r in rows] == [r.code for r in tb.rows]  # type: ignore[union-attr]
    for row, want in zip(rows, tb.rows, strict=True):  # type: ignore[union-attr]
        assert (row["name"], int(row["level"])) == (want.name, want.level)
        got = [D(row[k]) for k in ("opening_balance", "debit", "credit", "closing_balance")]
        assert got == [want.opening_balance, want.debit, want.credit, want.closing_balance]
    cash = next(r for r in rows if r["code"] == "101")
    assert cash["closing_balance"] == "1050.00"


def test_csv_round_trip_ledgers(reports: dict[str, Report]) -> None:
    rows = rows_of(render_csv(reports["ledger"]))
    red = next(r for r in rows if r["voucher"] == "记-0005")
    # the red line of 10/20: debit −350 on 51301, balance after it 2,000 借
    assert (red["date"], red["account"], red["debit"], red["credit"]) == (
        "2026-10-20",
        "51301",
        "-350.00",
        "",
    )
    assert (red["direction"], red["balance"]) == ("借", "2000.00")
    assert [r["kind"] for r in rows].count("month_total") == 2
    gl = rows_of(render_csv(reports["general-ledger"]))
    cash = [r for r in gl if r["code"] == "101"]
    assert [(r["kind"], r["period"], r["balance"]) for r in cash] == [
        ("opening", "2026-09", "2000.00"),
        ("month_total", "2026-09", "2150.00"),
        ("year_total", "2026-09", "2150.00"),
        ("month_total", "2026-10", "1050.00"),
        ("year_total", "2026-10", "1050.00"),
    ]
    assert (cash[4]["debit"], cash[4]["credit"]) == ("2000.00", "2950.00")
    assert cash[0]["debit"] == "" and cash[0]["summary"] == "期初余额"


def test_csv_round_trip_journal(reports: dict[str, Report]) -> None:
    rows = rows_of(render_csv(reports["cash-journal"]))
    assert {r["account"] for r in rows} == {"101"}
    assert [r["kind"] for r in rows][:2] == ["opening", "entry"]
    four = next(r for r in rows if r["entry"] == "4")
    assert four["vouchers"] == "2026-09 记-0003; 2026-10 记-0005; 2026-10 记-0006"
    assert (four["payment"], four["receipt"], four["backed"]) == ("350.00", "", "true")
    sept = next(r for r in rows if r["kind"] == "month_total")
    assert (sept["balance"], sept["ledger_balance"], sept["difference"]) == (
        "2070.00",
        "2150.00",
        "-80.00",
    )
    unbooked = next(r for r in rows if r["entry"] == "13")
    assert unbooked["backed"] == "false" and unbooked["vouchers"] == ""
    journal = reports["cash-journal"]
    entries = [r for r in rows if r["kind"] == "entry"]
    assert len(entries) == len(journal.accounts[0].entries)  # type: ignore[union-attr]


def test_csv_round_trip_statements(reports: dict[str, Report]) -> None:
    bs = reports["balance-sheet"]
    rows = rows_of(render_csv(bs))
    line = next(r for r in rows if r["item"] == "货币资金")
    assert (line["section"], line["row"], line["closing"], line["opening"]) == (
        "assets",
        "1",
        "56250.00",
        "52000.00",
    )
    heading = rows[0]
    assert heading["row"] == "" and heading["closing"] == ""
    numbered = [r for r in rows if r["row"]]
    for r in numbered:
        assert D(r["closing"]) == bs.value(int(r["row"]), "closing")  # type: ignore[union-attr]


def test_csv_table_is_typed(reports: dict[str, Report]) -> None:
    table = csv_table(reports["trial-balance"])
    first = table.rows[0]
    assert isinstance(first[2], int) and isinstance(first[3], D)
    with pytest.raises(TypeError):
        csv_table(object())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- CSV injection


def test_csv_text_escapes_formula_prefixes() -> None:
    for prefix in FORMULA_PREFIXES:
        assert csv_text(prefix + "x") == "'" + prefix + "x"
    assert csv_text("购办公用品") == "购办公用品" and csv_text("") == ""
    assert csv_text("'=quoted") == "'=quoted"  # only the first character counts


def test_csv_escapes_text_but_not_amounts(world: World) -> None:
    risky_books(world)
    ledger = world.run(subsidiary_ledger, "C001", "101", SEP)
    rows = rows_of(render_csv(ledger))
    summaries = [r["summary"] for r in rows if r["kind"] == "line"]
    assert summaries == ["'" + text for text in RISKY]
    credits = [r["credit"] for r in rows if r["kind"] == "line"]
    assert credits == [f"{i}.00" for i in range(1, len(RISKY) + 1)]
    journal = world.run(cash_journal, "C001", SEP)
    entries = [r for r in rows_of(render_csv(journal)) if r["kind"] == "entry"]
    assert [r["counterparty"] for r in entries] == ["'" + text for text in RISKY]
    assert [r["payment"] for r in entries] == [f"{i}.00" for i in range(1, len(RISKY) + 1)]
    assert all(r["balance"] and not r["balance"].startswith("'") for r in entries)
    # JSON is data: no apostrophes there
    assert [r["summary"] for r in ledger.to_json()["rows"] if r["kind"] == "line"] == RISKY
