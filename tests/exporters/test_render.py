"""The printed forms, rendered (LibreOffice headless) and measured (poppler's pdfinfo).

A worked month (the demo community H001, September 2026) is written as the
forms an accountant prints: balance sheet, income statement, trial balance,
the claim form, the disclosure board and the bank reconciliation.  One
LibreOffice run turns them into PDF; ``pdfinfo`` gives each file's page count
and page size, ``pdftotext`` each page's text.  Checked: the wide forms print
landscape, the others portrait; no page holds only the lines below a table
(试算平衡, the signatures); every page of a multi-page form repeats its column
header; the claim form's rows are at least 8 mm on paper; the reconciliation
carries no English and names the bank and its account number; the published
board's QR code (``--base-url``) prints on its first page, at least 2 cm wide,
and leaves the page count as it was.  A board whose special section runs over
a page prints that section's heading and column header again on each of its
pages.

Skipped, with the reason, where LibreOffice or poppler is not installed
(``.ci/run`` installs them).  ``docs/render_pdf.sh`` renders the same way to look
at the pages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from juzhang.cli import app
from tests.conftest import World
from tests.exporters.test_disclosure_excel import PAID, long_october

pytestmark = pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdfinfo") and shutil.which("pdftotext")),
    reason="LibreOffice (soffice) or poppler-utils not installed: "
    "apt-get install -y libreoffice-calc poppler-utils",
)

FONTS = Path(__file__).resolve().parents[2] / "docs" / "render_pdf.sh"


def _fontconfig(work: Path) -> Path:
    """The font mapping of docs/render_pdf.sh (宋体 → Noto Serif CJK SC)."""
    script = FONTS.read_text(encoding="utf-8")
    body = script.split("<<'EOF'\n", 1)[1].split("\nEOF\n", 1)[0]
    path = work / "fonts.conf"
    path.write_text(body + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("render")
    runner = CliRunner()
    done = runner.invoke(app, ["demo", "--dir", str(work / "demo")])
    assert done.exit_code == 0, done.output
    db = f"sqlite:///{work / 'demo' / 'juzhang.db'}"
    forms = {
        "balance-sheet": ["report", "balance-sheet", "H001", "--period", "2026-09"],
        "income": ["report", "income-expenditure", "H001", "--period", "2026-09"],
        "trial-balance": ["report", "trial-balance", "H001", "--period", "2026-09"],
        "disclosure": ["report", "disclosure", "H001", "--period", "2026-09"],
        "reconciliation": ["report", "bank-reconciliation", "H001", "--period", "2026-09"],
    }
    out = work / "out"
    out.mkdir()
    files = {}
    for name, args in forms.items():
        path = out / f"{name}.xlsx"
        done = runner.invoke(app, ["--db", db, *args, "--out", str(path)])
        assert done.exit_code == 0, done.output
        files[name] = path
    # the published board (the demo's September is signed), without and with its QR code
    for name, extra in (
        ("published", []),
        ("published-qr", ["--base-url", "https://gongkai.example.cn/fuxing"]),
    ):
        path = out / f"{name}.xlsx"
        export = ["--db", db, "disclosure", "export", "H001", "--period", "2026-09"]
        done = runner.invoke(app, [*export, "--out", str(path), *extra])
        assert done.exit_code == 0, done.output
        files[name] = path
    path = out / "claims.xlsx"
    done = runner.invoke(app, ["template", "claims", "--out", str(path)])
    assert done.exit_code == 0, done.output
    files["claims"] = path
    env = dict(os.environ, FONTCONFIG_FILE=str(_fontconfig(work)))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{work / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            *map(str, files.values()),
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    return {name: path.with_suffix(".pdf") for name, path in files.items()}


def _info(pdf: Path) -> tuple[int, bool]:
    """Page count, and whether the pages are landscape."""
    text = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", text).group(1))  # type: ignore[union-attr]
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", text).groups())  # type: ignore[union-attr]
    return pages, w > h


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [p for p in text.split("\f") if p.strip()]


@pytest.mark.parametrize(
    ("form", "landscape"),
    [
        ("balance-sheet", True),
        ("income", False),
        ("trial-balance", True),
        ("claims", True),
        ("disclosure", False),
        ("reconciliation", False),
    ],
)
def test_orientation(rendered: dict[str, Path], form: str, landscape: bool) -> None:
    pages, wide = _info(rendered[form])
    assert pages >= 1 and wide is landscape


def test_the_balance_sheet_is_one_landscape_page(rendered: dict[str, Path]) -> None:
    assert _info(rendered["balance-sheet"]) == (1, True)


def test_no_page_holds_only_the_lines_below_a_table(rendered: dict[str, Path]) -> None:
    for form in ("trial-balance", "balance-sheet", "income", "reconciliation"):
        for page in _pages(rendered[form]):
            # every page shows table rows: an amount with two decimals
            assert re.search(r"\d\.\d\d", page), f"{form}: a page without table rows"


def test_every_page_repeats_the_header(rendered: dict[str, Path]) -> None:
    for form, header in (("trial-balance", "科目编码"), ("claims", "经手人")):
        pages = _pages(rendered[form])
        assert all(header in p for p in pages), form


def test_the_claim_form_rows_leave_room_to_sign(rendered: dict[str, Path]) -> None:
    # A landscape page has about 500 pt for rows: at least 8 mm (22.7 pt) a row, at
    # most 22 rows with the title and header, so the 41 rows take three pages or more.
    pages, wide = _info(rendered["claims"])
    assert wide and pages >= 3


def test_the_reconciliation_is_wholly_chinese(rendered: dict[str, Path]) -> None:
    text = "\n".join(_pages(rendered["reconciliation"]))
    assert not re.search(r"[A-Za-z]{3,}", text), text
    assert "开户银行" in text and "银行账号" in text


def _render(work: Path, *files: Path) -> None:
    """One LibreOffice run turning ``files`` into PDF next to them (fonts as render_pdf.sh)."""
    env = dict(os.environ, FONTCONFIG_FILE=str(_fontconfig(work)))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{work / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(files[0].parent),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # a layout: one dialect is enough
def test_a_long_board_section_prints_its_header_on_every_page(world: World, tmp_path: Path) -> None:
    """The board with a 90-line section, printed: several pages, each with the title and header."""
    _d, path = long_october(world, tmp_path / "long.xlsx")
    _render(tmp_path, path)
    pages = _pages(path.with_suffix(".pdf"))
    summary = [p for p in pages if "财务收支汇总及专项公开表" in p]
    assert len(summary) >= 3  # the summary sheet alone runs over several pages
    section = [p for p in summary if "发放楼栋长补贴" in p]
    assert len(section) >= 2
    for page in section:
        assert "公开单位" in page  # the repeated title rows
        assert re.search(r"摘要\s+日期\s+凭证号\s+科目", page), page  # the column header
    assert all("（续）" in page for page in section[1:])
    printed = re.findall(r"发放楼栋长补贴 第(\d\d)栋", "\n".join(section))
    assert sorted(printed) == [f"{i:02d}" for i in range(PAID)]


def test_the_qr_code_prints_on_the_first_page_and_moves_nothing(
    rendered: dict[str, Path],
) -> None:
    if not shutil.which("pdfimages"):
        pytest.skip("poppler's pdfimages not installed")
    plain, with_qr = _info(rendered["published"]), _info(rendered["published-qr"])
    assert with_qr == plain and not with_qr[1]  # same pages, portrait
    listing = subprocess.run(
        ["pdfimages", "-list", str(rendered["published-qr"])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[2:]
    images = [line.split() for line in listing if line.strip()]
    qr = [i for i in images if i[2] == "image"]  # page, num, type, width, height, …, x-ppi
    assert [int(i[0]) for i in qr] == [1], listing
    width_px, x_ppi = int(qr[0][3]), float(qr[0][12])
    assert width_px / x_ppi * 25.4 >= 20  # mm on paper: a phone reads it
    assert _pages(rendered["published-qr"])[0].count("核验码") == _pages(rendered["published"])[
        0
    ].count("核验码")
