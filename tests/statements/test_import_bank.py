"""Bank statement imports into the books (银行对账单导入), on SQLite and PostgreSQL.

Every sample statement of every shipped profile (``tests/data``) is imported
end to end and its stored lines compared with the expected rows kept next to
it; re-importing adds nothing; overlapping statements in any order give the
same books (a property test); a wrong account, a broken running balance and
a file of several bad rows are refused with every problem listed and nothing
written; categorisation rules (first match wins, regex, amount range,
direction, suspense); matching the cashier's entries (window, counterparty,
each entry once, an existing voucher linked); the cashier's acceptance and
the bookkeeper's refusal; a dry run changes nothing; the command line.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, insert, select, update
from typer.testing import CliRunner

from juzhang import books, custody, verify
from juzhang import statements as imp
from juzhang.cli import app
from juzhang.core.period import parse_period
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import (
    ConflictError,
    ProblemsError,
    SegregationOfDutiesError,
    StateError,
    ValidationError,
)
from juzhang.importers.bank import read_statement
from juzhang.importers.rules import parse_rules
from juzhang.statements import LineStatus
from juzhang.statements.keys import StreamedKeys
from juzhang.storage.engine import transaction
from juzhang.storage.schema import (
    Claim,
    Entity,
    ImportBatch,
    StatementLine,
    User,
    Voucher,
)
from tests.conftest import dump, lock_period
from tests.import_worker import (
    BANK,
    OWN_ACCOUNT,
    Txn,
    csv_rows,
    first_data_row,
    record_entries,
    setup_books,
    transactions,
    write_csv,
)
from tests.statement_samples import SAMPLES

DATA = Path(__file__).parent.parent / "data"
SAMPLE_START = parse_period("2025-01")
runner = CliRunner()


# --------------------------------------------------------------------------- helpers


def run(engine: Engine, fn: Any, *args: Any, **kwargs: Any) -> Any:
    with transaction(engine) as s:
        return fn(s, *args, **kwargs)


def import_file(engine: Engine, code: str, path: Path, **kwargs: Any) -> imp.ImportResult:
    result: imp.ImportResult = run(
        engine, imp.import_statement, code, "bk", path, account=BANK, **kwargs
    )
    return result


def count(engine: Engine, table: Any, code: str | None = None) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def books_of(engine: Engine, code: str) -> list[tuple[Any, ...]]:
    """An entity's statement lines with their cashier entries and vouchers, order-free."""
    with transaction(engine, write=False) as s:
        entries = {e.id: (e.date, e.amount) for e in custody.list_entries(s, code)}
        vouchers = {v.id: v for v in books.list_vouchers(s, code)}
        out = []
        for line in imp.list_statement_lines(s, code):
            voucher = vouchers.get(line.voucher) if line.voucher is not None else None
            out.append(
                (
                    line.date,
                    line.direction,
                    line.amount,
                    line.balance,
                    line.counterparty,
                    line.summary,
                    line.serial,
                    entries.get(line.custody_entry) if line.custody_entry else None,
                    None
                    if voucher is None
                    else (
                        voucher.date,
                        voucher.status,
                        tuple(
                            (
                                ln.account,
                                ln.side,
                                ln.amount,
                                ln.summary,
                                ln.custody_entry is not None,
                            )
                            for ln in voucher.lines
                        ),
                    ),
                    line.status,
                )
            )
        return sorted(out, key=repr)


@pytest.fixture
def bank(engine: Engine) -> Engine:
    """Community C001 (books from 2026-09) with bank account 10201 = 6222000011112222."""
    setup_books(engine, "C001")
    return engine


@pytest.fixture
def samples(engine: Engine) -> Engine:
    """Community S001 whose books start 2025-01, the month of the sample statements."""
    setup_books(engine, "S001", start=SAMPLE_START)
    return engine


def statement_file(tmp_path: Path, txns: list[Txn], name: str = "stmt.csv") -> Path:
    return write_csv(tmp_path / name, csv_rows(txns))


# --------------------------------------------------------------------------- samples


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.filename)
def test_every_sample_is_imported_end_to_end(samples: Engine, sample: Any) -> None:
    path = DATA / sample.filename
    if not path.exists():
        pytest.skip(f"{sample.filename} not generated here (xlwt missing)")
    expected = json.loads((DATA / f"{sample.filename}.expected.json").read_text("utf-8"))
    mapping = DATA / sample.mapping if sample.mapping else None
    result = import_file(samples, "S001", path, mapping=mapping)
    rows = expected["rows"]
    assert (result.rows_read, result.new_lines, result.duplicates) == (len(rows), len(rows), 0)
    assert result.awaiting_cashier == len(rows)  # no cashier entries: every line waits
    assert result.vouchers_drafted == 0
    assert result.profile == expected["profile"]
    assert (result.own_account is None) == (expected["own_account"] is None)
    with transaction(samples, write=False) as s:
        stored = imp.list_statement_lines(s, "S001")
    assert [v.row for v in stored] == [r["number"] for r in rows]
    for view, row in zip(stored, rows, strict=True):
        assert view.date.isoformat() == row["date"]
        assert view.time == row["time"]
        signed = D(row["credit"]) - D(row["debit"])
        assert (view.direction, view.amount) == ("in" if signed > 0 else "out", abs(signed))
        assert view.balance == (None if row["balance"] is None else D(row["balance"]))
        assert (view.counterparty, view.summary, view.purpose, view.serial) == (
            row["counterparty"],
            row["summary"],
            row["purpose"],
            row["serial"],
        )
        assert view.status is LineStatus.AWAITING_CASHIER
    before = dump(samples)
    again = import_file(samples, "S001", path, mapping=mapping)
    assert (again.new_lines, again.duplicates, again.batch_id) == (0, len(rows), None)
    first = rows[0]["number"]
    assert again.duplicate_rows == (imp.Span(first, first + len(rows) - 1),)
    assert dump(samples) == before  # a re-import writes nothing at all


def test_streamed_keys_equal_dedup_keys_on_every_sample() -> None:
    from juzhang.importers.bank import dedup_keys

    for sample in SAMPLES:
        path = DATA / sample.filename
        if not path.exists():
            continue
        mapping = None
        if sample.mapping:
            from juzhang.importers.bank import load_profile

            mapping = load_profile(DATA / sample.mapping)
        statement, problems = read_statement(path, profile=mapping, account=OWN_ACCOUNT)
        assert problems == []
        keys = StreamedKeys(OWN_ACCOUNT, evict=True)
        streamed = keys.keys(statement.rows[:2]) + keys.keys(statement.rows[2:])
        assert streamed == dedup_keys(statement.rows, OWN_ACCOUNT)


def test_identical_rows_without_serial_stay_two_and_reimport_adds_nothing(
    bank: Engine, tmp_path: Path
) -> None:
    """Two identical lines (no serial, no balance) in one file are two lines, once."""
    when = dt.datetime(2026, 9, 3, 9)
    rows = csv_rows([])
    fee = ["", when.strftime("%Y-%m-%d"), "", "", "", "0.50", "", "", "手续费", ""]
    rows += [
        fee,
        list(fee),
        ["S9", when.strftime("%Y-%m-%d"), "", "", "8.00", "", "", "", "结息", ""],
    ]
    path = write_csv(tmp_path / "fees.csv", rows)
    first = import_file(bank, "C001", path)
    assert first.new_lines == 3
    again = import_file(bank, "C001", path)
    assert (again.new_lines, again.duplicates) == (0, 3)
    with transaction(bank, write=False) as s:
        keys = s.scalars(select(StatementLine.dedup_key).order_by(StatementLine.id)).all()
    assert keys[0].endswith("#1") and keys[1].endswith("#2") and keys[0][:-2] == keys[1][:-2]


def test_a_file_not_in_date_order_is_read_again_keeping_every_key(
    bank: Engine, tmp_path: Path
) -> None:
    txns = transactions(6, serial_every=0)
    shuffled = [txns[3], txns[0], txns[4], txns[1], txns[5], txns[2]]
    balance_free = [[*row[:6], "", *row[7:]] for row in csv_rows(shuffled)[4:]]
    path = write_csv(tmp_path / "mixed.csv", csv_rows([]) + balance_free)
    result = import_file(bank, "C001", path)
    assert result.new_lines == 6
    assert import_file(bank, "C001", path).duplicates == 6


# --------------------------------------------------------------------------- overlap property


SERIES = transactions(14, seed=7, step=dt.timedelta(hours=9))
MATCHED = SERIES[::3]  # the cashier recorded these before any statement came
_codes = itertools.count(1)


def _windows(draw: Any) -> list[tuple[int, int]]:
    n = len(SERIES)
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=4)))
    bounds = [0, *cuts, n]
    windows = []
    for a, b in itertools.pairwise(bounds):
        left = draw(st.integers(0, 3))
        right = draw(st.integers(0, 3))
        windows.append((max(0, a - left), min(n, b + right)))
    if draw(st.booleans()):
        windows.append((0, n))  # the whole statement again
    return draw(st.permutations(windows))


@st.composite
def split_orders(draw: Any) -> list[tuple[int, int]]:
    return _windows(draw)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(windows=split_orders())
def test_overlapping_statements_in_any_order_give_the_same_books(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory, windows: list[tuple[int, int]]
) -> None:
    folder = tmp_path_factory.mktemp("split")
    reference = "R001"
    if not _exists(engine, reference):
        setup_books(engine, reference)
        record_entries(engine, reference, MATCHED)
        import_file(engine, reference, statement_file(folder, SERIES, "all.csv"))
    code = f"P{next(_codes):03d}"
    setup_books(engine, code, users=False)
    record_entries(engine, code, MATCHED)
    for i, (a, b) in enumerate(windows):
        import_file(engine, code, statement_file(folder, SERIES[a:b], f"w{i}.csv"))
    assert books_of(engine, code) == books_of(engine, reference)
    with transaction(engine, write=False) as s:
        assert verify.verify(s, code) == []


def _exists(engine: Engine, code: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(Entity.id).where(Entity.code == code)).first() is not None


# --------------------------------------------------------------------------- refusals


def test_a_statement_of_another_account_is_refused(bank: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "other.csv", csv_rows(transactions(3), account="6222999900001111"))
    before = dump(bank)
    with pytest.raises(ProblemsError) as caught:
        import_file(bank, "C001", path)
    assert "6222999900001111" in str(caught.value)
    assert caught.value.problems[0].subject == "account"
    assert dump(bank) == before


def test_a_masked_number_that_fits_is_accepted(bank: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "masked.csv", csv_rows(transactions(2), account="6222****2222"))
    assert import_file(bank, "C001", path).new_lines == 2


def test_an_account_without_a_bank_number_or_not_a_bank_account_is_refused(
    bank: Engine, tmp_path: Path
) -> None:
    path = statement_file(tmp_path, transactions(2))
    run(bank, books.add_account, "C001", "10202", "建行")
    with pytest.raises(ValidationError, match="bank-account"):
        run(bank, imp.import_statement, "C001", "bk", path, account="10202")
    with pytest.raises(ValidationError, match="not a bank account"):
        run(bank, imp.import_statement, "C001", "bk", path, account="101")
    with pytest.raises(SegregationOfDutiesError):
        run(bank, imp.import_statement, "C001", "cash", path, account=BANK)


def test_a_balance_break_is_refused_naming_its_row(bank: Engine, tmp_path: Path) -> None:
    txns = transactions(6)
    rows = csv_rows(txns)
    broken = first_data_row() + 3
    rows[broken - 1][6] = "1.00"  # this row's balance no longer follows
    path = write_csv(tmp_path / "broken.csv", rows)
    before = dump(bank)
    with pytest.raises(ProblemsError) as caught:
        import_file(bank, "C001", path)
    balance = [p for p in caught.value.problems if p.subject == "balance"]
    assert balance and balance[0].where == f"broken.csv:{broken}"
    assert dump(bank) == before


def test_every_bad_row_is_listed_and_nothing_is_written(bank: Engine, tmp_path: Path) -> None:
    """All or nothing: a large file with bad rows here and there writes nothing."""
    txns = transactions(5000)
    record_entries(bank, "C001", txns[:100])
    rows = csv_rows(txns)
    bad = {
        first_data_row() + 10: (1, "2026-13-45"),  # no such date
        first_data_row() + 2500: (4, "12.3.4"),  # not an amount
        first_data_row() + 4990: (5, "abc"),  # not an amount
    }
    for number, (column, value) in bad.items():
        rows[number - 1][column] = value
    path = write_csv(tmp_path / "bad.csv", rows)
    before = dump(bank)
    with pytest.raises(ProblemsError) as caught:
        import_file(bank, "C001", path)
    named = {int(p.where.split(":")[1]) for p in caught.value.problems if p.subject == "row"}
    assert set(bad) <= named
    assert dump(bank) == before
    with pytest.raises(ProblemsError):  # a dry run refuses the same way
        import_file(bank, "C001", path, dry_run=True)
    assert dump(bank) == before


def test_profile_and_mapping_together_are_refused(bank: Engine, tmp_path: Path) -> None:
    path = statement_file(tmp_path, transactions(2))
    with pytest.raises(ValidationError):
        import_file(bank, "C001", path, profile="icbc", mapping=DATA / "mapping-flag.toml")


# --------------------------------------------------------------------------- rules


RULES = """\
suspense = "21199"
template = "{summary} {counterparty}"

[[rule]]
name = "利息"
summary = ["结息", "利息"]
direction = "in"
account = "50401"
template = "{date:%m}月利息"

[[rule]]
name = "物业"
counterparty_regex = "物业(服务)?(有限)?公司$"
amount_max = 2000
account = "51301"

[[rule]]
name = "大额物业"
counterparty = "物业"
account = "51302"

[[rule]]
name = "支出兜底"
direction = "out"
amount_min = "5000.00"
account = "51303"
"""


def _txn(day: int, fen: int, counterparty: str, summary: str, serial: str) -> Txn:
    return Txn(dt.datetime(2026, 9, day, 10), fen, 0, counterparty, summary, "", serial)


def test_rules_first_match_regex_amount_range_direction_and_suspense(
    bank: Engine, tmp_path: Path
) -> None:
    for code, name in (("50401", "利息收入"), ("51301", "物业费"), ("51302", "大额物业费")):
        run(bank, books.add_account, "C001", code, name)
    run(bank, books.add_account, "C001", "51303", "其他大额")
    txns = [
        _txn(2, 3518, "", "结息", "A1"),  # 利息 (in)
        _txn(3, -123456, "某某物业服务有限公司", "转账", "A2"),  # 物业 (≤ 2000, regex)
        _txn(4, -350000, "某某物业服务有限公司", "转账", "A3"),  # 大额物业: over 2000
        _txn(5, -3518, "", "结息", "A4"),  # interest word but money out: not 利息
        _txn(6, -800000, "张三", "代发工资", "A5"),  # 支出兜底: out, ≥ 5000
        _txn(7, 900000, "张三", "退款", "A6"),  # nothing matches: suspense
    ]
    balance = 0
    rows = []
    for t in txns:
        balance += t.fen
        rows.append(replace(t, balance=balance + 10_000_000))
    record_entries(bank, "C001", rows)
    rules_path = tmp_path / "rules.toml"
    rules_path.write_text(RULES, encoding="utf-8")
    result = import_file(bank, "C001", statement_file(tmp_path, rows), rules=rules_path)
    assert result.vouchers_drafted == 6
    with transaction(bank, write=False) as s:
        drafted = sorted(books.list_vouchers(s, "C001"), key=lambda v: v.date)
    counter = [next(ln for ln in v.lines if ln.account != BANK) for v in drafted]
    assert [ln.account for ln in counter] == ["50401", "51301", "51302", "21199", "51303", "21199"]
    assert counter[0].summary == "09月利息"
    assert counter[1].summary == "转账 某某物业服务有限公司"
    assert [ln.side for ln in counter] == ["C", "D", "D", "D", "D", "C"]


def test_without_rules_everything_goes_to_the_charts_suspense_account_created_if_missing(
    bank: Engine, tmp_path: Path
) -> None:
    run(bank, books.delete_account, "C001", "21199")  # an entity made before the chart had it
    txns = transactions(3)
    record_entries(bank, "C001", txns)
    result = import_file(bank, "C001", statement_file(tmp_path, txns))
    assert result.vouchers_drafted == 3
    with transaction(bank, write=False) as s:
        vouchers = books.list_vouchers(s, "C001")
    assert {ln.account for v in vouchers for ln in v.lines} == {BANK, "21199"}
    summaries = {ln.summary for v in vouchers for ln in v.lines}
    assert "转账 某某街道办事处 用途0" in summaries


def test_a_rules_file_lists_every_problem_with_its_line() -> None:
    text = """\
suspense = 21199
colour = "red"

[[rule]]
name = "ok"
account = "50301"

[[rule]]
name = "bad"
direction = "sideways"
amount_min = "1.234"
counterparty_regex = "(unclosed"
template = "{nonsense}"

[[rule]]
summary = "x"
"""
    with pytest.raises(ProblemsError) as caught:
        parse_rules(text, "r.toml")
    wheres = [p.where for p in caught.value.problems]
    messages = " ".join(p.message for p in caught.value.problems)
    assert "r.toml:suspense" in wheres
    assert any("colour" in p.message for p in caught.value.problems)
    assert (
        sum("r.toml:8 规则2" in w for w in wheres) == 5
    )  # account, direction, amount, regex, template
    assert any(w.startswith("r.toml:15 规则3") for w in wheres)  # no account
    assert "sideways" in messages and "(unclosed" in messages and "{nonsense}" in messages


def test_rules_naming_accounts_the_chart_lacks_are_refused(bank: Engine, tmp_path: Path) -> None:
    rules = parse_rules('[[rule]]\naccount = "59999"\n[[rule]]\naccount = "102"\n', "r.toml")
    path = statement_file(tmp_path, transactions(2))
    with pytest.raises(ProblemsError) as caught:
        import_file(bank, "C001", path, rules=rules)
    text = str(caught.value)
    assert "59999" in text and "102" in text


# --------------------------------------------------------------------------- matching


def test_cashier_entries_are_matched_within_the_window_by_counterparty_each_once(
    bank: Engine, tmp_path: Path
) -> None:
    day = dt.date(2026, 10, 20)
    rec = custody.record_entry
    near = run(bank, rec, "C001", "cash", day + dt.timedelta(days=2), BANK, D("-100.00"), "付款",
               counterparty="某某物业")  # fmt: skip
    run(bank, rec, "C001", "cash", day, BANK, D("-100.00"), "付款", counterparty="别的公司")
    far = run(bank, rec, "C001", "cash", day - dt.timedelta(days=30), BANK, D("-250.00"), "付款")
    once = run(bank, rec, "C001", "cash", day, BANK, D("-7.00"), "手续费")
    when = dt.datetime(2026, 10, 20, 9)
    txns = [
        Txn(when, -10000, 990000, "某某物业服务有限公司", "转账", "", "M1"),
        Txn(when, -25000, 965000, "", "转账", "", "M2"),
        Txn(when, -700, 964300, "", "手续费", "", "M3"),
        Txn(when, -700, 963600, "", "手续费", "", "M4"),
    ]
    path = statement_file(tmp_path, txns)
    result = import_file(bank, "C001", path)
    assert (result.vouchers_drafted, result.awaiting_cashier) == (2, 2)
    with transaction(bank, write=False) as s:
        lines = {v.serial: v for v in imp.list_statement_lines(s, "C001")}
    assert lines["M1"].custody_entry == near  # 某某物业 ⊂ 某某物业服务有限公司; 别的公司 differs
    assert lines["M2"].custody_entry is None  # 30 days away: outside the 10-day window
    assert [lines["M3"].custody_entry, lines["M4"].custody_entry] == [once, None]  # once each
    assert lines["M4"].status is LineStatus.AWAITING_CASHIER
    again = import_file(bank, "C001", path, window_days=31)
    assert (again.duplicates, again.vouchers_drafted) == (4, 0)  # stored lines are not re-matched
    with transaction(bank, write=False) as s:
        assert far not in {v.custody_entry for v in imp.list_statement_lines(s, "C001")}


def test_a_wider_window_matches_an_older_entry(bank: Engine, tmp_path: Path) -> None:
    old = run(bank, custody.record_entry, "C001", "cash", dt.date(2026, 9, 1), BANK,
              D("250.00"), "收款")  # fmt: skip
    txn = Txn(dt.datetime(2026, 9, 25, 9), 25000, 1_025_000, "", "转账", "", "W1")
    result = import_file(bank, "C001", statement_file(tmp_path, [txn]), window_days=30)
    assert result.vouchers_drafted == 1
    with transaction(bank, write=False) as s:
        assert imp.list_statement_lines(s, "C001")[0].custody_entry == old


def test_an_entry_already_booked_links_the_line_to_that_voucher(
    bank: Engine, tmp_path: Path
) -> None:
    entry = run(bank, custody.record_entry, "C001", "cash", dt.date(2026, 9, 4), BANK,
                D("-88.00"), "买办公用品")  # fmt: skip
    draft = VoucherDraft(
        dt.date(2026, 9, 4),
        (
            Line("51301", "办公用品", debit=D("88.00")),
            Line(BANK, "办公用品", credit=D("88.00"), custody_entry=entry),
        ),
    )
    run(bank, books.add_account, "C001", "51301", "办公费")
    voucher = run(bank, books.draft_voucher, "C001", "bk2", draft)
    txn = Txn(dt.datetime(2026, 9, 5, 9), -8800, 991200, "", "转账", "", "L1")
    result = import_file(bank, "C001", statement_file(tmp_path, [txn]))
    assert (result.vouchers_drafted, result.vouchers_linked) == (0, 1)
    with transaction(bank, write=False) as s:
        line = imp.list_statement_lines(s, "C001")[0]
        assert (line.custody_entry, line.voucher, line.status) == (entry, voucher, "drafted")
        assert len(books.list_vouchers(s, "C001")) == 1


def test_an_entry_of_a_pending_claim_waits_for_the_claims_voucher(
    bank: Engine, tmp_path: Path
) -> None:
    entry = run(bank, custody.record_entry, "C001", "cash", dt.date(2026, 9, 8), BANK,
                D("-300.00"), "报账：维修费")  # fmt: skip
    with transaction(bank) as s:  # the cashier's claim batch, as the claims import leaves it
        ids = dict(s.execute(select(Entity.code, Entity.id)).all())
        users = dict(s.execute(select(User.login, User.id)).all())
        s.execute(
            insert(ImportBatch).values(
                entity_id=ids["C001"], id=1, kind="claims", file_name="claims.xlsx",
                file_sha256="0" * 64, imported_by=users["cash"],
                imported_at=dt.datetime.now(dt.UTC), rows_read=1, rows_new=1,
            )
        )  # fmt: skip
        s.execute(
            insert(Claim).values(
                entity_id=ids["C001"], id=1, batch_id=1, row_no=2, claim_date=dt.date(2026, 9, 8),
                purpose="维修费", amount_fen=30000, payment="bank", custody_account=BANK,
                custody_entry_id=entry, status="pending", submitted_by=users["cash"],
            )
        )  # fmt: skip
    txn = Txn(dt.datetime(2026, 9, 9, 9), -30000, 970000, "", "转账", "", "C1")
    result = import_file(bank, "C001", statement_file(tmp_path, [txn]))
    assert (result.vouchers_drafted, result.awaiting_cashier) == (0, 0)
    assert any("pending claim" in n.message for n in result.notes)
    with transaction(bank, write=False) as s:
        line = imp.list_statement_lines(s, "C001")[0]
    assert (line.custody_entry, line.status) == (entry, LineStatus.AWAITING_DRAFT)
    run(bank, books.add_account, "C001", "51301", "维修费")
    draft = VoucherDraft(
        dt.date(2026, 9, 8),
        (
            Line("51301", "维修费", debit=D("300.00")),
            Line(BANK, "维修费", credit=D("300.00"), custody_entry=entry),
        ),
    )
    voucher = run(bank, books.draft_voucher, "C001", "bk", draft)  # the claim's voucher
    with transaction(bank) as s:
        s.execute(update(Claim).values(status="drafted", voucher_id=voucher))
    done = run(bank, imp.draft_pending, "C001", "bk")
    assert (done.drafted, done.linked) == (0, 1)
    with transaction(bank, write=False) as s:
        assert imp.list_statement_lines(s, "C001")[0].voucher == voucher


# --------------------------------------------------------------------------- the cashier


def test_the_cashier_accepts_lines_and_the_bookkeeper_drafts_them(
    bank: Engine, tmp_path: Path
) -> None:
    txns = transactions(6)
    record_entries(bank, "C001", txns[:2])
    path = statement_file(tmp_path, txns)
    result = import_file(bank, "C001", path)
    assert (result.vouchers_drafted, result.awaiting_cashier) == (2, 4)
    waiting = [n for s in result.awaiting_lines for n in s.numbers()]
    with pytest.raises(SegregationOfDutiesError):  # a bookkeeper can never do it
        run(bank, imp.accept_statement_lines, "C001", "bk", "all")
    with pytest.raises(SegregationOfDutiesError):
        run(bank, imp.accept_statement_lines, "C001", "rv", waiting[:1])
    accepted = run(bank, imp.accept_statement_lines, "C001", "cash", waiting[:1])
    assert [a.line for a in accepted] == waiting[:1]
    with pytest.raises(ProblemsError) as caught:  # not waiting any more, and unknown
        run(bank, imp.accept_statement_lines, "C001", "cash", [waiting[0], 999])
    assert len(caught.value.problems) == 2
    rest = run(bank, imp.accept_statement_lines, "C001", "cash", "all")
    assert [a.line for a in rest] == waiting[1:]
    with transaction(bank, write=False) as s:
        entries = {e.id: e for e in custody.list_entries(s, "C001")}
        assert {entries[a.entry].source for a in accepted + rest} == {"statement"}
        assert {v.status for v in imp.list_statement_lines(s, "C001", pending=True)} == {
            LineStatus.AWAITING_DRAFT
        }
    with pytest.raises(SegregationOfDutiesError):
        run(bank, imp.draft_pending, "C001", "cash")
    again = import_file(bank, "C001", path)  # the next import drafts the accepted lines
    assert (again.new_lines, again.pending_drafted) == (0, 4)
    done = run(bank, imp.draft_pending, "C001", "bk")
    assert done.drafted == 0
    with transaction(bank, write=False) as s:
        assert imp.list_statement_lines(s, "C001", pending=True) == []
        assert len(books.list_vouchers(s, "C001")) == 6
        assert verify.verify(s, "C001") == []


def test_entries_the_cashier_records_by_hand_later_are_matched_not_recorded_twice(
    bank: Engine, tmp_path: Path
) -> None:
    txns = transactions(3)
    import_file(bank, "C001", statement_file(tmp_path, txns))
    record = custody.record_entry
    by_hand = [
        run(bank, record, "C001", "cash", t.when.date(), BANK, D(t.fen) / 100, t.summary)
        for t in txns[:2]
    ]
    accepted = run(bank, imp.accept_statement_lines, "C001", "cash", [1])
    assert accepted == [imp.Accepted(1, by_hand[0], recorded=False)]
    done = run(bank, imp.draft_pending, "C001", "bk")  # line 2 matched now, line 1 accepted
    assert (done.drafted, done.waiting) == (2, ())
    with transaction(bank, write=False) as s:
        lines = imp.list_statement_lines(s, "C001")
        assert [v.custody_entry for v in lines[:2]] == by_hand
        assert lines[2].status is LineStatus.AWAITING_CASHIER
        assert len(custody.list_entries(s, "C001")) == 2


def test_accepting_in_chunks_matches_a_hand_entry_once_while_the_chunk_before_is_written(
    bank: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines 1 and 3 fit the one entry the cashier recorded by hand; chunks of two lines.

    Chunk 2's entries are matched before chunk 1's links are written (its
    writes run behind chunk 2's making): the entry chunk 1 matched is carried
    as taken, so line 3 gets an entry of its own instead of the same one.
    """
    path, first = _twins(tmp_path)
    import_file(bank, "C001", path)
    by_hand = _by_hand(bank, first)
    monkeypatch.setattr("juzhang.statements.lines.CHUNK_ROWS", 2)
    accepted = run(bank, imp.accept_statement_lines, "C001", "cash", "all")
    assert [(a.line, a.recorded) for a in accepted] == [(1, False), (2, True), (3, True), (4, True)]
    assert accepted[0].entry == by_hand
    assert len({a.entry for a in accepted}) == 4
    with transaction(bank, write=False) as s:
        assert len(custody.list_entries(s, "C001")) == 4
        assert verify.verify(s, "C001") == []


def _twins(tmp_path: Path, start: dt.datetime = dt.datetime(2026, 9, 1, 8)) -> tuple[Path, Txn]:
    """A statement of four lines where lines 1 and 3 are the same movement; line 1's txn."""
    base = transactions(4, start=start)
    fens = [base[0].fen, base[1].fen, base[0].fen, base[3].fen]
    parties = [base[0].counterparty, base[1].counterparty] * 2
    txns, balance = [], 100_000_00
    for t, fen, who in zip(base, fens, parties, strict=True):
        balance += fen
        txns.append(replace(t, fen=fen, balance=balance, counterparty=who))
    return statement_file(tmp_path, txns), txns[0]


def _by_hand(bank: Engine, t: Txn) -> int:
    entry: int = run(
        bank,
        custody.record_entry,
        "C001",
        "cash",
        t.when.date(),
        BANK,
        D(t.fen) / 100,
        t.summary,
        counterparty=t.counterparty,
    )
    return entry


def test_an_entry_recorded_by_hand_days_before_the_bank_line_is_matched_on_acceptance(
    bank: Engine, tmp_path: Path
) -> None:
    """Within the link window (10 days) before the earliest line waiting: matched, not recorded.

    Acceptance looks for such entries once at its start and matches only the
    accounts that have some; this one is five days early and must be found.
    """
    path, first = _twins(tmp_path, dt.datetime(2026, 9, 15, 8))
    import_file(bank, "C001", path)
    early = replace(first, when=first.when - dt.timedelta(days=5))
    by_hand = _by_hand(bank, early)
    accepted = run(bank, imp.accept_statement_lines, "C001", "cash", "all")
    assert accepted[0] == imp.Accepted(1, by_hand, recorded=False)
    assert [a.recorded for a in accepted[1:]] == [True, True, True]


def test_drafting_in_chunks_matches_a_hand_entry_once_while_the_chunk_before_is_written(
    bank: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines 1 and 3 fit the one entry the cashier recorded by hand; chunks of two lines.

    Chunk 2 is matched and looked up before chunk 1's vouchers and links are
    written: the entry chunk 1 matched is carried as taken, so line 3 waits
    for its own entry instead of backing a second voucher with the same one.
    """
    path, first = _twins(tmp_path)
    import_file(bank, "C001", path)
    by_hand = _by_hand(bank, first)
    monkeypatch.setattr("juzhang.statements.drafting.CHUNK_ROWS", 2)
    done = run(bank, imp.draft_pending, "C001", "bk")
    assert (done.drafted, done.waiting) == (1, ())
    with transaction(bank, write=False) as s:
        lines = imp.list_statement_lines(s, "C001")
        assert [v.custody_entry for v in lines] == [by_hand, None, None, None]
        assert lines[0].status is LineStatus.DRAFTED
        assert verify.verify(s, "C001") == []


def test_drafting_creates_the_suspense_account_between_chunks_written_behind(
    bank: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk 1 fits the rules, chunk 2 needs the suspense account the entity lacks.

    Creating it writes an account and its audit record while chunk 1's
    vouchers are still to be written: the step waits for them first and
    reads the audit chain's head again, so the chain stays whole.
    """
    run(bank, books.delete_account, "C001", "21199")
    run(bank, books.add_account, "C001", "50401", "利息收入")
    import_file(bank, "C001", statement_file(tmp_path, transactions(4)))
    run(bank, imp.accept_statement_lines, "C001", "cash", "all")
    rules = parse_rules('[[rule]]\nsummary = ["转账", "手续费"]\naccount = "50401"\n', "r.toml")
    monkeypatch.setattr("juzhang.statements.drafting.CHUNK_ROWS", 2)
    done = run(bank, imp.draft_pending, "C001", "bk", rules=rules)
    assert done.drafted == 4
    with transaction(bank, write=False) as s:
        vouchers = sorted(books.list_vouchers(s, "C001"), key=lambda v: v.id)
        counters = [next(ln.account for ln in v.lines if ln.account != BANK) for v in vouchers]
        assert counters == ["50401", "50401", "21199", "21199"]
        assert verify.verify(s, "C001") == []


def test_draft_pending_drafts_accepted_lines(bank: Engine, tmp_path: Path) -> None:
    import_file(bank, "C001", statement_file(tmp_path, transactions(3)))
    run(bank, imp.accept_statement_lines, "C001", "cash", "all")
    done = run(bank, imp.draft_pending, "C001", "bk")
    assert (done.drafted, done.waiting) == (3, ())
    with transaction(bank, write=False) as s:
        assert {v.status for v in imp.list_statement_lines(s, "C001")} == {LineStatus.DRAFTED}


def test_lines_before_the_books_start_or_in_a_closed_month_are_stored_not_drafted(
    bank: Engine, tmp_path: Path
) -> None:
    august = transactions(2, start=dt.datetime(2026, 8, 31, 9), step=dt.timedelta(days=1))
    txns = [
        *august,
        *transactions(2, start=dt.datetime(2026, 10, 5, 9), opening=august[-1].balance),
    ]
    run(bank, lock_period, "C001", "rv", parse_period("2026-09"))
    result = import_file(bank, "C001", statement_file(tmp_path, txns))
    assert result.new_lines == 4
    assert result.awaiting_cashier == 2  # October only
    notes = " ".join(n.message for n in result.notes)
    assert "before the books start" in notes and "closed month" in notes
    with transaction(bank, write=False) as s:
        statuses = [v.status for v in imp.list_statement_lines(s, "C001")]
    assert statuses == [
        LineStatus.BEFORE_START,
        LineStatus.CLOSED_PERIOD,
        LineStatus.AWAITING_CASHIER,
        LineStatus.AWAITING_CASHIER,
    ]
    with pytest.raises(ProblemsError):
        run(bank, imp.accept_statement_lines, "C001", "cash", [1, 2])
    assert len(run(bank, imp.accept_statement_lines, "C001", "cash", "all")) == 2


# --------------------------------------------------------------------------- dry run


def test_a_dry_run_changes_nothing_and_proposes_what_the_real_run_drafts(
    bank: Engine, tmp_path: Path
) -> None:
    txns = transactions(8)
    record_entries(bank, "C001", txns[:5])
    run(bank, books.delete_account, "C001", "21199")  # even the account creation is undone
    path = statement_file(tmp_path, txns)
    before = dump(bank)
    preview = import_file(bank, "C001", path, dry_run=True)
    assert dump(bank) == before
    assert preview.dry_run and preview.batch_id is None
    assert [p.status for p in preview.proposals] == [LineStatus.DRAFTED] * 5 + [
        LineStatus.AWAITING_CASHIER
    ] * 3
    real = import_file(bank, "C001", path)
    assert (real.vouchers_drafted, real.awaiting_cashier) == (
        preview.vouchers_drafted,
        preview.awaiting_cashier,
    )
    with transaction(bank, write=False) as s:
        vouchers = {v.id: v for v in books.list_vouchers(s, "C001")}
    for proposal in preview.proposals[:5]:
        assert proposal.voucher is not None
        voucher = vouchers[proposal.voucher]
        assert voucher.date == proposal.date
        assert {ln.account for ln in voucher.lines} == {BANK, proposal.account}
        assert voucher.lines[0].summary == proposal.summary


# --------------------------------------------------------------------------- bank accounts


def test_bank_account_numbers_are_unique_and_fixed_once_lines_exist(
    bank: Engine, tmp_path: Path
) -> None:
    run(bank, books.add_account, "C001", "10202", "建行")
    with pytest.raises(ConflictError):
        run(bank, imp.set_bank_account, "C001", "10202", OWN_ACCOUNT)
    with pytest.raises(ValidationError):
        run(bank, imp.set_bank_account, "C001", "10202", "62-22/11")
    run(bank, imp.set_bank_account, "C001", BANK, "6222-0000-1111-2222", name="某某社区")
    import_file(bank, "C001", statement_file(tmp_path, transactions(1)))
    with pytest.raises(StateError):
        run(bank, imp.set_bank_account, "C001", BANK, "6222000011119999")
    with transaction(bank, write=False) as s:
        assert [a.number for a in imp.bank_accounts(s, "C001")] == [OWN_ACCOUNT]
    with bank.connect() as conn:
        assert conn.execute(select(ImportBatch.file_name)).scalars().all() == ["stmt.csv"]


# --------------------------------------------------------------------------- command line


def test_command_line_import_accept_and_list(bank: Engine, db_url: str, tmp_path: Path) -> None:
    txns = transactions(4)
    record_entries(bank, "C001", txns[:1])
    path = statement_file(tmp_path, txns)
    base = ["--db", db_url]
    out = runner.invoke(app, [*base, "--as", "bk", "import", "bank", "C001", str(path),
                              "--account", BANK, "--dry-run"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "拟制凭证 / proposed vouchers" in out.output and "nothing was changed" in out.output
    assert count(bank, Voucher) == 0
    out = runner.invoke(app, [*base, "--as", "bk", "import", "bank", "C001", str(path),
                              "--account", BANK])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "对账单已导入 / imported" in out.output
    out = runner.invoke(app, [*base, "--as", "bk", "custody", "accept-statement", "C001", "--all"])
    assert out.exit_code == 1 and "refused" in out.output
    out = runner.invoke(
        app, [*base, "--as", "cash", "custody", "accept-statement", "C001", "--all"]
    )
    assert out.exit_code == 0, out.output
    assert len(out.stdout.split("\n")[0].split()) == 2  # "LINE ENTRY"
    out = runner.invoke(app, [*base, "statement", "list", "C001", "--pending"])
    assert out.exit_code == 0 and "待制单" in out.output
    out = runner.invoke(app, [*base, "--as", "bk", "statement", "draft", "C001"])
    assert out.exit_code == 0 and "drafted: 3" in out.output
    assert count(bank, Voucher) == 4


def test_command_line_prints_problems_as_a_table_and_exits_1(
    bank: Engine, db_url: str, tmp_path: Path
) -> None:
    rows = csv_rows(transactions(4))
    rows[first_data_row()][4] = "1,2,3"
    rows[first_data_row() + 1][1] = "2026-02-30"
    path = write_csv(tmp_path / "bad.csv", rows)
    out = runner.invoke(app, ["--db", db_url, "--as", "bk", "import", "bank", "C001", str(path),
                              "--account", BANK])  # fmt: skip
    assert out.exit_code == 1
    assert "bad.csv" in out.output and "原因 reason" in out.output
    assert str(first_data_row() + 1) in out.output and str(first_data_row() + 2) in out.output
    assert count(bank, StatementLine) == 0
    out = runner.invoke(app, ["--db", db_url, "statement", "bank-account", "C001", BANK, "x y"])
    assert out.exit_code == 1


# --------------------------------------------------------------------------- zero-amount rows


def test_a_zero_amount_row_is_kept_out_and_listed(
    samples: Engine, db_url: str, tmp_path: Path
) -> None:
    """A ``+0.00`` row (利息税 in a month without interest) no longer refuses the file."""
    own = "6222000011112222"
    path = tmp_path / "ccb.csv"
    path.write_text(
        "账号,交易时间,借方发生额,贷方发生额,余额,对方户名,摘要\n"
        f"{own},2025-01-02 09:00:00,,500.00,1500.00,某某街道办事处,拨款\n"
        f"{own},2025-01-31 00:00:00,+0.00,,1500.00,,利息税\n"
        f"{own},2025-01-31 00:00:01,+0.00,,1500.00,,利息税\n"
        f"{own},2025-02-01 10:00:00,200.00,,1300.00,某某物业,物业费\n"
        ",人民币合计,200.00,500.00,,,\n",
        "utf-8",
    )
    out = runner.invoke(app, ["--db", db_url, "--as", "bk", "import", "bank", "S001", str(path),
                              "--account", BANK, "--dry-run"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "zero-amount rows skipped" in out.output and "3-4" in out.output
    result = import_file(samples, "S001", path)
    assert (result.new_lines, result.zero_rows) == (2, ((3, 4),))
    with transaction(samples, write=False) as s:
        assert [v.row for v in imp.list_statement_lines(s, "S001")] == [2, 5]
