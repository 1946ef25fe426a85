"""Bank statements into the books (银行对账单导入): lines, the cashier's journal, drafts.

The file side (:mod:`juzhang.importers.bank`) reads a statement into rows.
This package stores them and prepares the bookkeeper's draft vouchers, in one
database transaction: any problem, and nothing is written.  Its modules:
:mod:`.model` (statuses, results, views), :mod:`.accounts` (bank account
numbers), :mod:`.keys` (dedup keys), :mod:`.matching` (the cashier's
journal), :mod:`.drafting` (vouchers), :mod:`.importing` (one file),
:mod:`.lines` (accepting and listing stored lines), :mod:`.settings` (the
rules and layout remembered per community and bank account).

1. **Which bank account.**  The books' bank detail account (``--account``,
   e.g. 10201 银行存款—农商行) has the bank's account number recorded with it
   (:func:`set_bank_account`, table ``bank_account``).  A statement whose
   metadata or own-account column names another number is refused.  The
   number also goes into the dedup keys, so it is fixed once lines exist.
2. **Every row becomes a statement line** (``statement_line``, the bank's
   record: never changed, never deleted) with its source file
   (``import_batch``, :mod:`juzhang.import_batch`), row number and dedup
   key — the bank's serial where
   there is one, else a fingerprint plus an occurrence counter
   (:func:`juzhang.importers.bank.dedup_keys`).  A row whose key is already
   stored is a *duplicate*: skipped and listed (row ranges), never silently
   dropped; re-importing a file, or overlapping statements in any order,
   adds nothing.  Keys are computed while streaming, one date at a time, so
   memory stays flat however long the file (a file whose dates are not
   grouped is read a second time, keeping every key).
3. **Running balances** are checked row by row (previous + in − out); a
   break is a *blocking* problem naming the row: the lines are the bank's
   record and are never changed afterwards, so a file with missing or
   misread rows must not go in.  Every problem of the file is listed at once
   (:class:`~juzhang.errors.ProblemsError`).
4. **The cashier's entry** (钱账分离).  The bank side of each voucher must be
   backed by the cashier's bank-journal entry.  A new line is matched to an
   entry of the same account and signed amount, dated within the window
   (``window_days``, else the entity's ``link_window_days``), with the same
   counterparty where both name one (one containing the other counts), not
   yet matched to another line: an entry matches one line only.  Among
   several, a counterparty match, then the nearest date, then the lowest id
   wins.
5. **Drafting.**  A matched line gets a draft voucher prepared by the
   importing bookkeeper through :func:`juzhang.books.draft_pairs_for` (the
   rules of ``draft_vouchers``, checked in bulk): the
   bank line names the entry (``custody_entry``), the counter line goes to
   the account the categorisation rules choose (:mod:`juzhang.importers.rules`; suspense
   without rules).  When the entry already backs a voucher (the bookkeeper
   booked it before the statement came) the line is linked to that voucher
   instead; when it belongs to a pending claim (报账单), the claim's voucher
   will be linked later.  Lines dated before the books start, or in a closed
   month, are stored but not drafted.
6. **Lines with no cashier entry** (interest, bank fees, transfers in) wait
   for the cashier, who accepts them into the bank journal with one command
   (:func:`accept_statement_lines`: cashier only).  The next import of that
   account, or :func:`draft_pending`, drafts their vouchers.
7. **Settings remembered.**  The rules file and the layout (a mapping file
   or a profile) can be stored per community and per bank account
   (:func:`set_import_settings`); an import or :func:`draft_pending` that is
   given none uses them (the account's own before the community's).
8. **Dry run.**  ``dry_run=True`` does everything inside a savepoint and
   rolls it back: the proposed vouchers come back in
   :attr:`ImportResult.proposals` exactly as the real run would draft them,
   and the database is left as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from juzhang.core.lazy import lazy_attribute

if TYPE_CHECKING:
    from juzhang.statements.accounts import (
        bank_accounts,
        route_statement,
        set_bank_account,
        statement_number,
    )
    from juzhang.statements.drafting import draft_pending
    from juzhang.statements.importing import import_statement
    from juzhang.statements.lines import (
        AcceptSummary,
        accept_statement_bulk,
        accept_statement_lines,
        list_statement_lines,
    )
    from juzhang.statements.model import (
        CHUNK_ROWS,
        STATUS_ZH,
        Accepted,
        BankAccountView,
        DraftResult,
        ImportResult,
        LineStatus,
        Proposal,
        Span,
        StatementLineView,
        format_spans,
    )
    from juzhang.statements.settings import (
        ImportSettings,
        clear_import_settings,
        import_settings,
        set_import_settings,
        stored_layouts,
    )

# The public names are exported lazily: ``statements.accept_statement_bulk``
# imports :mod:`.lines` only, so the cashier's commands do not import the
# file side (the readers, pydantic models, openpyxl) that :mod:`.importing`
# and :mod:`.accounts` need.  Every name in ``__all__`` is in this table
# (tests/statements/test_package.py).
_EXPORTS: dict[str, str] = {
    "bank_accounts": "juzhang.statements.accounts",
    "route_statement": "juzhang.statements.accounts",
    "set_bank_account": "juzhang.statements.accounts",
    "statement_number": "juzhang.statements.accounts",
    "draft_pending": "juzhang.statements.drafting",
    "import_statement": "juzhang.statements.importing",
    "AcceptSummary": "juzhang.statements.lines",
    "accept_statement_bulk": "juzhang.statements.lines",
    "accept_statement_lines": "juzhang.statements.lines",
    "list_statement_lines": "juzhang.statements.lines",
    "CHUNK_ROWS": "juzhang.statements.model",
    "STATUS_ZH": "juzhang.statements.model",
    "Accepted": "juzhang.statements.model",
    "BankAccountView": "juzhang.statements.model",
    "DraftResult": "juzhang.statements.model",
    "ImportResult": "juzhang.statements.model",
    "LineStatus": "juzhang.statements.model",
    "Proposal": "juzhang.statements.model",
    "Span": "juzhang.statements.model",
    "StatementLineView": "juzhang.statements.model",
    "format_spans": "juzhang.statements.model",
    "ImportSettings": "juzhang.statements.settings",
    "clear_import_settings": "juzhang.statements.settings",
    "import_settings": "juzhang.statements.settings",
    "set_import_settings": "juzhang.statements.settings",
    "stored_layouts": "juzhang.statements.settings",
}


def __getattr__(name: str) -> object:
    """Import the module that defines ``name`` on first use (PEP 562)."""
    return lazy_attribute(__name__, _EXPORTS, globals(), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "CHUNK_ROWS",
    "STATUS_ZH",
    "AcceptSummary",
    "Accepted",
    "BankAccountView",
    "DraftResult",
    "ImportResult",
    "ImportSettings",
    "LineStatus",
    "Proposal",
    "Span",
    "StatementLineView",
    "accept_statement_bulk",
    "accept_statement_lines",
    "bank_accounts",
    "clear_import_settings",
    "draft_pending",
    "format_spans",
    "import_settings",
    "import_statement",
    "list_statement_lines",
    "route_statement",
    "set_bank_account",
    "set_import_settings",
    "statement_number",
    "stored_layouts",
]
