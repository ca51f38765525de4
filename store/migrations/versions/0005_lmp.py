"""lmp: customers synced from Trend's Licensing Management Platform

Revision ID: 0005
Revises: 0003 (to be re-chained onto 0004 by the integrator)
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # origin gains 'lmp' and audit actions 'lmp_sync': both are plain strings (no CHECK).
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lmp_customer_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('service_url', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('lmp_missing_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_customer_lmp_customer_id'), ['lmp_customer_id'])


def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_customer_lmp_customer_id'), type_='unique')
        batch_op.drop_column('lmp_missing_since')
        batch_op.drop_column('service_url')
        batch_op.drop_column('lmp_customer_id')
