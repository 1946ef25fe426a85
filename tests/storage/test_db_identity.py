"""PostgreSQL knows the person (issue 16): each person's own login, duties, communities.

Every person of the :class:`~tests.conftest.World` gets their own login role
(``agency.add_db_login``) and connects with it.  Through the library each
does what ``docs/permissions.md`` gives their role; the same refusals are
then proved *by the database*: raw SQL on that person's own connection,
around every service.  A second community (C002) holds rows none of C001's
people may see.  The roles are the test schema's (``<schema>.<login>``) and
are dropped after each test (``tests.conftest.drop_roles``).

PostgreSQL only by construction: SQLite has one operator, whoever can write
the file (``test_sqlite_has_no_database_logins`` in ``tests/cli``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from juzhang import agency, books, custody, verify
from juzhang import statements as statement
from juzhang.cash_count import record_cash_count
from juzhang.claims import draft_claims, import_claims
from juzhang.closing import close_month, record_disclosure, reopen_month, sign_disclosure
from juzhang.core.period import parse_period
from juzhang.core.voucher import Line, VoucherDraft
from juzhang.errors import (
    AccessDeniedError,
    IdentityError,
    NotFoundError,
    SegregationOfDutiesError,
)
from juzhang.reports.disclosure import disclosure
from juzhang.reports.trial_balance import trial_balance
from juzhang.role_audit import audit_roles
from juzhang.storage.engine import make_engine, transaction
from juzhang.storage.identity import db_actor, namespace
from juzhang.storage.schema import TABLES, AuditLog, Entity, User
from tests.claims.test_claims import SEPTEMBER, fill, prepare
from tests.cli.test_cli import jz, ok, refused
from tests.conftest import PEOPLE, PG_ONLY, World, lock_period, postgresql_only
from tests.import_worker import BANK, OWN_ACCOUNT, csv_rows, transactions, write_csv
from tests.import_worker import record_entries as record_bank_entries

pytestmark = pytest.mark.pg
db_url = pytest.fixture(name="db_url", params=PG_ONLY)(postgresql_only)

T = TypeVar("T")
SEP05 = dt.date(2026, 9, 5)
SEP = 202609
DENIED = r"permission denied|row-level security|juzhang: connected as"
NOTHING = r"permission denied|does not exist"  # a login without USAGE on the schema


@dataclass
class Agency:
    """C001 (the World's people, each with a database login) and C002 (its own cashier)."""

    world: World
    url: str
    ns: str
    ids: dict[str, int]
    engines: dict[str, Engine] = field(default_factory=dict)

    @property
    def owner(self) -> Engine:
        return self.world.engine

    def role(self, login: str) -> str:
        return f"{self.ns}.{login}"

    def engine(self, login: str) -> Engine:
        """The person's own connection: their login role, nothing else."""
        if login not in self.engines:
            url = make_url(self.url).set(username=self.role(login))
            self.engines[login] = make_engine(url.render_as_string(hide_password=False))
        return self.engines[login]

    def run(self, login: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a service function in one transaction on ``login``'s own connection."""
        with transaction(self.engine(login)) as s:
            return fn(s, *args, **kwargs)

    def sql(self, login: str, sql: str, **params: Any) -> list[Any]:
        """Run one raw statement on ``login``'s connection, committed; return its rows."""
        with self.engine(login).begin() as conn:
            result = conn.execute(text(sql), params)
            return list(result) if result.returns_rows else []

    def refused(self, login: str, sql: str, match: str = DENIED, **params: Any) -> str:
        """The database refuses ``sql`` on ``login``'s own connection; return its message."""
        with pytest.raises(sa_exc.DBAPIError) as info:
            self.sql(login, sql, **params)
        message = str(info.value.orig)
        assert re.search(match, message), message
        return message

    def dispose(self) -> None:
        for e in self.engines.values():
            e.dispose()


@pytest.fixture
def ag(world: World, db_url: str) -> Iterator[Agency]:
    """C001 with a login per person; C002 with cashier ``cashb`` and some rows of its own."""
    with transaction(world.engine) as s:
        agency.add_entity(s, "C002", "和平社区居委会", start_period=parse_period("2026-09"))
        agency.add_user(s, "cashb", "钱出纳")
        agency.add_user(s, "op", "孔操作")
        agency.grant(s, "cashb", "cashier", "C002")
        for login in [*PEOPLE, "cashb"]:
            agency.add_db_login(s, login)
        agency.add_db_login(s, "op", operator=True)
        ns = namespace(s)
    with transaction(world.engine) as s:
        ids = {login: uid for uid, login in s.execute(select(User.id, User.login))}
        ids |= {code: eid for eid, code in s.execute(select(Entity.id, Entity.code))}
    prepare(world)  # 51301 办公费, 51302 水电费, opening balances (by the owner)
    a = Agency(world, db_url, ns, ids)
    a.run("cashb", custody.record_entry, "C002", "cashb", SEP05, "101", D("-50.00"), "C002 买水")
    yield a
    a.dispose()


def _draft(summary: str = "购办公用品") -> VoucherDraft:
    return VoucherDraft(
        SEP05,
        (Line("51301", summary, debit=D("120.00")), Line("101", summary, credit=D("120.00"))),
        1,
    )


def _actors(ag: Agency, code: str = "C001") -> list[tuple[str, str]]:
    with ag.owner.connect() as conn:
        rows = conn.execute(
            select(AuditLog.actor, AuditLog.action)
            .where(AuditLog.entity_id == ag.ids[code])
            .order_by(AuditLog.seq)
        )
        return [(a, b) for a, b in rows]


# --------------------------------------------------------------------------- the library


def test_each_person_does_their_duty_on_their_own_connection(ag: Agency, tmp_path: Path) -> None:
    """The month, every step by its person's own login; the audit log names each of them."""
    ag.run("op", books.add_account, "C001", "51303", "差旅费")  # set-up: the operator
    entry = ag.run("cash", custody.record_entry, "C001", "cash", SEP05, "101", D("-120"), "办公")
    result = ag.run("cash", import_claims, "C001", "cash", fill(tmp_path / "9月.xlsx", SEPTEMBER))
    assert result.pending
    (vid,) = ag.run("bk", books.draft_vouchers, "C001", "bk", [_draft()])
    drafted = ag.run("bk", draft_claims, "C001", "bk")
    ag.run("rv", books.review_vouchers, "C001", "rv", [vid, *drafted])
    ag.run("bk", books.post_vouchers, "C001", "bk", [vid, *drafted])
    ag.run("rv", lock_period, "C001", "rv", 202609)
    ag.run("adm", books.reopen_period, "C001", "adm", 202609, "补录凭证 / a late voucher")
    assert entry
    actors = _actors(ag)
    # the owner's set-up is "operator"; every other row names the person connected
    assert {a for a, _ in actors} - {"operator"} == {"op", "bk", "cash", "rv", "adm"}
    assert ("adm", "period.reopen") in actors
    assert ag.world.run(verify.verify, "C001") == []  # the chains hold (as the owner)


def test_without_as_the_connection_names_the_actor(ag: Agency) -> None:
    """Whatever a person claims, the database says who they are."""
    with transaction(ag.engine("bk")) as s:
        assert db_actor(s) == "bk"
    with transaction(ag.owner) as s:
        assert db_actor(s) is None  # the owner is nobody's person: the claim is trusted
    with pytest.raises(IdentityError, match=r"bk.*cash"):
        ag.run("bk", custody.record_entry, "C001", "cash", SEP05, "101", D("-1"), "冒名 / as cash")
    with pytest.raises(SegregationOfDutiesError):
        ag.run("bk", custody.record_entry, "C001", "bk", SEP05, "101", D("-1"), "不是出纳")
    with pytest.raises(IdentityError):
        ag.run("cash", books.draft_vouchers, "C001", "bk", [_draft()])


# --------------------------------------------------------------------------- the database


def _entry_sql(ag: Agency, *, by: str, entity: str = "C001", eid: int = 90) -> dict[str, Any]:
    return {
        "e": ag.ids[entity],
        "id": eid,
        "d": SEP05,
        "p": 202609,
        "by": ag.ids[by],
        "at": dt.datetime.now(dt.UTC),
    }


INSERT_ENTRY = (
    "INSERT INTO custody_entry (entity_id, id, entry_date, period, account_code, amount_fen,"
    " summary, counterparty, reference, source, recorded_by, recorded_at)"
    " VALUES (:e, :id, :d, :p, '101', -100, 'raw', '', '', 'manual', :by, :at)"
)
INSERT_VOUCHER = (
    "INSERT INTO voucher (entity_id, id, voucher_date, period, word, status, kind, attachments,"
    " prepared_by, prepared_at) VALUES (:e, :id, :d, :p, '记', 'draft', 'normal', 0, :by, :at)"
)
INSERT_LINE = (
    "INSERT INTO voucher_line (entity_id, voucher_id, line_no, account_code, summary, side,"
    " amount_fen) VALUES (:e, :id, 9, '513', 'raw', 'D', 100)"
)


def test_bookkeeper_cannot_touch_custody_entries_or_claims(ag: Agency, tmp_path: Path) -> None:
    """Raw SQL on the bookkeeper's own connection, even naming the cashier, is refused."""
    ag.run("cash", import_claims, "C001", "cash", fill(tmp_path / "9月.xlsx", SEPTEMBER[:2]))
    p = _entry_sql(ag, by="cash")
    ag.refused("bk", INSERT_ENTRY, **p)
    ag.refused("bk", "UPDATE custody_entry SET amount_fen = 1 WHERE entity_id = :e", **p)
    ag.refused("bk", "DELETE FROM custody_entry WHERE entity_id = :e", **p)
    ag.refused("bk", "UPDATE claim SET amount_fen = 1 WHERE entity_id = :e", **p)
    ag.refused("bk", "DELETE FROM claim WHERE entity_id = :e", **p)
    ag.refused(
        "bk",
        "INSERT INTO claim SELECT * FROM claim WHERE entity_id = :e LIMIT 0",
        **p,
    )
    # the cashier's own connection may (control), as the cashier only
    ag.sql("cash", INSERT_ENTRY, **p)
    ag.refused("cash", INSERT_ENTRY, **_entry_sql(ag, by="bk", eid=91))
    # and never for a community where they are not the cashier
    ag.refused("cash", INSERT_ENTRY, **_entry_sql(ag, by="cash", entity="C002", eid=92))


def test_cashier_cannot_write_vouchers_or_lines(ag: Agency) -> None:
    ag.run("cash", custody.record_entry, "C001", "cash", SEP05, "101", D("-120"), "办公")
    (vid,) = ag.run("bk", books.draft_vouchers, "C001", "bk", [_draft()])
    p = _entry_sql(ag, by="bk") | {"id": vid}
    ag.refused("cash", INSERT_VOUCHER, **(p | {"id": 99}))
    ag.refused("cash", INSERT_LINE, **p)
    ag.refused("cash", "UPDATE voucher SET attachments = 5 WHERE entity_id = :e", **p)
    ag.refused("cash", "DELETE FROM voucher_line WHERE entity_id = :e", **p)
    ag.refused("cash", "DELETE FROM voucher WHERE entity_id = :e", **p)
    # a reviewer writes only the review columns, a supervisor nothing of a voucher
    ag.refused("rv", "UPDATE voucher SET attachments = 5 WHERE entity_id = :e", **p)
    ag.refused("rv", INSERT_VOUCHER, **(p | {"id": 99, "by": ag.ids["rv"]}))
    ag.refused("sup", "UPDATE voucher SET status = 'reviewed' WHERE entity_id = :e", **p)
    # the bookkeeper (control) writes a draft as themselves, not as bk2
    ag.sql("bk", INSERT_VOUCHER, **(p | {"id": 99}))
    ag.refused("bk", INSERT_VOUCHER, **(p | {"id": 98, "by": ag.ids["bk2"]}))


def test_a_supervisor_sees_only_their_community(ag: Agency) -> None:
    """Every table, read on the supervisor's connection: C001's rows only (C002's exist)."""
    c1, c2 = ag.ids["C001"], ag.ids["C002"]
    with ag.owner.connect() as conn:
        owner_sees = {
            t: {r[0] for r in conn.execute(text(f"SELECT entity_id FROM {t}"))}
            for t in TABLES
            if "entity_id" in TABLES[t].c
        }
    assert {t for t, ids in owner_sees.items() if c2 in ids} >= {
        "custody_entry",
        "account",
        "role_grant",
        "audit_log",
    }
    for name, table in TABLES.items():
        column = "entity_id" if "entity_id" in table.c else ("id" if name == "entity" else None)
        if column is None:
            continue
        seen = {r[0] for r in ag.sql("sup", f"SELECT {column} FROM {name}")}
        assert seen <= {c1}, (name, seen)
    assert ag.sql("sup", "SELECT code FROM entity") == [("C001",)]
    assert ag.sql("cashb", "SELECT code FROM entity") == [("C002",)]
    assert ag.sql("op", "SELECT count(*) FROM entity") == [(2,)]  # an operator reads all
    assert ag.run("sup", verify.verify, "C001") == []  # the supervisor checks their books
    with pytest.raises(NotFoundError):  # another community does not exist for them
        ag.run("sup", verify.verify, "C002")


def test_nobody_but_an_operator_grants(ag: Agency) -> None:
    for login in PEOPLE:
        with pytest.raises(AccessDeniedError):
            ag.run(login, agency.grant, "bk2", "supervisor", "C001")
        ag.refused(
            login,
            "INSERT INTO role_grant (entity_id, user_id, role, granted_at)"
            " VALUES (:e, :u, 'reviewer', now())",
            e=ag.ids["C001"],
            u=ag.ids[login],
        )
        ag.refused(login, "SELECT jz_create_login('zz', true)")
        ag.refused(login, "CREATE ROLE zz_someone", match="permission denied")
    ag.run("op", agency.grant, "bk2", "supervisor", "C001")
    assert ("op", "role.grant") in _actors(ag)  # the operator's own name, not "operator"
    # an operator's login sets up a community and a person with their own login
    ag.run("op", agency.add_entity, "C009", "新社区", start_period=202609)
    ag.run("op", agency.add_user, "wu", "吴会计")
    assert ag.run("op", agency.add_db_login, "wu") == ag.role("wu")
    ag.run("op", agency.grant, "wu", "bookkeeper", "C009")
    assert ag.sql("wu", "SELECT code FROM entity") == [("C009",)]
    with ag.owner.connect() as conn:
        agency_rows = conn.execute(
            select(AuditLog.actor, AuditLog.action).where(AuditLog.entity_id == 0)
        ).all()
    assert {("op", "user.add"), ("op", "user.db_login")} <= {tuple(r) for r in agency_rows}
    ag.run("op", agency.add_user, "qian", "钱某")
    with pytest.raises(AccessDeniedError):  # a person who is no operator creates no login
        ag.run("bk", agency.add_db_login, "qian")


def test_a_grant_and_a_revocation_move_the_membership_at_once(ag: Agency) -> None:
    """Revoking takes effect on the person's next statement, on a connection already open."""
    ag.run("bk", books.set_opening, "C001", "bk", {"101": D("500"), "301": D("-500")})
    count = "SELECT count(*) FROM opening_balance"
    with ag.engine("bk").connect() as conn:
        held = conn.execute(text(count)).scalar_one()
        assert held > 0
        conn.commit()
        ag.run("op", agency.revoke, "bk", "bookkeeper", "C001")
        assert conn.execute(text(count)).scalar_one() == 0
        member = "SELECT pg_has_role(current_user, :r, 'MEMBER')"
        assert conn.execute(text(member), {"r": f"{ag.ns}.bookkeeper"}).scalar_one() is False
        conn.commit()
        ag.run("op", agency.grant, "bk", "supervisor", "C001")
        assert conn.execute(text(member), {"r": f"{ag.ns}.supervisor"}).scalar_one() is True
        assert conn.execute(text(count)).scalar_one() == held
    with pytest.raises(SegregationOfDutiesError):
        ag.run("bk", books.set_opening, "C001", "bk", {"101": D("1"), "301": D("-1")})
    ag.refused("bk", "DELETE FROM opening_balance WHERE entity_id = :e", e=ag.ids["C001"])


def test_the_audit_log_records_the_database_identity(ag: Agency) -> None:
    row = {
        "e": ag.ids["C001"],
        "s": 1000,
        "at": dt.datetime.now(dt.UTC),
        "h": "0" * 64,
    }
    sql = (
        "INSERT INTO audit_log (entity_id, seq, at, actor, action, subject, detail, hash)"
        " VALUES (:e, :s, :at, :actor, 'x', 'x', '{}', :h)"
    )
    ag.refused("cash", sql, match="juzhang: connected as cash", **(row | {"actor": "bk"}))
    ag.refused("cash", sql, match="juzhang: connected as cash", **(row | {"actor": "operator"}))
    ag.sql("cash", sql, **(row | {"actor": "cash"}))  # control
    ag.run("cash", custody.record_entry, "C001", "cash", SEP05, "101", D("-1"), "x")
    assert _actors(ag)[-1][0] == "cash"


def test_a_service_login_acts_only_through_set_role(ag: Agency) -> None:
    """One pooled login, NOINHERIT, a member of every person's role through ``<ns>.service``."""
    svc = f"{ag.ns}.svc"
    with ag.owner.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{svc}" LOGIN NOINHERIT IN ROLE "{ag.ns}.service"'))
    engine = make_engine(make_url(ag.url).set(username=svc).render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:  # without SET ROLE: nothing at all
            for t in ("voucher", "custody_entry", "app_user", "entity"):
                with pytest.raises(sa_exc.ProgrammingError, match=NOTHING), conn.begin_nested():
                    conn.execute(text(f"SELECT 1 FROM {t}"))
        with pytest.raises(sa_exc.ProgrammingError, match=NOTHING), engine.begin() as conn:
            conn.execute(text(INSERT_ENTRY), _entry_sql(ag, by="cash"))
        with transaction(engine) as s:  # as the cashier for one request
            s.execute(text(f'SET LOCAL ROLE "{ag.role("cash")}"'))
            assert db_actor(s) == "cash"
            custody.record_entry(s, "C001", "cash", SEP05, "101", D("-3"), "经服务 / via service")
            with pytest.raises(IdentityError):
                custody.record_entry(s, "C001", "bk", SEP05, "101", D("-3"), "冒名")
            p = _entry_sql(ag, by="cash") | {"id": 99}
            denied = pytest.raises(sa_exc.ProgrammingError, match="permission denied")
            with denied, s.begin_nested():
                s.execute(text(INSERT_VOUCHER), p)
        assert _actors(ag)[-1][0] == "cash"
        # the next request is nobody until it says whom
        nothing = pytest.raises(sa_exc.ProgrammingError, match=NOTHING)
        with nothing, transaction(engine) as s:
            s.execute(text("SELECT 1 FROM voucher"))
    finally:
        engine.dispose()
        with ag.owner.begin() as conn:
            conn.execute(text(f'DROP ROLE "{svc}"'))


# --------------------------------------------------------------------------- the command line


def test_the_guides_commands_on_a_persons_login(ag: Agency) -> None:
    """``user add --db-login``; the person's own URL needs no ``--as``, and refuses another."""
    owner_url = ag.url
    out = ok(owner_url, "user add zhang 张秀英 --db-login")
    assert f"{ag.ns}.zhang" in out
    ok(owner_url, "grant zhang cashier C001")
    ok(owner_url, "user add li 李建国")
    assert f"{ag.ns}.li" in ok(owner_url, "user db-login li")  # a person added before
    refused(owner_url, "user db-login li")  # once
    zhang = make_url(ag.url).set(username=ag.role("zhang")).render_as_string(hide_password=False)
    out = ok(zhang, "custody add C001 2026-09-03 101 -286.00 购买打印纸")
    assert _actors(ag)[-1][0] == "zhang"
    err = refused(zhang, "custody add C001 2026-09-03 101 -1.00 冒名", actor="cash")
    assert "zhang" in err and "cash" in err
    refused(zhang, "grant zhang supervisor C001")  # not an operator
    # reports show only her community
    assert "C002" not in ok(zhang, "entity list")
    assert "C002" in ok(owner_url, "entity list")


def test_the_month_end_on_persons_logins(ag: Agency) -> None:
    """Close (carry-forward by the system user), disclosure, sign-off: each by its person.

    A reopen that reverses the carry-forward names a reviewer; on the admin's
    own login that can only be the admin (not covered yet: docs/database.md).
    """
    moves = [(5, "-120.00", "51301", "购办公用品"), (10, "800.00", "501", "收门面租金")]
    items = [custody.CustodyInput(dt.date(2026, 9, d), "101", D(a), s) for d, a, _c, s in moves]
    entries = ag.run("cash", custody.record_entries, "C001", "cash", items)
    drafts = []
    for entry, (d, amount, acc, summary) in zip(entries, moves, strict=True):
        value = D(amount)
        side = "debit" if value > 0 else "credit"
        other = "credit" if value > 0 else "debit"
        cash = Line("101", summary, custody_entry=entry, **{side: abs(value)})
        drafts.append(
            VoucherDraft(dt.date(2026, 9, d), (cash, Line(acc, summary, **{other: abs(value)})), 1)
        )
    vids = ag.run("bk", books.draft_vouchers, "C001", "bk", drafts)
    ag.run("rv", books.review_vouchers, "C001", "rv", vids)
    ag.run("bk", books.post_vouchers, "C001", "bk", vids)
    cash_now = ag.run("cash", trial_balance, "C001", SEP).row("101").closing_balance
    ag.run("cash", record_cash_count, "C001", "cash", dt.date(2026, 9, 30), cash_now)
    with pytest.raises(IdentityError):
        ag.run("rv", close_month, "C001", SEP, "bk")
    result = ag.run("rv", close_month, "C001", SEP, "rv")
    assert result.closed and result.vouchers  # the carry-forward, posted by the system user
    reopen = "UPDATE period SET status = 'open', closed_by = NULL, closed_at = NULL"
    ag.refused("rv", reopen)  # a reviewer closes; only an admin reopens (反结账)
    ag.refused("adm", "UPDATE period SET status = 'closed'")  # and an admin never closes
    with pytest.raises(IdentityError):
        ag.run("adm", reopen_month, "C001", SEP, "adm", "补记", reviewer="rv")

    def record(session: Any) -> None:
        record_disclosure(session, disclosure(session, "C001", SEP, None))

    ag.run("rv", record)
    signed = ag.run("sup", sign_disclosure, "C001", SEP, "sup", None, "同意", dt.date(2026, 10, 5))
    assert signed.name == "周理财"
    ag.refused("sup", "UPDATE disclosure SET opinion = 'x'", match="juzhang: .*published")
    ag.refused("sup", "UPDATE period SET status = 'open'")
    actors = dict((action, actor) for actor, action in _actors(ag))
    assert actors["disclosure.sign"] == "sup"
    assert ag.world.run(verify.verify, "C001") == []


# Each duty's writes, as raw SQL on the person's own connection (the person
# named as the actor), and who docs/permissions.md lets do it.
WRITE_SQL: dict[str, tuple[str, set[str]]] = {
    "record custody entry": (INSERT_ENTRY.replace(":by", ":me"), {"cash"}),
    "record cash count": (
        "INSERT INTO cash_count (entity_id, id, count_date, period, account_code, amount_fen,"
        " note, counted_by, counted_at) VALUES (:e, 90, :d, :p, '101', 100, '', :me, :at)",
        {"cash"},
    ),
    "draft voucher": (INSERT_VOUCHER.replace(":by", ":me"), {"bk"}),
    "set opening balances": (
        "INSERT INTO opening_balance (entity_id, account_code, amount_fen) VALUES (:e, '112', 1)",
        {"bk"},
    ),
    "set budget": (
        "INSERT INTO budget_version (entity_id, year, version, kind, decision, reason, actor,"
        " created_at) VALUES (:e, 2027, 1, 'set', '', '', :login, :at)",
        {"bk"},
    ),
    "ask a question": (
        "INSERT INTO question (entity_id, id, period, line_no, line_ref, text, asked_on, due_on,"
        " asked_by, recorded_at) VALUES (:e, 90, :p, NULL, '', '为何？', :d, :d, :me, :at)",
        {"cash", "sup"},
    ),
    "store import settings": (
        "INSERT INTO import_setting (entity_id, account_code, profile, set_by, set_at)"
        " VALUES (:e, '', 'icbc', :me, :at)",
        {"bk"},
    ),
    "store risk settings": (
        "INSERT INTO risk_setting (entity_id, config, set_by, set_at) VALUES (:e, '{}', :me, :at)",
        {"rv"},
    ),
    "grant (set-up)": (
        "INSERT INTO role_grant (entity_id, user_id, role, granted_at)"
        " VALUES (:e, :me, 'supervisor', :at)",
        set(),
    ),
    "add account (set-up)": (
        "INSERT INTO account (entity_id, code, name, parent_code, level, category, side, active)"
        " VALUES (:e, '51309', 'x', '513', 2, 'expense', 'D', true)",
        set(),
    ),
}


@pytest.mark.parametrize("community", ["own", "other"])
@pytest.mark.parametrize("what", list(WRITE_SQL))
def test_each_write_only_by_its_duty_and_only_in_its_community(
    ag: Agency, what: str, community: str
) -> None:
    """Role × write × own/other community, by the database alone (raw SQL, rolled back)."""
    sql, allowed = WRITE_SQL[what]
    code = "C001" if community == "own" else "C002"
    for login in ("cash", "bk", "rv", "sup", "adm"):
        params = {
            "e": ag.ids[code],
            "id": 90,
            "d": SEP05,
            "p": 202609,
            "me": ag.ids[login],
            "login": login,
            "at": dt.datetime.now(dt.UTC),
        }
        with ag.engine(login).connect() as conn:
            try:
                conn.execute(text(sql), params)
                done = True
            except sa_exc.ProgrammingError as exc:
                assert re.search(DENIED, str(exc.orig)), str(exc.orig)
                done = False
            conn.rollback()
        assert done == (login in allowed and community == "own"), (login, what, code)


# --------------------------------------------------------------------------- audit roles


def test_audit_roles_finds_the_database_out_of_step(ag: Agency) -> None:
    """``juzhang audit roles``: clean after the service's grants; a hand-made change is named."""
    found = ag.world.run(audit_roles)
    assert found.problems == ()
    bk = next(h for h in found.held if h.login == "bk" and h.entity == "C001")
    assert (bk.role, bk.db_role, bk.db_member) == ("bookkeeper", ag.role("bk"), True)
    assert "juzhang and the database agree" in jz(ag.url, "audit roles").stderr
    with ag.owner.begin() as conn:  # around juzhang: out of step, and 钱账分离 broken
        conn.execute(text(f'REVOKE "{ag.ns}.bookkeeper" FROM "{ag.role("bk")}"'))
        conn.execute(text(f'GRANT "{ag.ns}.cashier" TO "{ag.role("sup")}"'))
        conn.execute(text("ALTER TABLE role_grant DISABLE TRIGGER jz_grant_separation"))
        conn.execute(
            text(
                "INSERT INTO role_grant (entity_id, user_id, role, granted_at)"
                " VALUES (:e, :u, 'cashier', now())"
            ),
            {"e": ag.ids["C001"], "u": ag.ids["rv"]},
        )
        conn.execute(text("ALTER TABLE role_grant ENABLE TRIGGER jz_grant_separation"))
    problems = [str(p) for p in ag.world.run(audit_roles).problems]
    assert any("C001 bk" in p and "bookkeeper" in p for p in problems), problems
    assert any(p.startswith("sup") and "cashier" in p for p in problems), problems
    assert any("C001 rv" in p and "钱账分离" in p for p in problems), problems
    result = jz(ag.url, "audit roles")
    assert result.exit_code == 1 and "problem" in result.stderr


def test_a_bank_statement_on_persons_logins(ag: Agency, tmp_path: Path) -> None:
    """Import (bookkeeper), accept into the bank journal (cashier), draft (bookkeeper)."""
    with transaction(ag.owner) as s:  # a community of its own: C001's 102 has a balance
        agency.add_entity(s, "C003", "安康社区居委会", start_period=202609)
        agency.grant(s, "cash", "cashier", "C003")
        agency.grant(s, "bk", "bookkeeper", "C003")
        books.add_account(s, "C003", BANK, "农商行")
        statement.set_bank_account(s, "C003", BANK, OWN_ACCOUNT)
    txns = transactions(6)
    record_bank_entries(ag.engine("cash"), "C003", txns[:2])
    path = write_csv(tmp_path / "stmt.csv", csv_rows(txns))
    result = ag.run("bk", statement.import_statement, "C003", "bk", path, account=BANK)
    assert (result.vouchers_drafted, result.awaiting_cashier) == (2, 4)
    with pytest.raises(IdentityError):
        ag.run("bk", statement.accept_statement_lines, "C003", "cash", "all")
    ag.refused("bk", "UPDATE statement_line SET in_fen = 1")  # the bank's figures are fixed
    ag.refused("cash", "UPDATE statement_line SET voucher_id = NULL")
    ag.refused("cash", "UPDATE statement_line SET out_fen = 1")
    accepted = ag.run("cash", statement.accept_statement_lines, "C003", "cash", "all")
    assert len(accepted) == 4
    done = ag.run("bk", statement.draft_pending, "C003", "bk")
    assert done.drafted == 4
    assert ag.world.run(verify.verify, "C003") == []


def test_every_table_has_row_level_security_and_a_read_policy(engine: Engine) -> None:
    """A table a later migration adds must say who reads and writes it (else this fails)."""
    with engine.connect() as conn:
        rls = dict(
            conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity FROM pg_class c"
                    " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
                )
            ).all()
        )
        read = {
            t
            for (t,) in conn.execute(
                text(
                    "SELECT tablename FROM pg_policies WHERE schemaname = current_schema()"
                    " AND policyname = 'jz_read'"
                )
            )
        }
    assert {t for t in TABLES if not rls.get(t)} == set()
    assert set(TABLES) - read == set()
