"""Bank account numbers of the books' bank accounts, and custody entries by amount.

``bank_account`` records the bank's account number behind a bank detail
account (银行存款—某行), so a statement import can refuse another account's
statement.  ``ix_custody_entry_amount`` lets the import find the cashier's
bank-journal entry of a statement line by amount.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_account",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("account_code", sa.String(length=20), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("bank", sa.Text(), nullable=False),
        sa.CheckConstraint("number <> ''", name=op.f("ck_bank_account_number")),
        sa.ForeignKeyConstraint(
            ["entity_id", "account_code"],
            ["account.entity_id", "account.code"],
            name=op.f("fk_bank_account_entity_id_account_code_account"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.id"], name=op.f("fk_bank_account_entity_id_entity")
        ),
        sa.PrimaryKeyConstraint("entity_id", "account_code", name=op.f("pk_bank_account")),
        sa.UniqueConstraint("entity_id", "number", name=op.f("uq_bank_account_entity_id_number")),
    )
    op.create_index(
        "ix_custody_entry_amount",
        "custody_entry",
        ["entity_id", "account_code", "amount_fen"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_custody_entry_amount", table_name="custody_entry")
    op.drop_table("bank_account")
