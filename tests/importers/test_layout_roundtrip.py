"""Property: a statement written in any supported layout reads back as the same rows.

For every sample layout of :mod:`tests.statement_samples` (each shipped profile,
and the two user mappings), hypothesis draws a month of transactions and an
opening balance; the layout's own writer puts them in a file the way that bank
exports it (title and metadata rows, merged group headers, footers, its number
and date formats, its file format), and :func:`~juzhang.importers.bank.read_statement`,
given the account number as ``juzhang import bank --account`` gives it, must give
back exactly the rows the layout says, with no problems and an
unbroken running balance.  XLS layouts are written as XLSX where xlwt (not a
juzhang dependency) is missing, so every layout is exercised everywhere.
"""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from juzhang.importers.bank import builtin_profiles, check_balances, load_profile, read_statement
from tests.importers.test_importer_files import as_json
from tests.statement_samples import (
    DATA,
    OWN_ACCOUNT,
    SAMPLES,
    Layout,
    Sample,
    Transaction,
    write_xlsx,
)

#: Characters of the texts drawn: common GBK-encodable Chinese, ASCII letters and digits.
_HAN = "社区居民委员会物业服务有限公司街道办事处转账工资利息手续费办公经费拨款代发某张李王"
_TEXT = st.text(alphabet=_HAN + "ABCXYZabcxyz0123456789 ", max_size=12).map(str.strip)
_ACCOUNT = st.one_of(st.just(""), st.text(alphabet="0123456789", min_size=10, max_size=13))
_SERIAL = st.text(alphabet="ABCDEFGHJK0123456789", min_size=1, max_size=14)
_CENTS = st.integers(min_value=1, max_value=99_999_999)  # 0.01 … 999,999.99
_START = datetime(2025, 1, 1)


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


@st.composite
def _transaction(draw: st.DrawFn) -> Transaction:
    seconds = draw(st.integers(min_value=0, max_value=364 * 86400 + 86399))
    amount = _money(draw(_CENTS))
    outgoing = draw(st.booleans())
    return Transaction(
        when=_START + timedelta(seconds=seconds),
        debit=amount if outgoing else Decimal("0"),
        credit=Decimal("0") if outgoing else amount,
        counterparty=draw(_TEXT),
        account=draw(_ACCOUNT),
        bank=draw(_TEXT),
        summary=draw(_TEXT),
        purpose=draw(_TEXT),
        remark=draw(_TEXT),
        serial=draw(_SERIAL),
    )


_MONTHS = st.lists(_transaction(), min_size=1, max_size=8).map(
    lambda txns: tuple(sorted(txns, key=lambda t: t.when))
)
# large enough that no balance reaches zero (a zero balance prints as blank in some layouts)
_OPENING = st.integers(min_value=800_000_001, max_value=9_999_999_999).map(_money)


def _expected(layout: Layout) -> dict[str, Any]:
    """The layout's rows; a date-time cell at midnight reads as a date with no time.

    An Excel date cell holding 00:00:00 cannot be told from a date cell, so the
    reader gives no time of day for it (the bank did not print one either way).
    """
    expected = layout.expected()
    date_column = next(c for c in layout.columns if c.field == "date")
    for row, txn in zip(expected["rows"], layout.transactions, strict=True):
        cell = date_column.render(txn, Decimal(0))
        if isinstance(cell, datetime) and row["time"] == "00:00:00":
            row["time"] = None
    return expected


def _write(sample: Sample, folder: Path, rows: list[list[object]]) -> Path:
    path = folder / sample.filename
    if sample.write(path, rows) is False:  # XLS without xlwt: the same layout as XLSX
        path = folder / f"{sample.filename}.xlsx"
        write_xlsx(path, rows)
    return path


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.filename for s in SAMPLES])
@settings(max_examples=25, deadline=None)
@given(transactions=_MONTHS, opening=_OPENING)
def test_a_statement_written_in_a_layout_reads_back_the_same(
    sample: Sample, transactions: tuple[Transaction, ...], opening: Decimal
) -> None:
    layout = dataclasses.replace(sample.layout(), transactions=transactions, opening=opening)
    profile = load_profile(DATA / sample.mapping) if sample.mapping else None
    with tempfile.TemporaryDirectory() as folder:
        path = _write(sample, Path(folder), layout.rows())
        statement, problems = read_statement(path, profile=profile, account=OWN_ACCOUNT)
    assert problems == []
    assert as_json(statement) == _expected(layout)
    assert check_balances(statement.rows, opening=statement.opening_balance) == []


def test_the_roundtrip_covers_every_shipped_profile() -> None:
    covered = {s.layout().profile for s in SAMPLES}
    assert {p.name for p in builtin_profiles()} <= covered
