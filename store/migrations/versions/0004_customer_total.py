"""customer total kept by triggers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# On SQLite, a later migration that rebuilds the customer table (batch "move and copy")
# drops these triggers: such a migration must create them again (tests check the total).
# PostgreSQL: statement-level triggers with transition tables, so a 10,000-row import
# updates the total once per statement, not once per row.
_PG_FUNCTIONS = {
    "insert": "UPDATE customer_total SET n = n + (SELECT count(*) FROM changed) WHERE id = 1",
    "delete": "UPDATE customer_total SET n = n - (SELECT count(*) FROM changed) WHERE id = 1",
    "truncate": "UPDATE customer_total SET n = 0 WHERE id = 1",
}


def upgrade() -> None:
    op.create_table(
        'customer_total',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_customer_total_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_total')),
    )
    op.execute("INSERT INTO customer_total (id, n) SELECT 1, count(*) FROM customer")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER customer_total_insert AFTER INSERT ON customer "
            "BEGIN UPDATE customer_total SET n = n + 1 WHERE id = 1; END"
        )
        op.execute(
            "CREATE TRIGGER customer_total_delete AFTER DELETE ON customer "
            "BEGIN UPDATE customer_total SET n = n - 1 WHERE id = 1; END"
        )
        return
    for verb, body in _PG_FUNCTIONS.items():
        op.execute(
            f"CREATE FUNCTION customer_total_{verb}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body}; RETURN NULL; END $$"
        )
    for verb, table in (("insert", "NEW"), ("delete", "OLD")):
        op.execute(
            f"CREATE TRIGGER customer_total_{verb} AFTER {verb.upper()} ON customer "
            f"REFERENCING {table} TABLE AS changed "
            f"FOR EACH STATEMENT EXECUTE FUNCTION customer_total_{verb}()"
        )
    op.execute(
        "CREATE TRIGGER customer_total_truncate AFTER TRUNCATE ON customer "
        "FOR EACH STATEMENT EXECUTE FUNCTION customer_total_truncate()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS customer_total_insert")
        op.execute("DROP TRIGGER IF EXISTS customer_total_delete")
    else:
        for verb in _PG_FUNCTIONS:
            op.execute(f"DROP TRIGGER IF EXISTS customer_total_{verb} ON customer")
            op.execute(f"DROP FUNCTION IF EXISTS customer_total_{verb}()")
    op.drop_table('customer_total')
