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

:func:`set_budget` records the plan the community approved (年初预算);
:func:`adjust_budget` records a change of it (调整) that names the collective
decision behind it (居民会议决议 …) and why.  Each is a new **version**
(:class:`BudgetVersionView`): history is never rewritten, the database
refuses changing or deleting a version (migration 0010).  :func:`budget_lines`
reads the lines in force — the latest version, or the latest recorded at a
given moment (``as_of``): a published disclosure shows the budget of the day
it was generated, whatever was adjusted since.  :func:`budget_history` lists
the versions; :func:`budget_plan` gives 年初预算, 调整 and 调整后预算 per line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, func, insert, select

from juzhang.core.duty import Action
from juzhang.errors import MoneyError, Problem, ProblemsError, ValidationError
from juzhang.money import from_fen, to_fen
from juzhang.storage.access import (
    AccountInfo,
    EntityInfo,
    accounts_of,
    audit,
    command,
    get_entity,
    now,
    require,
)
from juzhang.storage.schema import BudgetLine, BudgetVersion

__all__ = [
    "KINDS",
    "BudgetInput",
    "BudgetLineView",
    "BudgetPlanLine",
    "BudgetVersionView",
    "adjust_budget",
    "budget_history",
    "budget_lines",
    "budget_plan",
    "matches",
    "set_budget",
]

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


@dataclass(frozen=True, slots=True)
class BudgetVersionView:
    """One recorded version of a year's budget: ``set`` (年初预算) or ``adjust`` (调整)."""

    year: int
    version: int
    kind: str
    decision: str
    reason: str
    actor: str
    created_at: dt.datetime
    lines: tuple[BudgetLineView, ...]


@dataclass(frozen=True, slots=True)
class BudgetPlanLine:
    """A budget line with 年初预算 (the first version's amount), 调整 and 调整后预算."""

    name: str
    kind: str
    accounts: tuple[str, ...]
    initial: Decimal
    adjusted: Decimal

    @property
    def adjustment(self) -> Decimal:
        """调整: the adjusted amount less the initial one (negative when reduced)."""
        return self.adjusted - self.initial


def _record(
    session: Connection,
    ent: EntityInfo,
    actor: str,
    year: int,
    lines: Sequence[BudgetInput],
    *,
    kind: str,
    decision: str = "",
    reason: str = "",
) -> int:
    problems = _check(lines, accounts_of(session, ent.id), year)
    if kind == "adjust":
        if not decision.strip():
            problems.append(
                Problem(
                    f"预算调整 budget adjustment {year}",
                    "须写明集体决策（居民会议决议 …）/ name the collective decision",
                )
            )
        if not reason.strip():
            problems.append(
                Problem(f"预算调整 budget adjustment {year}", "须写明理由 / give the reason")
            )
    names = [item.name.strip() for item in lines]
    for name in {n for n in names if names.count(n) > 1}:
        problems.append(Problem(f"预算 budget {year}", f"项目 {name!r} 重复 / the name repeats"))
    if problems:
        raise ProblemsError(f"预算 budget {ent.code} {year}", problems)
    latest = session.execute(
        select(func.max(BudgetVersion.version)).where(
            BudgetVersion.entity_id == ent.id, BudgetVersion.year == year
        )
    ).scalar_one_or_none()
    if kind == "adjust" and latest is None:
        raise ValidationError(
            f"预算调整 budget adjustment {ent.code} {year}",
            "尚无预算，请先 budget set / no budget to adjust: set it first",
        )
    version = (latest or 0) + 1
    session.execute(
        insert(BudgetVersion).values(
            entity_id=ent.id,
            year=year,
            version=version,
            kind=kind,
            decision=decision.strip(),
            reason=reason.strip(),
            actor=actor,
            created_at=now(),
        )
    )
    rows = [
        {
            "entity_id": ent.id,
            "year": year,
            "version": version,
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
        f"budget.{kind}",
        f"{year} v{version}",
        {
            "decision": decision.strip(),
            "reason": reason.strip(),
            "lines": [
                {
                    "name": r["name"],
                    "kind": r["kind"],
                    "accounts": r["accounts"],
                    "fen": r["amount_fen"],
                }
                for r in rows
            ],
        },
    )
    return version


@command
def set_budget(
    session: Connection, entity: str, actor: str, year: int, lines: Sequence[BudgetInput]
) -> int:
    """Record the year's budget (年初预算) as a new version with ``lines``; return how many lines.

    Bookkeeper only (the agency records the plan the community approved);
    audited as ``budget.set``.  All or nothing: every problem of every line is
    listed at once.  An empty ``lines`` records a version without lines (no
    budget).  Earlier versions stay: history is never rewritten.

    Raises:
        NotFoundError: unknown entity or user.
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: a line is bad (unknown account prefix, prefix covering
            accounts of the other kind, empty or repeated name, negative amount…).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.DRAFT_VOUCHER)
    _record(session, ent, actor, year, lines, kind="set")
    return len(lines)


@command
def adjust_budget(
    session: Connection,
    entity: str,
    actor: str,
    year: int,
    lines: Sequence[BudgetInput],
    *,
    decision: str,
    reason: str,
) -> int:
    """Record an adjustment (预算调整) of the year's budget; return the new version's number.

    ``lines`` are the whole budget after the adjustment (a line left out is
    dropped, a new name is a new line); ``decision`` names the collective
    decision that made it (``居民会议决议 2027-05-20``), ``reason`` says why.
    Audited as ``budget.adjust``.

    Raises:
        NotFoundError: unknown entity or user.
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ValidationError: the year has no budget yet.
        ProblemsError: a bad line, or no decision or reason.
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.DRAFT_VOUCHER)
    return _record(
        session, ent, actor, year, lines, kind="adjust", decision=decision, reason=reason
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def budget_history(session: Connection, entity: str, year: int) -> list[BudgetVersionView]:
    """Return every version of the year's budget, oldest first (empty when none).

    Raises:
        NotFoundError: unknown entity.
    """
    ent = get_entity(session, entity)
    versions = session.execute(
        select(BudgetVersion)
        .where(BudgetVersion.entity_id == ent.id, BudgetVersion.year == year)
        .order_by(BudgetVersion.version)
    ).all()
    lines: dict[int, list[BudgetLineView]] = {}
    for r in session.execute(
        select(BudgetLine)
        .where(BudgetLine.entity_id == ent.id, BudgetLine.year == year)
        .order_by(BudgetLine.version, BudgetLine.line_no)
    ):
        lines.setdefault(r.version, []).append(
            BudgetLineView(
                r.year,
                r.line_no,
                r.name,
                r.kind,
                tuple(p.strip() for p in r.accounts.split(",") if p.strip()),
                from_fen(int(r.amount_fen)),
            )
        )
    return [
        BudgetVersionView(
            v.year,
            v.version,
            v.kind,
            v.decision,
            v.reason,
            v.actor,
            _aware(v.created_at),
            tuple(lines.get(v.version, ())),
        )
        for v in versions
    ]


def _in_force(
    history: Sequence[BudgetVersionView], as_of: dt.datetime | None
) -> list[BudgetVersionView]:
    """The versions recorded up to ``as_of`` (all when ``None``)."""
    if as_of is None:
        return list(history)
    moment = _aware(as_of)
    return [v for v in history if v.created_at <= moment]


def budget_lines(
    session: Connection, entity: str, year: int, *, as_of: dt.datetime | None = None
) -> list[BudgetLineView]:
    """Return the budget lines in force for ``year`` in line order (empty when none).

    The latest version's lines; with ``as_of``, the latest version recorded
    at or before that moment (what a disclosure generated then showed).

    Raises:
        NotFoundError: unknown entity.
    """
    versions = _in_force(budget_history(session, entity, year), as_of)
    return list(versions[-1].lines) if versions else []


def budget_plan(
    session: Connection, entity: str, year: int, *, as_of: dt.datetime | None = None
) -> list[BudgetPlanLine]:
    """Return each line in force with 年初预算, 调整 and 调整后预算.

    年初预算 is the amount in the year's budget as set (the latest ``set``
    version: a ``set`` is the plan, adjustments follow it); 调整后预算 the amount in force
    (``as_of`` as in :func:`budget_lines`).  A line added by an adjustment
    starts from 0; a line an adjustment dropped shows 调整后预算 0.

    Raises:
        NotFoundError: unknown entity.
    """
    versions = _in_force(budget_history(session, entity, year), as_of)
    if not versions:
        return []
    sets = [i for i, v in enumerate(versions) if v.kind == "set"]
    initial = {ln.name: ln for ln in versions[sets[-1]].lines} if sets else {}
    current = {ln.name: ln for ln in versions[-1].lines}
    out = [
        BudgetPlanLine(
            ln.name,
            ln.kind,
            ln.accounts,
            initial[ln.name].amount if ln.name in initial else Decimal("0.00"),
            ln.amount,
        )
        for ln in versions[-1].lines
    ]
    out += [
        BudgetPlanLine(ln.name, ln.kind, ln.accounts, ln.amount, Decimal("0.00"))
        for name, ln in initial.items()
        if name not in current
    ]
    return out
