"""Lookups that must be able to use their index on both databases."""

from __future__ import annotations

from sqlalchemy import select, text

from store.db import Database
from store.models import HOLDS_NFR, Customer


async def test_the_nfr_holder_is_found_through_its_partial_index(db: Database) -> None:
    query = select(Customer.company).where(HOLDS_NFR)
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    async with db.engine.connect() as conn:
        if db.is_sqlite:
            plan = (await conn.execute(text("EXPLAIN QUERY PLAN " + sql))).all()
        else:  # can it be used at all (on an empty table a scan is cheaper)
            await conn.execute(text("SET enable_seqscan = off"))
            plan = (await conn.execute(text("EXPLAIN " + sql))).all()
    assert "uq_customer_one_nfr" in " ".join(str(row[-1]) for row in plan)
