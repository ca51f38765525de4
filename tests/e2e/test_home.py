"""The App Home tab: published on app_home_opened, per role, and refreshed after decisions."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from blocks.ids import ActionId
from store.access import Actor
from store.digests import parse_subscription
from store.enums import ApprovalStatus, Origin, Role, Status
from store.models import Approval, Customer
from tests.factories import add, customer
from tests.harness import (
    ADMIN,
    APPROVER,
    OPS,
    VIEWER,
    BotHarness,
    Reply,
    buttons,
    message_text,
    opened_view,
)
from tests.slack_standin import TEAM


def home_opened(user: str, *, tab: str = "home", team: str = TEAM) -> bytes:
    """An app_home_opened delivery, enveloped as Slack's Events API sends it."""
    envelope = {
        "token": "unused",
        "team_id": team,
        "api_app_id": "A0APP",
        "event": {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME",
            "tab": tab,
            "event_ts": "1700000000.000200",
        },
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": True}],
    }
    return json.dumps(envelope).encode()


def publishes(bot: BotHarness, user: str | None = None) -> list[dict[str, Any]]:
    return [
        opened_view(c.payload)
        for c in bot.slack.of("views.publish")
        if user is None or c.payload["user_id"] == user
    ]


async def open_home(bot: BotHarness, user: str, *, team: str = TEAM) -> dict[str, Any]:
    """Open the Home tab and return the one view published for it."""
    await bot.deps.drain()  # earlier refreshes are done: the next publish is this one
    before = len(bot.slack.of("views.publish"))
    reply = await bot.post(home_opened(user, team=team), "application/json")
    assert reply.status == 200
    await bot.deps.drain()
    new = bot.slack.of("views.publish")[before:]
    assert [c.payload["user_id"] for c in new] == [user]
    return opened_view(new[0].payload)


async def home_click(
    bot: BotHarness, button: dict[str, Any], user: str, *, block_id: str = "b1"
) -> Reply:
    """A button on the Home tab, as Slack sends it: a view container and no response_url."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0APP",
        "token": "unused",
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": f"trig.{time.monotonic_ns()}",
        "team": {"id": TEAM, "domain": "home"},
        "view": {
            "id": "V0HOME",
            "type": "home",
            "team_id": TEAM,
            "callback_id": "home",
            "private_metadata": "",
            "state": {"values": {}},
            "hash": "h",
            "blocks": [],
        },
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": block_id,
                "value": button["value"],
                "text": button["text"],
                "action_ts": "1700000000.1",
            }
        ],
    }
    return await bot.post(
        urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    )


async def ask_disconnect(bot: BotHarness, name: str, user: str) -> None:
    """`/customers disconnect <name>`, then the prompt's button: a request is posted."""
    posted = len(bot.slack.of("chat.postMessage"))
    prompt = await bot.command(f"disconnect {name}", user=user)
    [ask] = [b for b in buttons(prompt.json) if b["text"]["text"] == "Disconnect"]
    await bot.click(ask["action_id"], ask["value"], user=user)
    await bot.slack.wait_for("chat.postMessage", posted + 1)


async def test_each_role_sees_its_home(team: BotHarness) -> None:
    today = team.deps.today()
    await add(
        team.db,
        customer("One Co", origin=Origin.MANUAL, cri=20),
        customer("Two Co", origin=Origin.MANUAL, cri=10),
        customer("Soon Trial", status=Status.TRIAL, expiration_date=today + dt.timedelta(days=5)),
        customer("Late Trial", status=Status.TRIAL, expiration_date=today + dt.timedelta(days=40)),
        *(customer(f"Risk {n}", cri=n) for n in (99, 95, 90, 85, 80, 75)),
    )
    await ask_disconnect(team, "one co", OPS)
    await ask_disconnect(team, "two co", APPROVER)  # approvers may ask too

    viewer = await open_home(team, VIEWER)
    text = message_text(viewer)
    assert "You are a *viewer*" in text
    assert "Disconnects waiting for approval (2)" in text
    assert f"*One Co* — asked by <@{OPS}>" in text and "*Two Co*" in text
    assert buttons(viewer) == []
    assert f"*Soon Trial* — {(today + dt.timedelta(days=5)).isoformat()} (in 5 days)" in text
    assert "Late Trial" not in text
    assert "1. *Risk 99* — CRI 99 🔴 High" in text and "5. *Risk 80*" in text
    assert "Risk 75" not in text

    approver = await open_home(team, APPROVER)
    assert "You are an *approver*" in message_text(approver)
    sections = [b for b in approver["blocks"] if b["type"] == "section"]
    [one] = [b for b in sections if "One Co" in b["text"]["text"]]
    [own] = [b for b in sections if "Two Co" in b["text"]["text"]]
    after_one = approver["blocks"][approver["blocks"].index(one) + 1]
    assert [e["text"]["text"] for e in after_one["elements"]] == ["Approve", "Reject"]
    assert {e["action_id"] for e in after_one["elements"]} == {ActionId.APPROVE, ActionId.REJECT}
    assert "Your request: another approver decides it" in own["text"]["text"]
    assert len(buttons(approver)) == 2  # none on the approver's own request

    admin = await open_home(team, ADMIN)
    assert "You are an *admin*" in message_text(admin)
    assert len(buttons(admin)) == 4  # neither request is the admin's own


async def test_your_channel_digests(team: BotHarness) -> None:
    admin = Actor(ADMIN, Role.ADMIN)
    spec = parse_subscription("07:15 Europe/Berlin weekdays risk:high", "UTC")
    await team.deps.digests.subscribe(admin, "C0DIGEST", spec)
    mine = message_text(await open_home(team, ADMIN))
    assert "Your channel digests (1)" in mine
    assert "<#C0DIGEST> — 07:15 Europe/Berlin, Monday to Friday · `risk:high`" in mine
    theirs = message_text(await open_home(team, APPROVER))
    assert "You run no channel digests" in theirs and "C0DIGEST" not in theirs


async def test_approve_on_the_home_tab(team: BotHarness) -> None:
    [cid] = await add(team.db, customer("Manual Co", origin=Origin.MANUAL))
    await ask_disconnect(team, "manual", OPS)
    home = await open_home(team, APPROVER)
    [block] = [b for b in home["blocks"] if b["type"] == "actions"]
    approve = next(b for b in buttons(home) if b["text"]["text"] == "Approve")
    responses = len(team.slack.of("response_url"))

    reply = await home_click(team, approve, APPROVER, block_id=block["block_id"])
    assert reply.status == 200
    [update] = await team.slack.wait_for("chat.update")
    assert f"Approved by <@{APPROVER}>" in message_text(update.payload)
    assert buttons(update.payload) == []
    await team.deps.drain()
    async with team.db.session() as s:
        status = await s.scalar(select(Approval.status))
        c = await s.get(Customer, cid)
    assert status is ApprovalStatus.APPROVED
    assert c is not None and c.status is Status.DISCONNECTED
    refreshed = publishes(team, APPROVER)[-1]
    text = message_text(refreshed)
    assert "You approved the disconnect: Manual Co is disconnected" in text
    assert "Nothing is waiting for approval" in text and buttons(refreshed) == []
    requester = message_text(publishes(team, OPS)[-1])  # their request left their list too
    assert "Nothing is waiting for approval" in requester and "You approved" not in requester
    assert len(team.slack.of("response_url")) == responses  # nothing to respond to

    # The same button again (a second tab, a stale view): told on the tab, nothing changes.
    await home_click(team, approve, ADMIN, block_id=block["block_id"])
    await team.deps.drain()
    assert f"Already approved by <@{APPROVER}>" in message_text(publishes(team, ADMIN)[-1])
    assert len(team.slack.of("chat.update")) == 2  # the outcome message, redrawn as it is


async def test_a_refused_click_on_the_home_tab_is_told_there(team: BotHarness) -> None:
    await add(team.db, customer("Manual Co", origin=Origin.MANUAL))
    await ask_disconnect(team, "manual", OPS)
    approve = next(b for b in buttons(await open_home(team, APPROVER)) if b["value"])
    await team.command(f"access revoke <@{APPROVER}>", user=ADMIN)  # now a viewer
    reply = await home_click(team, approve, APPROVER)
    assert reply.status == 200
    await team.deps.drain()
    assert "needs the *approver* role" in message_text(publishes(team, APPROVER)[-1])
    async with team.db.session() as s:
        assert await s.scalar(select(Approval.status)) is ApprovalStatus.PENDING


async def test_actions_refresh_the_home_and_survive_a_failed_publish(team: BotHarness) -> None:
    await add(team.db, customer("Manual Co", origin=Origin.MANUAL))
    team.slack.answers["views.publish"] = lambda p: {"ok": False, "error": "internal_error"}
    await ask_disconnect(team, "manual", OPS)  # the request is made and posted regardless
    told = (await team.slack.wait_for("response_url"))[-1].payload
    assert "Asked for approval" in message_text(told)
    await team.deps.drain()
    assert publishes(team, OPS)  # it was tried
    del team.slack.answers["views.publish"]
    await add(team.db, customer("Other Co", origin=Origin.MANUAL))
    before = len(publishes(team, OPS))
    await ask_disconnect(team, "other", OPS)
    await team.deps.drain()
    after = publishes(team, OPS)
    assert len(after) == before + 1
    assert "Disconnects waiting for approval (2)" in message_text(after[-1])


async def test_messages_tab_publishes_nothing(bot: BotHarness) -> None:
    reply = await bot.post(home_opened(VIEWER, tab="messages"), "application/json")
    assert reply.status == 200
    await bot.deps.drain()
    assert bot.slack.of("views.publish") == []


async def test_outsiders_get_the_no_access_view(bot: BotHarness) -> None:
    await add(bot.db, customer("Secret Co", cri=99))
    view = await open_home(bot, ADMIN, team="T0OTHER")
    assert len(view["blocks"]) == 1
    text = message_text(view)
    assert "only answers members of the workspace" in text and "Secret Co" not in text


async def test_a_retried_event_publishes_once(bot: BotHarness) -> None:
    body = home_opened(VIEWER)
    first = await bot.post(body, "application/json")
    again = await bot.post(body, "application/json", headers={"X-Slack-Retry-Num": "1"})
    assert (first.status, again.status) == (200, 200)
    await bot.deps.drain()
    assert [c.payload["user_id"] for c in bot.slack.of("views.publish")] == [VIEWER]
