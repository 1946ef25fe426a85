"""Beancount files into the books: opening balances, history as drafts, and what is refused.

The ledger files are written by the tests from small tables of transactions,
and the expected balances and lines are computed from the same tables, so a
wrong sign, a lost posting or a rounding would show.  Every database test
runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import ast
import datetime as dt
import sys
from collections.abc import Sequence
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import juzhang.beancount_import as bean_module
import juzhang.importers.claims as claims_module
from juzhang import books, custody, verify
from juzhang.beancount_import import import_beancount
from juzhang.errors import ProblemsError, SegregationOfDutiesError
from juzhang.importers.beancount_file import AccountMapping, load_mapping, parse_mapping
from juzhang.money import from_fen
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.schema import ImportBatch, OpeningBalance
from tests.conftest import World, dump

MAPPING = {
    "Assets:Cash": "101",
    "Assets:Bank:RCB": "102",
    "Assets:Receivable": "112",
    "Equity:*": "301",
    "Income:Grant": "503",
    "Expenses:Office": "51301",
    "Expenses:Welfare": "514",
}
OPENS = ["Assets:Cash", "Assets:Bank:RCB", "Assets:Receivable", "Equity:Opening", "Income:Grant",
         "Expenses:Office", "Expenses:Welfare"]  # fmt: skip

Txn = tuple[str, str, list[tuple[str, str]]]  # date, narration, [(account, amount)]

BEFORE: list[Txn] = [
    ("2026-06-30", "建账前余额", [("Assets:Cash", "3000.10"), ("Assets:Bank:RCB", "80000.20"),
                                 ("Assets:Receivable", "1200"), ("Equity:Opening", "-84200.30")]),
    ("2026-07-03", "购墨盒", [("Expenses:Office", "0.10"), ("Assets:Cash", "-0.10")]),
    ("2026-07-04", "购胶水", [("Expenses:Office", "0.20"), ("Assets:Cash", "-0.20")]),
    ("2026-08-20", "结转费用", [("Equity:Opening", "0.30"), ("Expenses:Office", "-0.30")]),
    ("2026-08-31", "收回应收款", [("Assets:Bank:RCB", "1200"), ("Assets:Receivable", "-1200")]),
]  # fmt: skip
"""History before the books start (2026-09): becomes opening balances."""

SEPTEMBER: list[Txn] = [
    ("2026-09-05", "购办公用品", [("Expenses:Office", "120.00"), ("Assets:Cash", "-120.00")]),
    ("2026-09-08", "街道补助", [("Assets:Bank:RCB", "20000"), ("Income:Grant", "-20000")]),
    ("2026-09-12", "应收房租", [("Assets:Receivable", "800.55"), ("Income:Grant", "-800.55")]),
]  # fmt: skip


def ledger(txns: Sequence[Txn], *, extra: str = "", meta: dict[int, str] | None = None) -> str:
    """A beancount file: opens, then each transaction (``meta`` lines by transaction index)."""
    lines = ['option "operating_currency" "CNY"', *extra.splitlines(), ""]
    lines += [f"2026-01-01 open {a} CNY" for a in OPENS]
    for n, (date, narration, postings) in enumerate(txns):
        lines += ["", f'{date} * "{narration}"']
        if meta and n in meta:
            lines.append(f"  {meta[n]}")
        lines += [f"  {account}  {amount} CNY" for account, amount in postings]
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "books.beancount") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def prepare(world: World) -> None:
    world.run(books.add_account, world.entity, "51301", "办公费")



def totals(txns: Sequence[Txn]) -> dict[str, D]:
    """Expected balance per account code, summed from the test's own table."""
    out: dict[str, D] = {}
    mapping = parse_mapping(MAPPING)
    for _date, _narration, postings in txns:
        for account, amount in postings:
            code = mapping.code_for(account)
            assert code is not None
            out[code] = out.get(code, D("0.00")) + D(amount)
    return {code: amount for code, amount in out.items() if amount}


# --------------------------------------------------------------------------- opening balances


def test_opening_balances_from_a_ledger(world: World, tmp_path: Path) -> None:
    prepare(world)
    cash = totals(BEFORE)["101"]
    text = ledger(BEFORE) + f"\n2026-09-01 balance Assets:Cash  {cash} CNY\n"
    result = world.run(
        import_beancount, world.entity, "bk", write(tmp_path, text), mapping=MAPPING, opening=True
    )
    expected = totals(BEFORE)
    assert dict(result.balances) == expected
    assert all(isinstance(a, D) and a == a.quantize(D("0.01")) for _c, a in result.balances)
    assert result.end_date == dt.date(2026, 8, 31) and result.transactions == len(BEFORE)
    assert dict(result.ignored) == {"Open": len(OPENS), "Balance": 1}
    with world.engine.connect() as conn:
        rows = conn.execute(select(OpeningBalance.account_code, OpeningBalance.amount_fen))
        stored = {code: fen for code, fen in rows}
    assert {c: from_fen(f) for c, f in stored.items()} == expected
    assert world.run(books.opening_difference, world.entity) == 0
    tb = world.run(trial_balance, world.entity, 202609)
    assert tb.row("101").opening_balance == expected["101"] and tb.balanced
    batch = world.run(lambda s: s.execute(select(ImportBatch)).one())
    assert (batch.kind, batch.profile, batch.rows_new) == ("beancount", "opening", len(expected))


def test_opening_balances_may_be_padded(world: World, tmp_path: Path) -> None:
    prepare(world)
    text = ledger([]) + (
        "\n2026-08-31 pad Assets:Cash Equity:Opening\n2026-09-01 balance Assets:Cash 512.34 CNY\n"
    )
    result = world.run(
        import_beancount, world.entity, "bk", write(tmp_path, text), mapping=MAPPING, opening=True
    )
    assert dict(result.balances) == {"101": D("512.34"), "301": D("-512.34")}


def test_opening_balances_come_from_before_the_books_start(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = write(tmp_path, ledger([*BEFORE, SEPTEMBER[0]]))
    before = dump(world.engine)
    with pytest.raises(ProblemsError) as err:
        world.run(import_beancount, world.entity, "bk", path, mapping=MAPPING, opening=True)
    assert "not before the books' first month" in str(err.value)
    assert dump(world.engine) == before


# --------------------------------------------------------------------------- drafts


def test_transactions_become_draft_vouchers(world: World, tmp_path: Path) -> None:
    prepare(world)
    world.run(books.set_opening, world.entity, "bk", totals(BEFORE))
    cash = world.run(
        custody.record_entry, world.entity, "cash", dt.date(2026, 9, 4), "101", D("-120"), "购"
    )
    bank = world.run(
        custody.record_entry, world.entity, "cash", dt.date(2026, 9, 8), "102", D("20000"), "补助"
    )
    text = ledger(SEPTEMBER, meta={0: "attachments: 3"})
    text = text.replace(
        "  Assets:Bank:RCB  20000 CNY", f"  Assets:Bank:RCB  20000 CNY\n    custody: {bank}"
    )
    result = world.run(import_beancount, world.entity, "bk", write(tmp_path, text), mapping=MAPPING)
    assert len(result.voucher_ids) == len(SEPTEMBER) and result.balances == ()
    mapping = parse_mapping(MAPPING)
    for vid, (date, narration, postings) in zip(result.voucher_ids, SEPTEMBER, strict=True):
        v = world.run(books.get_voucher, world.entity, vid)
        assert v.status == "draft" and v.prepared_by == "bk"
        assert v.date == dt.date.fromisoformat(date)
        got = [(ln.account, ln.debit or -(ln.credit or 0), ln.summary) for ln in v.lines]
        want = [(mapping.code_for(a), D(x), narration) for a, x in postings]
        assert got == want
    first, second, _third = (
        world.run(books.get_voucher, world.entity, i) for i in result.voucher_ids
    )
    assert first.attachments == 3
    assert first.lines[1].custody_entry == cash  # linked by the ledger
    assert second.lines[0].custody_entry == bank  # named in the file
    world.run(books.review_vouchers, world.entity, "rv", list(result.voucher_ids))
    world.run(books.post_vouchers, world.entity, "bk", list(result.voucher_ids))
    tb = world.run(trial_balance, world.entity, 202609)
    after = totals([*BEFORE, *SEPTEMBER])
    for code, amount in after.items():
        assert tb.row(code).closing_balance == amount, code
    assert tb.balanced and world.run(verify.verify, world.entity) == []


def test_money_movements_need_the_cashiers_entry_first(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = write(tmp_path, ledger(SEPTEMBER))
    before = dump(world.engine)
    with pytest.raises(ProblemsError) as err:
        world.run(import_beancount, world.entity, "bk", path, mapping=MAPPING)
    assert dump(world.engine) == before
    problems = err.value.problems
    assert len(problems) == 2  # the cash and the bank movement; the receivable needs none
    lines = path.read_text(encoding="utf-8").splitlines()
    for p in problems:
        assert "the cashier must record it first" in p.message
        number = int(p.where.split()[0].split(":")[1])
        assert lines[number - 1].startswith("2026-09-")


def test_unmapped_accounts_are_all_listed(world: World, tmp_path: Path) -> None:
    prepare(world)
    mapping = {k: v for k, v in MAPPING.items() if k not in ("Income:Grant", "Expenses:Office")}
    path = write(tmp_path, ledger(SEPTEMBER))
    before = dump(world.engine)
    with pytest.raises(ProblemsError) as err:
        world.run(import_beancount, world.entity, "bk", path, mapping=mapping)
    unmapped = [p for p in err.value.problems if p.subject == "mapping"]
    assert [p.message.split()[2] for p in unmapped] == ["Expenses:Office", "Income:Grant"]
    assert dump(world.engine) == before
    with pytest.raises(ProblemsError) as err:
        world.run(
            import_beancount, world.entity, "bk", path, mapping={**mapping, "Income:*": "513"}
        )
    assert any("513" in p.message and "detail accounts" in p.message for p in err.value.problems)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('2026-09-05 * "x"\n  Assets:Cash  10 CNY\n  Income:Grant  -9 CNY\n', "balance"),
        ('2026-01-01 open Assets:Wallet\n2026-01-01 open Income:Other\n2026-09-05 * "x"\n'
         '  Assets:Wallet  10 USD\n  Income:Other  -10 USD\n', "only CNY"),
        ('2026-09-05 * "x"\n  Assets:Cash  10.005 CNY\n  Income:Grant  -10.005 CNY\n', "2 decimal"),
        ('2026-09-05 * "x"\n  Assets:Cash  1 CNY @ 1 CNY\n  Income:Grant  -1 CNY\n', "price"),
        ('2026-09-05 * "x"\n  Assets:Nowhere  10 CNY\n  Income:Grant  -10 CNY\n',
         "unknown account"),
        ('2026-09-05 * ""\n  Assets:Cash  10 CNY\n  Income:Grant  -10 CNY\n', "narration"),
        ('2026-09-01 pad Assets:Cash Equity:Opening\n2026-09-02 balance Assets:Cash 1 CNY\n',
         "pad is refused"),
        ('plugin "jz_evil_plugin"\n', "plugins are refused"),
        ('include "other.beancount"\n', "include is refused"),
        ('2026-09-05 * "x"\n  Assets:Cash  10 CNY\n', "balance"),
    ],
)  # fmt: skip
def test_refused_files(world: World, tmp_path: Path, text: str, says: str) -> None:
    prepare(world)
    marker = tmp_path / "plugin-ran"
    (tmp_path / "jz_evil_plugin.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n__plugins__ = ()\n", encoding="utf-8"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        path = write(tmp_path, ledger([]) + text)
        before = dump(world.engine)
        with pytest.raises(ProblemsError) as err:
            world.run(import_beancount, world.entity, "bk", path, mapping=MAPPING)
    finally:
        sys.path.remove(str(tmp_path))
    shown = str(err.value).replace("\n", " ")
    assert says in shown
    assert all(p.where.startswith("books.beancount") for p in err.value.problems)
    assert dump(world.engine) == before
    assert not marker.exists()


def test_reimporting_the_same_file_adds_nothing(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = write(tmp_path, ledger(BEFORE))
    first = world.run(import_beancount, world.entity, "bk", path, mapping=MAPPING, opening=True)
    before = dump(world.engine)
    again = world.run(import_beancount, world.entity, "bk", path, mapping=MAPPING, opening=True)
    assert again.already_imported and again.batch_id == first.batch_id
    assert dump(world.engine) == before


def test_roles(world: World, tmp_path: Path) -> None:
    prepare(world)
    path = write(tmp_path, ledger(BEFORE))
    for person in ("cash", "rv", "sup"):
        for opening in (False, True):
            with pytest.raises(SegregationOfDutiesError):
                world.run(
                    import_beancount, world.entity, person, path, mapping=MAPPING, opening=opening
                )


# --------------------------------------------------------------------------- mapping files


def test_mapping_files(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text(
        '"Assets:Cash" = "101"\n"Expenses:Office:*" = "51301"\n"Expenses:*" = "515"\n',
        encoding="utf-8",
    )
    mapping = load_mapping(path)
    assert isinstance(mapping, AccountMapping) and mapping.source == "map.toml"
    assert mapping.code_for("Assets:Cash") == "101"
    assert mapping.code_for("Assets:Cash:Petty") is None
    assert mapping.code_for("Expenses:Office:Paper") == "51301"  # first pattern wins
    assert mapping.code_for("Expenses:Office") == "515"
    bad = tmp_path / "bad.toml"
    bad.write_text('Cash = "101"\n"Assets:Bank" = 102\n[table]\nx = 1\n', encoding="utf-8")
    with pytest.raises(ProblemsError) as err:
        load_mapping(bad)
    assert [p.where for p in err.value.problems] == [
        "bad.toml:Cash",
        "bad.toml:Assets:Bank",
        "bad.toml:table",
    ]
    with pytest.raises(ProblemsError):
        load_mapping(tmp_path / "missing.toml")


# --------------------------------------------------------------------------- no floats


@pytest.mark.parametrize("module", [bean_module, claims_module])
def test_floats_are_never_used(module: Any) -> None:
    source = Path(module.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    floats = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is float]
    assert "float" not in names and floats == []
