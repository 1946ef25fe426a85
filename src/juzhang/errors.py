"""Errors and problems (错误与问题).

Two kinds of bad news leave juzhang:

* A **refused command** raises an exception from the :class:`JuzhangError`
  family.  Each class has a docstring saying when it is raised and builds its
  message from its constructor arguments, in Chinese and English, so the CLI
  can print ``str(exc)`` as one clear line.
* A **problem a person must see in full** (every bad row of an import, every
  failed month-end check, every inconsistency ``verify`` finds) is returned as
  a value: a list of :class:`Problem`.  Exceptions that carry many problems
  (:class:`ProblemsError`) keep the whole list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class VoucherRef:
    """The voucher a problem is about (凭证): a stored one, or a draft of one call.

    ``id`` is a stored voucher's id; ``draft`` the 1-based position of a draft
    among those one call was given (``凭证N voucher N``); ``label`` how people
    name it (``记-0003``) where known.
    """

    id: int | None = None
    draft: int | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class StatementLineRef:
    """The bank statement line a problem is about (对账单行): stored ``line`` id, file ``row``."""

    line: int | None = None
    row: int | None = None
    file: str = ""


@dataclass(frozen=True, slots=True)
class ClaimRowRef:
    """The claim a problem is about (报账单行): ``batch``, file ``row``, stored ``claim`` id."""

    batch: int | None
    row: int
    claim: int | None = None


ProblemRef = VoucherRef | StatementLineRef | ClaimRowRef
"""What a :class:`Problem` can be about, typed, so no caller reads it back from the text."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong, where it is, and what it concerns.

    ``where`` locates it (``"file.csv:12:金额"``, ``"C001 2026-09 记-0003"``),
    ``message`` says what is wrong (Chinese / English), ``subject`` names the
    kind of check or object (``"voucher"``, ``"numbering"``, ``"row"``).
    ``ref`` says which voucher, statement line or claim it is about, where
    the code that found it knows (:data:`ProblemRef`); it is for programs and
    takes no part in comparing problems.
    """

    where: str
    message: str
    subject: str = ""
    ref: ProblemRef | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def about(self, ref: ProblemRef) -> Problem:
        """Return this problem with ``ref`` as what it is about."""
        return replace(self, ref=ref)


class JuzhangError(Exception):
    """Base of every error juzhang raises on purpose."""


class MoneyError(JuzhangError, ValueError):
    """A text or number is not an exact amount of money (金额格式错误)."""

    def __init__(self, value: object, reason: str) -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"不是有效金额 / not a valid amount: {value!r}: {reason}")


class NotFoundError(JuzhangError, LookupError):
    """An entity, user, account, voucher or entry does not exist (不存在)."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} 不存在 / {kind} not found: {key}")


class ConflictError(JuzhangError):
    """The thing to create exists already (已存在), e.g. a duplicate code."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} 已存在 / {kind} already exists: {key}")


class SegregationOfDutiesError(JuzhangError, PermissionError):
    """A person may not do this (职责分离 / 权限).

    Raised when a role grant would give one person both sides of 钱账分离, when
    a person without the right role attempts an action, or when a voucher
    would be reviewed by its own preparer.  The message names the person, the
    role, the action and the rule that refuses it.
    """

    def __init__(self, person: str, role: str, action: str, rule: str) -> None:
        self.person = person
        self.role = role
        self.action = action
        self.rule = rule
        super().__init__(
            f"拒绝 / refused: {person} (角色 role: {role}) 不得 / may not {action}: {rule}"
        )


class ValidationError(JuzhangError, ValueError):
    """A command's input breaks a bookkeeping rule (不符合记账规则)."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what}: {reason}")


class UnbalancedError(ValidationError):
    """Debits and credits differ (借贷不平): a voucher or the opening balances."""

    def __init__(self, what: str, difference: object) -> None:
        self.difference = difference
        super().__init__(
            what,
            f"借贷不平，相差 {difference} / debits and credits differ by {difference}",
        )


class PeriodClosedError(JuzhangError):
    """The period is closed (已结账): nothing may be drafted, posted or recorded in it."""

    def __init__(self, entity: str, period: str) -> None:
        self.entity = entity
        self.period = period
        super().__init__(
            f"{entity} {period} 已结账，不能再记账 / period {period} of {entity} is closed"
        )


class StateError(JuzhangError):
    """The object is not in a state that allows this (状态不允许), e.g. editing a posted voucher."""

    def __init__(self, what: str, state: str, action: str) -> None:
        self.what = what
        self.state = state
        self.action = action
        super().__init__(
            f"{what} 当前状态为 {state}，不能{action} / {what} is {state}; cannot {action}"
        )


class MonthNotOverError(StateError):
    """The month has not ended yet (未过月末): it can be closed from the day after its last day."""

    def __init__(self, entity: str, period: str, today: dt.date, end: dt.date) -> None:
        self.entity = entity
        self.period = period
        self.today = today
        self.end = end
        self.what = f"{entity} {period}"
        self.state = "未过月末 not over"
        self.action = "结账 close"
        JuzhangError.__init__(
            self,
            f"{entity} {period} 未过月末，不能结账：今天 {today}，本月最后一天 {end}，"
            f"{end + dt.timedelta(days=1)} 起可以结账 / {entity} {period} is not over"
            f" (today is {today}, the month ends {end}): it can be closed from"
            f" {end + dt.timedelta(days=1)}",
        )


class ProblemsError(JuzhangError):
    """A command was refused because of one or more problems, all of them listed."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        self.what = what
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{what}: {len(self.problems)} 个问题 / problem(s)\n{lines}")


class IntegrityError(JuzhangError):
    """The database refused a change that breaks an integrity rule (数据库完整性规则).

    The service checks first; this is raised when the database backstop
    fires anyway (for example a change made around the service).
    """

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"数据库拒绝 / the database refused the change: {detail}")


class IdentityError(JuzhangError, PermissionError):
    """The acting user named is not the person connected (操作人与数据库登录不符).

    On PostgreSQL a person who connects with their own login (or whose
    service connection ran ``SET ROLE`` to it) acts as that person only:
    ``--as`` or an ``actor`` naming anyone else is refused.
    """

    def __init__(self, connected: str, claimed: str) -> None:
        self.connected = connected
        self.claimed = claimed
        super().__init__(
            f"数据库登录是 {connected}，不能以 {claimed} 的名义操作"
            f" / connected to the database as {connected}: cannot act as {claimed}"
        )


class AccessDeniedError(JuzhangError, PermissionError):
    """The database refused the connected person a table or a row (数据库权限不足).

    PostgreSQL's privileges and row-level security (migration 0018) said no:
    the person's duties do not write that table, or not for that community.
    """

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"数据库拒绝，权限不足 / the database denied access: {detail}")
