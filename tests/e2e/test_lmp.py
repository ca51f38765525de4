"""The bot with Trend's LMP as its platform: Slack in, signed LMPI calls out to a stand-in."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import logging
import time

import pytest
from sqlalchemy import inspect, select, text

from bot.settings import Settings
from store.actor import Actor
from store.audit import record
from store.enums import Action, Origin, PartnerType, Role, Status
from store.lmp_platform import LmpPlatform
from store.models import AuditEntry, Customer
from tests.e2e.test_actions import button, card_of, last_response, row
from tests.factories import add, customer
from tests.harness import (
    ADMIN,
    OPS,
    BotHarness,
    bot_settings_for,
    message_text,
    opened_view,
    submit,
)
from tests.lmp_standin import SECRET_KEY, TOKEN, Fault, LmpStandIn
from tests.slack_standin import SlackStandIn


@pytest.fixture
def bot_settings(db_url: str, slack: SlackStandIn, lmp: LmpStandIn) -> Settings:
    return bot_settings_for(
        db_url, slack.api_url, lmpi_url=lmp.url, lmpi_access_token=TOKEN, lmpi_secret_key=SECRET_KEY
    )


async def lmp_customer(team: BotHarness, lmp: LmpStandIn, name: str, **fields: object) -> int:
    lmp.customers.append({"customer_id": f"cid-{name.lower()}", "name": name})
    values = {"status": Status.NOT_PROVISIONED, "origin": Origin.LMP, "expiration_date": None}
    [cid] = await add(
        team.db, customer(name, lmp_customer_id=f"cid-{name.lower()}", **(values | fields))
    )
    return cid


async def audit(team: BotHarness, action: Action) -> list[str | None]:
    async with team.db.session() as s:
        rows = await s.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return list(rows)


async def open_provision(team: BotHarness, name: str, label: str = "Provision") -> dict:  # type: ignore[type-arg]
    b = button(await card_of(team, name, OPS), label)
    before = len(team.slack.of("views.open"))
    await team.click(b["action_id"], b["value"], user=OPS)
    return opened_view((await team.slack.wait_for("views.open", before + 1))[-1].payload)


async def test_provision_goes_through_lmp(team: BotHarness, lmp: LmpStandIn) -> None:
    assert isinstance(team.deps.ops.platform, LmpPlatform)
    cid = await lmp_customer(team, lmp, "Acme")
    view = await open_provision(team, "acme")
    ok = await submit(team, view, {"data_center": "eu", "auditor": "a@acme.example"}, user=OPS)
    assert ok.status == 200 and ok.text == ""
    [sub] = lmp.subscriptions
    assert (sub["customer_id"], sub["version"], sub["data_center"]) == ("cid-acme", "Full", "EU")
    [sent] = lmp.calls("POST", "trend-vision-one-subscription")
    assert sent.body == b'{"version":"Full","data_center":"EU"}'
    c = await row(team, cid)
    assert (c.status, str(c.expiration_date), c.service_url) == (
        Status.ACTIVE,
        "2027-12-04",
        "https://portal.eu.xdr.example/cid-acme",
    )
    shown = await last_response(team, 1)
    assert "Provisioned Vision One for Acme" in message_text(shown)
    assert button(shown, "View")["url"] == "https://portal.eu.xdr.example/cid-acme"
    requested, done = await audit(team, Action.PROVISION)
    assert requested == "requested"
    assert done is not None and done.startswith("done by LMP: LMP subscription ")
    assert done.endswith("(Trend Vision One), expires 2027-12-04")


async def test_lmp_error_leaves_failed_with_retry(team: BotHarness, lmp: LmpStandIn) -> None:
    cid = await lmp_customer(team, lmp, "Acme")
    lmp.faults.append(
        Fault(400, '{"error_subject":"InvalidParameters","error_message":"no seats left"}')
    )
    view = await open_provision(team, "acme")
    await submit(team, view, {"data_center": "uk", "auditor": None}, user=OPS)
    c = await row(team, cid)
    reason = "LMP answered 400: InvalidParameters: no seats left"
    assert (c.status, c.status_detail, c.expiration_date, c.service_url) == (
        Status.FAILED,
        reason,
        None,
        None,
    )
    shown = await last_response(team, 1)
    assert f"Provisioning Acme failed: {reason}" in message_text(shown)
    assert (await audit(team, Action.PROVISION))[-1] == f"failed at LMP: {reason}"
    retry = await open_provision(team, "acme", "Retry")
    await submit(team, retry, {"data_center": "uk", "auditor": None}, user=OPS)
    assert (await row(team, cid)).status is Status.ACTIVE


async def test_html_500s_then_success(team: BotHarness, lmp: LmpStandIn) -> None:
    team.deps.ops.platform.client.backoff = 0.01  # type: ignore[attr-defined]
    cid = await lmp_customer(team, lmp, "Acme")
    lmp.faults += [
        Fault(500, "<html><h1>Internal Error</h1></html>", "text/html", "trend-vision-one")
    ] * 2
    view = await open_provision(team, "acme")
    await submit(team, view, {"data_center": "us", "auditor": None}, user=OPS)
    assert (await row(team, cid)).status is Status.ACTIVE
    assert len(lmp.calls("POST", "trend-vision-one-subscription")) == 3


async def test_customer_added_before_lmp_is_created_in_lmp_when_provisioned(
    team: BotHarness, lmp: LmpStandIn
) -> None:
    [cid] = await add(
        team.db,
        customer(
            "Loose",
            status=Status.NOT_PROVISIONED,
            sign_in_account="it@loose.example",
            origin=Origin.MANUAL,
        ),
    )
    view = await open_provision(team, "loose")
    await submit(team, view, {"data_center": "us", "auditor": None}, user=OPS)
    [created] = lmp.calls("POST", "/LMPI/v3/customers")[:1]
    assert created.json == {"company": {"name": "Loose"}, "contact": {"email": "it@loose.example"}}
    [made] = [x for x in lmp.customers if x["name"] == "Loose"]
    c = await row(team, cid)
    assert (c.status, c.lmp_customer_id, c.origin) == (
        Status.ACTIVE,
        made["customer_id"],
        Origin.MANUAL,  # still created manually: it may be disconnected
    )
    [sub] = lmp.subscriptions
    assert sub["customer_id"] == made["customer_id"]
    done = (await audit(team, Action.PROVISION))[-1]
    assert done is not None
    assert done.startswith(f"done by LMP: created in LMP as {made['customer_id']}; LMP subscr")


async def test_customer_added_before_lmp_is_found_there_by_name(
    team: BotHarness, lmp: LmpStandIn
) -> None:
    lmp.add_customers(120)
    lmp.customers.append({"customer_id": "cid-loose", "name": "LOOSE  "})
    [cid] = await add(team.db, customer("Loose", status=Status.NOT_PROVISIONED))
    view = await open_provision(team, "loose")
    await submit(team, view, {"data_center": "us", "auditor": None}, user=OPS)
    c = await row(team, cid)
    assert (c.status, c.lmp_customer_id) == (Status.ACTIVE, "cid-loose")
    assert lmp.calls("POST", "/LMPI/v3/customers") == lmp.calls("POST", "trend-vision-one")
    assert "linked to LMP customer cid-loose, found by name" in str(
        (await audit(team, Action.PROVISION))[-1]
    )


async def test_customer_lmp_will_not_create_fails_with_what_to_do(
    team: BotHarness, lmp: LmpStandIn
) -> None:
    [cid] = await add(team.db, customer("Loose", status=Status.NOT_PROVISIONED))
    lmp.faults.append(
        Fault(
            400, '{"error_subject":"InvalidParametersCountry"}', "application/json", method="POST"
        )
    )
    view = await open_provision(team, "loose")
    await submit(team, view, {"data_center": "us", "auditor": None}, user=OPS)
    c = await row(team, cid)
    assert (c.status, c.lmp_customer_id) == (Status.FAILED, None)
    assert c.status_detail == (
        "Loose has no LMP account and LMP refused to create one (LMP answered 400: "
        "InvalidParametersCountry). Add it in LMP, then run `overview-bot lmp sync`."
    )
    assert "Add it in LMP, then run `overview-bot lmp sync`" in message_text(
        await last_response(team, 1)
    )
    assert lmp.subscriptions == []


async def test_account_created_is_kept_when_the_subscription_fails(
    team: BotHarness, lmp: LmpStandIn
) -> None:
    [cid] = await add(team.db, customer("Loose", status=Status.NOT_PROVISIONED))
    lmp.faults.append(
        Fault(
            400,
            '{"error_subject":"InvalidParameters","error_message":"no seats left"}',
            path_contains="trend-vision-one",
        )
    )
    view = await open_provision(team, "loose")
    await submit(team, view, {"data_center": "us", "auditor": None}, user=OPS)
    c = await row(team, cid)
    [made] = [x["customer_id"] for x in lmp.customers if x["name"] == "Loose"]
    assert (c.status, c.lmp_customer_id) == (Status.FAILED, made)
    retry = await open_provision(team, "loose", "Retry")
    await submit(team, retry, {"data_center": "us", "auditor": None}, user=OPS)
    assert (await row(team, cid)).status is Status.ACTIVE
    assert len(lmp.calls("POST", "/LMPI/v3/customers")) == 3  # one account, two subscriptions
    assert len([x for x in lmp.customers if x["name"] == "Loose"]) == 1


async def test_subscription_done_but_answered_500_is_recorded_once(
    team: BotHarness, lmp: LmpStandIn
) -> None:
    team.deps.ops.platform.client.backoff = 0.01  # type: ignore[attr-defined]
    cid = await lmp_customer(team, lmp, "Acme")
    lmp.faults.append(
        Fault(500, "<html>Internal Error</html>", "text/html", "trend-vision-one", after=True)
    )
    view = await open_provision(team, "acme")
    await submit(team, view, {"data_center": "eu", "auditor": None}, user=OPS)
    [sub] = lmp.subscriptions
    c = await row(team, cid)
    assert (c.status, str(c.expiration_date)) == (Status.ACTIVE, "2027-12-04")
    assert len(lmp.calls("POST", "trend-vision-one")) == 1
    done = (await audit(team, Action.PROVISION))[-1]
    assert (
        done
        == f"done by LMP: LMP subscription {sub['subscription_id']} (Trend Vision One), expires 2027-12-04"
    )


async def test_slow_lmp_acks_first_and_finishes_later(team: BotHarness, lmp: LmpStandIn) -> None:
    team.deps.ack_budget = 0.3
    lmp.delay = 3.5  # longer than Slack's 3 seconds
    cid = await lmp_customer(team, lmp, "Slowco")
    view = await open_provision(team, "slowco")
    started = time.monotonic()
    ok = await submit(team, view, {"data_center": "jp", "auditor": None}, user=OPS)
    assert time.monotonic() - started < 1.5
    assert ok.status == 200 and ok.text == ""  # the modal closes
    [waiting] = await team.slack.wait_for("response_url", 1)
    assert "Provisioning Slowco through LMP" in message_text(waiting.payload)
    assert "Provisioning" in message_text(waiting.payload)
    assert (await row(team, cid)).status is Status.PROVISIONING
    final = (await team.slack.wait_for("response_url", 2, within=10))[-1].payload
    assert final["replace_original"] is True
    assert "Provisioned Vision One for Slowco" in message_text(final)
    c = await row(team, cid)
    assert (c.status, c.data_center) == (Status.ACTIVE, "jp")


async def test_trial_and_nfr_through_lmp_extend_on_the_ledger(
    team: BotHarness, lmp: LmpStandIn
) -> None:
    team.deps.ops.partner = PartnerType.DFIR
    cid = await lmp_customer(team, lmp, "Trialco")
    view = await open_provision(team, "trialco", "Start free trial")
    await submit(team, view, {"data_center": "sg", "auditor": "ir@trialco.example"}, user=OPS)
    assert lmp.subscriptions[-1]["version"] == "Trial"
    c = await row(team, cid)
    assert (c.status, str(c.expiration_date)) == (Status.TRIAL, "2027-02-02")

    extend = button(await card_of(team, "trialco", OPS), "Extend trial by 30 days")
    await team.click(extend["action_id"], extend["value"], user=OPS)
    await last_response(team, 2)
    assert str((await row(team, cid)).expiration_date) == "2027-03-04"
    assert await audit(team, Action.EXTEND_TRIAL) == [
        "by local ledger (LMP has no endpoint for this)"
    ]
    assert len(lmp.subscriptions) == 1  # the extension never reached LMP

    nfr = button((await team.command("nfr trialco", user=ADMIN)).json, "Assign NFR license")
    await team.click(nfr["action_id"], nfr["value"], user=ADMIN)
    await last_response(team, 3)
    sent = lmp.calls("POST", "trend-vision-one-subscription")[-1]
    assert sent.body == b'{"version":"Full","data_center":"SG","isNFR":true}'
    c = await row(team, cid)
    assert (c.is_nfr, str(c.expiration_date)) == (True, "2027-12-04")
    [detail] = await audit(team, Action.ASSIGN_NFR)
    assert detail is not None and detail.startswith("by LMP: LMP subscription")


async def test_added_customer_is_created_in_lmp(team: BotHarness, lmp: LmpStandIn) -> None:
    await team.command("add", user=OPS)
    [opened] = await team.slack.wait_for("views.open")
    form = {"company": "Newco", "sign_in": "it@newco.example", "license": "annual"}
    await submit(team, opened_view(opened.payload), form, user=OPS)
    [created] = lmp.calls("POST", "/LMPI/v3/customers")
    assert created.json == {"company": {"name": "Newco"}, "contact": {"email": "it@newco.example"}}
    async with team.db.session() as s:
        c = (await s.scalars(select(Customer).where(Customer.company == "Newco"))).one()
    assert c.origin is Origin.MANUAL  # created by the partner: it may be disconnected
    assert c.lmp_customer_id == lmp.customers[-1]["customer_id"]

    lmp.faults.append(Fault(400, '{"error_subject":"InvalidParametersCountry"}'))
    await team.command("add", user=OPS)
    second = (await team.slack.wait_for("views.open", 2))[-1]
    form = {"company": "Badco", "sign_in": None, "license": "annual"}
    refused = await submit(team, opened_view(second.payload), form, user=OPS)
    assert "LMP answered 400: InvalidParametersCountry" in refused.json["errors"]["company"]
    async with team.db.session() as s:
        assert (await s.scalars(select(Customer).where(Customer.company == "Badco"))).all() == []


async def test_added_customer_lmp_has_already_is_linked_not_made_twice(
    team: BotHarness, lmp: LmpStandIn
) -> None:
    lmp.add_customers(101)
    lmp.customers.append({"customer_id": "cid-newco", "name": "NEWCO"})
    await team.command("add", user=OPS)
    [opened] = await team.slack.wait_for("views.open")
    form = {"company": "Newco", "sign_in": "it@newco.example", "license": "annual"}
    await submit(team, opened_view(opened.payload), form, user=OPS)
    assert lmp.calls("POST") == []
    async with team.db.session() as s:
        c = (await s.scalars(select(Customer).where(Customer.company == "Newco"))).one()
    assert (c.origin, c.lmp_customer_id) == (Origin.MANUAL, "cid-newco")
    assert (await audit(team, Action.ADD))[-1] == (
        "linked to LMP customer cid-newco, found by name"
    )


async def everything_stored(team: BotHarness) -> str:
    """Every row of every table, as text."""
    async with team.db.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sorted(inspect(c).get_table_names()))
        rows = [
            repr(r) for t in tables for r in (await conn.execute(text(f"SELECT * FROM {t}"))).all()
        ]
    return "\n".join(rows)


async def test_secret_key_is_nowhere_a_person_or_a_log_could_see_it(
    team: BotHarness, lmp: LmpStandIn, bot_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = team.deps.ops.platform.client  # type: ignore[attr-defined]
    client.backoff = 0.01
    replies: list[str] = []
    # Add in Slack (created in LMP), provision (done; refused; done-but-answered-500),
    # an unlinked customer created in LMP on demand, and a periodic sync that misses one.
    await team.command("add", user=OPS)
    [opened] = await team.slack.wait_for("views.open")
    form = {"company": "Newco", "sign_in": "it@newco.example", "license": "annual"}
    replies.append((await submit(team, opened_view(opened.payload), form, user=OPS)).text)
    await lmp_customer(team, lmp, "Acme")
    await lmp_customer(team, lmp, "Initech")
    await add(team.db, customer("Loose", status=Status.NOT_PROVISIONED, origin=Origin.MANUAL))
    await add(team.db, customer("Gone Co", origin=Origin.LMP, lmp_customer_id="cid-gone"))
    lmp.faults += [
        Fault(
            400,
            '{"error_subject":"InvalidParameters","error_message":"no seats"}',
            "application/json",
            "cid-initech",
        ),
        Fault(500, "<html>Internal Error</html>", "text/html", "trend-vision-one", after=True),
    ]
    for name in ("initech", "acme", "loose"):
        view = await open_provision(team, name)
        replies.append(
            (await submit(team, view, {"data_center": "eu", "auditor": None}, user=OPS)).text
        )
    for name in ("acme", "initech", "loose", "newco"):
        replies.append(json.dumps(await card_of(team, name, OPS)))
    replies.append(json.dumps((await team.command("audit", user=OPS)).json))
    team.deps.approvals_channel = "C0APPROVE"
    from bot.run import start_jobs

    jobs = start_jobs(team.deps, team.app, bot_settings)
    try:
        await team.slack.wait_for("chat.postMessage")
    finally:
        await jobs.stop()

    slack = "\n".join(json.dumps(c.payload) for c in team.slack.calls) + "\n".join(replies)
    stored = await everything_stored(team)
    shown = [
        caplog.text,
        slack,
        stored,
        repr(team.deps),
        repr(client),
        repr(bot_settings),
        str(bot_settings.model_dump()),
    ]
    # What was searched is the real thing (so this test can fail): ...
    assert "trend-vision-one-subscription -> 200" in caplog.text
    assert "LMP sync: " in caplog.text and "INFO" in caplog.text
    assert "Provisioning Initech failed: LMP answered 400" in slack
    assert "LMP no longer lists 1 customer" in slack and "Newco" in slack
    assert "created in LMP as" in stored and "no seats" in stored and "lmp-sync" in stored
    assert "LMPI_SECRET_KEY" not in stored
    # ... and the key is in none of it, nor its Base64 or hex.
    key = SECRET_KEY.encode()
    for form in (SECRET_KEY, base64.b64encode(key).decode(), key.hex()):
        for where, haystack in zip(
            ("log", "slack", "db", "deps", "client", "settings", "dump"), shown, strict=True
        ):
            assert form not in haystack, where


async def test_periodic_sync_runs_with_the_bot(
    team: BotHarness, lmp: LmpStandIn, bot_settings: Settings
) -> None:
    from bot.run import start_jobs

    assert bot_settings.lmp_sync_interval_minutes == 60
    lmp.add_customers(2)
    await add(team.db, customer("Gone Co", origin=Origin.LMP, lmp_customer_id="cid-gone"))
    team.deps.approvals_channel = "C0APPROVE"
    jobs = start_jobs(team.deps, team.app, bot_settings)
    try:
        [told] = await team.slack.wait_for("chat.postMessage")
    finally:
        await jobs.stop()
    async with team.db.session() as s:
        found = (await s.scalars(select(Customer).order_by(Customer.company))).all()
    assert [(c.company, c.origin, c.lmp_missing_since is not None) for c in found] == [
        ("Gone Co", Origin.LMP, True),
        ("LMP Customer 001", Origin.LMP, False),
        ("LMP Customer 002", Origin.LMP, False),
    ]
    assert told.payload["channel"] == "C0APPROVE"
    assert "LMP no longer lists 1 customer: *Gone Co*" in message_text(told.payload)
    card = await card_of(team, "gone co", OPS)
    assert "No longer listed by LMP since" in message_text(card)
    assert "From LMP" in message_text(card)


async def test_slow_lmp_add_closes_the_form_and_reports_later(
    team: BotHarness, lmp: LmpStandIn
) -> None:
    team.deps.ack_budget = 0.3
    lmp.create_delay = 3.5
    await team.command("add", user=OPS)
    [opened] = await team.slack.wait_for("views.open")
    form = {"company": "Lateco", "sign_in": None, "license": "monthly"}
    started = time.monotonic()
    ok = await submit(team, opened_view(opened.payload), form, user=OPS)
    assert time.monotonic() - started < 1.5 and ok.text == ""
    [told] = await team.slack.wait_for("response_url", 1, within=10)
    assert "Added Lateco" in message_text(told.payload)
    assert told.payload["replace_original"] is False
    async with team.db.session() as s:
        c = (await s.scalars(select(Customer).where(Customer.company == "Lateco"))).one()
    assert c.lmp_customer_id == lmp.customers[-1]["customer_id"]


async def test_nfr_double_click_asks_lmp_once(team: BotHarness, lmp: LmpStandIn) -> None:
    cid = await lmp_customer(team, lmp, "Acme", status=Status.ACTIVE)
    lmp.delay = 0.5
    nfr = button((await team.command("nfr acme", user=ADMIN)).json, "Assign NFR license")
    await asyncio.gather(
        *(team.click(nfr["action_id"], nfr["value"], user=ADMIN) for _ in range(3))
    )
    shown = [c.payload for c in await team.slack.wait_for("response_url", 3, within=10)]
    assert sum("now has the partner's NFR license" in message_text(p) for p in shown) == 1
    assert len(lmp.calls("POST", "trend-vision-one-subscription")) == 1
    assert (await row(team, cid)).is_nfr
    assert len(await audit(team, Action.ASSIGN_NFR)) == 1


async def test_nfr_refused_by_lmp_changes_nothing(team: BotHarness, lmp: LmpStandIn) -> None:
    cid = await lmp_customer(team, lmp, "Acme", status=Status.ACTIVE, data_center="za")
    nfr = button((await team.command("nfr acme", user=ADMIN)).json, "Assign NFR license")
    await team.click(nfr["action_id"], nfr["value"], user=ADMIN)
    told = await last_response(team, 1)
    assert "LMP does not offer the South Africa data center" in message_text(told)
    c = await row(team, cid)
    assert (c.is_nfr, c.license_type) == (False, "annual")
    assert lmp.calls("POST") == [] and await audit(team, Action.ASSIGN_NFR) == []


async def test_nfr_without_a_data_center_says_why(team: BotHarness, lmp: LmpStandIn) -> None:
    cid = await lmp_customer(team, lmp, "Acme", status=Status.ACTIVE, data_center=None)
    nfr = button((await team.command("nfr acme", user=ADMIN)).json, "Assign NFR license")
    await team.click(nfr["action_id"], nfr["value"], user=ADMIN)
    told = message_text(await last_response(team, 1))
    assert "LMP needs the data center for Acme's NFR licence, and none is recorded yet" in told
    assert not (await row(team, cid)).is_nfr and lmp.calls("POST") == []


async def test_taken_name_never_reaches_lmp(team: BotHarness, lmp: LmpStandIn) -> None:
    await add(team.db, customer("Acme"))
    await team.command("add", user=OPS)
    [opened] = await team.slack.wait_for("views.open")
    form = {"company": "ACME", "sign_in": None, "license": "annual"}
    refused = await submit(team, opened_view(opened.payload), form, user=OPS)
    assert refused.json["errors"]["company"] == "Acme is already a customer."
    assert lmp.calls("POST") == []


async def test_modal_offers_only_lmps_data_centers(team: BotHarness, lmp: LmpStandIn) -> None:
    cid = await lmp_customer(team, lmp, "Acme")
    view = await open_provision(team, "acme")
    select_dc = next(b for b in view["blocks"] if b.get("block_id") == "data_center")
    offered = [o["value"] for o in select_dc["element"]["options"]]
    assert offered == ["us", "eu", "sg", "jp", "au", "in", "mea", "ca", "uk"]
    forged = await submit(team, view, {"data_center": "za", "auditor": None}, user=OPS)
    assert forged.json["response_action"] == "update"
    assert "LMP cannot provision in the South Africa data center" in json.dumps(forged.json)
    assert (await row(team, cid)).status is Status.NOT_PROVISIONED and lmp.calls("POST") == []


async def test_customer_left_provisioning_is_settled_by_the_running_bot(
    team: BotHarness, lmp: LmpStandIn, bot_settings: Settings
) -> None:
    from bot.run import start_jobs

    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    cid = await lmp_customer(team, lmp, "Stuck", status=Status.PROVISIONING, updated_at=hour_ago)
    recent = await lmp_customer(team, lmp, "Busy", status=Status.PROVISIONING)
    imported = await lmp_customer(team, lmp, "Console", status=Status.PROVISIONING)
    async with team.db.transaction() as s:  # what the bot wrote when it sent the requests
        for one in (cid, recent):
            await record(
                s,
                Actor(OPS, Role.OPERATOR, name="ops"),
                Action.PROVISION,
                customer=await s.get(Customer, one),
                detail="requested",
                at=hour_ago,
            )
    jobs = start_jobs(team.deps, team.app, bot_settings)
    try:
        for _ in range(500):
            if (await row(team, cid)).status is not Status.PROVISIONING:
                break
            await asyncio.sleep(0.01)
    finally:
        await jobs.stop()
    c = await row(team, cid)
    assert (c.status, c.status_detail) == (
        Status.FAILED,
        "No answer from LMP was recorded (the bot stopped while waiting); "
        "nothing was provisioned. Retry.",
    )
    assert (await row(team, recent)).status is Status.PROVISIONING  # may yet be answered
    assert (await row(team, imported)).status is Status.PROVISIONING  # the console's word
    card = await card_of(team, "stuck", OPS)
    assert "nothing was provisioned. Retry." in message_text(card)
    retry = await open_provision(team, "stuck", "Retry")
    await submit(team, retry, {"data_center": "eu", "auditor": None}, user=OPS)
    assert (await row(team, cid)).status is Status.ACTIVE
    assert (
        "failed at LMP: No answer from LMP was recorded (the bot stopped while waiting); "
        "nothing was provisioned. Retry."
    ) in await audit(team, Action.PROVISION)
