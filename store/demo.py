"""A generated demo portfolio for the sandbox: deterministic, and clearly marked as demo data."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping

from sqlalchemy import func, select

from store import access
from store.db import Database
from store.enums import Level, LicenseType, Origin, Role, SnapshotSource, Status
from store.models import Customer, RiskSnapshot, utcnow
from store.names import company_key
from store.regions import DataCenter

DEMO_PREFIX = "Demo · "
_NAMES = (
    "Acme Dental",
    "Globex Logistics",
    "Initech Payroll",
    "Umbrella Clinics",
    "Hooli Labs",
    "Stark Fabrication",
    "Wayne Shipping",
    "Wonka Foods",
    "Soylent Farms",
    "Tyrell Robotics",
    "Cyberdyne Systems",
    "Vandelay Imports",
    "Pied Piper",
    "Dunder Paper",
    "Gringotts Credit",
    "Oscorp Chemicals",
    "Monarch Solutions",
    "Nakatomi Trading",
    "Massive Dynamic",
    "Aperture Science",
    "Bluth Homes",
    "Prestige Worldwide",
    "Kramerica Industries",
    "Sterling Cooper",
    "Los Pollos Hermanos",
    "Krusty Burger",
    "Duff Brewing",
    "Planet Express",
    "Spacely Sprockets",
    "Cogswell Cogs",
    "Blue Sun Textiles",
    "Virtucon Energy",
    "Zorg Industries",
    "Rekall Travel",
    "Weyland Mining",
    "Ollivanders Wands",
    "Mom's Friendly Robots",
    "Sirius Cybernetics",
    "Ghostbusters Pest Control",
    "Bubba Gump Seafood",
)


def demo_name(name: str) -> str:
    return DEMO_PREFIX + name


def _customer(rng: random.Random, name: str, today: dt.date, now: dt.datetime) -> Customer:
    status = rng.choices(
        [Status.ACTIVE, Status.TRIAL, Status.NOT_PROVISIONED, Status.FAILED, Status.EXPIRED],
        weights=[55, 15, 18, 4, 8],
    )[0]
    license_type = rng.choice([LicenseType.ANNUAL, LicenseType.ANNUAL, LicenseType.MONTHLY])
    slug = name.lower().replace("'", "").replace(" ", "")[:18]
    c = Customer(
        company=demo_name(name),
        company_key=company_key(demo_name(name)),
        license_type=license_type,
        status=status,
        origin=rng.choice([Origin.MANUAL, Origin.IMPORTED]),
        sign_in_account=f"it@{slug}.example",
        trial_extensions=0,
        is_nfr=False,
        v1_connected=False,
        version=1,
        created_at=now,
        updated_at=now,
    )
    if status in (Status.ACTIVE, Status.TRIAL, Status.EXPIRED):
        c.cri = rng.choice([rng.randint(5, 30), rng.randint(31, 69), rng.randint(70, 98)])
        c.exposure = rng.choice(list(Level))
        c.security_configuration = rng.choice(list(Level))
        c.data_center = rng.choice([DataCenter.US, DataCenter.EU, DataCenter.UK, DataCenter.AU])
        c.v1_connected = True
        c.primary_user_account = f"admin@{slug}.example"
    if status is Status.ACTIVE:
        c.license_start_date = today - dt.timedelta(days=rng.randint(30, 300))
        c.expiration_date = today + dt.timedelta(days=rng.randint(10, 400))
    elif status is Status.TRIAL:
        c.trial_start_date = today - dt.timedelta(days=rng.randint(1, 58))
        c.expiration_date = c.trial_start_date + dt.timedelta(days=60)
    elif status is Status.EXPIRED:
        c.expiration_date = today - dt.timedelta(days=rng.randint(1, 40))
    elif status is Status.FAILED:
        c.status_detail = "Demo: the data center refused the request (quota reached)"
    return c


def _snapshots(rng: random.Random, c: Customer, now: dt.datetime) -> list[RiskSnapshot]:
    """A week of risk history, so digests show increases."""
    if c.cri is None:
        return []
    past = max(0, min(100, c.cri - rng.randint(-10, 35)))
    return [
        RiskSnapshot(
            customer=c,
            taken_at=now - dt.timedelta(days=7),
            cri=past,
            exposure=c.exposure,
            security_configuration=c.security_configuration,
            source=SnapshotSource.IMPORT,
        ),
        RiskSnapshot(
            customer=c,
            taken_at=now - dt.timedelta(hours=4),
            cri=c.cri,
            exposure=c.exposure,
            security_configuration=c.security_configuration,
            source=SnapshotSource.VISION_ONE,
        ),
    ]


async def seed_demo(
    db: Database, roles: Mapping[str, Role], *, seed: int = 6, today: dt.date | None = None
) -> int:
    """Fill an empty database with ~40 demo customers and grant the demo users their roles.

    Returns how many customers were created: 0 when the database already holds customers,
    so real data is never mixed with demo data.
    """
    now = utcnow()
    today = today or now.date()
    rng = random.Random(seed)
    async with db.transaction() as s:
        if await s.scalar(select(func.count()).select_from(Customer)):
            return 0
        customers = [_customer(rng, name, today, now) for name in _NAMES]
        nfr = customers[3]  # the partner's one NFR licence, for the demo's own use
        nfr.license_type, nfr.is_nfr, nfr.status = LicenseType.MONTHLY_NFR, True, Status.ACTIVE
        nfr.cri, nfr.exposure, nfr.security_configuration = 22, Level.LOW, Level.MEDIUM
        nfr.expiration_date = today + dt.timedelta(days=25)
        s.add_all(customers)
        for c in customers:
            s.add_all(_snapshots(rng, c, now))
        for user_id, role in roles.items():
            await access.grant(s, None, user_id, role, granted_by="sandbox")
    return len(customers)
