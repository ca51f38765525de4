"""One runner at a time for a periodic job, across every process on one database.

`async with lease(db, "vision-one-sync", minutes=10) as held:` — `held` is False when
another process holds the job (skip this round); while held, the lease is renewed in the
background, and it is given up when the block ends. A holder that died stops renewing, and
its lease runs out and is taken over.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from store.db import Database
from store.models import JobLease, utcnow

log = logging.getLogger("overview.leases")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def holder_id() -> str:
    """This process, recognisably: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def claim(
    db: Database,
    name: str,
    holder: str,
    ttl: dt.timedelta,
    now: Callable[[], dt.datetime] = utcnow,
    *,
    gap: dt.timedelta | None = None,
) -> bool:
    """Take (or keep) the job's lease for `ttl`; False while someone else holds it, or
    (with `gap`) when it was last claimed less than `gap` ago: a periodic job run by
    several processes then runs once per period, not once per process."""
    at = now()
    free = or_(JobLease.lease_until < at, JobLease.holder == holder)
    if gap is not None:
        free = free & (JobLease.claimed_at <= at - gap)
    async with db.transaction() as s:
        taken = await s.execute(
            update(JobLease)
            .where(JobLease.name == name, free)
            .values(holder=holder, lease_until=at + ttl, claimed_at=at)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
    try:
        async with db.transaction() as s:
            s.add(JobLease(name=name, holder=holder, lease_until=at + ttl, claimed_at=at))
    except IntegrityError:  # the row exists and is held by another process
        return False
    return True


async def renew(
    db: Database,
    name: str,
    holder: str,
    ttl: dt.timedelta,
    now: Callable[[], dt.datetime] = utcnow,
) -> bool:
    """Extend a lease this holder still has; False if it was lost (taken over)."""
    async with db.transaction() as s:
        done = await s.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(lease_until=now() + ttl)
        )
        return done.rowcount == 1  # type: ignore[attr-defined]


async def holder_of(db: Database, name: str) -> JobLease | None:
    """The job's lease row (who holds or last held it, and since when), if any."""
    async with db.session() as s:
        return await s.get(JobLease, name)


async def release(db: Database, name: str, holder: str) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(lease_until=_EPOCH)
        )


@contextlib.asynccontextmanager
async def lease(
    db: Database,
    name: str,
    *,
    ttl: dt.timedelta = dt.timedelta(minutes=5),
    holder: str | None = None,
    gap: dt.timedelta | None = None,
) -> AsyncIterator[bool]:
    """Hold `name` for the block (renewed every ttl/3); yields False if someone else has it
    (or, with `gap`, had it less than `gap` ago)."""
    who = holder or holder_id()
    if not await claim(db, name, who, ttl, gap=gap):
        yield False
        return

    async def keep() -> None:
        while True:
            await asyncio.sleep(ttl.total_seconds() / 3)
            try:
                if not await renew(db, name, who, ttl):
                    log.warning("lease %s was taken over from %s", name, who)
                    return
            except Exception:  # a database hiccup: try again next time round
                log.exception("could not renew lease %s", name)

    keeper = asyncio.create_task(keep())
    try:
        yield True
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        with contextlib.suppress(Exception):  # unreleased, it simply runs out
            await release(db, name, who)
