"""vision one: API connections with sealed tokens; attack level and risk events on snapshots

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('vision_one_connection',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.Enum('us', 'eu', 'sg', 'jp', 'au', 'in', 'mea', 'uk', 'ca', 'za', 'usgov', name='datacenter', native_enum=False, length=20), nullable=False),
    sa.Column('sealed_token', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('new', 'ok', 'needs_token', 'failing', name='connectionstate', native_enum=False, length=20), nullable=False),
    sa.Column('connected_by', sa.String(length=32), nullable=False),
    sa.Column('connected_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_vision_one_connection_customer_id_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_vision_one_connection'))
    )
    with op.batch_alter_table('vision_one_connection', schema=None) as batch_op:
        batch_op.create_index('ix_vision_one_connection_state', ['state'], unique=False)

    with op.batch_alter_table('risk_snapshot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attack', sa.Enum('low', 'medium', 'high', name='level', native_enum=False, length=20), nullable=True))
        batch_op.add_column(sa.Column('events', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('risk_snapshot', schema=None) as batch_op:
        batch_op.drop_column('events')
        batch_op.drop_column('attack')

    with op.batch_alter_table('vision_one_connection', schema=None) as batch_op:
        batch_op.drop_index('ix_vision_one_connection_state')

    op.drop_table('vision_one_connection')
