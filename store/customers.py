"""Read operations on the portfolio: list, find by name, risk summary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from store.access import Actor
from store.enums import CRI_BANDS, Level, Role
from store.errors import Ambiguous, Candidate, InvalidInput, NotFound
from store.filters import CustomerFilter, Sort
from store.models import Customer
from store.names import company_key

PICK_LIMIT = 10


@dataclass(frozen=True)
class CustomerPage:
    customers: Sequence[Customer]
    total: int
    page: int  # 0-based
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * self.page_size < self.total


@dataclass(frozen=True)
class RiskSummary:
    total: int
    by_band: dict[Level | None, int]  # None: CRI not known
    riskiest: Sequence[Customer]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _level_rank(col: Any) -> ColumnElement[int]:
    return case((col == Level.HIGH, 3), (col == Level.MEDIUM, 2), (col == Level.LOW, 1), else_=0)


RISK_ORDER = (
    Customer.cri.is_(None),
    Customer.cri.desc(),
    _level_rank(Customer.exposure).desc(),
    _level_rank(Customer.security_configuration).desc(),
    Customer.company_key,
)


def _filtered(flt: CustomerFilter, today: dt.date) -> Select[Customer]:
    q = select(Customer)
    if flt.text:
        pattern = f"%{_like_escape(company_key(flt.text))}%"
        q = q.where(
            or_(
                Customer.company_key.like(pattern, escape="\\"),
                func.lower(Customer.sign_in_account).like(pattern, escape="\\"),
            )
        )
    if flt.risk:
        q = q.where(or_(*(Customer.cri.between(*CRI_BANDS[b]) for b in flt.risk)))
    if flt.licenses:
        q = q.where(Customer.license_type.in_(flt.licenses))
    if flt.statuses:
        q = q.where(Customer.status.in_(flt.statuses))
    if flt.expiring_days is not None:
        q = q.where(
            Customer.expiration_date.between(today, today + dt.timedelta(days=flt.expiring_days))
        )
    if flt.sort is Sort.RISK:
        q = q.order_by(*RISK_ORDER)
    elif flt.sort is Sort.EXPIRY:
        q = q.order_by(
            Customer.expiration_date.is_(None), Customer.expiration_date, Customer.company_key
        )
    else:
        q = q.order_by(Customer.company_key)
    return q


async def list_customers(
    session: AsyncSession,
    actor: Actor,
    flt: CustomerFilter,
    *,
    page: int = 0,
    page_size: int = 20,
    today: dt.date | None = None,
) -> CustomerPage:
    actor.require(Role.VIEWER)
    if page < 0:
        raise InvalidInput("Page numbers start at 1.")
    today = today or dt.date.today()
    base = _filtered(flt, today)
    # One round trip: the window count rides along with the page's rows.
    q = base.add_columns(func.count().over()).limit(page_size).offset(page * page_size)
    rows = (await session.execute(q)).all()
    if rows:
        return CustomerPage([r[0] for r in rows], rows[0][1], page, page_size)
    total = await session.scalar(select(func.count()).select_from(base.order_by(None).subquery()))
    last = max(0, -(-(total or 0) // page_size) - 1)
    if total and page > last:
        return await list_customers(
            session, actor, flt, page=last, page_size=page_size, today=today
        )
    return CustomerPage([], total or 0, page, page_size)


async def find_customer(session: AsyncSession, actor: Actor, name: str) -> Customer:
    """Exact name, then a unique prefix, then a unique substring (all case-insensitive)."""
    actor.require(Role.VIEWER)
    key = company_key(name)
    if not key:
        raise InvalidInput("Which customer? Give a company name, for example `show Acme`.")
    exact = await session.scalar(select(Customer).where(Customer.company_key == key))
    if exact is not None:
        return exact
    escaped = _like_escape(key)
    for pattern in (f"{escaped}%", f"%{escaped}%"):
        cond = Customer.company_key.like(pattern, escape="\\")
        found = (
            await session.scalars(
                select(Customer).where(cond).order_by(Customer.company_key).limit(PICK_LIMIT + 1)
            )
        ).all()
        if len(found) == 1:
            return found[0]
        if found:
            total = len(found)
            if total > PICK_LIMIT:
                total = await session.scalar(select(func.count()).where(cond)) or total
            raise Ambiguous(name, [Candidate(c.id, c.company) for c in found[:PICK_LIMIT]], total)
    shown = name.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    raise NotFound(f"No customer matches “{shown}”.")


async def get_customer(session: AsyncSession, actor: Actor, customer_id: int) -> Customer:
    actor.require(Role.VIEWER)
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("That customer no longer exists.")
    return customer


async def risk_summary(session: AsyncSession, actor: Actor, *, top: int = 10) -> RiskSummary:
    actor.require(Role.VIEWER)
    band = case(
        *((Customer.cri.between(lo, hi), level.value) for level, (lo, hi) in CRI_BANDS.items()),
        else_=None,
    )
    counts = (await session.execute(select(band, func.count()).group_by(band))).all()
    by_band: dict[Level | None, int] = {level: 0 for level in Level}
    by_band[None] = 0
    for value, n in counts:
        by_band[Level(value) if value else None] += n
    riskiest = (
        await session.scalars(
            select(Customer).where(Customer.cri.is_not(None)).order_by(*RISK_ORDER).limit(top)
        )
    ).all()
    return RiskSummary(sum(by_band.values()), by_band, riskiest)
