"""lmp: customers synced from Trend's Licensing Management Platform

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # origin gains 'lmp' and audit actions 'lmp_sync': both are plain strings (no CHECK).
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lmp_customer_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('service_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('lmp_missing_since', sa.DateTime(timezone=True), nullable=True))
    # A unique index, not a constraint: SQLite would rebuild the table for a constraint, and
    # a rebuild drops customer's triggers (the total kept by 0004).
    op.create_index('uq_customer_lmp_customer_id', 'customer', ['lmp_customer_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_customer_lmp_customer_id', table_name='customer')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('lmp_missing_since')
        batch_op.drop_column('service_url')
        batch_op.drop_column('lmp_customer_id')
