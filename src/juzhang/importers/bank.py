"""Bank statement files (银行对账单): profiles as data, and rows normalised.

Banks export statements in layouts of their own and change them now and then,
so each layout is **data**: a profile (:class:`BankProfile`) in a TOML file
under ``importers/profiles/`` names, for each normalised field, the header
texts a bank uses for it, and how the direction of money is told.  A user
writes a mapping file of the same schema for any other bank
(:func:`load_profile`).  The shipped profiles cover the layouts of DOMAIN §8:
``icbc`` (转入/转出金额), ``icbc-dc`` (借/贷 flag and 借方/贷方发生额),
``icbc-flag`` (one 发生额 column and a 借贷标志 or 收支标志 flag), ``ccb``,
``abc``, ``boc`` (bilingual; direction from payer/payee against the own
account) and ``rcb`` (rural commercial banks); and corporate exports built
from public column lists (each file's comment names its sources): ``bocom``,
``cmb``, ``spdb``, ``psbc``, ``cib``, ``citic``, ``rcc`` (rural credit
cooperatives: one amount and a 收入/支出 flag) and ``rcb-corp``.

The profile schema is in :mod:`.profile`; statement lines, dedup keys and the
running-balance check are in :mod:`.statement_rows` (all re-exported here).

Reading (:func:`open_statement`, :func:`read_statement`): the first 30 rows are
searched for the header row under the profile (given, or detected: the
profile whose aliases recognise most header cells, fewest left over); a
header may span two rows (a merged group such as 发生额 above 借方/贷方).
Rows above it are title and metadata rows, from which the own account number
and name are read (``账号：…``, ``户名：…``, label and value in one cell or
side by side).  After it, blank rows and repeated header rows are skipped,
an opening balance row (期初余额, 承前页) sets :attr:`Statement.opening_balance`,
a footer (合计, 以上数据仅供参考, 总笔数…) ends the data, and each other row
becomes a :class:`StatementRow` or, when anything in it is wrong, problems
(:class:`~juzhang.errors.Problem` with ``where`` = ``file:row:column``) — all
of them, not only the first, up to ``ReadLimits.max_problems``.

Errors and problems: a file that cannot be read as a statement at all (not
readable, no header, a missing required column, the wrong account) raises
:class:`~juzhang.errors.ProblemsError`; bad rows are *returned* as problems
next to the good rows, so a caller (an import, a dry run) shows them all and
refuses to book a statement with any.

Dedup (DOMAIN §8): :func:`dedup_keys` gives each row the bank's serial where
there is one, else :func:`fingerprint` (account, date, amount, balance,
counterparty, summary), each with an occurrence counter for identical rows.
:func:`check_balances` checks previous balance + credit − debit = balance row
by row (statements newest-first are recognised) and reports each break with
its row number; reading does the same as rows stream by (``check_balance``),
adding the breaks to the problems, and starts the chain afresh after a row
refused for its own problems (its movement is unknown).

The module is split by concept: finding the header and metadata is
:mod:`.bank_header`, the stream of normalised rows :mod:`.bank_stream`;
callers import every name from here.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from juzhang.errors import Problem, ProblemsError
from juzhang.importers.bank_header import (
    SCAN_ROWS,
    _find_header,
    _metadata,
)
from juzhang.importers.bank_stream import StatementStream
from juzhang.importers.profile import (
    DEFAULT_ACCOUNT_LABELS,
    DEFAULT_FOOTER,
    DEFAULT_NAME_LABELS,
    DEFAULT_OPENING,
    DIRECTIONS,
    FIELDS,
    BankProfile,
    builtin_profiles,
    get_profile,
    load_profile,
    parse_profile,
)
from juzhang.importers.reader import (
    DEFAULT_LIMITS,
    ReadLimits,
    open_table,
)
from juzhang.importers.statement_rows import (
    BalanceCheck,
    Statement,
    StatementRow,
    check_balances,
    dedup_keys,
    fingerprint,
    same_account,
)

__all__ = [
    "DEFAULT_ACCOUNT_LABELS",
    "DEFAULT_FOOTER",
    "DEFAULT_NAME_LABELS",
    "DEFAULT_OPENING",
    "DIRECTIONS",
    "FIELDS",
    "SCAN_ROWS",
    "BalanceCheck",
    "BankProfile",
    "Statement",
    "StatementRow",
    "StatementStream",
    "builtin_profiles",
    "check_balances",
    "dedup_keys",
    "fingerprint",
    "get_profile",
    "load_profile",
    "open_statement",
    "parse_profile",
    "read_statement",
    "same_account",
]


def open_statement(
    path: str | Path,
    *,
    profile: str | BankProfile | None = None,
    account: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    name: str | None = None,
    check_balance: bool = True,
) -> StatementStream:
    """Open a bank statement file and find its layout; iterate the result for rows.

    ``profile`` is a shipped profile's name, a :class:`BankProfile` (from
    :func:`load_profile`), or ``None`` to detect it from the header.
    ``account``, when given, is the bank account number being imported into:
    a statement that names another account in its metadata is refused.
    With ``check_balance`` (the default) the running balance is checked as
    rows stream by and each break is added to the problems at the end.
    Returns a :class:`StatementStream` (a context manager).  Raises
    :class:`~juzhang.errors.ProblemsError` when the file cannot be read, no
    header is found, a required column is missing, or the account differs;
    :class:`~juzhang.errors.ValidationError` for an unknown profile name.
    """
    profiles = (
        builtin_profiles()
        if profile is None
        else (get_profile(profile),)
        if isinstance(profile, str)
        else (profile,)
    )
    table = open_table(path, limits=limits, name=name)
    try:
        rows = table.rows()
        head = list(itertools.islice(rows, SCAN_ROWS + 1))
        header = _find_header(head, profiles, table.name)
        own_account, own_name = _metadata(head[: header.index], header.profile)
        if account is not None and own_account is not None:
            _refuse_account(table.name, account, own_account)
        data = itertools.chain(head[header.index + header.span :], rows)
        stream = StatementStream(table, header, own_account, own_name, account, limits, data)
        stream.check_balance = check_balance
        return stream
    except BaseException:
        table.close()
        raise


def _refuse_account(name: str, expected: str, found: str) -> None:
    if not same_account(expected, found):
        raise ProblemsError(
            f"对账单账号不符 / wrong account in {name}",
            [
                Problem(
                    name,
                    f"对账单的账号是 {found}，不是要导入的账号 {expected} / the statement is for "
                    f"account {found}, not {expected}",
                    "account",
                )
            ],
        )


def read_statement(
    path: str | Path,
    *,
    profile: str | BankProfile | None = None,
    account: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    name: str | None = None,
    check_balance: bool = True,
) -> tuple[Statement, list[Problem]]:
    """Read a whole bank statement file: the statement and the problems of its rows.

    Arguments as for :func:`open_statement`.  Returns ``(statement, problems)``:
    the statement holds every good row; ``problems`` lists every bad row and
    cell (``where`` = ``file:row:column``) and every break of the running
    balance (``file:row``) — a caller must not book a statement with problems.
    Raises :class:`~juzhang.errors.ProblemsError` when the file cannot be read
    as a statement at all (see :func:`open_statement`) or a limit is broken
    part way.
    """
    with open_statement(
        path,
        profile=profile,
        account=account,
        limits=limits,
        name=name,
        check_balance=check_balance,
    ) as stream:
        rows = tuple(stream)
        statement = Statement(
            source=str(path),
            profile=stream.profile.name,
            own_account=stream.own_account,
            own_name=stream.own_name,
            header_row=stream.header_row,
            opening_balance=stream.opening_balance,
            rows=rows,
            zero_rows=tuple(stream.zero_rows),
        )
        return statement, list(stream.problems)
