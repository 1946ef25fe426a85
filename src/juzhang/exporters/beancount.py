"""Beancount export (beancount 导出): the books of one entity, or of all, as a beancount 3 file.

The only module that imports beancount for export (STYLE.md habit 8).  The
file is plain beancount 3 input: it passes ``bean-check`` and opens in Fava
like any other ledger, so an auditor can browse the books of every community
with beancount's tools.  It is an export: nothing reads it back into juzhang.

What the file holds, per entity (a section each, entities by code):

* ``open`` directives for every account of the entity's chart on the first
  day the books cover, with the Chinese name and the code as metadata
  (``name: "库存现金"``, ``code: "101"``);
* the opening balances (期初余额) as one transaction on that day; were they
  not to balance, the difference goes to ``Equity:<E>:Opening-Balances`` so
  the file still loads (``juzhang verify`` reports such books);
* one transaction per **posted** voucher, in date and number order, dated
  the voucher's date, narrated with its first line's 摘要; metadata
  ``voucher: "记-0003"``, ``period: "2026-09"``, ``hash`` (the voucher's chain
  hash), ``attachments``, and for other than ordinary vouchers ``kind``
  (``reversal``, ``correction``, ``closing``); a reversal also has
  ``reverses: "2026-09 记-0003"``.  Each transaction carries the link
  ``^<E>-<YYYY-MM>-<NNNN>`` of its own voucher, and a red reversal also the
  link of the voucher it reverses, so Fava shows the pair together.  A line
  whose 摘要 differs from the narration carries it as posting metadata
  ``summary``.  Amounts are signed debit positive, so a red (红字) line is a
  posting of the opposite sign on its account;
* a ``balance`` assertion for every account with any history at **every
  month end**, taken from the running balances (``account_balance``), not
  from the lines: beancount thereby checks that the posted lines add up to
  what the running balances say.  A balance directive is checked at the
  start of its day, so the assertion for the end of September is dated the
  first of October.  Parent accounts are asserted too (a beancount balance
  includes the sub-accounts), which checks the general ledger (总账) as well.
  Every assertion carries the explicit tolerance ``~ 0.00``: beancount would
  otherwise let a two-place balance be off by 0.01 (twice its default
  tolerance multiplier of 0.005), and one fen off is an error in the books.

Account names: ``<Root>:<E>:<code>-<名称>[:<code>-<名称>…]``, e.g.
``Assets:C001:101-库存现金`` and ``Expenses:C001:513-管理费用:51301-办公费``.
The root follows the category: asset and cost (成本类, work in progress) →
``Assets``, liability → ``Liabilities``, equity and net assets → ``Equity``,
income → ``Income``, expense → ``Expenses``.  ``<E>`` is the entity code.
beancount 3 accepts UTF-8 in account names, and its own validity rule
(:func:`beancount.core.account.is_valid`) wants every component after the
root to start with an uppercase letter or a digit and to hold only letters,
digits and ``-``: a component here starts with the account code (digits),
and any other character of a name (（）, spaces, ·, …) becomes ``-``
(``401-生产-劳务-成本``).  An entity code that does not start with an
uppercase letter or digit gets the prefix ``E-``.  Every name is checked with
beancount's rule before anything is written.  The currency is ``CNY``.

Links use only ``A-Z a-z 0-9 - _ / .``; an entity whose code has other
characters is linked as ``E<id>``.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from beancount import loader
from beancount.core import account as bc_account
from sqlalchemy import Connection, and_, func, select

from juzhang.core.period import first_day, format_period, next_period, period_range
from juzhang.core.types import Side, VoucherStatus
from juzhang.errors import ValidationError
from juzhang.exporters import account_path
from juzhang.money import from_fen
from juzhang.reports.ledger import read_balances
from juzhang.storage.access import AccountInfo, EntityInfo, accounts_of, get_entity
from juzhang.storage.schema import Entity, Voucher, VoucherLine

__all__ = [
    "CURRENCY",
    "ROOTS",
    "ExportSummary",
    "account_component",
    "account_names",
    "check_beancount",
    "entity_component",
    "export_beancount",
    "render_beancount",
    "write_beancount",
]

CURRENCY = "CNY"
"""The commodity of every amount."""

ROOTS: Mapping[str, str] = {
    "asset": "Assets",
    "cost": "Assets",
    "liability": "Liabilities",
    "equity": "Equity",
    "net_assets": "Equity",
    "income": "Income",
    "expense": "Expenses",
}
"""The beancount root account of each account category."""

_LINK_SAFE = re.compile(r"[A-Za-z0-9\-_/.]+")


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote: entities, and counts of accounts, transactions and assertions."""

    entities: tuple[str, ...]
    accounts: int
    transactions: int
    balances: int


# --------------------------------------------------------------------------- names


def _clean(text: str) -> str:
    """Letters, decimal digits and ``-`` kept; runs of anything else become one ``-``."""
    kept = "".join(
        ch if unicodedata.category(ch).startswith("L") or unicodedata.category(ch) == "Nd" else "-"
        for ch in text
    )
    return re.sub(r"-{2,}", "-", kept).strip("-")


def _starts_well(text: str) -> bool:
    return bool(text) and unicodedata.category(text[0]) in ("Lu", "Nd")


def entity_component(code: str) -> str:
    """Return the account-name component of an entity code (``C001``; ``E-…`` if needed)."""
    clean = _clean(code)
    if _starts_well(clean):
        return clean
    return f"E-{clean}" if clean else "E"


def account_component(code: str, name: str) -> str:
    """Return the component of one account: ``"101-库存现金"`` (code, then the cleaned name)."""
    head = _clean(code) or "X"
    if not _starts_well(head):
        head = f"A{head}"
    tail = _clean(name)
    return f"{head}-{tail}" if tail else head


def account_names(accounts: Mapping[str, AccountInfo], entity: str) -> dict[str, str]:
    """Return ``{code: beancount account name}`` for an entity's accounts.

    Raises:
        ValidationError: a name beancount would not accept (not expected).
    """
    prefix = entity_component(entity)
    every = dict(accounts)
    names: dict[str, str] = {}
    for code in sorted(every):
        path = account_path(every, code)
        root = ROOTS.get(path[0].category, "Assets")
        name = ":".join([root, prefix, *(account_component(a.code, a.name) for a in path)])
        if not bc_account.is_valid(name):
            raise ValidationError(f"科目 account {code}", f"beancount 不接受 / not valid: {name}")
        names[code] = name
    return names


def _string(text: str) -> str:
    """A beancount string literal: one line, backslash and quote escaped."""
    one_line = " ".join(text.split())
    return '"' + one_line.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _amount(fen: int) -> str:
    return f"{from_fen(fen)} {CURRENCY}"


# --------------------------------------------------------------------------- writing


def _entities(session: Connection, codes: Sequence[str] | None) -> list[EntityInfo]:
    if codes is None:
        codes = list(session.scalars(select(Entity.code).order_by(Entity.code)))
    return [get_entity(session, code) for code in codes]


def write_beancount(
    session: Connection, out: TextIO, entities: Sequence[str] | None = None
) -> ExportSummary:
    """Write the books of ``entities`` (default: every entity) to ``out`` as beancount.

    Raises:
        NotFoundError: an unknown entity.
        ValidationError: two entity codes that give the same account prefix.
    """
    infos = _entities(session, entities)
    prefixes: dict[str, str] = {}
    for ent in infos:
        prefix = entity_component(ent.code)
        if prefix in prefixes:
            raise ValidationError(
                f"社区 entity {ent.code}",
                f"与 {prefixes[prefix]} 的 beancount 前缀相同 / same prefix {prefix}",
            )
        prefixes[prefix] = ent.code
    title = f"{infos[0].code} {infos[0].name}" if len(infos) == 1 else "居账 juzhang"
    out.write(f"; 居账 juzhang: beancount export — {title}\n")
    out.write(f"option {_string('title')} {_string(title)}\n")
    out.write(f'option "operating_currency" "{CURRENCY}"\n\n')
    if infos:
        start = min(ent.start_period for ent in infos)
        out.write(f"{first_day(start).isoformat()} commodity {CURRENCY}\n")
        out.write(f"  name: {_string('人民币')}\n\n")
    accounts = transactions = balances = 0
    for ent in infos:
        a, t, b = _write_entity(session, out, ent)
        accounts += a
        transactions += t
        balances += b
    return ExportSummary(tuple(e.code for e in infos), accounts, transactions, balances)


def _link_prefix(ent: EntityInfo) -> str:
    return ent.code if _LINK_SAFE.fullmatch(ent.code) else f"E{ent.id}"


def _write_entity(session: Connection, out: TextIO, ent: EntityInfo) -> tuple[int, int, int]:
    accounts = accounts_of(session, ent.id)
    names = account_names(accounts, ent.code)
    start = ent.start_period
    last_posted = session.execute(
        select(func.max(Voucher.period)).where(
            Voucher.entity_id == ent.id, Voucher.status == VoucherStatus.POSTED
        )
    ).scalar()
    last = max(start, int(last_posted or start))
    balances = read_balances(session, ent.id, last)
    opened = first_day(start).isoformat()
    out.write(f"; ---- {ent.code} {ent.name} ({ent.chart}), books from {format_period(start)}\n\n")
    suspense = f"Equity:{entity_component(ent.code)}:Opening-Balances"
    unbalanced = sum(balances.opening.values())
    for code in sorted(accounts):
        acc = accounts[code]
        out.write(f"{opened} open {names[code]} {CURRENCY}\n")
        out.write(f"  name: {_string(acc.name)}\n  code: {_string(code)}\n")
    if unbalanced:
        out.write(f"{opened} open {suspense} {CURRENCY}\n")
    out.write("\n")
    if any(balances.opening.values()):
        out.write(f'{opened} * "期初余额 opening balances"\n  voucher: "期初"\n')
        for code in sorted(balances.opening):
            if balances.opening[code]:
                out.write(f"  {names[code]}  {_amount(balances.opening[code])}\n")
        if unbalanced:
            out.write(f"  {suspense}  {_amount(-unbalanced)}\n")
        out.write("\n")
    asserted = _Assertions(accounts, names, balances.opening, balances.moves)
    count = 0
    links = _reversed(session, ent)  # before the stream of lines starts
    prefix = _link_prefix(ent)
    rows = _posted_lines(session, ent.id)
    pending = next(rows, None)
    for period in period_range(start, last):
        while pending is not None and pending[0].period == period:
            head, lines = pending
            _write_voucher(out, head, lines, names, prefix, links)
            count += 1
            pending = next(rows, None)
        asserted.write(out, period)
    return len(accounts), count, asserted.count


@dataclass(frozen=True, slots=True)
class _Head:
    id: int
    date: str
    period: int
    word: str
    number: int
    kind: str
    attachments: int
    hash: str
    reverses: int | None


_Line = tuple[str, str, int, str]  # account, side, amount fen, summary


def _posted_lines(session: Connection, entity_id: int) -> Iterator[tuple[_Head, list[_Line]]]:
    """Posted vouchers with their lines, in period, date and number order (streamed)."""
    q = (
        select(
            Voucher.id,
            Voucher.voucher_date,
            Voucher.period,
            Voucher.word,
            Voucher.number,
            Voucher.kind,
            Voucher.attachments,
            Voucher.hash,
            Voucher.reverses_id,
            VoucherLine.account_code,
            VoucherLine.side,
            VoucherLine.amount_fen,
            VoucherLine.summary,
        )
        .join(
            VoucherLine,
            and_(VoucherLine.entity_id == Voucher.entity_id, VoucherLine.voucher_id == Voucher.id),
        )
        .where(Voucher.entity_id == entity_id, Voucher.status == VoucherStatus.POSTED)
        .order_by(Voucher.period, Voucher.voucher_date, Voucher.number, VoucherLine.line_no)
        .execution_options(yield_per=5000)
    )
    head: _Head | None = None
    lines: list[_Line] = []
    for (
        vid,
        date,
        period,
        word,
        number,
        kind,
        att,
        hsh,
        rev,
        acc,
        side,
        fen,
        summary,
    ) in session.execute(q):
        if head is None or head.id != vid:
            if head is not None:
                yield head, lines
            head = _Head(
                vid,
                date.isoformat(),
                int(period),
                word,
                int(number or 0),
                kind,
                int(att),
                hsh or "",
                rev,
            )
            lines = []
        lines.append((acc, side, int(fen), summary))
    if head is not None:
        yield head, lines


def _reversed(session: Connection, ent: EntityInfo) -> dict[int, tuple[int, str]]:
    """``{voucher id: (period, label)}`` of the posted vouchers that a reversal names."""
    targets = select(Voucher.reverses_id).where(
        Voucher.entity_id == ent.id, Voucher.reverses_id.is_not(None)
    )
    rows = session.execute(
        select(Voucher.id, Voucher.period, Voucher.word, Voucher.number).where(
            Voucher.entity_id == ent.id,
            Voucher.id.in_(targets),
            Voucher.status == VoucherStatus.POSTED,
        )
    )
    return {vid: (int(p), f"{w}-{int(n or 0):04d}") for vid, p, w, n in rows}


def _write_voucher(
    out: TextIO,
    head: _Head,
    lines: list[_Line],
    names: Mapping[str, str],
    prefix: str,
    reversed_: Mapping[int, tuple[int, str]],
) -> None:
    label = f"{head.word}-{head.number:04d}"
    narration = lines[0][3] if lines else label
    links = [f"^{prefix}-{format_period(head.period)}-{head.number:04d}"]
    original = reversed_.get(head.reverses) if head.reverses is not None else None
    if original is not None:
        links.append(f"^{prefix}-{format_period(original[0])}-{original[1].split('-')[-1]}")
    out.write(f"{head.date} * {_string(narration)} {' '.join(links)}\n")
    out.write(f"  voucher: {_string(label)}\n  period: {_string(format_period(head.period))}\n")
    if head.kind != "normal":
        out.write(f"  kind: {_string(head.kind)}\n")
    if original is not None:
        out.write(f"  reverses: {_string(f'{format_period(original[0])} {original[1]}')}\n")
    out.write(f"  attachments: {head.attachments}\n  hash: {_string(head.hash or '')}\n")
    for account, side, fen, summary in lines:
        signed = fen if side == Side.DEBIT else -fen
        out.write(f"  {names[account]}  {_amount(signed)}\n")
        if summary != narration:
            out.write(f"    summary: {_string(summary)}\n")
    out.write("\n")


class _Assertions:
    """Month-end balances of every account with history, from the running balances."""

    def __init__(
        self,
        accounts: Mapping[str, AccountInfo],
        names: Mapping[str, str],
        opening: Mapping[str, int],
        moves: Mapping[str, Mapping[int, tuple[int, int]]],
    ) -> None:
        self.names = names
        self.moves = moves
        self.balance: dict[str, int] = defaultdict(int)
        self.touched: set[str] = set()
        self.count = 0
        every = dict(accounts)
        self.chains = {code: [a.code for a in account_path(every, code)] for code in every}
        for code, fen in opening.items():
            self._add(code, fen, touched=fen != 0)

    def _add(self, code: str, fen: int, *, touched: bool) -> None:
        for up in self.chains.get(code, [code]):
            self.balance[up] += fen
            if touched:
                self.touched.add(up)

    def write(self, out: TextIO, period: int) -> None:
        for code, by_period in self.moves.items():
            d, c = by_period.get(period, (0, 0))
            if d or c:
                self._add(code, d - c, touched=True)
        day = first_day(next_period(period)).isoformat()
        for code in sorted(self.touched):
            amount = f"{from_fen(self.balance[code])} ~ 0.00 {CURRENCY}"  # exact, no tolerance
            out.write(f"{day} balance {self.names[code]}  {amount}\n")
            self.count += 1
        if self.touched:
            out.write("\n")


def render_beancount(session: Connection, entities: Sequence[str] | None = None) -> str:
    """Return the beancount text of ``entities`` (default: all); see :func:`write_beancount`."""
    buffer = io.StringIO()
    write_beancount(session, buffer, entities)
    return buffer.getvalue()


def export_beancount(
    session: Connection, path: Path, entities: Sequence[str] | None = None
) -> ExportSummary:
    """Write the beancount file of ``entities`` (default: all) to ``path`` (UTF-8).

    Raises:
        NotFoundError: an unknown entity.
        OSError: the file cannot be written.
    """
    with path.open("w", encoding="utf-8", newline="\n") as f:
        return write_beancount(session, f, entities)


def check_beancount(path: Path) -> list[str]:
    """Load ``path`` with beancount (parse, book, validate, as bean-check) and return its errors.

    Each error is one line ``file:line: message``; an empty list means the
    file is valid.
    """
    _entries, errors, _options = loader.load_file(str(path))
    out = []
    for error in errors:
        source = getattr(error, "source", None) or {}
        where = f"{source.get('filename', path)}:{source.get('lineno', '?')}"
        message = " ".join(str(getattr(error, "message", error)).split())
        out.append(f"{where}: {message}")
    return out
