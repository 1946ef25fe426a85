"""Budgets in versions (预算版本): the plan as set, then adjustments naming the decision.

A community's budget was one list of lines per year, replaced in place.  Now
each change is a new version (``budget_version``: ``set`` or ``adjust``, the
collective decision — 居民会议决议 … — an adjustment names, the reason, who
and when) with its own lines (``budget_line`` gains ``version``).  History is
never rewritten: the database refuses UPDATE and DELETE of a version and of
its lines (SQLite triggers; PostgreSQL row triggers on ``jz_refuse`` of 0007,
already pinned to the schema by 0008).  The lines of each year become its
version 1.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLES = ("budget_version", "budget_line")
_MESSAGE = "budget versions are append-only"


def _old_lines() -> list[tuple[Any, ...]]:
    return [
        tuple(r)
        for r in op.get_bind().execute(
            sa.text(
                "SELECT entity_id, year, line_no, name, kind, accounts, amount_fen"
                " FROM budget_line ORDER BY entity_id, year, line_no"
            )
        )
    ]


def upgrade() -> None:
    rows = _old_lines()
    op.drop_table("budget_line")
    version = op.create_table(
        "budget_version",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('set', 'adjust')", name=op.f("ck_budget_version_kind")),
        sa.CheckConstraint(
            "kind <> 'adjust' OR decision <> ''", name=op.f("ck_budget_version_decision")
        ),
        sa.CheckConstraint("year BETWEEN 1900 AND 9999", name=op.f("ck_budget_version_year")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_budget_version_version")),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.id"], name=op.f("fk_budget_version_entity_id_entity")
        ),
        sa.PrimaryKeyConstraint("entity_id", "year", "version", name=op.f("pk_budget_version")),
    )
    line = op.create_table(
        "budget_line",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("accounts", sa.Text(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('income', 'expense')", name=op.f("ck_budget_line_kind")),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_budget_line_amount")),
        sa.CheckConstraint("line_no >= 1", name=op.f("ck_budget_line_line_no")),
        sa.CheckConstraint("year BETWEEN 1900 AND 9999", name=op.f("ck_budget_line_year")),
        sa.ForeignKeyConstraint(
            ["entity_id", "year", "version"],
            ["budget_version.entity_id", "budget_version.year", "budget_version.version"],
            name=op.f("fk_budget_line_entity_id_year_version_budget_version"),
        ),
        sa.PrimaryKeyConstraint(
            "entity_id", "year", "version", "line_no", name=op.f("pk_budget_line")
        ),
    )
    now = dt.datetime.now(dt.UTC)
    years = sorted({(int(r[0]), int(r[1])) for r in rows})
    if years:
        op.bulk_insert(
            version,
            [
                {
                    "entity_id": e,
                    "year": y,
                    "version": 1,
                    "kind": "set",
                    "decision": "",
                    "reason": "迁移 migrated (0010)",
                    "actor": "",
                    "created_at": now,
                }
                for e, y in years
            ],
        )
        op.bulk_insert(
            line,
            [
                {
                    "entity_id": r[0],
                    "year": r[1],
                    "version": 1,
                    "line_no": r[2],
                    "name": r[3],
                    "kind": r[4],
                    "accounts": r[5],
                    "amount_fen": r[6],
                }
                for r in rows
            ],
        )
    for table in _TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"CREATE TRIGGER jz_{table}_append_only BEFORE UPDATE OR DELETE ON {table}"
                f" FOR EACH ROW EXECUTE FUNCTION jz_refuse('{_MESSAGE}')"
            )
        else:
            for event in ("update", "delete"):
                op.execute(
                    f"CREATE TRIGGER jz_{table}_no_{event} BEFORE {event.upper()} ON {table}"
                    f" BEGIN SELECT RAISE(ABORT, 'juzhang: {_MESSAGE}'); END"
                )


def downgrade() -> None:
    # The lines of each year's latest version become the year's budget again.
    rows = list(
        op.get_bind().execute(
            sa.text(
                "SELECT l.entity_id, l.year, l.line_no, l.name, l.kind, l.accounts, l.amount_fen"
                " FROM budget_line l WHERE l.version = (SELECT MAX(v.version) FROM budget_version v"
                " WHERE v.entity_id = l.entity_id AND v.year = l.year)"
            )
        )
    )
    op.drop_table("budget_line")
    op.drop_table("budget_version")
    line = op.create_table(
        "budget_line",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("accounts", sa.Text(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('income', 'expense')", name=op.f("ck_budget_line_kind")),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_budget_line_amount")),
        sa.CheckConstraint("line_no >= 1", name=op.f("ck_budget_line_line_no")),
        sa.CheckConstraint("year BETWEEN 1900 AND 9999", name=op.f("ck_budget_line_year")),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.id"], name=op.f("fk_budget_line_entity_id_entity")
        ),
        sa.PrimaryKeyConstraint("entity_id", "year", "line_no", name=op.f("pk_budget_line")),
    )
    if rows:
        op.bulk_insert(
            line,
            [
                dict(
                    zip(
                        ("entity_id", "year", "line_no", "name", "kind", "accounts", "amount_fen"),
                        r,
                        strict=True,
                    )
                )
                for r in rows
            ],
        )
