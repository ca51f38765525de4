"""Digest subscriptions, and the runs that post each digest exactly once per local day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from store import audit
from store.actor import Actor
from store.db import Database
from store.enums import Action, Role
from store.errors import InvalidInput
from store.filters import parse_filter
from store.models import DigestRun, DigestSubscription, utcnow
from store.schedule import EVERY_DAY, Due, latest_due, parse_days, parse_time, parse_zone

DEFAULT_TIME = dt.time(9, 0)
POSTING, DONE, FAILED = "posting", "done", "failed"


@dataclass(frozen=True)
class SubscriptionSpec:
    at: dt.time
    tz: str
    days: str
    filters: str


def parse_subscription(text: str, default_tz: str) -> SubscriptionSpec:
    """`[HH:MM] [Area/City] [days] [filters]`, each optional, in that order."""
    words = text.split()
    at = DEFAULT_TIME
    if words and ":" in words[0] and words[0][0].isdigit():
        at = parse_time(words.pop(0))
    tz = default_tz
    if words and ("/" in words[0] or words[0].upper() == "UTC"):
        tz = parse_zone(words.pop(0)).key
    days = EVERY_DAY
    if words:
        parsed = parse_days(words[0])
        if parsed is not None:
            days = parsed
            words.pop(0)
    if not days:
        raise InvalidInput("Pick at least one day, like `weekdays` or `mon,wed,fri`.")
    filters = parse_filter(" ".join(words)).to_query()  # checks them now, not at 9 am
    return SubscriptionSpec(at, tz, days, filters)


def zone_or_utc(name: str | None) -> str:
    """A user's Slack time zone if it is one we know, else UTC."""
    try:
        return parse_zone(name).key if name else "UTC"
    except InvalidInput:
        return "UTC"


class Digests:
    def __init__(self, db: Database, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    def now(self) -> dt.datetime:
        return self.clock()

    async def subscribe(
        self, actor: Actor, channel_id: str, spec: SubscriptionSpec
    ) -> DigestSubscription:
        actor.require(Role.ADMIN)
        async with self.db.transaction() as s:
            sub = await s.get(DigestSubscription, channel_id)
            before = _sub_state(sub) if sub else None
            if sub is None:
                sub = DigestSubscription(channel_id=channel_id, created_at=self.now())
                s.add(sub)
            sub.at_time, sub.tz, sub.weekdays, sub.filters = (
                spec.at,
                spec.tz,
                spec.days,
                spec.filters,
            )
            sub.created_by = actor.user_id
            await s.flush()
            await audit.record(
                s,
                actor,
                Action.SUBSCRIBE_DIGEST,
                before=before,
                after=_sub_state(sub),
                detail=channel_id,
                at=self.now(),
            )
            return sub

    async def unsubscribe(self, actor: Actor, channel_id: str) -> bool:
        actor.require(Role.ADMIN)
        async with self.db.transaction() as s:
            sub = await s.get(DigestSubscription, channel_id)
            if sub is None:
                return False
            before = _sub_state(sub)
            await s.delete(sub)
            await audit.record(
                s,
                actor,
                Action.UNSUBSCRIBE_DIGEST,
                before=before,
                detail=channel_id,
                at=self.now(),
            )
            return True

    async def subscriptions(
        self, actor: Actor | None = None, channel_id: str | None = None
    ) -> Sequence[DigestSubscription]:
        if actor is not None:
            actor.require(Role.VIEWER)
        async with self.db.session() as s:
            q = select(DigestSubscription).order_by(DigestSubscription.channel_id)
            if channel_id is not None:
                q = q.where(DigestSubscription.channel_id == channel_id)
            return (await s.scalars(q)).all()

    @staticmethod
    def due(sub: DigestSubscription, now: dt.datetime) -> Due | None:
        return latest_due(sub.at_time, ZoneInfo(sub.tz), sub.weekdays, sub.created_at, now)

    # --- runs: claim, progress, finish -------------------------------------------------

    async def claim(
        self,
        channel_id: str,
        local_date: dt.date,
        worker: str,
        lease: dt.timedelta,
        *,
        forced: bool = False,
    ) -> DigestRun | None:
        """Take the right to post this channel's digest for this day; None if taken or done.

        The unique index on (channel, day) decides between processes; a run whose lease has
        run out (its process died mid-post) is taken over and resumed.
        """
        now = self.now()
        try:
            async with self.db.transaction() as s:
                existing = None
                if not forced:
                    existing = await s.scalar(
                        select(DigestRun).where(
                            DigestRun.channel_id == channel_id,
                            DigestRun.local_date == local_date,
                            DigestRun.forced.is_(False),
                        )
                    )
                if existing is None:
                    run = DigestRun(
                        channel_id=channel_id,
                        local_date=local_date,
                        forced=forced,
                        status=POSTING,
                        claimed_by=worker,
                        lease_until=now + lease,
                        started_at=now,
                        parts_total=0,
                        parts_posted=0,
                    )
                    s.add(run)
                    await s.flush()
                    return run
                if existing.status != POSTING or existing.lease_until > now:
                    return None
                taken = await s.execute(
                    update(DigestRun)
                    .where(
                        DigestRun.id == existing.id, DigestRun.lease_until == existing.lease_until
                    )
                    .values(
                        claimed_by=worker, lease_until=now + lease, attempts=DigestRun.attempts + 1
                    )
                    .execution_options(synchronize_session=False)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    return None
                await s.refresh(existing)
                return existing
        except IntegrityError:  # another process inserted the same (channel, day) first
            return None

    async def progress(
        self,
        run: DigestRun,
        worker: str,
        lease: dt.timedelta,
        posted: int,
        total: int,
        thread_ts: str | None,
    ) -> bool:
        """Record parts posted and renew the lease; False if another worker took the run."""
        async with self.db.transaction() as s:
            result = await s.execute(
                update(DigestRun)
                .where(DigestRun.id == run.id, DigestRun.claimed_by == worker)
                .values(
                    parts_posted=posted,
                    parts_total=total,
                    thread_ts=thread_ts,
                    lease_until=self.now() + lease,
                )
            )
            ok = bool(result.rowcount)  # type: ignore[attr-defined]
        run.parts_posted, run.parts_total, run.thread_ts = posted, total, thread_ts
        return ok

    async def finish(
        self,
        run: DigestRun,
        worker: str,
        *,
        error: str | None = None,
        summary: dict[str, object] | None = None,
    ) -> None:
        async with self.db.transaction() as s:
            await s.execute(
                update(DigestRun)
                .where(DigestRun.id == run.id, DigestRun.claimed_by == worker)
                .values(
                    status=FAILED if error else DONE,
                    error=error[:500] if error else None,
                    finished_at=self.now(),
                    summary=summary,
                )
            )

    async def postpone(
        self, run: DigestRun, worker: str, error: str, retry_at: dt.datetime
    ) -> None:
        """A transient failure: leave the run open, to be claimed again from `retry_at`.

        It stays `posting` with a lease that ends at `retry_at`; whoever claims it then
        resumes after the parts already posted.
        """
        async with self.db.transaction() as s:
            await s.execute(
                update(DigestRun)
                .where(DigestRun.id == run.id, DigestRun.claimed_by == worker)
                .values(error=error[:500], lease_until=retry_at)
            )

    async def settled(self, since: dt.date) -> dict[str, set[dt.date]]:
        """Per channel, the local days (from `since`) whose run is not claimable now.

        Done, failed for good, or held by a live lease: the scheduler's check skips these
        with one read instead of a write transaction per subscription.
        """
        now = self.now()
        async with self.db.session() as s:
            rows = await s.execute(
                select(DigestRun.channel_id, DigestRun.local_date).where(
                    DigestRun.local_date >= since,
                    DigestRun.forced.is_(False),
                    or_(DigestRun.status != POSTING, DigestRun.lease_until > now),
                )
            )
            found: dict[str, set[dt.date]] = {}
            for channel, day in rows:
                found.setdefault(channel, set()).add(day)
            return found

    async def previous(self, channel_id: str, before: DigestRun | None) -> DigestRun | None:
        """The last digest this channel received, to report what changed since."""
        async with self.db.session() as s:
            q = select(DigestRun).where(
                DigestRun.channel_id == channel_id, DigestRun.status == DONE
            )
            if before is not None:
                q = q.where(DigestRun.id != before.id)
            return await s.scalar(q.order_by(DigestRun.started_at.desc()).limit(1))

    async def runs(self, channel_id: str | None = None) -> Sequence[DigestRun]:
        async with self.db.session() as s:
            q = select(DigestRun).order_by(DigestRun.id)
            if channel_id is not None:
                q = q.where(DigestRun.channel_id == channel_id)
            return (await s.scalars(q)).all()


def _sub_state(sub: DigestSubscription) -> dict[str, object]:
    return {
        "channel": sub.channel_id,
        "time": sub.at_time.strftime("%H:%M"),
        "tz": sub.tz,
        "days": sub.weekdays,
        "filters": sub.filters,
    }
