"""A job's lease: one holder at a time across processes; a dead holder's lease runs out."""

from __future__ import annotations

import asyncio
import datetime as dt

from store.db import Database
from store.leases import claim, lease, release, renew

TTL = dt.timedelta(minutes=5)
T0 = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


async def test_one_holder_until_released_or_expired(db: Database) -> None:
    assert await claim(db, "sync", "a", TTL, lambda: at(0))
    assert not await claim(db, "sync", "b", TTL, lambda: at(1))
    assert await claim(db, "sync", "a", TTL, lambda: at(1))  # the holder may claim again
    assert await claim(db, "other", "b", TTL, lambda: at(1))  # jobs are separate
    assert await renew(db, "sync", "a", TTL, lambda: at(4))
    assert not await claim(db, "sync", "b", TTL, lambda: at(8))  # renewed until 9:09
    assert await claim(db, "sync", "b", TTL, lambda: at(10))  # a died: taken over
    assert not await renew(db, "sync", "a", TTL, lambda: at(10))  # and a knows it
    await release(db, "sync", "a")  # releasing what one no longer holds changes nothing
    assert not await claim(db, "sync", "c", TTL, lambda: at(11))
    await release(db, "sync", "b")
    assert await claim(db, "sync", "c", TTL, lambda: at(11))


async def test_concurrent_claims_have_one_winner(db: Database) -> None:
    results = await asyncio.gather(*(claim(db, "job", f"w{i}", TTL) for i in range(8)))
    assert sorted(results) == [False] * 7 + [True]


async def test_lease_block_holds_renews_and_gives_up(db: Database) -> None:
    ttl = dt.timedelta(seconds=0.3)
    async with lease(db, "job", ttl=ttl, holder="a") as held:
        assert held
        await asyncio.sleep(0.5)  # past the first ttl: only renewal keeps it
        async with lease(db, "job", ttl=ttl, holder="b") as other:
            assert not other
    async with lease(db, "job", ttl=ttl, holder="b") as held:
        assert held  # released at the end of a's block


async def test_a_gap_keeps_a_periodic_job_to_once_per_period(db: Database) -> None:
    gap = dt.timedelta(minutes=60)
    assert await claim(db, "sync", "a", TTL, lambda: at(0), gap=gap)  # never run: runs
    await release(db, "sync", "a")
    assert not await claim(db, "sync", "b", TTL, lambda: at(30), gap=gap)  # ran 30 min ago
    assert await claim(db, "sync", "b", TTL, lambda: at(30))  # asked for now: runs
    await release(db, "sync", "b")
    assert not await claim(db, "sync", "c", TTL, lambda: at(89), gap=gap)
    assert await claim(db, "sync", "c", TTL, lambda: at(90), gap=gap)
    assert not await claim(db, "sync", "d", TTL, lambda: at(92), gap=gap - gap)  # c holds it
