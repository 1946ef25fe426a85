"""A state machine (状态机测试): random people do random things to one community's books.

Hypothesis drives the cashier, two bookkeepers, a reviewer, the supervisor
and the admin through random custody entries, drafts (good, unbalanced, on
unknown or non-leaf accounts, before the books start, on cash lines backed by
the cashier's entries or not), edits, deletions, reviews, postings, bulk
postings, reversals, corrections, closes and reopenings.  After every step:

* every refused command (any :class:`JuzhangError`) left every table exactly
  as it was;
* ``verify`` finds nothing: posted vouchers balance, numbering is gapless,
  the hash chain holds, running balances equal the lines, custody links are
  one to one;
* independently of ``verify``: posted vouchers balance and are numbered
  1..n per month, a posted voucher never changes, the chain head only moves
  forward, and the trial balance balances;
* what the permission table allows to a person in good standing is not
  refused, and what it forbids is refused with SegregationOfDutiesError.

Each example starts from a fresh database: a copy of the migrated SQLite
template, or emptied PostgreSQL tables.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine

from juzhang import books, custody, verify
from juzhang.core.period import format_period
from juzhang.core.voucher import Line, VoucherDraft, VoucherView
from juzhang.errors import JuzhangError, SegregationOfDutiesError
from juzhang.reports.trial_balance import trial_balance
from juzhang.storage.engine import make_engine
from tests.conftest import World, _truncate_pg, build_world, dump, lock_period

START = 202609
PERIODS = [202609, 202610, 202611]
PEOPLE = ["cash", "bk", "bk2", "rv", "sup", "adm"]
BOOKKEEPERS = {"bk", "bk2"}
LEAVES = ["112", "501", "51301", "21199", "502"]  # non-custody leaf accounts
CUSTODY = ["101", "102"]


def who(*right: str) -> st.SearchStrategy[str]:
    """Mostly a person whose role allows the action, sometimes anyone."""
    return st.sampled_from([*right] * (8 // len(right)) + PEOPLE)


fen = st.integers(min_value=1, max_value=200_000)
dates = st.builds(
    lambda p, d: dt.date(p // 100, p % 100, d),
    st.sampled_from([*PERIODS, *PERIODS, 202608]),  # the first is what shrinking prefers
    st.integers(min_value=1, max_value=28),
)


def yuan(f: int) -> Decimal:
    return Decimal(f) / 100



def period_of(d: dt.date) -> int:
    return d.year * 100 + d.month


class LedgerMachine(RuleBasedStateMachine):
    """One community; the database is the state, the rules are what people do."""

    new_engine: Callable[[], Engine]  # set by the test: a fresh, migrated, empty database
    stats: Counter[str]  # set by the test: what happened, over all examples

    def __init__(self) -> None:
        super().__init__()
        self.engine = self.new_engine()
        self.world: World = build_world(self.engine)
        self.world.run(books.add_account, "C001", "51301", "办公费")
        self.world.run(
            books.set_opening,
            "C001",
            "bk",
            {"101": Decimal("5000"), "102": Decimal("100000"), "301": Decimal("-105000")},
        )
        # a start: two cashier entries and three posted vouchers (two of them backed)
        out = self.world.run(
            custody.record_entry, "C001", "cash", dt.date(2026, 9, 5), "101", Decimal("-120"), "付"
        )
        into = self.world.run(
            custody.record_entry, "C001", "cash", dt.date(2026, 9, 10), "102", Decimal("3000"), "收"
        )
        self.world.run(
            books.post_bulk,
            "C001",
            [
                VoucherDraft(
                    dt.date(2026, 9, 5),
                    (
                        Line("51301", "付", debit=Decimal("120")),
                        Line("101", "付", credit=Decimal("120"), custody_entry=out),
                    ),
                ),
                VoucherDraft(
                    dt.date(2026, 9, 10),
                    (
                        Line("102", "收", debit=Decimal("3000"), custody_entry=into),
                        Line("502", "收", credit=Decimal("3000")),
                    ),
                ),
                VoucherDraft(
                    dt.date(2026, 9, 12),
                    (
                        Line("112", "借", debit=Decimal("50")),
                        Line("501", "借", credit=Decimal("50")),
                    ),
                ),
            ],
            preparer="bk",
            reviewer="rv",
            poster="bk2",
        )
        self.posted: dict[int, VoucherView] = {}
        self.head = 0
        self.refusals = 0
        self.successes = 0

    def teardown(self) -> None:
        self.stats[f"posted at the end: {min(len(self.posted), 5)}"] += 1
        for v in self.posted.values():
            self.stats[f"posted {v.kind}"] += 1
        self.engine.dispose()

    # ----------------------------------------------------------------- plumbing

    def attempt(
        self,
        fn: Callable[..., Any],
        *args: Any,
        ok: bool = False,
        duty: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Run a service call.  A refusal must change nothing.

        ``ok``: the call must succeed.  ``duty``: it must be refused for the
        person's roles (SegregationOfDutiesError).
        """
        before = dump(self.engine)
        try:
            result = self.world.run(fn, *args, **kwargs)
        except JuzhangError as exc:
            assert dump(self.engine) == before, f"refused {fn.__name__} changed the database"
            assert not ok, f"{fn.__name__} refused unexpectedly: {exc}"
            if duty:
                assert isinstance(exc, SegregationOfDutiesError), exc
            self.refusals += 1
            self.stats[f"{fn.__name__} refused: {type(exc).__name__}"] += 1
            return None
        assert not duty, f"{fn.__name__} allowed for a person without the role"
        self.successes += 1
        self.stats[f"{fn.__name__} done"] += 1
        return result

    def vouchers(self, status: str | None = None) -> list[VoucherView]:
        return self.world.run(books.list_vouchers, "C001", status=status)

    def closed(self) -> set[int]:
        return {p for p in PERIODS if self.world.run(books.is_closed, "C001", p)}

    def open_day(self, d: dt.date) -> bool:
        return period_of(d) >= START and period_of(d) not in self.closed()

    def pick(self, data: st.DataObject, items: list[int]) -> int:
        """An id from ``items``, now and then one that does not exist."""
        if not items or data.draw(st.integers(0, 5)) == 5:
            return 999
        return data.draw(st.sampled_from(items))

    # ----------------------------------------------------------------- the cashier's side

    @rule(
        person=who("cash"),
        account=st.sampled_from(CUSTODY),
        f=fen,
        out=st.booleans(),
        d=dates,
        zero=st.integers(0, 9),
    )
    def record_custody(
        self, person: str, account: str, f: int, out: bool, d: dt.date, zero: int
    ) -> None:
        amount = Decimal(0) if zero == 0 else yuan(-f if out else f)
        good = person == "cash" and amount != 0 and self.open_day(d)
        self.attempt(
            custody.record_entry,
            "C001",
            person,
            d,
            account,
            amount,
            "日记账",
            ok=good,
            duty=person != "cash",
        )

    @rule(person=who("cash"), data=st.data())
    def delete_custody(self, person: str, data: st.DataObject) -> None:
        entries = [e.id for e in self.world.run(custody.list_entries, "C001")]
        self.attempt(
            custody.delete_entry,
            "C001",
            person,
            self.pick(data, entries),
            duty=person != "cash",
        )

    # ----------------------------------------------------------------- drafting

    def simple(self, data: st.DataObject) -> VoucherDraft:
        d = data.draw(dates, label="date")
        debit = data.draw(st.sampled_from([*LEAVES, "513", "999"]), label="debit")
        credit = data.draw(st.sampled_from(LEAVES), label="credit")
        f = data.draw(fen, label="fen")
        skew = data.draw(st.sampled_from([0, 0, 0, 0, 0, 1]), label="skew")
        return VoucherDraft(
            d,
            (Line(debit, "摘要", debit=yuan(f)), Line(credit, "摘要", credit=yuan(f + skew))),
            data.draw(st.integers(0, 3), label="attachments"),
        )

    def backed(self, data: st.DataObject) -> VoucherDraft | None:
        """A voucher for one of the cashier's entries: explicit link or auto-link."""
        entries = self.world.run(custody.list_entries, "C001")
        if not entries:
            return None
        e = data.draw(st.sampled_from(entries), label="entry")
        explicit = data.draw(st.booleans(), label="explicit")
        other = data.draw(st.sampled_from(LEAVES), label="other")
        size = abs(e.amount)
        link = e.id if explicit else None
        if e.amount > 0:
            lines = (
                Line(e.account, "收款", debit=size, custody_entry=link),
                Line(other, "收款", credit=size),
            )
        else:
            lines = (
                Line(other, "付款", debit=size),
                Line(e.account, "付款", credit=size, custody_entry=link),
            )
        shift = data.draw(st.integers(-3, 3), label="shift")
        return VoucherDraft(e.date + dt.timedelta(days=shift), lines, 1)

    @rule(person=who("bk", "bk2"), data=st.data())
    def draft(self, person: str, data: st.DataObject) -> None:
        draft = self.simple(data)
        (d, c) = draft.lines
        good = (
            person in BOOKKEEPERS
            and self.open_day(draft.date)
            and d.debit == c.credit
            and d.account in LEAVES
            and c.account in LEAVES
        )
        self.attempt(
            books.draft_voucher, "C001", person, draft, ok=good, duty=person not in BOOKKEEPERS
        )

    @rule(data=st.data())
    def book(self, data: st.DataObject) -> None:
        """The ordinary workflow in one step: bk drafts, rv reviews, bk2 posts."""
        draft = (self.backed(data) if data.draw(st.booleans()) else None) or self.simple(data)
        vid = self.attempt(books.draft_voucher, "C001", "bk", draft)
        if vid is not None:
            self.attempt(books.review_vouchers, "C001", "rv", [vid], ok=True)
            self.attempt(books.post_vouchers, "C001", "bk2", [vid], ok=True)

    @rule(person=who("bk", "bk2"), data=st.data())
    def draft_backed(self, person: str, data: st.DataObject) -> None:
        draft = self.backed(data)
        if draft is not None:
            self.attempt(books.draft_voucher, "C001", person, draft, duty=person not in BOOKKEEPERS)

    @rule(person=who("bk", "bk2"), data=st.data())
    def edit(self, person: str, data: st.DataObject) -> None:
        ids = [v.id for v in self.vouchers() if v.status != "posted"]
        vid = self.pick(data, ids)
        draft = self.backed(data) if data.draw(st.booleans()) else None
        self.attempt(
            books.edit_voucher,
            "C001",
            person,
            vid,
            draft or self.simple(data),
            duty=person not in BOOKKEEPERS,
        )

    @rule(person=who("bk", "bk2"), data=st.data())
    def delete(self, person: str, data: st.DataObject) -> None:
        ids = [v.id for v in self.vouchers() if v.status != "posted"]
        self.attempt(
            books.delete_voucher,
            "C001",
            person,
            self.pick(data, ids),
            duty=person not in BOOKKEEPERS,
        )

    # ----------------------------------------------------------------- review and posting

    @rule(data=st.data())
    def carry(self, data: st.DataObject) -> None:
        """Take an existing draft (a reversal, a correction, any) through review and posting."""
        drafts = self.vouchers("draft")
        if drafts:
            self.carry_through(data.draw(st.sampled_from(drafts)).id)

    def carry_through(self, vid: int) -> None:
        """Review (rv) and post (bk) a draft: neither may be refused."""
        self.attempt(books.review_vouchers, "C001", "rv", [vid], ok=True)
        self.attempt(books.post_vouchers, "C001", "bk", [vid], ok=True)

    @rule(person=who("rv"), data=st.data())
    def review(self, person: str, data: st.DataObject) -> None:
        drafts = [v for v in self.vouchers("draft")]
        chosen = data.draw(
            st.lists(st.sampled_from(drafts), max_size=3, unique_by=lambda v: v.id)
            if drafts
            else st.just([])
        )
        closed = self.closed()
        good = person == "rv" and all(v.period not in closed for v in chosen)
        self.attempt(
            books.review_vouchers,
            "C001",
            person,
            [v.id for v in chosen],
            ok=good,
            duty=person != "rv",
        )

    @rule(person=who("rv"), data=st.data())
    def unreview(self, person: str, data: st.DataObject) -> None:
        ids = [v.id for v in self.vouchers("reviewed")]
        self.attempt(
            books.unreview_voucher, "C001", person, self.pick(data, ids), duty=person != "rv"
        )

    @rule(person=who("bk", "bk2"), data=st.data())
    def post(self, person: str, data: st.DataObject) -> None:
        ready = [v.id for v in self.vouchers("reviewed")]
        others = [v.id for v in self.vouchers() if v.status != "reviewed"]
        chosen = data.draw(
            st.lists(st.sampled_from(ready), max_size=4, unique=True) if ready else st.just([])
        )
        if others and data.draw(st.integers(0, 5)) == 0:
            chosen.append(data.draw(st.sampled_from(others)))
        good = person in BOOKKEEPERS and all(i in ready for i in chosen)
        numbers = self.attempt(
            books.post_vouchers, "C001", person, chosen, ok=good, duty=person not in BOOKKEEPERS
        )
        if numbers is not None:
            assert len(numbers) == len(chosen)

    @rule(preparer=who("bk", "bk2"), reviewer=who("rv"), poster=who("bk", "bk2"), data=st.data())
    def bulk(self, preparer: str, reviewer: str, poster: str, data: st.DataObject) -> None:
        drafts = [self.simple(data) for _ in range(data.draw(st.integers(1, 3)))]
        allowed = preparer in BOOKKEEPERS and reviewer == "rv" and poster in BOOKKEEPERS
        self.attempt(
            books.post_bulk,
            "C001",
            drafts,
            preparer=preparer,
            reviewer=reviewer,
            poster=poster,
            duty=not allowed,
        )

    # ----------------------------------------------------------------- corrections

    @rule(person=who("bk", "bk2"), data=st.data())
    def reverse(self, person: str, data: st.DataObject) -> None:
        posted = self.vouchers("posted")
        if not posted:
            return
        v = data.draw(st.sampled_from(posted))
        date = data.draw(st.none() | dates)
        red = self.attempt(
            books.reverse_voucher,
            "C001",
            person,
            v.period,
            v.number or 0,
            date=date,
            duty=person not in BOOKKEEPERS,
        )
        if red is not None and data.draw(st.booleans()):
            self.carry_through(red)

    @rule(person=who("bk", "bk2"), data=st.data())
    def correct(self, person: str, data: st.DataObject) -> None:
        posted = self.vouchers("posted")
        reversed_ = {v.reverses for v in posted if v.kind == "reversal"}
        candidates = [v for v in posted if v.id in reversed_] or posted
        if not candidates:
            return
        v = data.draw(st.sampled_from(candidates if data.draw(st.integers(0, 3)) else posted))
        blue = self.attempt(
            books.draft_correction,
            "C001",
            person,
            v.period,
            v.number or 0,
            self.simple(data),
            duty=person not in BOOKKEEPERS,
        )
        if blue is not None and data.draw(st.booleans()):
            self.carry_through(blue)

    # ----------------------------------------------------------------- periods

    @rule(person=who("rv"), period=st.sampled_from(PERIODS))
    def close(self, person: str, period: int) -> None:
        pending = [v for v in self.vouchers() if v.period == period and v.status != "posted"]
        good = person == "rv" and not pending and period not in self.closed()
        self.attempt(lock_period, "C001", person, period, ok=good, duty=person != "rv")

    @rule(person=who("adm"), period=st.sampled_from(PERIODS), reason=st.sampled_from(["", "补记"]))
    def reopen(self, person: str, period: int, reason: str) -> None:
        good = person == "adm" and bool(reason) and period in self.closed()
        self.attempt(
            books.reopen_period, "C001", person, period, reason, ok=good, duty=person != "adm"
        )

    # ----------------------------------------------------------------- invariants

    @invariant()
    def verify_finds_nothing(self) -> None:
        assert self.world.run(verify.verify, "C001") == []

    @invariant()
    def posted_vouchers_balance_and_never_change(self) -> None:
        posted = self.vouchers("posted")
        for v in posted:
            debit = sum((ln.amount for ln in v.lines if ln.side == "D"), Decimal(0))
            credit = sum((ln.amount for ln in v.lines if ln.side == "C"), Decimal(0))
            assert debit == credit and len(v.lines) >= 2, v
            seen = self.posted.setdefault(v.id, v)
            assert seen == v, f"posted voucher {v.id} changed"
        assert set(self.posted) == {v.id for v in posted}, "a posted voucher disappeared"

    @invariant()
    def nothing_before_the_books_start(self) -> None:
        assert all(v.period >= START for v in self.vouchers())
        assert all(
            e.date >= dt.date(2026, 9, 1) for e in self.world.run(custody.list_entries, "C001")
        )

    @invariant()
    def numbering_is_gapless(self) -> None:
        posted = self.vouchers("posted")
        for key, group in itertools.groupby(posted, key=lambda v: v.period):
            numbers = [v.number for v in group]
            assert numbers == list(range(1, len(numbers) + 1)), format_period(key)

    @invariant()
    def chain_moves_forward(self) -> None:
        seq, _hash = self.world.run(books.chain_head, "C001")
        assert seq >= self.head
        assert seq == len(self.vouchers("posted"))
        self.head = seq

    @invariant()
    def trial_balance_balances(self) -> None:
        tb = self.world.run(trial_balance, "C001", PERIODS[0], PERIODS[-1])
        assert tb.balanced, tb.to_json()["totals"]


@pytest.mark.slow
def test_ledger_state_machine(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    counter = itertools.count()
    if db_url.startswith("sqlite"):
        template: Path = request.getfixturevalue("sqlite_template")

        def new_engine() -> Engine:
            path = tmp_path / f"example{next(counter)}.db"
            shutil.copy(template, path)
            return make_engine(f"sqlite:///{path}")

        steps, examples = 30, 20
    else:

        def new_engine() -> Engine:
            engine = make_engine(db_url)
            _truncate_pg(engine)
            return engine

        steps, examples = 25, 8

    stats: Counter[str] = Counter()
    machine = type(
        "Machine", (LedgerMachine,), {"new_engine": staticmethod(new_engine), "stats": stats}
    )
    deep = ("post_vouchers done", "posted reversal", "lock_period done")
    for _round in range(3):  # random runs: a short one may miss a deep state; run more then
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
        if all(stats[reached] > 0 for reached in deep):
            break
    for name, n in sorted(stats.items()):
        print(f"{n:5d}  {name}")
    # the run did reach deep states, not only refusals
    for reached in deep:
        assert stats[reached] > 0, (reached, stats)
