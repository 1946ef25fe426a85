"""Matching statement lines to the cashier's journal (钱账分离: 匹配出纳日记账).

A line is matched to an entry of the same account and signed amount, dated
within the window, with the same counterparty where both name one (one
containing the other counts), not yet matched to another line: an entry
matches one line only.  Among several, a counterparty match, then the
nearest date, then the lowest id wins.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence, Set
from functools import lru_cache

from sqlalchemy import Connection, exists, func, select

from juzhang.core.period import period_of, period_range
from juzhang.statements.model import Item, LineStatus, chunks, one_of
from juzhang.storage.schema import CustodyEntry, StatementLine


@lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _counterparty_fit(line: str, entry: str) -> int | None:
    """0: both name the same counterparty; 1: one names none; None: they differ."""
    if not line or not entry:
        return 1
    return 0 if line in entry or entry in line else None


def match_entries(
    session: Connection,
    entity_id: int,
    account: str,
    window_days: int,
    items: Sequence[Item],
    taken: set[int] | None = None,
) -> None:
    """Give each item the cashier's entry of ``account`` that records it, where there is one.

    ``taken``: entries matched earlier in the step whose links are still
    being written; they are not matched again, and this chunk's are added.
    """
    wanted = [i for i in items if i.status is not LineStatus.BEFORE_START and i.entry is None]
    found = match_movements(
        session,
        entity_id,
        account,
        window_days,
        [(i.fen, i.date, i.facts.counterparty) for i in wanted],
        frozenset() if taken is None else taken,
    )
    for item, entry in zip(wanted, found, strict=True):
        if entry is not None:
            item.entry = entry
            if taken is not None:
                taken.add(entry)


def match_movements(
    session: Connection,
    entity_id: int,
    account: str,
    window_days: int,
    wanted: Sequence[tuple[int, dt.date, str]],
    taken: Set[int] = frozenset(),
) -> list[int | None]:
    """Return for each movement ``(signed fen, date, counterparty)`` the entry that records it.

    :func:`match_entries` for movements given as plain tuples, in order
    (an entry goes to the first movement it fits best); ``None`` where the
    journal has no such entry.  Accepting statement lines calls it with the
    stored lines' values, without building an item per line, and with the
    entries it matched to lines whose links are still being written
    (``taken``: not matched again).
    """
    out: list[int | None] = [None] * len(wanted)
    if not wanted:
        return out
    window = dt.timedelta(days=window_days)
    linked = exists().where(
        StatementLine.entity_id == CustodyEntry.entity_id,
        StatementLine.custody_entry_id == CustodyEntry.id,
    )
    pool: dict[int, list[tuple[dt.date, int, str]]] = {}
    amounts = sorted({fen for fen, _date, _who in wanted})
    low = min(date for _fen, date, _who in wanted) - window
    high = max(date for _fen, date, _who in wanted) + window
    months = period_range(period_of(low), period_of(high))
    for part in chunks(amounts, 900):
        rows = session.execute(
            select(
                CustodyEntry.id,
                CustodyEntry.entry_date,
                CustodyEntry.amount_fen,
                CustodyEntry.counterparty,
            ).where(
                CustodyEntry.entity_id == entity_id,
                CustodyEntry.account_code == account,
                # the months of the window, then the amounts: each pair one
                # descent of ix_custody_entry_period (entity, account, month,
                # amount), which finds the few entries of each amount (there
                # is no index on the amount alone: migration 0025)
                one_of(session, CustodyEntry.period, months),
                one_of(session, CustodyEntry.amount_fen, part),
                # coalesce(d, d): filter on the date, but never through the date
                # index: for a chunk's span of dates that index reads most of a
                # month's entries, and the planners chose it as the journal grew
                # (1,000,000 rows: 15 s of 100 s per 300,000)
                func.coalesce(CustodyEntry.entry_date, CustodyEntry.entry_date).between(low, high),
                ~linked,
            )
        )
        for entry_id, day, fen, counterparty in rows:
            if entry_id in taken:
                continue
            pool.setdefault(int(fen), []).append((day, int(entry_id), _fold(counterparty)))
    if not pool:
        return out
    for n, (fen, date, counterparty) in enumerate(wanted):
        candidates = pool.get(fen)
        if not candidates:
            continue
        mine = _fold(counterparty)
        best: tuple[int, int, int] | None = None
        for day, entry_id, theirs in candidates:
            days = abs((day - date).days)
            fit = _counterparty_fit(mine, theirs)
            if days > window_days or fit is None:
                continue
            rank = (fit, days, entry_id)
            if best is None or rank < best:
                best = rank
        if best is not None:
            out[n] = best[2]
            candidates[:] = [c for c in candidates if c[1] != best[2]]
    return out
