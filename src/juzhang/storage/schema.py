"""Tables (数据表) of the books and the custody records.

Design rules, each enforced here or by the triggers in the migrations:

* Every table carries ``entity_id`` in its primary key, and every foreign key
  between entity-scoped tables includes it, so a voucher line can never point
  at another community's account or voucher (独立核算), and the schema can be
  distributed by entity later without redesign.  Row ids (``id``) are
  allocated per entity by the service under the entity's write lock.
* Amounts are integer fen (分) in ``BIGINT`` columns; never floats.
* The cashier's records (``custody_entry``) and the agency's books
  (``voucher``, ``voucher_line``) are separate tables written by separate roles;
  a custody-account line points at the custody entry that backs it through a
  foreign key that includes the entity *and the account*.
* ``account_balance`` holds the running debit and credit per
  (entity, account, month), maintained by a trigger in the posting
  transaction, so reports never scan all lines.
* ``audit_log`` is append-only; ``entity_id = 0`` marks agency-wide actions.

Only this module and the migrations know table layouts; the rest of the
library goes through :mod:`juzhang.books` and friends.
"""

# No ``from __future__ import annotations`` here, unlike the rest of juzhang:
# :class:`Base` reads each column's annotation (``Col[int | None]``) for its
# type and nullability, and an evaluated annotation is read without parsing a
# string; tests/storage/test_migrations.py checks that they stay evaluated.

import datetime as dt
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ColumnClause,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import NullType, TypeEngine

from juzhang.core.types import VoucherStatus

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PERIOD_CHECK = "period >= 190001 AND period <= 999912 AND period % 100 BETWEEN 1 AND 12"

#: juzhang.core.text.ENTITY_CODE_PATTERN in SQL both databases read (migration 0013:
#: a CHECK on PostgreSQL, triggers with the same expression on SQLite).
ENTITY_CODE_CHECK = (
    "length(code) BETWEEN 1 AND 32"
    " AND ltrim(code, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') = ''"
    " AND substr(code, 1, 1) NOT IN ('_', '-')"
)


METADATA = MetaData(naming_convention=NAMING_CONVENTION)
"""Every table, with a naming convention so Alembic names constraints stably."""

# The column type an annotation stands for when a column names none (a key
# column typed by its ``ForeignKey``, say): what SQLAlchemy's declarative
# mapping chose for the same annotations when these tables were ORM classes.
_TYPE_OF: dict[Any, type[TypeEngine[Any]]] = {
    int: Integer,
    str: String,
    bool: Boolean,
    dt.date: Date,
    dt.datetime: DateTime,
}


Col = ColumnClause
"""A column's annotation in a :class:`Base` class: ``number: Col[int | None]``.

Every ``Column`` is a ``ColumnClause``.  The annotation is not ``Column[...]``
because SQLAlchemy 2.1's typing reads a ``Column`` class attribute as a
descriptor of its ``TypedColumns`` and gives class access the type ``Never``.
"""


def column(*args: Any, **kwargs: Any) -> Any:
    """A column of a :class:`Base` table; its name, and unless given its type, come from the class.

    Typed ``Any`` so that the attribute's annotation (``Col[int | None]``) is
    the type checkers see, as ``mapped_column`` was.  Nullability is the
    annotation's alone, so there is no ``nullable`` argument.
    """
    if "nullable" in kwargs:
        raise TypeError("column(): nullability comes from the annotation (Col[T | None])")
    return Column(*args, **kwargs)


class Base:
    """A table declared as a class whose attributes are its columns (SQLAlchemy Core, no ORM).

    ``Voucher.status`` is the ``voucher.status`` column, ``Voucher.__table__``
    the table, and ``select(Voucher)`` selects every column into plain rows.
    The declaration reads like the ORM's: ``status: Col[str] =
    column(String(8))``.  A column is ``NOT NULL`` unless its annotation
    admits ``None``, and a column without a type takes the annotation's.
    ``__table_args__`` holds the table's constraints and indexes and may end,
    as the ORM's does, with a dict of ``Table`` options (``postgresql_with``).
    The library reads and writes through Core only, so a command imports no
    ORM and configures no mappers (start-up time, issue 15).
    """

    metadata: ClassVar[MetaData] = METADATA
    __tablename__: ClassVar[str]
    __table__: ClassVar[Table]
    __table_args__: ClassVar[tuple[Any, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        columns = []
        for name, hint in inspect.get_annotations(cls).items():
            col = cls.__dict__.get(name)
            if not isinstance(col, Column):
                continue
            (inner,) = typing.get_args(hint)  # Col[T] or Col[T | None]
            parts = typing.get_args(inner) if isinstance(inner, types.UnionType) else (inner,)
            optional = type(None) in parts
            col.name = col.key = name
            if isinstance(col.type, NullType):
                (kind,) = [p for p in parts if p is not type(None)]
                col.type = _TYPE_OF[kind]()
            col.nullable = optional and not col.primary_key
            columns.append(col)
        args = cls.__table_args__
        options = args[-1] if args and isinstance(args[-1], dict) else {}
        items = args[:-1] if options else args
        cls.__table__ = Table(cls.__tablename__, cls.metadata, *columns, *items, **options)

    @classmethod
    def __clause_element__(cls) -> Table:
        """The table: what ``select(Voucher)`` and ``insert(Voucher)`` work on."""
        return cls.__table__


class Entity(Base):
    """One community (社区): an accounting entity of its own (独立核算)."""

    __tablename__ = "entity"
    id: Col[int] = column(Integer, primary_key=True, autoincrement=True)
    code: Col[str] = column(String(32), unique=True)
    name: Col[str] = column(String(200))
    chart: Col[str] = column(String(32))
    start_period: Col[int] = column(Integer)
    voucher_word: Col[str] = column(String(4), default="记")
    link_window_days: Col[int] = column(Integer, default=10)
    created_at: Col[dt.datetime] = column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("id > 0", name="id_positive"),
        CheckConstraint(PERIOD_CHECK.replace("period", "start_period"), name="start_period"),
        CheckConstraint("link_window_days >= 0", name="window"),
        CheckConstraint(ENTITY_CODE_CHECK, name="code_pattern"),
    )


class User(Base):
    """A person known to the agency (agency-wide; roles are granted per entity)."""

    __tablename__ = "app_user"
    id: Col[int] = column(Integer, primary_key=True, autoincrement=True)
    login: Col[str] = column(String(64), unique=True)
    name: Col[str] = column(String(100))
    created_at: Col[dt.datetime] = column(DateTime(timezone=True))
    #: PostgreSQL: the person's own login role (``<namespace>.<login>``, migration
    #: 0018), ``None`` for a person without one and always on SQLite.
    db_role: Col[str | None] = column(String(63))
    __table_args__ = (Index("uq_app_user_db_role", "db_role", unique=True),)


class RoleGrant(Base):
    """A role a person held for one entity, from ``granted_at`` until ``revoked_at``.

    The grants are a history (append-only, migration 0012): a revocation ends
    the open grant (``revoked_at``, ``revoked_by``) and is never a delete, so
    the database and :func:`juzhang.verify.verify` can tell who held which
    role when each voucher was prepared, reviewed and posted, and whether a
    person ever held both the cashier's role and a books-side role.
    """

    __tablename__ = "role_grant"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    user_id: Col[int] = column(ForeignKey("app_user.id"), primary_key=True)
    role: Col[str] = column(String(16), primary_key=True)
    granted_at: Col[dt.datetime] = column(DateTime(timezone=True), primary_key=True)
    revoked_at: Col[dt.datetime | None] = column(DateTime(timezone=True))
    revoked_by: Col[str | None] = column(String(64))
    __table_args__ = (
        CheckConstraint(
            "role IN ('cashier', 'bookkeeper', 'reviewer', 'supervisor', 'admin')", name="role"
        ),
    )


class Account(Base):
    """An account of an entity's chart: a first-level account or a detail account (明细科目)."""

    __tablename__ = "account"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    code: Col[str] = column(String(20), primary_key=True)
    name: Col[str] = column(String(100))
    parent_code: Col[str | None] = column(String(20))
    level: Col[int] = column(Integer)
    category: Col[str] = column(String(16))
    side: Col[str] = column(String(8))
    custody: Col[str | None] = column(String(8))
    active: Col[bool] = column(Boolean, default=True)
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "parent_code"], ["account.entity_id", "account.code"]),
        CheckConstraint(
            "category IN ('asset', 'liability', 'equity', 'net_assets', 'cost', 'income',"
            " 'expense')",
            name="category",
        ),
        CheckConstraint("side IN ('debit', 'credit', 'either')", name="side"),
        CheckConstraint("custody IS NULL OR custody IN ('cash', 'bank')", name="custody"),
        CheckConstraint("level >= 1", name="level"),
        Index("ix_account_parent", "entity_id", "parent_code"),
    )


class OpeningBalance(Base):
    """期初余额: an account's balance when the entity's books start (debit positive)."""

    __tablename__ = "opening_balance"
    entity_id: Col[int] = column(primary_key=True)
    account_code: Col[str] = column(String(20), primary_key=True)
    amount_fen: Col[int] = column(BigInteger)
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "account_code"], ["account.entity_id", "account.code"]),
    )


class Period(Base):
    """A month of an entity's books; a row exists once the month has been opened or closed."""

    __tablename__ = "period"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    period: Col[int] = column(Integer, primary_key=True)
    status: Col[str] = column(String(8), default="open")
    closed_by: Col[int | None] = column(ForeignKey("app_user.id"))
    closed_at: Col[dt.datetime | None] = column(DateTime(timezone=True))
    # The hash-chain position (sequence, hash) the close's verification reached:
    # the next close verifies only what was posted after it.
    verified_seq: Col[int | None] = column(Integer)
    verified_hash: Col[str | None] = column(String(64))
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint(PERIOD_CHECK, name="period"),
    )


class CustodyEntry(Base):
    """现金/银行日记账: one movement of cash or bank money, recorded by the cashier.

    ``amount_fen`` is signed: money in positive, money out negative.
    """

    __tablename__ = "custody_entry"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    id: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    entry_date: Col[dt.date] = column(Date)
    period: Col[int] = column(Integer)
    account_code: Col[str] = column(String(20))
    amount_fen: Col[int] = column(BigInteger)
    summary: Col[str] = column(Text)
    counterparty: Col[str] = column(Text, default="")
    reference: Col[str] = column(Text, default="")
    source: Col[str] = column(String(16), default="manual")
    recorded_by: Col[int] = column(ForeignKey("app_user.id"))
    recorded_at: Col[dt.datetime] = column(DateTime(timezone=True))
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "account_code"], ["account.entity_id", "account.code"]),
        UniqueConstraint("entity_id", "id", "account_code"),
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
        CheckConstraint(PERIOD_CHECK, name="period"),
        # ``id`` last: the reconciliation's walk over an account's earlier
        # entries reads the index alone (issue 18)
        Index("ix_custody_entry_account", "entity_id", "account_code", "entry_date", "id"),
        # the sums before a month (the reconciliation, index alone) and the
        # look-ups by amount within a window's months (matching a statement
        # line or a voucher's line to its entry); no index on the amount
        # alone, whose inserts land anywhere (migration 0025)
        Index("ix_custody_entry_period", "entity_id", "account_code", "period", "amount_fen"),
    )


PG_PARTIAL_UNIQUES: set[str] = set()
"""The keys :func:`unique_where_set` declares (SQLite holds them as table constraints)."""


def unique_where_set(table_name: str, *columns: str) -> Index:
    """A unique key of ``entity_id`` and ``columns`` over the rows where the last is set.

    NULLs never collide, so the rule is that of a unique constraint; on
    PostgreSQL it is a partial unique index (``WHERE column IS NOT NULL``)
    that the rows without a value never enter: a draft voucher has no number,
    no place in the chain and reverses nothing, and every voucher a bulk step
    writes or rewrites as a draft or a reviewed one went into three indexes
    for nothing (migration 0026).  SQLite keeps 0001's and 0002's table
    constraints of the same names, which it cannot drop without rebuilding
    the table; :func:`include_object` leaves them out of its comparison.
    """
    name = f"uq_{table_name}_entity_id_{'_'.join(columns)}"
    PG_PARTIAL_UNIQUES.add(name)
    return Index(
        name,
        "entity_id",
        *columns,
        unique=True,
        postgresql_where=text(f"{columns[-1]} IS NOT NULL"),
    )


class Voucher(Base):
    """记账凭证: prepared (制单) → reviewed (审核) → posted (记账), then never changed."""

    __tablename__ = "voucher"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    id: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    voucher_date: Col[dt.date] = column(Date)
    period: Col[int] = column(Integer)
    word: Col[str] = column(String(4), default="记")
    number: Col[int | None] = column(Integer)
    status: Col[str] = column(String(8), default=VoucherStatus.DRAFT)
    kind: Col[str] = column(String(12), default="normal")
    attachments: Col[int] = column(Integer, default=0)
    prepared_by: Col[int] = column(ForeignKey("app_user.id"))
    reviewed_by: Col[int | None] = column(ForeignKey("app_user.id"))
    posted_by: Col[int | None] = column(ForeignKey("app_user.id"))
    cashier_id: Col[int | None] = column(ForeignKey("app_user.id"))
    reverses_id: Col[int | None] = column(Integer)
    prepared_at: Col[dt.datetime] = column(DateTime(timezone=True))
    reviewed_at: Col[dt.datetime | None] = column(DateTime(timezone=True))
    posted_at: Col[dt.datetime | None] = column(DateTime(timezone=True))
    chain_seq: Col[int | None] = column(Integer)
    prev_hash: Col[str | None] = column(String(64))
    hash: Col[str | None] = column(String(64))
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "reverses_id"], ["voucher.entity_id", "voucher.id"]),
        # unique where set: only posted vouchers have a number and a place in
        # the chain, only reversals reverse (partial on PostgreSQL, 0026)
        unique_where_set("voucher", "period", "number"),
        unique_where_set("voucher", "chain_seq"),
        unique_where_set("voucher", "reverses_id"),
        CheckConstraint("status IN ('draft', 'reviewed', 'posted')", name="status"),
        CheckConstraint("kind IN ('normal', 'reversal', 'correction', 'closing')", name="kind"),
        CheckConstraint("attachments >= 0", name="attachments"),
        CheckConstraint("number IS NULL OR number > 0", name="number"),
        CheckConstraint(PERIOD_CHECK, name="period"),
        CheckConstraint("status = 'draft' OR reviewed_by IS NOT NULL", name="reviewed"),
        CheckConstraint(
            "reviewed_by IS NULL OR reviewed_by <> prepared_by", name="reviewer_not_preparer"
        ),
        CheckConstraint(
            "status <> 'posted' OR (number IS NOT NULL AND posted_by IS NOT NULL"
            " AND hash IS NOT NULL AND chain_seq IS NOT NULL)",
            name="posted_complete",
        ),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal"),
        Index("ix_voucher_status", "entity_id", "status", "period", "voucher_date", "id"),
    )


class VoucherLine(Base):
    """A line of a voucher: 摘要, account, debit (D) or credit (C) amount in fen.

    Red (红字) lines carry negative amounts.  A line on a custody account names
    the custody entry that backs it.
    """

    __tablename__ = "voucher_line"
    entity_id: Col[int] = column(primary_key=True)
    voucher_id: Col[int] = column(Integer, primary_key=True)
    line_no: Col[int] = column(Integer, primary_key=True)
    account_code: Col[str] = column(String(20))
    summary: Col[str] = column(Text)
    side: Col[str] = column(String(1))
    amount_fen: Col[int] = column(BigInteger)
    custody_entry_id: Col[int | None] = column(Integer)
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "voucher_id"], ["voucher.entity_id", "voucher.id"]),
        ForeignKeyConstraint(["entity_id", "account_code"], ["account.entity_id", "account.code"]),
        ForeignKeyConstraint(
            ["entity_id", "custody_entry_id", "account_code"],
            ["custody_entry.entity_id", "custody_entry.id", "custody_entry.account_code"],
        ),
        CheckConstraint("side IN ('D', 'C')", name="side"),
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
        CheckConstraint("line_no >= 1", name="line_no"),
        Index("ix_voucher_line_account", "entity_id", "account_code", "voucher_id"),
        # the lines that name an entry: half of them (partial on PostgreSQL, 0026)
        Index(
            "ix_voucher_line_custody",
            "entity_id",
            "custody_entry_id",
            postgresql_where=text("custody_entry_id IS NOT NULL"),
        ),
    )


class AccountBalance(Base):
    """Running balance: debit and credit posted per (entity, account, month)."""

    __tablename__ = "account_balance"
    entity_id: Col[int] = column(primary_key=True)
    account_code: Col[str] = column(String(20), primary_key=True)
    period: Col[int] = column(Integer, primary_key=True)
    debit_fen: Col[int] = column(BigInteger, default=0)
    credit_fen: Col[int] = column(BigInteger, default=0)
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "account_code"], ["account.entity_id", "account.code"]),
    )


class AuditLog(Base):
    """Append-only record of every change: who, what, when.  ``entity_id`` 0 is agency-wide.

    Each row carries ``hash``: SHA-256 over the previous row's hash (of the
    same ``entity_id``) and its own content (:func:`juzhang.core.audit.audit_hash`),
    so a row inserted, changed or removed around the service breaks the chain
    where it happened (migration 0012).
    """

    __tablename__ = "audit_log"
    entity_id: Col[int] = column(Integer, primary_key=True)
    seq: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    at: Col[dt.datetime] = column(DateTime(timezone=True))
    actor: Col[str] = column(String(64))
    action: Col[str] = column(String(64))
    subject: Col[str] = column(Text)
    detail: Col[str] = column(Text, default="")
    hash: Col[str] = column(String(64))


class ImportBatch(Base):
    """One imported file (导入批次): a bank statement, a claim batch or a beancount file."""

    __tablename__ = "import_batch"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    id: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    kind: Col[str] = column(String(12))
    file_name: Col[str] = column(Text)
    file_sha256: Col[str] = column(String(64))
    account_code: Col[str | None] = column(String(20))
    profile: Col[str] = column(String(64), default="")
    imported_by: Col[int] = column(ForeignKey("app_user.id"))
    imported_at: Col[dt.datetime] = column(DateTime(timezone=True))
    rows_read: Col[int] = column(Integer, default=0)
    rows_new: Col[int] = column(Integer, default=0)
    __table_args__ = (
        CheckConstraint("kind IN ('bank', 'claims', 'beancount')", name="kind"),
        CheckConstraint("rows_read >= 0 AND rows_new >= 0", name="rows"),
    )


class StatementLine(Base):
    """银行对账单行: one line of the bank's statement, kept verbatim with its source.

    ``out_fen`` is money paid out (借方/支出), ``in_fen`` money received
    (贷方/收入); exactly one is non-zero.  ``dedup_key`` is the bank's serial
    where there is one, else a fingerprint plus an occurrence counter, so an
    overlapping statement adds nothing.  ``custody_entry_id`` links the
    cashier's bank-journal entry that records the same movement;
    ``voucher_id`` the draft voucher made from it.
    """

    __tablename__ = "statement_line"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    id: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    account_code: Col[str] = column(String(20))
    batch_id: Col[int] = column(Integer)
    row_no: Col[int] = column(Integer)
    dedup_key: Col[str] = column(String(200))
    txn_date: Col[dt.date] = column(Date)
    txn_time: Col[str | None] = column(String(8))
    out_fen: Col[int] = column(BigInteger, default=0)
    in_fen: Col[int] = column(BigInteger, default=0)
    balance_fen: Col[int | None] = column(BigInteger)
    counterparty: Col[str] = column(Text, default="")
    counterparty_account: Col[str] = column(Text, default="")
    counterparty_bank: Col[str] = column(Text, default="")
    summary: Col[str] = column(Text, default="")
    purpose: Col[str] = column(Text, default="")
    remark: Col[str] = column(Text, default="")
    serial: Col[str] = column(Text, default="")
    custody_entry_id: Col[int | None] = column(Integer)
    voucher_id: Col[int | None] = column(Integer)
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "account_code"], ["account.entity_id", "account.code"]),
        ForeignKeyConstraint(
            ["entity_id", "batch_id"], ["import_batch.entity_id", "import_batch.id"]
        ),
        ForeignKeyConstraint(
            ["entity_id", "custody_entry_id", "account_code"],
            ["custody_entry.entity_id", "custody_entry.id", "custody_entry.account_code"],
        ),
        ForeignKeyConstraint(["entity_id", "voucher_id"], ["voucher.entity_id", "voucher.id"]),
        UniqueConstraint("entity_id", "account_code", "dedup_key"),
        unique_where_set("statement_line", "custody_entry_id"),
        CheckConstraint(
            "out_fen >= 0 AND in_fen >= 0 AND (out_fen = 0) <> (in_fen = 0)", name="amounts"
        ),
        CheckConstraint("row_no >= 1", name="row_no"),
        Index("ix_statement_line_date", "entity_id", "account_code", "txn_date"),
        # The reconciliation probes the date of the line linked to an entry
        # (covering), and reads the lines linked to nothing (custody_entry_id
        # NULL: only the open ones) by date (issue 18).
        Index("ix_statement_line_entry", "entity_id", "custody_entry_id", "txn_date"),
        # Half of each page free: drafting then updates a line in place, no
        # index touched (migration 0022 says why).
        {"postgresql_with": {"fillfactor": 50}},
    )


class Claim(Base):
    """报账单行: one item of the cashier's claim batch, pending until drafted or returned.

    A claim that fails validation is ``returned`` to the cashier with its
    ``reasons`` and never booked; a valid one records the cashier's custody
    entry (``custody_entry_id``) and waits (``pending``) until the bookkeeper
    drafts its voucher (``drafted``, ``voucher_id``).
    """

    __tablename__ = "claim"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    id: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    batch_id: Col[int] = column(Integer)
    row_no: Col[int] = column(Integer)
    claim_date: Col[dt.date] = column(Date)
    purpose: Col[str] = column(Text)
    amount_fen: Col[int] = column(BigInteger)
    capitals: Col[str] = column(Text, default="")
    category: Col[str] = column(Text, default="")
    account_code: Col[str | None] = column(String(20))
    payment: Col[str] = column(String(8))
    custody_account: Col[str | None] = column(String(20))
    handler: Col[str] = column(Text, default="")
    witness: Col[str] = column(Text, default="")
    approver: Col[str] = column(Text, default="")
    attachments: Col[int] = column(Integer, default=0)
    invoice_no: Col[str] = column(Text, default="")
    decision_ref: Col[str] = column(Text, default="")
    status: Col[str] = column(String(10), default="pending")
    reasons: Col[str] = column(Text, default="")
    custody_entry_id: Col[int | None] = column(Integer)
    voucher_id: Col[int | None] = column(Integer)
    submitted_by: Col[int] = column(ForeignKey("app_user.id"))
    __table_args__ = (
        ForeignKeyConstraint(
            ["entity_id", "batch_id"], ["import_batch.entity_id", "import_batch.id"]
        ),
        ForeignKeyConstraint(["entity_id", "account_code"], ["account.entity_id", "account.code"]),
        ForeignKeyConstraint(
            ["entity_id", "custody_entry_id"], ["custody_entry.entity_id", "custody_entry.id"]
        ),
        ForeignKeyConstraint(["entity_id", "voucher_id"], ["voucher.entity_id", "voucher.id"]),
        CheckConstraint("amount_fen > 0", name="amount"),
        CheckConstraint("attachments >= 0", name="attachments"),
        CheckConstraint("payment IN ('cash', 'bank')", name="payment"),
        CheckConstraint("status IN ('pending', 'drafted', 'returned')", name="status"),
        CheckConstraint(
            "status <> 'returned' OR (custody_entry_id IS NULL AND voucher_id IS NULL)",
            name="returned_unbooked",
        ),
        CheckConstraint("status <> 'drafted' OR voucher_id IS NOT NULL", name="drafted"),
        Index("ix_claim_status", "entity_id", "status"),
        Index("ix_claim_date", "entity_id", "claim_date"),
        Index("ix_claim_voucher", "entity_id", "voucher_id"),
        Index("ix_claim_entry", "entity_id", "custody_entry_id"),
    )


class CashCount(Base):
    """现金盘点: cash on hand counted by the cashier on a date (usually the month end)."""

    __tablename__ = "cash_count"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    id: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    count_date: Col[dt.date] = column(Date)
    period: Col[int] = column(Integer)
    account_code: Col[str] = column(String(20))
    amount_fen: Col[int] = column(BigInteger)
    note: Col[str] = column(Text, default="")
    counted_by: Col[int] = column(ForeignKey("app_user.id"))
    counted_at: Col[dt.datetime] = column(DateTime(timezone=True))
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "account_code"], ["account.entity_id", "account.code"]),
        CheckConstraint("amount_fen >= 0", name="amount"),
        CheckConstraint(PERIOD_CHECK, name="period"),
        Index("ix_cash_count_period", "entity_id", "period"),
    )


class BudgetVersion(Base):
    """财务计划: one version of an entity's annual budget (年初预算 or an adjustment 调整).

    Append-only: a budget is never changed in place.  Version 1 is the plan
    as set (``kind`` ``set``); a later ``set`` replaces it before anything
    was published, an ``adjust`` names the collective decision
    (居民会议决议 …) that changed it.  The database refuses UPDATE and DELETE.
    """

    __tablename__ = "budget_version"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    year: Col[int] = column(Integer, primary_key=True)
    version: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    kind: Col[str] = column(String(8))
    decision: Col[str] = column(Text, default="")
    reason: Col[str] = column(Text, default="")
    actor: Col[str] = column(Text, default="")
    created_at: Col[dt.datetime] = column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("kind IN ('set', 'adjust')", name="kind"),
        CheckConstraint("kind <> 'adjust' OR decision <> ''", name="decision"),
        CheckConstraint("year BETWEEN 1900 AND 9999", name="year"),
        CheckConstraint("version >= 1", name="version"),
    )


class BudgetLine(Base):
    """One line of a budget version, matched to accounts by code prefix (append-only)."""

    __tablename__ = "budget_line"
    entity_id: Col[int] = column(primary_key=True)
    year: Col[int] = column(Integer, primary_key=True)
    version: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    line_no: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    name: Col[str] = column(Text)
    kind: Col[str] = column(String(8))
    accounts: Col[str] = column(Text)
    amount_fen: Col[int] = column(BigInteger)
    __table_args__ = (
        ForeignKeyConstraint(
            ["entity_id", "year", "version"],
            ["budget_version.entity_id", "budget_version.year", "budget_version.version"],
        ),
        CheckConstraint("kind IN ('income', 'expense')", name="kind"),
        CheckConstraint("amount_fen >= 0", name="amount"),
        CheckConstraint("year BETWEEN 1900 AND 9999", name="year"),
        CheckConstraint("line_no >= 1", name="line_no"),
    )


class Disclosure(Base):
    """财务公开: the public disclosure of a month or a quarter, and its sign-off.

    ``fingerprint`` is the entity's hash-chain head at generation plus the
    period; once the 民主理财小组 has signed (``status = 'published'``) the row
    never changes — its ``snapshot`` of the published figures included — and
    the months it covers can no longer be reopened.
    """

    __tablename__ = "disclosure"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    id: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    first_period: Col[int] = column(Integer)
    last_period: Col[int] = column(Integer)
    status: Col[str] = column(String(10), default="draft")
    fingerprint: Col[str] = column(String(100))
    chain_seq: Col[int] = column(Integer, default=0)
    generated_at: Col[dt.datetime] = column(DateTime(timezone=True))
    signed_by: Col[int | None] = column(ForeignKey("app_user.id"))
    signer_name: Col[str] = column(Text, default="")
    opinion: Col[str] = column(Text, default="")
    signed_on: Col[dt.date | None] = column(Date)
    posted_on: Col[dt.date | None] = column(Date)
    posted_until: Col[dt.date | None] = column(Date)
    snapshot: Col[str | None] = column(Text)
    """The published figures, frozen at sign-off: the disclosure's JSON (every section, row
    and figure, title, entity, period, signatures) plus its configuration (migration 0009)."""
    board_path: Col[str | None] = column(Text)
    """Where the closing run wrote the month's board (the signed one replaces it there)."""
    __table_args__ = (
        UniqueConstraint("entity_id", "first_period", "last_period"),
        CheckConstraint("status IN ('draft', 'published')", name="status"),
        CheckConstraint("first_period <= last_period", name="range"),
        CheckConstraint(
            "status <> 'published' OR (signed_by IS NOT NULL AND signed_on IS NOT NULL)",
            name="signed",
        ),
    )


class DisclosureSetting(Base):
    """财务公开配置: a community's stored disclosure configuration (who is 书记/主任, sections).

    ``config`` is the validated configuration as JSON
    (:func:`juzhang.disclosure_config.config_to_json`); the close and
    ``report disclosure`` use it when no file is given.  Each change is in the
    audit log with the text it set.
    """

    __tablename__ = "disclosure_setting"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    config: Col[str] = column(Text)
    set_by: Col[int] = column(ForeignKey("app_user.id"))
    set_at: Col[dt.datetime] = column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("config LIKE '{%}'", name="config"),)


class ImportSetting(Base):
    """导入设置: what a community's bank statements are imported with, remembered.

    One row per entity and bank detail account (``account_code`` ``""``: every
    account of the entity without a row of its own).  ``rules`` is the
    categorisation rules file and ``mapping`` the layout file, stored as the
    text that was checked (not a path: the setting stays true when the file
    moves or changes); ``profile`` a shipped layout's name.  ``import bank``
    and ``statement draft`` use them when the command line does not say.
    Each change is in the audit log.
    """

    __tablename__ = "import_setting"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    account_code: Col[str] = column(String(20), primary_key=True)
    rules: Col[str | None] = column(Text)
    mapping: Col[str | None] = column(Text)
    profile: Col[str | None] = column(String(64))
    set_by: Col[int] = column(ForeignKey("app_user.id"))
    set_at: Col[dt.datetime] = column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("mapping IS NULL OR profile IS NULL", name="one_layout"),
        CheckConstraint("profile IS NULL OR profile <> ''", name="profile"),
        CheckConstraint(
            "rules IS NOT NULL OR mapping IS NOT NULL OR profile IS NOT NULL", name="something"
        ),
    )


class Question(Base):
    """提问栏: a resident's question about a published month (or one line of its board).

    Written down by the community's cashier or the finance group
    (:func:`juzhang.question.add_question`) with the date it was asked and the
    date an answer is due.  Append-only: the database refuses UPDATE and
    DELETE (migration 0017), so what was asked stays as it was asked.
    """

    __tablename__ = "question"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    id: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    period: Col[int] = column(Integer)
    line_no: Col[int | None] = column(Integer)
    """The 序号 of the board line asked about (``None``: the month as a whole)."""
    line_ref: Col[str] = column(Text, default="")
    """That line as the published board shows it (凭证号 摘要 金额), kept with the question."""
    text: Col[str] = column(Text)
    asked_on: Col[dt.date] = column(Date)
    due_on: Col[dt.date] = column(Date)
    asked_by: Col[int] = column(ForeignKey("app_user.id"))
    recorded_at: Col[dt.datetime] = column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("text <> ''", name="text"),
        CheckConstraint("due_on >= asked_on", name="due"),
        CheckConstraint("line_no IS NULL OR line_no >= 1", name="line_no"),
        CheckConstraint(PERIOD_CHECK, name="period"),
        Index("ix_question_period", "entity_id", "period"),
    )


class QuestionAnswer(Base):
    """回音栏: the community's answer to a question (one per question, append-only)."""

    __tablename__ = "question_answer"
    entity_id: Col[int] = column(primary_key=True)
    question_id: Col[int] = column(Integer, primary_key=True, autoincrement=False)
    text: Col[str] = column(Text)
    answered_on: Col[dt.date] = column(Date)
    answered_by: Col[int] = column(ForeignKey("app_user.id"))
    recorded_at: Col[dt.datetime] = column(DateTime(timezone=True))
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "question_id"], ["question.entity_id", "question.id"]),
        CheckConstraint("text <> ''", name="text"),
    )


class RiskSetting(Base):
    """廉政风险提示设置: a community's thresholds for the risk signals (JSON, validated).

    ``config`` is :class:`juzhang.risk_config.RiskSettings` as JSON; without a
    row the defaults apply.  Each change is in the audit log with the text it set.
    """

    __tablename__ = "risk_setting"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    config: Col[str] = column(Text)
    set_by: Col[int] = column(ForeignKey("app_user.id"))
    set_at: Col[dt.datetime] = column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("config LIKE '{%}'", name="config"),)


class BankAccount(Base):
    """银行账户: the bank's account number behind a bank detail account of the books.

    An import of a bank statement into ``account_code`` refuses a statement
    that names another account number; the number is also part of the
    statement lines' dedup keys, so it is fixed once lines exist.
    """

    __tablename__ = "bank_account"
    entity_id: Col[int] = column(ForeignKey("entity.id"), primary_key=True)
    account_code: Col[str] = column(String(20), primary_key=True)
    number: Col[str] = column(String(64))
    name: Col[str] = column(Text, default="")
    bank: Col[str] = column(Text, default="")
    __table_args__ = (
        ForeignKeyConstraint(["entity_id", "account_code"], ["account.entity_id", "account.code"]),
        UniqueConstraint("entity_id", "number"),
        CheckConstraint("number <> ''", name="number"),
    )


TABLES = Base.metadata.tables

#: The book tables' foreign keys that PostgreSQL checks once per statement, by
#: juzhang's triggers, instead of row by row: to the reference tables
#: (migration 0021) and between the bulk book tables (0023).  Declared here for
#: SQLite, which keeps them, and for SQLAlchemy's joins.  The models' names:
#: PostgreSQL holds two of them shortened to 63 characters.
PG_STATEMENT_REFERENCES = frozenset(
    {
        "fk_statement_line_entity_id_entity",
        "fk_statement_line_entity_id_account_code_account",
        "fk_statement_line_entity_id_batch_id_import_batch",
        "fk_custody_entry_entity_id_entity",
        "fk_custody_entry_entity_id_account_code_account",
        "fk_custody_entry_recorded_by_app_user",
        "fk_voucher_entity_id_entity",
        "fk_voucher_prepared_by_app_user",
        "fk_voucher_reviewed_by_app_user",
        "fk_voucher_posted_by_app_user",
        "fk_voucher_cashier_id_app_user",
        "fk_voucher_line_entity_id_account_code_account",
        "fk_statement_line_entity_id_custody_entry_id_account_code_custody_entry",
        "fk_statement_line_entity_id_voucher_id_voucher",
        "fk_voucher_line_entity_id_voucher_id_voucher",
        "fk_voucher_line_entity_id_custody_entry_id_account_code_custody_entry",
    }
)


def include_object(dialect: str) -> Callable[[Any, str | None, str, bool, Any], bool]:
    """Alembic's ``include_object`` for comparing these models with a ``dialect`` database.

    On PostgreSQL the foreign keys of :data:`PG_STATEMENT_REFERENCES` are
    triggers, not constraints, and are left out of the comparison.  On
    SQLite the keys of :data:`PG_PARTIAL_UNIQUES` are table constraints, not
    the models' unique indexes, and are left out (``tests/storage/
    test_migrations.py`` checks them there on their own).
    """

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if dialect == "postgresql":
            return not (type_ == "foreign_key_constraint" and name in PG_STATEMENT_REFERENCES)
        return not (type_ in ("index", "unique_constraint") and name in PG_PARTIAL_UNIQUES)

    return include
