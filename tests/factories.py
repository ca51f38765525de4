"""Customers for tests, written straight to the store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from store.db import Database
from store.enums import Level, LicenseType, Origin, Status
from store.models import Customer
from store.names import company_key
from store.regions import DataCenter


def customer(company: str, **fields: Any) -> Customer:
    values: dict[str, Any] = {
        "license_type": LicenseType.ANNUAL,
        "status": Status.ACTIVE,
        "cri": 40,
        "exposure": Level.MEDIUM,
        "security_configuration": Level.LOW,
        "expiration_date": dt.date(2027, 6, 30),
        "sign_in_account": f"admin@{company.lower().replace(' ', '')}.example",
        "origin": Origin.IMPORTED,
        "data_center": DataCenter.US,
    }
    values.update(fields)
    return Customer(company=company, company_key=company_key(company), **values)


async def add(db: Database, *customers: Customer) -> list[int]:
    async with db.transaction() as s:
        s.add_all(customers)
        await s.flush()
        return [c.id for c in customers]


async def add_many(db: Database, n: int, prefix: str = "Company") -> None:
    """n customers named `Company 00001`… with CRI spread over 0-100."""
    levels = list(Level)
    async with db.transaction() as s:
        s.add_all(
            customer(
                f"{prefix} {i:05d}",
                cri=(i * 37) % 101,
                exposure=levels[i % 3],
                security_configuration=levels[(i // 3) % 3],
                expiration_date=dt.date(2027, 1, 1) + dt.timedelta(days=i % 400),
            )
            for i in range(1, n + 1)
        )
