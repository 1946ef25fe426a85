"""The published page in a real browser: headless Chromium opens the site from disk.

C001's September is published with two expense categories whose names sort
differently by code point (Python) and by UTF-16 unit (JavaScript's default
sort): ``办公费𠮷`` (U+20BB7, beyond the BMP) and ``办公费！"\\`` (U+FF01, a
quote and a backslash to escape), so the page's own serialisation must follow
the documented one to agree.  The test
reads the rendered totals from the DOM and compares them with the books,
checks that the in-page check says 一致 (matches) for the real JSON and 不一致
(does not match) for an altered one — a changed figure, or a changed figure
with the JSON's own digest made to fit — and for a page whose shown figure
was altered, saves a phone-sized screenshot that must not be blank, and prints the page
to PDF (A4 portrait, the page's print style).
SQLite only: the browser reads files, whatever database wrote them.

Skipped with the reason when no Chromium is installed (``.ci/run`` installs
Debian's ``chromium``).
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from decimal import Decimal
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from juzhang.closing_run import close_all
from juzhang.disclosure_config import parse_config, set_stored_config
from juzhang.reports.disclosure import disclosure
from juzhang.storage.engine import make_engine
from tests.closing.test_closing import SEP, clean_month
from tests.conftest import build_world
from tests.exporters.test_board import jz, sign

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium (apt-get install chromium; .ci/run installs it)"
)


def browse(page: Path | str, profile: Path, *extra: str) -> str:
    """Run headless Chromium on ``page`` (a file, a ``#fragment`` allowed, or an address)."""
    assert CHROMIUM is not None
    if isinstance(page, str):
        address = page
    else:
        address = page.as_uri() if "#" not in str(page) else f"file://{page}"
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # root in CI
            "--disable-gpu",
            "--allow-file-access-from-files",  # the page reads its JSON beside it
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            *extra,
            address,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def verdict(dom: str) -> tuple[str, str]:
    found = re.search(r'<p id="verify-result" data-state="([a-z]+)">([^<]*)</p>', dom)
    assert found, dom[:3000]
    return found.group(1), found.group(2)


def shown(dom: str, key: str) -> Decimal:
    found = re.search(rf'data-key="{re.escape(key)}">([^<]*)<', dom)
    assert found, key
    return Decimal(found.group(1).replace(",", ""))


def not_blank(png: Path) -> float:
    """The share of non-white bytes in a PNG's pixel data (IDAT, inflated)."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    pixels = zlib.decompress(idat)
    return sum(1 for b in pixels[::7] if b not in (0, 255)) / max(1, len(pixels[::7]))


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path) -> tuple[object, Path]:
    db = tmp_path / "juzhang.db"
    shutil.copy(sqlite_template, db)
    engine = make_engine(f"sqlite:///{db}")
    world = build_world(engine)
    clean_month(world)
    config = parse_config(
        {
            "expense": [
                {"name": "办公费𠮷", "accounts": ["51301"]},
                {"name": '办公费！"\\', "accounts": ["514"]},
            ]
        }
    )
    world.run(set_stored_config, "C001", "rv", config)
    run = close_all(world.engine, SEP, ["C001"], tmp_path / "closing", actor="rv")
    assert run.ok, run.problems
    sign(world)
    out = tmp_path / "site"
    result = jz(world, f"publish --out {out}")
    assert result.exit_code == 0, result.output
    yield world, out
    engine.dispose()


def test_the_page_checks_itself_in_chromium(site: tuple[object, Path], tmp_path: Path) -> None:
    world, out = site
    page = out / "C001" / "2026-09.html"
    dom = browse(page, tmp_path / "profile", "--dump-dom")
    state, text = verdict(dom)
    assert state == "match" and text.startswith("一致"), text
    assert "核验码（Web Crypto）" in dom  # a file is a secure context
    # the rendered totals are the books'
    books = world.run(disclosure, "C001", SEP, SEP)  # type: ignore[attr-defined]
    assert shown(dom, "total/income/current") == books.total_income == Decimal("800.00")
    assert shown(dom, "total/expense/current") == books.total_expense == Decimal("420.00")
    assert shown(dom, "fund/cash/closing") == books.fund("cash").closing
    # the QR code's address carries the paper's code: a wrong one does not match
    wrong = browse(
        Path(f"{page}#fp=C001:2026-09:1:0000000000000000:0000000000000000"),
        tmp_path / "profile",
        "--dump-dom",
    )
    assert verdict(wrong)[0] == "mismatch"
    # a phone-sized screenshot, not blank
    shot = tmp_path / "page.png"
    browse(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=412,1800")
    assert shot.stat().st_size > 20_000
    assert not_blank(shot) > 0.01
    # printed: A4 portrait pages
    if shutil.which("pdfinfo"):
        pdf = tmp_path / "page.pdf"
        browse(page, tmp_path / "profile", f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
        size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info.stdout)
        assert size, info.stdout
        width, height = float(size.group(1)), float(size.group(2))
        assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2  # A4 in points


def test_an_altered_json_or_page_does_not_match(site: tuple[object, Path], tmp_path: Path) -> None:
    _world, out = site
    page, data_file = out / "C001" / "2026-09.html", out / "C001" / "2026-09.json"
    original = data_file.read_text(encoding="utf-8")
    data = json.loads(original)
    figure = next(f for f in data["figures"] if f["key"] == "total/expense/current")
    figure["value"] = "42.00"
    data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    state, text = verdict(browse(page, tmp_path / "profile", "--dump-dom"))
    assert state == "mismatch" and text.startswith("不一致"), text
    # the page's figure changed to the altered JSON's: the code no longer fits the paper's
    html = page.read_text(encoding="utf-8")
    altered = html.replace(
        'data-key="total/expense/current">420.00<', 'data-key="total/expense/current">42.00<'
    )
    assert altered != html
    page.write_text(altered, encoding="utf-8")
    assert verdict(browse(page, tmp_path / "profile", "--dump-dom"))[0] == "mismatch"
    # the real JSON back, the page still altered: a shown figure is not the JSON's
    data_file.write_text(original, encoding="utf-8")
    state, text = verdict(browse(page, tmp_path / "profile", "--dump-dom"))
    assert state == "mismatch" and "42.00" in browse(page, tmp_path / "profile", "--dump-dom")


@pytest.fixture
def served(site: tuple[object, Path]) -> Iterator[str]:
    """The site over plain HTTP here: ``http://residents.test:PORT``, an insecure origin."""
    handler = functools.partial(QuietHandler, directory=str(site[1]))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://residents.test:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_over_plain_http_the_page_uses_its_own_sha256(
    served: str, site: tuple[object, Path], tmp_path: Path
) -> None:
    resolve = "--host-resolver-rules=MAP residents.test 127.0.0.1"
    dom = browse(f"{served}/C001/2026-09.html", tmp_path / "profile", resolve, "--dump-dom")
    state, text = verdict(dom)
    assert state == "match" and text.startswith("一致"), text
    assert "核验码（内置算法" in dom and "核验码（Web Crypto）" not in dom
    data_file = site[1] / "C001" / "2026-09.json"
    data = json.loads(data_file.read_text(encoding="utf-8"))
    data["figures"][0]["value"] = "0.01"
    data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    dom = browse(f"{served}/C001/2026-09.html", tmp_path / "profile", resolve, "--dump-dom")
    assert verdict(dom)[0] == "mismatch"
