"""Custody links (钱账分离): which cashier's journal entry backs a cash or bank line.

A line on a cash or bank account must name (or be matched to) the cashier's
journal entry of the same entity, account, amount and direction, and an entry
backs at most one voucher; :class:`_CustodyLinker` finds and checks them for a
batch of drafts with a few queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Connection, text

from juzhang.core.period import period_of, period_range
from juzhang.core.voucher import (
    Line,
)
from juzhang.money import format_amount, from_fen
from juzhang.storage.access import (
    EntityInfo,
)


class _CustodyLinker:
    """Finds and checks the custody entries that back custody-account lines."""

    def __init__(self, session: Connection, ent: EntityInfo, exclude_voucher: int | None) -> None:
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
            return self.check_explicit(line.custody_entry, line.account, signed)
        days = self.ent.link_window_days
        window = dt.timedelta(days=days)
        d0, d1 = date - window, date + window
        # the window's months, then the amount: ix_custody_entry_period
        # (entity, account, month, amount) finds the entries of the amount;
        # the date filtered only (coalesce), or SQLite walks the window's
        # entries through the date index (as statements.matching says)
        months = ", ".join(str(int(p)) for p in period_range(period_of(d0), period_of(d1)))
        rows = self.session.execute(
            text(
                "SELECT c.id, c.entry_date FROM custody_entry c"
                f" WHERE c.entity_id = :e AND c.account_code = :a AND c.period IN ({months})"
                " AND c.amount_fen = :f"
                " AND COALESCE(c.entry_date, c.entry_date) BETWEEN :d0 AND :d1"
                " AND NOT (" + self._unavailable_sql() + ")"
            ),
            {
                "e": self.ent.id,
                "a": line.account,
                "f": signed,
                "d0": d0,
                "d1": d1,
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
                f"（±{days}天）/ no unlinked custody entry of this account, amount and"
                f" direction within {days} days: the cashier must record it first"
            )
        if len(candidates) > 1 and candidates[0][0] == candidates[1][0]:
            ids = ", ".join(f"#{c[1]}" for c in candidates if c[0] == candidates[0][0])
            return None, (
                f"{line.account} {direction} {amount}: 有多笔日记账同样接近 ({ids})，请指定"
                f" / several custody entries fit equally well ({ids}): name one"
            )
        self.taken.add(candidates[0][1])
        return candidates[0][1], None

    def prefetch(self, entry_ids: Iterable[int], *, unused: bool = False) -> None:
        """Load the named custody entries in a few queries (for many lines at once).

        An entry is *used* when posted lines net to a non-zero amount on it or
        an unposted voucher other than the one being edited names it (as in
        :meth:`_unavailable_sql`), counted here with one grouped query per
        chunk instead of two subqueries per entry.  ``unused``: the caller has
        just read that no voucher uses these entries (statement drafting's
        ``_usage``, the same rule), and that query is not asked again.
        """
        wanted = sorted({i for i in entry_ids if i not in self.known})
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            ids = ", ".join(str(int(i)) for i in chunk)
            used = {} if unused else self._used(ids)
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

    def _used(self, ids: str) -> dict[int, bool]:
        """``{entry id: used}`` of the entries ``ids`` (a comma-separated list) that lines name."""
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
        return used

    def check_explicit(
        self, entry_id: int, account: str, signed: int
    ) -> tuple[int | None, str | None]:
        """Check a line that names its custody entry; return (entry id, problem or None)."""
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
