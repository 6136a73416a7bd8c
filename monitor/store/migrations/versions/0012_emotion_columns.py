"""sentiment: emotion label and probabilities (the model's emotion head)

Revision ID: 0012
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sentiment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emotion', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('p_anger', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('p_joy', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('p_optimism', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('p_sadness', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sentiment', schema=None) as batch_op:
        for name in ('p_sadness', 'p_optimism', 'p_joy', 'p_anger', 'emotion'):
            batch_op.drop_column(name)
