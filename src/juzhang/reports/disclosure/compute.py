"""Computing the public disclosure from the posted books (读取账簿): :func:`disclosure`.

The posted lines of the period, closing vouchers left out; who handled each
(the claim's 经手人, else the cashier); the configured categories, funds,
special sections, debts and budget; the signature block and the hash-chain
head the fingerprint ties the table to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, and_, select

from juzhang import clock
from juzhang.books import chain_head
from juzhang.budget import budget_plan
from juzhang.core.period import format_period, last_day, next_period, period_of, period_range
from juzhang.core.types import Side, VoucherStatus
from juzhang.disclosure_config import (
    Category,
    DisclosureConfig,
    SectionConfig,
    check_config,
    longest_prefix,
    resolve_config,
    stored_config,
)
from juzhang.errors import ValidationError
from juzhang.money import from_fen
from juzhang.question import board_questions
from juzhang.reports.disclosure.report import (
    Disclosure,
    period_title,
)
from juzhang.reports.disclosure.rows import (
    KIND_ZH,
    UNCATEGORISED,
    ZERO,
    BudgetRow,
    CategoryRow,
    DebtRow,
    DisclosureItem,
    FundRow,
    QuestionRow,
    SectionReport,
    SectionRow,
    SignatureBlock,
)
from juzhang.reports.ledger import Balances, read_balances, year_start
from juzhang.storage.access import (
    AccountInfo,
    EntityInfo,
    accounts_of,
    closed_periods,
    get_entity,
)
from juzhang.storage.schema import Claim, RoleGrant, User, Voucher, VoucherLine
from juzhang.storage.schema import Disclosure as DisclosureRow


@dataclass(frozen=True, slots=True)
class _PostedLine:
    voucher_id: int
    period: int
    date: dt.date
    voucher: str
    kind: str
    cashier: int | None
    line_no: int
    account: str
    summary: str
    side: str
    amount: int  # as posted: negative on red lines

    @property
    def signed(self) -> int:
        """The amount debit positive (a red debit counts negative)."""
        return self.amount if self.side == Side.DEBIT else -self.amount


def _posted_lines(
    session: Connection, entity_id: int, codes: Iterable[str], first: int, last: int
) -> list[_PostedLine]:
    """Posted lines on ``codes`` in ``first..last``, closing vouchers left out, in book order."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    rows = session.execute(
        select(
            Voucher.id,
            Voucher.period,
            Voucher.voucher_date,
            Voucher.word,
            Voucher.number,
            Voucher.kind,
            Voucher.cashier_id,
            VoucherLine.line_no,
            VoucherLine.account_code,
            VoucherLine.summary,
            VoucherLine.side,
            VoucherLine.amount_fen,
        )
        .join(
            VoucherLine,
            and_(VoucherLine.entity_id == Voucher.entity_id, VoucherLine.voucher_id == Voucher.id),
        )
        .where(
            Voucher.entity_id == entity_id,
            Voucher.status == VoucherStatus.POSTED,
            Voucher.kind != "closing",
            Voucher.period >= first,
            Voucher.period <= last,
            VoucherLine.account_code.in_(wanted),
        )
        .order_by(Voucher.period, Voucher.number, VoucherLine.line_no)
    )
    return [
        _PostedLine(
            int(vid),
            int(period),
            date,
            f"{word}-{int(number or 0):04d}",
            kind,
            None if cashier is None else int(cashier),
            int(line_no),
            code,
            summary,
            side,
            int(fen),
        )
        for (vid, period, date, word, number, kind, cashier, line_no, code, summary, side, fen) in (
            rows
        )
    ]


def _closing_moves(
    session: Connection, entity_id: int, first: int, last: int
) -> dict[str, dict[int, tuple[int, int]]]:
    """(debit, credit) of posted closing vouchers (结转) per account and month."""
    rows = session.execute(
        select(Voucher.period, VoucherLine.account_code, VoucherLine.side, VoucherLine.amount_fen)
        .join(
            VoucherLine,
            and_(VoucherLine.entity_id == Voucher.entity_id, VoucherLine.voucher_id == Voucher.id),
        )
        .where(
            Voucher.entity_id == entity_id,
            Voucher.status == VoucherStatus.POSTED,
            Voucher.kind == "closing",
            Voucher.period >= first,
            Voucher.period <= last,
        )
    )
    out: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    for period, code, side, fen in rows:
        d, c = out[code].get(int(period), (0, 0))
        out[code][int(period)] = (d + int(fen), c) if side == Side.DEBIT else (d, c + int(fen))
    return out


@dataclass(frozen=True, slots=True)
class _Books:
    """What the report reads once: accounts, balances, closing moves."""

    ent: EntityInfo
    accounts: Mapping[str, AccountInfo]
    balances: Balances
    closing: Mapping[str, Mapping[int, tuple[int, int]]]

    def net(self, codes: Sequence[str], first: int, last: int) -> tuple[int, int]:
        """(debit, credit) of ``codes`` over ``first..last`` without closing vouchers."""
        debit, credit = self.balances.flows(codes, first, last)
        for code in codes:
            for p, (cd, cc) in self.closing.get(code, {}).items():
                if first <= p <= last:
                    debit -= cd
                    credit -= cc
        return debit, credit

    def leaves(self, prefixes: Iterable[str]) -> list[str]:
        """Leaf codes under any of ``prefixes``."""
        pre = tuple(prefixes)
        return sorted(
            a.code for a in self.accounts.values() if a.leaf and pre and a.code.startswith(pre)
        )


def _category_of(code: str, categories: Sequence[Category], fallback: str) -> str:
    best, name = 0, fallback
    for c in categories:
        n = longest_prefix(code, c.accounts)
        if n > best:
            best, name = n, c.name
    return name


def _handlers(
    session: Connection, entity_id: int, lines: Sequence[_PostedLine]
) -> dict[tuple[int, int], str]:
    """经办人 per (voucher id, line no): the claim's 经手人, else the recording cashier."""
    ids = sorted({ln.voucher_id for ln in lines})
    claims: dict[int, list[tuple[str | None, int, str]]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for vid, code, fen, handler in session.execute(
            select(Claim.voucher_id, Claim.account_code, Claim.amount_fen, Claim.handler).where(
                Claim.entity_id == entity_id, Claim.voucher_id.in_(chunk)
            )
        ):
            if vid is not None and handler:
                claims[int(vid)].append((code, int(fen), handler.strip()))
    cashier_ids = {ln.cashier for ln in lines if ln.cashier is not None}
    names = (
        dict(session.execute(select(User.id, User.name).where(User.id.in_(cashier_ids))).all())
        if cashier_ids
        else {}
    )
    out: dict[tuple[int, int], str] = {}
    for ln in lines:
        found = claims.get(ln.voucher_id, [])
        exact = [h for code, fen, h in found if code == ln.account and fen == abs(ln.signed)]
        handlers = exact or sorted({h for _c, _f, h in found})
        if handlers:
            out[(ln.voucher_id, ln.line_no)] = "、".join(dict.fromkeys(handlers))
        elif ln.cashier is not None:
            out[(ln.voucher_id, ln.line_no)] = str(names.get(ln.cashier, ""))
    return out


def _items(
    session: Connection,
    books: _Books,
    config: DisclosureConfig,
    first: int,
    last: int,
    budget_names: Mapping[str, str],
) -> tuple[DisclosureItem, ...]:
    kinds = {
        a.code: a.category
        for a in books.accounts.values()
        if a.leaf and a.category in ("income", "expense")
    }
    lines = _posted_lines(session, books.ent.id, kinds, first, last)
    handlers = _handlers(session, books.ent.id, lines)
    items = []
    for no, ln in enumerate(lines, 1):
        kind = kinds[ln.account]
        category = _category_of(
            ln.account,
            (config.income if kind == "income" else config.expense) or (),
            UNCATEGORISED[kind],
        )
        remark = [KIND_ZH[ln.kind]] if ln.kind in KIND_ZH else []
        if ln.account in budget_names:
            remark.append(f"预算：{budget_names[ln.account]}")
        amount = from_fen(-ln.signed if kind == "income" else ln.signed)
        items.append(
            DisclosureItem(
                no=no,
                period=ln.period,
                date=ln.date,
                voucher=ln.voucher,
                line_no=ln.line_no,
                account=ln.account,
                account_name=books.accounts[ln.account].name,
                summary=ln.summary,
                income=amount if kind == "income" else None,
                expense=amount if kind == "expense" else None,
                handler=handlers.get((ln.voucher_id, ln.line_no), ""),
                remark="；".join(remark),
                category=category,
            )
        )
    return tuple(items)


def _categories(
    books: _Books,
    config: DisclosureConfig,
    items: Sequence[DisclosureItem],
    first: int,
    last: int,
    year_first: int,
) -> tuple[tuple[CategoryRow, ...], tuple[CategoryRow, ...]]:
    out = []
    for kind, configured in (("income", config.income or ()), ("expense", config.expense or ())):
        names = [c.name for c in configured]
        current: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for i in items:
            value = i.income if kind == "income" else i.expense
            if value is not None:
                current[i.category] += value
        ytd_fen: dict[str, int] = defaultdict(int)
        for a in books.accounts.values():
            if not a.leaf or a.category != kind:
                continue
            debit, credit = books.net([a.code], year_first, last)
            name = _category_of(a.code, configured, UNCATEGORISED[kind])
            ytd_fen[name] += credit - debit if kind == "income" else debit - credit
        if any(v for k, v in ytd_fen.items() if k not in names) or UNCATEGORISED[kind] in current:
            names.append(UNCATEGORISED[kind])
        out.append(
            tuple(
                CategoryRow(kind, name, current[name], from_fen(ytd_fen.get(name, 0)))
                for name in names
            )
        )
    return out[0], out[1]


def _funds(books: _Books, first: int, last: int, year_first: int) -> tuple[FundRow, ...]:
    rows = []
    for kind, name in (("cash", "现金"), ("bank", "银行存款")):
        codes = sorted(a.code for a in books.accounts.values() if a.leaf and a.custody == kind)
        b = books.balances
        d, c = b.flows(codes, first, last)
        yd, yc = b.flows(codes, year_first, last)
        rows.append(
            FundRow(
                kind,
                name,
                from_fen(b.balance_before(codes, first)),
                from_fen(d),
                from_fen(c),
                from_fen(b.balance_before(codes, year_first)),
                from_fen(yd),
                from_fen(yc),
            )
        )
    return tuple(rows)


def _sections(
    session: Connection,
    books: _Books,
    config: DisclosureConfig,
    first: int,
    last: int,
    year_first: int,
) -> tuple[SectionReport, ...]:
    out = []
    for s in config.sections or ():
        out.append(_section(session, books, s, first, last, year_first))
    return tuple(out)


def _section(
    session: Connection,
    books: _Books,
    s: SectionConfig,
    first: int,
    last: int,
    year_first: int,
) -> SectionReport:
    codes = books.leaves(s.accounts)
    rows = tuple(
        SectionRow(
            ln.period,
            ln.date,
            ln.voucher,
            ln.line_no,
            ln.account,
            books.accounts[ln.account].name,
            ln.summary,
            from_fen(ln.amount) if ln.side == Side.DEBIT else None,
            from_fen(ln.amount) if ln.side == Side.CREDIT else None,
        )
        for ln in _posted_lines(session, books.ent.id, codes, first, last)
        if (ln.side == Side.DEBIT and s.debit) or (ln.side == Side.CREDIT and s.credit)
    )
    ytd_debit, ytd_credit = books.net(codes, year_first, last)
    opening = closing = None
    if s.balance:
        credit_side = bool(codes) and all(
            books.accounts[c].side == "credit" or books.accounts[c].category == "liability"
            for c in codes
        )
        sign = -1 if credit_side else 1
        opening = from_fen(sign * books.balances.balance_before(codes, first))
        closing = from_fen(sign * books.balances.balance_before(codes, next_period(last)))
    return SectionReport(
        key=s.key,
        title=s.title,
        debit_label=s.debit,
        credit_label=s.credit,
        accounts=s.accounts,
        rows=rows,
        ytd_debit=from_fen(ytd_debit) if s.debit else ZERO,
        ytd_credit=from_fen(ytd_credit) if s.credit else ZERO,
        opening=opening,
        closing=closing,
    )


def _debts(
    books: _Books, prefixes: Sequence[str], group: str, first: int, last: int
) -> tuple[DebtRow, ...]:
    sign = 1 if group == "receivables" else -1
    rows = []
    for code in books.leaves(prefixes):
        opening = sign * books.balances.balance_before([code], first)
        d, c = books.balances.flows([code], first, last)
        increase, decrease = (d, c) if sign == 1 else (c, d)
        if opening == 0 and d == 0 and c == 0:
            continue
        rows.append(
            DebtRow(
                group,
                code,
                _full_name(books.accounts, code),
                from_fen(opening),
                from_fen(increase),
                from_fen(decrease),
            )
        )
    return tuple(rows)


def _full_name(accounts: Mapping[str, AccountInfo], code: str) -> str:
    """``应付款—应付绿化养护费`` for a detail account."""
    parts = []
    current: str | None = code
    while current is not None:
        parts.append(accounts[current].name)
        current = accounts[current].parent
    return "—".join(reversed(parts))


def _budget(
    session: Connection,
    books: _Books,
    first: int,
    last: int,
    year_first: int,
    as_of: dt.datetime | None,
) -> tuple[tuple[BudgetRow, ...], dict[str, str]]:
    """The budget rows: the budget in force ``as_of`` (a published board's generation time)."""
    lines = budget_plan(session, books.ent.code, last // 100, as_of=as_of)
    rows = []
    names: dict[str, str] = {}
    best: dict[str, int] = {}
    for no, b in enumerate(lines, 1):
        codes = books.leaves(b.accounts)
        sign = 1 if b.kind == "expense" else -1
        d, c = books.net(codes, first, last)
        yd, yc = books.net(codes, year_first, last)
        rows.append(
            BudgetRow(
                no,
                b.name,
                b.kind,
                b.adjusted,
                from_fen(sign * (d - c)),
                from_fen(sign * (yd - yc)),
                b.initial,
            )
        )
        for code in codes:
            n = longest_prefix(code, b.accounts)
            if n > best.get(code, 0):
                best[code], names[code] = n, b.name
    return tuple(rows), names


def _people(session: Connection, entity_id: int, role: str) -> list[str]:
    rows = session.execute(
        select(User.name)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            RoleGrant.entity_id == entity_id,
            RoleGrant.role == role,
            RoleGrant.revoked_at.is_(None),
        )
        .order_by(User.name)
    )
    return [str(n) for (n,) in rows]


def _signatures(
    session: Connection, ent: EntityInfo, config: DisclosureConfig, row: Row[Any] | None
) -> SignatureBlock:
    sig = config.signatures
    group = sig.group or tuple(_people(session, ent.id, "supervisor"))
    return SignatureBlock(
        secretary=sig.secretary,
        director=sig.director,
        cashier=sig.cashier or "、".join(_people(session, ent.id, "cashier")),
        bookkeeper=sig.bookkeeper or "、".join(_people(session, ent.id, "bookkeeper")),
        group=tuple(group),
        opinion=row.opinion if row is not None and row.signed_on is not None else "",
        signer=row.signer_name if row is not None and row.signed_on is not None else "",
        signed_on=row.signed_on if row is not None else None,
        status=row.status if row is not None else "",
    )


def _add_months(date: dt.date, months: int) -> dt.date:
    p = period_of(date)
    for _ in range(months):
        p = next_period(p)
    return dt.date(p // 100, p % 100, date.day)


def _check_range(first: int, last: int) -> None:
    if last < first:
        raise ValidationError(
            f"期间 period {format_period(first)}..{format_period(last)}",
            "结束早于开始 / range runs backwards",
        )
    if first // 100 != last // 100:
        raise ValidationError(
            f"期间 period {format_period(first)}..{format_period(last)}",
            "公开期间不能跨年 / a disclosure covers months of one year",
        )


def disclosure(
    session: Connection,
    entity: str,
    first: int,
    last: int | None = None,
    *,
    config: DisclosureConfig | None = None,
    posted_on: dt.date | None = None,
    posted_until: dt.date | None = None,
) -> Disclosure:
    """Compute the public disclosure (财务公开表) of ``entity`` for ``first..last``.

    ``config`` defaults to the entity's stored configuration
    (:func:`juzhang.disclosure_config.stored_config`, set by ``juzhang
    disclosure config set``), else :func:`juzhang.disclosure_config.default_config`;
    parts a configuration leaves out are taken from that default.
    ``posted_on`` defaults to the recorded disclosure's date, else the
    config's ``post_by_day`` of the month after ``last``; ``posted_until`` to
    the recorded date, else the day before the next disclosure goes up
    (``posted_on`` plus as many months as the disclosure covers, less a day).

    Raises:
        NotFoundError: unknown entity.
        ValidationError: the range runs backwards or crosses a year, or is
            before the books start or after the current month.
        ProblemsError: the configuration does not fit the entity.
    """
    last = first if last is None else last
    _check_range(first, last)
    ent = get_entity(session, entity)
    clock.require_report_months(ent.code, ent.start_period, first, last)
    accounts = accounts_of(session, ent.id)
    if config is None:
        config = stored_config(session, ent.code) or DisclosureConfig(ent.chart)
    config = resolve_config(config, ent.chart, accounts)
    check_config(config, ent.chart, accounts)
    year_first = year_start(last, ent.start_period)
    earliest = min(first, year_first)
    books = _Books(
        ent,
        accounts,
        read_balances(session, ent.id, last),
        _closing_moves(session, ent.id, earliest, last),
    )
    row = session.execute(
        select(DisclosureRow).where(
            DisclosureRow.entity_id == ent.id,
            DisclosureRow.first_period == first,
            DisclosureRow.last_period == last,
        )
    ).one_or_none()
    # A published board keeps the budget it was published with: a later
    # adjustment is a new version, dated after the board was generated.
    as_of = row.generated_at if row is not None and row.status != "draft" else None
    budget, budget_names = _budget(session, books, first, last, year_first, as_of)
    items = _items(session, books, config, first, last, budget_names)
    income, expense = _categories(books, config, items, first, last, year_first)
    after = next_period(last)
    default_post = dt.date(after // 100, after % 100, config.post_by_day)
    posted = posted_on or (row.posted_on if row and row.posted_on else None) or default_post
    months = last - first + 1  # same year
    until = (
        posted_until
        or (row.posted_until if row and row.posted_until else None)
        or _add_months(posted, months) - dt.timedelta(days=1)
    )
    seq, head = chain_head(session, entity)
    community = config.community or ent.name
    closed = closed_periods(session, ent.id)
    if any(p not in closed for p in period_range(first, last)):
        state = "draft"
    elif row is not None and row.status == "published":
        state = "published"
    else:
        state = "final"
    return Disclosure(
        entity=ent.code,
        entity_name=ent.name,
        community=community,
        title=f"{community}{period_title(first, last)}财务收支明细公开表",
        first=first,
        last=last,
        year_first=year_first,
        posted_on=posted,
        posted_until=until,
        items=items,
        income_categories=income,
        expense_categories=expense,
        funds=_funds(books, first, last, year_first),
        sections=_sections(session, books, config, first, last, year_first),
        large_threshold=config.large_expense,
        receivables=_debts(books, config.receivables or (), "receivables", first, last),
        payables=_debts(books, config.payables or (), "payables", first, last),
        budget=budget,
        signatures=_signatures(session, ent, config, row),
        chain_seq=seq,
        chain_hash=head,
        config=config,
        state=state,
        questions=_questions(session, ent.code, first, last),
    )


def _questions(session: Connection, entity: str, first: int, last: int) -> tuple[QuestionRow, ...]:
    """The residents' questions the board lists, as of its last day."""
    end = last_day(last)
    return tuple(
        QuestionRow(
            q.id,
            q.period,
            q.line_no,
            q.line_ref,
            q.text,
            q.asked_on,
            q.due_on,
            q.answer,
            q.answered_on,
            q.status(end),
        )
        for q in board_questions(session, entity, first, last)
    )
