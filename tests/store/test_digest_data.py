"""What a digest reports, from the store: movers follow the digest's filters."""

from __future__ import annotations

import datetime as dt

from store.db import Database
from store.digest_data import digest_data
from store.enums import SnapshotSource
from store.filters import parse_filter
from store.models import RiskSnapshot
from tests.factories import add, customer

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(days=1)


async def test_movers_are_those_the_filters_keep(db: Database) -> None:
    ids = await add(db, customer("Rising Alpha", cri=80), customer("Rising Beta", cri=60))
    async with db.transaction() as s:
        for cid in ids:
            for when, cri in (
                (SINCE - dt.timedelta(hours=5), 10),
                (NOW - dt.timedelta(hours=1), 0),
            ):
                s.add(
                    RiskSnapshot(
                        customer_id=cid, taken_at=when, cri=cri, source=SnapshotSource.IMPORT
                    )
                )

    async def movers(query: str) -> list[tuple[str, int, int]]:
        async with db.session() as s:
            data = await digest_data(
                s, parse_filter(query), NOW.date(), since=SINCE, previous_bands=None, now=NOW
            )
        return [(m.company, m.before, m.after) for m in data.movers]

    assert await movers("") == [("Rising Alpha", 10, 80), ("Rising Beta", 10, 60)]
    assert await movers("beta") == [("Rising Beta", 10, 60)]
    assert await movers("risk:low") == []
