"""dead-letter table: every item a source delivered that could not become a mention

Revision ID: 0014
Revises: 0016
Create Date: 2026-11-29 05:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0014'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dead_letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('payload_size', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('field', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('times_seen', sa.Integer(), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'position', 'digest', name='uq_dead_letter_item')
    )
    with op.batch_alter_table('dead_letter', schema=None) as batch_op:
        batch_op.create_index('ix_dead_letter_open', ['resolved_at', 'source'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dead_letter', schema=None) as batch_op:
        batch_op.drop_index('ix_dead_letter_open')

    op.drop_table('dead_letter')
