"""The partner platform: where provisioning and the other actions are carried out.

Operations call it inside their transaction and record what it returns. The default is
the local ledger, which decides dates itself; Trend's Licensing Management Platform API
(domain.md 3b) stands behind the same interface in store/lmp_platform.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from store.enums import LicenseType
from store.models import Customer, utcnow
from store.regions import DataCenter

TRIAL_DAYS = 60
EXTENSION_DAYS = 30


class PlatformError(Exception):
    """The platform refused or failed; `message` is its own words, fit to show.
    `platform_id`: the customer's platform account, when it was created or found meanwhile."""

    def __init__(self, message: str, platform_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.platform_id = platform_id


@dataclass(frozen=True)
class Licence:
    start: dt.date
    expires: dt.date | None
    console_url: str | None = None
    note: str | None = None  # what the platform answered, for the audit entry
    platform_id: str | None = None  # the customer's platform account, if newly linked


@dataclass(frozen=True)
class Account:
    """A customer's account on the platform: its id, and how it was come by (for audit)."""

    platform_id: str
    note: str  # "created in LMP as …" or "linked to LMP customer …, found by name"


# The operations a platform carries out, by the names carried_out_by() is asked about.
OPERATIONS = (
    "create_customer",
    "provision",
    "extend_trial",
    "assign_nfr",
    "connect",
    "update_sign_in",
    "set_primary_user",
    "disconnect",
)


class Platform(Protocol):
    name: str
    data_centers: tuple[DataCenter, ...]  # where it can provision

    def carried_out_by(self, operation: str) -> str:
        """Who really does `operation` (one of OPERATIONS), as the audit entry says it."""
        ...

    async def create_customer(self, company: str, sign_in: str | None) -> Account | None:
        """The customer's platform account (created, or an existing one of that name), if
        the platform has accounts."""
        ...

    async def provision(
        self, customer: Customer, data_center: DataCenter, auditor: str | None, *, trial: bool
    ) -> Licence: ...

    async def provisioned_since(
        self, customer: Customer, since: dt.datetime, *, trial: bool
    ) -> Licence | None:
        """What a provisioning request whose answer was lost (the bot stopped while waiting)
        did: the licence, or None when nothing was provisioned."""
        ...

    async def extend_trial(self, customer: Customer, days: int) -> dt.date: ...

    async def assign_nfr(self, customer: Customer) -> Licence: ...

    async def connect(self, customer: Customer, data_center: DataCenter) -> None: ...

    async def update_sign_in(self, customer: Customer, email: str) -> None: ...

    async def set_primary_user(self, customer: Customer, email: str) -> None: ...

    async def disconnect(self, customer: Customer) -> None: ...


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


class LocalLedger:
    """The bot's own record as the platform: every action succeeds and is dated here."""

    name = "local ledger"
    data_centers = tuple(DataCenter)

    def __init__(self, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.clock = clock

    def carried_out_by(self, operation: str) -> str:
        return self.name

    def _today(self) -> dt.date:
        return self.clock().date()

    async def create_customer(self, company: str, sign_in: str | None) -> Account | None:
        return None

    async def provision(
        self, customer: Customer, data_center: DataCenter, auditor: str | None, *, trial: bool
    ) -> Licence:
        today = self._today()
        if trial:
            expires = today + dt.timedelta(days=TRIAL_DAYS)
        elif customer.license_type is LicenseType.ANNUAL:
            expires = _add_months(today, 12)
        else:
            expires = _add_months(today, 1)
        return Licence(today, expires, data_center.console_url)

    async def provisioned_since(
        self, customer: Customer, since: dt.datetime, *, trial: bool
    ) -> Licence | None:
        return None  # the ledger decides within the request: an unanswered one did nothing

    async def extend_trial(self, customer: Customer, days: int) -> dt.date:
        base = customer.expiration_date or self._today()
        return base + dt.timedelta(days=days)

    async def assign_nfr(self, customer: Customer) -> Licence:
        today = self._today()
        return Licence(today, _add_months(today, 1))

    async def connect(self, customer: Customer, data_center: DataCenter) -> None:
        return None

    async def update_sign_in(self, customer: Customer, email: str) -> None:
        return None

    async def set_primary_user(self, customer: Customer, email: str) -> None:
        return None

    async def disconnect(self, customer: Customer) -> None:
        return None
