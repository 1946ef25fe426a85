"""Risk signals (廉政风险提示): warning signs for the finance group and the sub-district.

Preventing corruption at its source (社区财务管理这一关键环节) means seeing the
signs early: an invoice claimed twice, claims split to stay under an
approval threshold, large cash payments, too much cash on hand, cash
received and not deposited (坐收坐支), expenses without invoices (白条),
cadres paid above their standard or budget, and round sums paid to the same
payee month after month without a contract.  :data:`RISK_CHECKS` is a list
of small functions (like the month-end checks), each returning
:class:`RiskSignal` values that name the vouchers, claims and journal
entries concerned; :func:`risk_report` runs them for a community's month
with its thresholds (:mod:`juzhang.risk_config`).

Signals are never problems that block: the close shows their number as a
note (:mod:`juzhang.closing_run`), ``juzhang risk report`` writes them
(JSON, or an A4 Excel form: :mod:`juzhang.exporters.risk_excel`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from juzhang import clock
from juzhang.core.period import format_period
from juzhang.risk.checks import (
    RISK_CHECKS,
    RiskCheck,
    check_cadre_pay,
    check_cash_on_hand,
    check_cash_payments,
    check_duplicate_invoices,
    check_no_invoice,
    check_round_sums,
    check_split_claims,
    check_undeposited,
)
from juzhang.risk.signal import CHECK_TITLES, RiskContext, RiskSignal, invoice_numbers, title_zh
from juzhang.risk_config import RiskSettings, stored_risk_settings
from juzhang.storage.access import accounts_of, get_entity

__all__ = [
    "CHECK_TITLES",
    "RISK_CHECKS",
    "RiskCheck",
    "RiskContext",
    "RiskReport",
    "RiskSignal",
    "check_cadre_pay",
    "check_cash_on_hand",
    "check_cash_payments",
    "check_duplicate_invoices",
    "check_no_invoice",
    "check_round_sums",
    "check_split_claims",
    "check_undeposited",
    "invoice_numbers",
    "make_risk_context",
    "risk_report",
    "title_zh",
]


@dataclass(frozen=True, slots=True)
class RiskReport:
    """The risk signals of one community's month, with the thresholds they were found with."""

    entity: str
    entity_name: str
    period: int
    settings: RiskSettings
    signals: tuple[RiskSignal, ...]

    def counts(self) -> dict[str, int]:
        """Signals per check key (checks without a signal left out)."""
        return dict(Counter(s.check for s in self.signals))

    def to_json(self) -> dict[str, Any]:
        """``{"entity", "entity_name", "period", "settings", "counts", "signals": [...]}``."""
        return {
            "entity": self.entity,
            "entity_name": self.entity_name,
            "period": format_period(self.period),
            "settings": self.settings.to_json(),
            "counts": self.counts(),
            "signals": [s.to_json() for s in self.signals],
        }


def make_risk_context(
    session: Connection, entity: str, period: int, settings: RiskSettings | None = None
) -> RiskContext:
    """The context the checks read for a community's month (``settings``: the stored ones).

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    if settings is None:
        settings = stored_risk_settings(session, ent.code)
    return RiskContext(session, ent, period, settings, accounts_of(session, ent.id))


def risk_report(
    session: Connection,
    entity: str,
    period: int,
    settings: RiskSettings | None = None,
    checks: tuple[RiskCheck, ...] = RISK_CHECKS,
) -> RiskReport:
    """Run the risk checks on a community's month; return every signal, check by check.

    ``settings`` default to the community's stored thresholds (else the defaults).

    Raises:
        NotFoundError: unknown entity.
        ValidationError: the month is before the books start or after the current month.
    """
    ctx = make_risk_context(session, entity, period, settings)
    clock.require_report_months(ctx.entity.code, ctx.entity.start_period, period, period)
    signals = tuple(s for check in checks for s in check(ctx))
    return RiskReport(ctx.entity.code, ctx.entity.name, period, ctx.settings, signals)
