from __future__ import annotations

from sqlalchemy import inspect

from store.db import Database
from store.migrate import current_revision, head_revision, upgrade


async def test_upgrade_creates_schema_and_is_idempotent(db: Database) -> None:
    assert await current_revision(db) == head_revision()
    await upgrade(db)  # a second run changes nothing
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"customer", "risk_snapshot", "access_grant", "alembic_version"} <= tables
