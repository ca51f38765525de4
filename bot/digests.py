"""Posting due digests: each channel once per local day, all parts, within Slack's limits."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable, Set
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from blocks.digest import digest_messages
from blocks.message import Message
from store.db import Database
from store.digest_data import bands_from, digest_data
from store.digests import Digests
from store.filters import parse_filter
from store.models import DigestRun, DigestSubscription

log = logging.getLogger("overview.digests")
LEASE = dt.timedelta(minutes=5)
PER_CHANNEL_SPACING = 1.1  # seconds between messages in one channel (Slack: about 1 a second)
CHANNELS_AT_ONCE = 20
# A digest that failed for a passing reason is tried again this many times in all, after
# RETRY_FIRST, then twice as long each time (2, 4, 8 minutes).
MAX_ATTEMPTS = 4
RETRY_FIRST = dt.timedelta(minutes=2)
# Slack errors that say "not now" rather than "never": worth another try later.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def transient(error: BaseException) -> str | None:
    """What went wrong, if trying again later may well work; None if it will not."""
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error", "slack_error"))
        status = error.response.status_code
        return code if code in TRANSIENT_ERRORS or status >= 500 or status == 429 else None
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | ConnectionError):
        return type(error).__name__
    return None


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def digest_client(token: str | None, base_url: str) -> AsyncWebClient:
    """A client that waits out 429s as long as Slack asks, so every part arrives."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=20),
            AsyncServerErrorRetryHandler(max_retry_count=3),
            AsyncConnectionErrorRetryHandler(max_retry_count=3),
        ],
    )


@dataclass
class Report:
    posted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: int = 0

    def line(self) -> str:
        text = f"{len(self.posted)} digests posted, {self.skipped} not due or already posted"
        if self.failed:
            text += f", {len(self.failed)} failed: " + ", ".join(
                f"{c} ({e})" for c, e in sorted(self.failed.items())
            )
        return text


class DigestPoster:
    def __init__(
        self,
        db: Database,
        digests: Digests,
        client: AsyncWebClient,
        *,
        worker: str | None = None,
        spacing: float = PER_CHANNEL_SPACING,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.db, self.digests, self.client = db, digests, client
        self.worker = worker or worker_id()
        self.spacing, self.lease = spacing, lease

    async def build(
        self, sub: DigestSubscription | None, filters: str, tz: str, run: DigestRun | None = None
    ) -> tuple[list[Message], dict[str, object]]:
        now = self.digests.now()
        previous = await self.digests.previous(sub.channel_id, run) if sub else None
        async with self.db.session() as s:
            data = await digest_data(
                s,
                parse_filter(filters),
                now.astimezone(ZoneInfo(tz)).date(),
                since=previous.started_at if previous else None,
                previous_bands=bands_from(previous.summary) if previous else None,
                now=now,
            )
        return digest_messages(data), data.summary()

    async def run(
        self,
        *,
        channel: str | None = None,
        force: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> Report:
        """Post every digest that is due now (with `force`: today's, even if posted)."""
        report = Report()
        subs = await self.digests.subscriptions(channel_id=channel)
        gate = asyncio.Semaphore(CHANNELS_AT_ONCE)
        # One read finds the days already settled, so the check every 30 s opens no write
        # transaction for them (the local day is at most a day behind UTC's).
        settled = await self.digests.settled(self.digests.now().date() - dt.timedelta(days=2))

        async def one(sub: DigestSubscription) -> None:
            async with gate:
                outcome = await self._one(sub, force, settled.get(sub.channel_id, set()))
            if outcome is None:
                report.skipped += 1
                return
            if outcome == "":
                report.posted.append(sub.channel_id)
            else:
                report.failed[sub.channel_id] = outcome
            if progress:
                progress(f"{sub.channel_id}: {outcome or 'posted'}")

        await asyncio.gather(*(one(sub) for sub in subs))
        if report.failed:
            log.warning("digests: %s", report.line())
        return report

    async def _one(
        self, sub: DigestSubscription, force: bool, settled: Set[dt.date] = frozenset()
    ) -> str | None:
        """None: nothing to do; "": posted; otherwise what went wrong."""
        now = self.digests.now()
        if force:
            local_date = now.astimezone(ZoneInfo(sub.tz)).date()
        else:
            due = self.digests.due(sub, now)
            if due is None or due.local_date in settled:
                return None
            local_date = due.local_date
        run = await self.digests.claim(
            sub.channel_id, local_date, self.worker, self.lease, forced=force
        )
        if run is None:
            return None
        try:
            parts, summary = await self.build(sub, sub.filters, sub.tz, run)
            await self._post(sub.channel_id, run, parts)
        except LostLease:
            return None
        except Exception as e:
            passing = transient(e)
            if passing is not None and not force and run.attempts < MAX_ATTEMPTS:
                retry_at = self.digests.now() + RETRY_FIRST * 2 ** (run.attempts - 1)
                await self.digests.postpone(run, self.worker, passing, retry_at)
                log.warning("digest for %s: %s; retrying at %s", sub.channel_id, passing, retry_at)
                return f"{passing}, will retry at {retry_at:%H:%M} UTC"
            if isinstance(e, SlackApiError):
                error = str(e.response.get("error", "slack_error"))
            else:
                error = passing or type(e).__name__
                if passing is None:
                    log.exception("digest for %s failed", sub.channel_id)
            await self.digests.finish(run, self.worker, error=error)
            return error
        await self.digests.finish(run, self.worker, summary=summary)
        return ""

    async def _post(self, channel: str, run: DigestRun, parts: list[Message]) -> None:
        """Post the parts not yet posted (a resumed run skips those already out)."""
        thread_ts = run.thread_ts
        start = run.parts_posted
        for i in range(start, len(parts)):
            if i > start:  # one channel takes about a message a second
                await asyncio.sleep(self.spacing)
            posted = await self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts if i > 0 else None, **parts[i].payload()
            )
            if i == 0:
                thread_ts = str(posted["ts"])
            if not await self.digests.progress(
                run, self.worker, self.lease, i + 1, len(parts), thread_ts
            ):
                raise LostLease


class LostLease(Exception):
    """Another process took this run over (ours stalled past its lease): stop posting."""
