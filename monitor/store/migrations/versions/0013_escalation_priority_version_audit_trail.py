"""escalation priority, version, audit trail

An escalation gains its priority (0-100), a version for optimistic concurrency and who last
changed it; every action is kept in ``escalation_event``; mentions get an index by author for
the repeated-contact signal. Existing escalations get the lowest priority of their severity
tier (the default ``escalation.tiers``), so the queue keeps their order.

Revision ID: 0013
Revises: 0014
Create Date: 2026-11-29 04:35:57.369257
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0013'
down_revision = '0014'
branch_labels = None
depends_on = None
TIER_FLOOR = ("UPDATE escalation SET priority = CASE severity WHEN 4 THEN 79 WHEN 3 THEN 67 WHEN 2 THEN 55 "
              "ELSE 46 END")


def upgrade() -> None:
    op.create_table('escalation_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('escalation_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('escalation_event', schema=None) as batch_op:
        batch_op.create_index('ix_escalation_event_escalation', ['escalation_id', 'at'], unique=False)

    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index('ix_escalation_status_priority', ['status', 'priority'], unique=False)
    op.execute(sa.text(TIER_FLOOR))

    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.create_index('ix_mention_author', ['platform', 'author', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_index('ix_mention_author')

    with op.batch_alter_table('escalation', schema=None) as batch_op:
        batch_op.drop_index('ix_escalation_status_priority')
        batch_op.drop_column('updated_by')
        batch_op.drop_column('version')
        batch_op.drop_column('priority')

    with op.batch_alter_table('escalation_event', schema=None) as batch_op:
        batch_op.drop_index('ix_escalation_event_escalation')

    op.drop_table('escalation_event')
