"""Customer sync from LMP: upsert every customer LMP lists, in one transaction.

A customer is matched by its LMP customer id, else by company name (then it gets the id).
New ones are marked as coming from LMP, so they cannot be disconnected from the bot. A
customer LMP no longer lists is never deleted: it is marked (lmp_missing_since) and reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.actor import Actor
from store.db import Database
from store.enums import Action, Origin, Role, Status
from store.lmp import LmpClient
from store.models import Customer, utcnow
from store.names import clean_company, company_key

SYNC_ACTOR = Actor("lmp-sync", Role.ADMIN, name="LMP sync")
SINCE = "2000-01-01T00:00:00Z"  # LMP wants a created_* range; this covers every customer
MAX_COMPANY = 200
CHUNK = 500  # ids / names per IN (...) query


@dataclass
class SyncReport:
    listed: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # newly marked as no longer listed
    returned: list[str] = field(default_factory=list)  # listed again after being missing
    skipped: list[str] = field(default_factory=list)  # rows that could not be used, and why

    def line(self) -> str:
        parts = [
            f"{self.listed} listed by LMP",
            f"{len(self.created)} added",
            f"{len(self.updated)} updated",
            f"{len(self.missing)} no longer listed (kept, marked)",
        ]
        if self.returned:
            parts.append(f"{len(self.returned)} listed again")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return ", ".join(parts)


@dataclass(frozen=True)
class Listed:
    lmp_id: str
    company: str


def _rows(raw: Iterable[dict[str, Any]], report: SyncReport) -> list[Listed]:
    seen: dict[str, Listed] = {}
    names: set[str] = set()
    for r in raw:
        report.listed += 1
        cid, name = str(r.get("customer_id") or "").strip(), r.get("name")
        company = clean_company(name)[:MAX_COMPANY] if isinstance(name, str) else ""
        if not cid or len(cid) > 64 or not company:
            report.skipped.append(f"{company or cid or '?'}: no customer id or name")
            continue
        if cid in seen:
            continue
        if company_key(company) in names:
            report.skipped.append(f"{company}: another LMP customer has the same name")
            continue
        names.add(company_key(company))
        seen[cid] = Listed(cid, company)
    return list(seen.values())


async def _existing(
    s: AsyncSession, rows: list[Listed]
) -> tuple[dict[str, Customer], dict[str, Customer]]:
    by_id: dict[str, Customer] = {}
    by_key: dict[str, Customer] = {}
    linked = await s.scalars(select(Customer).where(Customer.lmp_customer_id.is_not(None)))
    for c in linked:
        by_id[str(c.lmp_customer_id)] = c
        by_key[c.company_key] = c
    keys = [company_key(r.company) for r in rows]
    for i in range(0, len(keys), CHUNK):
        found = await s.scalars(
            select(Customer).where(Customer.company_key.in_(keys[i : i + CHUNK]))
        )
        for c in found:
            by_key[c.company_key] = c
    return by_id, by_key


async def _change(
    s: AsyncSession, c: Customer, now: dt.datetime, detail: str | None, **values: Any
) -> None:
    before = audit.state(c)
    for k, v in values.items():
        setattr(c, k, v)
    c.version = Customer.version + 1  # in SQL: no lost bump
    c.updated_at = now
    await s.flush()
    await s.refresh(c)
    old, new = audit.diff(before, audit.state(c))
    await audit.record(
        s, SYNC_ACTOR, Action.LMP_SYNC, customer=c, before=old, after=new, detail=detail, at=now
    )


async def sync_customers(
    db: Database, client: LmpClient, clock: Callable[[], dt.datetime] = utcnow
) -> SyncReport:
    """Fetch every LMP customer (outside any transaction), then upsert them in one."""
    report = SyncReport()
    now = clock()
    until = (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw = [r async for r in client.customers(SINCE, until)]
    rows = _rows(raw, report)
    async with db.transaction() as s:
        by_id, by_key = await _existing(s, rows)
        listed_ids = {r.lmp_id for r in rows}
        for r in rows:
            key = company_key(r.company)
            c = by_id.get(r.lmp_id)
            if c is None:
                c = by_key.get(key)
                if c is not None and c.lmp_customer_id in listed_ids - {r.lmp_id}:
                    report.skipped.append(f"{r.company}: name taken by another LMP customer")
                    continue
            elif c.company_key != key and key in by_key and by_key[key] is not c:
                report.skipped.append(f"{r.company}: renamed in LMP to a name already in use")
                continue
            if c is None:
                c = Customer(
                    company=r.company,
                    company_key=key,
                    status=Status.NOT_PROVISIONED,
                    origin=Origin.LMP,
                    lmp_customer_id=r.lmp_id,
                    created_at=now,
                    updated_at=now,
                    version=1,
                    trial_extensions=0,
                    is_nfr=False,
                    v1_connected=False,
                )
                s.add(c)
                await s.flush()
                by_key[key] = c
                await audit.record(
                    s,
                    SYNC_ACTOR,
                    Action.ADD,
                    customer=c,
                    after=audit.state(c),
                    detail=f"from LMP (customer id {r.lmp_id})",
                    at=now,
                )
                report.created.append(r.company)
                continue
            values: dict[str, Any] = {}
            if c.lmp_customer_id != r.lmp_id:
                values["lmp_customer_id"] = r.lmp_id
            if c.company != r.company:
                values |= {"company": r.company, "company_key": key}
            if c.origin is Origin.IMPORTED:
                values["origin"] = Origin.LMP  # manually created ones stay manual
            detail = "from LMP"
            if c.lmp_missing_since is not None:
                values["lmp_missing_since"] = None
                report.returned.append(r.company)
                detail = "listed again by LMP"
            if values:
                await _change(s, c, now, detail, **values)
                report.updated.append(r.company)
        for lmp_id, c in by_id.items():
            if lmp_id not in listed_ids and c.lmp_missing_since is None:
                detail = "no longer listed by LMP: kept, not deleted"
                await _change(s, c, now, detail, lmp_missing_since=now)
                report.missing.append(c.company)
    return report
