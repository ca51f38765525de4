"""The append-only audit log: who did what, when, before and after."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.actor import Actor
from store.enums import Action, Role
from store.models import AuditEntry, Customer, utcnow

# The customer fields an audit entry compares.
TRACKED = (
    "company",
    "license_type",
    "status",
    "status_detail",
    "expiration_date",
    "sign_in_account",
    "data_center",
    "license_start_date",
    "trial_start_date",
    "trial_extensions",
    "is_nfr",
    "primary_user_account",
    "auditor_account",
    "v1_connected",
    "v1_company_id",
    "lmp_customer_id",
    "service_url",
    "lmp_missing_since",
)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return getattr(value, "value", value)


def state(c: Customer) -> dict[str, Any]:
    return {f: _plain(getattr(c, f)) for f in TRACKED}


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in changed}, {k: after[k] for k in changed}


SYSTEM = Actor("system", Role.ADMIN, name="Customer Overview")


async def record(
    session: AsyncSession,
    actor: Actor,
    action: Action,
    *,
    customer: Customer | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    approval_id: int | None = None,
    detail: str | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=actor.user_id,
        actor_name=actor.name or actor.user_id,
        action=action,
        customer_id=customer.id if customer else None,
        company=customer.company if customer else None,
        before=before,
        after=after,
        approval_id=approval_id,
        detail=detail,
    )
    session.add(entry)
    await session.flush()
    return entry


async def latest(
    session: AsyncSession, actor: Actor, customer_id: int | None = None, limit: int = 15
) -> Sequence[AuditEntry]:
    actor.require(Role.OPERATOR)
    q = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if customer_id is not None:
        q = q.where(AuditEntry.customer_id == customer_id)
    return (await session.scalars(q)).all()


async def export(
    session: AsyncSession, since: dt.datetime | None = None, batch: int = 1000
) -> AsyncIterator[AuditEntry]:
    """Every entry, oldest first, streamed in batches."""
    q = select(AuditEntry).order_by(AuditEntry.id)
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    result = await session.stream_scalars(q.execution_options(yield_per=batch))
    async for entry in result:
        yield entry
