"""rollups: counts per brand, hour, platform and label, emotion, and distinct people, filled from the mentions

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0017'
down_revision = '0012'
branch_labels = None
depends_on = None

NO_ROWID = {"sqlite_with_rowid": False}


def _key() -> list[sa.Column]:
    return [sa.Column('brand_id', sa.Integer(), nullable=False),
            sa.Column('hour', sa.BigInteger(), nullable=False),
            sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'rollup_hour', *_key(),
        sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('mentions', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('brand_id', 'hour', 'platform', 'label'), **NO_ROWID)
    op.create_index('ix_rollup_hour_hour', 'rollup_hour', ['hour'], unique=False)
    op.create_table(
        'rollup_emotion', *_key(),
        sa.Column('emotion', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('mentions', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('brand_id', 'hour', 'platform', 'emotion'), **NO_ROWID)
    op.create_table(
        'rollup_author', *_key(),
        sa.Column('author', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('mentions', sa.Integer(), nullable=False),
        sa.Column('negatives', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('brand_id', 'hour', 'platform', 'author'), **NO_ROWID)
    op.create_table(
        'rollup_people', *_key(),
        sa.Column('authors', sa.Integer(), nullable=False),
        sa.Column('negative_authors', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('brand_id', 'hour', 'platform'), **NO_ROWID)
    from monitor.store.rollup_rebuild import rebuild_on

    rebuild_on(op.get_bind())  # count what is already stored


def downgrade() -> None:
    for name in ('rollup_people', 'rollup_author', 'rollup_emotion'):
        op.drop_table(name)
    op.drop_index('ix_rollup_hour_hour', table_name='rollup_hour')
    op.drop_table('rollup_hour')
