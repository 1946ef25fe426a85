"""What the categorisation rules look at in a statement line, and what they answer.

Apart from :mod:`.rules` (whose file model is pydantic) so that the code that
only carries these values, such as the cashier's acceptance of stored
statement lines (:mod:`juzhang.statements.stored`), does not import pydantic
at start-up.  :mod:`.rules` exports both names too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, NamedTuple

__all__ = ["Categorised", "Facts"]


class Facts(NamedTuple):
    """What the rules look at in one statement line (money in or out, never both)."""

    date: dt.date
    direction: Literal["in", "out"]
    amount: Decimal
    counterparty: str = ""
    counterparty_account: str = ""
    counterparty_bank: str = ""
    summary: str = ""
    purpose: str = ""
    remark: str = ""
    serial: str = ""
    row: int = 0


class Categorised(NamedTuple):
    """Where a line goes: counter account, the voucher's 摘要, and the rule (``""``: none)."""

    account: str
    summary: str
    rule: str
