"""Review and post of any size, as the command line runs them (issues 15 and 18).

``voucher review --all`` and ``voucher post --all`` go through the chunked,
set-based library paths (:func:`juzhang.books.review_bulk`,
:func:`juzhang.books.post_reviewed`): a few statements per chunk of
vouchers, never one per voucher, never an ``IN`` list of every id (which
PostgreSQL refused past 65,535 parameters).  The tests count the statements
SQLAlchemy sends; they do not time anything (the targets live in the
benchmarks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from juzhang import agency, books, verify
from juzhang.books import posting
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import SegregationOfDutiesError, StateError
from juzhang.storage.engine import make_engine, transaction
from juzhang.storage.schema import AuditLog, Voucher
from tests.cli.test_cli import ok, refused
from tests.conftest import World, _truncate_pg, build_world


def _drafts(n: int, months: tuple[int, ...] = (9, 10)) -> list[VoucherDraft]:
    """``n`` balanced drafts (Dr 112 / Cr 501) spread over ``months`` of 2026, dates shuffled."""
    out = []
    for i in range(n):
        month = months[i % len(months)]
        day = 28 - (i * 7) % 28  # later drafts often carry earlier dates
        amount = D(10 + i % 97) + D("0.25")
        out.append(
            VoucherDraft(
                dt.date(2026, month, day),
                (
                    Line("112", f"应收 {i}", debit=amount),
                    Line("501", f"应收 {i}", credit=amount),
                ),
            )
        )
    return out


@contextmanager
def counted() -> Iterator[list[int]]:
    """Count the statements every engine sends while the block runs."""
    seen = [0]

    def on(*_args: Any) -> None:
        seen[0] += 1

    event.listen(Engine, "before_cursor_execute", on)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", on)


def _url(world: World) -> str:
    return str(world.engine.url.render_as_string(hide_password=False))


def test_cli_reviews_and_posts_thousands_through_the_bulk_path(world: World) -> None:
    n = 3000
    world.run(books.draft_vouchers, "C001", "bk", _drafts(n))
    url = _url(world)

    with counted() as reviewing:
        out = ok(url, "voucher review C001 --all", actor="rv")
    assert out.strip() == f"已审核 / reviewed: {n}"
    assert reviewing[0] < n // 20, reviewing[0]  # a few statements a chunk, not one a voucher

    with counted() as posting:
        out = ok(url, "voucher post C001 --all", actor="bk")
    # one line a month, the run of numbers given (one line a voucher with --verbose)
    assert out.splitlines() == ["2026-09 记-0001 … 记-1500", "2026-10 记-0001 … 记-1500"]
    assert posting[0] < n // 20, posting[0]

    with transaction(world.engine, write=False) as s:
        assert verify.verify(s, "C001") == []
        rows = s.execute(
            select(Voucher.period, Voucher.number, Voucher.voucher_date, Voucher.id)
            .where(Voucher.status == "posted")
            .order_by(Voucher.chain_seq)
        ).all()
        audited = s.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "voucher.post")
        )
    # numbered and chained in (month, date, id) order over the whole set, across chunks
    assert [(p, d, i) for p, _n, d, i in rows] == sorted((p, d, i) for p, _n, d, i in rows)
    assert audited == n


def test_chunks_number_and_chain_as_one_posting_would(world: World) -> None:
    ids = world.run(books.draft_vouchers, "C001", "bk", _drafts(40, (9, 10, 11)))
    assert world.run(books.review_bulk, "C001", "rv", ids[:5], chunk=3) == 5
    assert world.run(books.review_bulk, "C001", "rv", "all", chunk=7) == 35
    posted = world.run(books.post_reviewed, "C001", "bk", list(reversed(ids[:10])), chunk=4)
    assert posted.count == 10
    rest = world.run(books.post_reviewed, "C001", "bk", "all", chunk=6)
    assert rest.count == 30
    assert [p for p, _a, _b in rest.spans] == [202609, 202610, 202611]
    assert next(iter(posted.labels()))[1] == "记-0001"
    with transaction(world.engine, write=False) as s:
        assert verify.verify(s, "C001") == []
        numbers = s.execute(
            select(Voucher.period, Voucher.number).where(Voucher.status == "posted")
        ).all()
    assert len(numbers) == 40


def test_a_chunk_refused_behind_the_next_leaves_nothing_posted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Posting writes a chunk while it numbers the next (on PostgreSQL on a second
    thread); a refusal of the third chunk's writes, found after the fourth chunk
    was numbered, still undoes the whole posting."""
    ids = world.run(books.draft_vouchers, "C001", "bk", _drafts(30))
    world.run(books.review_bulk, "C001", "rv", "all")
    real = posting._write_posting  # noqa: SLF001 — refuse a chunk behind the next
    calls: list[int] = []

    def write(session: Any, rows: list[dict[str, Any]], audit: list[Any]) -> None:
        calls.append(len(rows))
        real(session, rows, audit)
        if len(calls) == 3:
            raise StateError("凭证 voucher", "posted", "a refusal of the database, as a test")

    monkeypatch.setattr(posting, "_write_posting", write)
    with pytest.raises(StateError, match="a refusal"):
        world.run(books.post_reviewed, "C001", "bk", "all", chunk=4)
    assert calls == [4, 4, 4]
    with transaction(world.engine, write=False) as s:
        statuses = set(s.execute(select(Voucher.status)).scalars())
        posted = s.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "voucher.post")
        )
    assert statuses == {"reviewed"}
    assert posted == 0
    monkeypatch.setattr(posting, "_write_posting", real)
    assert world.run(books.post_reviewed, "C001", "bk", "all", chunk=4).count == len(ids)
    with transaction(world.engine, write=False) as s:
        assert verify.verify(s, "C001") == []


def test_bulk_review_and_post_keep_every_rule(world: World) -> None:
    ids = world.run(books.draft_vouchers, "C001", "bk", _drafts(6))
    with pytest.raises(SegregationOfDutiesError):  # the preparer may not review
        world.run(books.review_bulk, "C001", "bk", "all")
    with pytest.raises(StateError):  # a draft is not posted
        world.run(books.post_reviewed, "C001", "bk", ids[:2])
    world.run(books.review_bulk, "C001", "rv", ids[:3])
    with pytest.raises(StateError):  # reviewed twice: all or nothing
        world.run(books.review_bulk, "C001", "rv", ids[2:5])
    with transaction(world.engine, write=False) as s:
        statuses = s.execute(select(Voucher.status).order_by(Voucher.id)).scalars().all()
    assert statuses == ["reviewed"] * 3 + ["draft"] * 3
    url = _url(world)
    out = ok(url, "voucher post C001 --all", actor="bk")
    assert out.splitlines() == ["2026-09 记-0001", "2026-09 记-0002", "2026-10 记-0001"]
    # a reviewer who prepared one of the drafts reviews none of them with --all
    world.run(agency.grant, "rv", "bookkeeper", "C001")
    world.run(books.draft_vouchers, "C001", "rv", _drafts(1))
    assert "the reviewer may not be the preparer" in refused(
        url, "voucher review C001 --all", actor="rv"
    )


@pytest.mark.slow
def test_postgresql_reviews_and_posts_past_70000_vouchers(pg_url: str) -> None:
    """Past PostgreSQL's 65,535 parameters a statement: the CLI failed there (issue 18)."""
    engine = make_engine(pg_url)
    _truncate_pg(engine)
    try:
        world = build_world(engine)
        n = 70_010
        for start in range(0, n, 10_000):
            world.run(books.draft_vouchers, "C001", "bk", _drafts(min(10_000, n - start)))
        url = _url(world)
        assert ok(url, "voucher review C001 --all", actor="rv").strip().endswith(f"{n}")
        out = ok(url, "voucher post C001 --all", actor="bk")
        assert out.splitlines() == ["2026-09 记-0001 … 记-35005", "2026-10 记-0001 … 记-35005"]
        with transaction(engine, write=False) as s:
            posted = s.scalar(
                select(func.count()).select_from(Voucher).where(Voucher.status == "posted")
            )
            head = books.chain_head(s, "C001")
        assert posted == n and head[0] == n
    finally:
        engine.dispose()
