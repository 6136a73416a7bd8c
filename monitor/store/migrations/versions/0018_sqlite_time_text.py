"""SQLite: times written by bulk ingest in the one text format range queries compare with

Bulk ingest passed datetimes to the sqlite3 driver, whose default adapter writes a whole
second without its fraction (``2026-11-20 13:00:00``), while SQLAlchemy writes and compares
``2026-11-20 13:00:00.000000``. The short form sorts before the long one, so a mention posted
on the second a bucket starts fell out of that bucket's range queries. This rewrites the short
forms; PostgreSQL stores real timestamps and has nothing to change.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29 11:00:00
"""
from __future__ import annotations

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

_COLUMNS = (("mention", "created_at"), ("mention", "collected_at"), ("mention_brand", "created_at"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, column in _COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = {column} || '.000000' "
                   f"WHERE typeof({column}) = 'text' AND length({column}) = 19")


def downgrade() -> None:
    pass  # the long form is what every version reads
