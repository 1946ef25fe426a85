"""juzhang (居账): bookkeeping for community funds kept by an accounting agency.

居财居管、钱账分离、独立核算、公开透明 — the community owns the money, its cashier
holds it, the agency keeps the books, each community is its own accounting
entity, and the accounts are disclosed to residents.

The public API, chosen on purpose:

* :mod:`juzhang.agency` — communities, people, role grants (operator set-up);
* :mod:`juzhang.custody` — the cashier's cash and bank journals;
* :mod:`juzhang.books` — the one service that changes the books: accounts,
  opening balances, vouchers (draft → review → post, reversal, correction,
  bulk), periods;
* :mod:`juzhang.verify` — recompute everything and report problems;
* :mod:`juzhang.reports` — trial balance and the other reports;
* :mod:`juzhang.money` — exact amounts and 大写金额;
* :mod:`juzhang.storage.engine` — engines, transactions, migrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from juzhang.core.duty import Action, Role
from juzhang.core.period import format_period, parse_period
from juzhang.core.voucher import Line, VoucherDraft, VoucherView
from juzhang.errors import (
    ConflictError,
    IntegrityError,
    JuzhangError,
    MoneyError,
    MonthNotOverError,
    NotFoundError,
    PeriodClosedError,
    Problem,
    ProblemsError,
    SegregationOfDutiesError,
    StateError,
    UnbalancedError,
    ValidationError,
)
from juzhang.money import capitals, parse_money

if TYPE_CHECKING:
    from juzhang.storage.engine import make_engine, transaction, upgrade

_LAZY = frozenset({"make_engine", "transaction", "upgrade"})


def __getattr__(name: str) -> Any:
    """Import :mod:`juzhang.storage.engine` (and SQLAlchemy) on first use: ``juzhang --help``
    and ``juzhang --version`` stay quick."""
    if name in _LAZY:
        from juzhang.storage import engine  # noqa: PLC0415 — start-up time

        return getattr(engine, name)
    raise AttributeError(f"module 'juzhang' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "Action",
    "ConflictError",
    "IntegrityError",
    "JuzhangError",
    "Line",
    "MoneyError",
    "MonthNotOverError",
    "NotFoundError",
    "PeriodClosedError",
    "Problem",
    "ProblemsError",
    "Role",
    "SegregationOfDutiesError",
    "StateError",
    "UnbalancedError",
    "ValidationError",
    "VoucherDraft",
    "VoucherView",
    "__version__",
    "capitals",
    "format_period",
    "make_engine",
    "parse_money",
    "parse_period",
    "transaction",
    "upgrade",
]
