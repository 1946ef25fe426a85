"""A bank statement being read (:class:`StatementStream`): its rows normalised as they stream by.

After the header, blank rows and repeated header rows are skipped, an opening
balance row (期初余额, 承前页) sets the opening balance, a footer (合计,
以上数据仅供参考, 总笔数…) ends the data, and each other row becomes a
:class:`~juzhang.importers.statement_rows.StatementRow` or, when anything in it
is wrong, problems (``where`` = ``file:row:column``), all of them up to
``ReadLimits.max_problems``.  See :mod:`juzhang.importers.bank`.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, time
from decimal import Decimal
from types import TracebackType
from typing import cast

from juzhang.core.text import text_problem
from juzhang.errors import MoneyError, Problem, ValidationError
from juzhang.importers.bank_header import (
    _fold,
    _Header,
    _safe_text,
)
from juzhang.importers.reader import (
    ReadLimits,
    Row,
    Table,
    column_letter,
)
from juzhang.importers.statement_rows import (
    BalanceCheck,
    StatementRow,
    _account_key,
    same_account,
)
from juzhang.importers.values import (
    NO_AMOUNT,
    WHITESPACE,
    Cell,
    cell_text,
    clean_text,
    is_blank,
    parse_amount,
    parse_date,
    parse_direction,
    parse_time,
)

_CURRENCIES = frozenset({"人民币", "cny", "rmb", "156", "¥", "元", "人民币元"})
_ZERO = Decimal("0.00")

#: A currency before a footer word (人民币合计, RMB合计) does not hide the footer.
_FOOTER_PREFIX = re.compile(r"^(?:人民币|本币|外币|rmb|cny)")
#: A count line below the data: 笔数: 12, 共 12 笔, 12笔.
_COUNT_LINE = re.compile(r"笔数|^共?\d+笔")


class StatementStream:
    """A statement being read: layout facts, then rows streamed by iteration.

    ``profile``, ``header_row`` (Excel row number of the header's last row),
    ``columns`` (field → header text), ``own_account``/``own_name`` (from
    metadata, or the first row's own-account column) are known once opened.
    Iterating yields good :class:`StatementRow` values only; ``problems``
    collects every bad row meanwhile (and, with ``check_balance``, the breaks
    of the running balance once the last row is read); ``opening_balance`` is
    set when an opening row is met; ``zero_rows`` lists the row numbers of
    rows whose amount is zero (``+0.00``: 利息税 in a month without
    interest), kept out of the books.  Memory stays flat however long the file.
    """

    def __init__(
        self,
        table: Table,
        header: _Header,
        own_account: str | None,
        own_name: str | None,
        expected: str | None,
        limits: ReadLimits,
        rows: Iterator[Row],
    ) -> None:
        self.name = table.name
        self.profile = header.profile
        self.header_row = header.number
        self.columns = {f: header.names[c] for f, c in header.columns.items()}
        self.own_account = own_account
        self.own_name = own_name
        self.opening_balance: Decimal | None = None
        self.problems: list[Problem] = []
        self.zero_rows: list[int] = []
        self._table = table
        self._header = header
        self._expected = expected
        self._limits = limits
        self._rows = rows
        self._started = False
        self.check_balance = True
        if header.profile.direction == "payer_payee" and own_account is None:
            self._infer_own_account()

    def close(self) -> None:
        """Release the file."""
        self._table.close()

    def __enter__(self) -> StatementStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _infer_own_account(self) -> None:
        """Payer/payee layouts without metadata: the account on both sides of every row."""
        if self._expected is not None:
            self.own_account = self._expected
            return
        payer = self._header.columns["payer_account"]
        payee = self._header.columns["payee_account"]
        peeked = list(itertools.islice(self._rows, 50))
        self._rows = itertools.chain(peeked, self._rows)
        common: Counter[str] | None = None
        for row in peeked:
            seen = {_account_key(_cell_str(row, c)) for c in (payer, payee)} - {""}
            if not seen:
                continue
            common = Counter(seen) if common is None else common & Counter(seen)
        if common is not None and len(common) == 1:
            self.own_account = next(iter(common))

    def __iter__(self) -> Iterator[StatementRow]:
        if self._started:
            raise ValueError("a statement stream can be iterated once")
        self._started = True
        return _Normaliser(self).rows(self._rows)


def _cell_str(row: Row, column: int) -> str:
    return _safe_text(row.cells[column]) if column < len(row.cells) else ""


#: A cheap screen for :func:`~juzhang.core.text.text_problem`: a row whose texts
#: hold none of these characters and no long text needs no closer look.
_SUSPECT = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LONGEST_PLAIN = 100  # the shortest limit of the fields below

#: The limit (a key of :data:`~juzhang.core.text.TEXT_LIMITS`) each text field is held to.
_LIMIT_OF = {
    "counterparty": "counterparty",
    "counterparty_account": "reference",
    "counterparty_bank": "counterparty",
    "summary": "summary",
    "purpose": "purpose",
    "remark": "remark",
    "serial": "reference",
}

_TEXT_FIELDS = (
    "counterparty",
    "counterparty_account",
    "counterparty_bank",
    "summary",
    "purpose",
    "remark",
    "serial",
)


class _RowProblem(Exception):
    """A problem in one cell; collected, and the row skipped."""


class _Normaliser:
    """Turns table rows into statement rows and problems for one stream."""

    def __init__(self, stream: StatementStream) -> None:
        self.stream = stream
        header = stream._header  # noqa: SLF001  _Normaliser is the stream's own helper class
        self.profile = header.profile
        self.columns = header.columns
        self.names = header.names
        self.name = stream.name
        self.header_keys = tuple(_fold(n) for n in header.names)
        self.footer = tuple(_fold(m) for m in self.profile.footer)
        self.opening = tuple(_fold(m) for m in self.profile.opening)
        self.width = len(header.names)
        self.limit = stream._limits.max_problems  # noqa: SLF001  _Normaliser is the stream's own helper class
        self.row_problems: list[Problem] = []
        self.skipped = False
        self.own_seen: str | None = stream.own_account
        self.date_column = self.columns["date"]
        self.date1904 = stream._table.date1904  # noqa: SLF001  _Normaliser is the stream's own helper class
        self._parsed: tuple[date, time | None] | None = None
        self.text_columns = tuple(self.columns.get(f) for f in _TEXT_FIELDS)
        # cells are padded to width + 1, so column ``width`` is always empty
        self.text_getter = operator.itemgetter(
            *(self.width if c is None else c for c in self.text_columns)
        )
        self.debit_column = self.columns.get("debit", self.width)
        self.credit_column = self.columns.get("credit", self.width)
        self.check_own = "own_account" in self.columns
        self.check_currency = "currency" in self.columns
        self.text_only = stream._table.kind == "csv"  # noqa: SLF001  _Normaliser is the stream's own helper class

    # -- problems

    def where(self, number: int, column: int | None) -> str:
        if column is None:
            return f"{self.name}:{number}"
        header = self.names[column] if column < len(self.names) else ""
        letter = column_letter(column)
        return (
            f"{self.name}:{number}:{letter}({header})"
            if header
            else f"{self.name}:{number}:{letter}"
        )

    def problem(self, number: int, column: int | None, message: str) -> None:
        self.row_problems.append(Problem(self.where(number, column), message, "row"))

    # -- rows

    def rows(self, rows: Iterator[Row]) -> Iterator[StatementRow]:
        problems = self.stream.problems
        balances = (
            BalanceCheck(name=self.name, limit=self.limit) if self.stream.check_balance else None
        )
        for statement_row in self._rows(rows):
            if balances is not None:
                if self.skipped:  # a bad row in between: its movement is unknown
                    balances.restart()
                elif not balances.started:
                    balances.opening = self.stream.opening_balance
                balances.add(statement_row)
            self.skipped = False
            yield statement_row
        if balances is not None and len(problems) < self.limit:
            problems.extend(balances.problems())

    def _rows(self, rows: Iterator[Row]) -> Iterator[StatementRow]:
        problems = self.stream.problems
        ended_at: int | None = None
        for row in rows:
            cells = row.cells
            if ended_at is not None:
                self._after_footer(row, ended_at)
            elif self._has_date(row):
                result = self._normalise(row)
                if result is not None:
                    yield result
            elif (
                not cells
                or all(is_blank(cell) for cell in cells)
                or self._is_repeated_header(cells)
            ):
                continue
            elif self._is_footer(row):
                ended_at = row.number
                continue
            elif self._opening_row(row):
                pass
            else:
                self._normalise(row)  # a row with no date: report its problems
            if self.row_problems:
                self.skipped = True
                problems.extend(self.row_problems)
                self.row_problems.clear()
                if len(problems) >= self.limit:
                    problems.append(
                        Problem(
                            f"{self.name}:{row.number}",
                            f"问题超过 {self.limit} 个，停止读取 / more than {self.limit} "
                            "problems: reading stopped",
                            "file",
                        )
                    )
                    return

    def _is_repeated_header(self, cells: tuple[Cell, ...]) -> bool:
        date_cell = cells[self.date_column] if self.date_column < len(cells) else ""
        return isinstance(date_cell, str) and _fold(date_cell) == self.header_keys[self.date_column]

    def _has_date(self, row: Row) -> bool:
        """Whether the date cell holds a valid date (remembered for :meth:`_date`)."""
        cells = row.cells
        self._parsed = None
        if self.date_column >= len(cells) or is_blank(cells[self.date_column]):
            return False
        try:
            self._parsed = parse_date(cells[self.date_column], date1904=self.date1904)
        except (ValidationError, MoneyError):
            return False
        return True

    def _is_footer(self, row: Row) -> bool:
        for cell in row.cells:
            if isinstance(cell, str) and cell:
                key = _FOOTER_PREFIX.sub("", _fold(cell))
                if key and (key.startswith(self.footer) or _COUNT_LINE.search(key)):
                    return True
        return False

    def _after_footer(self, row: Row, ended_at: int) -> None:
        if self._has_date(row):
            self.problem(
                row.number,
                None,
                f"表尾 (第 {ended_at} 行) 之后还有交易行 / a transaction row after the footer "
                f"at row {ended_at}",
            )

    def _normalise(self, row: Row) -> StatementRow | None:
        cells = row.cells
        number = row.number
        width = self.width
        before = len(self.row_problems)
        if len(cells) <= width:
            cells = cells + ("",) * (width + 1 - len(cells))
        elif any(not is_blank(c) for c in cells[width:]):
            self.problem(
                number,
                width,
                f"这一行有 {len(cells)} 列，表头只有 {width} 列 (金额里有未加引号的逗号?) / "
                f"{len(cells)} cells but the header has {width} (an unquoted comma?)",
            )
        day, clock = self._date(cells, number)
        debit, credit, counter = self._amounts(cells, number)
        balance = self._balance(cells, number)
        texts = self._texts(cells, number)
        if self.check_own:
            self._check_own(cells, number)
        if self.check_currency:
            self._check_currency(cells, number)
        if counter is not None:
            texts[0:3] = counter
        if len(self.row_problems) > before or day is None or debit is None or credit is None:
            return None
        if not debit and not credit:
            if balance is not None and self._is_opening(texts, cells):
                self.stream.opening_balance = balance
                return None
            if self._zero_amount(cells):
                self.stream.zero_rows.append(number)
                return None
            self.problem(number, None, "没有发生额 / no amount in this row")
            return None
        raw = (
            cast(tuple[str, ...], row.cells) if self.text_only else tuple(map(cell_text, row.cells))
        )
        counterparty, account, bank, summary, purpose, remark, serial = texts
        return StatementRow(
            number, day, clock, debit, credit, balance, counterparty, account, bank, summary,
            purpose, remark, serial, raw,
        )  # fmt: skip

    def _zero_amount(self, cells: tuple[Cell, ...]) -> bool:
        """Whether an amount cell holds a written zero (``+0.00``), not only blanks."""
        amounts = [self.columns.get(f) for f in ("debit", "credit", "amount")]
        return any(
            column is not None and _safe_text(self._cell(cells, column)) not in NO_AMOUNT
            for column in amounts
        )

    def _opening_row(self, row: Row) -> bool:
        """An opening balance row without a date (期初余额 / 承前页): remember its balance."""
        cells = row.cells + ("",) * (self.width + 1 - len(row.cells))
        if not self._is_opening([], cells):
            return False
        amounts = [self.columns.get(f) for f in ("debit", "credit", "amount")]
        for column in amounts:
            if column is not None and _safe_text(cells[column]) not in NO_AMOUNT:
                return False
        balance = self._balance(cells, row.number)
        if balance is not None:
            self.stream.opening_balance = balance
        return True

    def _is_opening(self, texts: list[str], cells: tuple[Cell, ...]) -> bool:
        candidates = texts + [_safe_text(c) for c in cells if isinstance(c, str)]
        return any(_fold(text).startswith(self.opening) for text in candidates if text)

    def _cell(self, cells: tuple[Cell, ...], column: int | None) -> Cell:
        if column is None or column >= len(cells):
            return ""
        return cells[column]

    def _date(self, cells: tuple[Cell, ...], number: int) -> tuple[date | None, time | None]:
        column = self.date_column
        if self._parsed is None:
            try:
                parse_date(self._cell(cells, column), date1904=self.date1904)
            except (ValidationError, MoneyError) as exc:
                self.problem(number, column, f"日期 / date: {exc}")
            return None, None
        day, clock = self._parsed
        time_column = self.columns.get("time")
        if clock is None and time_column is not None:
            try:
                clock = parse_time(self._cell(cells, time_column))
            except ValidationError as exc:
                self.problem(number, time_column, f"时间 / time: {exc}")
        return day, clock

    def _amount(self, cells: tuple[Cell, ...], number: int, column: int | None) -> Decimal | None:
        if column is None:
            return None
        try:
            return parse_amount(self._cell(cells, column))
        except (ValidationError, MoneyError) as exc:
            self.problem(number, column, f"金额 / amount: {exc}")
            raise _RowProblem from None

    def _texts(self, cells: tuple[Cell, ...], number: int) -> list[str]:
        """The text fields, trimmed; the common all-text case in one pass."""
        try:
            texts = [cell.strip(WHITESPACE) for cell in self.text_getter(cells)]
        except AttributeError:  # a number, date or formula cell among them
            texts = [self._text(cells, number, column) for column in self.text_columns]
            self._check_texts(texts, number)
            return texts
        if '="' in "".join(texts):
            texts = [clean_text(text) for text in texts]
        self._check_texts(texts, number)
        return texts

    def _check_texts(self, texts: list[str], number: int) -> None:
        """Every text field within its limit, no control or bidi characters (one rule)."""
        if not _SUSPECT.search("".join(texts)) and max(map(len, texts)) <= _LONGEST_PLAIN:
            return
        for name, column, text in zip(_TEXT_FIELDS, self.text_columns, texts, strict=True):
            bad = text_problem(text, _LIMIT_OF[name]) if column is not None else None
            if bad is not None:
                self.problem(number, column, bad)

    def _balance(self, cells: tuple[Cell, ...], number: int) -> Decimal | None:
        try:
            return self._amount(cells, number, self.columns.get("balance"))
        except _RowProblem:
            return None

    def _text(self, cells: tuple[Cell, ...], number: int, column: int | None) -> str:
        if column is None:
            return ""
        cell = cells[column] if column < len(cells) else ""
        if type(cell) is str:
            text = cell.strip(WHITESPACE)
            if not text.startswith('="'):
                return text
        try:
            return clean_text(self._cell(cells, column))
        except ValidationError as exc:
            self.problem(number, column, str(exc))
            return ""

    def _amounts(
        self, cells: tuple[Cell, ...], number: int
    ) -> tuple[Decimal | None, Decimal | None, list[str] | None]:
        """(debit, credit, counterparty fields from payer/payee or None)."""
        try:
            direction = self.profile.direction
            if direction == "split":
                return (*self._split(cells, number), None)
            amount = self._amount(cells, number, self.columns["amount"])
            if amount is None:
                self.problem(number, self.columns["amount"], "金额为空 / the amount is empty")
                return None, None, None
            if direction == "signed":
                positive_in = self.profile.signed_positive == "credit"
                inflow = (amount > 0) == positive_in
                return (_ZERO, abs(amount), None) if inflow else (abs(amount), _ZERO, None)
            if direction == "flag":
                return (*self._flagged(cells, number, amount), None)
            return self._payer_payee(cells, number, amount)
        except _RowProblem:
            return None, None, None

    def _split(self, cells: tuple[Cell, ...], number: int) -> tuple[Decimal | None, Decimal | None]:
        debit_column, credit_column = self.debit_column, self.credit_column
        try:
            debit = parse_amount(cells[debit_column]) or _ZERO
        except (ValidationError, MoneyError) as exc:
            self.problem(number, debit_column, f"金额 / amount: {exc}")
            debit = None
        try:
            credit = parse_amount(cells[credit_column]) or _ZERO
        except (ValidationError, MoneyError) as exc:
            self.problem(number, credit_column, f"金额 / amount: {exc}")
            return None, None
        if debit is None:
            return None, None
        if self.profile.out_negative:
            debit = -debit if debit else _ZERO
        if debit and credit:
            self.problem(
                number,
                None,
                f"同一行既有支出 {debit} 又有收入 {credit} / both out ({debit}) and in ({credit})",
            )
            return None, None
        flag_column = self.columns.get("direction")
        if flag_column is not None and (debit or credit):
            try:
                flag = parse_direction(self._cell(cells, flag_column))
            except ValidationError as exc:
                self.problem(number, flag_column, f"借贷标志 / debit/credit flag: {exc}")
                return None, None
            if flag is not None and (flag == "debit") != bool(debit):
                self.problem(
                    number,
                    flag_column,
                    f"借贷标志与金额列不符 / the flag says {flag} but the amount is in the "
                    f"{'debit' if debit else 'credit'} column",
                )
                return None, None
        return debit, credit

    def _flagged(
        self, cells: tuple[Cell, ...], number: int, amount: Decimal
    ) -> tuple[Decimal | None, Decimal | None]:
        column = self.columns["direction"]
        try:
            flag = parse_direction(self._cell(cells, column))
        except ValidationError as exc:
            self.problem(number, column, f"借贷标志 / debit/credit flag: {exc}")
            return None, None
        if flag is None:
            self.problem(number, column, "借贷标志为空 / the debit/credit flag is empty")
            return None, None
        return (amount, _ZERO) if flag == "debit" else (_ZERO, amount)

    def _payer_payee(
        self, cells: tuple[Cell, ...], number: int, amount: Decimal
    ) -> tuple[Decimal | None, Decimal | None, list[str] | None]:
        own = self.stream.own_account
        columns = self.columns
        payer = self._text(cells, number, columns["payer_account"])
        payee = self._text(cells, number, columns["payee_account"])
        if own is None:
            self.problem(
                number,
                None,
                "无法确定本方账号，请指定 account / cannot tell the own account: pass account=",
            )
            return None, None, None
        is_payer, is_payee = same_account(own, payer), same_account(own, payee)
        if is_payer == is_payee:
            self.problem(
                number,
                columns["payer_account"],
                f"付款人 {payer} 与收款人 {payee} 都{'是' if is_payer else '不是'}本方账号 {own} / "
                f"payer and payee are {'both' if is_payer else 'neither'} the own account",
            )
            return None, None, None
        if amount < 0 and is_payee:
            self.problem(
                number,
                columns["amount"],
                f"金额为负 ({amount}) 但本方是收款人 / "
                "negative amount but the account is the payee",
            )
            return None, None, None
        side = "payee" if is_payer else "payer"
        counter = [
            self._text(cells, number, columns.get(f"{side}_name")),
            payee if is_payer else payer,
            self._text(cells, number, columns.get(f"{side}_bank")),
        ]
        value = abs(amount)
        return (value, _ZERO, counter) if is_payer else (_ZERO, value, counter)

    def _check_own(self, cells: tuple[Cell, ...], number: int) -> None:
        column = self.columns.get("own_account")
        if column is None:
            return
        found = self._text(cells, number, column)
        if not found:
            return
        own_name_column = self.columns.get("own_name")
        if self.stream.own_name is None and own_name_column is not None:
            # the name on the rows, also when the account came from the metadata
            self.stream.own_name = self._text(cells, number, own_name_column) or None
        if self.own_seen is None:
            self.own_seen = found
            if self.stream.own_account is None:
                self.stream.own_account = found
                expected = self.stream._expected  # noqa: SLF001  the stream's own helper class
                if expected is not None and not same_account(expected, found):
                    self.problem(
                        number,
                        column,
                        f"对账单的账号是 {found}，不是要导入的账号 {expected} / "
                        f"the statement is for account {found}, not {expected}",
                    )
        elif not same_account(self.own_seen, found):
            self.problem(
                number,
                column,
                f"本方账号 {found} 与前面的行 ({self.own_seen}) 不同 / own account {found} differs "
                f"from earlier rows ({self.own_seen})",
            )

    def _check_currency(self, cells: tuple[Cell, ...], number: int) -> None:
        column = self.columns.get("currency")
        if column is None:
            return
        text = self._text(cells, number, column)
        if text and _fold(text) not in _CURRENCIES:
            self.problem(
                number,
                column,
                f"币种 {text!r} 不是人民币 / currency {text!r} is not RMB",
            )
