"""Connecting with a sealed token, and syncing many customers: figures, faults, isolation."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select, text

from store.actions import Operations
from store.actor import Actor
from store.db import Database
from store.enums import Action, ConnectionState, Level, Role, SnapshotSource, Status
from store.errors import AccessDenied, InvalidInput
from store.leases import lease
from store.live import live_risk
from store.models import AuditEntry, Customer, RiskSnapshot, VisionOneConnection
from store.platform import LocalLedger
from store.regions import DataCenter
from store.secrets import NO_KEY, TokenVault, new_key
from store.sync import DEFAULT_REQUESTS_PER_MINUTE, LEASE, Syncer, SyncReport, SyncSkipped
from store.visionone import Retrying
from tests.factories import add, customer
from tests.visionone_standin import Answer, VisionOneStandIn, posture

OPERATOR = Actor("U0OPS", Role.OPERATOR, name="ops")
VIEWER = Actor("U0VIEW", Role.VIEWER, name="view")
KEY = new_key()
FAST = Retrying(attempts=3, backoff=0.01, max_wait=1.0, timeout=0.5)


def tok(name: str) -> str:
    return f"eyJhbGciOiJSUzI1NiJ9.{name.replace(' ', '_')}-token-0123456789"


def ops(db: Database, vault: TokenVault | None = None) -> Operations:
    return Operations(db, LocalLedger(), vault=vault if vault is not None else TokenVault(KEY))


def syncer(db: Database, api: VisionOneStandIn, **kw: object) -> Syncer:
    return Syncer(db, TokenVault(KEY), base_url=api.url, retrying=FAST, **kw)  # type: ignore[arg-type]


async def connected(db: Database, name: str, **fields: object) -> int:
    [cid] = await add(db, customer(name, **fields))
    await ops(db).connect(OPERATOR, cid, 1, DataCenter.EU, tok(name))
    return cid


async def conn_of(db: Database, cid: int) -> VisionOneConnection:
    async with db.session() as s:
        c = await s.get(VisionOneConnection, cid)
        assert c is not None
        return c


async def reload(db: Database, cid: int) -> Customer:
    async with db.session() as s:
        c = await s.get(Customer, cid)
        assert c is not None
        return c


async def test_connect_seals_the_token_and_audits_without_it(db: Database) -> None:
    [cid] = await add(db, customer("Acme", status=Status.NOT_PROVISIONED, data_center=None))
    await ops(db).connect(OPERATOR, cid, 1, DataCenter.EU, f"  {tok('acme')} ")
    conn = await conn_of(db, cid)
    assert conn.state is ConnectionState.NEW and conn.region is DataCenter.EU
    assert tok("acme") not in conn.sealed_token and "sealed" not in repr(conn)
    assert TokenVault(KEY).open(conn.sealed_token) == tok("acme")
    c = await reload(db, cid)
    assert (c.v1_connected, c.status, c.data_center) == (True, Status.ACTIVE, DataCenter.EU)
    async with db.session() as s:
        [entry] = (await s.scalars(select(AuditEntry))).all()
        dump = (await s.execute(text("SELECT * FROM audit_entry"))).all()
    assert (
        entry.action is Action.CONNECT and entry.detail == "API token stored (eu) · by local ledger"
    )
    assert tok("acme") not in repr(dump)

    # Reconnecting replaces the token (and says so), from the version now shown.
    await ops(db).connect(OPERATOR, cid, c.version, DataCenter.US, tok("acme-new"))
    conn = await conn_of(db, cid)
    assert TokenVault(KEY).open(conn.sealed_token) == tok("acme-new")
    assert conn.region is DataCenter.US
    async with db.session() as s:
        last = (await s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()))).first()
    assert last is not None and last.detail == "API token replaced (us) · by local ledger"


async def test_connect_refusals_change_nothing(db: Database) -> None:
    [cid] = await add(db, customer("Acme", status=Status.NOT_PROVISIONED))
    without_key = Operations(db, LocalLedger())
    with pytest.raises(InvalidInput) as err:
        await without_key.connect(OPERATOR, cid, 1, DataCenter.EU, tok("acme"))
    assert err.value.message == NO_KEY and tok("acme") not in err.value.message
    with pytest.raises(AccessDenied):
        await ops(db).connect(VIEWER, cid, 1, DataCenter.EU, tok("acme"))
    with pytest.raises(AccessDenied):  # refused before the input is judged
        await without_key.connect(VIEWER, cid, 1, DataCenter.CA, "x")
    with pytest.raises(InvalidInput, match="does not look like") as bad:
        await ops(db).connect(OPERATOR, cid, 1, DataCenter.EU, "short secret")
    assert "short secret" not in bad.value.message
    with pytest.raises(InvalidInput, match="no public API in Canada"):
        await ops(db).connect(OPERATOR, cid, 1, DataCenter.CA, tok("acme"))
    async with db.session() as s:
        assert (await s.scalars(select(VisionOneConnection))).all() == []
        assert (await s.scalars(select(AuditEntry))).all() == []
    assert (await reload(db, cid)).status is Status.NOT_PROVISIONED


async def test_sync_stores_a_snapshot_and_the_figures(db: Database, api: VisionOneStandIn) -> None:
    cid = await connected(db, "Acme", cri=10, exposure=Level.LOW)
    taken = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=6)).replace(microsecond=0)
    events = [("Unpatched vulnerabilities", 12, 3), ("Risky cloud apps", 2, 40)]
    api.script(tok("Acme"), Answer.ok(posture(83, events=events, created=taken)))
    report = await syncer(db, api).run()
    assert (report.total, report.ok, report.failed) == (1, 1, [])
    c = await reload(db, cid)
    assert (c.cri, c.exposure, c.security_configuration) == (83, Level.HIGH, Level.LOW)
    async with db.session() as s:
        [snap] = (await s.scalars(select(RiskSnapshot))).all()
        live = await live_risk(s, cid)
    assert (snap.source, snap.taken_at, snap.cri, snap.attack) == (
        SnapshotSource.VISION_ONE,
        taken,
        83,
        Level.MEDIUM,
    )
    assert snap.events == [
        {"factor": "Unpatched vulnerabilities", "eventCount": 12, "affectedAssetCount": 3},
        {"factor": "Risky cloud apps", "eventCount": 2, "affectedAssetCount": 40},
    ]
    assert live.state is ConnectionState.OK and live.taken_at == taken
    conn = await conn_of(db, cid)
    assert conn.last_success_at is not None and conn.last_error is None

    # The same figures read again (the index refreshes every 4 hours) are not stored twice.
    api.script(tok("Acme"), Answer.ok(posture(83, events=events, created=taken)))
    assert (await syncer(db, api).run()).ok == 1
    later = taken + dt.timedelta(hours=4)
    api.script(tok("Acme"), Answer.ok(posture(85, created=later)))
    assert (await syncer(db, api).run()).ok == 1
    async with db.session() as s:
        taken_ats = (await s.scalars(select(RiskSnapshot.taken_at).order_by("taken_at"))).all()
    assert taken_ats == [taken, later] and (await reload(db, cid)).cri == 85


async def test_missing_risk_index_keeps_the_last_known_one(
    db: Database, api: VisionOneStandIn
) -> None:
    cid = await connected(db, "Acme", cri=55)
    api.script(tok("Acme"), Answer.ok(posture(None, exposure="low")))
    assert (await syncer(db, api).run()).ok == 1
    c = await reload(db, cid)
    assert (c.cri, c.exposure) == (55, Level.LOW)


async def test_one_failure_never_stops_the_others(db: Database, api: VisionOneStandIn) -> None:
    good = await connected(db, "Good", cri=1)
    refused = await connected(db, "Refused", cri=61, exposure=Level.MEDIUM)
    forbidden = await connected(db, "Forbidden", cri=62)
    broken = await connected(db, "Broken", cri=63)
    slow = await connected(db, "Slow", cri=64)
    limited = await connected(db, "Limited", cri=65)
    gone = await connected(db, "Gone", cri=66)
    await add(db, customer("Not connected", cri=7))
    async with db.transaction() as s:
        (await s.get(Customer, gone)).status = Status.DISCONNECTED  # type: ignore[union-attr]
    api.script(tok("Good"), Answer.ok(posture(90)))
    api.script(tok("Refused"), Answer.error(401, "InvalidCredentials"))
    api.script(tok("Forbidden"), Answer.error(403, "AccessDenied"))
    api.script(tok("Broken"), Answer.error(500, "InternalServerError"))
    api.script(tok("Slow"), Answer.ok(delay=3.0))
    api.script(
        tok("Limited"), Answer.error(429, headers={"Retry-After": "0"}), Answer.ok(posture(20))
    )
    progress: list[tuple[int, int]] = []
    report = await syncer(db, api).run(progress=lambda d, t: progress.append((d, t)))

    assert (report.total, report.ok, report.needs_token) == (6, 2, 2)
    assert progress[-1] == (6, 6) and len(progress) == 6
    failed = dict(report.failed)
    assert set(failed) == {"Refused", "Forbidden", "Broken", "Slow"}
    assert "HTTP 401" in failed["Refused"] and "HTTP 500" in failed["Broken"]
    assert "no answer within" in failed["Slow"]
    assert api.count(tok("Broken")) == FAST.attempts and api.count(tok("Gone")) == 0
    assert "1 failed" not in report.line() and "4 failed (2 need a new API token)" in report.line()
    assert (await reload(db, good)).cri == 90 and (await reload(db, limited)).cri == 20
    for cid, cri in ((refused, 61), (forbidden, 62), (broken, 63), (slow, 64)):
        assert (await reload(db, cid)).cri == cri  # the last known figures stay
    assert (await conn_of(db, refused)).state is ConnectionState.NEEDS_TOKEN
    assert (await conn_of(db, forbidden)).state is ConnectionState.NEEDS_TOKEN
    assert (await conn_of(db, broken)).state is ConnectionState.FAILING
    assert "HTTP 500" in (await conn_of(db, broken)).last_error  # type: ignore[operator]

    # The token works again (re-enabled in the console): the next sync heals the state.
    api.script(tok("Refused"), Answer.ok(posture(33)))
    again = await syncer(db, api).run("refused")
    assert again.ok == 1 and (await conn_of(db, refused)).state is ConnectionState.OK


async def test_a_token_sealed_with_another_key_needs_a_new_token(
    db: Database, api: VisionOneStandIn
) -> None:
    cid = await connected(db, "Acme")
    other = Syncer(db, TokenVault(new_key()), base_url=api.url, retrying=FAST)
    report = await other.run()
    assert report.needs_token == 1 and api.requests == []
    assert "cannot be read with the current BOT_SECRET_KEY" in report.failed[0][1]
    assert (await conn_of(db, cid)).state is ConnectionState.NEEDS_TOKEN


async def test_the_pool_is_bounded(db: Database, api: VisionOneStandIn) -> None:
    for i in range(12):
        await connected(db, f"Co {i:02d}")
    api.default = lambda token: Answer.ok(delay=0.05)
    report = await syncer(db, api, concurrency=3, batch=5).run()
    assert report.ok == 12 and api.max_in_flight == 3
    async with db.session() as s:
        assert len((await s.scalars(select(RiskSnapshot))).all()) == 12


async def test_sync_one_company_by_name(db: Database, api: VisionOneStandIn) -> None:
    await connected(db, "Acme")
    await connected(db, "Globex")
    api.default = lambda token: Answer.ok()
    report = await syncer(db, api).run("glob")
    assert report.total == 1 and [r.token for r in api.requests] == [tok("Globex")]


async def test_an_overall_cap_per_minute_is_kept(db: Database, api: VisionOneStandIn) -> None:
    import time

    for i in range(6):
        await connected(db, f"Co {i}")
    api.default = lambda token: Answer.ok()
    started = time.monotonic()
    report = await syncer(db, api, per_minute=1200).run()  # one every 0.05 s
    assert report.ok == 6 and time.monotonic() - started >= 0.25
    assert api.requests[-1].at - api.requests[0].at >= 0.2  # 5 gaps of 0.05 s, give or take


async def test_the_default_configuration_caps_requests_per_minute(
    db: Database, api: VisionOneStandIn, db_url: str
) -> None:
    from bot.run import make_syncer
    from bot.settings import load_settings

    for i in range(12):
        await connected(db, f"Co {i}")
    api.default = lambda token: Answer.ok()
    settings = load_settings(
        bot_secret_key=KEY, vision_one_base_url=api.url, database_url=db_url, _env_file=None
    )
    pulled = make_syncer(db, settings)
    assert pulled is not None and pulled.per_minute == 6000 == DEFAULT_REQUESTS_PER_MINUTE
    assert (await pulled.run()).ok == 12
    # One started every 10 ms at most, though the pool of 16 would take all 12 at once.
    assert api.requests[-1].at - api.requests[0].at >= 0.08  # 11 gaps of 10 ms, give or take


async def test_two_concurrent_syncs_of_everyone_pull_each_customer_once(
    db: Database, api: VisionOneStandIn
) -> None:
    names = [f"Co {i}" for i in range(6)]
    for name in names:
        await connected(db, name)
        api.script(tok(name), Answer.ok(posture(40), delay=0.2))
    # Two processes sharing the database: each its own Syncer.
    results = await asyncio.gather(
        syncer(db, api).run(), syncer(db, api).run(), return_exceptions=True
    )
    [report] = [r for r in results if isinstance(r, SyncReport)]
    [skipped] = [r for r in results if isinstance(r, SyncSkipped)]
    assert report.ok == 6 and skipped.running
    assert "Another Vision One sync is running" in skipped.message
    assert len(api.requests) == 6  # not 12
    # The lease is given up at the end: the next run goes ahead.
    assert (await syncer(db, api).run()).ok == 6
    assert len(api.requests) == 12


async def test_a_periodic_sync_soon_after_another_is_skipped(
    db: Database, api: VisionOneStandIn
) -> None:
    await connected(db, "Acme")
    api.script(tok("Acme"), Answer.ok(posture(40)))
    assert (await syncer(db, api).run()).ok == 1
    hour = dt.timedelta(hours=1)
    with pytest.raises(SyncSkipped) as e:
        await syncer(db, api).run(gap=hour)  # another process's tick, minutes later
    assert not e.value.running and len(api.requests) == 1
    assert (await syncer(db, api).run(gap=dt.timedelta(0))).ok == 1
    assert (await syncer(db, api).run(company="acme")).ok == 1  # one customer: no lease
    assert len(api.requests) == 3


async def test_one_customer_syncs_while_everyone_is_being_synced(
    db: Database, api: VisionOneStandIn
) -> None:
    cid = await connected(db, "Acme")
    api.script(tok("Acme"), Answer.ok(posture(40)))
    async with lease(db, LEASE) as held:  # a full sync elsewhere
        assert held
        with pytest.raises(SyncSkipped):
            await syncer(db, api).run()
        assert (await syncer(db, api).run(customer_ids=[cid])).ok == 1  # a connect's


def test_a_pasted_token_is_told_from_a_company_name() -> None:
    from store.secrets import holds_token

    assert holds_token(f"connect acme {tok('Acme')}")
    assert holds_token("show " + "Zx9" * 20)  # not a JWT, but 60 token characters
    for typed in ("connect Internationalisation Consolidated Holdings", "show a-b.c", "", None):
        assert not holds_token(typed)
    assert not holds_token("show " + "x" * 60)  # no digit: a (very) long word
