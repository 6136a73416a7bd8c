"""mention.language_source: whether a mention's language came from the platform or was detected

Revision ID: 0015
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0015'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language_source', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=True))
    # Languages stored so far came from the platforms.
    op.execute("UPDATE mention SET language_source = 'platform' WHERE language IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_column('language_source')
