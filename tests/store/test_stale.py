"""A customer left Provisioning by a bot that stopped while waiting for LMP is settled:
what LMP did is recorded, or it is Failed with a Retry."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from store.actions import Operations
from store.actor import Actor
from store.db import Database
from store.enums import Action, PartnerType, Role, Status
from store.lmp import LmpClient
from store.lmp_platform import LmpPlatform
from store.models import AuditEntry, Customer
from store.regions import DataCenter
from store.rules import why_not
from store.stale import settle_stale
from tests.factories import add, customer
from tests.lmp_standin import SECRET_KEY, TOKEN, Fault, LmpStandIn

OPERATOR = Actor("U0OPS", Role.OPERATOR, name="ops")
NOW = dt.timedelta(0)


@pytest.fixture
async def ops(db: Database, lmp: LmpStandIn) -> AsyncIterator[Operations]:
    client = LmpClient(lmp.url, TOKEN, SECRET_KEY, backoff=0.01)
    try:
        yield Operations(db, LmpPlatform(client), PartnerType.DFIR)
    finally:
        await client.close()


async def stop_while_waiting(ops: Operations, lmp: LmpStandIn, cid: int, trial: bool) -> None:
    """Start provisioning and kill it once LMP has the request: the bot 'stopped'."""
    async with ops.db.session() as s:
        c = await s.get(Customer, cid)
        assert c is not None
    task = asyncio.create_task(
        ops.provision(OPERATOR, cid, c.version, DataCenter.EU, "a@x.example", trial=trial)
    )
    for _ in range(500):
        if lmp.calls("POST", "trend-vision-one"):
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.6)  # LMP finishes on its side
    assert (await row(ops, cid)).status is Status.PROVISIONING


async def row(ops: Operations, cid: int) -> Customer:
    async with ops.db.session() as s:
        c = await s.get(Customer, cid)
        assert c is not None
        return c


async def details(ops: Operations, cid: int) -> list[str | None]:
    async with ops.db.session() as s:
        q = select(AuditEntry.detail).where(AuditEntry.customer_id == cid)
        return list(await s.scalars(q.order_by(AuditEntry.id)))


async def lmp_customer(ops: Operations, lmp: LmpStandIn) -> int:
    lmp.customers.append({"customer_id": "cid-acme", "name": "Acme"})
    [cid] = await add(
        ops.db, customer("Acme", status=Status.NOT_PROVISIONED, lmp_customer_id="cid-acme")
    )
    return cid


async def test_what_lmp_did_is_recorded(ops: Operations, lmp: LmpStandIn) -> None:
    cid = await lmp_customer(ops, lmp)
    lmp.delay = 0.3
    await stop_while_waiting(ops, lmp, cid, trial=False)
    assert await settle_stale(ops) == []  # not stale yet: it may still be answered
    assert await settle_stale(ops, older_than=NOW) == ["Acme"]
    c = await row(ops, cid)
    assert (c.status, str(c.expiration_date), c.v1_connected) == (
        Status.ACTIVE,
        "2027-12-04",
        True,
    )
    [sub] = lmp.subscriptions
    assert (await details(ops, cid))[-1] == (
        "done by LMP: found in LMP after the answer was lost: "
        f"LMP subscription {sub['subscription_id']} (Trend Vision One), expires 2027-12-04"
    )
    assert len(lmp.calls("POST")) == 1
    assert await settle_stale(ops, older_than=NOW) == []  # settled once


async def test_nothing_done_is_failed_with_a_retry(ops: Operations, lmp: LmpStandIn) -> None:
    cid = await lmp_customer(ops, lmp)
    lmp.faults.append(Fault(500, "{}", path_contains="trend-vision-one", delay=0.3))
    await stop_while_waiting(ops, lmp, cid, trial=True)
    assert await settle_stale(ops, older_than=NOW) == ["Acme"]
    c = await row(ops, cid)
    assert (c.status, c.status_detail) == (
        Status.FAILED,
        "No answer from LMP was recorded (the bot stopped while waiting); "
        "nothing was provisioned. Retry.",
    )
    assert why_not(Action.START_TRIAL, c, PartnerType.DFIR) is None  # Retry is offered
    [check] = lmp.calls("GET", "/LMPI/v2.5/customers/subscriptions")
    assert "created_start=" in check.uri
    assert lmp.subscriptions == []
    async with ops.db.session() as s:
        actions = await s.scalars(
            select(AuditEntry.action).where(AuditEntry.customer_id == cid).order_by(AuditEntry.id)
        )
        assert list(actions) == [Action.START_TRIAL, Action.START_TRIAL]


async def test_lmp_unable_to_tell_says_check_lmp(ops: Operations, lmp: LmpStandIn) -> None:
    cid = await lmp_customer(ops, lmp)
    lmp.delay = 0.3
    await stop_while_waiting(ops, lmp, cid, trial=False)
    lmp.faults.append(Fault(400, '{"error_subject":"InvalidParametersDate"}', path_contains="v2.5"))
    assert await settle_stale(ops, older_than=NOW) == ["Acme"]
    c = await row(ops, cid)
    assert c.status is Status.FAILED
    assert c.status_detail == (
        "No answer from LMP was recorded (the bot stopped while waiting), and whether it "
        "provisioned could not be checked (LMP answered 400: InvalidParametersDate): "
        "check LMP before retrying."
    )
