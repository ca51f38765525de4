"""Digest runs: claimed once per channel and local day, taken over when a worker died."""

from __future__ import annotations

import asyncio
import datetime as dt

from store.db import Database
from store.digests import DONE, Digests

DAY = dt.date(2026, 12, 4)
LEASE = dt.timedelta(minutes=5)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


async def test_concurrent_claims_give_one_run(db: Database) -> None:
    digests = Digests(db, Clock())
    runs = await asyncio.gather(*(digests.claim("C1", DAY, f"w{i}", LEASE) for i in range(8)))
    assert sum(r is not None for r in runs) == 1
    assert len(await digests.runs("C1")) == 1


async def test_finished_run_is_not_claimed_again_but_forced_is(db: Database) -> None:
    digests = Digests(db, Clock())
    run = await digests.claim("C1", DAY, "w1", LEASE)
    assert run is not None
    await digests.finish(run, "w1", summary={"bands": {}})
    assert await digests.claim("C1", DAY, "w2", LEASE) is None
    assert await digests.claim("C1", DAY, "w2", LEASE, forced=True) is not None
    assert await digests.claim("C1", DAY + dt.timedelta(days=1), "w2", LEASE) is not None
    assert next(r.status for r in await digests.runs("C1")) == DONE


async def test_a_dead_workers_run_is_resumed_after_its_lease(db: Database) -> None:
    clock = Clock()
    digests = Digests(db, clock)
    run = await digests.claim("C1", DAY, "dead", LEASE)
    assert run is not None
    assert await digests.progress(run, "dead", LEASE, 1, 3, "111.1")
    clock.now += dt.timedelta(minutes=2)
    assert await digests.claim("C1", DAY, "next", LEASE) is None  # lease still running
    clock.now += dt.timedelta(minutes=4)
    resumed = await digests.claim("C1", DAY, "next", LEASE)
    assert resumed is not None and resumed.id == run.id
    assert (resumed.parts_posted, resumed.thread_ts) == (1, "111.1")
    # The dead worker, should it wake up, can no longer write.
    assert not await digests.progress(run, "dead", LEASE, 2, 3, "111.1")
