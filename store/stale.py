"""Customers left Provisioning by a bot that stopped while waiting for the platform.

A request's outcome is recorded when the platform answers; if the process died first, the
customer would stay Provisioning, with no action offered. After STALE_AFTER (far longer
than a request can take with its retries) the platform is asked what it did: the licence is
recorded, or the customer is Failed with a Retry button. One process checks at a time.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from store.actions import Operations
from store.actor import Actor
from store.enums import Action, Role, Status
from store.errors import OverviewError
from store.leases import lease
from store.models import AuditEntry, Customer
from store.platform import Licence, PlatformError

log = logging.getLogger("overview.stale")
STALE_AFTER = dt.timedelta(minutes=30)
CHECK_ACTOR = Actor("provisioning-check", Role.ADMIN, name="Provisioning check")


async def _stuck(ops: Operations, older_than: dt.timedelta) -> list[tuple[Customer, Action]]:
    async with ops.db.session() as s:
        found = await s.scalars(
            select(Customer).where(
                Customer.status == Status.PROVISIONING,
                Customer.updated_at < ops.clock() - older_than,
            )
        )
        stuck = []
        for c in found:
            asked = (
                await s.execute(
                    select(AuditEntry.action, AuditEntry.detail)
                    .where(
                        AuditEntry.customer_id == c.id,
                        AuditEntry.action.in_((Action.PROVISION, Action.START_TRIAL)),
                    )
                    .order_by(AuditEntry.id.desc())
                    .limit(1)
                )
            ).first()
            # Only requests this bot sent: an import may say Provisioning (the console's word).
            if asked is not None and asked.detail == "requested":
                stuck.append((c, asked.action))
        return stuck


async def settle_stale(ops: Operations, older_than: dt.timedelta = STALE_AFTER) -> list[str]:
    """Settle every customer Provisioning for longer than `older_than`; their names."""
    async with lease(ops.db, "provisioning-check") as held:
        if not held:
            return []
        name, settled = ops.platform.name, []
        for c, action in await _stuck(ops, older_than):
            licence: Licence | None = None
            try:
                licence = await ops.platform.provisioned_since(
                    c, c.updated_at, trial=action is Action.START_TRIAL
                )
            except PlatformError as e:
                failure: str | None = (
                    f"No answer from {name} was recorded (the bot stopped while waiting), "
                    f"and whether it provisioned could not be checked ({e.message}): "
                    f"check {name} before retrying."
                )
            else:
                failure = (
                    None
                    if licence
                    else (
                        f"No answer from {name} was recorded (the bot stopped while waiting); "
                        "nothing was provisioned. Retry."
                    )
                )
            linked = licence.platform_id if licence else None
            try:
                await ops.settle(CHECK_ACTOR, action, c.id, c.version, licence, failure, linked)
            except OverviewError:  # it changed meanwhile: a live request was answered
                continue
            log.warning("%s was left Provisioning; now %s", c.company, failure or "done")
            settled.append(c.company)
        return settled
