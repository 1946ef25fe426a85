"""The board's life (draft → final → published) and verify-report against forgeries.

September of C001 (see :mod:`tests.closing.test_closing`) is booked and counted.
While it is open its board is a draft: 草稿 · 未结账 on every page, and
verify-report answers "draft" (exit 3).  The closing run writes the final
board (待民主理财小组审核签字; verify-report: matches the books, not signed,
exit 4).  ``juzhang disclosure sign`` publishes it: the signed workbook, its
signature block filled, replaces the board in ``OUT/C001/`` and its figures
are frozen in a snapshot the database refuses to change; ``disclosure
export`` writes the same cells again; verify-report exits 0, and still 0
after a budget is set once the board is published (the board keeps the budget
version in force when it was published).  Forged boards — a 摘要, 经办人,
voucher number or date changed, a figure changed with an embedded map
repointed at a hidden cell holding the true value, another community's board
retitled, another month's retitled — are refused with the cells named
(exit 1).  A rows bomb is refused in seconds through the importers' guarded
reader.  Both dialects.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, text
from sqlalchemy import exc as sa_exc
from typer.testing import CliRunner

from juzhang import agency
from juzhang.budget import BudgetInput, set_budget
from juzhang.cli import app
from juzhang.cli.disclosure import write_disclosure
from juzhang.closing_run import close_all
from juzhang.errors import ProblemsError
from juzhang.exporters.board_verify import _read_board, verify_report
from juzhang.exporters.disclosure_excel import AWAITING, DRAFT_MARK
from juzhang.storage.engine import transaction
from tests.closing.test_closing import OCT, SEP, cash_moves, clean_month, close, count
from tests.conftest import PEOPLE, World
from tests.statement_samples import write_raw_xlsx

runner = CliRunner()
BOARD = "disclosure-2026-09.xlsx"


def jz(world: World, cmd: str, *, actor: str | None = None) -> Any:
    url = world.engine.url.render_as_string(hide_password=False)
    head = ["--db", url, *(["--as", actor] if actor else [])]
    return runner.invoke(app, [*head, *shlex.split(cmd)], env={"JUZHANG_DB": None})


def texts(path: Path) -> list[str]:
    """Every text cell of every sheet."""
    wb = openpyxl.load_workbook(path)
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]


def closed_board(world: World, out: Path, code: str = "C001") -> Path:
    """Close September of ``code`` with the closing run; return its board."""
    run = close_all(world.engine, SEP, [code], out, actor="rv")
    assert run.ok, run.problems
    return out / code / BOARD


def sign(world: World, extra: str = "") -> Any:
    result = jz(
        world,
        "disclosure sign C001 --period 2026-09 --opinion 账目清楚，同意公开 --date 2026-10-05"
        + extra,
        actor="sup",
    )
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def sep(world: World) -> World:
    clean_month(world)
    return world


# --------------------------------------------------------------------------- the three states


def test_draft_final_published(sep: World, tmp_path: Path) -> None:
    world = sep
    # draft: September is open
    draft = world.run(write_disclosure, "C001", SEP, None, "xlsx", tmp_path / "draft.xlsx")
    wb = openpyxl.load_workbook(draft)
    for ws in wb.worksheets:
        assert DRAFT_MARK in str(ws["A1"].value), ws.title
        assert DRAFT_MARK in ws.oddHeader.center.text and DRAFT_MARK in ws.oddFooter.right.text
    result = world.run(verify_report, draft)
    assert result.state == "draft" and result.exit_code == 3
    cli = jz(world, f"verify-report {draft}")
    assert cli.exit_code == 3 and "draft, not the published board" in cli.output
    # final: closed by the run, awaiting the 民主理财小组
    board = closed_board(world, tmp_path / "out")
    cells = texts(board)
    assert not any(DRAFT_MARK in t for t in cells)
    assert any(AWAITING in t for t in cells)
    assert openpyxl.load_workbook(board)["收支明细"].oddHeader.center.text == AWAITING
    result = world.run(verify_report, board)
    assert (result.state, result.matches, result.exit_code) == ("final", True, 4)
    assert jz(world, f"verify-report {board}").exit_code == 4
    # published: the sign-off writes the signed workbook over the board
    sign(world)
    cells = texts(board)
    assert not any(AWAITING in t for t in cells)
    opinion = [t for t in cells if t.startswith("民主理财小组意见：")]
    assert opinion and all(
        "账目清楚，同意公开" in t and "周理财" in t and "2026年10月5日" in t for t in opinion
    )
    result = world.run(verify_report, board)
    assert (result.state, result.matches, result.books_agree) == ("published", True, True)
    assert result.snapshot and result.exit_code == 0
    ok = jz(world, f"verify-report {board}")
    assert ok.exit_code == 0 and "the file is the published board" in ok.output


def test_export_writes_the_published_cells_again(sep: World, tmp_path: Path) -> None:
    world = sep
    board = closed_board(world, tmp_path / "out")
    sign(world)
    again = tmp_path / "again.xlsx"
    done = jz(world, f"disclosure export C001 --period 2026-09 --out {again}")
    assert done.exit_code == 0, done.output
    assert _read_board(again) == _read_board(board)
    # a month posted after publication (a correction in October) changes nothing published
    cash_moves(world, OCT, [(8, "-50.00", "51301", "订正 9月购文具")])
    assert world.run(verify_report, again).exit_code == 0
    assert _read_board(again) == _read_board(board)


def test_a_budget_set_after_publication_leaves_the_published_board_alone(
    sep: World, tmp_path: Path
) -> None:
    """The board keeps the budget version in force when it was published (issue 12, finding 4)."""
    world = sep
    board = closed_board(world, tmp_path / "out")
    sign(world)
    world.run(
        set_budget, "C001", "bk", 2026, [BudgetInput("办公经费", "expense", ("513",), D("9000"))]
    )
    result = world.run(verify_report, board)
    assert result.matches and result.books_agree and result.exit_code == 0
    assert result.book_changes == ()
    cli = jz(world, f"verify-report {board}")
    assert cli.exit_code == 0, cli.output


def test_a_rerun_of_close_puts_the_signed_board_in_place(sep: World, tmp_path: Path) -> None:
    world = sep
    out = tmp_path / "out"
    board = closed_board(world, out)
    signed = tmp_path / "signed.xlsx"
    sign(world, f" --out {signed}")  # signed elsewhere: the close's board is still the draft
    assert world.run(verify_report, board).exit_code == 1
    closed_board(world, out)  # re-run: already closed, the board is written again
    assert world.run(verify_report, board).exit_code == 0
    assert _read_board(board) == _read_board(signed)


# --------------------------------------------------------------------------- the snapshot


def test_the_published_snapshot_cannot_be_changed(sep: World, tmp_path: Path) -> None:
    world = sep
    closed_board(world, tmp_path / "out")
    sign(world)
    with world.engine.connect() as conn:
        snapshot = conn.execute(text("SELECT snapshot FROM disclosure")).scalar_one()
    data = json.loads(snapshot)
    assert data["state"] == "published" and data["entity"] == "C001"
    assert data["signatures"]["opinion"] == "账目清楚，同意公开"
    assert data["items"] and data["figures"] and data["config"]
    for sql in (
        "UPDATE disclosure SET snapshot = '{}'",
        "UPDATE disclosure SET snapshot = NULL",
        "DELETE FROM disclosure",
    ):
        with pytest.raises(sa_exc.DBAPIError), world.engine.begin() as conn:
            conn.execute(text(sql))
    with world.engine.connect() as conn:
        assert conn.execute(text("SELECT snapshot FROM disclosure")).scalar_one() == snapshot


def test_a_disclosure_is_not_published_without_its_snapshot(sep: World, tmp_path: Path) -> None:
    world = sep
    closed_board(world, tmp_path / "out")
    with pytest.raises(sa_exc.DBAPIError), world.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE disclosure SET status = 'published', signed_on = '2026-10-05',"
                " signed_by = (SELECT id FROM app_user WHERE login = 'sup')"
            )
        )


# --------------------------------------------------------------------------- forgeries


def forge(path: Path, edit: Any) -> Path:
    wb = openpyxl.load_workbook(path)
    edit(wb)
    forged = path.with_name("forged-" + path.name)
    wb.save(forged)
    return forged


def find(ws: Any, predicate: Any) -> Any:
    return next(c for row in ws.iter_rows() for c in row if predicate(c.value))


@pytest.fixture
def published(sep: World, tmp_path: Path) -> tuple[World, Path]:
    board = closed_board(sep, tmp_path / "out")
    sign(sep)
    return sep, board


def refused(world: World, path: Path, cell: str) -> Any:
    result = world.run(verify_report, path)
    assert not result.matches and result.exit_code == 1
    named = {f"{d.sheet}!{d.cell}" for d in result.differences}
    assert cell in named, named
    cli = jz(world, f"verify-report {path}")
    assert cli.exit_code == 1 and cell in cli.output
    return result


def test_resaved_untouched_still_matches(published: tuple[World, Path]) -> None:
    world, board = published
    assert world.run(verify_report, forge(board, lambda wb: None)).exit_code == 0


@pytest.mark.parametrize("column", ["B", "C", "D", "G"])
def test_changed_text_of_an_item_is_named(published: tuple[World, Path], column: str) -> None:
    world, board = published
    coordinate = ""

    def edit(wb: Any) -> None:
        nonlocal coordinate
        ws = wb["收支明细"]
        cell = find(ws, lambda v: isinstance(v, str) and v.startswith("记-"))
        target = ws[f"{column}{cell.row}"]
        old = target.value
        target.value = (
            dt.datetime(2026, 9, 28)
            if column == "B"
            else "记-0099"
            if column == "C"
            else f"{old}改"
        )
        coordinate = f"收支明细!{target.coordinate}"

    refused(world, forge(board, edit), coordinate)


def test_a_figure_changed_with_the_map_repointed_at_a_hidden_cell(
    published: tuple[World, Path],
) -> None:
    world, board = published
    coordinate = ""

    def edit(wb: Any) -> None:
        nonlocal coordinate
        ws = wb["收支明细"]
        cell = find(ws, lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 1)
        true_value = cell.value
        cell.value = true_value + 1000
        coordinate = f"收支明细!{cell.coordinate}"
        ws["Z1"] = true_value  # the true value, hidden
        ws.column_dimensions["Z"].hidden = True
        # the figure map boards used to carry, repointed at the hidden true value
        if "_juzhang" in wb.sheetnames:
            hidden = wb["_juzhang"]
            places = json.loads("".join(c.value for c in hidden[2][1:] if c.value))
        else:
            hidden = wb.create_sheet("_juzhang")
            hidden.sheet_state = "veryHidden"
            places = [["item/x/expense", "收支明细", cell.coordinate, "amount", "x"]]
        for place in places:
            if place[1] == "收支明细" and place[2] == cell.coordinate:
                place[2] = "Z1"
        for extra in hidden[2][1:]:
            extra.value = None
        hidden["A2"] = "places"
        hidden["B2"] = json.dumps(places, ensure_ascii=False)

    refused(world, forge(board, edit), coordinate)


def other_community(engine: Engine) -> World:
    """C002 光明村经济合作社, with C001's people, September booked differently and counted."""
    with transaction(engine) as s:
        agency.add_entity(s, "C002", "光明村经济合作社", chart="rural-2023", start_period=202609)
        for login, (_name, role) in PEOPLE.items():
            agency.grant(s, login, role, "C002")
    w2 = World(engine, "C002")
    clean_month(w2, moves=[(3, "300.00", "501", "收取场地费"), (9, "-120.00", "51301", "购茶叶")])
    return w2


def test_another_communitys_board_retitled(published: tuple[World, Path], tmp_path: Path) -> None:
    world, board = published
    other = closed_board(other_community(world.engine), tmp_path / "out", "C002")
    title = openpyxl.load_workbook(board)["收支明细"]["A1"].value

    def retitle(wb: Any) -> None:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and "光明村经济合作社" in c.value:
                        c.value = c.value.replace("光明村经济合作社", "幸福社区居委会")
        assert wb["收支明细"]["A1"].value == title

    refused(world, forge(other, retitle), "收支明细!A1")

    def also_the_fingerprint(wb: Any) -> None:
        retitle(wb)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and "C002:" in c.value:
                        c.value = c.value.replace("C002:", "C001:")

    result = world.run(verify_report, forge(other, also_the_fingerprint))
    assert result.entity == "C001" and result.exit_code == 1 and result.differences


def test_another_months_board_retitled(sep: World, tmp_path: Path) -> None:
    world = sep
    september = closed_board(world, tmp_path / "out")
    count(world, OCT)
    close(world, OCT)

    def retitle(wb: Any) -> None:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str) and "2026年9月" in c.value:
                        c.value = c.value.replace("2026年9月", "2026年10月")

    refused(world, forge(september, retitle), "收支明细!A1")


# --------------------------------------------------------------------------- hostile files


def test_a_rows_bomb_is_refused_in_seconds(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_plain_openpyxl(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("plain openpyxl.load_workbook on an outside file")

    monkeypatch.setattr(openpyxl, "load_workbook", no_plain_openpyxl)
    monkeypatch.setattr("openpyxl.reader.excel.load_workbook", no_plain_openpyxl)
    monkeypatch.setattr(
        "juzhang.exporters.disclosure_excel.load_workbook", no_plain_openpyxl, raising=False
    )
    rows = "".join(f'<row r="{i}"/>' for i in range(1, 1_500_001))
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns='
        '"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        f"{rows}</sheetData></worksheet>"
    )
    bomb = write_raw_xlsx(tmp_path / "bomb.xlsx", sheet)
    started = time.perf_counter()
    with pytest.raises(ProblemsError):
        world.run(verify_report, bomb)
    assert time.perf_counter() - started < 10
    cli = jz(world, f"verify-report {bomb}")
    assert cli.exit_code == 1 and "Traceback" not in cli.output
