"""What a risk digest reports, read with a few indexed queries per filter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from store.customers import band_counts, conditions, riskiest
from store.enums import ApprovalStatus, ConnectionState, Level, LicenseType, Status
from store.filters import CustomerFilter
from store.models import HOLDS_NFR, Approval, Customer, RiskSnapshot, VisionOneConnection

TRIAL_WINDOW = 14  # days
NOTICE_WINDOW = 90  # paid licences: notice before expiry
GRACE_DAYS = 30  # then a grace period
LOCKED_DAYS = 30  # then locked, then purged
NFR_MONTHLY_CREDITS = 8000
TOP = 10  # riskiest customers and biggest increases shown
LIST_LIMIT = 200  # entries per to-do list (expiring, grace, locked); the rest are counted


@dataclass(frozen=True)
class Mover:
    company: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Dated:
    company: str
    date: dt.date
    license: LicenseType | None = None


@dataclass(frozen=True)
class Listing:
    items: Sequence[Dated]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass(frozen=True)
class Pending:
    company: str
    requested_by: str
    requested_at: dt.datetime


@dataclass(frozen=True)
class DigestData:
    today: dt.date
    filters: str
    bands: dict[Level | None, int]
    previous_bands: dict[Level | None, int] | None
    since: dt.datetime | None
    riskiest: Sequence[Customer]
    movers: Sequence[Mover]
    trials: Listing
    notice: Listing
    grace: Listing
    locked: Listing
    nfr: str | None
    pending: Sequence[Pending] = field(default_factory=list)
    # Vision One connections whose API token was refused: (companies shown, how many in all).
    needs_token: Sequence[str] = field(default_factory=list)
    needs_token_total: int = 0

    @property
    def total(self) -> int:
        return sum(self.bands.values())

    def summary(self) -> dict[str, object]:
        """What the next digest compares against."""
        return {"bands": {(k.value if k else "unknown"): v for k, v in self.bands.items()}}


def bands_from(summary: dict[str, object] | None) -> dict[Level | None, int] | None:
    if not summary or not isinstance(summary.get("bands"), dict):
        return None
    raw: dict[str, int] = summary["bands"]  # type: ignore[assignment]
    return {(None if k == "unknown" else Level(k)): int(v) for k, v in raw.items()}


async def _dated(
    s: AsyncSession,
    where: Sequence[ColumnElement[bool]],
    lo: dt.date,
    hi: dt.date,
    *extra: ColumnElement[bool],
    limit: int = LIST_LIMIT,
) -> Listing:
    cond = [*where, *extra, Customer.expiration_date.between(lo, hi)]
    total = await s.scalar(select(func.count()).select_from(Customer).where(*cond)) or 0
    rows = (
        await s.execute(
            select(Customer.company, Customer.expiration_date, Customer.license_type)
            .where(*cond)
            .order_by(Customer.expiration_date, Customer.company_key)
            .limit(limit)
        )
    ).all()
    return Listing([Dated(r[0], r[1], r[2]) for r in rows if r[1] is not None], total)


def _movers_query(where: Sequence[ColumnElement[bool]], since: dt.datetime) -> Select[tuple]:
    """Customers whose CRI rose since `since`: now against their last figure before it."""
    # Only customers the digest's filters keep are ranked: a one-customer digest should not
    # number every snapshot of the portfolio.
    changed = (
        select(RiskSnapshot.customer_id)
        .join(Customer, Customer.id == RiskSnapshot.customer_id)
        .where(RiskSnapshot.taken_at > since, *where)
    )
    ranked = (
        select(
            RiskSnapshot.customer_id,
            RiskSnapshot.cri,
            func.row_number()
            .over(
                partition_by=RiskSnapshot.customer_id,
                order_by=(RiskSnapshot.taken_at.desc(), RiskSnapshot.id.desc()),
            )
            .label("rn"),
        )
        .where(RiskSnapshot.taken_at <= since, RiskSnapshot.customer_id.in_(changed))
        .subquery()
    )
    delta = (Customer.cri - ranked.c.cri).label("delta")
    return (
        select(Customer.company, ranked.c.cri, Customer.cri, delta)
        .join(ranked, and_(ranked.c.customer_id == Customer.id, ranked.c.rn == 1))
        .where(*where, Customer.cri.is_not(None), ranked.c.cri.is_not(None), delta > 0)
        .order_by(delta.desc(), Customer.company_key)
        .limit(TOP)
    )


async def digest_data(
    s: AsyncSession,
    flt: CustomerFilter,
    today: dt.date,
    *,
    since: dt.datetime | None,
    previous_bands: dict[Level | None, int] | None,
    now: dt.datetime,
) -> DigestData:
    where = conditions(flt, today)
    bands = await band_counts(s, where)
    top = await riskiest(s, where, top=TOP)
    movers: list[Mover] = []
    since = since or now - dt.timedelta(days=1)
    for company, before, after, _ in (await s.execute(_movers_query(where, since))).all():
        movers.append(Mover(company, before, after))
    paid = Customer.license_type.in_((LicenseType.ANNUAL, LicenseType.MONTHLY))
    trials = await _dated(
        s, where, today, today + dt.timedelta(days=TRIAL_WINDOW), Customer.status == Status.TRIAL
    )
    notice = await _dated(
        s,
        where,
        today,
        today + dt.timedelta(days=NOTICE_WINDOW),
        paid,
        Customer.status != Status.TRIAL,
        Customer.status != Status.DISCONNECTED,
    )
    grace_start = today - dt.timedelta(days=GRACE_DAYS)
    grace = await _dated(
        s,
        where,
        grace_start,
        today - dt.timedelta(days=1),
        paid,
        Customer.status != Status.DISCONNECTED,
    )
    locked = await _dated(
        s,
        where,
        grace_start - dt.timedelta(days=LOCKED_DAYS),
        grace_start - dt.timedelta(days=1),
        paid,
        Customer.status != Status.DISCONNECTED,
    )
    nfr = await s.scalar(select(Customer.company).where(HOLDS_NFR))
    pending = [
        Pending(company, who, at)
        for company, who, at in (
            await s.execute(
                select(Customer.company, Approval.requested_by, Approval.requested_at)
                .join(Customer, Customer.id == Approval.customer_id)
                .where(Approval.status == ApprovalStatus.PENDING)
                .order_by(Approval.requested_at)
                .limit(LIST_LIMIT)
            )
        ).all()
    ]
    refused = [*where, VisionOneConnection.state == ConnectionState.NEEDS_TOKEN]
    joined = select(Customer.company).join(
        VisionOneConnection, VisionOneConnection.customer_id == Customer.id
    )
    needs_token = (
        await s.scalars(joined.where(*refused).order_by(Customer.company_key).limit(LIST_LIMIT))
    ).all()
    needs_token_total = len(needs_token)
    if needs_token_total >= LIST_LIMIT:
        counted = select(func.count()).select_from(joined.where(*refused).subquery())
        needs_token_total = await s.scalar(counted) or needs_token_total
    return DigestData(
        today=today,
        filters=flt.to_query(),
        bands=bands,
        previous_bands=previous_bands,
        since=since,
        riskiest=top,
        movers=movers,
        trials=trials,
        notice=notice,
        grace=grace,
        locked=locked,
        nfr=nfr,
        pending=pending,
        needs_token=needs_token,
        needs_token_total=needs_token_total,
    )
