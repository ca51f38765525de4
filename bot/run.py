"""Start-up and shutdown for both entry points: HTTP (`serve`) and Socket Mode (`socket`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal

from aiohttp import web
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from blocks.message import Message
from bot.app import create_app
from bot.digests import DigestPoster, digest_client
from bot.lmp import lmp_client, make_platform, sync_job
from bot.scheduler import Scheduler
from bot.server import build_web_app
from bot.settings import Settings
from handlers.actions import expire_requests
from handlers.deps import Deps
from store.actions import Operations
from store.db import Database
from store.digests import Digests
from store.migrate import upgrade
from store.stale import settle_stale
from store.sync import Syncer, SyncSkipped

log = logging.getLogger("overview")
APPROVAL_SWEEP_SECONDS = 60
STALE_CHECK_SECONDS = 300  # customers left Provisioning by a stopped bot (store/stale.py)
DIGEST_CHECK_SECONDS = (
    30  # digests are due on the minute; a check twice a minute keeps them on time
)


class StartupError(Exception):
    """A problem the operator must fix before the bot can run; the text says how."""


async def prepare(settings: Settings) -> tuple[Database, Deps, AsyncApp]:
    client = lmp_client(settings)  # a missing half of the LMP credentials stops here
    db = Database(settings.database_url)
    try:
        await upgrade(db)
    except Exception as e:
        await db.close()
        raise StartupError(f"DATABASE_URL: cannot open or migrate the database: {e}") from None
    ops = Operations(
        db,
        make_platform(client),
        settings.partner_type,
        approval_ttl=dt.timedelta(hours=settings.approval_ttl_hours),
        vault=settings.vault,
    )
    deps = Deps(
        db=db,
        policy=settings.access_policy,
        ops=ops,
        digests=Digests(db),
        approvals_channel=settings.approvals_channel,
        lmp=client,
        syncer=make_syncer(db, settings),
    )
    log.info("partner platform: %s", ops.platform.name)
    app = create_app(settings, deps)
    try:
        auth = await app.client.auth_test()
    except SlackApiError as e:
        await db.close()
        raise StartupError(
            f"SLACK_BOT_TOKEN was refused by Slack ({e.response.get('error')}): "
            "copy the Bot User OAuth Token again after installing the app."
        ) from None
    except Exception as e:
        await db.close()
        raise StartupError(f"cannot reach Slack at {settings.slack_api_url}: {e}") from None
    log.info("connected to workspace %s as %s", auth.get("team"), auth.get("user"))
    return db, deps, app


def make_syncer(db: Database, settings: Settings) -> Syncer | None:
    vault = settings.vault
    if vault is None:
        return None
    return Syncer(
        db,
        vault,
        base_url=settings.vision_one_base_url,
        concurrency=settings.sync_concurrency,
        per_minute=settings.sync_requests_per_minute,
    )


async def _sync(syncer: Syncer, period: dt.timedelta) -> None:
    try:
        # Another process (or `overview-bot sync`) that synced within most of the period
        # did this round's work: the index only refreshes every 4 hours.
        report = await syncer.run(gap=period * 0.9)
    except SyncSkipped as e:
        log.info("vision one sync skipped: %s", e.message)
        return
    if report.total:
        log.info("vision one sync: %s", report.line())


def start_jobs(deps: Deps, app: AsyncApp, settings: Settings) -> Scheduler:
    jobs = Scheduler()
    jobs.start(APPROVAL_SWEEP_SECONDS, "approval expiry", lambda: expire_requests(deps, app.client))
    poster = DigestPoster(
        deps.db, deps.digests, digest_client(settings.slack_bot_token, settings.slack_api_url)
    )
    jobs.start(DIGEST_CHECK_SECONDS, "digests", poster.run)
    jobs.start(STALE_CHECK_SECONDS, "stuck provisioning", lambda: settle_stale(deps.ops))
    client = deps.lmp
    if client is not None:
        channel = deps.approvals_channel

        async def tell(message: Message) -> None:
            if channel is not None:
                await app.client.chat_postMessage(channel=channel, **message.payload())

        minutes = settings.lmp_sync_interval_minutes
        jobs.start(minutes * 60, "LMP customer sync", lambda: sync_job(deps.db, client, tell))
    syncer = deps.syncer
    if syncer is not None and settings.sync_interval_minutes > 0:
        period = dt.timedelta(minutes=settings.sync_interval_minutes)
        jobs.start(period.total_seconds(), "vision one sync", lambda: _sync(syncer, period))
    elif syncer is None:
        log.info("Vision One sync is off: BOT_SECRET_KEY is not set")
    return jobs


def stop_on_signal() -> asyncio.Event:
    """An event set by Ctrl-C or SIGTERM; install it before saying "ready"."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _wait_for_signal() -> None:
    await stop_on_signal().wait()


async def serve(settings: Settings) -> None:
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    db, deps, app = await prepare(settings)
    assert settings.slack_signing_secret is not None
    runner = web.AppRunner(build_web_app(app, db, settings.slack_signing_secret))
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        await db.close()
        raise StartupError(
            f"HOST/PORT: cannot listen on {settings.host}:{settings.port}: {e}"
        ) from None
    log.info("listening on http://%s:%s/slack/events", settings.host, settings.port)
    jobs = start_jobs(deps, app, settings)
    try:
        await _wait_for_signal()
    finally:
        await jobs.stop()
        await runner.cleanup()
        await deps.drain()
        await deps.close()
        await db.close()


async def socket(settings: Settings) -> None:
    settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    db, deps, app = await prepare(settings)
    handler = AsyncSocketModeHandler(app, settings.slack_app_token)
    await handler.connect_async()
    log.info("connected in Socket Mode")
    jobs = start_jobs(deps, app, settings)
    try:
        await _wait_for_signal()
    finally:
        await jobs.stop()
        await handler.close_async()
        await deps.drain()
        await deps.close()
        await db.close()
