"""PostgreSQL: references to the reference tables are checked once per statement (migration 0021).

The book tables' references to a community, an account, a person or an
import batch are not PostgreSQL foreign keys there but statement triggers
(``jz_refs``) and, on the reference tables, row triggers (``jz_still_named``).
These tests go around the services, as ``tests/books/test_backstop.py`` does,
and prove that what a foreign key refused is still refused, whole, and that
the referenced rows are locked as a foreign key locks them.  SQLite keeps its
foreign keys; ``test_backstop`` proves the shared refusals on both databases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql

from juzhang import books, verify
from juzhang.storage.engine import make_engine, upgrade
from juzhang.storage.schema import PG_STATEMENT_REFERENCES, TABLES
from tests.books.test_backstop import OCT06, Booked, Step, _migration, accepted, refused
from tests.books.test_backstop import b as b  # the fixture the books are built with
from tests.conftest import PG_ONLY, build_world, pg_schema, postgresql_only
from tests.storage.test_migrations import _differences, _downgrade, _post_cash, _triggers

pytestmark = pytest.mark.pg
db_url = pytest.fixture(name="db_url", params=PG_ONLY)(postgresql_only)

FK = "juzhang: foreign key"
NOBODY = 9999  # no person, community or batch has this id
NOW = dt.datetime(2026, 10, 6, tzinfo=dt.UTC)


FUNCTIONS = "SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace"


def _names(engine: Engine, sql: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(text(sql)))


def _constraints(engine: Engine) -> set[str]:
    """The foreign keys of the schema."""
    return _names(
        engine,
        "SELECT conname FROM pg_constraint WHERE contype = 'f'"
        " AND connamespace = current_schema()::regnamespace",
    )


def _in_database(names: frozenset[str]) -> set[str]:
    """The foreign keys' names as PostgreSQL holds them (shortened to 63 characters)."""
    fks = {fk.name: fk for table in TABLES.values() for fk in table.foreign_key_constraints}
    format_fk = postgresql.dialect().identifier_preparer.format_constraint
    return {str(format_fk(fks[name])) for name in names}


def test_each_reference_is_a_statement_trigger_not_a_constraint(b: Booked) -> None:
    m21 = _migration("0021_pg_reference_checks")
    m23 = _migration("0023_pg_book_reference_checks")
    names = {m21.fk_name(t, cols, r) for t, r, _key, sets in m21.REFS for cols in sets}
    declared = {
        (table.name, fk.referred_table.name): fk.name
        for table in TABLES.values()
        for fk in table.foreign_key_constraints
    }
    names |= {declared[t, r] for t, r, *_rest in m23.REFS}
    assert names == PG_STATEMENT_REFERENCES
    # the models keep them: SQLite's foreign keys, SQLAlchemy's joins
    assert names <= {fk.name for table in TABLES.values() for fk in table.foreign_key_constraints}
    assert _in_database(frozenset(names)) >= set(m23.FOREIGN_KEYS.values())
    constraints = _constraints(b.engine)
    assert not _in_database(PG_STATEMENT_REFERENCES) & constraints
    # control: the references between book tables written a few at a time stay keys
    assert "fk_voucher_entity_id_reverses_id_voucher" in constraints
    assert "fk_claim_entity_id_voucher_id_voucher" in constraints
    triggers = _triggers(b.engine)
    refs = m21.REFS + m23.REFS
    wanted = {f"jz_{t}_{r}_{e}" for t, r, *_rest in refs for e in ("ins", "upd")}
    wanted |= {
        f"jz_{r}_named_{e}"
        for r in ("entity", "account", "app_user", "import_batch", "voucher", "custody_entry")
        for e in ("del", "upd")
    }
    assert wanted <= triggers
    by_row = _names(
        b.engine,
        "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        " WHERE t.tgtype & 1 = 1 AND c.relnamespace = current_schema()::regnamespace"
        " AND tgname LIKE 'jz%upd'",
    )
    # the services update vouchers' people and statement lines' links in bulk
    # (by statement); the other references never (a row trigger fires only
    # when one changes)
    by_statement = {
        "jz_voucher_app_user_upd",
        "jz_voucher_entity_upd",
        "jz_statement_line_custody_entry_upd",
        "jz_statement_line_voucher_upd",
    }
    assert by_statement <= wanted
    assert {n for n in wanted if n.endswith("_upd")} - by_statement <= by_row
    assert not by_statement & by_row


def _batch(b: Booked, bid: int, **values: Any) -> Step:
    row = {
        "entity_id": b.eid,
        "id": bid,
        "kind": "bank",
        "file_name": "raw.csv",
        "file_sha256": "0" * 64,
        "account_code": "102",
        "profile": "",
        "imported_by": b.users["bk"],
        "imported_at": NOW,
        "rows_read": 1,
        "rows_new": 1,
    }
    return insert(TABLES["import_batch"]).values(**(row | values))


def _statement_line(b: Booked, lid: int, bid: int, **values: Any) -> Step:
    row = {
        "entity_id": b.eid,
        "id": lid,
        "account_code": "102",
        "batch_id": bid,
        "row_no": lid,
        "dedup_key": f"raw-{lid}",
        "txn_date": OCT06,
        "in_fen": 100,
        "out_fen": 0,
    }
    return insert(TABLES["statement_line"]).values(**(row | values))


def _user(uid: int) -> Step:
    return insert(TABLES["app_user"]).values(id=uid, login=f"raw{uid}", name="raw", created_at=NOW)


def _set(table: str, column: str, value: Any, where: str, **params: Any) -> Step:
    return (f"UPDATE {table} SET {column} = :value WHERE {where}", {"value": value, **params})


@pytest.mark.parametrize(
    "case",
    [
        "custody_entry.recorded_by",
        "custody_entry.entity_id",
        "custody_entry.account_code",
        "custody_entry.recorded_by (update)",
        "voucher.prepared_by",
        "voucher.entity_id",
        "voucher.reviewed_by (update)",
        "voucher.posted_by (posting)",
        "voucher.cashier_id (posting)",
        "voucher_line.account_code",
        "voucher_line.account_code (update)",
        "statement_line.batch_id",
        "statement_line.account_code",
        "statement_line.entity_id",
        "voucher_line.voucher_id",
        "voucher_line.custody_entry_id",
        "statement_line.custody_entry_id",
        "statement_line.custody_entry_id (acceptance)",
        "statement_line.voucher_id (drafting)",
    ],
)
def test_a_row_naming_a_missing_reference_is_refused(b: Booked, case: str) -> None:
    """Each reference, on insert and where the services update it, with a control accepted."""
    d2 = {"e": b.eid, "v": b.d2}
    where_d2 = "entity_id = :e AND id = :v"
    batch = _batch(b, 1)
    bad: list[Step]
    good: list[Step]
    match case:
        case "custody_entry.recorded_by":
            bad, good = (
                [b.entry(60, OCT06, "101", 100, recorded_by=NOBODY)],
                [b.entry(60, OCT06, "101", 100)],
            )
        case "custody_entry.entity_id":
            bad, good = (
                [b.entry(60, OCT06, "101", 100, entity_id=NOBODY)],
                [b.entry(60, OCT06, "101", 100)],
            )
        case "custody_entry.account_code":
            bad, good = [b.entry(60, OCT06, "109", 100)], [b.entry(60, OCT06, "102", 100)]
        case "custody_entry.recorded_by (update)":
            where = "entity_id = :e AND id = :v"
            bad = [_set("custody_entry", "recorded_by", NOBODY, where, e=b.eid, v=b.e2)]
            good = [_set("custody_entry", "recorded_by", b.users["bk"], where, e=b.eid, v=b.e2)]
        case "voucher.prepared_by":
            bad, good = [b.voucher(50, OCT06, prepared_by=NOBODY)], [b.voucher(50, OCT06)]
        case "voucher.entity_id":
            bad, good = [b.voucher(50, OCT06, entity_id=NOBODY)], [b.voucher(50, OCT06)]
        case "voucher.reviewed_by (update)":
            bad = [_set("voucher", "reviewed_by", NOBODY, where_d2, **d2)]
            good = [_set("voucher", "reviewed_by", b.users["rv"], where_d2, **d2)]
        case "voucher.posted_by (posting)":
            bad, good = [b.post(b.d2, 1, posted_by=NOBODY)], [b.post(b.d2, 1)]
        case "voucher.cashier_id (posting)":
            cashier = b.users["cash"]
            bad, good = [b.post(b.d2, 1, cashier_id=NOBODY)], [b.post(b.d2, 1, cashier_id=cashier)]
        case "voucher_line.account_code":
            bad, good = [b.line(b.d2, 3, "51399", "D", 100)], [b.line(b.d2, 3, "51301", "D", 100)]
        case "voucher_line.account_code (update)":
            where = "entity_id = :e AND voucher_id = :v AND account_code = '112'"
            bad = [_set("voucher_line", "account_code", "51399", where, **d2)]
            good = [_set("voucher_line", "account_code", "51301", where, **d2)]
        case "statement_line.batch_id":
            bad, good = [batch, _statement_line(b, 1, NOBODY)], [batch, _statement_line(b, 1, 1)]
        case "statement_line.account_code":
            bad = [batch, _statement_line(b, 1, 1, account_code="109")]
            good = [batch, _statement_line(b, 1, 1)]
        case "statement_line.entity_id":
            bad = [batch, _statement_line(b, 1, 1, entity_id=NOBODY)]
            good = [batch, _statement_line(b, 1, 1)]
        case "voucher_line.voucher_id":
            bad = [b.line(NOBODY, 1, "51301", "D", 100)]
            good = [b.line(b.d2, 3, "51301", "D", 100)]
        case "voucher_line.custody_entry_id":  # e2 is an entry of 101, not of 102
            bad = [b.line(b.d2, 3, "102", "D", 300, entry=b.e2)]
            good = [b.line(b.d2, 3, "101", "D", 300, entry=b.e2)]
        case "statement_line.custody_entry_id":
            entry = b.entry(60, OCT06, "102", 100)
            bad = [entry, batch, _statement_line(b, 1, 1, custody_entry_id=NOBODY)]
            good = [entry, batch, _statement_line(b, 1, 1, custody_entry_id=60)]
        case "statement_line.custody_entry_id (acceptance)":
            entry = b.entry(60, OCT06, "102", 100)
            line = [entry, batch, _statement_line(b, 1, 1)]
            where = "entity_id = :e AND id = 1"
            bad = [*line, _set("statement_line", "custody_entry_id", NOBODY, where, e=b.eid)]
            good = [*line, _set("statement_line", "custody_entry_id", 60, where, e=b.eid)]
        case "statement_line.voucher_id (drafting)":
            line = [batch, _statement_line(b, 1, 1)]
            where = "entity_id = :e AND id = 1"
            bad = [*line, _set("statement_line", "voucher_id", NOBODY, where, e=b.eid)]
            good = [*line, _set("statement_line", "voucher_id", b.d2, where, e=b.eid)]
    accepted(b.engine, *good)
    refused(b.engine, *bad, match=FK)


def test_one_bad_row_refuses_the_whole_statement(b: Booked) -> None:
    """A multi-row write with one bad reference among good ones: nothing of it is kept."""
    rows = [{**b.entry(60 + i, OCT06, "101", 100 + i).compile().params} for i in range(5)]
    rows[3]["recorded_by"] = NOBODY
    refused(b.engine, insert(TABLES["custody_entry"]).values(rows), match=FK)
    rows[3]["recorded_by"] = b.users["cash"]
    accepted(b.engine, insert(TABLES["custody_entry"]).values(rows))


def test_a_named_reference_row_is_not_deleted_or_rekeyed(b: Booked) -> None:
    """A person, account, batch or community a book row names stays; unnamed ones may go."""
    user = TABLES["app_user"]
    account = TABLES["account"]
    batch = TABLES["import_batch"]
    # a person named only by a custody entry
    named = [_user(500), b.entry(60, OCT06, "101", 100, recorded_by=500)]
    refused(
        b.engine, *named, delete(user).where(user.c.id == 500), match=FK + ": rows of custody_entry"
    )
    refused(b.engine, *named, _set("app_user", "id", 501, "id = 500"), match=FK)
    accepted(b.engine, _user(500), delete(user).where(user.c.id == 500))  # control
    accepted(b.engine, _user(500), _set("app_user", "id", 501, "id = 500"))
    # a person named only as a voucher's poster
    refused(
        b.engine,
        _user(500),
        _set("voucher", "reviewed_by", 500, "entity_id = :e AND id = :v", e=b.eid, v=b.d2),
        delete(user).where(user.c.id == 500),
        match=FK + ": rows of voucher",
    )
    # an account named only by a draft's line
    b.world.run(books.add_account, "C001", "51302", "杂项")
    gone = delete(account).where(account.c.entity_id == b.eid, account.c.code == "51302")
    refused(b.engine, b.line(b.d2, 3, "51302", "D", 100), gone, match=FK + ": rows of voucher_line")
    accepted(b.engine, gone)
    # a batch named by a statement line
    drop = delete(batch).where(batch.c.entity_id == b.eid, batch.c.id == 1)
    refused(
        b.engine,
        _batch(b, 1),
        _statement_line(b, 1, 1),
        drop,
        match=FK + ": rows of statement_line",
    )
    accepted(b.engine, _batch(b, 1), drop)
    # a custody entry named only by a statement line, a draft named only by one
    entries = TABLES["custody_entry"]
    drop_entry = delete(entries).where(entries.c.entity_id == b.eid, entries.c.id == 60)
    linked = [b.entry(60, OCT06, "102", 100), _batch(b, 1)]
    refused(
        b.engine,
        *linked,
        _statement_line(b, 1, 1, custody_entry_id=60),
        drop_entry,
        match=FK + ": rows of statement_line",
    )
    accepted(b.engine, *linked, _statement_line(b, 1, 1), drop_entry)
    vouchers = TABLES["voucher"]
    drop_draft = delete(vouchers).where(vouchers.c.entity_id == b.eid, vouchers.c.id == 50)
    draft = [b.voucher(50, OCT06), _batch(b, 1)]
    refused(
        b.engine,
        *draft,
        _statement_line(b, 1, 1, voucher_id=50),
        drop_draft,
        match=FK + ": rows of statement_line",
    )
    accepted(b.engine, *draft, _statement_line(b, 1, 1), drop_draft)
    # a draft and an entry named by a voucher line
    refused(
        b.engine,
        b.voucher(50, OCT06),
        b.line(50, 1, "51301", "D", 100),
        drop_draft,
        match=FK + ": rows of voucher_line",
    )
    refused(
        b.engine,
        b.entry(60, OCT06, "101", 100),
        b.line(b.d2, 3, "101", "D", 100, entry=60),
        drop_entry,
        match=FK + ": rows of voucher_line",
    )
    # a community: its books name it (PostgreSQL's own keys from its other tables refuse too)
    entity = TABLES["entity"]
    refused(b.engine, delete(entity).where(entity.c.id == b.eid), match=r"(?i)foreign key")


def test_a_reference_row_is_deleted_only_under_read_committed(b: Booked) -> None:
    """Under a snapshot of the whole transaction, the look-up could miss a writer that committed."""
    user = TABLES["app_user"]
    with b.engine.begin() as conn:
        conn.execute(_user(500))
    snapshot = b.engine.execution_options(isolation_level="REPEATABLE READ")
    refusal = pytest.raises(sa_exc.IntegrityError, match="only under READ COMMITTED")
    with refusal, snapshot.begin() as conn:
        conn.execute(delete(user).where(user.c.id == 500))
    with b.engine.begin() as conn:  # read committed: an unnamed person goes
        conn.execute(delete(user).where(user.c.id == 500))


def test_a_writer_locks_the_rows_it_names_until_it_commits(b: Booked) -> None:
    """As a foreign key does: the delete waits for the writer, then sees its row and is refused."""
    user = TABLES["app_user"]
    with b.engine.begin() as conn:
        conn.execute(_user(500))
    gone = delete(user).where(user.c.id == 500)
    with b.engine.connect() as writer, b.engine.connect() as deleter:
        wrote = writer.begin()
        writer.execute(b.entry(60, OCT06, "101", 100, recorded_by=500))
        with pytest.raises(sa_exc.OperationalError, match="lock timeout"), deleter.begin():
            deleter.execute(text("SET LOCAL lock_timeout = '300ms'"))
            deleter.execute(gone)
        wrote.commit()
        with pytest.raises(sa_exc.IntegrityError, match=FK), deleter.begin():
            deleter.execute(gone)


def _not_keys(_obj: object, _name: object, type_: str, *_rest: object) -> bool:
    """Compare all but indexes and unique keys (later revisions change those)."""
    return type_ not in ("index", "unique_constraint")


def test_0021_and_0023_go_down_to_foreign_keys_and_up_again() -> None:
    """Down: the foreign keys are back and agree with the models; up: the triggers take over."""
    with pg_schema("jz_refs") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            world = build_world(engine)
            _post_cash(world, 1)
            _downgrade(engine, "0020")
            assert _constraints(engine) >= _in_database(PG_STATEMENT_REFERENCES)
            assert "jz_refs" not in _names(engine, FUNCTIONS)
            # no filter on foreign keys: they are declared in the models, and back in the
            # database (the indexes and keys of 0025 and 0026 are not yet)
            assert _differences(engine, include=_not_keys) == []
            upgrade(engine)
            assert _differences(engine) == []
            assert not _in_database(PG_STATEMENT_REFERENCES) & _constraints(engine)
            assert "jz_refs" in _names(engine, FUNCTIONS)
            _post_cash(world, 2)  # under the statement checks
            assert world.run(verify.verify, "C001") == []
        finally:
            engine.dispose()
