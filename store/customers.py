"""Read operations on the portfolio: list, find by name, risk summary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import Date, Integer, Select, String, bindparam, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from store.access import AccessPolicy, Actor, Who, actor_from, granted_role, needs_lookup
from store.db import Database
from store.enums import CRI_BANDS, Level, LicenseType, Role, Status
from store.errors import Ambiguous, Candidate, InvalidInput, NotFound
from store.fastread import Unavailable
from store.filters import CustomerFilter, Sort
from store.models import Customer, CustomerTotal
from store.names import company_key

PICK_LIMIT = 10


class CustomerRow(Protocol):
    """The console's eight columns: what a list row shows (a Customer, or a plain row)."""

    @property
    def company(self) -> str: ...
    @property
    def license_type(self) -> LicenseType | None: ...
    @property
    def status(self) -> Status: ...
    @property
    def cri(self) -> int | None: ...
    @property
    def exposure(self) -> Level | None: ...
    @property
    def security_configuration(self) -> Level | None: ...
    @property
    def expiration_date(self) -> dt.date | None: ...
    @property
    def sign_in_account(self) -> str | None: ...


LIST_COLUMNS = (
    Customer.id,
    Customer.company,
    Customer.license_type,
    Customer.status,
    Customer.cri,
    Customer.exposure,
    Customer.security_configuration,
    Customer.expiration_date,
    Customer.sign_in_account,
)


@dataclass(frozen=True)
class CustomerPage:
    customers: Sequence[CustomerRow]
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


TODAY = bindparam("today", type_=Date)
HORIZON = bindparam("horizon", type_=Date)


def conditions(flt: CustomerFilter, today: dt.date | None) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter (its sort aside), for any query over customers.

    With `today` None the date window is left as the binds TODAY and HORIZON, so the
    statement can be built once and reused (see window_params).
    """
    where: list[ColumnElement[bool]] = []
    if flt.text:
        pattern = f"%{_like_escape(company_key(flt.text))}%"
        where.append(
            or_(
                Customer.company_key.like(pattern, escape="\\"),
                func.lower(Customer.sign_in_account).like(pattern, escape="\\"),
            )
        )
    if flt.risk:
        where.append(or_(*(Customer.cri.between(*CRI_BANDS[b]) for b in flt.risk)))
    if flt.licenses:
        where.append(Customer.license_type.in_(flt.licenses))
    if flt.statuses:
        where.append(Customer.status.in_(flt.statuses))
    if flt.expiring_days is not None:
        if today is None:
            where.append(Customer.expiration_date.between(TODAY, HORIZON))
        else:
            horizon = today + dt.timedelta(days=flt.expiring_days)
            where.append(Customer.expiration_date.between(today, horizon))
    return where


def window_params(flt: CustomerFilter, today: dt.date) -> dict[str, dt.date]:
    return {"today": today, "horizon": today + dt.timedelta(days=flt.expiring_days or 0)}


def _filtered(flt: CustomerFilter, today: dt.date | None) -> Select[Customer]:
    q = select(Customer).where(*conditions(flt, today))
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
    return await _page(session, actor, flt, page, page_size, today or dt.date.today())


async def list_customers_for(
    session: AsyncSession,
    policy: AccessPolicy,
    who: Who,
    flt: CustomerFilter,
    *,
    page: int = 0,
    page_size: int = 20,
    today: dt.date | None = None,
) -> tuple[Actor, CustomerPage]:
    """list_customers with the role lookup in the same query: one round trip in all.

    The role is checked before anything is returned; rows read for someone without one
    are dropped here.
    """
    today = today or dt.date.today()
    if not needs_lookup(policy, who) or page < 0:
        actor = actor_from(policy, who, None)
        return actor, await list_customers(
            session, actor, flt, page=page, page_size=page_size, today=today
        )
    query = _page_query(flt, page_size, True)
    params = _page_params(flt, page, page_size, today, who.user_id)
    rows = (await session.execute(query, params)).all()
    actor = actor_from(
        policy,
        who,
        rows[0].granted if rows else await session.scalar(select(granted_role(who.user_id))),
    )
    actor.require(Role.VIEWER)
    if rows:
        return actor, CustomerPage(rows, rows[0].total, page, page_size)
    return actor, await _page(session, actor, flt, page, page_size, today)


async def list_page(
    db: Database,
    policy: AccessPolicy,
    who: Who,
    flt: CustomerFilter,
    *,
    page: int = 0,
    page_size: int = 20,
    today: dt.date | None = None,
) -> tuple[Actor, CustomerPage]:
    """list_customers_for on the driver-level path (store/fastread.py) when it can be.

    The common case, a page with rows on it, is one round trip with no session; an empty
    page, a past-the-end page or an in-memory database take the session path.
    """
    today = today or dt.date.today()
    if db.fast.enabled and page >= 0:
        lookup = needs_lookup(policy, who)
        query = _page_query(flt, page_size, lookup)
        try:
            rows = await db.fast.fetch(
                query, _page_params(flt, page, page_size, today, who.user_id)
            )
        except Unavailable:
            rows = []
        if rows:
            actor = actor_from(policy, who, rows[0].granted if lookup else None)
            actor.require(Role.VIEWER)
            return actor, CustomerPage(rows, rows[0].total, page, page_size)
    async with db.session() as s:
        return await list_customers_for(
            s, policy, who, flt, page=page, page_size=page_size, today=today
        )


@lru_cache(maxsize=512)
def _page_query(flt: CustomerFilter, page_size: int, with_role: bool) -> Select[Any]:
    """A page of the list, built once per filter; the day, offset and user are binds."""
    where = conditions(flt, None)
    # The count rides along as a scalar subquery: one round trip, and unlike
    # count(*) OVER () it does not make the database sort every matching row.
    total_q = (
        select(func.count()).select_from(Customer).where(*where)
        if where
        else select(CustomerTotal.n).where(CustomerTotal.id == 1)  # kept by triggers
    ).scalar_subquery()
    # Plain rows of the columns shown, not ORM objects: a list is read, never changed.
    columns: list[Any] = [*LIST_COLUMNS, total_q.label("total")]
    if with_role:
        columns.append(granted_role(USER_ID).label("granted"))
    q = _filtered(flt, None).with_only_columns(*columns)
    return q.limit(page_size).offset(OFFSET)


OFFSET = bindparam("offset", type_=Integer)
USER_ID = bindparam("user_id", type_=String)


def _page_params(
    flt: CustomerFilter, page: int, page_size: int, today: dt.date, user_id: str | None = None
) -> dict[str, Any]:
    return {**window_params(flt, today), "offset": page * page_size, "user_id": user_id}


async def _page(
    session: AsyncSession,
    actor: Actor,
    flt: CustomerFilter,
    page: int,
    page_size: int,
    today: dt.date,
) -> CustomerPage:
    if page < 0:
        raise InvalidInput("Page numbers start at 1.")
    query = _page_query(flt, page_size, False)
    rows = (await session.execute(query, _page_params(flt, page, page_size, today))).all()
    if rows:
        return CustomerPage(rows, rows[0].total, page, page_size)
    where = conditions(flt, today)
    total = await session.scalar(select(func.count()).select_from(Customer).where(*where)) or 0
    last = max(0, -(-total // page_size) - 1)
    if total and page > last:  # past the end (the list shrank): show the last page
        return await _page(session, actor, flt, last, page_size, today)
    return CustomerPage([], total, page, page_size)


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


async def band_counts(
    session: AsyncSession, where: Sequence[ColumnElement[bool]] = ()
) -> dict[Level | None, int]:
    """Customers per CRI band (None: not known), in one grouped query."""
    band = case(
        *((Customer.cri.between(lo, hi), level.value) for level, (lo, hi) in CRI_BANDS.items()),
        else_=None,
    )
    counts = (await session.execute(select(band, func.count()).where(*where).group_by(band))).all()
    by_band: dict[Level | None, int] = {level: 0 for level in Level}
    by_band[None] = 0
    for value, n in counts:
        by_band[Level(value) if value else None] += n
    return by_band


async def riskiest(
    session: AsyncSession, where: Sequence[ColumnElement[bool]] = (), top: int = 10
) -> Sequence[Customer]:
    q = select(Customer).where(Customer.cri.is_not(None), *where).order_by(*RISK_ORDER)
    return (await session.scalars(q.limit(top))).all()


async def risk_summary(session: AsyncSession, actor: Actor, *, top: int = 10) -> RiskSummary:
    actor.require(Role.VIEWER)
    by_band = await band_counts(session)
    return RiskSummary(sum(by_band.values()), by_band, await riskiest(session, top=top))
