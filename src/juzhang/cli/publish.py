"""Command line for the published boards on the web (网上财务公开).

::

    juzhang publish --out SITE [--entities all|C001,C002] [--base-url URL]

writes the static site of every published board (:mod:`juzhang.exporters.site`):
an index of the communities, for each published month a page in Chinese and
its figures as JSON beside it.  Only boards signed by the 民主理财小组 appear,
from what was published.  With a site address (``--base-url``, else the
community's stored ``base_url`` setting) each page also gets its published
workbook beside it, printing the QR code of the page and its fingerprint.
It only reads the books.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection

from juzhang import clock
from juzhang.agency import list_entities
from juzhang.cli._common import note, out_folder_callback, session
from juzhang.cli.disclosure import BaseUrl, checked_base_url
from juzhang.closing import published_boards, site_address
from juzhang.core.period import period_range
from juzhang.exporters.site import PageQuestion, write_site
from juzhang.question import OVERDUE, questions_of_period
from juzhang.reports.disclosure import Disclosure

__all__ = ["page_questions", "publish"]


def page_questions(s: Connection, d: Disclosure) -> list[PageQuestion]:
    """The residents' questions about the months of board ``d``, answered or not, as of today.

    The page lists what was asked about this board since it went up (提问栏)
    and the community's answers (回音栏), open ones past their deadline in
    red; the next month's board freezes them as it publishes them.
    """
    today = clock.today()
    return [
        PageQuestion(
            asked_on=q.asked_on,
            text=q.text,
            deadline=q.due_on,
            line=q.line_no,
            answer=q.answer,
            answered_on=q.answered_on,
            overdue=q.status(today) == OVERDUE,
        )
        for period in period_range(d.first, d.last)
        for q in questions_of_period(s, d.entity, period)
    ]


def publish(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="SITE",
            file_okay=False,
            callback=out_folder_callback,
            help="网站目录 / the site's folder",
        ),
    ],
    entities: Annotated[
        str, typer.Option("--entities", metavar="all|C001,C002", help="社区 / communities")
    ] = "all",
    base_url: BaseUrl = None,
) -> None:
    """Write the published boards as a static web site (网上财务公开): pages, JSON, index."""
    base_url = checked_base_url(ctx, base_url)
    codes = (
        None if entities.strip() == "all" else [c.strip() for c in entities.split(",") if c.strip()]
    )
    with session(ctx, write=False) as s:
        chosen = codes if codes is not None else [code for code, _n, _c in list_entities(s)]
        addresses = {code: site_address(s, code, base_url) for code in chosen}
        boards = published_boards(s, codes)  # streamed: one board in memory at a time
        result = write_site(
            out,
            boards,
            questions=lambda d: page_questions(s, d),
            addresses={c: a for c, a in addresses.items() if a},
        )
    for entity, pages in sorted(result.pages.items()):
        note(f"{entity}: {len(pages)} 期 / board(s)")
    typer.echo(str(out / "index.html"))
    note(
        f"已发布 {result.count} 张公开表，{len(result.pages)} 个社区 / {result.count} published"
        f" board(s) of {len(result.pages)} communit(ies) → {out}"
    )
