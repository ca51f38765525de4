"""customers, risk history, access

Revision ID: 0001
Revises: 
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('access_grant',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('role', sa.Enum('viewer', 'operator', 'approver', 'admin', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('granted_by', sa.String(length=64), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_access_grant'))
    )
    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('company_key', sa.String(length=200), nullable=False),
    sa.Column('license_type', sa.Enum('annual', 'monthly', 'monthly_nfr', name='licensetype', native_enum=False, length=20), nullable=True),
    sa.Column('status', sa.Enum('not_provisioned', 'provisioning', 'failed', 'active', 'trial', 'expired', 'disconnected', name='status', native_enum=False, length=20), nullable=False),
    sa.Column('cri', sa.Integer(), nullable=True),
    sa.Column('exposure', sa.Enum('low', 'medium', 'high', name='level', native_enum=False, length=20), nullable=True),
    sa.Column('security_configuration', sa.Enum('low', 'medium', 'high', name='level', native_enum=False, length=20), nullable=True),
    sa.Column('expiration_date', sa.Date(), nullable=True),
    sa.Column('sign_in_account', sa.String(length=320), nullable=True),
    sa.Column('origin', sa.Enum('manual', 'imported', name='origin', native_enum=False, length=20), nullable=False),
    sa.Column('data_center', sa.Enum('us', 'eu', 'sg', 'jp', 'au', 'in', 'mea', 'uk', 'ca', 'za', 'usgov', name='datacenter', native_enum=False, length=20), nullable=True),
    sa.Column('license_start_date', sa.Date(), nullable=True),
    sa.Column('trial_start_date', sa.Date(), nullable=True),
    sa.Column('trial_extensions', sa.Integer(), nullable=False),
    sa.Column('is_nfr', sa.Boolean(), nullable=False),
    sa.Column('primary_user_account', sa.String(length=320), nullable=True),
    sa.Column('auditor_account', sa.String(length=320), nullable=True),
    sa.Column('v1_connected', sa.Boolean(), nullable=False),
    sa.Column('v1_company_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('cri IS NULL OR (cri >= 0 AND cri <= 100)', name=op.f('ck_customer_cri_range')),
    sa.CheckConstraint('trial_extensions >= 0', name=op.f('ck_customer_trial_extensions_nonneg')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer')),
    sa.UniqueConstraint('company_key', name=op.f('uq_customer_company_key'))
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index('ix_customer_cri', ['cri'], unique=False)
        batch_op.create_index('ix_customer_expiration_date', ['expiration_date'], unique=False)
        batch_op.create_index('uq_customer_one_nfr', ['is_nfr'], unique=True, sqlite_where=sa.text('is_nfr'), postgresql_where=sa.text('is_nfr'))

    op.create_table('risk_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cri', sa.Integer(), nullable=True),
    sa.Column('exposure', sa.Enum('low', 'medium', 'high', name='level', native_enum=False, length=20), nullable=True),
    sa.Column('security_configuration', sa.Enum('low', 'medium', 'high', name='level', native_enum=False, length=20), nullable=True),
    sa.Column('source', sa.Enum('import', 'manual', 'vision_one', name='snapshotsource', native_enum=False, length=20), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_risk_snapshot_customer_id_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_snapshot'))
    )
    with op.batch_alter_table('risk_snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_risk_snapshot_customer_taken', ['customer_id', 'taken_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('risk_snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_snapshot_customer_taken')

    op.drop_table('risk_snapshot')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('uq_customer_one_nfr', sqlite_where=sa.text('is_nfr'), postgresql_where=sa.text('is_nfr'))
        batch_op.drop_index('ix_customer_expiration_date')
        batch_op.drop_index('ix_customer_cri')

    op.drop_table('customer')
    op.drop_table('access_grant')

