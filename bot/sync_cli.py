"""`overview-bot sync [--company X]`: pull risk figures from Vision One now, with progress."""

from __future__ import annotations

from typing import TextIO

from bot.settings import HINTS, Settings
from store.db import Database
from store.errors import OverviewError
from store.sync import Syncer


class _Meter:
    """On a terminal, one line rewritten in place; elsewhere a line every tenth or so."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.tty = err.isatty()
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            self.err.write(f"\rSyncing… {done:,}/{total:,}")
            if done == total:
                self.err.write("\n")
        elif done == total or done - self.shown >= max(1, total // 10):
            self.err.write(f"Syncing… {done:,}/{total:,}\n")
            self.shown = done
        self.err.flush()


async def run_sync(
    db: Database, settings: Settings, company: str | None, *, out: TextIO, err: TextIO
) -> int:
    """Exit code: 0 all synced, 1 some customer failed (after trying all), 2 cannot start."""
    vault = settings.vault
    if vault is None:
        print(f"BOT_SECRET_KEY: not set — {HINTS['BOT_SECRET_KEY']}.", file=err)
        return 2
    syncer = Syncer(
        db,
        vault,
        base_url=settings.vision_one_base_url,
        concurrency=settings.sync_concurrency,
        per_minute=settings.sync_requests_per_minute,
    )
    try:
        report = await syncer.run(company, progress=_Meter(err))
    except OverviewError as e:
        print(e.message.replace("“", "'").replace("”", "'"), file=err)
        return 2
    for name, why in sorted(report.failed):
        print(f"Failed: {name}: {why}", file=err)
    print(report.line(), file=out)
    return 1 if report.failed else 0
