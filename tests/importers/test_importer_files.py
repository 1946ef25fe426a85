"""The file side of importing: sample statements of every profile, readers and cell values.

The sample files in ``tests/data/`` are made by :mod:`tests.statement_samples`
from one month of transactions; the expected JSON next to each is computed
from those transactions, never from the reader.
"""

from __future__ import annotations

import csv
import json
import tracemalloc
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from juzhang.errors import MoneyError, ProblemsError, ValidationError
from juzhang.importers import bank, reader, values
from juzhang.importers.bank import (
    BalanceCheck,
    Statement,
    StatementRow,
    check_balances,
    dedup_keys,
    fingerprint,
    load_profile,
    open_statement,
    read_statement,
    same_account,
)
from juzhang.importers.reader import ReadLimits, open_table
from juzhang.importers.values import (
    CellError,
    Uncalculated,
    clean_text,
    excel_serial,
    parse_amount,
    parse_date,
    parse_direction,
    parse_time,
)
from tests import statement_samples as samples
from tests.statement_samples import DATA, SAMPLES, Sample

# --------------------------------------------------------------------------- helpers


def as_json(statement: Statement) -> dict[str, Any]:
    """A statement in the shape of the expected JSON files."""

    def money(value: Decimal | None) -> str | None:
        return None if value is None else f"{value:.2f}"

    return {
        "profile": statement.profile,
        "own_account": statement.own_account,
        "own_name": statement.own_name,
        "header_row": statement.header_row,
        "opening_balance": money(statement.opening_balance),
        "rows": [
            {
                "number": r.number,
                "date": r.date.isoformat(),
                "time": r.time.isoformat() if r.time else None,
                "debit": money(r.debit),
                "credit": money(r.credit),
                "balance": money(r.balance),
                "counterparty": r.counterparty,
                "counterparty_account": r.counterparty_account,
                "counterparty_bank": r.counterparty_bank,
                "summary": r.summary,
                "purpose": r.purpose,
                "remark": r.remark,
                "serial": r.serial,
            }
            for r in statement.rows
        ],
    }


def read_sample(folder: Path, sample: Sample) -> tuple[Statement, list[Any]]:
    profile = load_profile(folder / sample.mapping) if sample.mapping else None
    return read_statement(folder / sample.filename, profile=profile)


def expected_of(folder: Path, sample: Sample) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (folder / f"{sample.filename}.expected.json").read_text("utf-8")
    )
    data.pop("file")
    return data


IDS = [s.filename for s in SAMPLES]

# --------------------------------------------------------------------------- samples


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_sample_reads_as_expected(sample: Sample) -> None:
    statement, problems = read_sample(DATA, sample)
    assert problems == []
    assert as_json(statement) == expected_of(DATA, sample)
    assert check_balances(statement.rows, opening=statement.opening_balance) == []


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_committed_expectation_matches_the_generator(sample: Sample) -> None:
    assert expected_of(DATA, sample) == {k: v for k, v in sample.expected().items() if k != "file"}


def test_regenerated_samples_read_the_same(tmp_path: Path) -> None:
    written = {p.name for p in samples.write_samples(tmp_path)}
    for sample in SAMPLES:
        if sample.filename not in written:  # XLS without xlwt: the committed file stands
            assert sample.filename.endswith(".xls")
            continue
        statement, problems = read_sample(tmp_path, sample)
        assert problems == []
        assert as_json(statement) == expected_of(tmp_path, sample)


@pytest.mark.parametrize("sample", [s for s in SAMPLES if not s.mapping], ids=lambda s: s.filename)
def test_profile_is_detected_and_forcing_it_gives_the_same(sample: Sample) -> None:
    auto, _ = read_statement(DATA / sample.filename)
    forced, _ = read_statement(DATA / sample.filename, profile=sample.layout().profile)
    assert auto.profile == sample.layout().profile
    assert forced == auto


def test_every_builtin_profile_has_a_sample() -> None:
    covered = {s.layout().profile for s in SAMPLES}
    assert {p.name for p in bank.builtin_profiles()} <= covered
    assert {"icbc", "icbc-dc", "ccb", "abc", "boc", "rcb"} <= covered
    assert {"bocom", "cmb", "spdb", "psbc", "cib", "citic", "rcc", "rcb-corp"} <= covered


def test_samples_cover_the_formats_and_oddities() -> None:
    kinds = set()
    for sample in SAMPLES:
        with open_table(DATA / sample.filename) as table:
            kinds.add((table.kind, table.encoding, table.delimiter))
    encodings = {e for _, e, _ in kinds}
    assert {"gb18030", "utf-8-sig", "utf-8"} <= encodings
    assert {k for k, _, _ in kinds} == {"csv", "xlsx", "xls"}
    assert {d for _, _, d in kinds} >= {",", "\t", ";"}


def test_raw_cells_are_kept_verbatim() -> None:
    statement, _ = read_statement(DATA / "icbc.gbk.csv")
    last = statement.rows[-1]
    assert last.remark == "=SUM(A1)"  # formula text is text, not an error
    assert last.raw[8] == "代发工资\u3000"  # full-width space kept in the raw cell
    assert last.summary == "代发工资"
    assert statement.rows[0].raw[7] == "\t办公经费拨款"


def test_xlsx_reader_agrees_with_calamine_and_openpyxl() -> None:
    import openpyxl
    import python_calamine

    for name in ("icbc-dc.xlsx", "abc.xlsx", "icbc-dc-1904.xlsx"):
        with open_table(DATA / name) as table:
            ours = {row.number: row.cells for row in table.rows()}
        book = openpyxl.load_workbook(DATA / name, read_only=True)
        theirs = {
            number: tuple(c.value for c in row)
            for number, row in enumerate(book.worksheets[0].iter_rows(), 1)
        }
        calamine = python_calamine.CalamineWorkbook.from_path(DATA / name).get_sheet_by_index(0)
        by_calamine = dict(enumerate(calamine.to_python(skip_empty_area=False), 1))
        for number, cells in ours.items():
            for column, cell in enumerate(cells):
                expected = theirs[number][column]
                if isinstance(cell, Decimal):
                    assert Decimal(repr(expected)) == cell
                    assert Decimal(repr(by_calamine[number][column])) == cell
                elif cell == "":
                    assert expected in (None, "")
                else:
                    assert cell == expected, (name, number, column)


def test_xls_reader_keeps_row_numbers_and_types() -> None:
    with open_table(DATA / "rcb-serial.xls") as table:
        rows = list(table.rows())
    assert table.kind == "xls"
    assert rows[0].number == 1
    assert rows[0].cells[0] == "某某农村商业银行 客户账户交易明细"
    data = next(r for r in rows if r.cells and r.cells[0] == "S0001")
    assert data.number == 5  # title, metadata, header, opening row above it
    assert data.cells[1] == Decimal("45659")  # a serial, exact
    assert parse_date(data.cells[1]) == (date(2025, 1, 2), None)


# --------------------------------------------------------------------------- reader


def write_text(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030"),
     ("utf-16", "utf-16")],
)  # fmt: skip
def test_encoding_detection(tmp_path: Path, encoding: str, expected: str) -> None:
    text = "日期,摘要,金额\r\n2025-01-01,收到街道拨款〇,1.00\r\n" * 20 + "2025-01-02,𠀀,2.00\r\n"
    if encoding == "gbk":
        text = text.replace("〇", "").replace("𠀀", "汇")
    path = write_text(tmp_path / "x.csv", text, encoding)
    with open_table(path) as table:
        rows = list(table.rows())
    assert table.encoding == expected
    assert rows[1].cells == (
        "2025-01-01",
        "收到街道拨款" + ("" if encoding == "gbk" else "〇"),
        "1.00",
    )


@pytest.mark.parametrize("delimiter", [",", "\t", ";", "|"])
def test_delimiter_detection_with_title_rows_and_quotes(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "x.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(["某某银行交易明细"])
        writer.writerow(["账号：123"])
        writer.writerow(["日期", "摘要", "金额"])
        for n in range(10):
            writer.writerow([f"2025-01-{n + 1:02d}", f'含{delimiter}分隔符和"引号"', "1,234.00"])
    with open_table(path) as table:
        rows = list(table.rows())
    assert table.delimiter == delimiter
    assert rows[3].cells == ("2025-01-01", f'含{delimiter}分隔符和"引号"', "1,234.00")


def test_single_quoted_csv(tmp_path: Path) -> None:
    lines = ["日期,摘要,金额"] + [f"2025-01-{n:02d},'转账, 含逗号',12.00" for n in range(1, 9)]
    path = write_text(tmp_path / "x.csv", "\n".join(lines) + "\n", "utf-8")
    with open_table(path) as table:
        rows = list(table.rows())
    assert (table.delimiter, table.quotechar) == (",", "'")
    assert rows[1].cells == ("2025-01-01", "转账, 含逗号", "12.00")


def test_csv_row_numbers_count_records_as_excel_does(tmp_path: Path) -> None:
    path = write_text(tmp_path / "x.csv", 'a,b\r\n"two\r\nlines",x\r\n\r\nc,d\r\n', "utf-8")
    with open_table(path) as table:
        rows = list(table.rows())
    assert [(r.number, r.cells) for r in rows] == [
        (1, ("a", "b")),
        (2, ("two\r\nlines", "x")),
        (3, ()),
        (4, ("c", "d")),
    ]


def test_xlsx_row_and_column_numbers_are_absolute(tmp_path: Path) -> None:
    sheet = samples.sheet_xml([[], [], ["", "", "x"]], {(5, 3): '<c r="REF"><v>7</v></c>'})
    path = samples.write_raw_xlsx(tmp_path / "x.xlsx", sheet)
    with open_table(path) as table:
        rows = [r for r in table.rows() if r.cells]
    assert rows == [reader.Row(3, ("", "", "x")), reader.Row(5, ("", "", "", Decimal("7")))]


def test_xlsx_cell_kinds(tmp_path: Path) -> None:
    shared = (
        '<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>共享</t></si><si><r><t>富</t></r><r><t>文本</t></r><rPh><t>ふ</t></rPh></si>"
        "<si><t>a_x000D_b &amp; &lt;c&gt;</t></si></sst>"
    )
    cells = {
        (1, 0): '<c r="REF" t="s"><v>0</v></c>',
        (1, 1): '<c r="REF" t="s"><v>1</v></c>',
        (1, 2): '<c r="REF" t="s"><v>2</v></c>',
        (1, 3): '<c r="REF" t="b"><v>1</v></c>',
        (1, 4): '<c r="REF" t="e"><v>#N/A</v></c>',
        (1, 5): '<c r="REF" t="str"><f>A1&amp;"x"</f><v>共享x</v></c>',
        (1, 6): '<c r="REF"><f>SUM(A1)</f></c>',
        (1, 7): '<c r="REF"><f>1+1</f><v></v></c>',
        (1, 8): '<c r="REF" t="inlineStr"><is><t xml:space="preserve"> 空格 </t></is></c>',
        (1, 9): '<c r="REF" t="d"><v>2025-01-02T10:20:30</v></c>',
        (1, 10): '<c r="REF"><v>1.5E-3</v></c>',
        (1, 11): '<x:c r="REF" xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:v>3</x:v></x:c>',
    }  # fmt: skip
    path = samples.write_raw_xlsx(tmp_path / "x.xlsx", samples.sheet_xml([], cells), shared=shared)
    with open_table(path) as table:
        (row,) = list(table.rows())
    assert row.cells == (
        "共享",
        "富文本",
        "a\rb & <c>",
        True,
        CellError("#N/A"),
        "共享x",
        Uncalculated("SUM(A1)"),
        Uncalculated("1+1"),
        " 空格 ",
        datetime(2025, 1, 2, 10, 20, 30),
        Decimal("0.0015"),
        Decimal("3"),
    )


def test_csv_reading_streams_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    line = "2025-01-01 10:00:00,某某公司,6222000011112222,1234.56,,99999.99,货款\n"
    with path.open("w", encoding="gbk") as handle:
        handle.write("交易时间,对方户名,对方账号,支出金额,收入金额,余额,用途\n")
        for _ in range(60):
            handle.write(line * 1000)
    tracemalloc.start()
    with open_table(path) as table:
        count = sum(1 for _ in table.rows())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 60_001
    assert peak < 24 * 2**20, peak  # the file is 4.6 MB; peak is the reader's chunks


def test_xlsx_reading_streams_with_flat_memory(tmp_path: Path) -> None:
    rows = [["交易时间", "支出金额", "余额"]] + [["2025-01-01", 1.5, 99.5]] * 30_000
    path = samples.write_raw_xlsx(tmp_path / "big.xlsx", samples.sheet_xml(rows))
    tracemalloc.start()
    with open_table(path) as table:
        count = sum(1 for _ in table.rows())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 30_001
    assert peak < 48 * 2**20, peak


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("20250101", (date(2025, 1, 1), None)),
        ("2025-01-01", (date(2025, 1, 1), None)),
        ("2025/1/1", (date(2025, 1, 1), None)),
        ("2025.1.1", (date(2025, 1, 1), None)),
        ("2025年1月1日", (date(2025, 1, 1), None)),
        ("2025年01月01日 10时20分30秒", (date(2025, 1, 1), time(10, 20, 30))),
        ("2025-01-01 10:20:30", (date(2025, 1, 1), time(10, 20, 30))),
        ("2025/1/1 9:05", (date(2025, 1, 1), time(9, 5))),
        ("20250101 102030", (date(2025, 1, 1), time(10, 20, 30))),
        ("20250101102030", (date(2025, 1, 1), time(10, 20, 30))),
        ("2025-01-01T10:20:30", (date(2025, 1, 1), time(10, 20, 30))),
        ("2025-01-01-10.20.30.123456", (date(2025, 1, 1), time(10, 20, 30, 123456))),
        ("\t２０２５－０１－０１\u3000", (date(2025, 1, 1), None)),
        ("45658", (date(2025, 1, 1), None)),
        ("45658.5", (date(2025, 1, 1), time(12))),
        (Decimal("45658"), (date(2025, 1, 1), None)),
        (Decimal("45658.4309027778"), (date(2025, 1, 1), time(10, 20, 30))),
        (Decimal("20250101"), (date(2025, 1, 1), None)),
        (datetime(2025, 1, 1, 10, 20, 30), (date(2025, 1, 1), time(10, 20, 30))),
        (datetime(2025, 1, 1), (date(2025, 1, 1), None)),
        (date(2025, 1, 1), (date(2025, 1, 1), None)),
    ],
)
def test_parse_date(cell: values.Cell, expected: tuple[date, time | None]) -> None:
    assert parse_date(cell) == expected


def test_excel_serials_in_both_date_systems() -> None:
    assert excel_serial(Decimal(1)) == datetime(1900, 1, 1)
    assert excel_serial(Decimal(59)) == datetime(1900, 2, 28)
    assert excel_serial(Decimal(61)) == datetime(1900, 3, 1)
    assert excel_serial(Decimal(0), date1904=True) == datetime(1904, 1, 1)
    assert excel_serial(Decimal(44196), date1904=True) == datetime(2025, 1, 1)
    assert parse_date(Decimal(44196), date1904=True) == (date(2025, 1, 1), None)
    with pytest.raises(ValidationError, match="1900-02-29"):
        excel_serial(Decimal(60))
    with pytest.raises(ValidationError):
        excel_serial(Decimal(-1))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,234.56", "1234.56"),
        ("(123.00)", "-123.00"),
        ("-5", "-5.00"),
        ("１２３．４５", "123.45"),
        ("¥1,000", "1000.00"),
        ("￥12.3", "12.30"),
        ("RMB 12", "12.00"),
        (" 7.10\t", "7.10"),
        ("0.00", "0.00"),
        ("-0.00", "0.00"),
        (Decimal("1234.5"), "1234.50"),
        (Decimal("0.30000000000000004"), "0.30"),  # a float sum written by a program
        (Decimal("1E+2"), "100.00"),
    ],
)
def test_parse_amount(cell: values.Cell, expected: str) -> None:
    result = parse_amount(cell)
    assert result == Decimal(expected)
    assert result is not None and result.as_tuple().exponent == -2


@pytest.mark.parametrize("cell", ["", "-", "--", "—", "——", "－", "\u3000", " \t"])
def test_parse_amount_none(cell: str) -> None:
    assert parse_amount(cell) is None


@pytest.mark.parametrize(
    ("cell", "error"),
    [
        ("12a.00", MoneyError),
        ("1.234", MoneyError),
        ("1e5", MoneyError),
        ("NaN", MoneyError),
        (Decimal("1.005"), MoneyError),
        (True, ValidationError),
        (date(2025, 1, 1), ValidationError),
        (Uncalculated("SUM(A1)"), ValidationError),
        (CellError("#DIV/0!"), ValidationError),
    ],
)
def test_parse_amount_refuses(cell: values.Cell, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_amount(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("借", "debit"), ("借 Dr", "debit"), ("DR", "debit"), ("D", "debit"), ("支", "debit"),
     ("支出", "debit"), ("贷", "credit"), ("贷 Cr", "credit"), ("c", "credit"), ("收", "credit"),
     ("收入", "credit"), ("（贷）", "credit"), ("", None)],
)  # fmt: skip
def test_parse_direction(cell: str, expected: str | None) -> None:
    assert parse_direction(cell) == expected


def test_parse_time_and_text() -> None:
    assert parse_time("10:20") == time(10, 20)
    assert parse_time(Decimal("0.5")) == time(12)
    assert parse_time("") is None
    with pytest.raises(ValidationError):
        parse_time("25:00")
    assert clean_text("\u3000\t 某某\u00a0公司 \u200b") == "某某\u00a0公司"
    assert clean_text('="0012345"') == "0012345"
    assert clean_text("=SUM(A1)") == "=SUM(A1)"
    assert clean_text(Decimal("1E+2")) == "100"


# --------------------------------------------------------------------------- statements


def row(
    number: int,
    day: int,
    debit: str = "0",
    credit: str = "0",
    balance: str | None = None,
    serial: str = "",
    counterparty: str = "某某",
    summary: str = "转账",
) -> StatementRow:
    return StatementRow(
        number, date(2025, 1, day), None, Decimal(debit), Decimal(credit),
        None if balance is None else Decimal(balance), counterparty, "", "", summary, "", "",
        serial, (),
    )  # fmt: skip


def test_check_balances_reports_breaks_with_row_numbers() -> None:
    rows = [row(5, 1, credit="10", balance="110"), row(6, 2, debit="5", balance="105"),
            row(7, 3, debit="5", balance="100"), row(8, 4, credit="1", balance="101")]  # fmt: skip
    assert check_balances(rows, opening=Decimal(100)) == []
    problems = check_balances([*rows[:2], row(7, 3, debit="5", balance="98"), rows[3]])
    assert [p.where for p in problems] == ["7", "8"]
    assert "100.00" in problems[0].message and "98" in problems[0].message
    opening = check_balances(rows, opening=Decimal(101), name="f.csv")
    assert [p.where for p in opening] == ["f.csv:5"]


def test_check_balances_understands_newest_first_and_missing_balances() -> None:
    rows = [row(5, 4, credit="1", balance="100"), row(6, 3, debit="5", balance="99"),
            row(7, 2, debit="5"), row(8, 1, credit="10", balance="109")]  # fmt: skip
    assert check_balances(rows) == []
    broken = [*rows[:3], row(8, 1, credit="10", balance="108")]
    assert [p.where for p in check_balances(broken)] == ["6"]


def test_balance_check_lists_a_bounded_number_of_breaks() -> None:
    check = BalanceCheck(limit=3)
    for n in range(10):
        check.add(row(n + 1, 1, credit="1", balance=str(n * 7)))
    problems = check.problems()
    assert len(problems) == 4 and "9" in problems[-1].message


def test_newest_first_statement_has_no_balance_breaks(tmp_path: Path) -> None:
    rows = samples.icbc().rows()
    rows[5:10] = rows[5:10][::-1]
    path = tmp_path / "newest-first.csv"
    samples.write_csv(path, rows, "gbk")
    statement, problems = read_statement(path)
    assert problems == []
    assert [r.serial for r in statement.rows] == ["S0005", "S0004", "S0003", "S0002", "S0001"]
    rows[7][6] = "1.00"
    samples.write_csv(path, rows, "gbk")
    _, problems = read_statement(path)
    assert [p.where for p in problems] == ["newest-first.csv:7", "newest-first.csv:8"]
    assert problems[0].subject == "balance"


def test_fingerprint_and_dedup_keys() -> None:
    a = row(5, 1, debit="12.00", balance="88.00", summary="手续费")
    same = row(9, 1, debit="12.00", balance="88.00", summary="手续费")
    assert fingerprint(a, "6222 0000") == fingerprint(same, "62220000")
    assert fingerprint(a, "6222") != fingerprint(row(5, 1, debit="12.01", balance="88.00"), "6222")
    assert fingerprint(a, "6222") != fingerprint(a, "6223")
    keys = dedup_keys([a, same, row(6, 1, credit="1", serial="S1")], "6222")
    assert keys[0].endswith("#1") and keys[1].endswith("#2") and keys[0][:-2] == keys[1][:-2]
    assert keys[2] == "serial:6222:2025-01-01:S1#1"
    again = dedup_keys([same, row(6, 1, credit="1", serial="S1"), a], "6222")
    assert set(again) == set(keys)


def test_same_account_with_masks_and_spaces() -> None:
    assert same_account("6222000011112222", "6222 0000 1111 2222")
    assert same_account("6222000011112222", "6222****2222")
    assert same_account("6222000011112222", "6222 **** **** 2222")
    assert not same_account("6222000011112222", "6223****2222")
    assert not same_account("6222000011112222", "6222000011112223")


def test_statement_stream_reads_header_facts_before_rows() -> None:
    with open_statement(DATA / "ccb.utf8-bom.csv") as stream:
        assert stream.profile.name == "ccb"
        assert stream.header_row == 1
        assert stream.columns["debit"] == "借方发生额（支取）"
        first = next(iter(stream))
        assert stream.own_account == samples.OWN_ACCOUNT  # from the first row's 账号
        assert first.credit == Decimal("50000.00")


def test_expected_account_is_accepted_masked_or_refused() -> None:
    statement, problems = read_statement(DATA / "icbc.gbk.csv", account="6222-0000-1111-2222")
    assert problems == [] and len(statement.rows) == 5
    with pytest.raises(ProblemsError, match="6222000099998888"):
        read_statement(DATA / "icbc.gbk.csv", account="6222000099998888")


def test_the_documented_profile_example_is_valid() -> None:
    import textwrap
    import tomllib

    from juzhang.importers import profile

    doc = profile.__doc__ or ""
    example = doc[doc.index("A profile file::") + len("A profile file::") : doc.index("Fields (")]
    parsed = profile.parse_profile(tomllib.loads(textwrap.dedent(example)), "doc")
    assert parsed.name == "mybank" and parsed.columns["debit"] == ("支出金额",)


def test_user_mapping_is_the_profile_schema() -> None:
    profile = load_profile(DATA / "mapping-signed.toml")
    assert profile.direction == "signed" and profile.columns["amount"] == ("发生额",)
    assert profile.footer == bank.DEFAULT_FOOTER


def test_limits_are_configurable(tmp_path: Path) -> None:
    limits = ReadLimits(max_rows=3)
    with pytest.raises(ProblemsError, match="rows"):
        read_statement(DATA / "icbc.gbk.csv", limits=limits)
