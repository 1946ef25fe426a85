"""Stored statement lines as the bulk paths read them (Core rows, not ORM objects).

Shared by accepting (:mod:`.lines`) and drafting (:mod:`.drafting`); kept
apart from both so that the cashier's acceptance imports neither the
drafting code nor, through :mod:`.settings`, the statement readers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from juzhang.importers.facts import Facts
from juzhang.money import from_fen
from juzhang.statements.model import Item
from juzhang.storage.access import table
from juzhang.storage.schema import StatementLine


class StoredLine(NamedTuple):
    """A stored statement line as the bulk paths read it (the columns of ``statement_line``).

    The bulk paths read lines as plain tuples, not ORM objects: building,
    tracking and expunging 20,000 mapped objects cost more than the rest of
    the work.  Nor as SQLAlchemy's ``Row``: reading a ``Row``'s column by
    name costs about 0.9 µs (a Python ``__getattr__``), and turning a line
    into an item reads some twenty of them; a named tuple's field is a C
    descriptor.  The fields are the table's columns in its order (a test
    keeps them so), which is the order ``select(LINE_COLUMNS)`` gives.
    """

    entity_id: int
    id: int
    account_code: str
    batch_id: int
    row_no: int
    dedup_key: str
    txn_date: dt.date
    txn_time: str | None
    out_fen: int
    in_fen: int
    balance_fen: int | None
    counterparty: str
    counterparty_account: str
    counterparty_bank: str
    summary: str
    purpose: str
    remark: str
    serial: str
    custody_entry_id: int | None
    voucher_id: int | None


def stored_lines(rows: Iterable[Sequence[Any]]) -> list[StoredLine]:
    """Return the rows of ``select(LINE_COLUMNS)`` as :class:`StoredLine` tuples."""
    make = StoredLine._make
    return [make(row) for row in rows]


LINE_COLUMNS = table(StatementLine)
"""The table the bulk paths read lines from (:class:`StoredLine`)."""


def line_item(line: StoredLine) -> Item:
    fen = line.in_fen - line.out_fen
    facts = Facts(
        line.txn_date,
        "in" if fen > 0 else "out",
        from_fen(abs(fen)),
        line.counterparty,
        line.counterparty_account,
        line.counterparty_bank,
        line.summary,
        line.purpose,
        line.remark,
        line.serial,
        line.row_no,
    )
    return Item(
        row=0,
        date=line.txn_date,
        time=line.txn_time,
        fen=fen,
        balance=line.balance_fen,
        facts=facts,
        key=line.dedup_key,
        line_id=line.id,
        entry=line.custody_entry_id,
        voucher=line.voucher_id,
    )
