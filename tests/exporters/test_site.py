"""The published boards as a web site (juzhang publish) and verify-report on a page's JSON.

C001's September is closed and signed (published), October closed but not
signed (final), November booked and open (a draft).  ``juzhang publish``
puts September up and nothing else; the page shows the published figures,
the sign-off and the fingerprint; its JSON gives the fingerprint again from
its own figures (the canonical serialisation), and verify-report reads it
with the workbook's exit codes.  Both dialects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from juzhang import clock
from juzhang.closing import published_disclosure
from juzhang.closing_run import close_all
from juzhang.disclosure_config import parse_config, set_stored_config, stored_config
from juzhang.errors import ProblemsError
from juzhang.exporters.board_verify import json_fingerprint
from juzhang.exporters.site import PageQuestion, page_json, render_page, write_site
from juzhang.question import add_question, answer_question
from juzhang.reports.disclosure import Figure, digest_body, disclosure
from tests.closing.test_closing import NOV, OCT, SEP, clean_month
from tests.conftest import World
from tests.exporters.test_board import closed_board, jz, sign

OCTOBER = [(8, "-50.00", "51301", "购墨盒"), (15, "600.00", "501", "收场地租金")]


@pytest.fixture
def three_months(world: World, tmp_path: Path) -> World:
    """September published, October closed and unsigned, November open with vouchers."""
    clean_month(world)
    closed_board(world, tmp_path / "closing")
    sign(world)
    clean_month(world, OCT, OCTOBER)
    run = close_all(world.engine, OCT, ["C001"], tmp_path / "closing", actor="rv")
    assert run.ok, run.problems
    clean_month(world, NOV, [(3, "-20.00", "51301", "买纸")])
    return world


def publish(world: World, site: Path, extra: str = "") -> Any:
    result = jz(world, f"publish --out {site}{extra}")
    assert result.exit_code == 0, result.output
    return result


def test_only_the_published_month_goes_up(three_months: World, tmp_path: Path) -> None:
    world, site = three_months, tmp_path / "site"
    publish(world, site)
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) == [
        "C001/2026-09.html",
        "C001/2026-09.json",
        "C001/index.html",
        "index.html",
        "site.css",
        "verify.js",
    ]
    published = world.run(published_disclosure, "C001", SEP)
    assert published is not None
    page = (site / "C001" / "2026-09.html").read_text(encoding="utf-8")
    for text in (published.fingerprint, "账目清楚，同意公开", "周理财", "2026年10月5日"):
        assert text in page
    assert "2026-10" not in (site / "C001" / "index.html").read_text(encoding="utf-8")
    # every figure is on the page, with the published value
    shown = dict(re.findall(r'data-key="([^"]+)">([^<]*)<', page))
    figures = {f.key: f.value for f in published.figures()}
    assert set(shown) == set(figures)
    assert shown["total/expense/current"] == "420.00"
    for key, value in figures.items():
        if not isinstance(value, str):
            assert shown[key].replace(",", "").rstrip("%") in (f"{value:.2f}", f"{value:.1f}")
    # no external resource
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_a_page_json_gives_its_fingerprint_from_its_own_figures(
    three_months: World, tmp_path: Path
) -> None:
    world, site = three_months, tmp_path / "site"
    publish(world, site)
    data = json.loads((site / "C001" / "2026-09.json").read_text(encoding="utf-8"))
    published = world.run(published_disclosure, "C001", SEP)
    assert published is not None
    assert json_fingerprint(data) == data["fingerprint"] == published.fingerprint
    body = digest_body(
        data["entity"], data["period"], [Figure(f["key"], "", f["value"]) for f in data["figures"]]
    )
    assert hashlib.sha256(body).hexdigest() == published.digest
    assert body.startswith(b'{"entity":"C001","figures":[["') and body.endswith(
        b'"]],"period":"2026-09"}'
    )


def test_verify_report_reads_a_page_json(three_months: World, tmp_path: Path) -> None:
    world, site = three_months, tmp_path / "site"
    publish(world, site)
    page = site / "C001" / "2026-09.json"
    ok = jz(world, f"verify-report {page}")
    assert ok.exit_code == 0, ok.output
    assert "the file is the published board" in ok.output
    # a figure changed: named, exit 1 (with or without the digest made to fit)
    data = json.loads(page.read_text(encoding="utf-8"))
    figure = next(f for f in data["figures"] if f["key"] == "total/expense/current")
    figure["value"] = "42.00"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    bad = jz(world, f"verify-report {forged}")
    assert bad.exit_code == 1 and "fingerprint*" in bad.output, bad.output
    data["items"][0]["summary"] = "改过的摘要"
    data["fingerprint"] = json_fingerprint(data)
    forged.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    bad = jz(world, f"verify-report {forged}")
    assert bad.exit_code == 1 and "items[0].summary" in bad.output, bad.output
    # October's JSON: closed, not signed (4); November's: a draft (3)
    for period, code in ((OCT, 4), (NOV, 3)):
        d = world.run(disclosure, "C001", period, period)
        other = tmp_path / f"{period}.json"
        other.write_text(page_json(d), encoding="utf-8")
        assert jz(world, f"verify-report {other}").exit_code == code
    not_ours = tmp_path / "x.json"
    not_ours.write_text('{"entity": "C001"}', encoding="utf-8")
    result = jz(world, f"verify-report {not_ours}")
    assert result.exit_code != 0 and "not a disclosure's JSON" in result.output


def test_a_site_address_gives_the_board_its_qr_code(three_months: World, tmp_path: Path) -> None:
    world, site = three_months, tmp_path / "site"
    publish(world, site, " --base-url https://gongkai.example.cn/fuxing/")
    workbook = site / "C001" / "2026-09.xlsx"
    assert workbook.exists()
    assert 'href="2026-09.xlsx"' in (site / "C001" / "2026-09.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(workbook) as z:
        media = [n for n in z.namelist() if n.startswith("xl/media/")]
    assert len(media) == 1
    # the picture is no cell: the workbook is still the published board
    assert jz(world, f"verify-report {workbook}").exit_code == 0
    bad = jz(world, "publish --out x --base-url ftp://nope")
    assert bad.exit_code == 2 and "https://" in bad.output


def media(workbook: Path) -> list[str]:
    with zipfile.ZipFile(workbook) as z:
        return [n for n in z.namelist() if n.startswith("xl/media/")]


def test_a_stored_site_address_puts_the_qr_code_on_the_exported_board(
    three_months: World, tmp_path: Path
) -> None:
    world = three_months
    plain = tmp_path / "plain.xlsx"
    assert jz(world, f"disclosure export C001 --period 2026-09 --out {plain}").exit_code == 0
    assert media(plain) == []
    config = parse_config({"base_url": "https://gongkai.example.cn/fuxing/"})
    world.run(set_stored_config, "C001", "rv", config)
    stored = world.run(stored_config, "C001")
    assert stored is not None and stored.base_url == "https://gongkai.example.cn/fuxing"
    with_qr = tmp_path / "qr.xlsx"
    assert jz(world, f"disclosure export C001 --period 2026-09 --out {with_qr}").exit_code == 0
    assert len(media(with_qr)) == 1
    assert jz(world, f"verify-report {with_qr}").exit_code == 0
    with pytest.raises(ProblemsError, match="https://"):
        parse_config({"base_url": "gongkai.example.cn"})


def test_publish_names_an_unknown_community(three_months: World, tmp_path: Path) -> None:
    result = jz(three_months, f"publish --out {tmp_path / 'site'} --entities C001,X999")
    assert result.exit_code != 0 and "X999" in result.output


def test_the_questions_slot_lists_what_it_is_given(three_months: World) -> None:
    published = three_months.run(published_disclosure, "C001", SEP)
    assert published is not None
    without = render_page(published, json_name="2026-09.json")
    assert 'id="questions"' not in without
    asked = [
        PageQuestion(dt.date(2026, 10, 12), "慰问困难户是哪几户？", dt.date(2026, 10, 27), line=3),
        PageQuestion(
            dt.date(2026, 10, 13),
            "门面租金<是否>按合同？",
            dt.date(2026, 10, 28),
            answer="按 2026 年合同收取",
            answered_on=dt.date(2026, 10, 20),
        ),
        PageQuestion(
            dt.date(2026, 10, 1), "办公用品买了什么？", dt.date(2026, 10, 16), overdue=True
        ),
    ]
    page = render_page(published, asked, json_name="2026-09.json")
    section = page[page.index('id="questions"') : page.index('id="signoff"')]
    assert section.count("<li") == 3 and "（第 3 行）" in section
    assert "门面租金&lt;是否&gt;按合同？" in section and "按 2026 年合同收取" in section
    assert section.count('class="overdue"') == 1 and "尚未答复" in section


def test_the_site_writer_refuses_a_board_not_published(three_months: World, tmp_path: Path) -> None:
    for period in (OCT, NOV):  # closed and unsigned; open (a draft)
        d = three_months.run(disclosure, "C001", period, period)
        assert d.state in ("final", "draft")
        with pytest.raises(ValueError, match="not published"):
            write_site(tmp_path / "site", [d])
        assert not (tmp_path / "site" / "C001").exists()


def test_the_page_lists_the_questions_asked_about_its_board(
    three_months: World, tmp_path: Path
) -> None:
    """A resident's question about September and its answer go up on September's page."""
    world, site = three_months, tmp_path / "site"
    with clock.fixed(dt.date(2026, 10, 12)):
        asked = world.run(add_question, "C001", "sup", SEP, "门面租金为何只收一个月？")
        open_one = world.run(add_question, "C001", "sup", SEP, "慰问名单是否公开？")
    with clock.fixed(dt.date(2026, 10, 20)):
        world.run(answer_question, "C001", "sup", asked.id, "十月起按季度收取。")
    with clock.fixed(dt.date(2026, 11, 30)):  # the second one is past its 15 days
        publish(world, site)
    page = (site / "C001" / "2026-09.html").read_text(encoding="utf-8")
    assert "门面租金为何只收一个月？" in page and "十月起按季度收取。" in page
    items = page.split("<li")
    (late,) = [i for i in items if "慰问名单是否公开？" in i]
    (done,) = [i for i in items if "门面租金为何只收一个月？" in i]
    assert late.startswith(' class="overdue"') and "尚未答复" in late
    assert not done.startswith(' class="overdue"')
    assert open_one.id != asked.id


def test_a_board_published_with_questions_shows_them_and_verifies(
    world: World, tmp_path: Path
) -> None:
    """October's board lists September's questions as published; the page shows them all."""
    clean_month(world)
    closed_board(world, tmp_path / "closing")
    sign(world)
    with clock.fixed(dt.date(2026, 10, 12)):
        world.run(add_question, "C001", "sup", SEP, "慰问名单是否公开？")
    clean_month(world, OCT, OCTOBER)
    run = close_all(world.engine, OCT, ["C001"], tmp_path / "closing", actor="rv")
    assert run.ok, run.problems
    signed = jz(
        world,
        "disclosure sign C001 --period 2026-10 --opinion 同意公开 --date 2026-11-02",
        actor="sup",
    )
    assert signed.exit_code == 0, signed.output
    site = tmp_path / "site"
    publish(world, site)
    page = (site / "C001" / "2026-10.html").read_text(encoding="utf-8")
    section = page[page.index('id="board-questions"') :]
    assert "慰问名单是否公开？" in section and "逾期未答复" in section
    assert '<tr class="overdue">' in section
    assert jz(world, f"verify-report {site / 'C001' / '2026-10.json'}").exit_code == 0
