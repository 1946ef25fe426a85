"""Importers (导入): reading files people and banks give us into clean values.

This package is the *file side* of importing.  It imports nothing from
SQLAlchemy, :mod:`juzhang.storage` or the services (:mod:`juzhang.books`,
:mod:`juzhang.custody`, :mod:`juzhang.statements`, :mod:`juzhang.claims`, …):
it reads files into rows and values and checks them, and the services store
what it returns.

* :mod:`.table` — the shared vocabulary of the readers: rows, tables, limits,
  the one way a read is refused;
* :mod:`.reader` — safe, streaming reading of CSV (and, through :mod:`.xlsx`
  and :mod:`.xls`, of Excel workbooks) into rows: encoding detection, zip-bomb
  and DTD refusal, limits;
* :mod:`.values` — one cell at a time: dates, amounts, 借/贷 flags, text;
* :mod:`.profile` — bank statement layouts as data (``profiles/*.toml``) and
  user mapping files;
* :mod:`.bank` — statements read and normalised to
  :class:`~.statement_rows.StatementRow`, every bad row a problem;
* :mod:`.statement_rows` — statement lines, dedup keys, the running-balance check;
* :mod:`.rules` — categorisation rules for statement lines;
* :mod:`.claims` — claim batches (报账单): the form's columns, reading, the
  paperwork checks; :mod:`.claims_config` — the claim rules file;
* :mod:`.beancount_file` — beancount files loaded, mapped and checked.

Storing statement lines, matching them to the cashier's journal and drafting
vouchers is done by the services that call this API
(:mod:`juzhang.statements`, :mod:`juzhang.claims`,
:mod:`juzhang.beancount_import`, with :mod:`juzhang.import_batch`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from juzhang.core.lazy import lazy_attribute

if TYPE_CHECKING:
    from juzhang.importers.bank import (
        BalanceCheck,
        BankProfile,
        Statement,
        StatementRow,
        StatementStream,
        builtin_profiles,
        check_balances,
        dedup_keys,
        fingerprint,
        get_profile,
        load_profile,
        open_statement,
        read_statement,
    )
    from juzhang.importers.reader import DEFAULT_LIMITS, ReadLimits, Row, Table, open_table
    from juzhang.importers.values import Cell, CellError, Uncalculated

# The public names are exported lazily: ``from juzhang.importers import X``
# imports only the module defining X, so a service that needs one submodule
# (say :mod:`.rules`) does not pay for the statement readers and their
# dependencies at start-up.  Every name in ``__all__`` is in this table
# (tests/importers/test_package.py).
_EXPORTS: dict[str, str] = {
    "BalanceCheck": "juzhang.importers.bank",
    "BankProfile": "juzhang.importers.bank",
    "Statement": "juzhang.importers.bank",
    "StatementRow": "juzhang.importers.bank",
    "StatementStream": "juzhang.importers.bank",
    "builtin_profiles": "juzhang.importers.bank",
    "check_balances": "juzhang.importers.bank",
    "dedup_keys": "juzhang.importers.bank",
    "fingerprint": "juzhang.importers.bank",
    "get_profile": "juzhang.importers.bank",
    "load_profile": "juzhang.importers.bank",
    "open_statement": "juzhang.importers.bank",
    "read_statement": "juzhang.importers.bank",
    "DEFAULT_LIMITS": "juzhang.importers.reader",
    "ReadLimits": "juzhang.importers.reader",
    "Row": "juzhang.importers.reader",
    "Table": "juzhang.importers.reader",
    "open_table": "juzhang.importers.reader",
    "Cell": "juzhang.importers.values",
    "CellError": "juzhang.importers.values",
    "Uncalculated": "juzhang.importers.values",
}


def __getattr__(name: str) -> object:
    """Import the module that defines ``name`` on first use (PEP 562)."""
    return lazy_attribute(__name__, _EXPORTS, globals(), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "DEFAULT_LIMITS",
    "BalanceCheck",
    "BankProfile",
    "Cell",
    "CellError",
    "ReadLimits",
    "Row",
    "Statement",
    "StatementRow",
    "StatementStream",
    "Table",
    "Uncalculated",
    "builtin_profiles",
    "check_balances",
    "dedup_keys",
    "fingerprint",
    "get_profile",
    "load_profile",
    "open_statement",
    "open_table",
    "read_statement",
]
