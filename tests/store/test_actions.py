"""Operations: roles, states, versions, approvals, audit — and exactly-once under concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, text

from store.actions import Operations, Stale
from store.actor import Actor
from store.db import Database
from store.enums import Action, ApprovalStatus, LicenseType, Origin, PartnerType, Role, Status
from store.errors import AccessDenied, InvalidInput
from store.models import AuditEntry, Customer
from store.platform import LocalLedger, PlatformError
from store.regions import DataCenter
from tests.factories import add, customer

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
OPERATOR = Actor("U0OPS", Role.OPERATOR, name="ops")
APPROVER = Actor("U0APP", Role.APPROVER, name="app")
ADMIN = Actor("U0ADM", Role.ADMIN, name="adm")
VIEWER = Actor("U0VIEW", Role.VIEWER, name="view")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def ops(
    db: Database, partner: PartnerType = PartnerType.MSP, clock: Clock | None = None
) -> Operations:
    clock = clock or Clock()
    return Operations(db, LocalLedger(clock), partner, clock)


async def reload(db: Database, cid: int) -> Customer:
    async with db.session() as s:
        c = await s.get(Customer, cid)
        assert c is not None
        return c


async def entries(db: Database) -> list[AuditEntry]:
    async with db.session() as s:
        return list((await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def test_add_customer_is_manual_and_audited(db: Database) -> None:
    o = ops(db)
    c = await o.add_customer(OPERATOR, "  New  Co ", "boss@new.example", LicenseType.ANNUAL)
    assert (c.company, c.origin, c.status) == ("New Co", Origin.MANUAL, Status.NOT_PROVISIONED)
    with pytest.raises(InvalidInput, match="already a customer"):
        await o.add_customer(OPERATOR, "new co", None, LicenseType.MONTHLY)
    with pytest.raises(InvalidInput, match="not a valid sign-in"):
        await o.add_customer(OPERATOR, "Other", "nope", LicenseType.MONTHLY)
    with pytest.raises(AccessDenied, match="operator"):
        await o.add_customer(VIEWER, "Other", None, LicenseType.MONTHLY)
    [entry] = await entries(db)
    assert (entry.action, entry.actor_id, entry.company) == (Action.ADD, "U0OPS", "New Co")


async def test_provision_activates_and_sets_dates(db: Database) -> None:
    [cid] = await add(
        db,
        customer(
            "Acme",
            status=Status.NOT_PROVISIONED,
            data_center=None,
            expiration_date=None,
            primary_user_account=None,
        ),
    )
    o = ops(db)
    c = await o.provision(OPERATOR, cid, 1, DataCenter.EU, "audit@acme.example")
    assert c.status is Status.ACTIVE and c.data_center is DataCenter.EU
    assert c.expiration_date == dt.date(2027, 12, 4)  # annual
    assert c.primary_user_account == c.sign_in_account
    with pytest.raises(InvalidInput, match="already has Vision One"):
        await o.provision(OPERATOR, cid, c.version, DataCenter.EU, None)
    actions = [(e.action, e.detail) for e in await entries(db)]
    assert actions == [(Action.PROVISION, "requested"), (Action.PROVISION, "done by local ledger")]


async def test_provision_failure_is_recorded_and_can_be_retried(db: Database) -> None:
    [cid] = await add(db, customer("Acme", status=Status.NOT_PROVISIONED))

    class Broken(LocalLedger):
        async def provision(self, *args: object, **kwargs: object):  # type: ignore[override]
            raise PlatformError("data center EU is full")

    o = Operations(db, Broken(), PartnerType.MSP)
    c = await o.provision(OPERATOR, cid, 1, DataCenter.EU, None)
    assert c.status is Status.FAILED and c.status_detail == "data center EU is full"
    o.platform = LocalLedger()
    c = await o.provision(OPERATOR, cid, c.version, DataCenter.EU, None)
    assert c.status is Status.ACTIVE and c.status_detail is None


async def test_trials_are_dfir_only_60_days_and_extend_by_30(db: Database) -> None:
    [cid] = await add(db, customer("Acme", status=Status.NOT_PROVISIONED, expiration_date=None))
    with pytest.raises(InvalidInput, match="for DFIR partners"):
        await ops(db).provision(OPERATOR, cid, 1, DataCenter.US, "a@acme.example", trial=True)
    o = ops(db, PartnerType.DFIR)
    with pytest.raises(InvalidInput, match="Auditor role"):
        await o.provision(OPERATOR, cid, 1, DataCenter.US, None, trial=True)
    c = await o.provision(OPERATOR, cid, 1, DataCenter.US, "a@acme.example", trial=True)
    assert c.status is Status.TRIAL and c.expiration_date == dt.date(2027, 2, 2)
    c = await o.extend_trial(OPERATOR, cid, c.version)
    c = await o.extend_trial(OPERATOR, cid, c.version)
    assert c.expiration_date == dt.date(2027, 4, 3) and c.trial_extensions == 2


async def test_a_second_extend_on_the_same_card_adds_nothing(db: Database) -> None:
    [cid] = await add(
        db, customer("Acme", status=Status.TRIAL, expiration_date=dt.date(2027, 1, 1))
    )
    o = ops(db, PartnerType.DFIR)
    await o.extend_trial(OPERATOR, cid, 1)
    with pytest.raises(Stale, match="changed since"):
        await o.extend_trial(OPERATOR, cid, 1)
    c = await reload(db, cid)
    assert c.expiration_date == dt.date(2027, 1, 31) and c.trial_extensions == 1


async def test_concurrent_extends_of_one_card_count_once(db: Database) -> None:
    [cid] = await add(
        db, customer("Acme", status=Status.TRIAL, expiration_date=dt.date(2027, 1, 1))
    )
    o = ops(db, PartnerType.DFIR)
    results = await asyncio.gather(
        *(o.extend_trial(OPERATOR, cid, 1) for _ in range(8)), return_exceptions=True
    )
    assert sum(isinstance(r, Customer) for r in results) == 1
    assert all(isinstance(r, Customer | Stale) for r in results), results
    c = await reload(db, cid)
    assert c.trial_extensions == 1 and c.expiration_date == dt.date(2027, 1, 31)
    assert [e.action for e in await entries(db)] == [Action.EXTEND_TRIAL]


async def test_extend_refuses_a_non_trial(db: Database) -> None:
    [cid] = await add(db, customer("Acme", status=Status.ACTIVE))
    with pytest.raises(InvalidInput, match="Only trials can be extended"):
        await ops(db, PartnerType.DFIR).extend_trial(OPERATOR, cid, 1)


async def test_one_nfr_per_partner_admin_only(db: Database) -> None:
    a, b = await add(db, customer("A"), customer("B"))
    o = ops(db)
    with pytest.raises(AccessDenied, match="admin"):
        await o.assign_nfr(OPERATOR, a, 1)
    c = await o.assign_nfr(ADMIN, a, 1)
    assert c.is_nfr and c.license_type is LicenseType.MONTHLY_NFR
    with pytest.raises(InvalidInput, match="already assigned to A; it cannot be moved"):
        await o.assign_nfr(ADMIN, b, 1)


async def test_concurrent_nfr_assignments_give_one(db: Database) -> None:
    ids = await add(db, *(customer(f"C{i}") for i in range(5)))
    o = ops(db)
    results = await asyncio.gather(
        *(o.assign_nfr(ADMIN, i, 1) for i in ids), return_exceptions=True
    )
    assert sum(isinstance(r, Customer) for r in results) == 1
    assert all(isinstance(r, Customer | InvalidInput) for r in results), results


async def test_accounts_need_vision_one(db: Database) -> None:
    a, b = await add(
        db, customer("A", status=Status.NOT_PROVISIONED), customer("B", primary_user_account=None)
    )
    o = ops(db)
    with pytest.raises(InvalidInput, match="once Vision One is provisioned"):
        await o.update_accounts(OPERATOR, a, 1, "x@a.example", None)
    c = await o.update_accounts(OPERATOR, b, 1, "new@b.example", "pua@b.example")
    assert (c.sign_in_account, c.primary_user_account) == ("new@b.example", "pua@b.example")
    c = await o.update_accounts(OPERATOR, b, c.version, None, "next@b.example")
    details = [(e.action, e.detail) for e in await entries(db)]
    assert details == [
        (Action.UPDATE_SIGN_IN, "by local ledger"),
        (Action.SET_PRIMARY_USER, "created; by local ledger"),
        (Action.SET_PRIMARY_USER, "ownership transferred; by local ledger"),
    ]


async def test_disconnect_needs_manual_origin_and_a_different_approver(db: Database) -> None:
    imported, manual = await add(db, customer("Imp"), customer("Man", origin=Origin.MANUAL))
    o = ops(db)
    with pytest.raises(InvalidInput, match="Only customers created manually"):
        await o.request_disconnect(OPERATOR, imported, 1)
    req = await o.request_disconnect(OPERATOR, manual, 1)
    with pytest.raises(InvalidInput, match="already asked"):
        await o.request_disconnect(ADMIN, manual, 1)
    self_approver = Actor("U0OPS", Role.ADMIN, name="ops")
    with pytest.raises(AccessDenied, match="another approver"):
        await o.decide(self_approver, req.id, approve=True)
    with pytest.raises(AccessDenied, match="approver"):
        await o.decide(OPERATOR, req.id, approve=True)
    decision = await o.decide(APPROVER, req.id, approve=True)
    assert decision.approval.status is ApprovalStatus.APPROVED
    assert (await reload(db, manual)).status is Status.DISCONNECTED
    late = await o.decide(ADMIN, req.id, approve=False)
    assert late.already and "Already approved by <@U0APP>" in (late.told or "")
    disconnect = (await entries(db))[-1]
    assert disconnect.action is Action.DISCONNECT and disconnect.approval_id == req.id


async def test_dfir_disconnect_closes_any_case(db: Database) -> None:
    [cid] = await add(db, customer("Imp", status=Status.TRIAL))
    o = ops(db, PartnerType.DFIR)
    req = await o.request_disconnect(OPERATOR, cid, 1)
    await o.decide(APPROVER, req.id, approve=False)
    assert (await reload(db, cid)).status is Status.TRIAL


async def test_concurrent_decisions_decide_once(db: Database) -> None:
    [cid] = await add(db, customer("Man", origin=Origin.MANUAL))
    o = ops(db)
    req = await o.request_disconnect(OPERATOR, cid, 1)
    deciders = [Actor(f"U0A{i}", Role.APPROVER, name=f"a{i}") for i in range(6)]
    results = await asyncio.gather(
        *(o.decide(a, req.id, approve=i % 2 == 0) for i, a in enumerate(deciders)),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    wins = [r for r in results if not r.already]
    assert len(wins) == 1, results
    decided = [
        e
        for e in await entries(db)
        if e.action in (Action.APPROVE_DISCONNECT, Action.REJECT_DISCONNECT)
    ]
    assert len(decided) == 1


async def test_pending_requests_expire_not_reject(db: Database) -> None:
    [cid] = await add(db, customer("Man", origin=Origin.MANUAL))
    clock = Clock()
    o = ops(db, clock=clock)
    req = await o.request_disconnect(OPERATOR, cid, 1)
    clock.now = NOW + dt.timedelta(hours=25)
    [expired] = await o.expire_due()
    assert expired.status is ApprovalStatus.EXPIRED and expired.decided_by == "system"
    assert await o.expire_due() == []
    after = await o.decide(APPROVER, req.id, approve=True)
    assert after.already and "expired" in (after.told or "")
    assert (await reload(db, cid)).status is Status.ACTIVE
    again = await o.request_disconnect(OPERATOR, cid, 1)  # a fresh request may follow
    assert again.id != req.id


async def test_clicking_an_expired_request_records_expiry(db: Database) -> None:
    [cid] = await add(db, customer("Man", origin=Origin.MANUAL))
    clock = Clock()
    o = ops(db, clock=clock)
    req = await o.request_disconnect(OPERATOR, cid, 1)
    clock.now = NOW + dt.timedelta(hours=24)
    decision = await o.decide(APPROVER, req.id, approve=True)
    assert decision.expired and decision.approval.status is ApprovalStatus.EXPIRED
    assert (await reload(db, cid)).status is Status.ACTIVE


async def test_channel_allow_list(db: Database) -> None:
    [cid] = await add(db, customer("Acme", status=Status.TRIAL))
    o = ops(db, PartnerType.DFIR)
    assert await o.allow_channel(ADMIN, "C0OPS", True) == ["C0OPS"]
    elsewhere = Actor("U0OPS", Role.OPERATOR, channel_id="C0RANDOM")
    with pytest.raises(AccessDenied, match="<#C0OPS>"):
        await o.extend_trial(elsewhere, cid, 1)
    here = Actor("U0OPS", Role.OPERATOR, channel_id="C0OPS")
    await o.extend_trial(here, cid, 1)
    assert await o.allow_channel(ADMIN, "C0OPS", False) == []
    with pytest.raises(AccessDenied):
        await o.allow_channel(OPERATOR, "C0X", True)


async def test_audit_log_is_append_only(db: Database) -> None:
    await ops(db).add_customer(OPERATOR, "Acme", None, LicenseType.ANNUAL)
    for sql in ("UPDATE audit_entry SET actor_id = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(Exception, match="append-only"):
            async with db.transaction() as s:
                await s.execute(text(sql))
    assert len(await entries(db)) == 1
