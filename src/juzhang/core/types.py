"""Names for the domain's scalars (领域标量): money in fen, periods, voucher status, sides.

They cost nothing at run time and say in a signature what a bare ``int`` or
``str`` does not:

- :data:`Fen`: an exact amount of money in 分 (fen), an ``int`` (1 元 = 100 fen);
  :mod:`juzhang.money` turns :class:`~decimal.Decimal` 元 into fen and back.
- :data:`Period`: an accounting period (会计期间), the ``int`` ``YYYYMM`` (202609);
  :mod:`juzhang.core.period` parses and formats it.
- :class:`VoucherStatus`: draft (未审核) → reviewed (已审核) → posted (已记账).
- :class:`Side`: the side of a voucher line, ``D`` (借方 debit) or ``C`` (贷方 credit).

``Fen`` and ``Period`` are :func:`typing.NewType`\\ s over ``int``; the two enums
are :class:`~enum.StrEnum`\\ s whose members equal the texts stored in the
database (``VoucherStatus.POSTED == "posted"``), so queries and stored rows
are unchanged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

__all__ = ["Fen", "Period", "Side", "VoucherStatus"]

Fen = NewType("Fen", int)
"""An amount of money in 分 (fen): ``Fen(123456)`` is 1,234.56 元."""

Period = NewType("Period", int)
"""An accounting period ``YYYYMM``: ``Period(202609)`` is September 2026."""


class VoucherStatus(StrEnum):
    """Where a voucher is in its life (凭证状态); the database column holds the value."""

    DRAFT = "draft"  # 未审核: prepared, may be edited or deleted
    REVIEWED = "reviewed"  # 已审核: checked by a second person, not yet in the books
    POSTED = "posted"  # 已记账: in the books, never changed again (红字冲销 corrects it)


class Side(StrEnum):
    """The side of a voucher line (借贷方向); the database column holds the value."""

    DEBIT = "D"  # 借方
    CREDIT = "C"  # 贷方
