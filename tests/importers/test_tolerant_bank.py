"""Bank exports as cashiers bring them (issue 13, item 1): tolerant detection and reading.

Each test writes its small statement into ``tmp_path``: a CCB corporate export
with bare 借方发生额/贷方发生额 headers, a GBK CSV under title rows dated by
交易日期, a zero-amount row, footers such as 人民币合计 below the data, and a
tab after a closing quote.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from juzhang.errors import ProblemsError
from juzhang.importers.bank import open_statement, read_statement

CCB_BARE = (
    "账号,账户名称,交易时间,借方发生额,贷方发生额,余额,币种,对方户名,对方账号,摘要\n"
    "6222000011112222,某某社区居民委员会,2025-01-02 09:15:00,,500.00,1500.00,人民币,"
    "某某街道办事处,1234567890123,拨款\n"
    "6222000011112222,某某社区居民委员会,2025-01-03 10:00:00,200.00,,1300.00,人民币,"
    "某某物业,9876543210,物业费\n"
)

GBK_TITLED = (
    "中国建设银行单位账户明细\n"
    "账号:6222000011112222,,,,,,\n"
    "交易日期,摘要,借方发生额,贷方发生额,余额,对方户名,对方账号\n"
    "20250102,拨款,,500.00,1500.00,某某街道办事处,1234567890123\n"
    "20250103,物业费,200.00,,1300.00,某某物业,9876543210\n"
)


def write(tmp_path: Path, text: str, name: str = "stmt.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_ccb_with_bare_amount_headers_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, CCB_BARE)
    statement, problems = read_statement(path)
    assert problems == []
    assert statement.profile == "ccb"
    assert [(r.debit, r.credit) for r in statement.rows] == [
        (D("0.00"), D("500.00")),
        (D("200.00"), D("0.00")),
    ]


def test_ccb_with_bare_amount_headers_reads_with_the_profile_given(tmp_path: Path) -> None:
    statement, problems = read_statement(write(tmp_path, CCB_BARE), profile="ccb")
    assert problems == []
    assert len(statement.rows) == 2


def test_gbk_csv_under_title_rows_dated_by_jiaoyi_riqi(tmp_path: Path) -> None:
    path = write(tmp_path, GBK_TITLED, encoding="gbk")
    statement, problems = read_statement(path, profile="ccb")
    assert problems == []
    assert statement.header_row == 3
    assert statement.own_account == "6222000011112222"
    assert [r.date.isoformat() for r in statement.rows] == ["2025-01-02", "2025-01-03"]
    assert [r.counterparty for r in statement.rows] == ["某某街道办事处", "某某物业"]


def test_a_zero_amount_row_is_skipped_and_listed(tmp_path: Path) -> None:
    text = CCB_BARE + (
        "6222000011112222,某某社区居民委员会,2025-01-31 00:00:00,+0.00,,1300.00,人民币,,,利息税\n"
        "6222000011112222,某某社区居民委员会,2025-02-01 10:00:00,100.00,,1200.00,人民币,"
        "某某物业,9876543210,物业费\n"
    )
    with open_statement(write(tmp_path, text), profile="ccb") as stream:
        rows = list(stream)
        assert stream.problems == []
        assert stream.zero_rows == [4]
    assert [r.number for r in rows] == [2, 3, 5]
    statement, problems = read_statement(write(tmp_path, text), profile="ccb")
    assert problems == []
    assert statement.zero_rows == (4,)


def test_a_row_with_no_amount_at_all_is_still_refused(tmp_path: Path) -> None:
    text = CCB_BARE + (
        "6222000011112222,某某社区居民委员会,2025-01-31 00:00:00,,,1300.00,人民币,,,利息税\n"
    )
    _, problems = read_statement(write(tmp_path, text), profile="ccb")
    assert [p.where for p in problems] == ["stmt.csv:4"]


@pytest.mark.parametrize(
    "footer",
    [
        ",,人民币合计,200.00,500.00,,,,,",
        "人民币合计,,,200.00,500.00,,,,,",
        ",,,,,,,,,本页合计: 2 笔",
        "总计,,,200.00,500.00,,,,,",
        ",,,,,,,,,借方笔数 1 贷方笔数 1",
        ",,,,,,,,,笔数: 2",
        ",,,,,,,,,共 2 笔",
        ",,RMB合计,200.00,500.00,,,,,",
    ],
)
def test_footers_are_recognised_below_the_data(tmp_path: Path, footer: str) -> None:
    text = CCB_BARE + ",,,,,,,,,\n" + footer + "\n" + "打印日期:2025-02-01,,,,,,,,,\n"
    statement, problems = read_statement(write(tmp_path, text))
    assert problems == []
    assert [r.number for r in statement.rows] == [2, 3]


def test_a_tab_after_a_closing_quote_is_tolerated(tmp_path: Path) -> None:
    text = (
        '"账号"\t,"账户名称","交易时间","借方发生额","贷方发生额","余额","币种","对方户名",'
        '"对方账号","摘要"\n'
        '"6222000011112222"\t,"某某社区居民委员会"\t,"2025-01-02 09:15:00"\t,""\t,"500.00"\t,'
        '"1500.00"\t,"人民币"\t,"某某街道办事处"\t,"1234567890123"\t,"拨款"\t\n'
        '"6222000011112222" ,"某某社区居民委员会","2025-01-03 10:00:00","200.00","",'
        '"1300.00","人民币","某某 ""物业""" ,"9876543210","物业费"\n'
    )
    statement, problems = read_statement(write(tmp_path, text))
    assert problems == []
    assert statement.own_account == "6222000011112222"
    assert [r.counterparty for r in statement.rows] == ["某某街道办事处", '某某 "物业"']
    assert [r.credit for r in statement.rows] == [D("500.00"), D("0.00")]


def test_text_after_a_closing_quote_is_still_refused(tmp_path: Path) -> None:
    text = '"账号","交易时间"\n"6222"x,"2025-01-02"\n'
    with pytest.raises(ProblemsError) as caught:
        read_statement(write(tmp_path, text))
    assert "malformed CSV" in str(caught.value.problems[0].message)


# --------------------------------------------------------------------------- messages (item 2)

NEXT = "juzhang import suggest-mapping stmt.csv --out mapping.toml"


def refusal(path: Path, **kwargs: object) -> str:
    with pytest.raises(ProblemsError) as caught:
        read_statement(path, **kwargs)  # type: ignore[arg-type]
    (problem,) = caught.value.problems
    return problem.message


def test_no_fitting_profile_names_the_header_row_and_what_is_missing(tmp_path: Path) -> None:
    text = (
        "某某银行 账户明细\n"
        "日期,摘要,借方发生额,贷方发生额,余额,对方户名\n"
        "2025-01-02,拨款,,500.00,1500.00,某某街道办事处\n"
    )
    message = refusal(write(tmp_path, text))
    assert "第 2 行" in message and "row 2" in message
    assert "日期, 摘要, 借方发生额, 贷方发生额, 余额, 对方户名" in message
    assert "ccb: date (交易时间/交易日期/记账日期)" in message
    assert "missing: ," not in message and not message.rstrip().endswith(":")
    assert message.rstrip().endswith(NEXT)


def test_a_missing_detect_header_is_named_not_an_empty_list(tmp_path: Path) -> None:
    # every required field of icbc-dc is there, its 借/贷 and 本方账号 headers are not
    text = (
        "凭证号,交易时间,借方发生额,贷方发生额,余额,对方账号\n"
        "1,2025-01-02,,500.00,1500.00,123\n"
    )
    message = refusal(write(tmp_path, text), profile="icbc-dc")
    assert "icbc-dc: 本方账号, 借/贷" in message
    assert message.rstrip().endswith(NEXT)


def test_a_header_no_profile_knows_is_still_shown_with_the_next_command(
    tmp_path: Path,
) -> None:
    text = (
        "某某银行 流水\n"
        "记账日,发生,结余,说明\n"
        "2025-01-02,500.00,1500.00,拨款\n"
    )
    message = refusal(write(tmp_path, text))
    assert "第 2 行" in message and "row 2" in message
    assert "记账日, 发生, 结余, 说明" in message
    assert message.rstrip().endswith(NEXT)


def test_the_next_command_quotes_a_file_name_with_spaces(tmp_path: Path) -> None:
    text = "日期,摘要,借方发生额,贷方发生额,余额\n2025-01-02,拨款,,500.00,1500.00\n"
    message = refusal(write(tmp_path, text, name="一月 对账单.csv"))
    assert message.rstrip().endswith(
        "juzhang import suggest-mapping '一月 对账单.csv' --out mapping.toml"
    )


# --------------------------------------------------------------------------- one amount and a flag


SHOUZHI = (
    "交易日期,摘要,收支标志,交易金额,余额,对方户名\n"
    "2025-01-02,拨款,收,500.00,1500.00,某某街道办事处\n"
    "2025-01-03,物业费,支,200.00,1300.00,某某物业\n"
)


def test_one_amount_with_a_shouzhi_flag_is_detected(tmp_path: Path) -> None:
    statement, problems = read_statement(write(tmp_path, SHOUZHI))
    assert problems == []
    assert statement.profile == "icbc-flag"
    assert [(r.debit, r.credit) for r in statement.rows] == [
        (D("0.00"), D("500.00")),
        (D("200.00"), D("0.00")),
    ]


def test_a_bad_flag_is_refused_with_its_row_and_column(tmp_path: Path) -> None:
    text = SHOUZHI.replace(",支,", ",退,")
    _, problems = read_statement(write(tmp_path, text))
    assert [p.where for p in problems] == ["stmt.csv:3:C(收支标志)"]
    assert "借贷标志" in problems[0].message


def test_a_profile_without_detect_headers_is_shown_by_its_required_columns(
    tmp_path: Path,
) -> None:
    message = refusal(write(tmp_path, "甲,乙\n1,2\n"))
    assert "icbc-flag: 交易日期、发生额、借贷标志" in message
    assert ": ;" not in message
