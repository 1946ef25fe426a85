"""``juzhang import suggest-mapping`` (issue 13, item 3): a mapping written for you.

Every bank fixture in ``tests/data`` (each ``*.expected.json`` names one, so
fixtures added later are covered) is read with the mapping suggested for
it, and must give the rows its own profile gives; the BOC personal debit
export, which no shipped layout reads, must read exactly as expected.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from juzhang.cli import app
from juzhang.errors import ProblemsError
from juzhang.importers.bank import load_profile, read_statement
from juzhang.importers.suggest import suggest_mapping
from tests.importers.test_importer_files import as_json
from tests.statement_samples import DATA, SUGGESTED

FIXTURES = sorted(p.name.removesuffix(".expected.json") for p in DATA.glob("*.expected.json"))
runner = CliRunner()


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.expected.json").read_text("utf-8"))
    return data


def figures(rows: list[dict[str, Any]]) -> tuple[int, Decimal, Decimal, list[tuple[Any, ...]]]:
    return (
        len(rows),
        sum((Decimal(r["debit"]) for r in rows), Decimal(0)),
        sum((Decimal(r["credit"]) for r in rows), Decimal(0)),
        [(r["number"], r["date"], r["debit"], r["credit"], r["balance"]) for r in rows],
    )


def test_every_fixture_is_covered() -> None:
    assert len(FIXTURES) >= 13
    assert "boc-debit.utf8.csv" in FIXTURES and "abc.xlsx" in FIXTURES


@pytest.mark.parametrize("name", FIXTURES)
def test_the_suggested_mapping_reads_every_fixture_as_its_profile(
    name: str, tmp_path: Path
) -> None:
    suggestion = suggest_mapping(DATA / name)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(suggestion.text, encoding="utf-8")
    statement, problems = read_statement(DATA / name, profile=load_profile(mapping))
    want = expected(name)
    assert problems == []
    got = as_json(statement)
    assert figures(got["rows"]) == figures(want["rows"])
    assert (suggestion.rows, suggestion.total_out, suggestion.total_in) == figures(want["rows"])[:3]
    assert got["own_account"] == want["own_account"]
    assert got["header_row"] == want["header_row"]


@pytest.mark.parametrize("sample", SUGGESTED, ids=lambda s: s.filename)
def test_boc_personal_debit_reads_unchanged_with_its_suggested_mapping(
    sample: Any, tmp_path: Path
) -> None:
    suggestion = suggest_mapping(DATA / sample.filename)
    assert suggestion.profile.direction == "signed"
    assert suggestion.checked and suggestion.problems == ()
    assert "# 未能识别的列" in suggestion.text and "G 渠道" in suggestion.text
    assert "[metadata]" in suggestion.text and 'account = ["借记卡号"]' in suggestion.text
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(suggestion.text, encoding="utf-8")
    statement, problems = read_statement(DATA / sample.filename, profile=load_profile(mapping))
    assert problems == []
    want = expected(sample.filename)
    want.pop("file")
    assert as_json(statement) == want


def test_the_direction_is_chosen_by_the_running_balance(tmp_path: Path) -> None:
    # a signed amount where a positive number is money OUT: only the balance tells
    path = tmp_path / "out-positive.csv"
    path.write_text(
        "日期,金额,余额,摘要\n2025-01-02,-500.00,1500.00,拨款\n2025-01-03,200.00,1300.00,物业费\n",
        encoding="utf-8",
    )
    suggestion = suggest_mapping(path)
    assert suggestion.profile.signed_positive == "debit"
    assert (suggestion.total_in, suggestion.total_out) == (Decimal("500.00"), Decimal("200.00"))


def test_split_columns_the_wrong_way_round_are_swapped_by_the_balance(tmp_path: Path) -> None:
    # 借方/贷方 from the community's side: 借方 is money in here
    path = tmp_path / "ours.csv"
    path.write_text(
        "日期,借方,贷方,余额\n2025-01-02,500.00,,1500.00\n2025-01-03,,200.00,1300.00\n",
        encoding="utf-8",
    )
    suggestion = suggest_mapping(path)
    assert suggestion.problems == ()
    assert (suggestion.total_in, suggestion.total_out) == (Decimal("500.00"), Decimal("200.00"))


def test_without_a_balance_the_direction_is_said_to_be_unchecked(tmp_path: Path) -> None:
    path = tmp_path / "nobalance.csv"
    path.write_text("日期,金额,摘要\n2025-01-02,-500.00,拨款\n", encoding="utf-8")
    suggestion = suggest_mapping(path)
    assert not suggestion.checked
    assert "未能核对" in suggestion.text and "not checked" in suggestion.text


def test_a_file_without_a_usable_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("姓名,电话\n张三,123\n", encoding="utf-8")
    with pytest.raises(ProblemsError) as caught:
        suggest_mapping(path)
    assert caught.value.problems[0].where == "names.csv"
    assert "日期和金额" in caught.value.problems[0].message


# --------------------------------------------------------------------------- the command


def test_the_command_writes_the_file_and_tells_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "mapping.toml"
    done = runner.invoke(
        app, ["import", "suggest-mapping", str(DATA / "boc-debit.utf8.csv"), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert load_profile(out).direction == "signed"
    assert "50,035.18" in done.stderr and "9,246.56" in done.stderr


def test_the_command_refuses_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "names.csv"
    bad.write_text("姓名,电话\n张三,123\n", encoding="utf-8")
    out = tmp_path / "mapping.toml"
    done = runner.invoke(app, ["import", "suggest-mapping", str(bad), "--out", str(out)])
    assert done.exit_code == 1
    assert not out.exists()
    assert "names.csv" in done.stderr


def test_the_command_shows_bad_rows_with_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad-row.csv"
    good = "".join(f"2025-01-{day:02},100.00,{1000 + 100 * day}.00\n" for day in range(1, 7))
    path.write_text("日期,金额,余额\n" + good + "2025-01-09,2OO.00,1800.00\n", encoding="utf-8")
    done = runner.invoke(app, ["import", "suggest-mapping", str(path)])
    assert done.exit_code == 1
    assert "bad-row.csv" in done.stderr and "B(金额)" in done.stderr


def test_the_command_never_overwrites_the_statement(tmp_path: Path) -> None:
    path = tmp_path / "stmt.csv"
    original = (DATA / "boc-debit.utf8.csv").read_bytes()
    path.write_bytes(original)
    done = runner.invoke(app, ["import", "suggest-mapping", str(path), "--out", str(path)])
    assert done.exit_code == 2
    assert path.read_bytes() == original
