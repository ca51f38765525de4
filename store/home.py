"""What a person's App Home tab shows: read in one session, only for those with access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.access import AccessPolicy, Actor, Who, resolve_actor
from store.customers import CustomerRow, conditions, riskiest
from store.db import Database
from store.digest_data import Dated, Listing
from store.enums import ApprovalStatus, ConnectionState, Status
from store.filters import CustomerFilter
from store.models import Approval, Customer, DigestSubscription, VisionOneConnection

TRIAL_DAYS = 14  # trials shown when they end within this many days
RISKIEST = 5
# Caps keep the tab within 100 blocks and each section within 3,000 characters, however
# many rows there are: a request with buttons takes two blocks, a listed line none.
MAX_PENDING = 10
MAX_TRIALS = 15
MAX_DIGESTS = 15
MAX_NEEDS_TOKEN = 15


@dataclass(frozen=True)
class PendingRequest:
    """A disconnect waiting for a second person: what the list shows of it."""

    id: int
    company: str
    requested_by: str
    requested_at: dt.datetime


@dataclass(frozen=True)
class RefusedToken:
    """A Vision One connection whose API token was refused: someone must enter a new one."""

    company: str
    since: dt.datetime | None  # the sync that was refused


@dataclass(frozen=True)
class HomeData:
    """What the tab shows, read in one go by read_home."""

    now: dt.datetime
    pending: Sequence[PendingRequest] = ()
    pending_total: int = 0
    trials: Listing = field(default_factory=lambda: Listing((), 0))
    riskiest: Sequence[CustomerRow] = ()
    digests: Sequence[DigestSubscription] = ()
    digests_total: int = 0
    needs_token: Sequence[RefusedToken] = ()
    needs_token_total: int = 0


TRIALS_ENDING = CustomerFilter(statuses=frozenset({Status.TRIAL}), expiring_days=TRIAL_DAYS)


async def _count_if_full(s: AsyncSession, shown: int, limit: int, query: Any) -> int:
    # Fewer rows than the limit is already the total: the count query is only for long lists.
    return shown if shown < limit else (await s.scalar(query) or shown)


async def _pending(s: AsyncSession, now: dt.datetime) -> tuple[list[PendingRequest], int]:
    # Past expires_at a request can only expire (the sweep marks it within a minute).
    open_ = (Approval.status == ApprovalStatus.PENDING, Approval.expires_at > now)
    rows = (
        await s.execute(
            select(Approval.id, Customer.company, Approval.requested_by, Approval.requested_at)
            .join(Customer, Customer.id == Approval.customer_id)
            .where(*open_)
            .order_by(Approval.requested_at, Approval.id)
            .limit(MAX_PENDING)
        )
    ).all()
    pending = [PendingRequest(r.id, r.company, r.requested_by, r.requested_at) for r in rows]
    count = select(func.count()).select_from(Approval).where(*open_)
    return pending, await _count_if_full(s, len(pending), MAX_PENDING, count)


async def _trials(s: AsyncSession, today: dt.date) -> Listing:
    where = conditions(TRIALS_ENDING, today)
    rows = (
        await s.execute(
            select(Customer.company, Customer.expiration_date)
            .where(*where)
            .order_by(Customer.expiration_date, Customer.company_key)
            .limit(MAX_TRIALS)
        )
    ).all()
    items = [Dated(company, date) for company, date in rows if date is not None]
    count = select(func.count()).select_from(Customer).where(*where)
    return Listing(items, await _count_if_full(s, len(items), MAX_TRIALS, count))


async def _digests(s: AsyncSession, user_id: str) -> tuple[list[DigestSubscription], int]:
    mine = DigestSubscription.created_by == user_id
    subs = list(
        (
            await s.scalars(
                select(DigestSubscription)
                .where(mine)
                .order_by(DigestSubscription.channel_id)
                .limit(MAX_DIGESTS)
            )
        ).all()
    )
    count = select(func.count()).select_from(DigestSubscription).where(mine)
    return subs, await _count_if_full(s, len(subs), MAX_DIGESTS, count)


async def _needs_token(s: AsyncSession) -> tuple[list[RefusedToken], int]:
    # A disconnected customer is not synced any more: nothing to replace.
    where = (
        VisionOneConnection.state == ConnectionState.NEEDS_TOKEN,
        Customer.status != Status.DISCONNECTED,
    )
    joined = select(Customer.company, VisionOneConnection.last_attempt_at).join(
        VisionOneConnection, VisionOneConnection.customer_id == Customer.id
    )
    rows = (
        await s.execute(joined.where(*where).order_by(Customer.company_key).limit(MAX_NEEDS_TOKEN))
    ).all()
    items = [RefusedToken(company, at) for company, at in rows]
    count = select(func.count()).select_from(joined.where(*where).subquery())
    return items, await _count_if_full(s, len(items), MAX_NEEDS_TOKEN, count)


async def read_home(
    db: Database, policy: AccessPolicy, who: Who, now: dt.datetime
) -> tuple[Actor, HomeData]:
    """The person's role and what their tab shows, in one read session."""
    async with db.session() as s:
        actor = await resolve_actor(s, policy, who)
        if actor.external or actor.role is None:
            return actor, HomeData(now=now)  # nothing is read for someone without access
        pending, pending_total = await _pending(s, now)
        trials = await _trials(s, now.date())
        top = await riskiest(s, top=RISKIEST)
        digests, digests_total = await _digests(s, actor.user_id)
        needs_token, needs_token_total = await _needs_token(s)
    return actor, HomeData(
        now=now,
        pending=pending,
        pending_total=pending_total,
        trials=trials,
        riskiest=top,
        digests=digests,
        digests_total=digests_total,
        needs_token=needs_token,
        needs_token_total=needs_token_total,
    )
