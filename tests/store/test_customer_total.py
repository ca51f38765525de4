"""The trigger-kept customer total agrees with count(*) whatever writes the table."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select

from store.db import Database
from store.models import Customer, CustomerTotal
from tests.factories import add_many, customer


async def _both(db: Database) -> tuple[int, int]:
    async with db.session() as s:
        total = await s.scalar(select(CustomerTotal.n))
        count = await s.scalar(select(func.count()).select_from(Customer))
    assert total is not None and count is not None
    return total, count


async def test_total_follows_inserts_deletes_and_rollbacks(db: Database) -> None:
    assert await _both(db) == (0, 0)
    await add_many(db, 25)
    assert await _both(db) == (25, 25)
    async with db.transaction() as s:
        await s.execute(delete(Customer).where(Customer.company.like("Company 0000%")))
    assert await _both(db) == (16, 16)
    try:
        async with db.transaction() as s:
            s.add(customer("Rolled back"))
            await s.flush()
            raise RuntimeError("abandon")
    except RuntimeError:
        pass
    assert await _both(db) == (16, 16)
    table = Customer.__table__
    copied = [c for c in table.c if c.key != "id"]
    renamed = {"company": table.c.company + " copy", "company_key": table.c.company_key + " copy"}
    async with db.transaction() as s:  # one INSERT … SELECT of many rows counts every row
        await s.execute(
            insert(table).from_select(
                [c.key for c in copied], select(*(renamed.get(c.key, c) for c in copied))
            )
        )
    assert await _both(db) == (32, 32)
