"""VOUCHER.json: the file a bookkeeper prepares, read into drafts with every problem listed."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import NotFoundError, ProblemsError, ValidationError
from juzhang.voucher_file import load_vouchers, parse_date, parse_vouchers, vouchers_from_data


def _voucher(**changes: Any) -> dict[str, Any]:
    v: dict[str, Any] = {
        "date": "2026-09-05",
        "attachments": 2,
        "lines": [
            {"account": "51301", "summary": "购办公用品", "debit": "120.00"},
            {"account": "101", "summary": "购办公用品", "credit": "120.00", "custody_entry": 7},
        ],
    }
    v.update(changes)
    return v


def _problems(data: object) -> list[str]:
    with pytest.raises(ProblemsError) as info:
        vouchers_from_data(data, "v.json")
    return [str(p) for p in info.value.problems]


def test_the_issue_example_reads_into_a_draft(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    path.write_text(json.dumps(_voucher(), ensure_ascii=False), encoding="utf-8")
    assert load_vouchers(path) == [
        VoucherDraft(
            dt.date(2026, 9, 5),
            (
                Line("51301", "购办公用品", debit=D("120.00")),
                Line("101", "购办公用品", credit=D("120.00"), custody_entry=7),
            ),
            2,
        )
    ]


def test_a_list_of_vouchers_keeps_its_order() -> None:
    second = _voucher(date="2026-09-06", attachments=0)
    drafts = parse_vouchers(json.dumps([_voucher(), second]))
    assert [d.date.day for d in drafts] == [5, 6]
    assert [d.attachments for d in drafts] == [2, 0]


def test_amounts_as_accountants_write_them_and_integers_of_yuan() -> None:
    lines = [
        {"account": "51301", "summary": "x", "debit": "¥1,234.5"},
        {"account": "102", "summary": "x", "credit": 1234},
        {"account": "102", "summary": "x", "credit": "-0.50"},
    ]
    (draft,) = parse_vouchers(json.dumps(_voucher(lines=lines)))
    assert [ln.amount for ln in draft.lines] == [D("1234.50"), D("1234.00"), D("-0.50")]
    assert draft.lines[0].debit is not None and draft.lines[1].credit is not None


def test_attachments_default_to_zero_and_bom_is_allowed(tmp_path: Path) -> None:
    v = _voucher()
    del v["attachments"]
    path = tmp_path / "v.json"
    path.write_text(json.dumps(v), encoding="utf-8-sig")
    assert load_vouchers(path)[0].attachments == 0


def test_a_float_amount_is_refused_even_when_exact() -> None:
    lines = [
        {"account": "51301", "summary": "x", "debit": 120.0},
        {"account": "101", "summary": "x", "credit": "120.00"},
    ]
    (problem,) = _problems(_voucher(lines=lines))
    assert problem.startswith("v.json 凭证1 voucher 1 第1行 line 1 debit:")
    assert "never a float" in problem


def test_a_float_read_from_json_text_is_refused() -> None:
    text = '{"date": "2026-09-05", "lines": [{"account": "1", "summary": "s", "credit": 0.1}]}'
    with pytest.raises(ProblemsError) as info:
        parse_vouchers(text, "f.json")
    assert "float" in str(info.value)


@pytest.mark.parametrize(
    ("amount", "reason"),
    [("1.234", "2 decimal places"), ("12a", "letters"), ("", "empty"), ("1e3", "exponent")],
)
def test_a_bad_amount_names_the_file_voucher_line_and_field(amount: str, reason: str) -> None:
    lines = [{"account": "51301", "summary": "x", "debit": "1"}]
    lines.append({"account": "101", "summary": "x", "credit": amount})
    (problem,) = _problems([_voucher(), _voucher(lines=lines)])
    assert problem.startswith("v.json 凭证2 voucher 2 第2行 line 2 credit:")
    assert reason in problem


def test_missing_fields_are_named() -> None:
    problems = _problems({"lines": [{"summary": "x", "debit": "1"}]})
    assert any(p.startswith("v.json 凭证1 voucher 1 date:") and "required" in p for p in problems)
    assert any("第1行 line 1 account:" in p and "缺少" in p for p in problems)


def test_a_line_needs_exactly_one_side() -> None:
    both = {"account": "1", "summary": "x", "debit": "1", "credit": "1"}
    neither = {"account": "1", "summary": "x"}
    problems = _problems(_voucher(lines=[both, neither]))
    assert len(problems) == 2
    assert all("exactly one of debit and credit" in p for p in problems)


def test_every_problem_of_every_voucher_at_once() -> None:
    bad = {
        "date": "2026-13-01",
        "attachments": -1,
        "lines": [{"account": "", "summary": "x", "debit": 1.5, "custody_entry": "7"}],
        "memo": "?",
    }
    problems = _problems([bad, 3, _voucher(), {"date": 20260905, "lines": "no"}])
    joined = "\n".join(problems)
    for expected in (
        "凭证1 voucher 1 date:",
        "凭证1 voucher 1 attachments:",
        "凭证1 voucher 1 第1行 line 1 account:",
        "凭证1 voucher 1 第1行 line 1 debit:",
        "凭证1 voucher 1 第1行 line 1 custody_entry:",
        "凭证1 voucher 1 memo:",
        "凭证2 voucher 2:",
        "凭证4 voucher 4 date:",
        "凭证4 voucher 4 lines:",
    ):
        assert expected in joined
    assert "凭证3" not in joined
    assert len(problems) == 9


def test_not_json_and_empty_lists_are_problems(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError) as info:
        parse_vouchers('{"date": ', "v.json")
    assert str(info.value.problems[0]).startswith("v.json:1:10:")
    assert _problems([]) == ["v.json: 没有凭证 / no vouchers"]


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_vouchers(tmp_path / "nope.json")


@pytest.mark.parametrize(
    "text", ["2026-09-05", "20260905", "2026/9/5", "2026.09.05", "2026年9月5日", " 2026-9-5 "]
)
def test_dates_as_people_write_them(text: str) -> None:
    assert parse_date(text) == dt.date(2026, 9, 5)


@pytest.mark.parametrize("text", ["2026-02-30", "5/9/2026", "yesterday", ""])
def test_not_a_date(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_date(text)
