"""Importing a bank statement (导入银行对账单): one file, one transaction.

:func:`import_statement` reads the file through :mod:`juzhang.importers.bank`
and, in one savepoint, stores every new row as a statement line with its
batch (:mod:`juzhang.import_batch`), row number and dedup key
(:mod:`.keys`; rows already stored are duplicates, skipped and listed),
matches the new lines to the cashier's journal (:mod:`.matching`) and
drafts or links their vouchers (:mod:`.drafting`), ``CHUNK_ROWS`` rows at a
time.  The entity, the acting bookkeeper and the accounts are resolved once
per command and go down to every chunk.  Every problem of the file is listed
at once (:class:`~juzhang.errors.ProblemsError`) and nothing is written;
``dry_run`` does everything and rolls it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, select

from juzhang.core.duty import Action
from juzhang.core.period import format_period
from juzhang.errors import Problem, ProblemsError, ValidationError
from juzhang.import_batch import file_sha256, record_batch, set_batch_counts
from juzhang.importers.bank import BankProfile, StatementRow, load_profile, open_statement
from juzhang.importers.rules import Facts, Rules, rules_for
from juzhang.importers.table import DEFAULT_LIMITS, ReadLimits
from juzhang.money import from_fen
from juzhang.statements.accounts import check_bank_account
from juzhang.statements.drafting import (
    Books,
    open_books,
    pending_lines,
    settle,
    store_links,
)
from juzhang.statements.keys import StreamedKeys, Unsorted
from juzhang.statements.matching import match_entries
from juzhang.statements.model import (
    CHUNK_ROWS,
    ImportResult,
    Item,
    LineStatus,
    Proposal,
    Spans,
    as_date,
    format_spans,
    one_of,
)
from juzhang.statements.settings import stored_for
from juzhang.storage.access import (
    AccountInfo,
    EntityInfo,
    accounts_of,
    audit,
    closed_periods,
    command,
    get_entity,
    insert_many,
    next_id,
    require,
)
from juzhang.storage.engine import is_sqlite
from juzhang.storage.schema import TABLES, BankAccount, StatementLine
from juzhang.storage.statistics import Statistics, analyze

__all__ = ["import_statement"]


_ANALYZED = ("statement_line", "voucher", "voucher_line", "custody_entry")
_LINES = TABLES["statement_line"]  # inserted as tuples (storage.access.insert_many)
_LINE_COLUMNS = (
    "entity_id",
    "id",
    "account_code",
    "batch_id",
    "row_no",
    "dedup_key",
    "txn_date",
    "txn_time",
    "out_fen",
    "in_fen",
    "balance_fen",
    "counterparty",
    "counterparty_account",
    "counterparty_bank",
    "summary",
    "purpose",
    "remark",
    "serial",
    "custody_entry_id",
    "voucher_id",
)


def import_statement(
    session: Connection,
    entity: str,
    actor: str,
    path: str | Path,
    *,
    account: str,
    profile: str | BankProfile | None = None,
    mapping: str | Path | None = None,
    rules: Rules | str | Path | None = None,
    dry_run: bool = False,
    window_days: int | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    name: str | None = None,
    preview: int = 1000,
) -> ImportResult:
    """Import a bank statement file into the bank detail account ``account``.

    The actor must be a bookkeeper of the entity (the agency imports
    statements).  ``profile`` names a shipped layout, ``mapping`` is a
    user-written layout file (one of the two, or neither: the layout stored
    for the account or community with
    :func:`~juzhang.statements.settings.set_import_settings`, else detected);
    ``rules`` a categorisation rules file or :class:`~.rules.Rules` (none:
    the stored rules, else every line to the suspense account).  A note in
    the result says which stored settings were used.  Everything happens in one
    savepoint of ``session``: on any error nothing is written.  With
    ``dry_run`` everything is done and then rolled back; the result's
    ``proposals`` show each row's outcome (up to ``preview`` rows).

    Returns an :class:`ImportResult`.

    Raises:
        SegregationOfDutiesError: the actor is not a bookkeeper of the entity.
        NotFoundError: unknown entity or account.
        ValidationError: not a bank detail account, no bank account number
            recorded for it, or both ``profile`` and ``mapping`` given.
        ProblemsError: every problem at once — the file cannot be read, is
            another account's statement, bad rows, balance breaks, bad rules.
    """
    if profile is not None and mapping is not None:
        raise ValidationError("对账单格式 profile", "profile 与 mapping 只能给一个 / not both")
    layout: str | BankProfile | None = load_profile(mapping) if mapping is not None else profile
    chosen = None if rules is None else rules_for(rules)
    options = _Options(Path(path), layout, chosen, window_days, limits, name, preview, dry_run)
    return _import(session, entity, actor, account, options)


def _with_settings(
    session: Connection, ent: EntityInfo, account: str, options: _Options
) -> tuple[_Options, tuple[str, ...]]:
    """Fill the rules and layout the caller left out from the stored import settings."""
    if options.rules is not None and options.layout is not None:
        return options, ()
    stored = stored_for(session, ent.id, ent.code, account)
    used = []
    rules, layout = options.rules, options.layout
    if rules is None:
        rules = stored.rules if stored.rules is not None else Rules()
        used += ["rules"] if stored.rules is not None else []
    if layout is None and stored.layout is not None:
        layout = stored.layout
        used += [u for u in stored.used if u != "rules"]
    return replace(options, rules=rules, layout=layout), tuple(used)


@dataclass(frozen=True, slots=True)
class _Who:
    """What the command resolved once: the locked entity, the acting bookkeeper, the accounts."""

    ent: EntityInfo
    uid: int
    actor: str
    accounts: dict[str, AccountInfo]


@dataclass(frozen=True, slots=True)
class _Options:
    path: Path
    layout: str | BankProfile | None
    rules: Rules | None  # None: the stored settings' rules (juzhang.statements.settings), else none
    window_days: int | None
    limits: ReadLimits
    name: str | None
    preview: int
    dry_run: bool


@command
def _import(
    session: Connection, entity: str, actor: str, account: str, options: _Options
) -> ImportResult:
    ent = get_entity(session, entity, lock=True)
    uid = require(session, ent, actor, Action.DRAFT_VOUCHER)
    accounts = accounts_of(session, ent.id)
    check_bank_account(accounts, account, entity)
    number = session.execute(
        select(BankAccount.number).where(
            BankAccount.entity_id == ent.id, BankAccount.account_code == account
        )
    ).scalar_one_or_none()
    if number is None:
        raise ValidationError(
            f"{entity} {account} 银行账号 bank account number",
            "未登记，请先登记 / not recorded: run `juzhang statement bank-account "
            f"{entity} {account} NUMBER` first",
        )
    options, used = _with_settings(session, ent, account, options)
    for evict in (True, False):
        savepoint = session.begin_nested()
        try:
            run = _Run(session, _Who(ent, uid, actor, accounts), account, number, options)
            result = run.execute(evict=evict)
        except Unsorted:
            savepoint.rollback()
            continue
        except BaseException:
            savepoint.rollback()
            raise
        if options.dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
        if used:
            told = Problem(
                result.file,
                f"使用已存的导入设置 / stored import settings used: {', '.join(used)}",
                "settings",
            )
            result = replace(result, notes=(told, *result.notes))
        return result
    raise AssertionError("unreachable: the second attempt keeps every key")


class _Run:
    """One attempt at importing a file (see :func:`import_statement`)."""

    def __init__(
        self, session: Connection, who: _Who, account: str, number: str, options: _Options
    ) -> None:
        self.session = session
        self.who = who
        self.ent = ent = who.ent
        self.actor = who.actor
        self.account = account
        self.number = number
        self.options = options
        self.batch_id: int | None = None
        self.next_line = next_id(session, _LINES, ent.id)
        # A row can repeat only a line stored before this import: the file's
        # own rows have keys of their own (an occurrence counter tells
        # identical rows apart).  An account with none stored yet (its
        # first statement) asks nothing of the database for each chunk.
        self.stored_before = (
            session.execute(
                select(StatementLine.id)
                .where(StatementLine.entity_id == ent.id, StatementLine.account_code == account)
                .limit(1)
            ).first()
            is not None
        )
        self.rows_read = 0
        self.new_lines = 0
        self.duplicates = Spans()
        self.awaiting = Spans()
        self.problems: list[Problem] = []
        self.proposals: list[Proposal] = []
        self.analyze_at = CHUNK_ROWS

    def execute(self, *, evict: bool) -> ImportResult:
        options = self.options
        shown = options.name or options.path.name
        who = self.who
        books = open_books(
            self.session,
            who.ent,
            who.uid,
            who.actor,
            self.account,
            options.rules if options.rules is not None else Rules(),
            options.window_days,
            shown,
            who.accounts,
            closed_periods(self.session, who.ent.id),
        )
        with open_statement(
            options.path,
            profile=options.layout,
            account=self.number,
            limits=options.limits,
            name=shown,
        ) as stream:
            keys = StreamedKeys(self.number, evict=evict)
            self._fresh_statistics()  # PostgreSQL: plan with the tables' sizes of now
            chunk: list[StatementRow] = []
            for row in stream:  # the stream checks running balances as rows go by
                self.rows_read += 1
                if stream.problems:
                    chunk.clear()  # refused anyway: only collect the problems
                    continue
                chunk.append(row)
                if len(chunk) >= CHUNK_ROWS:
                    self._chunk(books, [*map(_item_of, chunk, keys.keys(chunk))])
                    chunk = []
            if chunk and not stream.problems:
                self._chunk(books, [*map(_item_of, chunk, keys.keys(chunk))])
            problems = [*stream.problems, *self.problems]
            if problems:
                raise ProblemsError(
                    f"银行对账单未导入 / bank statement not imported: {stream.name}", problems
                )
            pending = self._draft_earlier(books)
            result = self._result(books, stream.profile.name, stream.own_account, pending)
            if not stream.zero_rows:
                return result
            zero = Spans()
            for number in stream.zero_rows:
                zero.add(number)
            return replace(result, zero_rows=zero.result())

    def _chunk(self, books: Books, chunk: list[Item]) -> None:
        existing = self._existing(chunk)
        new: list[Item] = []
        for item in chunk:
            found = existing.get(item.key)
            if found is None:
                new.append(item)
                continue
            line_id, day, fen = found
            if (day, fen) != (item.date, item.fen):
                self.problems.append(
                    Problem(
                        f"{books.name}:{item.row}",
                        f"与已导入的对账单行 #{line_id} 去重键相同但日期或金额不同"
                        f" ({day} {from_fen(fen)}) / same dedup key as stored line #{line_id}"
                        f" but another date or amount ({day} {from_fen(fen)})",
                        "dedup",
                    )
                )
                continue
            self.duplicates.add(item.row)
            item.status = LineStatus.DUPLICATE
            item.line_id = line_id
            self._propose(item)
        if self.problems or not new:
            return
        for item in new:
            item.line_id = self.next_line
            self.next_line += 1
            books.classify(item)
        match_entries(self.session, self.ent.id, self.account, books.window, new)
        settle(books, new)
        for item in new:
            if item.status is None:
                item.status = (
                    LineStatus.AWAITING_CASHIER if item.entry is None else LineStatus.AWAITING_DRAFT
                )
            if item.status is LineStatus.AWAITING_CASHIER:
                self.awaiting.add(item.line_id)
            elif item.status is LineStatus.CLOSED_PERIOD:
                books.closed_rows.add(item.row)
            elif item.status is LineStatus.BEFORE_START:
                books.early_rows.add(item.row)
            self._propose(item)
        self._insert(new)
        if self.new_lines >= self.analyze_at:
            self._refresh_statistics()

    def _refresh_statistics(self) -> None:
        """PostgreSQL: ANALYZE the tables this import is filling, at 4×-growth steps.

        Plans PostgreSQL caches for a session (foreign-key checks, trigger
        functions, prepared statements) are made with the table sizes of the
        moment; made while these tables were nearly empty they scan them
        whole, and a long import into a fresh database turns quadratic
        (20,000 rows: 376 s instead of 60 s).  ANALYZE sees this
        transaction's own rows, and new statistics make PostgreSQL plan again.
        """
        self.analyze_at *= 4
        self._analyze()

    def _fresh_statistics(self) -> None:
        """PostgreSQL, at the start: ANALYZE the tables that have outgrown their statistics.

        Those whose live rows are more than twice what their statistics say
        (filled by other steps or files since), as the other bulk steps do
        (:class:`~juzhang.storage.statistics.Statistics`).  Analysing all five
        every time cost each file of ``import bank --dir`` 60 ms or more (200
        files: 200 ANALYZEs of growing tables) for statistics that had barely
        changed since the file before.
        """
        Statistics(self.session, grows="statement_line", tables=_ANALYZED)

    def _analyze(self) -> None:
        """PostgreSQL: ANALYZE the tables the import reads and fills (as it fills them).

        Without statistics (a custody journal recorded since the last
        autovacuum) PostgreSQL checks the foreign key from a voucher line to
        its custody entry through the amount index, reading every entry of
        the account: 2.4 ms per line at 20,000 entries instead of 5 µs.
        """
        if not is_sqlite(self.session):
            analyze(self.session, _ANALYZED)

    def _existing(self, chunk: Sequence[Item]) -> dict[str, tuple[int, dt.date, int]]:
        found: dict[str, tuple[int, dt.date, int]] = {}
        if not self.stored_before:
            return found
        keys = [i.key for i in chunk]
        for start in range(0, len(keys), 900):
            rows = self.session.execute(
                select(
                    StatementLine.dedup_key,
                    StatementLine.id,
                    StatementLine.txn_date,
                    StatementLine.in_fen - StatementLine.out_fen,
                ).where(
                    StatementLine.entity_id == self.ent.id,
                    StatementLine.account_code == self.account,
                    one_of(self.session, StatementLine.dedup_key, keys[start : start + 900]),
                )
            )
            for key, line_id, day, fen in rows:
                found[key] = (int(line_id), as_date(day), int(fen))
        return found

    def _insert(self, items: Sequence[Item]) -> None:
        if self.batch_id is None:
            self.batch_id = self._new_batch()
        ent_id, account, batch = self.ent.id, self.account, self.batch_id
        rows = []
        for i in items:
            facts, fen = i.facts, i.fen
            rows.append(
                (ent_id, i.line_id, account, batch, i.row, i.key, i.date, i.time,
                 -fen if fen < 0 else 0, fen if fen > 0 else 0, i.balance,
                 facts.counterparty, facts.counterparty_account, facts.counterparty_bank,
                 facts.summary, facts.purpose, facts.remark, facts.serial, i.entry, i.voucher)
            )  # fmt: skip
        insert_many(self.session, StatementLine, _LINE_COLUMNS, rows)  # a few driver calls
        self.new_lines += len(rows)

    def _new_batch(self) -> int:
        options = self.options
        return record_batch(
            self.session,
            self.ent,
            self.who.uid,
            kind="bank",
            file_name=options.name or options.path.name,
            sha=file_sha256(options.path, options.name or options.path.name),
            account=self.account,
            profile=_profile_name(options.layout),
        )

    def _draft_earlier(self, books: Books) -> int:
        """Draft lines of earlier imports whose cashier entries exist now."""
        before = books.drafted
        for items in pending_lines(
            self.session, self.ent.id, self.account, skip_batch=self.batch_id
        ):
            for item in items:
                books.classify(item)
            settle(books, items)
            store_links(self.session, self.ent.id, items)
        return books.drafted - before

    def _propose(self, item: Item) -> None:
        if not self.options.dry_run or len(self.proposals) >= self.options.preview:
            return
        cat = item.cat
        assert item.status is not None
        self.proposals.append(
            Proposal(
                row=item.row,
                date=item.date,
                direction=item.facts.direction,
                amount=item.facts.amount,
                counterparty=item.facts.counterparty,
                text=" ".join(t for t in (item.facts.summary, item.facts.purpose) if t),
                status=item.status,
                account=cat.account if cat else "",
                summary=cat.summary if cat else "",
                rule=cat.rule if cat else "",
                custody_entry=item.entry,
                voucher=item.voucher,
            )
        )

    def _result(
        self, books: Books, profile: str, own_account: str | None, pending: int
    ) -> ImportResult:
        if self.batch_id is not None:
            set_batch_counts(self.session, self.ent, self.batch_id, self.rows_read, self.new_lines)
            audit(
                self.session,
                self.ent.id,
                self.actor,
                "statement.import",
                f"batch #{self.batch_id}",
                {
                    "file": self.options.name or self.options.path.name,
                    "account": self.account,
                    "rows": self.rows_read,
                    "new": self.new_lines,
                    "drafted": books.drafted,
                },
            )
        notes = _notes(books)
        if own_account is None:
            notes.insert(
                0,
                Problem(
                    books.name,
                    "对账单上没有本方账号，未核对账号 / the statement names no account number: "
                    "the account was not checked",
                    "account",
                ),
            )
        return ImportResult(
            file=books.name,
            profile=profile,
            account=self.account,
            own_account=own_account,
            batch_id=None if self.options.dry_run else self.batch_id,
            rows_read=self.rows_read,
            new_lines=self.new_lines,
            duplicates=self.duplicates.count,
            duplicate_rows=self.duplicates.result(),
            vouchers_drafted=books.drafted - pending,
            vouchers_linked=books.linked,
            awaiting_cashier=self.awaiting.count,
            awaiting_lines=self.awaiting.result(),
            pending_drafted=pending,
            notes=tuple(notes),
            dry_run=self.options.dry_run,
            proposals=tuple(self.proposals),
        )


def _notes(books: Books) -> list[Problem]:
    notes = []
    for spans, message in (
        (
            books.early_rows,
            f"早于建账月份 {format_period(books.ent.start_period)}，已保存未制单 / before the "
            "books start: stored, not drafted (the opening balance covers them)",
        ),
        (
            books.closed_rows,
            "所在月份已结账，已保存未制单，请在未结账月份手工制单 / in a closed month: stored, "
            "not drafted; book it by hand in an open month",
        ),
        (
            books.claims,
            "出纳日记账记录属于待制单的报账单，凭证由报账单生成 / the cashier's entry belongs to "
            "a pending claim: its voucher comes from the claim",
        ),
    ):
        if spans.count:
            notes.append(Problem(f"{books.name}:{format_spans(spans.result())}", message, "line"))
    return notes


def _item_of(row: StatementRow, key: str) -> Item:
    clock = row.time
    amount = row.credit - row.debit
    fen = int(amount.scaleb(2))
    direction: Literal["in", "out"] = "in" if fen > 0 else "out"
    facts = Facts(
        row.date,
        direction,
        abs(amount),
        row.counterparty,
        row.counterparty_account,
        row.counterparty_bank,
        row.summary,
        row.purpose,
        row.remark,
        row.serial,
        row.number,
    )
    return Item(
        row=row.number,
        date=row.date,
        time=None if clock is None else f"{clock.hour:02}:{clock.minute:02}:{clock.second:02}",
        fen=fen,
        balance=None if row.balance is None else int(row.balance.scaleb(2)),
        facts=facts,
        key=key,
    )


def _profile_name(layout: str | BankProfile | None) -> str:
    if isinstance(layout, BankProfile):
        return layout.name[:64]
    return (layout or "")[:64]
