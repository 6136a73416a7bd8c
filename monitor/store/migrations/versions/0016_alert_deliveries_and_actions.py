"""alert deliveries per channel; who acknowledged and resolved an alert

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 05:00:00

Each alert is now delivered once per channel from its own ``alert_delivery`` row; the
alert's single-channel delivery columns move there (an alert's email state becomes its
``email`` delivery row), and the alert gains who acknowledged and resolved it, and when.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_MOVED = ("delivery_status", "claimed_by", "claimed_at", "sent_at", "attempts", "last_error", "next_attempt_at")


def upgrade() -> None:
    op.create_table('alert_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('alert_id', 'channel', name='uq_alert_delivery_channel')
    )
    with op.batch_alter_table('alert_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_alert_delivery_due', ['status', 'next_attempt_at'], unique=False)
    # the email state of every existing alert becomes its "email" delivery row
    op.execute(
        "INSERT INTO alert_delivery (alert_id, channel, status, claimed_by, claimed_at, sent_at, attempts, "
        "last_error, next_attempt_at, created_at) SELECT id, 'email', delivery_status, claimed_by, claimed_at, "
        "sent_at, attempts, last_error, next_attempt_at, created_at FROM alert"
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_delivery')
        for name in _MOVED:
            batch_op.drop_column(name)
        batch_op.add_column(sa.Column('acknowledged_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('alert', schema=None) as batch_op:
        for name in ('resolved_at', 'resolved_by', 'acknowledged_at', 'acknowledged_by'):
            batch_op.drop_column(name)
        batch_op.add_column(sa.Column('delivery_status', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default='sent'))
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(), nullable=False,
                                      server_default=sa.text('CURRENT_TIMESTAMP')))
        batch_op.create_index('ix_alert_delivery', ['delivery_status', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('alert_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_delivery_due')
    op.drop_table('alert_delivery')
