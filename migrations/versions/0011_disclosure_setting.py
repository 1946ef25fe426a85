"""A community's stored disclosure configuration (财务公开配置).

``disclosure_setting`` holds, per entity, the validated disclosure
configuration as JSON (who is 书记 and 主任, the sections, the categories),
with who set it and when; ``juzhang disclosure config set`` writes it, the
close and ``report disclosure`` use it when no file is given.  The database
refuses a configuration that is not a JSON object.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_setting",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("config LIKE '{%}'", name=op.f("ck_disclosure_setting_config")),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["entity.id"], name=op.f("fk_disclosure_setting_entity_id_entity")
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["app_user.id"], name=op.f("fk_disclosure_setting_set_by_app_user")
        ),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_disclosure_setting")),
    )


def downgrade() -> None:
    op.drop_table("disclosure_setting")
