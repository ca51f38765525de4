"""The LMP sync holds the "lmp-sync" lease: two bot processes (or a bot and the CLI) on one
database never sync at the same time."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from blocks.message import Message
from bot.lmp import BUSY, LEASE, sync_job
from store.db import Database
from store.enums import Action
from store.leases import claim, release
from store.lmp import LmpClient
from store.migrate import upgrade
from store.models import AuditEntry, Customer
from tests.bot.test_lmp_cli import run
from tests.factories import add, customer
from tests.lmp_standin import SECRET_KEY, TOKEN, LmpStandIn


async def test_two_concurrent_runs_sync_once(db: Database, lmp: LmpStandIn) -> None:
    lmp.add_customers(150)
    lmp.list_delay = 0.3  # each page takes a while: the runs would overlap
    await add(db, customer("Gone Co", lmp_customer_id="cid-gone"))
    told: list[Message] = []

    async def tell(m: Message) -> None:
        told.append(m)

    clients = [LmpClient(lmp.url, TOKEN, SECRET_KEY) for _ in range(2)]  # two processes
    try:
        reports = await asyncio.gather(*(sync_job(db, c, tell) for c in clients))
    finally:
        for c in clients:
            await c.close()
    done = [r for r in reports if r is not None]
    assert len(done) == 1 and len(done[0].created) == 150 and done[0].missing == ["Gone Co"]
    assert len(lmp.calls("GET", "/LMPI/v3/customers?")) == 2  # one run's two pages
    assert len(told) == 1  # the missing customer is reported once
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Customer)) == 151
        adds = select(func.count()).where(AuditEntry.action == Action.ADD)
        assert await s.scalar(adds) == 150

    # The lease was given up: the next round runs.
    client = LmpClient(lmp.url, TOKEN, SECRET_KEY)
    try:
        assert await sync_job(db, client) is not None
    finally:
        await client.close()


async def test_cli_does_nothing_while_another_sync_runs(
    db_url: str, lmp: LmpStandIn, tmp_path: Path
) -> None:
    lmp.add_customers(2)
    db = Database(db_url)
    try:
        await upgrade(db)
        assert await claim(db, LEASE, "bot-elsewhere", dt.timedelta(minutes=5))
        env = {
            "DATABASE_URL": db_url,
            "LMPI_URL": lmp.url,
            "LMPI_ACCESS_TOKEN": TOKEN,
            "LMPI_SECRET_KEY": SECRET_KEY,
        }
        code, out, err = await run("lmp", "sync", env=env, cwd=tmp_path)
        assert (code, out) == (3, "") and err.strip().endswith(BUSY)
        assert lmp.seen == []
        async with db.session() as s:
            assert await s.scalar(select(func.count()).select_from(Customer)) == 0
        await release(db, LEASE, "bot-elsewhere")
        code, out, err = await run("lmp", "sync", env=env, cwd=tmp_path)
        assert code == 0 and out.startswith("2 listed by LMP, 2 added"), err
    finally:
        await db.close()
