"""Annual budget (财务计划 / 年度预算): budget lines per entity and year.

农经发〔2011〕13号 puts the financial plan (财务计划) first among what a
community discloses, and community practice shows for each spending the
budget line it belongs to.  A budget here is a short list of lines per entity
and year: a name (办公经费, 干部补贴…), a kind (``income`` or ``expense``), the
accounts it covers as **code prefixes** (``513`` covers 51301, 51302…; a line
may name several) and the amount for the year.

The actual figures against each line are computed by the disclosure report
(:mod:`juzhang.reports.disclosure`) from the books: for an income line the
credits less debits of its accounts, for an expense line the debits less
credits, leaving out closing vouchers (结转).

:func:`set_budget` replaces a year's lines at once (the bookkeeper prepares
the plan the community approved; the change is audited); :func:`budget_lines`
reads them back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from juzhang.core.duty import Action
from juzhang.errors import MoneyError, Problem, ProblemsError
from juzhang.money import from_fen, to_fen
from juzhang.storage.access import (
    AccountInfo,
    accounts_of,
    audit,
    command,
    get_entity,
    require,
)
from juzhang.storage.schema import BudgetLine

__all__ = ["KINDS", "BudgetInput", "BudgetLineView", "budget_lines", "matches", "set_budget"]

#: Kinds of budget line and the account category each may cover.
KINDS: Mapping[str, str] = {"income": "income", "expense": "expense"}
KIND_NAMES_ZH: Mapping[str, str] = {"income": "收入", "expense": "支出"}


@dataclass(frozen=True, slots=True)
class BudgetInput:
    """A budget line to record: name, kind (income|expense), account prefixes, amount (元)."""

    name: str
    kind: str
    accounts: tuple[str, ...]
    amount: Decimal


@dataclass(frozen=True, slots=True)
class BudgetLineView:
    """A recorded budget line."""

    year: int
    line_no: int
    name: str
    kind: str
    accounts: tuple[str, ...]
    amount: Decimal

    def covers(self, code: str) -> bool:
        """Whether the account ``code`` falls under one of the line's prefixes."""
        return matches(code, self.accounts)


def matches(code: str, prefixes: Sequence[str]) -> bool:
    """Return whether ``code`` starts with one of ``prefixes``."""
    return any(code.startswith(p) for p in prefixes)


def _check(
    items: Sequence[BudgetInput], accounts: Mapping[str, AccountInfo], year: int
) -> list[Problem]:
    problems: list[Problem] = []
    if not 1900 <= year <= 9999:
        problems.append(Problem(f"预算 budget {year}", "年度无效 / not a valid year"))
    for no, item in enumerate(items, 1):
        where = f"预算第{no}行 budget line {no}"
        if not item.name.strip():
            problems.append(Problem(where, "名称不能为空 / the name is empty"))
        if item.kind not in KINDS:
            problems.append(
                Problem(where, f"类别 {item.kind!r} 应为 income 或 expense / kind must be one")
            )
        if not item.accounts:
            problems.append(Problem(where, "未指定科目 / no accounts given"))
        for prefix in item.accounts:
            covered = [a for a in accounts.values() if a.code.startswith(prefix)]
            if not prefix or not covered:
                problems.append(Problem(where, f"没有以 {prefix!r} 开头的科目 / no such account"))
                continue
            wrong = [a.code for a in covered if a.category != KINDS.get(item.kind, item.kind)]
            if item.kind in KINDS and wrong:
                problems.append(
                    Problem(
                        where,
                        f"{prefix} 含非{KIND_NAMES_ZH[item.kind]}科目 {', '.join(wrong[:3])}"
                        f" / covers accounts that are not {item.kind} accounts",
                    )
                )
        try:
            fen = to_fen(item.amount)
        except MoneyError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        if fen < 0:
            problems.append(Problem(where, "金额不能为负 / the amount cannot be negative"))
    return problems


@command
def set_budget(
    session: Session, entity: str, actor: str, year: int, lines: Sequence[BudgetInput]
) -> int:
    """Replace the entity's budget lines of ``year`` with ``lines``; return how many.

    Bookkeeper only (the agency records the plan the community approved);
    audited as ``budget.set``.  All or nothing: every problem of every line is
    listed at once.  An empty ``lines`` removes the year's budget.

    Raises:
        NotFoundError: unknown entity or user.
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: a line is bad (unknown account prefix, prefix covering
            accounts of the other kind, empty name, negative amount…).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.DRAFT_VOUCHER)
    problems = _check(lines, accounts_of(session, ent.id), year)
    if problems:
        raise ProblemsError(f"预算 budget {ent.code} {year}", problems)
    session.execute(
        delete(BudgetLine).where(BudgetLine.entity_id == ent.id, BudgetLine.year == year)
    )
    rows = [
        {
            "entity_id": ent.id,
            "year": year,
            "line_no": no,
            "name": item.name.strip(),
            "kind": item.kind,
            "accounts": ",".join(item.accounts),
            "amount_fen": to_fen(item.amount),
        }
        for no, item in enumerate(lines, 1)
    ]
    if rows:
        session.execute(insert(BudgetLine), rows)
    audit(
        session,
        ent.id,
        actor,
        "budget.set",
        f"{year}",
        {
            "lines": [
                {
                    "name": r["name"],
                    "kind": r["kind"],
                    "accounts": r["accounts"],
                    "fen": r["amount_fen"],
                }
                for r in rows
            ]
        },
    )
    return len(rows)


def budget_lines(session: Session, entity: str, year: int) -> list[BudgetLineView]:
    """Return the entity's budget lines of ``year`` in line order (empty when none).

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    rows = session.execute(
        select(BudgetLine)
        .where(BudgetLine.entity_id == ent.id, BudgetLine.year == year)
        .order_by(BudgetLine.line_no)
    ).scalars()
    return [
        BudgetLineView(
            r.year,
            r.line_no,
            r.name,
            r.kind,
            tuple(p.strip() for p in r.accounts.split(",") if p.strip()),
            from_fen(int(r.amount_fen)),
        )
        for r in rows
    ]
