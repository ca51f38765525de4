"""Composition of the LMP pieces: which platform the bot uses, and the periodic sync."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from blocks.lmp import missing_notice
from blocks.message import Message
from bot.settings import Settings, SettingsError
from store.db import Database
from store.leases import lease
from store.lmp import LmpClient, LmpError
from store.lmp_platform import LmpPlatform
from store.lmp_sync import SyncReport, sync_customers
from store.platform import LocalLedger, Platform

log = logging.getLogger("overview.lmp")
LEASE = "lmp-sync"  # one sync at a time across every process on the database
BUSY = (
    "Another LMP sync is running right now (a bot process or another command); "
    "nothing was done. Try again when it has finished."
)


def lmp_client(settings: Settings) -> LmpClient | None:
    """The LMP client when LMPI_ACCESS_TOKEN and LMPI_SECRET_KEY are set, else None."""
    token, key = settings.lmpi_access_token, settings.lmpi_secret_key
    if not token and not key:
        return None
    settings.require("LMPI_ACCESS_TOKEN", "LMPI_SECRET_KEY")  # one without the other
    assert token is not None and key is not None
    return LmpClient(settings.lmpi_url, token, key.get_secret_value())


def make_platform(client: LmpClient | None) -> Platform:
    return LmpPlatform(client) if client is not None else LocalLedger()


async def sync_job(
    db: Database, client: LmpClient, tell: Callable[[Message], Awaitable[object]] | None = None
) -> SyncReport | None:
    """One periodic sync: its report goes to the log, and customers LMP no longer lists
    also to `tell` (the approvals channel), once, when they are first missed. None when
    another process (a second bot, or `overview-bot lmp sync`) is syncing: this round is
    skipped, so runs never overlap nor report a missing customer twice."""
    async with lease(db, LEASE) as held:
        if not held:
            log.info("LMP sync skipped: another process is running it")
            return None
        report = await sync_customers(db, client)
    log.info("LMP sync: %s", report.line())
    for company in report.missing:
        log.warning("LMP no longer lists %s; it was kept and marked", company)
    if report.missing and tell is not None:
        await tell(missing_notice(report.missing))
    return report


async def run_sync(
    db: Database, settings: Settings, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """`overview-bot lmp sync`: 0 when done, 1 when LMP failed (nothing written), 2 unset,
    3 when another process is syncing right now (nothing done)."""
    client = lmp_client(settings)
    if client is None:
        settings.require("LMPI_ACCESS_TOKEN", "LMPI_SECRET_KEY")
    assert client is not None
    try:
        async with lease(db, LEASE) as held:
            if not held:
                print(BUSY, file=err)
                return 3
            report = await sync_customers(db, client)
    except LmpError as e:
        print(f"LMP sync failed, nothing was changed: {e.message}", file=err)
        return 1
    finally:
        await client.close()
    print(report.line(), file=out)
    for company in report.created:
        print(f"added\t{company}", file=out)
    for company in report.updated:
        print(f"updated\t{company}", file=out)
    for company in report.missing:
        print(f"no longer listed by LMP (kept, marked)\t{company}", file=out)
    for reason in report.skipped:
        print(f"skipped\t{reason}", file=out)
    return 0


__all__ = ["SettingsError", "lmp_client", "make_platform", "run_sync", "sync_job"]
