"""Pull every connected customer's risk figures from Vision One, concurrently and bounded.

Each customer is pulled on its own (its own account, token and rate limit); one failure
never stops the others. Results are written in batches, each in one transaction: a
snapshot and the customer's figures on success, the connection's state either way. A
failure leaves the last known figures as they were.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import aiohttp
from sqlalchemy import Integer, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store import audit
from store.customers import find_customer
from store.db import Database
from store.enums import ConnectionState, SnapshotSource, Status
from store.errors import InvalidInput, OverviewError
from store.leases import holder_of, lease
from store.models import Customer, RiskSnapshot, VisionOneConnection, utcnow
from store.regions import DataCenter
from store.secrets import TokenUnreadable, TokenVault
from store.visionone import Pacer, Posture, Retrying, TokenRejected, VisionOneClient, VisionOneError

log = logging.getLogger("overview.sync")
DEFAULT_CONCURRENCY = 16
WRITE_BATCH = 200
# Requests started per minute in all, across every customer and region. Each customer's
# own account gets one request a sync (a few more on faults), far inside its per-minute
# limit; the overall cap keeps a large portfolio from arriving at a regional API host as
# one burst: 100 a second, so 1,000 customers still take about 10 s.
DEFAULT_REQUESTS_PER_MINUTE = 6000
LEASE = "vision-one-sync"  # one sync of every customer at a time, across processes


class SyncSkipped(OverviewError):
    """A sync of every customer did not start: another one is running (`running`), or
    (for a periodic run) one started less than its period ago."""

    def __init__(self, message: str, *, running: bool) -> None:
        super().__init__(message)
        self.running = running


@dataclass(frozen=True)
class Target:
    customer_id: int
    company: str
    region: DataCenter
    sealed_token: str = field(repr=False)
    connected_at: dt.datetime


@dataclass(frozen=True)
class Outcome:
    target: Target
    state: ConnectionState
    posture: Posture | None = None
    error: str | None = None


@dataclass
class SyncReport:
    total: int = 0
    ok: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # company, why
    needs_token: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        if not self.total:
            return "No connected customers to sync."
        text = f"Synced {self.ok:,} of {self.total:,} customers in {self.seconds:.1f} s"
        if self.failed:
            text += f"; {len(self.failed):,} failed"
            if self.needs_token:
                text += f" ({self.needs_token:,} need a new API token)"
        return text + "."


def _taken_at(posture: Posture, now: dt.datetime) -> dt.datetime:
    # The index's own time when Vision One gives one (it refreshes every 4 hours).
    if posture.created is not None and posture.created <= now:
        return posture.created
    return now


class Syncer:
    def __init__(
        self,
        db: Database,
        vault: TokenVault,
        *,
        base_url: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        retrying: Retrying | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        batch: int = WRITE_BATCH,
        per_minute: int = DEFAULT_REQUESTS_PER_MINUTE,
    ) -> None:
        self.db = db
        self.vault = vault
        self.base_url = base_url
        self.concurrency = max(1, concurrency)
        self.retrying = retrying or Retrying()
        self.clock = clock
        self.batch = batch
        self.per_minute = per_minute  # requests started per minute in all; 0: no cap

    def __repr__(self) -> str:
        return f"Syncer(base_url={self.base_url!r}, concurrency={self.concurrency})"

    async def targets(
        self, company: str | None = None, customer_ids: Sequence[int] | None = None
    ) -> list[Target]:
        q = (
            select(
                VisionOneConnection.customer_id,
                Customer.company,
                VisionOneConnection.region,
                VisionOneConnection.sealed_token,
                VisionOneConnection.connected_at,
            )
            .join(Customer, Customer.id == VisionOneConnection.customer_id)
            .where(Customer.status != Status.DISCONNECTED)
            .order_by(Customer.company_key)
        )
        async with self.db.session() as s:
            if company is not None:
                found = await find_customer(s, audit.SYSTEM, company)
                q = q.where(Customer.id == found.id)
            if customer_ids is not None:
                q = q.where(Customer.id.in_(list(customer_ids)))
            targets = [Target(*row) for row in (await s.execute(q)).all()]
            if company is not None and not targets:
                # Named on purpose: "nothing to sync" would hide that it is not connected.
                if found.status is Status.DISCONNECTED:
                    raise InvalidInput(f"{found.company} is disconnected: it is not synced.")
                raise InvalidInput(
                    f"{found.company} is not connected to Vision One: connect it first "
                    "(/customers connect, with its region and an API token)."
                )
            return targets

    async def run(
        self,
        company: str | None = None,
        *,
        customer_ids: Sequence[int] | None = None,
        progress: Callable[[int, int], None] | None = None,
        gap: dt.timedelta | None = None,
    ) -> SyncReport:
        """Sync now; raises NotFound/Ambiguous for a `company` that names no one customer.

        A sync of every customer holds the database lease LEASE, so bot processes sharing a
        database and `overview-bot sync` never pull the same customers at once: it raises
        SyncSkipped when another holds it, or (with `gap`) when one started less than `gap`
        ago. Syncing one or a few customers (a connect, `--company`) takes no lease.
        """
        if company is not None or customer_ids is not None:
            return await self._run(company, customer_ids, progress)
        async with lease(self.db, LEASE, gap=gap) as held:
            if held:
                return await self._run(None, None, progress)
        raise await self._skipped()

    async def _skipped(self) -> SyncSkipped:
        row = await holder_of(self.db, LEASE)
        now = self.clock()
        if row is not None and row.lease_until > now:
            return SyncSkipped(
                f"Another Vision One sync is running (started {row.claimed_at:%Y-%m-%d %H:%M} "
                f"UTC by {row.holder}); its figures are stored as it goes. Try again when "
                "it has finished.",
                running=True,
            )
        since = f" at {row.claimed_at:%Y-%m-%d %H:%M} UTC" if row is not None else ""
        return SyncSkipped(f"A Vision One sync started recently{since}.", running=False)

    async def _run(
        self,
        company: str | None,
        customer_ids: Sequence[int] | None,
        progress: Callable[[int, int], None] | None,
    ) -> SyncReport:
        started = time.monotonic()
        targets = await self.targets(company, customer_ids)
        report = SyncReport(total=len(targets))
        if not targets:
            return report
        pool = asyncio.Semaphore(self.concurrency)
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        async with aiohttp.ClientSession(connector=connector) as http:
            pacer = Pacer(self.per_minute) if self.per_minute > 0 else None
            client = VisionOneClient(
                http, base_url=self.base_url, retrying=self.retrying, pacer=pacer
            )

            async def one(t: Target) -> Outcome:
                async with pool:
                    return await self._pull(client, t)

            pending: list[Outcome] = []
            jobs = asyncio.as_completed([one(t) for t in targets])
            for done, next_done in enumerate(jobs, 1):
                outcome = await next_done
                pending.append(outcome)
                self._count(report, outcome)
                if len(pending) >= self.batch:
                    await self._write(pending)
                    pending = []
                if progress is not None:
                    progress(done, len(targets))
            if pending:
                await self._write(pending)
        report.seconds = time.monotonic() - started
        return report

    @staticmethod
    def _count(report: SyncReport, o: Outcome) -> None:
        if o.state is ConnectionState.OK:
            report.ok += 1
            return
        report.failed.append((o.target.company, o.error or "failed"))
        if o.state is ConnectionState.NEEDS_TOKEN:
            report.needs_token += 1

    async def _pull(self, client: VisionOneClient, t: Target) -> Outcome:
        try:
            token = self.vault.open(t.sealed_token)
            posture = await client.security_posture(t.region, token)
        except TokenUnreadable as e:
            return Outcome(t, ConnectionState.NEEDS_TOKEN, error=f"{e}; connect again")
        except TokenRejected as e:
            log.warning("vision one sync: customer %s: %s", t.customer_id, e.message)
            return Outcome(t, ConnectionState.NEEDS_TOKEN, error=e.message)
        except VisionOneError as e:
            log.warning("vision one sync: customer %s: %s", t.customer_id, e.message)
            return Outcome(t, ConnectionState.FAILING, error=e.message)
        except Exception as e:  # a bug or an odd answer: this customer fails, not the run
            log.exception("vision one sync: customer %s failed unexpectedly", t.customer_id)
            return Outcome(t, ConnectionState.FAILING, error=f"unexpected {type(e).__name__}")
        return Outcome(t, ConnectionState.OK, posture=posture)

    @staticmethod
    async def _new_only(s: AsyncSession, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop figures already stored: the index is recomputed every 4 hours, so a sync
        sooner (a restart, `overview-bot sync`) often reads the same ones again."""
        if not rows:
            return rows
        seen = set(
            (
                await s.execute(
                    select(RiskSnapshot.customer_id, RiskSnapshot.taken_at).where(
                        RiskSnapshot.customer_id.in_([r["customer_id"] for r in rows]),
                        RiskSnapshot.source == SnapshotSource.VISION_ONE,
                        RiskSnapshot.taken_at.in_({r["taken_at"] for r in rows}),
                    )
                )
            ).all()
        )
        return [r for r in rows if (r["customer_id"], r["taken_at"]) not in seen]

    async def _write(self, outcomes: Sequence[Outcome]) -> None:
        now = self.clock()
        snapshots: list[dict[str, Any]] = []
        figures: list[dict[str, Any]] = []
        states: list[dict[str, Any]] = []
        for o in outcomes:
            t, p = o.target, o.posture
            state: dict[str, Any] = {
                "b_id": t.customer_id,
                "b_since": t.connected_at,
                "b_state": o.state,
                "b_attempt": now,
                "b_error": (o.error or "")[:500] or None,
            }
            if p is None:
                states.append(state)
                continue
            states.append(state)
            snapshots.append(
                {
                    "customer_id": t.customer_id,
                    "taken_at": _taken_at(p, now),
                    "cri": p.risk_index,
                    "exposure": p.exposure,
                    "security_configuration": p.security_configuration,
                    "attack": p.attack,
                    "events": [e.as_json() for e in p.events],
                    "source": SnapshotSource.VISION_ONE,
                }
            )
            figures.append(
                {
                    "b_id": t.customer_id,
                    "b_cri": p.risk_index,
                    "b_exposure": p.exposure,
                    "b_config": p.security_configuration,
                }
            )
        conn = cast(Table, VisionOneConnection.__table__)
        cust = cast(Table, Customer.__table__)
        async with self.db.transaction() as s:
            snapshots = await self._new_only(s, snapshots)
            if snapshots:
                await s.execute(insert(RiskSnapshot), snapshots)
            if figures:
                await s.execute(
                    update(cust)
                    .where(cust.c.id == bindparam("b_id"))
                    .values(
                        # A figure Vision One left out keeps its last known value.
                        cri=func.coalesce(bindparam("b_cri", type_=Integer), cust.c.cri),
                        exposure=func.coalesce(
                            bindparam("b_exposure", type_=cust.c.exposure.type), cust.c.exposure
                        ),
                        security_configuration=func.coalesce(
                            bindparam("b_config", type_=cust.c.security_configuration.type),
                            cust.c.security_configuration,
                        ),
                    ),
                    figures,
                )
            ok = [x for x in states if x["b_state"] is ConnectionState.OK]
            bad = [x for x in states if x["b_state"] is not ConnectionState.OK]
            # Guarded by connected_at: a token replaced during the sync keeps its fresh state.
            where = (conn.c.customer_id == bindparam("b_id")) & (
                conn.c.connected_at == bindparam("b_since")
            )
            if ok:
                await s.execute(
                    update(conn)
                    .where(where)
                    .values(
                        state=bindparam("b_state"),
                        last_attempt_at=bindparam("b_attempt"),
                        last_success_at=bindparam("b_attempt"),
                        last_error=bindparam("b_error"),
                    ),
                    ok,
                )
            if bad:
                await s.execute(
                    update(conn)
                    .where(where)
                    .values(
                        state=bindparam("b_state"),
                        last_attempt_at=bindparam("b_attempt"),
                        last_error=bindparam("b_error"),
                    ),
                    bad,
                )
