"""The sandbox in headless Chromium: what a person clicks, what they see, what the database holds."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.sandbox.run import Sandbox
from bot.sandbox.workspace import CHANNEL
from store.enums import ApprovalStatus, SnapshotSource, Status
from store.models import Approval, Customer, RiskSnapshot
from store.regions import DataCenter

OPERATOR, APPROVER, ADMIN, VIEWER = "U0DEMOOPS", "U0DEMOAPPR", "U0DEMOADMIN", "U0DEMOVIEW"
# Set SANDBOX_SCREENSHOT=docs/sandbox.png to refresh the README's picture.
SCREENSHOT = os.environ.get("SANDBOX_SCREENSHOT")


async def as_user(page: Any, user: str) -> None:
    await page.select_option("#user", user)


async def command(page: Any, text: str) -> None:
    await page.fill("#command", text)
    await page.press("#command", "Enter")


def last_message(page: Any) -> Any:
    return page.locator("#messages > .msg").last


async def customer(sandbox: Sandbox, name: str) -> Customer:
    async with sandbox.db.session() as s:
        found = await s.scalar(select(Customer).where(Customer.company == name))
    assert found is not None
    return found


async def test_list_show_provision(page: Any, sandbox: Sandbox) -> None:
    await as_user(page, OPERATOR)
    await page.get_by_text("Demo data").first.wait_for()
    await command(page, "/customers list")
    listing = last_message(page)
    await listing.get_by_text("Demo · Acme Dental").wait_for()
    await listing.get_by_text("Only visible to you").wait_for()
    await listing.get_by_role("button", name="Next").click()  # 40 customers: two pages
    await listing.get_by_text("Demo · Zorg Industries").wait_for()

    await command(page, "/customers show acme dental")
    card = last_message(page)
    await card.get_by_text("Not provisioned").first.wait_for()
    await card.get_by_role("button", name="Provision").click()
    modal = page.get_by_role("dialog", name="Provision Vision One")
    await modal.get_by_text("Start a paid Vision One license").wait_for()
    await modal.get_by_label("Auditor email").fill("not an email")
    await modal.get_by_role("button", name="Start paid license").click()
    await modal.locator(".input .error").first.wait_for()  # the bot's field errors, shown in place
    assert await modal.get_by_label("Auditor email").input_value() == "not an email"
    assert (await customer(sandbox, "Demo · Acme Dental")).status is Status.NOT_PROVISIONED

    await modal.get_by_label("Data center").select_option("eu")
    await modal.get_by_label("Auditor email").fill("auditor@acme.example")
    await modal.get_by_role("button", name="Start paid license").click()
    await modal.wait_for(state="detached")
    await card.get_by_text("Provisioned Vision One for Demo · Acme Dental").wait_for()
    c = await customer(sandbox, "Demo · Acme Dental")
    assert (c.status, c.data_center, c.auditor_account) == (
        Status.ACTIVE,
        DataCenter.EU,
        "auditor@acme.example",
    )
    await card.get_by_role("button", name="View").wait_for()  # active: a link to its console
    if SCREENSHOT:
        await page.screenshot(path=str(Path(SCREENSHOT)))


async def test_disconnect_asked_by_one_approved_by_another(page: Any, sandbox: Sandbox) -> None:
    await as_user(page, OPERATOR)
    await command(page, "/customers show krusty")
    card = last_message(page)
    await card.get_by_role("button", name="Disconnect").click()
    dialog = page.get_by_role("alertdialog", name="Ask to disconnect?")
    await dialog.get_by_text("Nothing changes until someone else approves").wait_for()
    await dialog.get_by_role("button", name="Ask for approval").click()
    request = page.locator("#messages > .msg", has_text="asks to disconnect")
    await request.get_by_text("@Omar Operator").first.wait_for()
    # The requester gets no say: Approve is refused for them.
    await request.get_by_role("button", name="Approve").click()
    await page.get_by_role("alertdialog").get_by_role("button", name="Approve").click()
    await page.get_by_text("someone else", exact=False).last.wait_for()
    assert (await customer(sandbox, "Demo · Krusty Burger")).status is Status.ACTIVE

    await as_user(page, APPROVER)
    await page.locator("#nav-home").click()
    home = page.locator("#home")
    await home.get_by_text("Demo · Krusty Burger").first.wait_for()  # waiting for Ada
    await page.locator("#nav-channel").click()
    request = page.locator("#messages > .msg", has_text="asks to disconnect")
    await request.get_by_role("button", name="Approve").click()
    await page.get_by_role("alertdialog").get_by_role("button", name="Approve").click()
    await request.get_by_text("Approved by").wait_for()
    await request.get_by_text("(edited)").wait_for()
    assert await request.get_by_role("button", name="Approve").count() == 0
    c = await customer(sandbox, "Demo · Krusty Burger")
    assert c.status is Status.DISCONNECTED
    async with sandbox.db.session() as s:
        a = await s.scalar(select(Approval).where(Approval.customer_id == c.id))
    assert a is not None
    assert (a.status, a.requested_by, a.decided_by) == (ApprovalStatus.APPROVED, OPERATOR, APPROVER)


async def test_digest_preview_is_only_for_the_asker(page: Any, sandbox: Sandbox) -> None:
    await as_user(page, ADMIN)
    await command(page, "/customers digest preview")
    digest = page.locator("#messages > .msg", has_text="Risk digest").first
    await digest.get_by_text("Only visible to you").wait_for()
    await digest.get_by_text("Riskiest").first.wait_for()
    await digest.locator(".block.header").first.wait_for()

    await as_user(page, VIEWER)
    await page.get_by_text("This is the start of #customer-ops").wait_for()
    assert await page.locator("#messages", has_text="Risk digest").count() == 0
    await command(page, "/customers digest subscribe")  # a viewer may not: told, nothing done
    await last_message(page).get_by_text("admin", exact=False).first.wait_for()
    assert not await sandbox.deps.digests.subscriptions()


async def test_block_kit_the_bot_does_not_use_yet_is_drawn_too(page: Any, sandbox: Sandbox) -> None:
    """Overflow menus, selects in messages and threads, posted through the Web API."""
    client = sandbox.app.client
    parent = await client.chat_postMessage(
        channel=CHANNEL,
        text="fallback",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": "A header"}},
            {
                "type": "section",
                "block_id": "s1",
                "fields": [
                    {"type": "mrkdwn", "text": "*Left*"},
                    {"type": "mrkdwn", "text": "Right"},
                ],
                "accessory": {
                    "type": "overflow",
                    "action_id": "more",
                    "options": [{"text": {"type": "plain_text", "text": "Do it"}, "value": "1"}],
                },
            },
            {"type": "divider"},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "small print <@U0DEMOAPPR>"}],
            },
            {
                "type": "actions",
                "block_id": "a1",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": "pick",
                        "placeholder": {"type": "plain_text", "text": "Choose"},
                        "options": [
                            {"text": {"type": "plain_text", "text": "One"}, "value": "one"}
                        ],
                    }
                ],
            },
        ],
    )
    await client.chat_postMessage(channel=CHANNEL, text="a reply", thread_ts=parent["ts"])
    await as_user(page, VIEWER)
    message = page.locator("#messages > .msg", has_text="A header")
    await message.locator(".fields b", has_text="Left").wait_for()
    await message.get_by_text("@Ada Approver").wait_for()
    await message.locator(".thread", has_text="1 reply").get_by_text("a reply").wait_for()
    assert await message.get_by_role("combobox").count() == 1
    await message.get_by_role("button", name="More actions").click()
    await message.get_by_role("button", name="Do it").click()
    # The bot has no listener for it, so Bolt answers 404: the page says so, as Slack would.
    await page.get_by_text("The app did not respond (HTTP 404)").wait_for()


async def test_connect_shows_live_figures_from_the_demo_api(page: Any, sandbox: Sandbox) -> None:
    await as_user(page, OPERATOR)
    await command(page, "/customers show acme dental")
    card = last_message(page)
    await card.get_by_role("button", name="Connect Vision One").click()
    modal = page.get_by_role("dialog", name="Connect Vision One")
    await modal.get_by_text("any API token of 20 or more characters works").wait_for()
    await modal.get_by_label("Region").select_option("eu")
    await modal.get_by_label("API token").fill("demo-token-acme-0123456789")
    await modal.get_by_role("button", name="Connect", exact=True).click()
    await modal.wait_for(state="detached")
    await card.get_by_text("its latest figures are in").wait_for()
    await card.get_by_text("Figures from Vision One · updated").wait_for()
    await card.get_by_text("Top risk events").wait_for()
    await card.get_by_role("button", name="Replace API token").wait_for()
    c = await customer(sandbox, "Demo · Acme Dental")
    async with sandbox.db.session() as s:
        snap = await s.scalar(
            select(RiskSnapshot).where(
                RiskSnapshot.customer_id == c.id, RiskSnapshot.source == SnapshotSource.VISION_ONE
            )
        )
    assert snap is not None and c.cri == snap.cri and c.v1_connected
