"""Trend's Licensing Management Platform as the partner platform.

LMP has endpoints for creating customers and provisioning Vision One (paid, trial, NFR).
Everything else is carried out by the local ledger, and the audit entry says so. To move an
operation to LMP when an endpoint appears, add its function to `endpoints`: nothing else changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from store.lmp import RECOVER_WINDOW, LmpClient, LmpError
from store.models import Customer
from store.platform import Account, Licence, LocalLedger, PlatformError
from store.regions import DataCenter

# LMP's data center codes (domain.md 3b); ZA and US Government are not offered there.
LMP_DATA_CENTERS: dict[DataCenter, str] = {
    DataCenter.US: "US",
    DataCenter.EU: "EU",
    DataCenter.SG: "SG",
    DataCenter.JP: "JP",
    DataCenter.AU: "AU",
    DataCenter.IN: "IN",
    DataCenter.MEA: "MEA",
    DataCenter.CA: "CA",
    DataCenter.UK: "UK",
}


def _date(value: object) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def licence_of(answer: dict[str, Any], today: dt.date) -> Licence:
    """The licence LMP's subscription answer describes: the latest expiry of its licences."""
    licences = [x for x in answer.get("licenses") or [] if isinstance(x, dict)]
    starts = [d for d in (_date(x.get("license_start_date")) for x in licences) if d]
    ends = [d for d in (_date(x.get("license_expiration_date")) for x in licences) if d]
    expires = max(ends) if ends else None
    url = answer.get("service_url")
    url = url if isinstance(url, str) and url.startswith("https://") else None
    note = f"LMP subscription {answer.get('subscription_id') or '?'}"
    if answer.get("product_name"):
        note += f" ({answer['product_name']})"
    note += f", expires {expires.isoformat() if expires else 'not given'}"
    return Licence(min(starts) if starts else today, expires, url, note)


def _code(dc: DataCenter | None) -> str:
    if dc is None:
        raise PlatformError("No data center is known for this customer.")
    code = LMP_DATA_CENTERS.get(dc)
    if code is None:
        raise PlatformError(f"LMP does not offer the {dc.label} data center; choose another.")
    return code


class LmpPlatform:
    name = "LMP"
    data_centers = tuple(LMP_DATA_CENTERS)

    def __init__(self, client: LmpClient, ledger: LocalLedger | None = None) -> None:
        self.client = client
        self.ledger = ledger or LocalLedger()
        # The one mapping: operations LMP has an endpoint for. The rest go to the ledger.
        self.endpoints: dict[str, Callable[..., Awaitable[Any]]] = {
            "create_customer": self._create_customer,
            "provision": self._provision,
            "assign_nfr": self._assign_nfr,
        }

    def carried_out_by(self, operation: str) -> str:
        if operation in self.endpoints:
            return self.name
        return f"{self.ledger.name} (LMP has no endpoint for this)"

    async def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        target = self.endpoints.get(operation) or getattr(self.ledger, operation)
        return await target(*args, **kwargs)

    # --- the Platform interface: each goes through the mapping ---------------------------

    async def create_customer(self, company: str, sign_in: str | None) -> Account | None:
        result: Account | None = await self._call("create_customer", company, sign_in)
        return result

    async def provision(
        self, customer: Customer, data_center: DataCenter, auditor: str | None, *, trial: bool
    ) -> Licence:
        result: Licence = await self._call("provision", customer, data_center, auditor, trial=trial)
        return result

    async def provisioned_since(
        self, customer: Customer, since: dt.datetime, *, trial: bool
    ) -> Licence | None:
        cid = customer.lmp_customer_id or await self.client.find_customer(customer.company)
        if cid is None:
            return None
        start = (since - dt.timedelta(seconds=RECOVER_WINDOW)).strftime("%Y-%m-%dT%H:%M:%SZ")
        answer = await self.client.subscription_since(cid, start, "Trial" if trial else "Full")
        if answer is None:
            return None
        licence = licence_of(answer, self.ledger.clock().date())
        note = f"found in LMP after the answer was lost: {licence.note}"
        return dataclasses.replace(licence, platform_id=cid, note=note)

    async def extend_trial(self, customer: Customer, days: int) -> dt.date:
        result: dt.date = await self._call("extend_trial", customer, days)
        return result

    async def assign_nfr(self, customer: Customer) -> Licence:
        result: Licence = await self._call("assign_nfr", customer)
        return result

    async def connect(self, customer: Customer, data_center: DataCenter) -> None:
        await self._call("connect", customer, data_center)

    async def update_sign_in(self, customer: Customer, email: str) -> None:
        await self._call("update_sign_in", customer, email)

    async def set_primary_user(self, customer: Customer, email: str) -> None:
        await self._call("set_primary_user", customer, email)

    async def disconnect(self, customer: Customer) -> None:
        await self._call("disconnect", customer)

    # --- LMP endpoints -------------------------------------------------------------------

    async def _create_customer(self, company: str, sign_in: str | None) -> Account:
        """Created in LMP, unless LMP has a customer of that name already (not yet synced):
        then that one is linked, rather than a second made that no sync could tell apart."""
        found = await self.client.find_customer(company)
        if found:
            return Account(found, f"linked to LMP customer {found}, found by name")
        contact = {"email": sign_in} if sign_in else {}
        created = await self.client.create_customer({"name": company}, contact)
        return Account(created, f"created in LMP as {created}")

    async def _provision(
        self, customer: Customer, data_center: DataCenter, auditor: str | None, *, trial: bool
    ) -> Licence:
        body = {"version": "Trial" if trial else "Full", "data_center": _code(data_center)}
        return await self._subscribe(customer, body)

    async def _assign_nfr(self, customer: Customer) -> Licence:
        if customer.data_center is None:
            raise PlatformError(
                f"LMP needs the data center for {customer.company}'s NFR licence, and none is "
                "recorded yet: it is recorded when its Vision One is provisioned or connected."
            )
        body = {"version": "Full", "data_center": _code(customer.data_center), "isNFR": True}
        return await self._subscribe(customer, body)

    async def _subscribe(self, customer: Customer, body: dict[str, Any]) -> Licence:
        cid, linked = await self._account(customer)
        try:
            answer = await self.client.vision_one(cid, body)
        except LmpError as e:
            e.platform_id = cid if linked else None  # linked even so: recorded
            raise
        licence = licence_of(answer, self.ledger.clock().date())
        if linked is None:
            return licence
        return dataclasses.replace(licence, platform_id=cid, note=f"{linked}; {licence.note}")

    async def _account(self, customer: Customer) -> tuple[str, str | None]:
        """The customer's LMP id; one not linked yet (added before LMP was configured) is
        found in LMP by name, else created there. The second part says which, if either."""
        if customer.lmp_customer_id:
            return customer.lmp_customer_id, None
        try:
            account = await self._create_customer(customer.company, customer.sign_in_account)
        except LmpError as e:
            raise LmpError(
                f"{customer.company} has no LMP account and LMP refused to create one "
                f"({e.message}). Add it in LMP, then run `overview-bot lmp sync`.",
                e.status,
                e.subject,
            ) from None
        return account.platform_id, account.note
