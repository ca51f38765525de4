"""What a customer's card shows about its figures: when taken, from where, top risk events,
and how its Vision One connection is doing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.enums import ConnectionState, Level, SnapshotSource
from store.models import RiskSnapshot, VisionOneConnection
from store.regions import DataCenter


@dataclass(frozen=True)
class LiveRisk:
    taken_at: dt.datetime | None = None
    source: SnapshotSource | None = None
    attack: Level | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    state: ConnectionState | None = None  # None: no API connection
    region: DataCenter | None = None
    last_error: str | None = None
    last_attempt_at: dt.datetime | None = None


async def live_risk(s: AsyncSession, customer_id: int) -> LiveRisk:
    snap = (
        await s.execute(
            select(
                RiskSnapshot.taken_at, RiskSnapshot.source, RiskSnapshot.attack, RiskSnapshot.events
            )
            .where(RiskSnapshot.customer_id == customer_id)
            .order_by(RiskSnapshot.taken_at.desc(), RiskSnapshot.id.desc())
            .limit(1)
        )
    ).first()
    conn = (
        await s.execute(
            select(
                VisionOneConnection.state,
                VisionOneConnection.region,
                VisionOneConnection.last_error,
                VisionOneConnection.last_attempt_at,
            ).where(VisionOneConnection.customer_id == customer_id)
        )
    ).first()
    events = snap.events if snap is not None and isinstance(snap.events, list) else []
    return LiveRisk(
        taken_at=snap.taken_at if snap else None,
        source=snap.source if snap else None,
        attack=snap.attack if snap else None,
        events=[e for e in events if isinstance(e, dict)],
        state=conn.state if conn else None,
        region=conn.region if conn else None,
        last_error=conn.last_error if conn else None,
        last_attempt_at=conn.last_attempt_at if conn else None,
    )
