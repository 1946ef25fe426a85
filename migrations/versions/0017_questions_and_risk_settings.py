"""Residents' questions and answers (提问栏、回音栏), and the risk signals' settings.

* ``question``: a resident's question about a published month, or one line of
  its board, with the date asked and the date an answer is due;
  ``question_answer``: the community's answer, one per question.  Both are
  append-only: the database refuses UPDATE and DELETE (SQLite triggers;
  PostgreSQL row triggers on ``jz_refuse`` of 0007, already pinned to the
  schema by 0008), so neither what was asked nor what was answered can be
  rewritten around the service.
* ``risk_setting``: a community's thresholds for the 廉政风险提示 checks, as
  JSON (like ``disclosure_setting`` of 0011); without a row the defaults apply.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TABLES = ("question", "question_answer")
_MESSAGE = "questions and answers are append-only"


def upgrade() -> None:
    op.create_table(
        "question",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.Column("line_ref", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("asked_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("text <> ''", name=op.f("ck_question_text")),
        sa.CheckConstraint("due_on >= asked_on", name=op.f("ck_question_due")),
        sa.CheckConstraint("line_no IS NULL OR line_no >= 1", name=op.f("ck_question_line_no")),
        sa.CheckConstraint(
            "period >= 190001 AND period <= 999912 AND period % 100 BETWEEN 1 AND 12",
            name=op.f("ck_question_period"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.id"], name=op.f("fk_question_entity_id_entity")
        ),
        sa.ForeignKeyConstraint(
            ["asked_by"], ["app_user.id"], name=op.f("fk_question_asked_by_app_user")
        ),
        sa.PrimaryKeyConstraint("entity_id", "id", name=op.f("pk_question")),
    )
    op.create_index("ix_question_period", "question", ["entity_id", "period"], unique=False)
    op.create_table(
        "question_answer",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("text <> ''", name=op.f("ck_question_answer_text")),
        sa.ForeignKeyConstraint(
            ["entity_id", "question_id"],
            ["question.entity_id", "question.id"],
            name=op.f("fk_question_answer_entity_id_question_id_question"),
        ),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["app_user.id"], name=op.f("fk_question_answer_answered_by_app_user")
        ),
        sa.PrimaryKeyConstraint("entity_id", "question_id", name=op.f("pk_question_answer")),
    )
    op.create_table(
        "risk_setting",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("config LIKE '{%}'", name=op.f("ck_risk_setting_config")),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.id"], name=op.f("fk_risk_setting_entity_id_entity")
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["app_user.id"], name=op.f("fk_risk_setting_set_by_app_user")
        ),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_risk_setting")),
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
    op.drop_table("risk_setting")
    op.drop_table("question_answer")
    op.drop_index("ix_question_period", table_name="question")
    op.drop_table("question")
