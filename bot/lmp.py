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
from store.lmp import LmpClient, LmpError
from store.lmp_platform import LmpPlatform
from store.lmp_sync import SyncReport, sync_customers
from store.platform import LocalLedger, Platform

log = logging.getLogger("overview.lmp")


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
) -> SyncReport:
    """One periodic sync: its report goes to the log, and customers LMP no longer lists
    also to `tell` (the approvals channel), once, when they are first missed."""
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
    """`overview-bot lmp sync`: 0 when done, 1 when LMP failed (nothing written), 2 unset."""
    client = lmp_client(settings)
    if client is None:
        settings.require("LMPI_ACCESS_TOKEN", "LMPI_SECRET_KEY")
    assert client is not None
    try:
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
