"""digests

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('digest_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('forced', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parts_total', sa.Integer(), nullable=False),
    sa.Column('parts_posted', sa.Integer(), nullable=False),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_run'))
    )
    with op.batch_alter_table('digest_run', schema=None) as batch_op:
        batch_op.create_index('ix_digest_run_channel_started', ['channel_id', 'started_at'], unique=False)
        batch_op.create_index('uq_digest_run_once_a_day', ['channel_id', 'local_date'], unique=True, sqlite_where=sa.text('NOT forced'), postgresql_where=sa.text('NOT forced'))

    op.create_table('digest_subscription',
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('at_time', sa.Time(), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('weekdays', sa.String(length=7), nullable=False),
    sa.Column('filters', sa.String(length=1000), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel_id', name=op.f('pk_digest_subscription'))
    )



def downgrade() -> None:

    op.drop_table('digest_subscription')
    with op.batch_alter_table('digest_run', schema=None) as batch_op:
        batch_op.drop_index('uq_digest_run_once_a_day', sqlite_where=sa.text('NOT forced'), postgresql_where=sa.text('NOT forced'))
        batch_op.drop_index('ix_digest_run_channel_started')

    op.drop_table('digest_run')

