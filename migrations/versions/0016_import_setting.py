"""Import settings remembered per community and bank account (导入设置).

``import_setting`` holds, per entity and bank detail account (``""``: every
account without its own row), the categorisation rules and the statement
layout the community's bank statements are imported with: the rules and a
mapping file as the text that was checked, or a shipped profile's name.
``juzhang import settings set`` writes it; ``import bank`` and ``statement
draft`` use it when the command line does not say.  The database refuses a
row with both a mapping and a profile, an empty profile name, or nothing.

Revision ID: 0016
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_setting",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("account_code", sa.String(length=20), nullable=False),
        sa.Column("rules", sa.Text(), nullable=True),
        sa.Column("mapping", sa.Text(), nullable=True),
        sa.Column("profile", sa.String(length=64), nullable=True),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "mapping IS NULL OR profile IS NULL", name=op.f("ck_import_setting_one_layout")
        ),
        sa.CheckConstraint(
            "profile IS NULL OR profile <> ''", name=op.f("ck_import_setting_profile")
        ),
        sa.CheckConstraint(
            "rules IS NOT NULL OR mapping IS NOT NULL OR profile IS NOT NULL",
            name=op.f("ck_import_setting_something"),
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.id"], name=op.f("fk_import_setting_entity_id_entity")
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["app_user.id"], name=op.f("fk_import_setting_set_by_app_user")
        ),
        sa.PrimaryKeyConstraint("entity_id", "account_code", name=op.f("pk_import_setting")),
    )


def downgrade() -> None:
    op.drop_table("import_setting")
