"""Stored statement lines as the bulk paths read them (Core rows, not ORM objects).

Shared by accepting (:mod:`.lines`) and drafting (:mod:`.drafting`); kept
apart from both so that the cashier's acceptance imports neither the
drafting code nor, through :mod:`.settings`, the statement readers.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import Row

from juzhang.importers.facts import Facts
from juzhang.money import from_fen
from juzhang.statements.model import Item
from juzhang.storage.access import table
from juzhang.storage.schema import StatementLine

StoredLine: TypeAlias = Row[Any]
"""A stored statement line as Core reads it (the columns of ``statement_line``).

The bulk paths read lines as rows, not ORM objects: building, tracking and
expunging 20,000 mapped objects cost more than the rest of the work."""

LINE_COLUMNS = table(StatementLine)
"""The table the bulk paths read lines from (:data:`StoredLine`)."""


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
