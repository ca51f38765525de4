"""Live risk figures through Slack: connect with a token, first sync, the card, the digest,
and the token kept out of every log, message, audit entry and error."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.settings import Settings
from store.actor import Actor
from store.enums import ConnectionState, Level, Origin, Role, Status
from store.models import AuditEntry, Customer, RiskSnapshot, VisionOneConnection
from store.regions import DataCenter
from store.secrets import NO_KEY, new_key
from tests.e2e.test_actions import button, card_of, last_response
from tests.factories import add, customer
from tests.harness import (
    OPS,
    VIEWER,
    BotHarness,
    bot_settings_for,
    buttons,
    message_text,
    opened_view,
    submit,
)
from tests.slack_standin import SlackStandIn
from tests.visionone_standin import Answer, VisionOneStandIn, posture

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e2e-secret-token-zq81"
KEY = new_key()


@pytest.fixture
def bot_settings(db_url: str, slack: SlackStandIn, api: VisionOneStandIn) -> Settings:
    return bot_settings_for(db_url, slack.api_url, bot_secret_key=KEY, vision_one_base_url=api.url)


async def open_connect(
    team: BotHarness, name: str, label: str = "Connect Vision One"
) -> dict[str, Any]:
    connect = button(await card_of(team, name, OPS), label)
    await team.click(connect["action_id"], connect["value"], user=OPS)
    opened = team.slack.of("views.open")[-1] if team.slack.of("views.open") else None
    if opened is None:
        [opened] = await team.slack.wait_for("views.open")
    return opened_view(opened.payload)


async def test_connect_syncs_and_the_card_shows_live_figures(
    team: BotHarness, api: VisionOneStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    [cid] = await add(
        team.db, customer("Linked", status=Status.NOT_PROVISIONED, data_center=None, cri=None)
    )
    taken = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2, minutes=5)
    events = [("Unpatched vulnerabilities", 12, 3), ("Stale accounts", 4, 4)]
    api.script(TOKEN, Answer.ok(posture(83, events=events, created=taken)))

    view = await open_connect(team, "linked")
    regions = next(b for b in view["blocks"] if b.get("block_id") == "data_center")
    offered = [o["value"] for o in regions["element"]["options"]]
    assert "eu" in offered and "ca" not in offered and "za" not in offered
    token_input = next(b for b in view["blocks"] if b.get("block_id") == "api_token")
    assert "initial_value" not in token_input["element"]

    bad = await submit(team, view, {"data_center": "eu", "api_token": "not a token"}, user=OPS)
    assert list(bad.json["errors"]) == ["api_token"]
    assert "not a token" not in bad.text
    ok = await submit(team, view, {"data_center": "eu", "api_token": TOKEN}, user=OPS)
    assert ok.status == 200 and ok.text == ""
    await team.deps.drain()  # the first sync runs after the ack

    shown = await last_response(team, 1)
    seen = message_text(shown)
    assert "Connected Linked's Vision One; its latest figures are in" in seen
    assert "83 🔴 High" in seen and "updated 2 h ago" in seen and "Attack Medium" in seen
    assert "Unpatched vulnerabilities — 12 events · 3 affected assets" in seen
    assert "Replace API token" in [b["text"]["text"] for b in buttons(shown)]
    risk = (await team.command("risk linked")).all_text  # a viewer's view of the figures
    assert "High risk" in risk and "updated 2 h ago" in risk and "Stale accounts" in risk
    async with team.db.session() as s:
        conn = await s.get(VisionOneConnection, cid)
        c = await s.get(Customer, cid)
        [snap] = (await s.scalars(select(RiskSnapshot))).all()
        tables = {
            t: (await s.execute(text(f"SELECT * FROM {t}"))).all()
            for t in ("vision_one_connection", "audit_entry", "customer", "risk_snapshot")
        }
    assert conn is not None and conn.state is ConnectionState.OK
    assert c is not None and (c.cri, c.status, c.data_center) == (83, Status.ACTIVE, "eu")
    assert snap.events is not None and snap.events[0]["factor"] == "Unpatched vulnerabilities"
    assert [r.authorization for r in api.requests] == [f"Bearer {TOKEN}"]

    # Nowhere but the sealed column, and never in clear: not in Slack, logs, rows or reprs.
    everything_sent = json.dumps([c.payload for c in team.slack.calls])
    assert TOKEN not in everything_sent
    assert "overview" in caplog.text and TOKEN not in caplog.text
    assert TOKEN not in repr(tables)
    assert TOKEN not in repr(team.deps) and TOKEN not in repr(conn)
    assert "TokenVault(<key hidden>)" in repr(team.deps) and KEY not in repr(team.deps)


async def test_a_refused_token_shows_on_the_card_and_in_the_digest(
    team: BotHarness, api: VisionOneStandIn
) -> None:
    await add(team.db, customer("Acme", cri=47, exposure=Level.MEDIUM))
    api.script(TOKEN, Answer.error(401, "InvalidCredentials"))
    view = await open_connect(team, "acme", "Connect Vision One")
    await submit(team, view, {"data_center": "us", "api_token": TOKEN}, user=OPS)
    await team.deps.drain()
    seen = message_text(await last_response(team, 1))
    assert "but the first sync failed: Vision One refused the API token (HTTP 401" in seen
    assert "⚠️ Vision One needs a new API token" in seen and "47 🟠 Medium" in seen
    digest = (await team.command("digest preview")).all_text
    assert "Vision One needs a new API token (1)" in digest and "Acme" in digest
    assert TOKEN not in json.dumps([c.payload for c in team.slack.calls])


async def test_a_failing_sync_keeps_the_last_figures_with_their_age(
    team: BotHarness, api: VisionOneStandIn
) -> None:
    await add(team.db, customer("Acme", v1_connected=True))
    api.script(
        TOKEN, Answer.ok(posture(64, created=dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)))
    )
    view = await open_connect(team, "acme", "Replace API token")
    await submit(team, view, {"data_center": "eu", "api_token": TOKEN}, user=OPS)
    await team.deps.drain()
    api.script(TOKEN, Answer.error(503, "ServiceUnavailable"))
    assert team.deps.syncer is not None
    team.deps.syncer.retrying.backoff = 0.01
    report = await team.deps.syncer.run()
    assert len(report.failed) == 1
    seen = (await team.command("show acme", user=OPS)).all_text
    assert "64 🟠 Medium" in seen and "updated 3 h ago" in seen
    assert "⚠️ Last Vision One sync failed just now: Vision One failed (HTTP 503" in seen
    assert "The last known figures are shown" in seen


async def test_without_a_secret_key_no_token_is_stored(team: BotHarness) -> None:
    [cid] = await add(team.db, customer("Acme", status=Status.NOT_PROVISIONED))
    team.deps.ops.vault = None  # as prepare() does without BOT_SECRET_KEY
    team.deps.syncer = None
    view = await open_connect(team, "acme")
    reply = await submit(team, view, {"data_center": "eu", "api_token": TOKEN}, user=OPS)
    assert reply.json["response_action"] == "update"
    assert NO_KEY.replace("`", "") in json.dumps(reply.json, ensure_ascii=False).replace("`", "")
    assert TOKEN not in reply.text
    async with team.db.session() as s:
        assert await s.get(VisionOneConnection, cid) is None
        assert (await s.get(Customer, cid)).status is Status.NOT_PROVISIONED  # type: ignore[union-attr]
        assert [e.action for e in (await s.scalars(select(AuditEntry))).all()] == [
            "grant_role",
            "grant_role",
        ]


async def test_the_connect_command_is_for_operators(team: BotHarness) -> None:
    await add(team.db, customer("Acme", status=Status.NOT_PROVISIONED))
    refused = await team.command("connect acme")
    assert "needs the *operator* role" in refused.all_text
    assert team.slack.of("views.open") == []
    assert (await team.command("connect acme", user=OPS)).text == ""
    [opened] = await team.slack.wait_for("views.open")
    assert opened_view(opened.payload)["callback_id"] == "modal_connect"


async def test_the_running_bot_syncs_on_its_own(
    team: BotHarness, api: VisionOneStandIn, bot_settings: Settings
) -> None:
    from bot.run import start_jobs

    [cid] = await add(team.db, customer("Acme", cri=12))
    api.script(TOKEN, Answer.ok(posture(77)))
    assert team.deps.ops.vault is not None
    operator = Actor(OPS, Role.OPERATOR)
    await team.deps.ops.connect(operator, cid, 1, DataCenter.EU, TOKEN)
    jobs = start_jobs(team.deps, team.app, bot_settings)
    try:
        for _ in range(200):
            if api.count(TOKEN):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
    finally:
        await jobs.stop()
    assert api.count(TOKEN) == 1
    async with team.db.session() as s:
        assert (await s.get(Customer, cid)).cri == 77  # type: ignore[union-attr]


async def test_two_running_bots_on_one_database_sync_once(
    team: BotHarness, api: VisionOneStandIn, bot_settings: Settings
) -> None:
    from bot.run import make_syncer, start_jobs
    from handlers.deps import Deps

    [cid] = await add(team.db, customer("Acme", cri=12))
    api.script(TOKEN, Answer.ok(posture(77), delay=0.2))
    await team.deps.ops.connect(Actor(OPS, Role.OPERATOR), cid, 1, DataCenter.EU, TOKEN)
    # A second bot process: its own syncer and jobs, the same database.
    other = Deps(
        db=team.db,
        policy=team.deps.policy,
        ops=team.deps.ops,
        digests=team.deps.digests,
        syncer=make_syncer(team.db, bot_settings),
    )
    jobs = [
        start_jobs(team.deps, team.app, bot_settings),
        start_jobs(other, team.app, bot_settings),
    ]
    try:
        for _ in range(200):
            if api.count(TOKEN):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.6)
        # A later start (a restart, a third process) within the period does not pull again.
        jobs.append(start_jobs(other, team.app, bot_settings))
        await asyncio.sleep(0.3)
    finally:
        for j in jobs:
            await j.stop()
    assert api.count(TOKEN) == 1
    async with team.db.session() as s:
        assert (await s.get(Customer, cid)).cri == 77  # type: ignore[union-attr]


async def test_the_home_tab_shows_refused_tokens_until_replaced(
    team: BotHarness, api: VisionOneStandIn
) -> None:
    from tests.e2e.test_home import open_home

    [cid] = await add(team.db, customer("Acme", cri=47))
    await add(team.db, customer("Calm Co", cri=10))
    api.script(TOKEN, Answer.error(403, "AccessDenied"))
    view = await open_connect(team, "acme")
    await submit(team, view, {"data_center": "eu", "api_token": TOKEN}, user=OPS)
    await team.deps.drain()

    home = message_text(await open_home(team, OPS))
    assert "⚠️ Vision One needs a new API token (1)" in home
    assert "*Acme* — token refused at the sync" in home and "Calm Co* — token" not in home
    assert "`/customers connect &lt;company&gt;`" in home
    viewer = message_text(await open_home(team, VIEWER))
    assert "needs a new API token (1)" in viewer and "An operator replaces the token" in viewer
    async with team.db.session() as s:
        conn = await s.get(VisionOneConnection, cid)
        assert conn is not None and conn.state is ConnectionState.NEEDS_TOKEN

    new = TOKEN + "-new"
    api.script(new, Answer.ok(posture(52)))
    view = await open_connect(team, "acme", "Replace API token")
    await submit(team, view, {"data_center": "eu", "api_token": new}, user=OPS)
    await team.deps.drain()
    home = message_text(await open_home(team, OPS))
    assert "API token" not in home and "52 🟠 Medium" in home  # now among the riskiest
    async with team.db.session() as s:
        conn = await s.get(VisionOneConnection, cid)
        assert conn is not None and conn.state is ConnectionState.OK
    assert TOKEN not in json.dumps([c.payload for c in team.slack.calls])


async def test_a_connect_form_submitted_by_a_viewer_stores_nothing(
    team: BotHarness, api: VisionOneStandIn
) -> None:
    [cid] = await add(team.db, customer("Acme", status=Status.NOT_PROVISIONED))
    api.script(TOKEN, Answer.ok(posture(80)))
    view = await open_connect(team, "acme")  # opened by an operator...
    reply = await submit(team, view, {"data_center": "eu", "api_token": TOKEN}, user=VIEWER)
    assert reply.status == 200  # ...submitted (replayed, forged) by a viewer
    await team.deps.drain()
    said = reply.text + json.dumps([c.payload for c in team.slack.calls])
    assert "needs the *operator* role" in said and TOKEN not in said
    assert api.requests == []
    async with team.db.session() as s:
        assert await s.get(VisionOneConnection, cid) is None
        assert (await s.get(Customer, cid)).status is Status.NOT_PROVISIONED  # type: ignore[union-attr]


async def test_a_token_pasted_in_a_command_is_never_echoed(
    team: BotHarness, api: VisionOneStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    [cid] = await add(team.db, customer("Acme", status=Status.NOT_PROVISIONED))
    for typed in (f"connect acme {TOKEN}", f"connect acme {TOKEN} public", f"show {TOKEN}"):
        reply = await team.command(typed, user=OPS)
        assert reply.json["response_type"] == "ephemeral"
        assert "looks like an API token, so I did nothing with it" in reply.all_text
        assert TOKEN not in reply.text
    assert team.slack.of("views.open") == [] and api.requests == []
    assert TOKEN not in json.dumps([c.payload for c in team.slack.calls])
    assert TOKEN not in caplog.text
    async with team.db.session() as s:
        assert await s.get(VisionOneConnection, cid) is None
    # A long company name is not mistaken for one.
    await add(team.db, customer("Internationalisation Consolidated Holdings"))
    shown = await team.command("show Internationalisation Consolidated", user=OPS)
    assert "Internationalisation Consolidated Holdings" in shown.all_text


async def test_disconnecting_a_customer_deletes_its_api_token(
    team: BotHarness, api: VisionOneStandIn
) -> None:
    from tests.e2e.test_actions import request_disconnect
    from tests.harness import APPROVER

    [cid] = await add(team.db, customer("Manual Co", origin=Origin.MANUAL, cri=30))
    api.script(TOKEN, Answer.error(401, "InvalidCredentials"))
    view = await open_connect(team, "manual")
    await submit(team, view, {"data_center": "eu", "api_token": TOKEN}, user=OPS)
    await team.deps.drain()
    request, _ = await request_disconnect(team, "manual")
    approve = next(b for b in buttons(request) if b["text"]["text"] == "Approve")
    await team.click(approve["action_id"], approve["value"], user=APPROVER)
    await team.slack.wait_for("chat.update")
    async with team.db.session() as s:
        assert await s.get(VisionOneConnection, cid) is None
        c = await s.get(Customer, cid)
        assert c is not None and c.status is Status.DISCONNECTED
        [entry] = (
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "disconnect"))
        ).all()
        assert "its Vision One API token deleted" in (entry.detail or "")
    assert TOKEN not in repr(entry.__dict__)
    digest = (await team.command("digest preview")).all_text
    assert "needs a new API token" not in digest  # nothing left to replace
    assert team.deps.syncer is not None and (await team.deps.syncer.run()).total == 0


async def test_faults_on_the_first_sync_are_waited_out_or_told(
    team: BotHarness, api: VisionOneStandIn
) -> None:
    [a, b] = await add(team.db, customer("Alpha", cri=21), customer("Beta", cri=35))
    assert team.deps.syncer is not None
    team.deps.syncer.retrying.backoff = 0.01
    team.deps.syncer.retrying.timeout = 0.3
    # Alpha: rate limited (Retry-After honoured), a server fault, then its figures.
    api.script(
        TOKEN,
        Answer.error(429, "TooManyRequests", {"Retry-After": "0"}),
        Answer.error(503, "ServiceUnavailable"),
        Answer.ok(posture(81)),
    )
    view = await open_connect(team, "alpha")
    await submit(team, view, {"data_center": "eu", "api_token": TOKEN}, user=OPS)
    await team.deps.drain()
    seen = message_text(await last_response(team, 1))
    assert "latest figures are in" in seen and "81 🔴 High" in seen
    assert api.count(TOKEN) == 3

    # Beta: Vision One does not answer in time; each try is cut off, then it is told.
    slow = TOKEN + "-slow"
    api.script(slow, Answer.ok(posture(90), delay=1.0))
    view = await open_connect(team, "beta")
    await submit(team, view, {"data_center": "us", "api_token": slow}, user=OPS)
    await team.deps.drain()
    seen = message_text(await last_response(team, 2))
    assert "the first sync failed: no answer within 0.3 s, 5 tries" in seen
    assert "35 🟠 Medium" in seen  # the figures it had stay
    assert "⚠️ Last Vision One sync failed just now: no answer within 0.3 s" in seen
    assert api.count(slow) == 5
    async with team.db.session() as s:
        states = {cid: (await s.get(VisionOneConnection, cid)).state for cid in (a, b)}  # type: ignore[union-attr]
        beta = await s.get(Customer, b)
    assert states == {a: ConnectionState.OK, b: ConnectionState.FAILING}
    assert beta is not None and beta.cri == 35
