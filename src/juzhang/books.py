"""The books (账簿): the one service that changes what the books hold.

Everything that changes the books comes through here, and every function
checks, before it writes anything, the acting person's roles *as they are
now* (:mod:`juzhang.core.duty`), the period's state and the bookkeeping rules;
the database triggers refuse the same things if this module is bypassed.

Voucher lifecycle (凭证流程)::

    draft (制单, bookkeeper) → reviewed (审核, reviewer ≠ preparer) → posted (记账, bookkeeper)

* A draft may be edited or deleted by its preparer; editing a reviewed
  voucher sends it back to draft.
* Numbers (记-0001) are given at posting: gapless and unique per entity and
  month, under the entity's write lock.
* A line on a cash or bank account must be backed by the cashier's journal
  entry of the same entity, account, amount and direction; the posted lines
  naming one entry always net to that entry's amount or to zero.
* Posted vouchers never change.  A mistake is corrected by a red reversal
  (:func:`reverse_voucher`, 摘要 "注销 X月X日 X号凭证") and a blue correcting
  voucher (:func:`draft_correction`, "订正 …"), both through the same workflow.
* Posting chains each voucher's hash to the previous one and updates the
  running balances (by trigger, in the same transaction).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from juzhang.agency import add_user
from juzhang.charts import load_chart, parent_code
from juzhang.core.duty import Action
from juzhang.core.period import format_period, period_of
from juzhang.core.voucher import (
    GENESIS_HASH,
    Line,
    LineView,
    VoucherDraft,
    VoucherView,
    checked_fens,
    voucher_hash,
)
from juzhang.errors import (
    ConflictError,
    NotFoundError,
    PeriodClosedError,
    Problem,
    ProblemsError,
    SegregationOfDutiesError,
    StateError,
    UnbalancedError,
    ValidationError,
    VoucherRef,
)
from juzhang.money import format_amount, from_fen, to_fen
from juzhang.storage.access import (
    OPERATOR,
    AccountInfo,
    EntityInfo,
    accounts_of,
    audit,
    audit_many,
    closed_periods,
    command,
    get_entity,
    insert_many,
    next_id,
    now,
    require,
    update_many,
    update_range,
    user_logins,
)
from juzhang.storage.schema import (
    Account,
    Claim,
    CustodyEntry,
    OpeningBalance,
    Period,
    StatementLine,
    User,
    Voucher,
    VoucherLine,
)

LineRow = tuple[
    int, str, str, int, str, int | None
]  # line_no, account, side, fen, summary, custody


# --------------------------------------------------------------------------- accounts


@command
def add_account(
    session: Session, entity: str, code: str, name: str, *, actor: str = OPERATOR
) -> None:
    """Add a detail account (明细科目); the parent is taken from the code (51301 → 513).

    Raises:
        ConflictError: the code exists.
        NotFoundError: the parent account does not exist.
        ValidationError: bad code, or the parent already carries amounts.
    """
    ent = get_entity(session, entity, lock=True)
    chart = load_chart(ent.chart)
    parent = parent_code(code, chart.top_level_length)
    if parent is None:
        raise ValidationError(
            f"科目 account {code}", "一级科目来自科目表 / first-level accounts come from the chart"
        )
    accounts = accounts_of(session, ent.id)
    if code in accounts:
        raise ConflictError("科目 account", f"{entity} {code}")
    up = accounts.get(parent)
    if up is None:
        raise NotFoundError("上级科目 parent account", f"{entity} {parent}")
    if up.leaf and _has_amounts(session, ent.id, parent):
        raise ValidationError(
            f"科目 account {code}",
            f"上级科目 {parent} 已有发生额或余额 / the parent {parent} already carries amounts",
        )
    session.execute(
        insert(Account).values(
            entity_id=ent.id,
            code=code,
            name=name,
            parent_code=parent,
            level=up.level + 1,
            category=up.category,
            side=up.side,
            custody=up.custody,
            active=True,
        )
    )
    audit(session, ent.id, actor, "account.add", code, {"name": name})


def _has_amounts(session: Session, entity_id: int, code: str) -> bool:
    for model in (VoucherLine, OpeningBalance, CustodyEntry):
        q = select(model.account_code).where(
            model.entity_id == entity_id,
            model.account_code == code,
        )
        if session.execute(q.limit(1)).first():
            return True
    return False


@command
def deactivate_account(session: Session, entity: str, code: str, *, actor: str = OPERATOR) -> None:
    """Deactivate an account: it stays in the books but takes no new lines.

    An account that has carried amounts can only be deactivated; one that
    never has may instead be removed with :func:`delete_account`.

    Raises:
        NotFoundError: no such account.
    """
    ent = get_entity(session, entity, lock=True)
    if code not in accounts_of(session, ent.id):
        raise NotFoundError("科目 account", f"{entity} {code}")
    session.execute(
        update(Account)
        .where(Account.entity_id == ent.id, Account.code == code)
        .values(active=False)
    )
    audit(session, ent.id, actor, "account.deactivate", code)


@command
def delete_account(session: Session, entity: str, code: str, *, actor: str = OPERATOR) -> None:
    """Delete a detail account that has never carried an amount.

    Raises:
        NotFoundError: no such account.
        StateError: it has postings, an opening balance, custody entries or children.
    """
    ent = get_entity(session, entity, lock=True)
    accounts = accounts_of(session, ent.id)
    acc = accounts.get(code)
    if acc is None:
        raise NotFoundError("科目 account", f"{entity} {code}")
    if acc.parent is None or not acc.leaf or _has_amounts(session, ent.id, code):
        raise StateError(
            f"科目 {code}",
            "有发生额、余额或下级科目 / in use",
            "删除，只能停用 delete (deactivate it)",
        )
    session.execute(delete(Account).where(Account.entity_id == ent.id, Account.code == code))
    audit(session, ent.id, actor, "account.delete", code)


# --------------------------------------------------------------------------- opening balances


@command
def set_opening(session: Session, entity: str, actor: str, balances: Mapping[str, Decimal]) -> None:
    """Set opening balances (期初余额), debit positive and credit negative.

    Balances of accounts not named stay as they are; a zero removes one.  They
    may be changed until the first voucher is posted; posting is refused while
    they do not balance.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        StateError: vouchers are already posted.
        ProblemsError: unknown or non-leaf accounts (all listed).
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.SET_OPENING)
    if _any_posted(session, ent.id):
        raise StateError(
            "期初余额 opening balances", "已有记账凭证 / vouchers posted", "修改 change"
        )
    accounts = accounts_of(session, ent.id)
    problems = [
        Problem(f"{entity} {code}", _account_problem(code, accounts) or "")
        for code in balances
        if _account_problem(code, accounts)
    ]
    if problems:
        raise ProblemsError("期初余额 opening balances", problems)
    for code, amount in balances.items():
        fen = to_fen(amount)
        session.execute(
            delete(OpeningBalance).where(
                OpeningBalance.entity_id == ent.id, OpeningBalance.account_code == code
            )
        )
        if fen:
            session.execute(
                insert(OpeningBalance).values(entity_id=ent.id, account_code=code, amount_fen=fen)
            )
    audit(
        session,
        ent.id,
        actor,
        "opening.set",
        entity,
        {code: str(amount) for code, amount in balances.items()},
    )


def opening_difference(session: Session, entity: str) -> Decimal:
    """Return by how much the entity's opening balances fail to balance (0.00 when they do).

    Positive when debits exceed credits.

    Raises:
        NotFoundError: unknown entity.
    """
    return from_fen(_opening_difference(session, get_entity(session, entity).id))


def _opening_difference(session: Session, entity_id: int) -> int:
    total = session.execute(
        select(func.coalesce(func.sum(OpeningBalance.amount_fen), 0)).where(
            OpeningBalance.entity_id == entity_id
        )
    ).scalar_one()
    return int(total)


def _any_posted(session: Session, entity_id: int) -> bool:
    q = select(Voucher.id).where(Voucher.entity_id == entity_id, Voucher.status == "posted")
    return session.execute(q.limit(1)).first() is not None


def _account_problem(code: str, accounts: Mapping[str, AccountInfo]) -> str | None:
    acc = accounts.get(code)
    if acc is None:
        return f"科目 {code} 不存在 / no account {code}"
    if not acc.leaf:
        return f"科目 {code} {acc.name} 有明细科目，请用末级科目 / {code} has detail accounts"
    if not acc.active:
        return f"科目 {code} {acc.name} 已停用 / account {code} is inactive"
    return None


# --------------------------------------------------------------------------- custody links


class _CustodyLinker:
    """Finds and checks the custody entries that back custody-account lines."""

    def __init__(self, session: Session, ent: EntityInfo, exclude_voucher: int | None) -> None:
        self.session = session
        self.ent = ent
        self.exclude = exclude_voucher if exclude_voucher is not None else -1
        self.taken: set[int] = set()
        self.known: dict[int, tuple[str, int, bool]] = {}  # id → (account, fen, used)
        self.missing: set[int] = set()

    def _unavailable_sql(self) -> str:
        return """
          COALESCE((SELECT SUM(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
                    FROM voucher_line l JOIN voucher v
                    ON v.entity_id = l.entity_id AND v.id = l.voucher_id
                    WHERE l.entity_id = c.entity_id AND l.custody_entry_id = c.id
                    AND v.status = 'posted'), 0) <> 0
          OR EXISTS (SELECT 1 FROM voucher_line l JOIN voucher v
                    ON v.entity_id = l.entity_id AND v.id = l.voucher_id
                    WHERE l.entity_id = c.entity_id AND l.custody_entry_id = c.id
                    AND v.status <> 'posted' AND v.id <> :exclude)"""

    def link(self, line: Line, signed: int, date: dt.date) -> tuple[int | None, str | None]:
        """Return (entry id, None) or (None, problem text) for a custody-account line.

        ``signed`` is the line's amount in fen, debit positive.
        """
        if line.custody_entry is not None:
            return self._check_explicit(line.custody_entry, line.account, signed)
        window = self.ent.link_window_days
        rows = self.session.execute(
            text(
                "SELECT c.id, c.entry_date FROM custody_entry c"
                " WHERE c.entity_id = :e AND c.account_code = :a AND c.amount_fen = :f"
                " AND c.entry_date BETWEEN :d0 AND :d1 AND NOT (" + self._unavailable_sql() + ")"
            ),
            {
                "e": self.ent.id,
                "a": line.account,
                "f": signed,
                "d0": date - dt.timedelta(days=window),
                "d1": date + dt.timedelta(days=window),
                "exclude": self.exclude,
            },
        ).all()
        candidates = sorted(
            (abs((_as_date(d) - date).days), int(i)) for i, d in rows if int(i) not in self.taken
        )
        direction = "收入 in" if signed > 0 else "支出 out"
        amount = format_amount(from_fen(abs(signed)))
        if not candidates:
            return None, (
                f"{line.account} {direction} {amount}: 出纳日记账中没有对应记录"
                f"（±{window}天）/ no unlinked custody entry of this account, amount and"
                f" direction within {window} days: the cashier must record it first"
            )
        if len(candidates) > 1 and candidates[0][0] == candidates[1][0]:
            ids = ", ".join(f"#{c[1]}" for c in candidates if c[0] == candidates[0][0])
            return None, (
                f"{line.account} {direction} {amount}: 有多笔日记账同样接近 ({ids})，请指定"
                f" / several custody entries fit equally well ({ids}): name one"
            )
        self.taken.add(candidates[0][1])
        return candidates[0][1], None

    def prefetch(self, entry_ids: Iterable[int]) -> None:
        """Load the named custody entries in a few queries (for many lines at once).

        An entry is *used* when posted lines net to a non-zero amount on it or
        an unposted voucher other than the one being edited names it (as in
        :meth:`_unavailable_sql`), counted here with one grouped query per
        chunk instead of two subqueries per entry.
        """
        wanted = sorted({i for i in entry_ids if i not in self.known})
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            ids = ", ".join(str(int(i)) for i in chunk)
            used: dict[int, bool] = {}
            for entry_id, posted, unposted in self.session.execute(
                text(
                    "SELECT l.custody_entry_id,"
                    " SUM(CASE WHEN v.status = 'posted' THEN"
                    "   CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END"
                    "   ELSE 0 END),"
                    " SUM(CASE WHEN v.status <> 'posted' AND v.id <> :exclude THEN 1 ELSE 0 END)"
                    " FROM voucher_line l JOIN voucher v"
                    " ON v.entity_id = l.entity_id AND v.id = l.voucher_id"
                    f" WHERE l.entity_id = :e AND l.custody_entry_id IN ({ids})"
                    " GROUP BY l.custody_entry_id"
                ),
                {"e": self.ent.id, "exclude": self.exclude},
            ):
                used[int(entry_id)] = int(posted or 0) != 0 or int(unposted or 0) > 0
            rows = self.session.execute(
                text(
                    "SELECT c.id, c.account_code, c.amount_fen FROM custody_entry c"
                    f" WHERE c.entity_id = :e AND c.id IN ({ids})"
                ),
                {"e": self.ent.id},
            )
            for entry_id, acc, fen in rows:
                self.known[int(entry_id)] = (str(acc), int(fen), used.get(int(entry_id), False))
            self.missing.update(i for i in chunk if i not in self.known)

    def _check_explicit(
        self, entry_id: int, account: str, signed: int
    ) -> tuple[int | None, str | None]:
        if entry_id not in self.known and entry_id not in self.missing:
            self.prefetch([entry_id])
        found = self.known.get(entry_id)
        if found is None:
            return None, f"日记账 #{entry_id} 不存在 / no custody entry #{entry_id}"
        acc, fen, used = found
        if acc != account or fen != signed:
            return None, (
                f"日记账 #{entry_id} 是 {acc} {format_amount(from_fen(fen))}，与本行不符"
                f" / custody entry #{entry_id} is {acc} {from_fen(fen)}:"
                " account, amount or direction differ"
            )
        if used or entry_id in self.taken:
            return None, (
                f"日记账 #{entry_id} 已被其他凭证使用 / custody entry #{entry_id} already backs"
                " another voucher"
            )
        self.taken.add(entry_id)
        return entry_id, None


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --------------------------------------------------------------------------- drafting


@dataclass(frozen=True, slots=True)
class _Checked:
    period: int
    rows: list[LineRow]


def _check_against_books(
    session: Session,
    ent: EntityInfo,
    draft: VoucherDraft,
    where: str,
    accounts: Mapping[str, AccountInfo],
    closed: set[int],
    linker: _CustodyLinker,
) -> tuple[_Checked | None, list[Problem]]:
    problems, fens = checked_fens(draft, where)
    period = period_of(draft.date)
    if period < ent.start_period:
        problems.append(
            Problem(
                where, f"早于建账月份 {format_period(ent.start_period)} / before the books start"
            )
        )
    if period in closed:
        problems.append(Problem(where, f"{format_period(period)} 已结账 / the period is closed"))
    rows: list[LineRow] = []
    for i, (line, fen) in enumerate(zip(draft.lines, fens, strict=True), 1):
        bad = _account_problem(line.account, accounts)
        if bad:
            problems.append(Problem(f"{where} 第{i}行 line {i}", bad))
            continue
        if not fen:
            continue  # no side or a zero amount: already reported by checked_fens
        custody: int | None = None
        if accounts[line.account].custody is not None:
            custody, why = linker.link(line, fen, draft.date)
            if why:
                problems.append(Problem(f"{where} 第{i}行 line {i}", why))
        elif line.custody_entry is not None:
            problems.append(
                Problem(
                    f"{where} 第{i}行 line {i}",
                    "只有现金或银行科目的行才引用日记账"
                    " / only cash and bank lines name a custody entry",
                )
            )
        side = "D" if line.debit is not None else "C"
        rows.append((i, line.account, side, fen if side == "D" else -fen, line.summary, custody))
    return (_Checked(period, rows) if not problems else None), problems


def _insert_vouchers(
    session: Session,
    ent: EntityInfo,
    preparer: int,
    items: Sequence[tuple[VoucherDraft | PairDraft, _Checked]],
    *,
    kind: str = "normal",
    reverses: int | None = None,
    numbered: Sequence[_Numbered] | None = None,
    first: int | None = None,
) -> list[int]:
    """Insert drafts and their lines; return their ids (consecutive, in the order given).

    With ``numbered`` (the bulk path: one per item, in the same order), each
    draft is written with the number, chain link and cashier it is about to be
    posted with, so that posting only flips its status (see :func:`post_bulk`);
    ``first`` is then the first id, which the caller took for the numbering.
    """
    if first is None:
        first = next_id(session, Voucher.__table__, ent.id)  # type: ignore[arg-type]
    at = now()
    ids = list(range(first, first + len(items)))
    rows: Iterable[tuple[Any, ...]] = (
        (
            ent.id,
            vid,
            draft.date,
            checked.period,
            ent.voucher_word,
            "draft",
            kind,
            draft.attachments,
            preparer,
            reverses,
            at,
        )
        for vid, (draft, checked) in zip(ids, items, strict=True)
    )
    columns: tuple[str, ...] = _VOUCHER_COLUMNS
    if numbered is not None:
        # In posting order: SQLite posts a bulk batch in one UPDATE, which
        # visits the rows in the order they were inserted (see post_bulk).
        columns = (*columns, *_Numbered._fields)
        rows = (
            row + tuple(n)
            for row, n in sorted(zip(rows, numbered, strict=True), key=lambda p: p[1].chain_seq)
        )
    insert_many(session, Voucher, columns, rows)
    insert_many(
        session,
        VoucherLine,
        _LINE_COLUMNS,
        (
            (ent.id, vid, no, acc, summary, side, fen, custody)
            for vid, (_draft, checked) in zip(ids, items, strict=True)
            for no, acc, side, fen, summary, custody in checked.rows
        ),
    )
    return ids


_VOUCHER_COLUMNS = (
    "entity_id",
    "id",
    "voucher_date",
    "period",
    "word",
    "status",
    "kind",
    "attachments",
    "prepared_by",
    "reverses_id",
    "prepared_at",
)
_LINE_COLUMNS = (
    "entity_id",
    "voucher_id",
    "line_no",
    "account_code",
    "summary",
    "side",
    "amount_fen",
    "custody_entry_id",
)


def _check_all(
    session: Session,
    ent: EntityInfo,
    drafts: Sequence[VoucherDraft],
    *,
    exclude_voucher: int | None = None,
) -> list[tuple[VoucherDraft, _Checked]]:
    accounts = accounts_of(session, ent.id)
    closed = closed_periods(session, ent.id)
    linker = _CustodyLinker(session, ent, exclude_voucher)
    linker.prefetch(ln.custody_entry for d in drafts for ln in d.lines if ln.custody_entry)
    checked: list[tuple[VoucherDraft, _Checked]] = []
    problems: list[Problem] = []
    for n, draft in enumerate(drafts, 1):
        where = f"{ent.code} 凭证{n} voucher {n}" if len(drafts) > 1 else f"{ent.code} 凭证 voucher"
        result, found = _check_against_books(session, ent, draft, where, accounts, closed, linker)
        problems.extend(p.about(VoucherRef(draft=n)) for p in found)
        if result is not None:
            checked.append((draft, result))
    if problems:
        raise ProblemsError("凭证 voucher", problems)
    return checked


@command
def draft_vouchers(
    session: Session, entity: str, actor: str, drafts: Sequence[VoucherDraft]
) -> list[int]:
    """Prepare vouchers (制单) as drafts; return their ids.  All or nothing.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: any draft is bad (every problem of every draft listed).
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.DRAFT_VOUCHER)
    checked = _check_all(session, ent, drafts)
    ids = _insert_vouchers(session, ent, uid, checked)
    audit_many(session, ent.id, actor, "voucher.draft", [(f"#{i}", None) for i in ids])
    return ids


def draft_voucher(session: Session, entity: str, actor: str, draft: VoucherDraft) -> int:
    """Prepare one voucher (制单) as a draft; return its id (see :func:`draft_vouchers`)."""
    return draft_vouchers(session, entity, actor, [draft])[0]


class PairDraft(NamedTuple):
    """A two-line voucher in fen backed by a custody entry, for drafting in bulk.

    ``fen`` is signed as the custody entry is: money in positive, out
    negative.  Money in is 借 ``custody_account`` 贷 ``counter_account``;
    money out the other way round.  Both lines carry ``summary``; the custody
    line names ``entry``.  (What a bank statement line or a claim becomes.)
    """

    date: dt.date
    custody_account: str
    counter_account: str
    summary: str
    fen: int
    entry: int
    attachments: int = 0


@command
def draft_pairs(
    session: Session, entity: str, actor: str, drafts: Sequence[PairDraft]
) -> list[int]:
    """Prepare two-line vouchers backed by custody entries (制单) in bulk; return their ids.

    The rules of :func:`draft_vouchers`, checked with integers and a few
    queries per call instead of per voucher: the actor is a bookkeeper, each
    date is in an open month from the books' start, amounts are not zero,
    摘要 not empty, both accounts are active leaf accounts, the custody
    account is a cash or bank account and the counter account is not, and
    each entry is of the custody account, the amount and the direction, and
    backs no other voucher.  One audit record names the range of ids.  All
    or nothing.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        ProblemsError: any draft is bad (every problem listed, drafts named
            ``凭证N voucher N`` as :func:`draft_vouchers` names them).
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.DRAFT_VOUCHER)
    return draft_pairs_for(session, ent, uid, actor, drafts)


def draft_pairs_for(
    session: Session,
    ent: EntityInfo,
    uid: int,
    actor: str,
    drafts: Sequence[PairDraft],
    *,
    accounts: Mapping[str, AccountInfo] | None = None,
    closed: set[int] | None = None,
) -> list[int]:
    """:func:`draft_pairs` for a service that has locked ``ent`` and checked the actor (``uid``).

    A service drafting in chunks passes the entity's ``accounts`` and
    ``closed`` months, read once per command.  Returns the ids.  Raises
    :class:`~juzhang.errors.ProblemsError` as :func:`draft_pairs` does.
    """
    if not drafts:
        return []
    problems = _check_pairs(session, ent, drafts, accounts, closed)
    if problems:
        raise ProblemsError("凭证 voucher", problems)
    ids = _insert_vouchers(
        session, ent, uid, [(d, _Checked(period_of(d.date), _pair_rows(d))) for d in drafts]
    )
    subject = f"#{ids[0]}" if len(ids) == 1 else f"#{ids[0]}-{ids[-1]}"
    audit(session, ent.id, actor, "voucher.draft", subject, {"vouchers": len(drafts)})
    return ids


def _pair_rows(d: PairDraft) -> list[LineRow]:
    """The two lines of a pair: 借 custody 贷 counter for money in, the other way for out."""
    if d.fen > 0:
        return [
            (1, d.custody_account, "D", d.fen, d.summary, d.entry),
            (2, d.counter_account, "C", d.fen, d.summary, None),
        ]
    return [
        (1, d.counter_account, "D", -d.fen, d.summary, None),
        (2, d.custody_account, "C", -d.fen, d.summary, d.entry),
    ]


def _check_pairs(
    session: Session,
    ent: EntityInfo,
    drafts: Sequence[PairDraft],
    accounts: Mapping[str, AccountInfo] | None = None,
    closed: set[int] | None = None,
) -> list[Problem]:
    accounts = accounts_of(session, ent.id) if accounts is None else accounts
    closed = closed_periods(session, ent.id) if closed is None else closed
    linker = _CustodyLinker(session, ent, None)
    linker.prefetch(d.entry for d in drafts)
    custody_ok = {
        c: _pair_account_problem(c, accounts, True) for c in {d.custody_account for d in drafts}
    }
    counter_ok = {
        c: _pair_account_problem(c, accounts, False) for c in {d.counter_account for d in drafts}
    }
    problems: list[Problem] = []
    for n, d in enumerate(drafts, 1):
        first = len(problems)
        where = f"{ent.code} 凭证{n} voucher {n}" if len(drafts) > 1 else f"{ent.code} 凭证 voucher"
        period = period_of(d.date)
        if period < ent.start_period:
            problems.append(
                Problem(
                    where,
                    f"早于建账月份 {format_period(ent.start_period)} / before the books start",
                )
            )
        if period in closed:
            problems.append(
                Problem(where, f"{format_period(period)} 已结账 / the period is closed")
            )
        if d.attachments < 0:
            problems.append(Problem(where, "附件张数不能为负 / attachments cannot be negative"))
        if d.fen == 0:
            problems.append(Problem(where, "金额不能为零 / the amount cannot be zero"))
        if not d.summary.strip():
            problems.append(Problem(where, "摘要不能为空 / the summary (摘要) is empty"))
        custody_line, counter_line = (1, 2) if d.fen > 0 else (2, 1)
        bad = custody_ok[d.custody_account]
        if bad is None and d.fen != 0:
            _entry, bad = linker._check_explicit(d.entry, d.custody_account, d.fen)
        if bad is not None:
            problems.append(Problem(f"{where} 第{custody_line}行 line {custody_line}", bad))
        bad = counter_ok[d.counter_account]
        if bad is not None:
            problems.append(Problem(f"{where} 第{counter_line}行 line {counter_line}", bad))
        problems[first:] = [p.about(VoucherRef(draft=n)) for p in problems[first:]]
    return problems


def _pair_account_problem(
    code: str, accounts: Mapping[str, AccountInfo], custody: bool
) -> str | None:
    bad = _account_problem(code, accounts)
    if bad is not None:
        return bad
    if custody and accounts[code].custody is None:
        return f"科目 {code} 不是现金或银行科目 / {code} is not a cash or bank account"
    if not custody and accounts[code].custody is not None:
        return (
            f"科目 {code} 是现金或银行科目，须由日记账支持 / {code} is a cash or bank account:"
            " it needs a custody entry of its own"
        )
    return None


def _load_voucher(session: Session, ent: EntityInfo, voucher_id: int) -> Voucher:
    row = session.get(Voucher, (ent.id, voucher_id), populate_existing=True)
    if row is None:
        raise NotFoundError("凭证 voucher", f"{ent.code} #{voucher_id}")
    return row


def _require_preparer(ent: EntityInfo, row: Voucher, uid: int, actor: str, action: str) -> None:
    if row.status == "posted":
        raise StateError(f"凭证 #{row.id}", "已记账 posted", action)
    if row.prepared_by != uid:
        raise SegregationOfDutiesError(
            f"{actor} ({ent.code})",
            "bookkeeper 代理会计",
            action,
            "只有制单人可以修改或删除草稿 / only the preparer may change a draft",
        )
    if row.period in _closed(row):
        raise PeriodClosedError(ent.code, format_period(row.period))


def _closed(row: Voucher) -> set[int]:
    session = Session.object_session(row)
    assert session is not None
    return closed_periods(session, row.entity_id)


@command
def edit_voucher(
    session: Session, entity: str, actor: str, voucher_id: int, draft: VoucherDraft
) -> None:
    """Replace a draft's date, attachments and lines (preparer only).

    A reviewed voucher that is edited goes back to draft.

    Raises:
        NotFoundError: no such voucher.
        StateError: the voucher is posted, or is a reversal (delete it instead).
        SegregationOfDutiesError: the actor is not its preparer.
        PeriodClosedError: its month is closed.
        ProblemsError: the new content is bad.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.EDIT_VOUCHER)
    row = _load_voucher(session, ent, voucher_id)
    _require_preparer(ent, row, uid, actor, "修改 edit")
    was = row.status  # read now: the UPDATE below refreshes ``row`` in the session
    if row.kind == "reversal":
        raise StateError(
            f"凭证 #{voucher_id}", "红字冲销 reversal", "修改 edit (delete it instead)"
        )
    ((_, checked),) = _check_all(session, ent, [draft], exclude_voucher=voucher_id)
    session.execute(
        delete(VoucherLine).where(
            VoucherLine.entity_id == ent.id, VoucherLine.voucher_id == voucher_id
        )
    )
    session.execute(
        update(Voucher)
        .where(Voucher.entity_id == ent.id, Voucher.id == voucher_id)
        .values(
            voucher_date=draft.date,
            period=checked.period,
            attachments=draft.attachments,
            status="draft",
            reviewed_by=None,
            reviewed_at=None,
        )
    )
    insert_many(
        session,
        VoucherLine,
        _LINE_COLUMNS,
        (
            (ent.id, voucher_id, no, acc, summary, side, fen, custody)
            for no, acc, side, fen, summary, custody in checked.rows
        ),
    )
    audit(session, ent.id, actor, "voucher.edit", f"#{voucher_id}", {"was": was})


@command
def delete_voucher(session: Session, entity: str, actor: str, voucher_id: int) -> None:
    """Delete a draft or reviewed voucher (preparer only).

    A claim it was drafted from goes back to pending, and a bank statement
    line it was drafted from waits to be drafted again.

    Raises:
        NotFoundError: no such voucher.
        StateError: the voucher is posted.
        SegregationOfDutiesError: the actor is not its preparer.
        PeriodClosedError: its month is closed.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.EDIT_VOUCHER)
    row = _load_voucher(session, ent, voucher_id)
    _require_preparer(ent, row, uid, actor, "删除 delete")
    # what was drafted from a claim or a statement line waits to be drafted again
    session.execute(
        update(Claim)
        .where(Claim.entity_id == ent.id, Claim.voucher_id == voucher_id)
        .values(status="pending", voucher_id=None)
    )
    session.execute(
        update(StatementLine)
        .where(StatementLine.entity_id == ent.id, StatementLine.voucher_id == voucher_id)
        .values(voucher_id=None)
    )
    session.execute(
        delete(VoucherLine).where(
            VoucherLine.entity_id == ent.id, VoucherLine.voucher_id == voucher_id
        )
    )
    session.execute(delete(Voucher).where(Voucher.entity_id == ent.id, Voucher.id == voucher_id))
    audit(session, ent.id, actor, "voucher.delete", f"#{voucher_id}")


# --------------------------------------------------------------------------- review


@command
def review_vouchers(session: Session, entity: str, actor: str, ids: Sequence[int]) -> None:
    """Review drafts (审核); the reviewer may not be the preparer.  All or nothing.

    Raises:
        SegregationOfDutiesError: not a reviewer, or reviewing one's own voucher.
        StateError: a voucher is not a draft.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.REVIEW_VOUCHER)
    rows = [_load_voucher(session, ent, i) for i in dict.fromkeys(ids)]  # each id once
    for row in rows:
        if row.status != "draft":
            raise StateError(f"凭证 #{row.id}", row.status, "审核 review")
        if row.prepared_by == uid:
            raise SegregationOfDutiesError(
                f"{actor} ({ent.code})",
                "reviewer 审核",
                f"审核自己制单的凭证 #{row.id} / review own voucher",
                "审核人不得是制单人 / the reviewer may not be the preparer",
            )
    at = now()
    if rows:
        update_many(
            session,
            Voucher,
            [
                {
                    "entity_id": ent.id,
                    "id": r.id,
                    "status": "reviewed",
                    "reviewed_by": uid,
                    "reviewed_at": at,
                }
                for r in rows
            ],
        )
    audit_many(session, ent.id, actor, "voucher.review", [(f"#{r.id}", None) for r in rows])


@command
def unreview_voucher(session: Session, entity: str, actor: str, voucher_id: int) -> None:
    """Withdraw a review (取消审核): the voucher goes back to draft.

    Raises:
        SegregationOfDutiesError: the actor is not a reviewer of the entity.
        StateError: the voucher is not reviewed.
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.UNREVIEW_VOUCHER)
    row = _load_voucher(session, ent, voucher_id)
    if row.status != "reviewed":
        raise StateError(f"凭证 #{voucher_id}", row.status, "取消审核 withdraw review")
    session.execute(
        update(Voucher)
        .where(Voucher.entity_id == ent.id, Voucher.id == voucher_id)
        .values(status="draft", reviewed_by=None, reviewed_at=None)
    )
    audit(session, ent.id, actor, "voucher.unreview", f"#{voucher_id}")


# --------------------------------------------------------------------------- posting


@dataclass(frozen=True, slots=True)
class _ToPost:
    id: int
    period: int
    date: dt.date
    kind: str
    reverses: int | None
    rows: list[LineRow]


class _Numbered(NamedTuple):
    """What posting writes on a voucher besides who posted it and when."""

    number: int
    chain_seq: int
    prev_hash: str
    hash: str
    cashier_id: int | None


def _number(session: Session, ent: EntityInfo, items: list[_ToPost]) -> list[_Numbered]:
    """Number and chain vouchers about to be posted, one result per item in its order.

    The caller holds the entity's lock and has checked the roles.  Numbers run
    per period in (period, date, id) order, the hash chain in the same order.
    """
    diff = _opening_difference(session, ent.id)
    if diff:
        raise UnbalancedError("期初余额 opening balances", format_amount(from_fen(abs(diff))))
    closed = closed_periods(session, ent.id)
    for item in items:
        if item.period in closed:
            raise PeriodClosedError(ent.code, format_period(item.period))
    numbers: dict[int, int] = {}
    for p in {v.period for v in items}:
        numbers[p] = int(
            session.execute(
                select(func.max(Voucher.number)).where(
                    Voucher.entity_id == ent.id, Voucher.period == p
                )
            ).scalar_one()
            or 0
        )
    head = session.execute(
        select(Voucher.chain_seq, Voucher.hash)
        .where(Voucher.entity_id == ent.id, Voucher.chain_seq.is_not(None))
        .order_by(Voucher.chain_seq.desc())
        .limit(1)
    ).first()
    seq, prev = (int(head[0] or 0), str(head[1])) if head else (0, GENESIS_HASH)
    cashiers = _cashiers(session, ent.id, items)
    out: dict[int, _Numbered] = {}
    for i in sorted(range(len(items)), key=lambda i: (items[i].period, items[i].date, items[i].id)):
        item = items[i]
        numbers[item.period] += 1
        seq += 1
        number = numbers[item.period]
        digest = voucher_hash(
            prev,
            entity=ent.code,
            seq=seq,
            period=item.period,
            number=number,
            date=item.date,
            kind=item.kind,
            reverses=item.reverses,
            lines=item.rows,
        )
        out[i] = _Numbered(number, seq, prev, digest, cashiers.get(item.id))
        prev = digest
    return [out[i] for i in range(len(items))]


def _post(session: Session, ent: EntityInfo, poster: int, items: list[_ToPost]) -> list[int]:
    """Number, chain and post reviewed vouchers (caller holds the lock and checked roles).

    Returns the numbers given, in number order.  The rows are updated in
    number order: SQLite's row trigger refuses number ``n`` before ``n - 1``.
    (:func:`post_bulk` writes the numbers with its drafts and posts them in
    one statement instead.)
    """
    numbered = _number(session, ent, items)
    at = now()
    in_order = sorted(zip(items, numbered, strict=True), key=lambda p: p[1].chain_seq)
    if in_order:
        update_many(
            session,
            Voucher,
            [
                {"entity_id": ent.id, "id": item.id, "status": "posted"}
                | n._asdict()
                | {"posted_by": poster, "posted_at": at}
                for item, n in in_order
            ],
        )
    return [n.number for _item, n in in_order]


def _cashiers(session: Session, entity_id: int, items: list[_ToPost]) -> dict[int, int]:
    entry_ids = {r[5]: v.id for v in items for r in v.rows if r[5] is not None}
    if not entry_ids:
        return {}
    out: dict[int, int] = {}
    rows = session.execute(
        select(CustodyEntry.id, CustodyEntry.recorded_by).where(
            CustodyEntry.entity_id == entity_id, CustodyEntry.id.in_(entry_ids)
        )
    )
    for entry_id, cashier in rows:
        out.setdefault(entry_ids[entry_id], cashier)
    return out


def _lines_of(session: Session, entity_id: int, ids: Sequence[int]) -> dict[int, list[LineRow]]:
    out: dict[int, list[LineRow]] = {i: [] for i in ids}
    rows = session.execute(
        select(
            VoucherLine.voucher_id,
            VoucherLine.line_no,
            VoucherLine.account_code,
            VoucherLine.side,
            VoucherLine.amount_fen,
            VoucherLine.summary,
            VoucherLine.custody_entry_id,
        )
        .where(VoucherLine.entity_id == entity_id, VoucherLine.voucher_id.in_(ids))
        .order_by(VoucherLine.voucher_id, VoucherLine.line_no)
    )
    for vid, no, acc, side, fen, summary, custody in rows:
        out[vid].append((no, acc, side, int(fen), summary, custody))
    return out


@command
def post_vouchers(session: Session, entity: str, actor: str, ids: Sequence[int]) -> list[int]:
    """Post reviewed vouchers (记账); return the numbers given.

    The vouchers are numbered and posted in (month, date, id) order, whatever
    the order of ``ids`` (an id listed twice is posted once); numbers run on
    from the month's last number, and the returned list follows that order.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        StateError: a voucher is not reviewed.
        UnbalancedError: the opening balances do not balance.
        PeriodClosedError: a voucher's month is closed.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.POST_VOUCHER)
    rows = [_load_voucher(session, ent, i) for i in dict.fromkeys(ids)]  # each id once
    for row in rows:
        if row.status != "reviewed":
            raise StateError(f"凭证 #{row.id}", row.status, "记账 post (review it first)")
    lines = _lines_of(session, ent.id, [r.id for r in rows])
    items = [
        _ToPost(r.id, r.period, r.voucher_date, r.kind, r.reverses_id, lines[r.id]) for r in rows
    ]
    numbers = _post(session, ent, uid, items)
    audit_many(
        session,
        ent.id,
        actor,
        "voucher.post",
        [
            (f"#{i.id}", {"number": n})
            for i, n in zip(
                sorted(items, key=lambda v: (v.period, v.date, v.id)), numbers, strict=True
            )
        ],
    )
    return numbers


@command
def post_bulk(
    session: Session,
    entity: str,
    drafts: Sequence[VoucherDraft],
    *,
    preparer: str,
    reviewer: str,
    poster: str,
) -> list[int]:
    """Prepare, review and post many vouchers in one go; return their ids.  All or nothing.

    For imports and history loads: every rule of the one-by-one workflow
    holds (roles, reviewer ≠ preparer, custody backing, periods, numbering),
    checked for all drafts first, with every problem listed.

    Raises:
        SegregationOfDutiesError: a person lacks the role, or reviewer is preparer.
        ProblemsError: any draft is bad (all listed).
        UnbalancedError: the opening balances do not balance.
    """
    ent = get_entity(session, entity, lock=True)
    prep = require(session, ent, preparer, Action.DRAFT_VOUCHER)
    rev = require(session, ent, reviewer, Action.REVIEW_VOUCHER)
    post = require(session, ent, poster, Action.POST_VOUCHER)
    if prep == rev:
        raise SegregationOfDutiesError(
            f"{reviewer} ({ent.code})",
            "reviewer 审核",
            "审核自己制单的凭证 / review own vouchers",
            "审核人不得是制单人 / the reviewer may not be the preparer",
        )
    checked = _check_all(session, ent, drafts)
    # Number and chain first and write the drafts with their numbers, so that
    # posting each one only flips its status: an update that grew every row by
    # its hashes and touched the number and chain keys cost more than the insert.
    first = next_id(session, Voucher.__table__, ent.id)  # type: ignore[arg-type]
    items = [
        _ToPost(first + k, c.period, d.date, "normal", None, c.rows)
        for k, (d, c) in enumerate(checked)
    ]
    numbered = _number(session, ent, items)
    ids = _insert_vouchers(session, ent, prep, checked, numbered=numbered, first=first)
    # Review and post them all in one UPDATE: the database still sees a reviewer
    # other than the preparer on every posted voucher, and SQLite, which updates
    # in the order the drafts went in (number order), meets n - 1 before n.
    at = now()
    update_range(
        session,
        Voucher,
        ent.id,
        range(first, first + len(ids)),
        {
            "status": "posted",
            "posted_by": post,
            "posted_at": at,
            "reviewed_by": rev,
            "reviewed_at": at,
        },
    )
    people = {"reviewer": reviewer, "poster": poster}
    audit_many(
        session,
        ent.id,
        preparer,
        "voucher.bulk",
        [(f"#{i}", people) for i in ids],
    )
    return ids


# --------------------------------------------------------------------------- corrections


def _find_posted(session: Session, ent: EntityInfo, period: int, number: int) -> Voucher:
    row = session.execute(
        select(Voucher).where(
            Voucher.entity_id == ent.id,
            Voucher.period == period,
            Voucher.number == number,
            Voucher.status == "posted",
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(
            "凭证 voucher", f"{ent.code} {format_period(period)} {ent.voucher_word}-{number:04d}"
        )
    return row


def correction_label(row: Voucher) -> str:
    """Return ``"9月5日 3号凭证"``: how a correction's 摘要 names the original."""
    d = row.voucher_date
    return f"{d.month}月{d.day}日 {row.number}号凭证"


@command
def reverse_voucher(
    session: Session,
    entity: str,
    actor: str,
    period: int,
    number: int,
    *,
    date: dt.date | None = None,
) -> int:
    """Draft a red reversal (红字冲销) of a posted voucher; return the draft's id.

    The reversal repeats the original's lines with negated amounts, each
    摘要 "注销 X月X日 X号凭证", names the same custody entries, and then goes
    through review and posting like any voucher.  Its date defaults to the
    original's date if that month is open, else today.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: no such posted voucher.
        StateError: the voucher is itself a reversal or already reversed.
        PeriodClosedError: the reversal's month is closed.
        ValidationError: the reversal's date is before the books start.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.REVERSE_VOUCHER)
    original = _find_posted(session, ent, period, number)
    if original.kind == "reversal":
        raise StateError(f"凭证 {number}", "红字冲销 reversal", "再冲销 reverse")
    taken = session.execute(
        select(Voucher.id).where(Voucher.entity_id == ent.id, Voucher.reverses_id == original.id)
    ).first()
    if taken is not None:
        raise StateError(f"凭证 {number}", "已冲销 already reversed", "再冲销 reverse")
    closed = closed_periods(session, ent.id)
    when = date or (original.voucher_date if original.period not in closed else dt.date.today())
    if period_of(when) in closed:
        raise PeriodClosedError(ent.code, format_period(period_of(when)))
    if period_of(when) < ent.start_period:
        raise ValidationError(
            f"凭证 {number} 的冲销 reversal",
            f"早于建账月份 {format_period(ent.start_period)} / before the books start",
        )
    label = "注销 " + correction_label(original)
    rows = [
        (no, acc, side, -fen, label, custody)
        for no, acc, side, fen, _summary, custody in _lines_of(session, ent.id, [original.id])[
            original.id
        ]
    ]
    draft = VoucherDraft(when, (), 0)
    ids = _insert_vouchers(
        session,
        ent,
        uid,
        [(draft, _Checked(period_of(when), rows))],
        kind="reversal",
        reverses=original.id,
    )
    audit(session, ent.id, actor, "voucher.reverse", f"#{ids[0]}", {"reverses": original.id})
    return ids[0]


@command
def draft_correction(
    session: Session, entity: str, actor: str, period: int, number: int, draft: VoucherDraft
) -> int:
    """Draft the blue correcting voucher (订正) for a reversed voucher; return its id.

    Each line's 摘要 is prefixed "订正 X月X日 X号凭证".

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: no such posted voucher.
        StateError: the original has no posted reversal yet.
        ProblemsError: the correcting voucher is bad.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.DRAFT_VOUCHER)
    original = _find_posted(session, ent, period, number)
    reversed_ = session.execute(
        select(Voucher.id).where(
            Voucher.entity_id == ent.id,
            Voucher.reverses_id == original.id,
            Voucher.status == "posted",
        )
    ).first()
    if reversed_ is None:
        raise StateError(
            f"凭证 {number}", "未冲销 not reversed", "订正 correct (post its reversal first)"
        )
    prefix = "订正 " + correction_label(original)
    fixed = replace(
        draft,
        lines=tuple(replace(ln, summary=f"{prefix} {ln.summary}".strip()) for ln in draft.lines),
    )
    checked = _check_all(session, ent, [fixed])
    ids = _insert_vouchers(session, ent, uid, checked, kind="correction")
    audit(session, ent.id, actor, "voucher.correct", f"#{ids[0]}", {"corrects": original.id})
    return ids[0]


# --------------------------------------------------------------------------- machine vouchers

SYSTEM_LOGIN = "system"
"""The system user (系统) that prepares and posts the month-end machine vouchers (机制凭证)."""


@command
def post_closing_voucher(
    session: Session,
    entity: str,
    reviewer: str,
    draft: VoucherDraft | None = None,
    *,
    reverses: int | None = None,
) -> int:
    """Post a machine voucher of the month-end close (机制凭证); return its id.

    Give either ``draft``, a carry-forward (结转损益, kind ``closing``, no
    attachments) checked like any draft, or ``reverses``, the id of a posted
    closing voucher whose red reversal (kind ``reversal``, same date, lines
    negated, 摘要 "注销 X月X日 X号凭证") is posted when a month is reopened.
    The voucher is prepared and posted by the system user (``system``, added
    on demand as an operator action) and reviewed by ``reviewer``, who must
    hold the reviewer role now; numbering, hash chain, running balances and
    closed months as for every posting.  Machine vouchers never move money:
    no line may be on a cash or bank account.

    Raises:
        SegregationOfDutiesError: ``reviewer`` may not review the entity's vouchers.
        ValidationError: neither or both of ``draft`` and ``reverses``, or a custody line.
        NotFoundError: no voucher ``reverses``.
        StateError: ``reverses`` is not a posted closing voucher, or is reversed already.
        ProblemsError: the draft is bad (all listed).
        PeriodClosedError: the voucher's month is closed.
    """
    # the system user first: adding it takes the agency lock, never after an entity's lock
    system = session.execute(select(User.id).where(User.login == SYSTEM_LOGIN)).scalar_one_or_none()
    if system is None:
        system = add_user(session, SYSTEM_LOGIN, "系统")
    ent = get_entity(session, entity, lock=True)
    rev = require(session, ent, reviewer, Action.REVIEW_VOUCHER)
    if (draft is None) == (reverses is None):
        raise ValidationError("机制凭证 machine voucher", "给出 draft 或 reverses 之一 / give one")
    if draft is not None:
        accounts = accounts_of(session, ent.id)
        if any(getattr(accounts.get(ln.account), "custody", None) for ln in draft.lines):
            raise ValidationError(
                "机制凭证 machine voucher", "不得有现金或银行行 / no cash or bank line"
            )
        ((plain, checked),) = _check_all(session, ent, [replace(draft, attachments=0)])
        (vid,) = _insert_vouchers(session, ent, system, [(plain, checked)], kind="closing")
        item = _ToPost(vid, checked.period, draft.date, "closing", None, checked.rows)
    else:
        original = _load_voucher(session, ent, int(reverses or 0))
        if original.status != "posted" or original.kind != "closing":
            state = f"{original.status} {original.kind}"
            raise StateError(f"凭证 #{original.id}", state, "冲销结转凭证 reverse as closing")
        taken = select(Voucher.id).where(
            Voucher.entity_id == ent.id, Voucher.reverses_id == original.id
        )
        if session.execute(taken).first() is not None:
            raise StateError(f"凭证 #{original.id}", "已冲销 already reversed", "再冲销 reverse")
        label = "注销 " + correction_label(original)
        rows = [
            (no, acc, side, -fen, label, custody)
            for no, acc, side, fen, _s, custody in _lines_of(session, ent.id, [original.id])[
                original.id
            ]
        ]
        red = (VoucherDraft(original.voucher_date, (), 0), _Checked(original.period, rows))
        (vid,) = _insert_vouchers(
            session, ent, system, [red], kind="reversal", reverses=original.id
        )
        item = _ToPost(vid, original.period, original.voucher_date, "reversal", original.id, rows)
    session.execute(
        update(Voucher)
        .where(Voucher.entity_id == ent.id, Voucher.id == vid)
        .values(status="reviewed", reviewed_by=rev, reviewed_at=now())
    )
    _post(session, ent, system, [item])
    audit(
        session,
        ent.id,
        SYSTEM_LOGIN,
        "voucher.closing",
        f"#{vid}",
        {"reviewer": reviewer, "reverses": reverses},
    )
    return vid


# --------------------------------------------------------------------------- periods


@command
def close_period(session: Session, entity: str, actor: str, period: int) -> None:
    """Close (结账) a month: nothing can be drafted into or posted to it any more.

    This is the primitive; the month-end run with its checks comes on top of it.

    Raises:
        SegregationOfDutiesError: the actor is not a reviewer of the entity.
        StateError: unposted vouchers are dated in the month, or it is closed.
    """
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.CLOSE_PERIOD)
    if period in closed_periods(session, ent.id):
        raise StateError(f"{entity} {format_period(period)}", "已结账 closed", "结账 close")
    pending = session.execute(
        select(func.count()).where(
            Voucher.entity_id == ent.id, Voucher.period == period, Voucher.status != "posted"
        )
    ).scalar_one()
    if pending:
        raise StateError(
            f"{entity} {format_period(period)}",
            f"有 {pending} 张未记账凭证 / {pending} unposted voucher(s)",
            "结账 close",
        )
    values = {"status": "closed", "closed_by": uid, "closed_at": now()}
    exists = session.get(Period, (ent.id, period))
    if exists is None:
        session.execute(insert(Period).values(entity_id=ent.id, period=period, **values))
    else:
        session.execute(
            update(Period)
            .where(Period.entity_id == ent.id, Period.period == period)
            .values(**values)
        )
    audit(session, ent.id, actor, "period.close", format_period(period))


@command
def reopen_period(session: Session, entity: str, actor: str, period: int, reason: str) -> None:
    """Reopen (反结账) a closed month: admin only, with a reason, recorded.

    Raises:
        SegregationOfDutiesError: the actor is not an admin of the entity.
        ValidationError: no reason given.
        StateError: the month is not closed.
    """
    ent = get_entity(session, entity, lock=True)
    require(session, ent, actor, Action.REOPEN_PERIOD)
    if not reason.strip():
        raise ValidationError("反结账 reopen", "必须说明原因 / a reason is required")
    if period not in closed_periods(session, ent.id):
        raise StateError(f"{entity} {format_period(period)}", "未结账 open", "反结账 reopen")
    session.execute(
        update(Period)
        .where(Period.entity_id == ent.id, Period.period == period)
        .values(status="open", closed_by=None, closed_at=None)
    )
    audit(session, ent.id, actor, "period.reopen", format_period(period), {"reason": reason})


def is_closed(session: Session, entity: str, period: int) -> bool:
    """Return whether the entity's month is closed."""
    return period in closed_periods(session, get_entity(session, entity).id)


# --------------------------------------------------------------------------- reading


def get_voucher(session: Session, entity: str, voucher_id: int) -> VoucherView:
    """Return one voucher with its lines.

    Raises:
        NotFoundError: no such voucher.
    """
    ent = get_entity(session, entity)
    views = _views(session, ent, [_load_voucher(session, ent, voucher_id)])
    return views[0]


def list_vouchers(
    session: Session, entity: str, *, period: int | None = None, status: str | None = None
) -> list[VoucherView]:
    """Return vouchers of an entity (optionally one month or status), posted ones by number."""
    ent = get_entity(session, entity)
    q = select(Voucher).where(Voucher.entity_id == ent.id)
    if period is not None:
        q = q.where(Voucher.period == period)
    if status is not None:
        q = q.where(Voucher.status == status)
    q = q.order_by(Voucher.period, Voucher.number.is_(None), Voucher.number, Voucher.id)
    return _views(session, ent, list(session.scalars(q)))


def find_voucher(session: Session, entity: str, period: int, number: int) -> VoucherView:
    """Return the posted voucher with this number in this month.

    Raises:
        NotFoundError: none.
    """
    ent = get_entity(session, entity)
    return _views(session, ent, [_find_posted(session, ent, period, number)])[0]


def _views(session: Session, ent: EntityInfo, rows: Sequence[Voucher]) -> list[VoucherView]:
    lines = _lines_of(session, ent.id, [r.id for r in rows])
    people = {
        u
        for r in rows
        for u in (r.prepared_by, r.reviewed_by, r.posted_by, r.cashier_id)
        if u is not None
    }
    names = user_logins(session, people)
    return [
        VoucherView(
            id=r.id,
            entity=ent.code,
            date=r.voucher_date,
            period=r.period,
            word=r.word,
            number=r.number,
            status=r.status,
            kind=r.kind,
            attachments=r.attachments,
            prepared_by=names[r.prepared_by],
            reviewed_by=names.get(r.reviewed_by) if r.reviewed_by else None,
            posted_by=names.get(r.posted_by) if r.posted_by else None,
            cashier=names.get(r.cashier_id) if r.cashier_id else None,
            reverses=r.reverses_id,
            hash=r.hash,
            lines=tuple(
                LineView(no, acc, summary, side, from_fen(fen), custody)
                for no, acc, side, fen, summary, custody in lines[r.id]
            ),
        )
        for r in rows
    ]


def chain_head(session: Session, entity: str) -> tuple[int, str]:
    """Return ``(sequence, hash)`` of the entity's last posted voucher (0 and zeros if none)."""
    ent = get_entity(session, entity)
    head = session.execute(
        select(Voucher.chain_seq, Voucher.hash)
        .where(Voucher.entity_id == ent.id, Voucher.chain_seq.is_not(None))
        .order_by(Voucher.chain_seq.desc())
        .limit(1)
    ).first()
    return (int(head[0] or 0), str(head[1])) if head else (0, GENESIS_HASH)


__all__ = [
    "PairDraft",
    "add_account",
    "chain_head",
    "close_period",
    "deactivate_account",
    "delete_account",
    "delete_voucher",
    "draft_correction",
    "draft_pairs",
    "draft_voucher",
    "draft_vouchers",
    "edit_voucher",
    "find_voucher",
    "get_voucher",
    "is_closed",
    "list_vouchers",
    "opening_difference",
    "post_bulk",
    "post_closing_voucher",
    "post_vouchers",
    "reopen_period",
    "reverse_voucher",
    "review_vouchers",
    "set_opening",
    "unreview_voucher",
]
