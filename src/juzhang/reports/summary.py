"""The sub-district's summary (街道汇总表): one row per community for a month.

For whoever oversees many communities (街道、乡镇): each community's income
and expenditure of the month and its cash and bank at the month end — the
figures of its public board (:func:`juzhang.reports.disclosure.disclosure`,
closing vouchers left out) —, the residents' questions still waiting for an
answer (and how many of them are past their deadline) as of today — the
questions about a month come after its board is published, so a month-end
count would always miss them — and the month's risk signals
(:mod:`juzhang.risk`).  Rows are immutable;
:mod:`juzhang.exporters.risk_excel` writes them with a chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from juzhang import clock
from juzhang.core.period import format_period
from juzhang.errors import Problem, ValidationError
from juzhang.question import list_questions
from juzhang.reports.disclosure import disclosure
from juzhang.risk import risk_report

__all__ = ["CommunitySummary", "SummaryReport", "community_summary", "summary_report"]


@dataclass(frozen=True, slots=True)
class CommunitySummary:
    """One community's month at a glance."""

    entity: str
    name: str
    income: Decimal
    expense: Decimal
    cash: Decimal
    bank: Decimal
    open_questions: int
    overdue_questions: int
    risk_signals: int
    risk_counts: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, Any]:
        """The row as JSON (amounts as decimal strings)."""
        return {
            "entity": self.entity,
            "name": self.name,
            "income": str(self.income),
            "expense": str(self.expense),
            "cash": str(self.cash),
            "bank": str(self.bank),
            "open_questions": self.open_questions,
            "overdue_questions": self.overdue_questions,
            "risk_signals": self.risk_signals,
            "risk_counts": dict(self.risk_counts),
        }


@dataclass(frozen=True, slots=True)
class SummaryReport:
    """The summary of a month over several communities, with the totals."""

    period: int
    rows: tuple[CommunitySummary, ...]
    problems: tuple[Problem, ...] = ()
    """Communities left out, and why (their books start after the month …)."""

    def total(self, name: str) -> Decimal | int:
        """The sum of one column (``income``, ``risk_signals`` …) over the communities."""
        values: list[Decimal | int] = [getattr(r, name) for r in self.rows]
        if values and isinstance(values[0], Decimal):
            return sum((v for v in values if isinstance(v, Decimal)), Decimal("0.00"))
        return sum(v for v in values if isinstance(v, int))

    def to_json(self) -> dict[str, Any]:
        """``{"period", "communities": [...], "totals": {...}}``."""
        columns = ("income", "expense", "cash", "bank")
        counts = ("open_questions", "overdue_questions", "risk_signals")
        return {
            "period": format_period(self.period),
            "communities": [r.to_json() for r in self.rows],
            "left_out": [{"entity": p.where, "reason": p.message} for p in self.problems],
            "totals": {
                **{c: str(self.total(c)) for c in columns},
                **{c: self.total(c) for c in counts},
            },
        }


def community_summary(session: Connection, entity: str, period: int) -> CommunitySummary:
    """Return one community's summary row for ``period``.

    Raises:
        NotFoundError: unknown entity.
        ValidationError: the month is before the books start or after the current month.
    """
    board = disclosure(session, entity, period)
    today = clock.today()
    waiting = [q for q in list_questions(session, entity) if q.status(today) != "answered"]
    risks = risk_report(session, entity, period)
    return CommunitySummary(
        board.entity,
        board.community,
        board.total_income,
        board.total_expense,
        board.fund("cash").closing,
        board.fund("bank").closing,
        len(waiting),
        sum(1 for q in waiting if q.status(today) == "overdue"),
        len(risks.signals),
        tuple(sorted(risks.counts().items())),
    )


def summary_report(session: Connection, entities: Sequence[str], period: int) -> SummaryReport:
    """Return the summary rows of ``entities`` for ``period``, in the order given.

    A community whose books do not cover the month (they start later) is left
    out with the reason in ``problems``, so one late starter does not stop
    the sub-district's table.

    Raises:
        NotFoundError: an unknown entity.
    """
    rows: list[CommunitySummary] = []
    problems: list[Problem] = []
    for entity in entities:
        try:
            rows.append(community_summary(session, entity, period))
        except ValidationError as exc:
            problems.append(Problem(entity, str(exc), "summary"))
    return SummaryReport(period, tuple(rows), tuple(problems))
