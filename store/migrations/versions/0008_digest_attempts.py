"""digest runs count their attempts (transient failures are retried)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'digest_run', sa.Column('attempts', sa.Integer(), server_default='1', nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table('digest_run', schema=None) as batch_op:
        batch_op.drop_column('attempts')
