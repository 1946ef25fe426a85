"""The bad-input corpus: every broken, hostile or wrong file gives a clear error.

Each case builds one bad file (from the ICBC sample layout unless it needs
another) and names what must be reported: whether the whole file is refused
(:class:`~juzhang.errors.ProblemsError`) or the bad rows come back as problems
next to the good rows, where (``file:row:column``) and why.  A row with a
problem never appears among the statement's rows.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from juzhang.errors import ProblemsError, ValidationError
from juzhang.importers.bank import load_profile, read_statement
from juzhang.importers.reader import ReadLimits
from tests import statement_samples as samples
from tests.statement_samples import DATA, OWN_ACCOUNT

Build = Callable[[Path], tuple[Path, dict[str, Any]]]

# The ICBC sample: header on row 5, transactions on rows 6-10, footers 11-12.
# Columns: A 凭证号, B 交易时间, C 对方单位, D 对方账号, E 转入金额, F 转出金额,
# G 余额, H 用途, I 摘要, J 附言.
A, B, C, D, E, F, G, H, SUMMARY, J = range(10)


def icbc_rows(changes: dict[tuple[int, int], object] | None = None) -> list[list[object]]:
    rows = samples.icbc().rows()
    for (number, column), value in (changes or {}).items():
        while len(rows) < number:
            rows.append([])
        row = rows[number - 1]
        row.extend([""] * (column + 1 - len(row)))
        row[column] = value
    return rows


def icbc_csv(changes: dict[tuple[int, int], object] | None = None, **kwargs: Any) -> Build:
    def build(folder: Path) -> tuple[Path, dict[str, Any]]:
        path = folder / "icbc.csv"
        samples.write_csv(path, icbc_rows(changes), "gbk")
        return path, kwargs

    return build


def icbc_xlsx(
    inject: dict[tuple[int, int], str],
    *,
    shared: str | None = None,
    prologue: str = "",
    **kwargs: Any,
) -> Build:
    def build(folder: Path) -> tuple[Path, dict[str, Any]]:
        sheet = samples.sheet_xml(icbc_rows(), inject, prologue=prologue)
        return samples.write_raw_xlsx(folder / "icbc.xlsx", sheet, shared=shared), kwargs

    return build


def raw_file(name: str, data: bytes, **kwargs: Any) -> Build:
    def build(folder: Path) -> tuple[Path, dict[str, Any]]:
        path = folder / name
        path.write_bytes(data)
        return path, kwargs

    return build


def text_file(name: str, text: str, encoding: str, **kwargs: Any) -> Build:
    return raw_file(name, text.encode(encoding), **kwargs)


def sample_csv(
    layout: Callable[[], samples.Layout],
    changes: dict[tuple[int, int], object],
    *,
    encoding: str = "utf-8",
    **kwargs: Any,
) -> Build:
    def build(folder: Path) -> tuple[Path, dict[str, Any]]:
        rows = layout().rows()
        for (number, column), value in changes.items():
            rows[number - 1][column] = value
        path = folder / "sample.csv"
        samples.write_csv(path, rows, encoding)
        return path, kwargs

    return build


def with_mapping(
    layout: Callable[[], samples.Layout], mapping: str, changes: dict[tuple[int, int], object]
) -> Build:
    def build(folder: Path) -> tuple[Path, dict[str, Any]]:
        path, _ = sample_csv(layout, changes)(folder)
        return path, {"profile": load_profile(DATA / mapping)}

    return build


def xlsx_with(extra: dict[str, bytes], **kwargs: Any) -> Build:
    def build(folder: Path) -> tuple[Path, dict[str, Any]]:
        sheet = samples.sheet_xml(icbc_rows())
        return samples.write_raw_xlsx(folder / "icbc.xlsx", sheet, extra=extra), kwargs

    return build


def xlsx_workbook(workbook: str) -> Build:
    def build(folder: Path) -> tuple[Path, dict[str, Any]]:
        sheet = samples.sheet_xml(icbc_rows())
        return samples.write_raw_xlsx(folder / "icbc.xlsx", sheet, workbook=workbook), {}

    return build


def encrypted_xlsx(folder: Path) -> tuple[Path, dict[str, Any]]:
    """A workbook whose archive members carry the 'encrypted' flag."""
    source, _ = xlsx_with({})(folder)
    data = bytearray(source.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flag_at] |= 0x1
            at = data.find(signature, at + 4)
    path = folder / "locked.xlsx"
    path.write_bytes(bytes(data))
    return path, {}


def not_a_workbook(folder: Path) -> tuple[Path, dict[str, Any]]:
    path = folder / "letter.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return path, {}


def truncated_xlsx(folder: Path) -> tuple[Path, dict[str, Any]]:
    data = (DATA / "icbc-dc.xlsx").read_bytes()
    path = folder / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path, {}


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{(f"&lol{n - 1};" if n > 1 else "&lol;") * 10}">' for n in range(1, 10)
    )
    + "]>"
)  # fmt: skip
SST = '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
WORKBOOK = (
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
UTF8_CHINESE = "交易时间,摘要,转入金额,转出金额\n2025-01-02 09:15:00,收到街道拨款,100.00,\n"
BAD_AT = len(UTF8_CHINESE.encode()) + len("2025-01-03,")
BOC_ROW = 2  # the first transaction of the BOC sample (header on row 1)


@dataclass(frozen=True)
class Case:
    """One bad input: how to build it, and what the error must say."""

    id: str
    build: Build
    where: str  # regular expression the problem's ``where`` must match in full
    reason: str  # text the message must contain
    fatal: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


CASES: list[Case] = [
    # ---------------------------------------------------------------- files, types, encodings
    Case("empty-file", raw_file("empty.csv", b""), r"empty\.csv", "空文件"),
    Case("only-blank-lines", raw_file("blank.csv", b"\r\n \r\n\t\r\n"), r"blank\.csv", "表头"),
    Case("binary-with-nul", raw_file("junk.csv", bytes(range(256)) * 4), r"junk\.csv:\d+", "NUL"),
    Case("binary-no-nul", raw_file("junk.csv", b"\x80\xff\xfe\x81" * 300), r"junk\.csv:1",
         "unknown encoding"),
    Case("utf8-truncated-at-end", raw_file("cut.csv", UTF8_CHINESE.encode() + "汇".encode()[:2]),
         r"cut\.csv:3", "broken UTF-8"),
    Case("utf8-bad-byte-in-middle",
         raw_file("bad.csv", UTF8_CHINESE.encode() + b"2025-01-03,\xe6\xb1,1.00,\n"),
         r"bad\.csv:3", f"byte offset {BAD_AT}"),
    Case("gbk-truncated-at-end",
         raw_file("cut.csv", UTF8_CHINESE.encode("gbk") + "汇".encode("gbk")[:1]),
         r"cut\.csv:3", "nor GB18030"),
    Case("utf8-bom-bad-byte",
         raw_file("bom.csv", b"\xef\xbb\xbf" + UTF8_CHINESE.encode() + b"\xff"),
         r"bom\.csv:3", "UTF-8 (BOM)"),
    Case("utf16-odd-length", raw_file("u16.csv", UTF8_CHINESE.encode("utf-16") + b"\x00"),
         r"u16\.csv:\d+", "UTF-16"),
    Case("utf16-without-bom", raw_file("u16.csv", UTF8_CHINESE.encode("utf-16-le")),
         r"u16\.csv:\d+", "NUL"),
    Case("wrong-extension-pdf", raw_file("statement.pdf", b"%PDF-1.4"), r"statement\.pdf",
         "unsupported file type"),
    Case("wrong-extension-docx", raw_file("statement.docx", b"PK\x03\x04"), r"statement\.docx",
         "unsupported file type"),
    Case("pdf-named-csv", raw_file("statement.csv", b"%PDF-1.7\n%\xe2\xe3"), r"statement\.csv",
         "PDF"),
    Case("html-named-xls", text_file("statement.xls", "<html><table><tr><td>日期</td></tr></table>",
                                     "utf-8"), r"statement\.xls", "HTML"),
    Case("spreadsheetml-2003-named-xls",
         text_file("statement.xls", '<?xml version="1.0"?><Workbook/>', "utf-8"),
         r"statement\.xls", "save as .xlsx"),
    Case("ole-garbage-named-xls",
         raw_file("statement.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
         r"statement\.xls", "Excel 97-2003"),
    Case("zip-not-a-workbook", not_a_workbook, r"letter\.xlsx", "not an .xlsx"),
    Case("damaged-zip", raw_file("broken.xlsx", b"PK\x03\x04" + b"\x00" * 100), r"broken\.xlsx",
         "damaged ZIP"),
    Case("truncated-xlsx", truncated_xlsx, r"cut\.xlsx", "ZIP"),
    Case("encrypted-xlsx", encrypted_xlsx, r"locked\.xlsx", "encrypted"),
    # ---------------------------------------------------------------- hostile archives and XML
    Case("zip-bomb", xlsx_with({"xl/media/image1.bin": b"\x00" * (20 << 20)}), r"icbc\.xlsx",
         "zip bomb"),
    Case("unzipped-total-over-limit", xlsx_with({}, limits=ReadLimits(max_unzipped_bytes=2000)),
         r"icbc\.xlsx", "uncompressed size"),
    Case("too-many-members", xlsx_with({}, limits=ReadLimits(max_zip_members=3)), r"icbc\.xlsx",
         "too many archive members"),
    Case("billion-laughs-in-shared-strings",
         icbc_xlsx({(6, C): '<c r="REF" t="s"><v>0</v></c>'},
                   shared=f'<?xml version="1.0"?>{LAUGHS}{SST}<si><t>&lol9;</t></si></sst>'),
         r"icbc\.xlsx", "billion-laughs"),
    Case("billion-laughs-in-workbook", xlsx_workbook(f'<?xml version="1.0"?>{LAUGHS}{WORKBOOK}'),
         r"icbc\.xlsx", "DTD"),
    Case("xxe-in-worksheet",
         icbc_xlsx({}, prologue='<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
         r"icbc\.xlsx", "DTD"),
    Case("undefined-entity-in-cell",
         icbc_xlsx({(6, C): '<c r="REF" t="inlineStr"><is><t>&xxe;</t></is></c>'}),
         r"icbc\.xlsx:6:C", "undefined entity"),
    Case("missing-shared-string", icbc_xlsx({(6, C): '<c r="REF" t="s"><v>7</v></c>'}),
         r"icbc\.xlsx", "shared string"),
    Case("invalid-number-cell", icbc_xlsx({(6, E): '<c r="REF"><v>12abc</v></c>'}),
         r"icbc\.xlsx:6:E", "invalid number"),
    # ---------------------------------------------------------------- limits
    Case("huge-cell-csv", icbc_csv({(6, H): "很" * 40_000}), r"icbc\.csv:6:H",
         "longer than the limit"),
    Case("huge-cell-xlsx-shared-string",
         icbc_xlsx({(6, H): '<c r="REF" t="s"><v>0</v></c>'},
                   shared=f'<?xml version="1.0"?>{SST}<si><t>{"很" * 40_000}</t></si></sst>'),
         r"icbc\.xlsx:6:H", "longer than the limit"),
    Case("too-many-columns-csv", icbc_csv({(6, 299): "x"}), r"icbc\.csv:6:IW", "columns"),
    Case("too-many-columns-xlsx", icbc_xlsx({(6, 16383): '<c r="REF"><v>1</v></c>'}),
         r"icbc\.xlsx:6:XFD", "columns"),
    Case("too-many-rows", icbc_csv(limits=ReadLimits(max_rows=8)), r"icbc\.csv:9", "rows"),
    Case("file-too-large", icbc_csv(limits=ReadLimits(max_file_bytes=100)), r"icbc\.csv",
         "file too large"),
    Case("unterminated-quote", raw_file("cut.csv", UTF8_CHINESE.encode() + b'2025-01-03,"abc,1\n'),
         r"cut\.csv:\d", "never closed"),
    Case("stray-quote", raw_file("odd.csv", UTF8_CHINESE.encode() + b'2025-01-03,"abc"x,1,\n'),
         r"odd\.csv:3", "malformed CSV"),
    # ---------------------------------------------------------------- header and account
    Case("missing-required-column", icbc_csv({(5, F): "支出"}), r"icbc\.csv",
         "required columns are missing"),
    Case("no-known-header", text_file("other.csv", "甲,乙,丙\n1,2,3\n", "utf-8"), r"other\.csv",
         "no known header"),
    Case("wrong-account", icbc_csv(account="6222000099998888"), r"icbc\.csv",
         "not 6222000099998888"),
    Case("profile-says-another-bank", icbc_csv(profile="ccb"), r"icbc\.csv",
         "required columns are missing"),
    # ---------------------------------------------------------------- rows: amounts
    Case("amount-with-letters", icbc_csv({(7, F): "12a.00"}), r"icbc\.csv:7:F\(转出金额\)",
         "contains letters", fatal=False),
    Case("amount-three-decimals", icbc_csv({(7, F): "1.234"}), r"icbc\.csv:7:F\(转出金额\)",
         "more than 2 decimal places", fatal=False),
    Case("amount-exponent", icbc_csv({(7, F): "1e5"}), r"icbc\.csv:7:F\(转出金额\)", "exponent",
         fatal=False),
    Case("amount-nan", icbc_csv({(7, F): "NaN"}), r"icbc\.csv:7:F\(转出金额\)", "NaN", fatal=False),
    Case("amount-bad-commas", icbc_csv({(7, F): "1,23.00"}), r"icbc\.csv:7:F\(转出金额\)",
         "groups of 3", fatal=False),
    Case("balance-not-money", icbc_csv({(7, G): "余额不足"}), r"icbc\.csv:7:G\(余额\)",
         "not a valid amount", fatal=False),
    Case("both-in-and-out", icbc_csv({(7, E): "1.00"}), r"icbc\.csv:7", "both out", fatal=False),
    Case("no-amount", icbc_csv({(7, F): "——"}), r"icbc\.csv:7", "no amount", fatal=False),
    Case("unquoted-comma-shifts-cells", icbc_csv({(7, 10): "234.56"}), r"icbc\.csv:7:K",
         "unquoted comma", fatal=False),
    Case("excel-error-in-amount", icbc_xlsx({(7, F): '<c r="REF" t="e"><v>#DIV/0!</v></c>'}),
         r"icbc\.xlsx:7:F\(转出金额\)", "Excel error", fatal=False),
    Case("boolean-in-amount", icbc_xlsx({(7, F): '<c r="REF" t="b"><v>1</v></c>'}),
         r"icbc\.xlsx:7:F\(转出金额\)", "TRUE/FALSE", fatal=False),
    Case("formula-without-value", icbc_xlsx({(7, F): '<c r="REF"><f>SUM(F1:F6)</f></c>'}),
         r"icbc\.xlsx:7:F\(转出金额\)", "formula without a calculated value", fatal=False),
    Case("formula-with-empty-value", icbc_xlsx({(7, G): '<c r="REF"><f>G6-F7</f><v></v></c>'}),
         r"icbc\.xlsx:7:G\(余额\)", "recalculate", fatal=False),
    Case("formula-in-text-column", icbc_xlsx({(7, SUMMARY): '<c r="REF" t="str"><f>A1</f></c>'}),
         r"icbc\.xlsx:7:I\(摘要\)", "formula without a calculated value", fatal=False),
    # ---------------------------------------------------------------- rows: dates and flags
    Case("balance-breaks", icbc_csv({(8, G): "148,753.45"}), r"icbc\.csv:8", "running balance",
         fatal=False),
    Case("row-missing-from-statement", sample_csv(samples.icbc_dc, {(5, 11): 1.0}),
         r"sample\.csv:5", "running balance", fatal=False),
    Case("date-month-13", icbc_csv({(8, B): "2025-13-01"}), r"icbc\.csv:8:B\(交易时间\)",
         "no such date", fatal=False),
    Case("date-feb-30", icbc_csv({(8, B): "2025年2月30日"}), r"icbc\.csv:8:B\(交易时间\)",
         "no such date", fatal=False),
    Case("date-words", icbc_csv({(8, B): "明天"}), r"icbc\.csv:8:B\(交易时间\)",
         "not a recognised date", fatal=False),
    Case("date-implausible", icbc_csv({(8, B): "1900-01-01"}), r"icbc\.csv:8:B\(交易时间\)",
         "implausible date", fatal=False),
    Case("date-serial-60", icbc_xlsx({(8, B): '<c r="REF"><v>60</v></c>'}),
         r"icbc\.xlsx:8:B\(交易时间\)", "1900-02-29", fatal=False),
    Case("date-missing", icbc_csv({(8, B): ""}), r"icbc\.csv:8:B\(交易时间\)", "empty",
         fatal=False),
    Case("time-impossible", icbc_csv({(8, B): "2025-01-05 25:61:00"}),
         r"icbc\.csv:8:B\(交易时间\)", "no such time", fatal=False),
    Case("date-cell-in-amount", icbc_xlsx({(8, F): '<c r="REF" t="d"><v>2025-01-05</v></c>'}),
         r"icbc\.xlsx:8:F\(转出金额\)", "date cell is not an amount", fatal=False),
    Case("data-after-footer", icbc_csv({(13, B): "2025-02-01 10:00:00", (13, E): "1.00"}),
         r"icbc\.csv:13", "after the footer", fatal=False),
    Case("flag-unknown", sample_csv(samples.icbc_dc, {(4, 4): "借贷?"}),
         r"sample\.csv:4:E\(借/贷\)", "not a debit/credit flag", fatal=False),
    Case("flag-contradicts-columns", sample_csv(samples.icbc_dc, {(4, 4): "借 Dr"}),
         r"sample\.csv:4:E\(借/贷\)", "the flag says debit", fatal=False),
    Case("flag-empty", with_mapping(samples.flag_mapping, "mapping-flag.toml", {(2, 1): ""}),
         r"sample\.csv:2:B\(借贷\)", "flag is empty", fatal=False),
    # a written zero (+0.00) is kept out of the books and listed (issue 13); an empty one is bad
    Case("signed-empty-amount", with_mapping(samples.signed_mapping, "mapping-signed.toml",
                                              {(4, 1): ""}),
         r"sample\.csv:4:B\(发生额\)", "the amount is empty", fatal=False),
    Case("own-account-changes", sample_csv(samples.ccb, {(3, 0): "6222000099998888"}),
         r"sample\.csv:3:A\(账号\)", "differs from earlier rows", fatal=False),
    Case("currency-not-rmb", sample_csv(samples.ccb, {(3, 6): "USD"}),
         r"sample\.csv:3:G\(币种\)", "not RMB", fatal=False),
    Case("payer-and-payee-not-ours", sample_csv(samples.boc, {(BOC_ROW, 5): "1111"},
                                                account=OWN_ACCOUNT),
         rf"sample\.csv:{BOC_ROW}:C\(.*\)", "neither", fatal=False),
    Case("negative-amount-but-payee", sample_csv(samples.boc, {(BOC_ROW, 10): "-50000.00"},
                                                 account=OWN_ACCOUNT),
         rf"sample\.csv:{BOC_ROW}:K\(.*\)", "negative amount", fatal=False),
]  # fmt: skip


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 50
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gives_a_clear_error(tmp_path: Path, case: Case) -> None:
    path, kwargs = case.build(tmp_path)
    if case.fatal:
        with pytest.raises(ProblemsError) as caught:
            read_statement(path, **kwargs)
        problems = list(caught.value.problems)
        assert str(caught.value)  # prints as one message with every problem
    else:
        statement, problems = read_statement(path, **kwargs)
        bad_rows = {
            int(m[1])
            for p in problems
            if p.subject == "row" and (m := re.match(r"[^:]+:(\d+)", p.where))
        }
        assert bad_rows or any(p.subject == "balance" for p in problems)
        assert not bad_rows & {r.number for r in statement.rows}
    assert problems, "no problem reported"
    assert any(re.fullmatch(case.where, p.where) for p in problems), problems
    assert any(case.reason in p.message for p in problems), problems
    for problem in problems:
        assert problem.where.startswith(path.name)
        assert re.search(r"[\u4e00-\u9fff]", problem.message), problem  # Chinese …
        assert re.search(r"[A-Za-z]{3}", problem.message), problem  # … and English


def test_every_bad_row_is_reported_not_only_the_first(tmp_path: Path) -> None:
    path, _ = icbc_csv({(6, B): "昨天", (7, F): "x", (7, G): "y", (9, E): "1.2.3"})(tmp_path)
    statement, problems = read_statement(path)
    assert [p.where for p in problems] == [
        "icbc.csv:6:B(交易时间)",
        "icbc.csv:7:F(转出金额)",
        "icbc.csv:7:G(余额)",
        "icbc.csv:9:E(转入金额)",
    ]
    assert [r.number for r in statement.rows] == [8, 10]


def test_problems_stop_at_the_limit(tmp_path: Path) -> None:
    changes: dict[tuple[int, int], object] = {(n, B): "坏日期" for n in range(6, 11)}
    path, _ = icbc_csv(changes)(tmp_path)
    _, problems = read_statement(path, limits=ReadLimits(max_problems=3))
    assert len(problems) == 4
    assert "more than 3 problems" in problems[-1].message


def test_formula_text_in_a_csv_is_text(tmp_path: Path) -> None:
    path, _ = icbc_csv({(7, SUMMARY): "=SUM(A1:A9)", (7, J): "=cmd|' /C calc'!A0"})(tmp_path)
    statement, problems = read_statement(path)
    assert problems == []
    assert statement.rows[1].summary == "=SUM(A1:A9)"
    assert statement.rows[1].remark == "=cmd|' /C calc'!A0"


def test_uncalculated_formula_outside_the_read_columns_is_kept_raw(tmp_path: Path) -> None:
    # column K of the CCB layout, 记账日期, is not read (交易时间 gives the date)
    sheet = samples.sheet_xml(samples.ccb().rows(), {(3, 10): '<c r="REF"><f>TODAY()</f></c>'})
    path = samples.write_raw_xlsx(tmp_path / "ccb.xlsx", sheet)
    statement, problems = read_statement(path)
    assert problems == []
    assert statement.rows[1].raw[10] == "=TODAY()"


def test_uncalculated_formula_in_an_old_xls() -> None:
    statement, problems = read_statement(DATA / "bad" / "formula-uncalculated.xls")
    assert [p.where for p in problems] == ["formula-uncalculated.xls:8:I(收入金额)"]
    assert "recalculate" in problems[0].message
    assert 8 not in {r.number for r in statement.rows}


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("name = 'x'\ncolumns = [", "bad.toml", "not valid TOML"),
        ("name = ''\ndirection = 'sideways'\n[columns]\ndate = '日期'\nwho = ['x']\n",
         "bad.toml:name", "non-empty"),
        ("name = 'x'\n[columns]\ndate = ['日期']\n", "bad.toml:columns.debit", "needs it"),
        ("name = 'x'\nfooter = '合计'\nsurprise = 1\n[columns]\ndate = ['d']\ndebit = ['o']\n"
         "credit = ['i']\n", "bad.toml:footer", "list of texts"),
    ],
)  # fmt: skip
def test_bad_mapping_files_list_every_problem(
    tmp_path: Path, text: str, where: str, reason: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProblemsError) as caught:
        load_profile(path)
    assert any(p.where == where and reason in p.message for p in caught.value.problems)
    if "sideways" in text:
        wheres = {p.where for p in caught.value.problems}
        assert {"bad.toml:name", "bad.toml:direction", "bad.toml:columns.date",
                "bad.toml:columns.who"} <= wheres  # fmt: skip


def test_missing_mapping_file_and_unknown_profile(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError, match="not found"):
        load_profile(tmp_path / "nothing.toml")
    with pytest.raises(ValidationError, match="icbc"):
        read_statement(DATA / "icbc.gbk.csv", profile="no-such-bank")
