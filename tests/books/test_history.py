"""Issue 17: what raw SQL got past the backstop and ``verify``, closed on both databases.

* cash counts of a closed month never change; grants are a history (a
  revocation ends a grant, never a delete) and 钱账分离 holds over all of it;
  posting checks the voucher's people against the grants at the time;
* the audit log is chained; ``verify`` names a forged row, a voucher whose
  people did not hold their roles, and books missing what their records say;
* anchors kept outside the database catch a rewrite done with the owner's rights;
* a SQLite backup taken while entries sit in the WAL restores every one.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, insert, select, text
from typer.testing import CliRunner

from juzhang import agency, books, verify
from juzhang.anchors import check_anchors, export_anchors, read_anchors
from juzhang.cash_count import record_cash_count
from juzhang.cli import app
from juzhang.closing import sign_disclosure
from juzhang.core.voucher import Line, VoucherDraft, voucher_hash
from juzhang.errors import SegregationOfDutiesError
from juzhang.storage.engine import make_engine, transaction
from juzhang.storage.schema import TABLES, RoleGrant, Voucher, VoucherLine
from tests.books.test_backstop import Booked, accepted, book, refused
from tests.conftest import World, lock_period


def now() -> dt.datetime:
    """The time now (grants made by a fixture start at their own now)."""
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def b(world: World) -> Booked:
    """The books of ``tests/books/test_backstop.py``: 记-1 of September posted, 2 October drafts."""
    return book(world)


def _subjects(w: World) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in w.run(verify.verify, "C001"):
        out.setdefault(p.subject, []).append(f"{p.where}: {p.message}")
    return out


@contextmanager
def owner(engine: Engine) -> Iterator[Connection]:
    """A raw connection with the owner's rights: triggers and foreign keys off."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            names = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            for (name,) in names.all():  # each SQLite test has its own file
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        yield conn


# --------------------------------------------------------------------------- cash counts


def test_cash_count_of_a_closed_month_never_changes(b: Booked) -> None:
    w = b.world
    w.run(record_cash_count, "C001", "cash", dt.date(2026, 9, 30), D("380"))
    w.run(lock_period, "C001", "rv", 202609)
    msg = "juzhang: the period is closed"
    p = {"e": b.eid}
    refused(b.engine, ("UPDATE cash_count SET amount_fen = 1 WHERE entity_id = :e", p), match=msg)
    refused(b.engine, ("DELETE FROM cash_count WHERE entity_id = :e", p), match=msg)
    row = {
        "entity_id": b.eid,
        "id": 9,
        "count_date": dt.date(2026, 9, 29),
        "period": 202609,
        "account_code": "101",
        "amount_fen": 1,
        "note": "",
        "counted_by": b.users["cash"],
        "counted_at": now(),
    }
    refused(b.engine, insert(TABLES["cash_count"]).values(**row), match=msg)
    # an open month's count may still be put right
    w.run(record_cash_count, "C001", "cash", dt.date(2026, 10, 31), D("680"))
    accepted(b.engine, ("UPDATE cash_count SET note = 'x' WHERE period = 202610", {}))


# --------------------------------------------------------------------------- grants


def test_grants_are_a_history(b: Booked) -> None:
    w = b.world
    refused(
        b.engine,
        ("DELETE FROM role_grant WHERE entity_id = :e AND user_id = :u", {"e": b.eid, "u": 1}),
        match="juzhang: role grants are never deleted",
    )
    # the attack of issue 17: drop the cashier grant, then give the books side
    refused(
        b.engine,
        (
            "DELETE FROM role_grant WHERE entity_id = :e AND user_id = :u",
            {"e": b.eid, "u": b.users["cash"]},
        ),
        insert(TABLES["role_grant"]).values(
            entity_id=b.eid, user_id=b.users["cash"], role="bookkeeper", granted_at=now()
        ),
        match="juzhang: role grants are never deleted",
    )
    # revoked through the service: the row stays, ended
    w.run(agency.revoke, "cash", "cashier", "C001")
    with b.engine.connect() as conn:
        ended = conn.execute(
            select(RoleGrant.revoked_at, RoleGrant.revoked_by).where(
                RoleGrant.user_id == b.users["cash"]
            )
        ).one()
    assert ended[0] is not None and ended[1] == "operator"
    # …and the former cashier never gets the books side: not by the service, not raw
    with pytest.raises(SegregationOfDutiesError):
        w.run(agency.grant, "cash", "bookkeeper", "C001")
    refused(
        b.engine,
        insert(TABLES["role_grant"]).values(
            entity_id=b.eid, user_id=b.users["cash"], role="bookkeeper", granted_at=now()
        ),
        match="juzhang: 钱账分离",
    )
    # an ended grant is never reopened or changed; a role is granted again as a new row
    refused(
        b.engine,
        ("UPDATE role_grant SET revoked_at = NULL WHERE user_id = :u", {"u": b.users["cash"]}),
        match="juzhang: role grants are never updated",
    )
    w.run(agency.grant, "cash", "cashier", "C001")
    with b.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM role_grant WHERE user_id = :u"), {"u": b.users["cash"]}
            ).scalar_one()
            == 2
        )
    # two open grants of one role, or a backdated one, are refused
    refused(
        b.engine,
        insert(TABLES["role_grant"]).values(
            entity_id=b.eid, user_id=b.users["rv"], role="reviewer", granted_at=now()
        ),
        match="juzhang: a grant starts open",
    )
    assert w.run(verify.verify, "C001") == []


# --------------------------------------------------------------------------- posting's people


def _raw_post(b: Booked, vid: int, **people: int) -> tuple[str, dict[str, object]]:
    """A raw post of reviewed draft ``vid`` as seq 2 with a correctly computed hash."""
    with b.engine.connect() as conn:
        head = conn.execute(
            select(Voucher.hash).where(Voucher.entity_id == b.eid, Voucher.chain_seq == 1)
        ).scalar_one()
        v = conn.execute(select(Voucher).where(Voucher.entity_id == b.eid, Voucher.id == vid)).one()
        lines = [
            (r.line_no, r.account_code, r.side, r.amount_fen, r.summary, r.custody_entry_id)
            for r in conn.execute(
                select(VoucherLine).where(
                    VoucherLine.entity_id == b.eid, VoucherLine.voucher_id == vid
                )
            )
        ]
    digest = voucher_hash(
        head,
        entity="C001",
        seq=2,
        period=v.period,
        number=1,
        date=v.voucher_date,
        kind=v.kind,
        reverses=None,
        lines=lines,
    )
    values = {
        "status": "posted",
        "number": 1,
        "chain_seq": 2,
        "prev_hash": head,
        "hash": digest,
        "posted_at": now(),
        "reviewed_at": now(),
        "posted_by": b.users["bk"],
        "reviewed_by": b.users["rv"],
        **people,
    }
    sets = ", ".join(f"{k} = :{k}" for k in values)
    return (
        f"UPDATE voucher SET {sets} WHERE entity_id = :e_ AND id = :v_",
        {**values, "e_": b.eid, "v_": vid},
    )


def test_raw_post_by_the_cashier_is_refused(b: Booked) -> None:
    cash = b.users["cash"]
    refused(b.engine, _raw_post(b, b.d2, reviewed_by=cash, posted_by=cash), match="钱账分离")
    refused(b.engine, _raw_post(b, b.d2, posted_by=cash), match="钱账分离")
    # a poster without the bookkeeper role, a reviewer without the reviewer role
    refused(b.engine, _raw_post(b, b.d2, posted_by=b.users["sup"]), match="hold their roles")
    refused(b.engine, _raw_post(b, b.d2, reviewed_by=b.users["bk2"]), match="hold their roles")
    # acting after the role was taken away
    before = now()
    b.world.run(agency.revoke, "rv", "reviewer", "C001")
    refused(b.engine, _raw_post(b, b.d2), match="hold their roles")
    # while the reviewer held it, the same post is accepted
    accepted(b.engine, _raw_post(b, b.d2, reviewed_at=before))


def test_verify_names_a_voucher_whose_people_lacked_their_roles(b: Booked) -> None:
    cash = b.users["cash"]
    with owner(b.engine) as conn:
        step, params = _raw_post(b, b.d2, reviewed_by=cash, posted_by=cash)
        conn.execute(text(step), params)
        conn.execute(
            text(
                "INSERT INTO account_balance (entity_id, account_code, period, debit_fen,"
                " credit_fen) VALUES (:e, '112', 202610, 5000, 0), (:e, '501', 202610, 0, 5000)"
            ),
            {"e": b.eid},
        )
    found = _subjects(b.world)
    assert list(found) == ["people"], found
    assert "2026-10 #1" in found["people"][0] and "报账员" in found["people"][0]


# --------------------------------------------------------------------------- audit chain


def test_verify_names_a_forged_audit_row(b: Booked) -> None:
    with b.engine.connect() as conn:
        last = conn.execute(
            text("SELECT max(seq) FROM audit_log WHERE entity_id = :e"), {"e": b.eid}
        ).scalar_one()
    with b.engine.begin() as conn:
        conn.execute(
            insert(TABLES["audit_log"]).values(
                entity_id=b.eid,
                seq=last + 1,
                at=now(),
                actor="rv",
                action="voucher.review",
                subject="#99",
                detail="{}",
                hash="0" * 64,
            )
        )
    found = _subjects(b.world)
    assert list(found) == ["audit"], found
    assert f"#{last + 1}" in found["audit"][0]


# --------------------------------------------------------------------------- missing books


def _publish_september(b: Booked) -> None:
    w = b.world
    w.run(record_cash_count, "C001", "cash", dt.date(2026, 9, 30), D("380"))
    w.run(lock_period, "C001", "rv", 202609)
    w.run(sign_disclosure, "C001", 202609, "sup", None, "同意", dt.date(2026, 10, 5))


def test_verify_notices_books_missing_their_vouchers(b: Booked) -> None:
    """A data-only restore that loaded the balances and the audit log but no vouchers."""
    _publish_september(b)
    with owner(b.engine) as conn:
        for table in ("statement_line", "claim"):
            conn.execute(text(f"UPDATE {table} SET voucher_id = NULL"))
        conn.execute(text("DELETE FROM voucher_line"))
        conn.execute(text("DELETE FROM voucher"))
        conn.execute(text("DELETE FROM account_balance"))
    found = _subjects(b.world)
    assert "missing" in found, found
    text_ = " ".join(found["missing"])
    assert "2026-09" in text_ and "seq 1" in text_  # the disclosure's head
    assert "#1" in text_  # the audit log's posting of voucher #1


# --------------------------------------------------------------------------- anchors


def test_anchors_catch_a_rewrite_with_owner_rights(b: Booked, tmp_path: Path) -> None:
    _publish_september(b)
    with transaction(b.engine, write=False) as s:
        exported = export_anchors(s)
    (anchor,) = exported["anchors"]
    assert (anchor["entity"], anchor["period"], anchor["chain_seq"]) == ("C001", "2026-09", 1)
    path = tmp_path / "anchors.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    with transaction(b.engine, write=False) as s:
        assert check_anchors(s, read_anchors([path])) == []
    # the owner rewrites 记-1 (120.00 → 12.00), recomputes its hash, fixes the balances
    with owner(b.engine) as conn:
        conn.execute(
            text(
                "UPDATE voucher_line SET amount_fen = 1200 WHERE entity_id = :e AND voucher_id = :v"
            ),
            {"e": b.eid, "v": b.v1},
        )
        conn.execute(
            text("UPDATE custody_entry SET amount_fen = -1200 WHERE entity_id = :e AND id = :i"),
            {"e": b.eid, "i": b.e1},
        )
        conn.execute(
            text(
                "UPDATE account_balance SET debit_fen = CASE WHEN debit_fen > 0 THEN 1200 ELSE 0"
                " END, credit_fen = CASE WHEN credit_fen > 0 THEN 1200 ELSE 0 END"
                " WHERE entity_id = :e AND period = 202609"
            ),
            {"e": b.eid},
        )
        v = conn.execute(
            select(Voucher).where(Voucher.entity_id == b.eid, Voucher.id == b.v1)
        ).one()
        lines = [
            (r.line_no, r.account_code, r.side, r.amount_fen, r.summary, r.custody_entry_id)
            for r in conn.execute(
                select(VoucherLine).where(
                    VoucherLine.entity_id == b.eid, VoucherLine.voucher_id == b.v1
                )
            )
        ]
        digest = voucher_hash(
            v.prev_hash,
            entity="C001",
            seq=1,
            period=v.period,
            number=1,
            date=v.voucher_date,
            kind=v.kind,
            reverses=None,
            lines=lines,
        )
        conn.execute(
            text("UPDATE voucher SET hash = :h WHERE entity_id = :e AND id = :v"),
            {"h": digest, "e": b.eid, "v": b.v1},
        )
    assert b.world.run(verify.verify, "C001") == []  # plain verify is clean
    url = b.engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    plain = runner.invoke(app, ["--db", url, "verify"])
    assert plain.exit_code == 0, plain.output
    result = runner.invoke(app, ["--db", url, "verify", "--anchors", str(path)])
    assert result.exit_code == 1, result.output
    assert "C001 2026-09" in result.output and "anchors" in result.output
    # the same from the CLI's own export of before: a folder of anchors works too
    folder = tmp_path / "kept"
    folder.mkdir()
    (folder / "c001.json").write_text(json.dumps(exported), encoding="utf-8")
    again = runner.invoke(app, ["--db", url, "verify", "--anchors", str(folder)])
    assert again.exit_code == 1 and "C001 2026-09" in again.output


def test_anchors_export_command(b: Booked, tmp_path: Path) -> None:
    _publish_september(b)
    url = b.engine.url.render_as_string(hide_password=False)
    out = tmp_path / "a.json"
    result = CliRunner().invoke(app, ["--db", url, "anchors", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [a["entity"] for a in data["anchors"]] == ["C001"]
    assert data["anchors"][0]["fingerprint"].startswith("C001:2026-09:1:")


# --------------------------------------------------------------------------- backup


def test_backup_keeps_entries_still_in_the_wal(world: World, tmp_path: Path) -> None:
    if world.engine.dialect.name != "sqlite":
        url = world.engine.url.render_as_string(hide_password=False)
        result = CliRunner().invoke(app, ["--db", url, "db", "backup", "--out", "x.db"])
        assert result.exit_code == 3 and "pg_dump" in result.output
        return
    db = Path(str(world.engine.url.database))
    url = f"sqlite:///{db}"
    w = world
    w.run(books.set_opening, "C001", "bk", {"101": D("500"), "301": D("-500")})
    holder = sqlite3.connect(db)  # a reader keeps the log from being checkpointed
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM voucher").fetchone()
    drafts = [
        VoucherDraft(
            dt.date(2026, 9, d),
            (Line("112", "应收", debit=D("1.00")), Line("501", "应收", credit=D("1.00"))),
        )
        for d in range(1, 6)
    ]
    w.run(books.post_bulk, "C001", drafts, preparer="bk", reviewer="rv", poster="bk")
    assert Path(f"{db}-wal").stat().st_size > 0
    plain_copy = tmp_path / "cp.db"
    plain_copy.write_bytes(db.read_bytes())  # what `cp` does: the WAL is left behind
    with sqlite3.connect(plain_copy) as c:
        assert c.execute("SELECT count(*) FROM voucher").fetchone()[0] < 5
    runner = CliRunner()
    backup = tmp_path / "backup.db"
    result = runner.invoke(app, ["--db", url, "db", "backup", "--out", str(backup)])
    assert result.exit_code == 0, result.output
    holder.rollback()
    holder.close()
    # refusals: the database itself, an existing file without --force
    again = runner.invoke(app, ["--db", url, "db", "backup", "--out", str(backup)])
    assert again.exit_code == 1 and "--force" in again.output
    itself = runner.invoke(app, ["--db", url, "db", "backup", "--out", str(db), "--force"])
    assert itself.exit_code == 1
    # restore into a new place: every entry, and verify is clean
    target = tmp_path / "restored.db"
    result = runner.invoke(
        app, ["--db", f"sqlite:///{target}", "db", "restore", "--from", str(backup)]
    )
    assert result.exit_code == 0, result.output
    assert "核对无误" in result.output
    engine = make_engine(f"sqlite:///{target}")
    try:
        with transaction(engine, write=False) as s:
            assert len(s.execute(select(Voucher.id)).all()) == 5
            assert verify.verify(s) == []
    finally:
        engine.dispose()
    refused_restore = runner.invoke(
        app, ["--db", f"sqlite:///{target}", "db", "restore", "--from", str(backup)]
    )
    assert refused_restore.exit_code == 1 and "--force" in refused_restore.output
