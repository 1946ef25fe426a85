"""The bank reconciliation as it was before issue 18: every line and entry up to the month end.

Kept as a reference for :mod:`tests.reports.test_reconciliation_history`:
:func:`juzhang.reports.reconciliation.bank_reconciliation` now reads only the
month and what is still open before it, and must answer exactly what this
straightforward reading of the whole history answers.  Verbatim from
``src/juzhang/reports/reconciliation.py`` at ``80c44cc`` (docstrings trimmed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, select

from juzhang import clock
from juzhang.core.period import first_day, last_day, next_period
from juzhang.errors import NotFoundError, ValidationError
from juzhang.money import from_fen
from juzhang.reports.ledger import read_balances
from juzhang.reports.reconciliation import (
    CATEGORIES,
    AccountReconciliation,
    BankReconciliation,
    FallbackMatch,
    OutstandingGroup,
    OutstandingItem,
    end_of_day_balance,
)
from juzhang.storage.access import accounts_of, get_entity
from juzhang.storage.schema import BankAccount, CustodyEntry, StatementLine

_LABELS = {key: label for key, label, _side in CATEGORIES}


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class _Line:
    """A statement line as the reconciliation needs it (amount signed: in +, out −)."""

    id: int
    date: dt.date
    time: str
    batch: int
    row_no: int
    fen: int
    balance: int | None
    summary: str
    counterparty: str
    reference: str
    entry: int | None


@dataclass(frozen=True, slots=True)
class _Entry:
    """A custody entry (amount signed: in +, out −)."""

    id: int
    date: dt.date
    fen: int
    summary: str
    counterparty: str
    reference: str


def _statement_lines(session: Connection, entity_id: int, code: str, end: dt.date) -> list[_Line]:
    rows = session.execute(
        select(
            StatementLine.id,
            StatementLine.txn_date,
            StatementLine.txn_time,
            StatementLine.batch_id,
            StatementLine.row_no,
            StatementLine.in_fen,
            StatementLine.out_fen,
            StatementLine.balance_fen,
            StatementLine.summary,
            StatementLine.purpose,
            StatementLine.remark,
            StatementLine.counterparty,
            StatementLine.serial,
            StatementLine.custody_entry_id,
        ).where(
            StatementLine.entity_id == entity_id,
            StatementLine.account_code == code,
            StatementLine.txn_date <= end,
        )
    )
    out = []
    for (
        line_id,
        date,
        time,
        batch,
        row_no,
        in_fen,
        out_fen,
        balance,
        summary,
        purpose,
        remark,
        counterparty,
        serial,
        entry,
    ) in rows:
        parts = [t.strip() for t in (summary, purpose, remark) if t and t.strip()]
        text = " ".join(dict.fromkeys(parts))  # 摘要 用途 附言, each once
        out.append(
            _Line(
                id=int(line_id),
                date=date,
                time=time or "",
                batch=int(batch),
                row_no=int(row_no),
                fen=int(in_fen) - int(out_fen),
                balance=None if balance is None else int(balance),
                summary=text,
                counterparty=counterparty or "",
                reference=serial or "",
                entry=None if entry is None else int(entry),
            )
        )
    out.sort(key=lambda ln: (ln.date, ln.time, ln.batch, ln.row_no, ln.id))
    return out


def _entries(session: Connection, entity_id: int, code: str, end: dt.date) -> list[_Entry]:
    rows = session.execute(
        select(
            CustodyEntry.id,
            CustodyEntry.entry_date,
            CustodyEntry.amount_fen,
            CustodyEntry.summary,
            CustodyEntry.counterparty,
            CustodyEntry.reference,
        )
        .where(
            CustodyEntry.entity_id == entity_id,
            CustodyEntry.account_code == code,
            CustodyEntry.entry_date <= end,
        )
        .order_by(CustodyEntry.entry_date, CustodyEntry.id)
    )
    return [_Entry(int(i), d, int(f), s, c or "", r or "") for i, d, f, s, c, r in rows]


# --------------------------------------------------------------------------- statement balance


def _statement_balance(
    lines: Sequence[_Line], opening: int, books_start: dt.date
) -> tuple[int, str, dt.date | None]:
    """Return (balance, basis, date of the last line) at the end of the lines."""
    if not lines:
        return opening, "opening", None
    last_date = lines[-1].date
    by_day: dict[dt.date, list[tuple[int, int]]] = {}
    for ln in lines:
        if ln.balance is not None:
            by_day.setdefault(ln.date, []).append((ln.fen, ln.balance))
    if not by_day:
        moved = sum(ln.fen for ln in lines if ln.date >= books_start)
        return opening + moved, "movements", last_date
    end: int | None = None
    for date in sorted(by_day):
        end = end_of_day_balance(by_day[date], end)
    assert end is not None
    anchor = max(by_day)
    return end + sum(ln.fen for ln in lines if ln.date > anchor), "balance", last_date


# --------------------------------------------------------------------------- matching


def _fallback(
    lines: Iterable[_Line], entries: Iterable[_Entry], window: int
) -> list[tuple[_Line, _Entry]]:
    """Pair unlinked lines and entries by amount, direction and date window (closest first)."""
    by_amount: dict[int, list[_Entry]] = {}
    for e in entries:
        by_amount.setdefault(e.fen, []).append(e)
    candidates = []
    for ln in lines:
        for e in by_amount.get(ln.fen, ()):
            gap = abs((ln.date - e.date).days)
            if gap <= window:
                candidates.append((gap, min(ln.date, e.date), ln.id, e.id, ln, e))
    candidates.sort(key=lambda c: c[:4])
    used_lines: set[int] = set()
    used_entries: set[int] = set()
    pairs = []
    for _gap, _date, line_id, entry_id, ln, e in candidates:
        if line_id in used_lines or entry_id in used_entries:
            continue
        used_lines.add(line_id)
        used_entries.add(entry_id)
        pairs.append((ln, e))
    return pairs


def _group(key: str, items: Iterable[OutstandingItem]) -> OutstandingGroup:
    return OutstandingGroup(key, _LABELS[key], tuple(sorted(items, key=lambda i: (i.date, i.id))))


def _line_item(ln: _Line) -> OutstandingItem:
    return OutstandingItem(
        "statement",
        ln.id,
        ln.date,
        ln.summary,
        ln.counterparty,
        ln.reference,
        from_fen(abs(ln.fen)),
    )


def _entry_item(e: _Entry) -> OutstandingItem:
    return OutstandingItem(
        "journal", e.id, e.date, e.summary, e.counterparty, e.reference, from_fen(abs(e.fen))
    )


def _reconcile(
    code: str,
    name: str,
    opening: int,
    ledger: int,
    lines: list[_Line],
    entries: list[_Entry],
    linked_later: set[int],
    window: int,
    books_start: dt.date,
) -> AccountReconciliation:
    """Reconcile one account: ``linked_later`` holds entries linked to lines after the end.

    Lines dated before ``books_start`` are already in the opening balance:
    they count for the statement's balance only.
    """
    statement, basis, last_date = _statement_balance(lines, opening, books_start)
    lines = [ln for ln in lines if ln.date >= books_start]
    entry_ids = {e.id for e in entries}
    matched_lines = {ln.id for ln in lines if ln.entry is not None and ln.entry in entry_ids}
    matched_entries = {ln.entry for ln in lines if ln.id in matched_lines}
    # a linked pair is never re-matched, even when one side is dated after the month end
    free_lines = [ln for ln in lines if ln.entry is None]
    free_entries = [e for e in entries if e.id not in matched_entries and e.id not in linked_later]
    pairs = _fallback(free_lines, free_entries, window)
    matched_lines.update(ln.id for ln, _e in pairs)
    matched_entries.update(e.id for _ln, e in pairs)
    open_lines = [ln for ln in lines if ln.id not in matched_lines]
    open_entries = [e for e in entries if e.id not in matched_entries]
    return AccountReconciliation(
        code=code,
        name=name,
        journal_balance=from_fen(opening + sum(e.fen for e in entries)),
        ledger_balance=from_fen(ledger),
        statement_balance=from_fen(statement),
        statement_basis=basis,
        statement_date=last_date,
        has_statement=last_date is not None,
        bank_in_not_booked=_group(
            "bank_in_not_booked", (_line_item(ln) for ln in open_lines if ln.fen > 0)
        ),
        bank_out_not_booked=_group(
            "bank_out_not_booked", (_line_item(ln) for ln in open_lines if ln.fen < 0)
        ),
        booked_in_not_bank=_group(
            "booked_in_not_bank", (_entry_item(e) for e in open_entries if e.fen > 0)
        ),
        booked_out_not_bank=_group(
            "booked_out_not_bank", (_entry_item(e) for e in open_entries if e.fen < 0)
        ),
        linked_matches=len(matched_lines) - len(pairs),
        fallback_matches=tuple(
            FallbackMatch(ln.id, e.id, ln.date, e.date, from_fen(abs(ln.fen))) for ln, e in pairs
        ),
    )


# --------------------------------------------------------------------------- entry point


def reference_reconciliation(
    session: Connection,
    entity: str,
    period: int,
    *,
    account: str | None = None,
    window_days: int | None = None,
) -> BankReconciliation:
    """Compute the bank reconciliation statement (银行存款余额调节表) at ``period``'s end.

    One statement per bank account (leaf accounts with custody ``bank``), or
    only ``account``.  ``window_days`` is the fallback matching window
    (default: the entity's ``link_window_days``).  Reads only; writes nothing.

    Raises:
        NotFoundError: unknown entity, or ``account`` is not one of its bank accounts.
        ValidationError: ``window_days`` is negative, or ``period`` is before
            the books start or after the current month.
    """
    ent = get_entity(session, entity)
    clock.require_report_months(ent.code, ent.start_period, period, period)
    window = ent.link_window_days if window_days is None else window_days
    if window < 0:
        raise ValidationError(f"匹配天数 window {window}", "不能为负 / cannot be negative")
    accounts = accounts_of(session, ent.id)
    banks = sorted(
        (a for a in accounts.values() if a.custody == "bank" and a.leaf), key=lambda a: a.code
    )
    if account is not None:
        banks = [a for a in banks if a.code == account]
        if not banks:
            raise NotFoundError("银行存款科目 bank account", f"{entity} {account}")
    end = last_day(period)
    codes = [a.code for a in banks]
    balances = read_balances(session, ent.id, period, codes)
    after = next_period(period)
    numbers = {
        str(code): (str(number), str(bank or ""))
        for code, number, bank in session.execute(
            select(BankAccount.account_code, BankAccount.number, BankAccount.bank).where(
                BankAccount.entity_id == ent.id
            )
        )
    }
    results = []
    for acc in banks:
        lines = _statement_lines(session, ent.id, acc.code, end)
        entries = _entries(session, ent.id, acc.code, end)
        later = _entries_linked_later(session, ent.id, acc.code, end)
        results.append(
            _reconcile(
                acc.code,
                acc.name,
                balances.opening.get(acc.code, 0),
                balances.balance_before([acc.code], after),
                lines,
                entries,
                later,
                window,
                first_day(ent.start_period),
            )
        )
        if acc.code in numbers:
            number, bank = numbers[acc.code]
            results[-1] = replace(results[-1], bank_number=number, bank_name=bank)
    return BankReconciliation(ent.code, ent.name, period, end, window, tuple(results))


def _entries_linked_later(session: Connection, entity_id: int, code: str, end: dt.date) -> set[int]:
    """Ids of custody entries linked to a statement line dated after ``end``."""
    rows = session.execute(
        select(StatementLine.custody_entry_id).where(
            StatementLine.entity_id == entity_id,
            StatementLine.account_code == code,
            StatementLine.txn_date > end,
            StatementLine.custody_entry_id.is_not(None),
        )
    )
    return {int(r) for (r,) in rows if r is not None}
