"""Exporters (导出): the writers that turn computed reports into files.

Reports calculate, exporters render (STYLE.md habit 7).  The report
functions of :mod:`juzhang.reports` return frozen results; the modules here
turn those results into files and never change the books:

* :mod:`juzhang.exporters.excel` — Excel workbooks (openpyxl, the only module
  besides the importers' reader that imports it): every report as a printed
  form a Chinese accountant knows, the voucher print (记账凭证), and a reusable
  form writer (:class:`~juzhang.exporters.excel.Sheet`) for later forms such as
  the public disclosure;
* :mod:`juzhang.exporters.tabular` — JSON and CSV with documented, stable
  schemas (amounts as decimal strings);
* :mod:`juzhang.exporters.beancount` — the books of one entity or of all as a
  beancount 3 file (the only module that imports beancount for export).

Its :mod:`.shared` module holds what the writers share: the :data:`Report` union of
the results they accept, and the voucher print (:class:`VoucherPrint`,
:func:`voucher_print`) — a posted voucher with the account names and the
people's names a printed 记账凭证 shows, read from the books.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from juzhang.core.lazy import lazy_attribute

if TYPE_CHECKING:
    from juzhang.exporters.shared import (
        Report,
        VoucherPrint,
        VoucherPrintLine,
        account_path,
        period_text,
        voucher_print,
    )

# The names are exported lazily (PEP 562): importing a writer, e.g.
# ``juzhang.exporters.json_text`` for a JSON trial balance, runs this file
# and must not import every report module and the books.
_EXPORTS: dict[str, str] = {
    "Report": "juzhang.exporters.shared",
    "VoucherPrint": "juzhang.exporters.shared",
    "VoucherPrintLine": "juzhang.exporters.shared",
    "account_path": "juzhang.exporters.shared",
    "period_text": "juzhang.exporters.shared",
    "voucher_print": "juzhang.exporters.shared",
}


def __getattr__(name: str) -> object:
    """Import the module that defines ``name`` on first use (PEP 562)."""
    return lazy_attribute(__name__, _EXPORTS, globals(), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Report",
    "VoucherPrint",
    "VoucherPrintLine",
    "account_path",
    "period_text",
    "voucher_print",
]
