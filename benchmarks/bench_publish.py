"""Publishing benchmark (网上公开): ``juzhang publish`` for many communities and months.

The issue-14 benchmark.  Full size: 200 communities × 12 published months
(2026-01..2026-12), each board with 100 items (income and expenditure lines),
six categories a side, cash and bank.  Set-up, not timed, in a child
process: the communities and people (:func:`benchmarks.bench_posting.prepare`)
and, per community and month, a published disclosure row with its snapshot —
the disclosure's JSON as the sign-off stores it, made here from synthetic rows
(publishing reads only the snapshots, never the books, so no books are needed).

Timed, in a fresh child process: what ``juzhang publish --out SITE`` does —
read every published board from its snapshot
(:func:`juzhang.closing.published_boards`, checking each snapshot's digest)
and write the site (:func:`juzhang.exporters.site.write_site`: a page and a
JSON per board, the indexes).  Every board must have its page, or the
benchmark fails.  Without a site address (no workbooks beside the pages).

Target (issue 14): under 30 s on SQLite.  The CPU time of the run is noted
too: on a machine busy with other work the wall time says little.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks import Config, Result, in_child
from benchmarks.bench_posting import _sqlite_mb, prepare
from benchmarks.synthetic import entity_code

NAME = "publish"
DESCRIPTION = "publish the site of 12 published months for every community (juzhang publish)"

FULL = (200, 12, 100)
QUICK = (3, 2, 10)
TARGET_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Size:
    """Communities, published months each, items per board."""

    communities: int
    months: int
    items: int

    @property
    def label(self) -> str:
        """``"200×12×100"``."""
        return f"{self.communities}×{self.months}×{self.items}"


def _board(code: str, period: int, items: int) -> Any:
    """A published disclosure of synthetic rows (the shape a real one has)."""
    from juzhang.disclosure_config import DisclosureConfig
    from juzhang.reports.disclosure import (
        CategoryRow,
        Disclosure,
        DisclosureItem,
        FundRow,
        SignatureBlock,
    )

    year, month = divmod(period, 100)
    rows = []
    for i in range(items):
        income = i % 4 == 0
        amount = Decimal(100 + (i * 37 + month * 11) % 9000) / 100 + 10
        rows.append(
            DisclosureItem(
                no=i + 1,
                period=period,
                date=dt.date(year, month, 1 + i % 28),
                voucher=f"记-{i + 1:04d}",
                line_no=2,
                account="501" if income else "51301",
                account_name="经营收入" if income else "办公费",
                summary=f"第{i + 1}笔 {'收租金' if income else '购办公用品'}",
                income=amount if income else None,
                expense=None if income else amount,
                handler="张出纳",
                remark="",
                category="经营收入" if income else f"支出{i % 6}",
            )
        )
    incomes = [sum((r.income for r in rows if r.income is not None), Decimal("0.00"))]
    income_categories = tuple(
        CategoryRow(
            "income",
            f"收入{k}",
            incomes[0] if k == 0 else Decimal("0.00"),
            (incomes[0] if k == 0 else Decimal("0.00")) * month,
        )
        for k in range(6)
    )
    expense_categories = tuple(
        CategoryRow(
            "expense",
            f"支出{k}",
            sum(
                (r.expense for r in rows if r.category == f"支出{k}" and r.expense), Decimal("0.00")
            ),
            Decimal("0.00"),
        )
        for k in range(6)
    )
    total_in = sum((c.current for c in income_categories), Decimal("0.00"))
    total_out = sum((c.current for c in expense_categories), Decimal("0.00"))
    funds = (
        FundRow(
            "cash",
            "库存现金",
            Decimal("3000.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("3000.00"),
            Decimal("0.00"),
            Decimal("0.00"),
        ),
        FundRow(
            "bank",
            "银行存款",
            Decimal("200000.00"),
            total_in,
            total_out,
            Decimal("200000.00"),
            total_in * month,
            total_out * month,
        ),
    )
    last = dt.date(year + month // 12, month % 12 + 1, 10)
    return Disclosure(
        entity=code,
        entity_name=f"社区{code}",
        community=f"社区{code}居委会",
        title=f"社区{code}居委会{year}年{month}月财务收支明细公开表",
        first=period,
        last=period,
        year_first=year * 100 + 1,
        posted_on=last,
        posted_until=last + dt.timedelta(days=30),
        items=tuple(rows),
        income_categories=income_categories,
        expense_categories=expense_categories,
        funds=funds,
        sections=(),
        large_threshold=Decimal("1000.00"),
        receivables=(),
        payables=(),
        budget=(),
        signatures=SignatureBlock(
            secretary="陈明",
            director="李红",
            cashier="张出纳",
            bookkeeper="李会计",
            group=("周理财",),
            opinion="账目清楚，同意公开",
            signer="周理财",
            signed_on=last - dt.timedelta(days=5),
            status="published",
        ),
        chain_seq=month * items,
        chain_hash=f"{month:02d}" * 32,
        config=DisclosureConfig(chart="rural-2023"),
        state="published",
    )


def setup_phase(url: str, size: Size) -> dict[str, Any]:
    """The communities and their published boards (not timed)."""
    from sqlalchemy import insert, select

    from juzhang.disclosure_config import config_to_json
    from juzhang.storage.engine import make_engine, transaction
    from juzhang.storage.schema import Disclosure, Entity, User

    t0 = time.perf_counter()
    prepare(url, size.communities)
    engine = make_engine(url)
    boards = 0
    with transaction(engine) as s:
        sup = int(s.execute(select(User.id).order_by(User.id)).scalars().first() or 0)
        ids = {str(c): int(i) for c, i in s.execute(select(Entity.code, Entity.id))}
        for n in range(size.communities):
            code = entity_code(n)
            rows = []
            for m in range(1, size.months + 1):
                d = _board(code, 202600 + m, size.items)
                body = d.to_json()
                body["config"] = config_to_json(d.config)
                body["snapshot_version"] = 1
                rows.append(
                    {
                        "entity_id": ids[code],
                        "id": m,
                        "first_period": d.first,
                        "last_period": d.last,
                        "status": "published",
                        "fingerprint": d.fingerprint,
                        "chain_seq": d.chain_seq,
                        "generated_at": dt.datetime.now(dt.UTC),
                        "signed_by": sup,
                        "signer_name": "周理财",
                        "opinion": "账目清楚，同意公开",
                        "signed_on": d.signatures.signed_on,
                        "snapshot": json.dumps(body, ensure_ascii=False, sort_keys=True),
                    }
                )
            s.execute(insert(Disclosure), rows)
            boards += len(rows)
    engine.dispose()
    return {"boards": boards, "seconds": time.perf_counter() - t0}


def publish_phase(url: str, out: str) -> dict[str, Any]:
    """What ``juzhang publish --out SITE`` does, timed."""
    from juzhang.closing import published_boards
    from juzhang.exporters.site import write_site
    from juzhang.storage.engine import make_engine, transaction

    engine = make_engine(url)
    t0, cpu0 = time.perf_counter(), time.process_time()
    with transaction(engine, write=False) as s:
        result = write_site(Path(out), published_boards(s))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    engine.dispose()
    size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    return {"seconds": seconds, "cpu": cpu, "pages": result.count, "site_mb": size / 2**20}


def _size(cfg: Config) -> Size:
    base = QUICK if cfg.quick else FULL
    return Size(cfg.communities or base[0], cfg.months or base[1], cfg.vouchers or base[2])


def run(cfg: Config) -> list[Result]:
    """Run the benchmark on SQLite (publishing reads snapshots only; one dialect suffices)."""
    size = _size(cfg)
    folder = Path(tempfile.mkdtemp(prefix="jz-bench-publish-", dir=cfg.workdir))
    try:
        url = f"sqlite:///{folder / 'books.db'}"
        made = in_child(f"{__name__}.setup_phase", url=url, size=size)
        out = in_child(f"{__name__}.publish_phase", url=url, out=str(folder / "site"))
        if out["pages"] != made["boards"]:
            raise RuntimeError(f"{out['pages']} pages for {made['boards']} published boards")
        notes = (
            f"{size.label}: {out['pages']} pages, site {out['site_mb']:.1f} MB",
            f"set-up {made['seconds']:.1f} s (not timed)",
            f"CPU {out['cpu']:.1f} s (one process: about the wall time on an idle machine)",
            f"target under {TARGET_SECONDS:.0f} s: "
            + ("met" if out["seconds"] < TARGET_SECONDS else "NOT met"),
        )
        return [
            Result(
                bench=NAME,
                db="sqlite",
                method="juzhang publish",
                vouchers=size.communities * size.months * size.items,
                lines=out["pages"],
                custody=0,
                seconds=out["seconds"],
                peak_rss_mb=out["peak_rss_mb"],
                db_mb=_sqlite_mb(url.removeprefix("sqlite:///")),
                notes=notes,
            )
        ]
    finally:
        if not cfg.keep:
            shutil.rmtree(folder, ignore_errors=True)
