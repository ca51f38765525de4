"""Acting on customers through Slack: buttons, modals, confirmations, approvals, refusals."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from blocks.ids import ActionId, CardValue
from store.enums import Action, ApprovalStatus, Origin, PartnerType, Status
from store.models import Approval, AuditEntry, Customer
from store.secrets import TokenVault, new_key
from tests.factories import add, customer
from tests.harness import (
    ADMIN,
    APPROVER,
    OPS,
    BotHarness,
    Reply,
    buttons,
    message_text,
    opened_view,
    submit,
)


async def row(bot: BotHarness, cid: int) -> Customer:
    async with bot.db.session() as s:
        c = await s.get(Customer, cid)
        assert c is not None
        return c


async def audit_actions(bot: BotHarness) -> list[Action]:
    async with bot.db.session() as s:
        rows = await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
        return [a for a in rows if a not in (Action.GRANT_ROLE,)]


def button(reply: dict[str, Any], label: str) -> dict[str, Any]:
    found = [b for b in buttons(reply) if b["text"]["text"] == label]
    assert found, [b["text"]["text"] for b in buttons(reply)]
    return found[0]


async def card_of(bot: BotHarness, name: str, user: str) -> dict[str, Any]:
    return (await bot.command(f"show {name}", user=user)).json


async def last_response(bot: BotHarness, count: int) -> dict[str, Any]:
    calls = await bot.slack.wait_for("response_url", count)
    return calls[-1].payload


async def test_buttons_follow_role_and_state(team: BotHarness) -> None:
    await add(team.db, customer("Fresh", status=Status.NOT_PROVISIONED, origin=Origin.MANUAL))
    viewer = [b["text"]["text"] for b in buttons(await card_of(team, "fresh", "U0VIEWER"))]
    assert viewer == []
    operator = [b["text"]["text"] for b in buttons(await card_of(team, "fresh", OPS))]
    assert operator == ["Provision", "Connect Vision One", "Disconnect"]
    team.deps.ops.partner = PartnerType.DFIR
    dfir = [b["text"]["text"] for b in buttons(await card_of(team, "fresh", ADMIN))]
    assert dfir == [
        "Provision",
        "Start free trial",
        "Connect Vision One",
        "Close case (disconnect)",
    ]


async def test_provision_through_the_modal(team: BotHarness) -> None:
    [cid] = await add(
        team.db,
        customer("Acme", status=Status.NOT_PROVISIONED, data_center=None, expiration_date=None),
    )
    card = await card_of(team, "acme", OPS)
    provision = button(card, "Provision")
    reply = await team.click(provision["action_id"], provision["value"], user=OPS)
    assert reply.status == 200
    [opened] = await team.slack.wait_for("views.open")
    view = opened_view(opened.payload)
    assert view["callback_id"] == "modal_provision"

    bad = await submit(team, view, {"data_center": "eu", "auditor": "not-an-email"}, user=OPS)
    assert bad.json == {
        "response_action": "errors",
        "errors": {"auditor": "“not-an-email” is not a valid Auditor address."},
    }
    assert (await row(team, cid)).status is Status.NOT_PROVISIONED

    ok = await submit(team, view, {"data_center": "eu", "auditor": "audit@acme.example"}, user=OPS)
    assert ok.status == 200 and ok.text == ""
    updated = await last_response(team, 1)
    assert updated["replace_original"] is True
    assert "Provisioned Vision One for Acme" in message_text(updated)
    assert button(updated, "View")["url"] == "https://portal.eu.xdr.trendmicro.com"
    c = await row(team, cid)
    assert (c.status, c.data_center, c.auditor_account) == (
        Status.ACTIVE,
        "eu",
        "audit@acme.example",
    )
    assert await audit_actions(team) == [Action.PROVISION, Action.PROVISION]

    again = await submit(team, view, {"data_center": "eu", "auditor": None}, user=OPS)
    assert again.json["response_action"] == "update"
    assert "changed since" in json.dumps(again.json)


async def test_viewer_replaying_an_operator_button_is_refused(team: BotHarness) -> None:
    [cid] = await add(team.db, customer("Acme", status=Status.NOT_PROVISIONED))
    provision = button(await card_of(team, "acme", OPS), "Provision")
    await team.click(provision["action_id"], provision["value"], user="U0VIEWER")
    refusal = await last_response(team, 1)
    assert "needs the *operator* role" in refusal["text"]
    assert team.slack.of("views.open") == []
    forged = CardValue(a=Action.REQUEST_DISCONNECT, id=cid, v=1).encode()
    await team.click(f"{ActionId.CARD}:request_disconnect", forged, user="U0VIEWER")
    assert "needs the *operator* role" in (await last_response(team, 2))["text"]
    assert (await row(team, cid)).version == 1 and await audit_actions(team) == []


async def test_revoked_role_counts_at_the_click(team: BotHarness) -> None:
    await add(team.db, customer("Acme", status=Status.NOT_PROVISIONED))
    provision = button(await card_of(team, "acme", OPS), "Provision")
    await team.command(f"access revoke <@{OPS}>", user=ADMIN)
    await team.click(provision["action_id"], provision["value"], user=OPS)
    assert "needs the *operator* role; you are a *viewer*" in (await last_response(team, 1))["text"]


async def test_extend_twice_on_one_card_extends_once(team: BotHarness) -> None:
    team.deps.ops.partner = PartnerType.DFIR
    [cid] = await add(
        team.db, customer("Trialco", status=Status.TRIAL, expiration_date=dt.date(2027, 1, 10))
    )
    extend = button(await card_of(team, "trialco", OPS), "Extend trial by 30 days")
    assert "2027-01-10" in extend["confirm"]["text"]["text"]
    await team.click(extend["action_id"], extend["value"], user=OPS)
    first = await last_response(team, 1)
    assert "it now ends 2027-02-09" in message_text(first)
    await team.click(extend["action_id"], extend["value"], user=OPS)
    second = await last_response(team, 2)
    assert "Nothing was done" in message_text(second)
    c = await row(team, cid)
    assert (c.expiration_date, c.trial_extensions) == (dt.date(2027, 2, 9), 1)
    fresh = button(second, "Extend trial by 30 days")  # the redrawn card extends again
    await team.click(fresh["action_id"], fresh["value"], user=OPS)
    await last_response(team, 3)
    assert (await row(team, cid)).expiration_date == dt.date(2027, 3, 11)


async def test_concurrent_identical_clicks_have_one_effect(team: BotHarness) -> None:
    team.deps.ops.partner = PartnerType.DFIR
    [cid] = await add(
        team.db, customer("Trialco", status=Status.TRIAL, expiration_date=dt.date(2027, 1, 10))
    )
    extend = button(await card_of(team, "trialco", OPS), "Extend trial by 30 days")
    replies = await asyncio.gather(
        *(team.click(extend["action_id"], extend["value"], user=OPS) for _ in range(6))
    )
    assert all(r.status == 200 for r in replies)
    await team.slack.wait_for("response_url", 6)
    assert (await row(team, cid)).trial_extensions == 1
    assert await audit_actions(team) == [Action.EXTEND_TRIAL]


async def test_extend_refused_for_msp_and_for_non_trials(team: BotHarness) -> None:
    await add(team.db, customer("Trialco", status=Status.TRIAL), customer("Paid"))
    msp = await team.command("extend trialco", user=OPS)
    assert "for DFIR partners" in msp.all_text
    team.deps.ops.partner = PartnerType.DFIR
    paid = await team.command("extend paid", user=OPS)
    assert "Only trials can be extended; Paid is active" in paid.all_text
    prompt = await team.command("extend trialco", user=OPS)
    assert "Extend *Trialco*'s trial by 30 days?" in prompt.all_text
    assert button(prompt.json, "Extend trial by 30 days")["confirm"]


async def test_nfr_admin_only_once(team: BotHarness) -> None:
    a, b = await add(team.db, customer("First"), customer("Second"))
    refused = await team.command("nfr first", user=OPS)
    assert "needs the *admin* role" in refused.all_text
    prompt = await team.command("nfr first", user=ADMIN)
    assign = button(prompt.json, "Assign NFR license")
    assert "cannot be undone" in assign["confirm"]["text"]["text"]
    await team.click(assign["action_id"], assign["value"], user=ADMIN)
    assert "now has the partner's NFR license" in message_text(await last_response(team, 1))
    assert (await row(team, a)).is_nfr
    second = await team.command("nfr second", user=ADMIN)
    assert "already assigned to First; it cannot be moved" in second.all_text
    assert not (await row(team, b)).is_nfr


async def test_add_customer_modal(team: BotHarness) -> None:
    reply = await team.command("add", user=OPS)
    assert reply.status == 200 and reply.text == ""
    [opened] = await team.slack.wait_for("views.open")
    view = opened_view(opened.payload)
    errors = await submit(
        team, view, {"company": "", "sign_in": "x@", "license": "annual"}, user=OPS
    )
    assert set(errors.json["errors"]) == {"company", "sign_in"}
    ok = await submit(
        team,
        view,
        {"company": "Newco", "sign_in": "it@newco.example", "license": "monthly"},
        user=OPS,
    )
    assert ok.text == ""
    added = await last_response(team, 1)
    assert "Added Newco" in message_text(added)
    async with team.db.session() as s:
        c = (await s.scalars(select(Customer).where(Customer.company == "Newco"))).one()
    assert (c.origin, c.license_type, c.status) == (
        Origin.MANUAL,
        "monthly",
        Status.NOT_PROVISIONED,
    )
    dup = await submit(
        team, view, {"company": "NEWCO", "sign_in": None, "license": "annual"}, user=OPS
    )
    assert "already a customer" in dup.json["errors"]["company"]
    viewer = await team.command("add", user="U0VIEWER")
    assert "needs the *operator* role" in viewer.all_text


async def test_expired_trigger_gets_a_clear_message(team: BotHarness) -> None:
    await add(team.db, customer("Acme", status=Status.NOT_PROVISIONED))
    team.slack.answers["views.open"] = lambda p: {"ok": False, "error": "expired_trigger_id"}
    reply = await team.command("provision acme", user=OPS)
    assert "took too long" in reply.all_text and "Sorry" not in reply.all_text


async def test_accounts_only_once_provisioned(team: BotHarness) -> None:
    _, live = await add(
        team.db,
        customer("New", status=Status.NOT_PROVISIONED),
        customer("Live", primary_user_account=None),
    )
    early = await team.command("accounts new", user=OPS)
    assert "once Vision One is provisioned" in early.all_text
    await team.command("accounts live", user=OPS)
    [opened] = await team.slack.wait_for("views.open")
    view = opened_view(opened.payload)
    await submit(
        team, view, {"sign_in": "boss@live.example", "primary_user": "pua@live.example"}, user=OPS
    )
    c = await row(team, live)
    assert (c.sign_in_account, c.primary_user_account) == ("boss@live.example", "pua@live.example")


async def request_disconnect(team: BotHarness, name: str) -> tuple[dict[str, Any], Reply]:
    card = await card_of(team, name, OPS)
    disconnect = button(card, "Disconnect")
    assert "Nothing changes until someone else approves" in disconnect["confirm"]["text"]["text"]
    reply = await team.click(disconnect["action_id"], disconnect["value"], user=OPS)
    [posted] = await team.slack.wait_for("chat.postMessage")
    return posted.payload, reply


async def test_disconnect_needs_a_second_person(team: BotHarness) -> None:
    [cid] = await add(team.db, customer("Manual Co", origin=Origin.MANUAL))
    request, _ = await request_disconnect(team, "manual")
    assert request["channel"] == "C0CHAN"
    assert f"<@{OPS}> asks to disconnect *Manual Co*" in message_text(request)
    told = await last_response(team, 1)
    assert "Asked for approval" in message_text(told)
    approve, reject = buttons(request)
    assert [approve["text"]["text"], reject["text"]["text"]] == ["Approve", "Reject"]

    await team.click(approve["action_id"], approve["value"], user=OPS)  # the requester
    assert "another approver must decide" in (await last_response(team, 2))["text"]
    await team.click(approve["action_id"], approve["value"], user="U0VIEWER")
    assert "needs the *approver* role" in (await last_response(team, 3))["text"]
    assert (await row(team, cid)).status is Status.ACTIVE

    await team.click(approve["action_id"], approve["value"], user=APPROVER)
    [update] = await team.slack.wait_for("chat.update")
    text = message_text(update.payload)
    assert f"Approved by <@{APPROVER}>" in text and f"<@{OPS}> asks" in text
    assert buttons(update.payload) == []
    assert (update.payload["channel"], update.payload["ts"]) == ("C0CHAN", "1700000000.000101")
    assert (await row(team, cid)).status is Status.DISCONNECTED

    await team.click(reject["action_id"], reject["value"], user=ADMIN)
    assert f"Already approved by <@{APPROVER}>" in (await last_response(team, 4))["text"]
    actions = await audit_actions(team)
    assert actions == [Action.REQUEST_DISCONNECT, Action.APPROVE_DISCONNECT, Action.DISCONNECT]


async def test_imported_customers_cannot_be_disconnected_by_msp(team: BotHarness) -> None:
    await add(team.db, customer("Imported Co", origin=Origin.IMPORTED))
    card = await card_of(team, "imported", OPS)
    assert "Disconnect" not in [b["text"]["text"] for b in buttons(card)]
    reply = await team.command("disconnect imported", user=OPS)
    assert "Only customers created manually can be disconnected" in reply.all_text


async def test_rejection_and_expiry(team: BotHarness) -> None:
    a, b = await add(
        team.db, customer("One", origin=Origin.MANUAL), customer("Two", origin=Origin.MANUAL)
    )
    request, _ = await request_disconnect(team, "one")
    _, reject = buttons(request)
    await team.click(reject["action_id"], reject["value"], user=APPROVER)
    [update] = await team.slack.wait_for("chat.update")
    assert f"Rejected by <@{APPROVER}>" in message_text(update.payload)
    assert (await row(team, a)).status is Status.ACTIVE

    prompt = await team.command("disconnect two", user=OPS)
    ask = button(prompt.json, "Disconnect")
    await team.click(ask["action_id"], ask["value"], user=OPS)
    await team.slack.wait_for("chat.postMessage", 2)
    later = team.deps.ops.clock() + dt.timedelta(hours=25)
    team.deps.ops.clock = lambda: later
    from handlers.actions import expire_requests

    assert await expire_requests(team.deps, team.app.client) == 1
    updates = await team.slack.wait_for("chat.update", 2)
    assert "Expired" in message_text(updates[-1].payload)
    async with team.db.session() as s:
        statuses = (await s.scalars(select(Approval.status).order_by(Approval.id))).all()
    assert statuses == [ApprovalStatus.REJECTED, ApprovalStatus.EXPIRED]
    assert (await row(team, b)).status is Status.ACTIVE


async def test_request_that_cannot_be_posted_is_withdrawn(team: BotHarness) -> None:
    [cid] = await add(team.db, customer("Manual Co", origin=Origin.MANUAL))
    team.slack.answers["chat.postMessage"] = lambda p: {"ok": False, "error": "not_in_channel"}
    card = await card_of(team, "manual", OPS)
    disconnect = button(card, "Disconnect")
    await team.click(disconnect["action_id"], disconnect["value"], user=OPS)
    told = await last_response(team, 1)
    assert "not_in_channel" in told["text"] and "/invite" in told["text"]
    async with team.db.session() as s:
        [status] = (await s.scalars(select(Approval.status))).all()
    assert status is ApprovalStatus.CANCELLED
    assert (await row(team, cid)).status is Status.ACTIVE
    del team.slack.answers["chat.postMessage"]
    again = await team.command("disconnect manual", user=OPS)  # a new request may be made
    assert "Ask an approver" in again.all_text


async def test_help_lists_only_what_the_role_may_run(team: BotHarness) -> None:
    viewer = (await team.command("help")).all_text
    operator = (await team.command("help", user=OPS)).all_text
    admin = (await team.command("help", user=ADMIN)).all_text
    assert "/customers provision" not in viewer and "/customers provision" in operator
    assert "/customers nfr" not in operator and "/customers nfr" in admin
    assert "/customers trial" not in admin
    team.deps.ops.partner = PartnerType.DFIR
    assert "/customers trial" in (await team.command("help", user=OPS)).all_text


async def test_dfir_trial_through_the_modal(team: BotHarness) -> None:
    team.deps.ops.partner = PartnerType.DFIR
    today = team.deps.ops.clock().date()
    [cid] = await add(
        team.db,
        customer("Case Co", status=Status.NOT_PROVISIONED, data_center=None, expiration_date=None),
    )
    assert (await team.command("trial case", user=OPS)).text == ""
    [opened] = await team.slack.wait_for("views.open")
    view = opened_view(opened.payload)
    assert view["callback_id"] == "modal_trial"
    missing = await submit(team, view, {"data_center": "sg", "auditor": None}, user=OPS)
    assert "Auditor role" in missing.json["errors"]["auditor"]
    await submit(team, view, {"data_center": "sg", "auditor": "ir@case.example"}, user=OPS)
    c = await row(team, cid)
    assert (c.status, c.data_center) == (Status.TRIAL, "sg")
    assert c.expiration_date == today + dt.timedelta(days=60)
    assert c.trial_start_date == today


async def test_failed_provisioning_offers_retry(team: BotHarness) -> None:
    from store.platform import LocalLedger, PlatformError

    class Refusing(LocalLedger):
        async def provision(self, *args: object, **kwargs: object):  # type: ignore[override]
            raise PlatformError("no capacity in UK")

    [cid] = await add(team.db, customer("Acme", status=Status.NOT_PROVISIONED))
    team.deps.ops.platform = Refusing()
    await team.command("provision acme", user=OPS)
    [opened] = await team.slack.wait_for("views.open")
    await submit(
        team, opened_view(opened.payload), {"data_center": "uk", "auditor": None}, user=OPS
    )
    c = await row(team, cid)
    assert (c.status, c.status_detail) == (Status.FAILED, "no capacity in UK")
    card = await card_of(team, "acme", OPS)
    assert "Provisioning failed: no capacity in UK" in message_text(card)
    retry = button(card, "Retry")
    team.deps.ops.platform = LocalLedger()
    await team.click(retry["action_id"], retry["value"], user=OPS)
    opened_again = (await team.slack.wait_for("views.open", 2))[-1]
    view = opened_view(opened_again.payload)
    chosen = next(b for b in view["blocks"] if b.get("block_id") == "data_center")
    assert chosen["element"]["initial_option"]["value"] == "uk"
    await submit(team, view, {"data_center": "uk", "auditor": None}, user=OPS)
    assert (await row(team, cid)).status is Status.ACTIVE


async def test_connect_existing_vision_one(team: BotHarness) -> None:
    [cid] = await add(team.db, customer("Linked", status=Status.NOT_PROVISIONED, data_center=None))
    connect = button(await card_of(team, "linked", OPS), "Connect Vision One")
    await team.click(connect["action_id"], connect["value"], user=OPS)
    [opened] = await team.slack.wait_for("views.open")
    bad = await submit(team, opened_view(opened.payload), {"data_center": "mars"}, user=OPS)
    assert bad.json["errors"] == {
        "data_center": "Choose one of the options.",
        "api_token": "Paste the customer's Vision One API token.",
    }
    team.deps.ops.vault = TokenVault(new_key())  # no syncer: the card comes back at once
    token = "eyJhbGciOiJSUzI1NiJ9.linked-token-0123456789"
    values = {"data_center": "au", "api_token": token}
    await submit(team, opened_view(opened.payload), values, user=OPS)
    c = await row(team, cid)
    assert (c.v1_connected, c.status, c.data_center) == (True, Status.ACTIVE, "au")
    assert "Connected Linked's Vision One" in message_text(await last_response(team, 1))


async def test_forged_modal_metadata_is_refused_cleanly(team: BotHarness) -> None:
    view = {"callback_id": "modal_provision", "private_metadata": '{"id": "x"}', "blocks": []}
    reply = await submit(team, view, {}, user=OPS)
    assert reply.status == 200 and reply.json["response_action"] == "update"
    assert "out of date" in json.dumps(reply.json)
    no_meta = await submit(team, {"callback_id": "modal_extend", "blocks": []}, {}, user=OPS)
    assert no_meta.status < 500


async def test_outsiders_cannot_act(team: BotHarness) -> None:
    [cid] = await add(team.db, customer("Acme", status=Status.NOT_PROVISIONED))
    forged = CardValue(a=Action.PROVISION, id=cid, v=1).encode()
    await team.click(f"{ActionId.CARD}:provision", forged, user=ADMIN, team="T0OTHER")
    assert "only answers members" in (await last_response(team, 1))["text"]
    assert team.slack.of("views.open") == []
