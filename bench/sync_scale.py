"""Syncing 1,000 connected customers from Vision One against a local stand-in of the API.

Run from the repository root:  .venv/bin/python -m bench.sync_scale [--db postgresql] [--check]

The stand-in (tests/visionone_standin.py) runs in its own subprocess, so it does not share
the syncer's event loop, and answers each request after --latency seconds (default 0.05,
a round trip to a remote API). Faults are mixed in by token: 2% answer 429 with
Retry-After: 1 once, 1% answer 500 once, 1% answer 401 always. The run is Syncer.run()
as `overview-bot sync` runs it: bounded pool, sealed tokens opened, results written in
batches. Bar: all customers tried and every non-401 customer synced, in under 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from store.db import Database
from store.enums import ConnectionState, LicenseType, Origin, Status
from store.migrate import upgrade
from store.models import Customer, RiskSnapshot, VisionOneConnection, utcnow
from store.names import company_key
from store.regions import DataCenter
from store.secrets import TokenVault, new_key
from store.sync import DEFAULT_REQUESTS_PER_MINUTE, Syncer
from store.visionone import Retrying

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://127.0.0.1:5432/test")
BAR_SECONDS = 30.0
REGIONS = [dc for dc in DataCenter if dc.api_host is not None]


def token_of(i: int) -> str:
    return f"eyJhbGciOiJSUzI1NiJ9.bench-{i:06d}-token-0123456789"


def fault_of(token: str) -> str | None:
    n = zlib.crc32(token.encode()) % 100
    return "429" if n < 2 else "500" if n < 3 else "401" if n < 4 else None


# --- the stand-in, in its own process -----------------------------------------------------


async def serve(latency: float) -> None:
    from tests.visionone_standin import Answer, VisionOneStandIn, posture

    seen: set[str] = set()

    def answer(token: str) -> Answer:
        fault, first = fault_of(token), token not in seen
        seen.add(token)
        if fault == "401":
            return Answer.error(401, "InvalidCredentials")
        if fault == "429" and first:
            return Answer.error(429, "TooManyRequests", {"Retry-After": "1"})
        if fault == "500" and first:
            return Answer.error(500, "InternalServerError")
        cri = zlib.crc32(token.encode()) % 101
        return Answer.ok(posture(cri), delay=latency)

    api = VisionOneStandIn(default=answer)
    await api.start()
    print(api.url, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    print(f"{len(api.requests)} {api.max_in_flight}", flush=True)
    await api.stop()


# --- the bench ------------------------------------------------------------------------------


async def seed(db: Database, n: int, vault: TokenVault) -> None:
    now = utcnow()
    async with db.transaction() as s:
        rows: list[dict[str, Any]] = []
        for i in range(n):
            company = f"Connected {i:06d}"
            rows.append(
                dict(
                    company=company,
                    company_key=company_key(company),
                    status=Status.ACTIVE,
                    license_type=LicenseType.ANNUAL,
                    origin=Origin.IMPORTED,
                    cri=50,
                    data_center=REGIONS[i % len(REGIONS)],
                    v1_connected=True,
                    is_nfr=False,
                    trial_extensions=0,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
        await s.execute(insert(Customer), rows)
        ids = (await s.scalars(select(Customer.id).order_by(Customer.company_key))).all()
        await s.execute(
            insert(VisionOneConnection),
            [
                dict(
                    customer_id=cid,
                    region=REGIONS[i % len(REGIONS)],
                    connected_by="U0BENCH",
                    sealed_token=vault.seal(token_of(i)),
                    state=ConnectionState.NEW,
                    connected_at=now,
                )
                for i, cid in enumerate(ids)
            ],
        )


async def bench(args: argparse.Namespace, url: str) -> bool:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.sync_scale",
        "--serve",
        "--latency",
        str(args.latency),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stdin is not None
    api_url = (await proc.stdout.readline()).decode().strip()
    db = Database(url)
    try:
        await upgrade(db)
        vault = TokenVault(new_key())
        await seed(db, args.customers, vault)
        syncer = Syncer(
            db,
            vault,
            base_url=api_url,
            concurrency=args.concurrency,
            per_minute=args.per_minute,
            retrying=Retrying(),
        )
        started = time.monotonic()
        report = await syncer.run()
        seconds = time.monotonic() - started
        async with db.session() as s:
            snaps = await s.scalar(select(func.count()).select_from(RiskSnapshot))
            states = dict(
                (
                    await s.execute(
                        select(VisionOneConnection.state, func.count()).group_by(
                            VisionOneConnection.state
                        )
                    )
                ).all()
            )
    finally:
        await db.close()
        proc.stdin.close()
        served, most = (await proc.stdout.readline()).decode().split()
        await proc.wait()
    refused = sum(1 for i in range(args.customers) if fault_of(token_of(i)) == "401")
    ok = report.ok == args.customers - refused and report.needs_token == refused
    fast = seconds < BAR_SECONDS
    print(f"database          {make_url(url).get_backend_name()}")
    print(
        f"customers         {args.customers:,} (pool {args.concurrency}, latency {args.latency * 1000:.0f} ms, cap {args.per_minute or 'none'}/min)"
    )
    print(
        f"synced            {report.ok:,}; failed {len(report.failed):,} ({report.needs_token:,} need a new token; expected {refused:,})"
    )
    print(f"requests served   {int(served):,} (most in flight {most})")
    print(
        f"snapshots written {snaps:,}; connection states { ({k.value: v for k, v in states.items()}) }"
    )
    print(f"wall time         {seconds:.2f} s ({args.customers / seconds:,.0f} customers/s)")
    print(f"bar < {BAR_SECONDS:.0f} s and all non-401 synced: {'PASS' if ok and fast else 'FAIL'}")
    return ok and fast


async def run(args: argparse.Namespace) -> bool:
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return await bench(args, f"sqlite+aiosqlite:///{tmp}/bench.db")
    name = f"overview_bench_{uuid.uuid4().hex[:10]}"
    dsn = PG_URL.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        return await bench(args, make_url(PG_URL).set(database=name).render_as_string(False))
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument(
        "--per-minute",
        type=int,
        default=DEFAULT_REQUESTS_PER_MINUTE,
        help="overall request cap, as SYNC_REQUESTS_PER_MINUTE (0: none)",
    )
    p.add_argument("--latency", type=float, default=0.05, help="stand-in answer delay, s")
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--check", action="store_true", help="exit 1 when the bar is missed")
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        asyncio.run(serve(args.latency))
        return 0
    passed = asyncio.run(run(args))
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
