"""Customer sync from LMP: upserts, LMP origin, never deletes, nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store.db import Database
from store.enums import Action, Origin, PartnerType, Status
from store.lmp import LmpClient, LmpError
from store.lmp_sync import sync_customers
from store.models import AuditEntry, Customer
from store.rules import why_not
from tests.factories import add, customer
from tests.lmp_standin import SECRET_KEY, TOKEN, Fault, LmpStandIn


async def rows(db: Database) -> dict[str, Customer]:
    async with db.session() as s:
        return {c.company: c for c in await s.scalars(select(Customer))}


async def sync(db: Database, lmp: LmpStandIn):  # type: ignore[no-untyped-def]
    client = LmpClient(lmp.url, TOKEN, SECRET_KEY, backoff=0.001)
    try:
        return await sync_customers(db, client)
    finally:
        await client.close()


async def test_sync_upserts_marks_and_never_deletes(db: Database, lmp: LmpStandIn) -> None:
    lmp.add_customers(150)
    await add(
        db,
        customer("LMP Customer 001", origin=Origin.IMPORTED, cri=77),  # matched by name
        customer("Handmade", origin=Origin.MANUAL),  # not in LMP: left alone
    )
    report = await sync(db, lmp)
    assert (report.listed, len(report.created), report.updated) == (150, 149, ["LMP Customer 001"])
    assert len(lmp.calls("GET")) == 2  # two pages
    found = await rows(db)
    assert len(found) == 151
    first = found["LMP Customer 001"]
    assert (first.origin, first.cri, first.lmp_customer_id) == (
        Origin.LMP,
        77,
        lmp.customers[0]["customer_id"],
    )
    new = found["LMP Customer 150"]
    assert (new.origin, new.status) == (Origin.LMP, Status.NOT_PROVISIONED)
    assert new.lmp_customer_id == lmp.customers[149]["customer_id"]
    assert found["Handmade"].lmp_customer_id is None
    # LMP customers, like imported ones, cannot be disconnected by an MSP.
    assert "Only customers created manually" in str(
        why_not(Action.REQUEST_DISCONNECT, new, PartnerType.MSP)
    )

    # Renamed in LMP, and one gone: renamed in place; the gone one kept and marked.
    gone = lmp.customers.pop(4)
    lmp.customers[0]["name"] = "LMP Customer One"
    again = await sync(db, lmp)
    assert (again.created, again.updated, again.missing) == (
        [],
        ["LMP Customer One"],
        ["LMP Customer 005"],
    )
    found = await rows(db)
    assert len(found) == 151 and "LMP Customer 001" not in found
    assert found["LMP Customer 005"].lmp_missing_since is not None
    assert found["LMP Customer One"].version == first.version + 1

    third = await sync(db, lmp)  # nothing new: nothing reported twice
    assert (third.created, third.updated, third.missing) == ([], [], [])

    lmp.customers.append(gone)  # listed again: the mark is cleared
    fourth = await sync(db, lmp)
    assert fourth.returned == ["LMP Customer 005"]
    assert (await rows(db))["LMP Customer 005"].lmp_missing_since is None

    async with db.session() as s:
        details = [
            e.detail
            for e in await s.scalars(
                select(AuditEntry).where(AuditEntry.company == "LMP Customer 005")
            )
        ]
    assert details == [
        f"from LMP (customer id {gone['customer_id']})",
        "no longer listed by LMP: kept, not deleted",
        "listed again by LMP",
    ]


async def test_failed_listing_writes_nothing(db: Database, lmp: LmpStandIn) -> None:
    lmp.add_customers(120)
    lmp.faults += [Fault(500, "<html>Internal Error</html>", "text/html", "page=2")] * 5
    with pytest.raises(LmpError, match="LMP answered 500: Internal Error"):
        await sync(db, lmp)
    assert await rows(db) == {}


async def test_bad_rows_are_skipped_and_said(db: Database, lmp: LmpStandIn) -> None:
    lmp.add_customers(2)
    lmp.customers += [
        {"customer_id": "", "name": "No Id"},
        {"customer_id": "abc", "name": "  "},
        {"customer_id": "dup", "name": "lmp customer 001"},
    ]
    report = await sync(db, lmp)
    assert len(report.created) == 2
    assert len(report.skipped) == 3
    assert "same name" in report.skipped[-1]
