"""The database is the backstop (数据库兜底): every rule, proved with raw SQL on both databases.

Each test first builds valid books through the service, then goes *around*
the service (``engine.begin()`` with ``text(...)`` or SQLAlchemy Core
statements) and attempts the forbidden thing.  The database must refuse it
(a trigger's message starts with ``juzhang:``; CHECK, UNIQUE and FOREIGN KEY
refusals name their constraint) and every table must hold exactly what it
held before.  Where a refusal could be mistaken for a malformed statement, a
control runs the same statement on valid data and shows it is accepted.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal as D
from importlib import resources
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Executable, insert, select, text
from sqlalchemy import exc as sa_exc

from juzhang import agency, books, custody, verify
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import SegregationOfDutiesError
from juzhang.storage.schema import TABLES, Entity, User
from tests.conftest import World, build_world, dump, lock_period

Step = tuple[str, dict[str, Any]] | Executable
TRIGGER = "juzhang:"
FK = r"(?i)foreign key"


# --------------------------------------------------------------------------- helpers



def _exec(conn: Connection, step: Step) -> None:
    if isinstance(step, tuple):
        sql, params = step
        conn.execute(text(sql), params)
    else:
        conn.execute(step)


def refused(engine: Engine, *steps: Step, match: str) -> str:
    """Run ``steps`` in one raw transaction; the database must refuse, and change nothing.

    ``match`` is a regular expression the database's message must contain.
    Returns the message.
    """
    before = dump(engine)
    with pytest.raises(sa_exc.IntegrityError) as info, engine.begin() as conn:
        for step in steps:
            _exec(conn, step)
    message = str(info.value.orig)
    assert re.search(match, message), message
    assert dump(engine) == before
    return message


def accepted(engine: Engine, *steps: Step) -> None:
    """Run ``steps`` in one raw transaction that must succeed (then roll it back)."""
    before = dump(engine)
    with engine.connect() as conn:
        trans = conn.begin()
        for step in steps:
            _exec(conn, step)
        trans.rollback()
    assert dump(engine) == before


def _migration(name: str = "0001_initial_schema") -> ModuleType:
    path = resources.files("juzhang.migrations") / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"juzhang_migration_{name[:4]}", str(path))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SEP05 = dt.date(2026, 9, 5)
OCT06 = dt.date(2026, 10, 6)
HASH = "f" * 64


@dataclass
class Booked:
    """Books built through the service, and the ids a raw statement needs.

    * opening balances 101 500 / 102 10000 / 301 -10500; detail account 51301;
    * custody entry ``e1`` (101, 9月5日, out 120) backing posted voucher ``v1``
      (记-1 of 2026-09: 51301 D 120 / 101 C 120; chain head seq 1);
    * custody entry ``e2`` (101, 10月6日, in 300);
    * reviewed drafts of October: ``d2`` (112 D 50 / 501 C 50) and ``d3``
      (101 D 300 backed by e2 / 501 C 300).
    """

    world: World
    eid: int
    users: dict[str, int]
    v1: int
    e1: int
    e2: int
    d2: int
    d3: int
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        return self.world.engine

    def post(self, vid: int, number: int, /, seq: int = 2, **columns: Any) -> Step:
        """A raw UPDATE that posts ``vid`` the way the service would (``columns`` override)."""
        values: dict[str, Any] = {
            "status": "posted",
            "number": number,
            "posted_by": self.users["bk"],
            "chain_seq": seq,
            "prev_hash": HASH,
            "hash": HASH,
            "posted_at": dt.datetime.now(dt.UTC),
            **columns,
        }
        sets = ", ".join(f"{k} = :{k}" for k in values)
        return (
            f"UPDATE voucher SET {sets} WHERE entity_id = :entity_ AND id = :id_",
            {**values, "entity_": self.eid, "id_": vid},
        )

    def voucher(self, vid: int, date: dt.date, **values: Any) -> Executable:
        """A raw INSERT of a voucher row (a draft unless told otherwise)."""
        row: dict[str, Any] = {
            "entity_id": self.eid,
            "id": vid,
            "voucher_date": date,
            "period": date.year * 100 + date.month,
            "word": "记",
            "status": "draft",
            "kind": "normal",
            "attachments": 0,
            "prepared_by": self.users["bk"],
            "prepared_at": dt.datetime.now(dt.UTC),  # the preparer held the role then (0012)
        }
        row.update(values)
        return insert(TABLES["voucher"]).values(**row)

    def review(self, vid: int) -> Step:
        """A raw UPDATE that marks ``vid`` reviewed by ``rv``."""
        return (
            "UPDATE voucher SET status = 'reviewed', reviewed_by = :r, reviewed_at = :t"
            " WHERE entity_id = :e AND id = :v",
            {"r": self.users["rv"], "t": dt.datetime.now(dt.UTC), "e": self.eid, "v": vid},
        )

    def line(
        self,
        vid: int,
        no: int,
        account: str,
        side: str,
        fen: int,
        entry: int | None = None,
        **values: Any,
    ) -> Executable:
        """A raw INSERT of a voucher line."""
        row: dict[str, Any] = {
            "entity_id": self.eid,
            "voucher_id": vid,
            "line_no": no,
            "account_code": account,
            "summary": "raw",
            "side": side,
            "amount_fen": fen,
            "custody_entry_id": entry,
        }
        row.update(values)
        return insert(TABLES["voucher_line"]).values(**row)

    def entry(self, eid: int, date: dt.date, account: str, fen: int, **values: Any) -> Executable:
        """A raw INSERT of a custody entry recorded by the cashier."""
        row: dict[str, Any] = {
            "entity_id": self.eid,
            "id": eid,
            "entry_date": date,
            "period": date.year * 100 + date.month,
            "account_code": account,
            "amount_fen": fen,
            "summary": "raw",
            "counterparty": "",
            "reference": "",
            "source": "manual",
            "recorded_by": self.users["cash"],
            "recorded_at": dt.datetime(2026, 10, 6, tzinfo=dt.UTC),
        }
        row.update(values)
        return insert(TABLES["custody_entry"]).values(**row)


def _ids(world: World, code: str) -> tuple[int, dict[str, int]]:
    with world.engine.connect() as conn:
        eid = conn.execute(select(Entity.id).where(Entity.code == code)).scalar_one()
        users = {login: uid for uid, login in conn.execute(select(User.id, User.login))}
    return eid, users


@pytest.fixture
def b(world: World) -> Booked:
    """Books of C001 with one posted voucher and two reviewed drafts (see :class:`Booked`)."""
    return book(world)


def book(world: World) -> Booked:
    """Build the books of :class:`Booked` in ``world`` (for other test modules too)."""
    w = world
    w.run(books.add_account, "C001", "51301", "办公费")
    w.run(books.set_opening, "C001", "bk", {"101": D("500"), "102": D("10000"), "301": D("-10500")})
    e1 = w.run(custody.record_entry, "C001", "cash", SEP05, "101", D("-120.00"), "购办公用品")
    v1 = w.run(
        books.draft_voucher,
        "C001",
        "bk",
        VoucherDraft(
            SEP05,
            (
                Line("51301", "购办公用品", debit=D("120.00")),
                Line("101", "购办公用品", credit=D("120.00")),
            ),
            1,
        ),
    )
    w.run(books.review_vouchers, "C001", "rv", [v1])
    assert w.run(books.post_vouchers, "C001", "bk", [v1]) == [1]
    e2 = w.run(custody.record_entry, "C001", "cash", OCT06, "101", D("300.00"), "收租金")
    d2, d3 = w.run(
        books.draft_vouchers,
        "C001",
        "bk",
        [
            VoucherDraft(
                OCT06,
                (Line("112", "应收", debit=D("50.00")), Line("501", "应收", credit=D("50.00"))),
            ),
            VoucherDraft(
                OCT06,
                (
                    Line("101", "收租金", debit=D("300.00")),
                    Line("501", "收租金", credit=D("300.00")),
                ),
            ),
        ],
    )
    w.run(books.review_vouchers, "C001", "rv", [d2, d3])
    eid, users = _ids(w, "C001")
    assert w.run(verify.verify, "C001") == []
    return Booked(w, eid, users, v1, e1, e2, d2, d3)


# --------------------------------------------------------------------------- posted vouchers


def test_controls_raw_statements_work_on_valid_data(b: Booked) -> None:
    """The raw statements used below are well formed: on valid data they are accepted."""
    # posting a balanced reviewed draft as number 1 of October, chain seq 2
    accepted(b.engine, b.post(b.d2, 1))
    # ... and the running balances move with it, in the same statement
    with b.engine.begin() as conn:
        _exec(conn, b.post(b.d2, 1))
        bal = conn.execute(
            text(
                "SELECT debit_fen, credit_fen FROM account_balance"
                " WHERE entity_id = :e AND account_code = '112' AND period = 202610"
            ),
            {"e": b.eid},
        ).one()
        assert tuple(bal) == (5000, 0)
        conn.rollback()
    # a draft's lines may be changed, deleted and added
    accepted(
        b.engine,
        (
            "UPDATE voucher_line SET amount_fen = 60 WHERE entity_id = :e AND voucher_id = :v",
            {"e": b.eid, "v": b.d2},
        ),
        (
            "DELETE FROM voucher_line WHERE entity_id = :e AND voucher_id = :v",
            {"e": b.eid, "v": b.d2},
        ),
        b.line(b.d2, 1, "112", "D", 100),
    )
    # a new reviewed voucher with a fresh custody entry may be inserted and posted
    accepted(
        b.engine,
        b.entry(99, OCT06, "101", -12000),
        b.voucher(99, OCT06),
        b.line(99, 1, "51301", "D", 12000),
        b.line(99, 2, "101", "C", 12000, 99),
        b.review(99),
        b.post(99, 1),
    )
    # the audit log takes new rows; a bookkeeper may also be a reviewer
    accepted(
        b.engine,
        insert(TABLES["role_grant"]).values(
            entity_id=b.eid,
            user_id=b.users["bk"],
            role="reviewer",
            granted_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        ),
    )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE voucher SET attachments = 9 WHERE entity_id = :e AND id = :v",
        "UPDATE voucher SET status = 'draft', number = NULL WHERE entity_id = :e AND id = :v",
        "UPDATE voucher SET voucher_date = voucher_date WHERE entity_id = :e AND id = :v",
    ],
    ids=["attachments", "unpost", "noop"],
)
def test_posted_voucher_is_never_updated(b: Booked, sql: str) -> None:
    refused(b.engine, (sql, {"e": b.eid, "v": b.v1}), match="juzhang: a posted voucher is never")


def test_posted_voucher_is_never_deleted(b: Booked) -> None:
    params = {"e": b.eid, "v": b.v1}
    refused(
        b.engine,
        ("DELETE FROM voucher WHERE entity_id = :e AND id = :v", params),
        match="juzhang: a posted voucher is never deleted",
    )
    # not even after its lines are gone (which is refused first anyway)
    refused(
        b.engine,
        ("DELETE FROM voucher_line WHERE entity_id = :e AND voucher_id = :v", params),
        ("DELETE FROM voucher WHERE entity_id = :e AND id = :v", params),
        match=TRIGGER,
    )


def test_lines_of_posted_voucher_are_never_changed(b: Booked) -> None:
    p = {"e": b.eid, "v": b.v1}
    where = " WHERE entity_id = :e AND voucher_id = :v"
    msg = "juzhang: a posted voucher is never changed"
    refused(b.engine, ("UPDATE voucher_line SET amount_fen = 1" + where, p), match=msg)
    refused(b.engine, ("UPDATE voucher_line SET summary = 'x'" + where, p), match=msg)
    refused(b.engine, ("DELETE FROM voucher_line" + where, p), match=msg)
    refused(b.engine, b.line(b.v1, 3, "112", "D", 1), match=msg)
    # a draft's line may not be moved into the posted voucher either
    refused(
        b.engine,
        (
            "UPDATE voucher_line SET voucher_id = :v, line_no = 9"
            " WHERE entity_id = :e AND voucher_id = :d AND line_no = 1",
            {**p, "d": b.d2},
        ),
        match=msg,
    )


def test_custody_entry_backing_posted_voucher_is_frozen(b: Booked) -> None:
    p = {"e": b.eid, "i": b.e1}
    msg = "juzhang: the custody entry backs a posted voucher"
    refused(
        b.engine,
        ("UPDATE custody_entry SET amount_fen = -130 WHERE entity_id = :e AND id = :i", p),
        match=msg,
    )
    refused(b.engine, ("DELETE FROM custody_entry WHERE entity_id = :e AND id = :i", p), match=msg)


def test_voucher_is_inserted_as_draft(b: Booked) -> None:
    refused(
        b.engine,
        b.voucher(
            50, OCT06, status="posted", number=1, posted_by=b.users["bk"], chain_seq=2, hash=HASH
        ),
        match="juzhang: a voucher is inserted as a draft",
    )


# --------------------------------------------------------------------------- posting rules


def _d2_line(b: Booked, no: int, sql_set: str) -> Step:
    return (
        f"UPDATE voucher_line SET {sql_set} WHERE entity_id = :e AND voucher_id = :v"
        " AND line_no = :n",
        {"e": b.eid, "v": b.d2, "n": no},
    )


def test_posting_unbalanced_voucher_refused(b: Booked) -> None:
    msg = "juzhang: the voucher does not balance"
    refused(b.engine, _d2_line(b, 1, "amount_fen = 6000"), b.post(b.d2, 1), match=msg)
    # a single line, even a "balanced" looking one
    refused(
        b.engine,
        (
            "DELETE FROM voucher_line WHERE entity_id = :e AND voucher_id = :v AND line_no = 2",
            {"e": b.eid, "v": b.d2},
        ),
        b.post(b.d2, 1),
        match=msg,
    )
    # no lines at all
    refused(b.engine, b.voucher(50, OCT06), b.review(50), b.post(50, 1), match=msg)
    # both lines on the same side
    refused(b.engine, _d2_line(b, 2, "side = 'D'"), b.post(b.d2, 1), match=msg)


def test_posted_voucher_must_carry_number_hash_and_chain(b: Booked) -> None:
    for column in ("number", "hash", "chain_seq", "posted_by"):
        missing: dict[str, Any] = {column: None}
        refused(
            b.engine,
            b.post(b.d2, 1, **missing),
            match="ck_voucher_posted_complete",
        )


def test_reviewer_is_never_the_preparer(b: Booked) -> None:
    p = {"e": b.eid, "v": b.d2, "u": b.users["bk"]}
    msg = "ck_voucher_reviewer_not_preparer"
    refused(
        b.engine,
        ("UPDATE voucher SET reviewed_by = prepared_by WHERE entity_id = :e AND id = :v", p),
        match=msg,
    )
    refused(b.engine, b.post(b.d2, 1, reviewed_by=b.users["bk"]), match=msg)
    refused(b.engine, b.voucher(50, OCT06, reviewed_by=b.users["bk"]), match=msg)
    # and a voucher past draft must have a reviewer at all
    refused(
        b.engine,
        ("UPDATE voucher SET reviewed_by = NULL WHERE entity_id = :e AND id = :v", p),
        match="ck_voucher_reviewed",
    )
    refused(b.engine, b.post(b.d2, 1, reviewed_by=None), match="ck_voucher_reviewed")


def test_number_gap_refused(b: Booked) -> None:
    # October has no voucher yet: its first number must be 1
    refused(b.engine, b.post(b.d2, 2), match="juzhang: voucher numbers must run without gaps")
    # after 1 comes 2, not 3
    refused(
        b.engine,
        b.post(b.d2, 1),
        b.post(b.d3, 3, seq=3),
        match="juzhang: voucher numbers must run without gaps",
    )
    accepted(b.engine, b.post(b.d2, 1), b.post(b.d3, 2, seq=3))


def test_number_unique_per_entity_and_month(b: Booked) -> None:
    refused(
        b.engine,
        b.post(b.d2, 1),
        b.post(b.d3, 1, seq=3),
        match=r"uq_voucher_entity_id_period_number"
        r"|UNIQUE constraint failed: voucher\.entity_id, voucher\.period, voucher\.number",
    )
    # the chain sequence is unique too
    refused(
        b.engine,
        b.post(b.d2, 1, seq=1),
        match=r"uq_voucher_entity_id_chain_seq"
        r"|UNIQUE constraint failed: voucher\.entity_id, voucher\.chain_seq",
    )


def test_opening_balances_must_balance_at_posting(b: Booked) -> None:
    # opening balances may change before anything is posted; here v1 is posted,
    # so build a second community whose opening balances do not balance.
    w2 = build_world(b.engine, "C002")
    w2.run(books.set_opening, "C002", "bk", {"101": D("100"), "301": D("-90")})
    eid2, _ = _ids(w2, "C002")
    c2 = Booked(w2, eid2, b.users, 0, 0, 0, 0, 0)
    steps: list[Step] = [
        c2.voucher(1, OCT06),
        c2.line(1, 1, "112", "D", 100),
        c2.line(1, 2, "501", "C", 100),
        c2.review(1),
    ]
    refused(
        b.engine, *steps, c2.post(1, 1, seq=1), match="juzhang: the opening balances do not balance"
    )
    w2.run(books.set_opening, "C002", "bk", {"301": D("-100")})
    accepted(b.engine, *steps, c2.post(1, 1, seq=1))


def test_opening_balances_fixed_after_posting(b: Booked) -> None:
    msg = "juzhang: opening balances are fixed once vouchers are posted"
    p = {"e": b.eid}
    refused(
        b.engine,
        ("UPDATE opening_balance SET amount_fen = amount_fen + 1 WHERE entity_id = :e", p),
        match=msg,
    )
    refused(
        b.engine,
        ("DELETE FROM opening_balance WHERE entity_id = :e AND account_code = '101'", p),
        match=msg,
    )
    refused(
        b.engine,
        insert(TABLES["opening_balance"]).values(
            entity_id=b.eid, account_code="112", amount_fen=100
        ),
        match=msg,
    )


# --------------------------------------------------------------------------- custody backing


def test_custody_line_without_entry_refused_at_posting(b: Booked) -> None:
    unlink = (
        "UPDATE voucher_line SET custody_entry_id = NULL WHERE entity_id = :e"
        " AND voucher_id = :v AND account_code = '101'",
        {"e": b.eid, "v": b.d3},
    )
    refused(
        b.engine,
        unlink,
        b.post(b.d3, 1),
        match="juzhang: a custody-account line is not backed by a custody entry",
    )
    accepted(b.engine, b.post(b.d3, 1))


def test_custody_entry_backs_one_posted_line_only(b: Booked) -> None:
    msg = "juzhang: custody entry and voucher lines disagree or back twice"
    # a second voucher naming e1, which already backs v1
    refused(
        b.engine,
        b.voucher(50, OCT06),
        b.line(50, 1, "51301", "D", 12000),
        b.line(50, 2, "101", "C", 12000, b.e1),
        b.review(50),
        b.post(50, 1),
        match=msg,
    )
    # the same voucher on a fresh entry is fine
    accepted(
        b.engine,
        b.entry(50, OCT06, "101", -12000),
        b.voucher(50, OCT06),
        b.line(50, 1, "51301", "D", 12000),
        b.line(50, 2, "101", "C", 12000, 50),
        b.review(50),
        b.post(50, 1),
    )
    # two lines of one voucher on the same entry
    refused(
        b.engine,
        b.line(b.d3, 3, "101", "D", 30000, b.e2),
        b.line(b.d3, 4, "501", "C", 30000),
        b.post(b.d3, 1),
        match=msg,
    )


def test_custody_line_must_match_entry_amount_and_direction(b: Booked) -> None:
    msg = "juzhang: custody entry and voucher lines disagree or back twice"
    p = {"e": b.eid, "v": b.d3}
    amount = (
        "UPDATE voucher_line SET amount_fen = 25000 WHERE entity_id = :e AND voucher_id = :v",
        p,
    )
    refused(b.engine, amount, b.post(b.d3, 1), match=msg)
    # the wrong direction: money in recorded, the books say money out
    flip = (
        "UPDATE voucher_line SET side = CASE side WHEN 'D' THEN 'C' ELSE 'D' END"
        " WHERE entity_id = :e AND voucher_id = :v",
        p,
    )
    refused(b.engine, flip, b.post(b.d3, 1), match=msg)


def test_normal_voucher_cannot_undo_a_custody_entry(b: Booked) -> None:
    """Only a red reversal may name an entry with the opposite sign.

    e1 records 120 paid out and backs v1.  A normal voucher that *receives*
    120 in cash naming e1 would bring its net backing to 0 (which a posted
    reversal legitimately does) and so claim money came in that the cashier
    never recorded.
    """
    msg = "juzhang: custody entry and voucher lines disagree or back twice"
    steps: list[Step] = [
        b.voucher(50, OCT06),
        b.line(50, 1, "101", "D", 12000, b.e1),
        b.line(50, 2, "501", "C", 12000),
        b.review(50),
    ]
    refused(b.engine, *steps, b.post(50, 1), match=msg)
    # the same lines as a red reversal of v1 are what a reversal is
    red: list[Step] = [
        b.voucher(50, SEP05, kind="reversal", reverses_id=b.v1),
        b.line(50, 1, "51301", "D", -12000),
        b.line(50, 2, "101", "C", -12000, b.e1),
        b.review(50),
        b.post(50, 2),
    ]
    accepted(b.engine, *red)
    # and a reversal may not name the entry with the entry's own sign
    refused(
        b.engine,
        b.voucher(50, SEP05, kind="reversal", reverses_id=b.v1),
        b.line(50, 1, "51301", "D", 12000),
        b.line(50, 2, "101", "C", 12000, b.e1),
        b.review(50),
        b.post(50, 2),
        match=msg,
    )


def test_custody_entry_of_other_account_refused_by_foreign_key(b: Booked) -> None:
    # e2 is a cash (101) entry: a bank (102) line cannot name it
    refused(
        b.engine,
        (
            "UPDATE voucher_line SET account_code = '102' WHERE entity_id = :e"
            " AND voucher_id = :v AND account_code = '101'",
            {"e": b.eid, "v": b.d3},
        ),
        match=FK,
    )
    refused(b.engine, b.line(b.d2, 3, "102", "D", 30000, b.e2), match=FK)
    # and a non-custody line cannot name it either
    refused(b.engine, b.line(b.d2, 3, "112", "D", 30000, b.e2), match=FK)


@pytest.fixture
def two(b: Booked) -> Booked:
    """``b`` plus a second community C002 with custody entries #1..#3 and account 51399."""
    w2 = build_world(b.engine, "C002")
    for i in range(3):
        w2.run(custody.record_entry, "C002", "cash", OCT06, "102", D(f"{i + 1}00"), f"入账{i}")
    w2.run(books.add_account, "C002", "51399", "其他")
    b.extra["eid2"] = _ids(w2, "C002")[0]
    return b


def test_line_cannot_name_another_communitys_custody_entry(two: Booked) -> None:
    b = two
    # C001 has entries #1 and #2; #3 exists only in C002 (on 102)
    assert b.e2 == 2
    refused(b.engine, b.line(b.d2, 3, "102", "D", 10000, 3), match=FK)
    refused(
        b.engine,
        (
            "UPDATE voucher_line SET custody_entry_id = 3, account_code = '102'"
            " WHERE entity_id = :e AND voucher_id = :v AND account_code = '101'",
            {"e": b.eid, "v": b.d3},
        ),
        match=FK,
    )


def test_line_cannot_name_another_communitys_account_or_voucher(two: Booked) -> None:
    b = two
    eid2 = b.extra["eid2"]
    # 51399 exists in C002 only
    refused(b.engine, b.line(b.d2, 3, "51399", "D", 100), match=FK)
    # a line of C002 on a voucher id that exists only in C001
    refused(b.engine, b.line(b.d2, 3, "112", "D", 100, entity_id=eid2), match=FK)
    # moving a line of C001 into C002
    refused(
        b.engine,
        (
            "UPDATE voucher_line SET entity_id = :e2 WHERE entity_id = :e AND voucher_id = :v",
            {"e": b.eid, "e2": eid2, "v": b.d2},
        ),
        match=FK + "|" + TRIGGER,
    )
    # a custody entry of C001 on an account only C002 has
    refused(b.engine, b.entry(60, OCT06, "51399", 100), match=FK + "|" + TRIGGER)


# --------------------------------------------------------------------------- periods


def test_nothing_enters_a_closed_period(b: Booked) -> None:
    b.world.run(lock_period, "C001", "rv", 202609)
    msg = "juzhang: the period is closed"
    refused(b.engine, b.voucher(50, SEP05), match=msg)
    refused(b.engine, b.entry(50, SEP05, "101", 100), match=msg)
    # moving an October draft into September
    refused(
        b.engine,
        (
            "UPDATE voucher SET voucher_date = :d, period = 202609 WHERE entity_id = :e"
            " AND id = :v",
            {"d": SEP05, "e": b.eid, "v": b.d2},
        ),
        match=msg,
    )
    # October is open: the same insert there is fine
    accepted(b.engine, b.voucher(50, OCT06))
    accepted(b.engine, b.entry(50, OCT06, "101", 100))


def test_nothing_is_posted_into_a_closed_period(b: Booked) -> None:
    close_october = insert(TABLES["period"]).values(
        entity_id=b.eid, period=202610, status="closed", closed_by=b.users["rv"]
    )
    msg = "juzhang: the period is closed"
    refused(b.engine, close_october, b.post(b.d2, 1), match=msg)
    refused(b.engine, close_october, b.line(b.d2, 3, "112", "D", 1), match=msg)
    refused(
        b.engine,
        close_october,
        ("DELETE FROM voucher WHERE entity_id = :e AND id = :v", {"e": b.eid, "v": b.d2}),
        match=msg,
    )
    refused(
        b.engine,
        close_october,
        (
            "UPDATE custody_entry SET summary = 'x' WHERE entity_id = :e AND id = :i",
            {"e": b.eid, "i": b.e2},
        ),
        match=msg,
    )


# --------------------------------------------------------------------------- accounts


def test_lines_go_to_leaf_accounts_only(b: Booked) -> None:
    msg = "juzhang: postings go to leaf accounts only"
    # 211 应付款 has the detail account 21199 in the rural-2023 chart; 513 has 51301
    refused(b.engine, b.line(b.d2, 3, "211", "C", 100), match=msg)
    refused(b.engine, b.line(b.d2, 3, "513", "D", 100), match=msg)
    refused(b.engine, _d2_line(b, 2, "account_code = '211'"), match=msg)
    accepted(b.engine, b.line(b.d2, 3, "21199", "C", 100))


def test_opening_balance_on_parent_account_refused(world: World) -> None:
    world.run(books.add_account, "C001", "51301", "办公费")
    eid, _ = _ids(world, "C001")
    refused(
        world.engine,
        insert(TABLES["opening_balance"]).values(entity_id=eid, account_code="513", amount_fen=100),
        match="juzhang: postings go to leaf accounts only",
    )


def test_custody_entries_only_on_custody_leaf_accounts(b: Booked) -> None:
    refused(
        b.engine,
        b.entry(50, OCT06, "112", 100),
        match="juzhang: custody entries go to cash or bank accounts only",
    )
    refused(
        b.engine,
        (
            "UPDATE custody_entry SET account_code = '112' WHERE entity_id = :e AND id = :i",
            {"e": b.eid, "i": b.e2},
        ),
        match=FK + "|" + TRIGGER,
    )


def test_no_child_under_account_with_amounts(b: Booked) -> None:
    msg = "juzhang: the parent account already has postings"

    def child(code: str, parent: str) -> Executable:
        return insert(TABLES["account"]).values(
            entity_id=b.eid,
            code=code,
            name="x",
            parent_code=parent,
            level=2,
            category="asset",
            side="debit",
            custody=None,
            active=True,
        )

    refused(b.engine, child("10101", "101"), match=msg)  # opening, custody entries, lines
    refused(b.engine, child("11201", "112"), match=msg)  # a draft's line
    accepted(b.engine, child("11101", "111"))  # 111 carries nothing


def test_account_with_postings_keeps_code_and_kind(b: Booked) -> None:
    msg = "juzhang: an account with postings keeps its code and kind"
    p = {"e": b.eid}
    for change in ("category = 'expense'", "side = 'credit'", "custody = NULL"):
        refused(
            b.engine,
            (f"UPDATE account SET {change} WHERE entity_id = :e AND code = '101'", p),
            match=msg,
        )
    # renaming is fine
    accepted(
        b.engine, ("UPDATE account SET name = '现金' WHERE entity_id = :e AND code = '101'", p)
    )


# --------------------------------------------------------------------------- checks


def test_amount_and_side_checks(b: Booked) -> None:
    refused(b.engine, b.line(b.d2, 3, "112", "D", 0), match="ck_voucher_line_amount_nonzero")
    refused(b.engine, b.line(b.d2, 3, "112", "X", 100), match="ck_voucher_line_side")
    refused(b.engine, b.line(b.d2, 3, "112", "d", 100), match="ck_voucher_line_side")
    refused(b.engine, _d2_line(b, 1, "amount_fen = 0"), match="ck_voucher_line_amount_nonzero")
    refused(b.engine, _d2_line(b, 1, "side = 'X'"), match="ck_voucher_line_side")
    refused(b.engine, b.entry(50, OCT06, "101", 0), match="ck_custody_entry_amount_nonzero")
    # red (negative) lines are allowed: reversals use them
    accepted(b.engine, b.line(b.d2, 3, "112", "D", -100))


# --------------------------------------------------------------------------- statement lines


def _statement_line(b: Booked) -> list[Executable]:
    """Raw INSERTs of an import batch and one bank statement line of account 102 in it."""
    batch = insert(TABLES["import_batch"]).values(
        entity_id=b.eid,
        id=1,
        kind="bank",
        file_name="s.csv",
        file_sha256="0" * 64,
        account_code="102",
        imported_by=b.users["bk"],
        imported_at=dt.datetime.now(dt.UTC),
    )
    line = insert(TABLES["statement_line"]).values(
        entity_id=b.eid,
        id=1,
        account_code="102",
        batch_id=1,
        row_no=1,
        dedup_key="k1",
        txn_date=OCT06,
        out_fen=0,
        in_fen=300,
        counterparty="居民",
        summary="收款",
    )
    return [batch, line]


def test_statement_line_stays_as_the_bank_sent_it(b: Booked) -> None:
    """The bank's fields never change and a line is never deleted; its links may be set.

    PostgreSQL checks the fields in the trigger's WHEN since migration 0025.
    """
    made = _statement_line(b)
    where = {"e": b.eid}
    msg = "juzhang: a bank statement line is kept as the bank sent it"
    for sets in ("in_fen = 2", "summary = 'x'", "txn_date = txn_date + 1", "serial = 'S'"):
        sql = f"UPDATE statement_line SET {sets} WHERE entity_id = :e"
        refused(b.engine, *made, (sql, where), match=msg)
    refused(
        b.engine,
        *made,
        ("DELETE FROM statement_line WHERE entity_id = :e", where),
        match="juzhang: bank statement lines are never deleted",
    )
    link = "UPDATE statement_line SET voucher_id = :v, summary = summary WHERE entity_id = :e"
    accepted(b.engine, *made, (link, {**where, "v": b.d2}))


# --------------------------------------------------------------------------- audit and grants


def test_audit_log_is_append_only(b: Booked) -> None:
    msg = "juzhang: the audit log is append-only"
    p = {"e": b.eid}
    refused(b.engine, ("UPDATE audit_log SET actor = 'nobody' WHERE entity_id = :e", p), match=msg)
    refused(b.engine, ("UPDATE audit_log SET detail = '' WHERE seq = 1", {}), match=msg)
    refused(b.engine, ("DELETE FROM audit_log WHERE entity_id = :e", p), match=msg)
    refused(b.engine, ("DELETE FROM audit_log", {}), match=msg)


def _grant(b: Booked, login: str, role: str) -> Executable:
    return insert(TABLES["role_grant"]).values(
        entity_id=b.eid,
        user_id=b.users[login],
        role=role,
        granted_at=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize(
    ("login", "role"),
    [
        ("cash", "bookkeeper"),
        ("cash", "reviewer"),
        ("cash", "admin"),
        ("bk", "cashier"),
        ("rv", "cashier"),
        ("adm", "cashier"),
    ],
)
def test_grant_separation_in_the_database(b: Booked, login: str, role: str) -> None:
    refused(b.engine, _grant(b, login, role), match="juzhang: 钱账分离")


def test_grants_are_never_updated(b: Booked) -> None:
    refused(
        b.engine,
        (
            "UPDATE role_grant SET role = 'supervisor' WHERE entity_id = :e AND user_id = :u",
            {"e": b.eid, "u": b.users["cash"]},
        ),
        match="juzhang: role grants are never updated",
    )


PG_STATEMENT_TRIGGER = {"jz_voucher_post": "jz_voucher_updated"}


@contextmanager
def without_trigger(engine: Engine, name: str) -> Iterator[None]:
    """Drop one backstop trigger in this test's database, and put it back afterwards.

    SQLite: each test has its own database file; the trigger is re-created
    from the migration's DDL all the same.  PostgreSQL: the schema is shared
    by the whole run, so the trigger must come back, re-created from the
    migration's own CREATE TRIGGER statement (its function was never dropped).
    """
    migration = _migration()
    sqlite = engine.dialect.name == "sqlite"
    statement_checks = {c[0]: c for c in _migration("0007_pg_statement_checks").STATEMENT_CHECKS}
    if sqlite:
        (create,) = [ddl for ddl in migration.SQLITE_TRIGGERS if ddl.split()[2] == name]
        drop = f"DROP TRIGGER {name}"
    elif name in PG_STATEMENT_TRIGGER:
        # Since 0007 PostgreSQL checks posting once per statement, in this trigger.
        name, table, event, transition, _body = statement_checks[PG_STATEMENT_TRIGGER[name]]
        create = (
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transition}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
        drop = f"DROP TRIGGER {name} ON {table}"
    else:
        (when,) = [w for fn, w, _body, _ret in migration.PG_FUNCTIONS if fn == name]
        create = f"CREATE TRIGGER {name} {when} FOR EACH ROW EXECUTE FUNCTION {name}()"
        drop = f"DROP TRIGGER {name} ON {when.split(' ON ')[1]}"
    with engine.begin() as conn:
        conn.execute(text(drop))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text(create))


@pytest.fixture
def without_grant_trigger(b: Booked) -> Iterator[Booked]:
    """``b`` with the grant-separation trigger dropped (see :func:`without_trigger`)."""
    with without_trigger(b.engine, "jz_grant_separation"):
        yield b
    # the backstop is back for the tests that follow
    refused(b.engine, _grant(b, "rv", "cashier"), match="juzhang: 钱账分离")


def _every_action(b: Booked, person: str) -> list[tuple[str, Callable[[], object]]]:
    w = b.world
    draft = VoucherDraft(
        OCT06, (Line("112", "应收", debit=D("1.00")), Line("501", "应收", credit=D("1.00")))
    )
    return [
        (
            "record custody",
            lambda: w.run(custody.record_entry, "C001", person, OCT06, "101", D("1"), "x"),
        ),
        ("delete custody", lambda: w.run(custody.delete_entry, "C001", person, b.e2)),
        ("set opening", lambda: w.run(books.set_opening, "C001", person, {"112": D("1")})),
        ("draft", lambda: w.run(books.draft_voucher, "C001", person, draft)),
        ("edit", lambda: w.run(books.edit_voucher, "C001", person, b.d2, draft)),
        ("delete", lambda: w.run(books.delete_voucher, "C001", person, b.d2)),
        ("review", lambda: w.run(books.review_vouchers, "C001", person, [b.d2])),
        ("unreview", lambda: w.run(books.unreview_voucher, "C001", person, b.d2)),
        ("post", lambda: w.run(books.post_vouchers, "C001", person, [b.d2])),
        (
            "bulk as preparer",
            lambda: w.run(
                books.post_bulk, "C001", [draft], preparer=person, reviewer="rv", poster="bk"
            ),
        ),
        (
            "bulk as poster",
            lambda: w.run(
                books.post_bulk, "C001", [draft], preparer="bk", reviewer="rv", poster=person
            ),
        ),
        ("reverse", lambda: w.run(books.reverse_voucher, "C001", person, 202609, 1)),
        ("correct", lambda: w.run(books.draft_correction, "C001", person, 202609, 1, draft)),
        ("close", lambda: w.run(lock_period, "C001", person, 202609)),
        ("reopen", lambda: w.run(books.reopen_period, "C001", person, 202609, "why")),
    ]


def test_grant_inserted_around_the_service_still_cannot_act(without_grant_trigger: Booked) -> None:
    """The cashier given ``bookkeeper`` by raw SQL can do nothing at all, and verify says so."""
    b = without_grant_trigger
    with b.engine.begin() as conn:
        _exec(conn, _grant(b, "cash", "bookkeeper"))
    before = dump(b.engine)
    for name, attempt in _every_action(b, "cash"):
        with pytest.raises(SegregationOfDutiesError) as info:
            attempt()
        err = info.value
        assert "cash" in err.person, name
        assert "cashier" in err.role and "bookkeeper" in err.role, name
        assert "钱账分离" in err.rule, name
        assert dump(b.engine) == before, name
    problems = b.world.run(verify.verify, "C001")
    assert [(p.subject, "cash" in p.where) for p in problems] == [("duties", True)]
    # taking the conflicting grant away lets the cashier act as a cashier again; the
    # grants are a history (0012), so verify still says the person held both sides
    b.world.run(agency.revoke, "cash", "bookkeeper", "C001")
    problems = b.world.run(verify.verify, "C001")
    assert [(p.subject, "cash" in p.where) for p in problems] == [("duties", True)]
    b.world.run(custody.record_entry, "C001", "cash", OCT06, "101", D("1"), "x")


# --------------------------------------------------------------------------- verify sees the rest


def _subjects(b: Booked) -> set[str]:
    return {p.subject for p in b.world.run(verify.verify, "C001")}


def test_verify_finds_a_posted_line_changed_around_the_backstop(b: Booked) -> None:
    with without_trigger(b.engine, "jz_line_update"), b.engine.begin() as conn:
        _exec(
            conn,
            (
                "UPDATE voucher_line SET amount_fen = 13000 WHERE entity_id = :e"
                " AND voucher_id = :v AND account_code = '51301'",
                {"e": b.eid, "v": b.v1},
            ),
        )
    # unbalanced, content no longer matches its hash, running balance differs
    assert {"voucher", "chain", "balance"} <= _subjects(b)


def test_verify_finds_a_custody_line_of_the_wrong_direction(b: Booked) -> None:
    with without_trigger(b.engine, "jz_voucher_post"), b.engine.begin() as conn:
        for step in (
            b.voucher(50, OCT06),
            b.line(50, 1, "101", "D", 12000, b.e1),
            b.line(50, 2, "501", "C", 12000),
            b.review(50),
            b.post(50, 1),
        ):
            _exec(conn, step)
    problems = b.world.run(verify.verify, "C001")
    custody_problems = [p for p in problems if p.subject == "custody"]
    assert len(custody_problems) == 1
    assert f"#{b.e1}" in custody_problems[0].message and "direction" in custody_problems[0].message


def test_verify_finds_a_number_gap_and_a_broken_chain(b: Booked) -> None:
    with without_trigger(b.engine, "jz_voucher_post"), b.engine.begin() as conn:
        _exec(conn, b.post(b.d2, 2, seq=5))
    assert {"numbering", "chain", "balance"} <= _subjects(b)


# --------------------------------------------------------------------------- months and dates


def test_voucher_month_must_be_the_month_of_its_date(b: Booked) -> None:
    accepted(b.engine, b.voucher(60, OCT06))
    refused(b.engine, b.voucher(60, OCT06, period=202611), match="month of the date")
    refused(
        b.engine,
        (
            "UPDATE voucher SET period = 202611 WHERE entity_id = :e AND id = :d",
            {"e": b.eid, "d": b.d2},
        ),
        match="month of the date",
    )


def test_custody_entry_month_must_be_the_month_of_its_date(b: Booked) -> None:
    accepted(b.engine, b.entry(60, OCT06, "101", 100))
    refused(b.engine, b.entry(60, OCT06, "101", 100, period=202609), match="month of the date")
