"""Issue 5's throughput bar in the suite: 1,000 connected customers synced well under a
minute against the API stand-in, with the default configuration (pool and overall cap)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bench.sync_scale import seed
from bot.run import make_syncer
from bot.settings import load_settings
from store.db import Database
from store.models import RiskSnapshot
from store.secrets import new_key
from tests.visionone_standin import Answer, VisionOneStandIn


async def test_a_thousand_customers_sync_well_under_a_minute(db: Database, db_url: str) -> None:
    api = VisionOneStandIn(default=lambda token: Answer.ok(delay=0.02))
    await api.start()
    try:
        key = new_key()
        settings = load_settings(
            bot_secret_key=key, vision_one_base_url=api.url, database_url=db_url, _env_file=None
        )
        assert settings.vault is not None
        await seed(db, 1000, settings.vault)
        syncer = make_syncer(db, settings)
        assert syncer is not None
        started = time.monotonic()
        report = await syncer.run()
        took = time.monotonic() - started
    finally:
        await api.stop()
    assert (report.total, report.ok, report.failed) == (1000, 1000, [])
    assert len(api.requests) == 1000 and api.max_in_flight <= settings.sync_concurrency
    # The default cap (6,000 a minute) sets the pace: about 10 s, never faster.
    assert 9.5 <= took < 30, took
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(RiskSnapshot)) == 1000
