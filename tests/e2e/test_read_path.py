"""The read path end to end: signed requests in, what a person sees out."""

from __future__ import annotations

import datetime as dt
import json

from blocks.ids import ActionId
from store.enums import Level, LicenseType, Status
from store.regions import DataCenter
from tests.factories import add, add_many, customer
from tests.harness import BotHarness, buttons, message_text


async def test_list_pages_through_the_portfolio(bot: BotHarness) -> None:
    await add_many(bot.db, 45)
    first = await bot.command("")
    assert first.status == 200
    body = first.json
    assert body["response_type"] == "ephemeral"
    assert "45 customers" in first.all_text
    assert "Company 00001" in first.all_text and "Company 00020" in first.all_text
    assert "Company 00021" not in first.all_text
    assert "Page 1 of 3" in first.all_text
    [nxt] = buttons(body)
    assert nxt["text"]["text"].startswith("Next")

    page2 = await bot.click(nxt["action_id"], nxt["value"])
    assert page2.status == 200
    [posted] = await bot.slack.wait_for("response_url")
    assert posted.payload["replace_original"] is True
    text = message_text(posted.payload)
    assert "Company 00021" in text and "Company 00040" in text and "Page 2 of 3" in text
    labels = [b["text"]["text"] for b in buttons(posted.payload)]
    assert labels == ["◀ Previous", "Next ▶"]


async def test_list_shows_all_eight_columns_compactly(bot: BotHarness) -> None:
    await add(
        bot.db,
        customer(
            "Acme & Sons",
            license_type=LicenseType.MONTHLY_NFR,
            is_nfr=True,
            status=Status.TRIAL,
            cri=72,
            exposure=Level.HIGH,
            security_configuration=Level.MEDIUM,
            expiration_date=dt.date(2030, 1, 31),
            sign_in_account="it@acme.example",
        ),
    )
    reply = await bot.command("list")
    text = reply.all_text
    for part in (
        "Acme &amp; Sons",
        "Monthly (NFR)",
        "Trial",
        "72",
        "High",
        "Medium",
        "2030-01-31",
        "it@acme.example",
        "1 customer",
    ):
        assert part in text, part
    assert len(reply.json["blocks"]) <= 50


async def test_filters_narrow_the_list(bot: BotHarness) -> None:
    await add(
        bot.db,
        customer("Alpha", cri=80, license_type=LicenseType.MONTHLY),
        customer("Beta", cri=10, status=Status.TRIAL),
        customer("Gamma", cri=50, expiration_date=dt.date.today() + dt.timedelta(days=5)),
    )
    high = await bot.command("list risk:high")
    assert "1 customer" in high.all_text and "Alpha" in high.all_text
    assert "Beta" not in high.all_text
    trial = await bot.command("list status:trial")
    assert "Beta" in trial.all_text and "Alpha" not in trial.all_text
    soon = await bot.command("list expiring:30")
    assert "Gamma" in soon.all_text and "Alpha" not in soon.all_text
    text = await bot.command("list alp")
    assert "Alpha" in text.all_text and "Gamma" not in text.all_text
    by_risk = await bot.command("list sort:risk")
    t = by_risk.all_text
    assert t.index("Alpha") < t.index("Gamma") < t.index("Beta")
    bad = await bot.command("list risk:extreme")
    assert bad.status == 200 and "risk:high" in bad.all_text


async def test_show_card_with_view_button_for_active_customer(bot: BotHarness) -> None:
    await add(bot.db, customer("Contoso", data_center=DataCenter.EU, cri=31))
    reply = await bot.command("show contoso")
    text = reply.all_text
    assert "Contoso" in text and "31" in text and "Medium" in text
    for label in (
        "License type",
        "Vision One status",
        "Cyber Risk Index",
        "Exposure",
        "Security Configuration",
        "Expiration date",
        "Customer sign-in account",
    ):
        assert label in text
    [view] = buttons(reply.json)
    assert view["url"] == "https://portal.eu.xdr.trendmicro.com"
    assert (await bot.click(view["action_id"], view.get("value"), url=view["url"])).status == 200


async def test_show_without_console_has_no_view_button(bot: BotHarness) -> None:
    await add(bot.db, customer("Initech", status=Status.NOT_PROVISIONED, data_center=None))
    reply = await bot.command("show Initech")
    assert buttons(reply.json) == []


async def test_names_match_by_prefix_substring_and_offer_a_pick_list(bot: BotHarness) -> None:
    await add(bot.db, customer("Northwind"), customer("Northwind Traders"), customer("Umbrella"))
    exact = await bot.command("show NORTHWIND")
    assert exact.json["blocks"][0]["text"]["text"] == "Northwind"
    sub = await bot.command("show brell")
    assert sub.json["blocks"][0]["text"]["text"] == "Umbrella"
    ambiguous = await bot.command("show north")
    assert "2 customers match" in ambiguous.all_text
    picks = buttons(ambiguous.json)
    assert [p["text"]["text"] for p in picks] == ["Northwind", "Northwind Traders"]
    await bot.click(picks[1]["action_id"], picks[1]["value"])
    [posted] = await bot.slack.wait_for("response_url")
    assert posted.payload["blocks"][0]["text"]["text"] == "Northwind Traders"
    none = await bot.command("show Wayne")
    assert "No customer matches “Wayne”" in none.all_text


async def test_risk_overview_and_one_customer(bot: BotHarness) -> None:
    await add(
        bot.db,
        customer("Low Co", cri=5),
        customer("Mid Co", cri=50),
        customer("Hot Co", cri=95, exposure=Level.HIGH),
        customer("Unknown Co", cri=None),
    )
    overview = await bot.command("risk")
    text = overview.all_text
    assert "High* (70–100): 1" in text and "Medium* (31–69): 1" in text
    assert "Low* (0–30): 1" in text and "Not known*: 1" in text
    assert text.index("Hot Co") < text.index("Mid Co") < text.index("Low Co")
    one = await bot.command("risk hot")
    assert "Hot Co — High risk" in one.all_text


async def test_public_posts_in_channel(bot: BotHarness) -> None:
    await add(bot.db, customer("Acme"))
    reply = await bot.command("show acme public")
    assert reply.json["response_type"] == "in_channel"


async def test_help_and_unknown_subcommand(bot: BotHarness) -> None:
    reply = await bot.command("help")
    assert "you are a *viewer*" in reply.all_text
    assert "access grant" not in reply.all_text
    admin = await bot.command("help", user="U0ADMIN")
    assert "access grant" in admin.all_text
    unknown = await bot.command("frobnicate")
    assert "I don't know `frobnicate`" in unknown.all_text


async def test_external_user_gets_no_customer_data(bot: BotHarness) -> None:
    await add(bot.db, customer("Secret Corp"))
    for text in ("", "show secret", "risk"):
        reply = await bot.command(text, team="T0OTHER")
        assert "Secret Corp" not in reply.all_text
        assert "only answers members" in reply.all_text
    reply = await bot.click(
        f"{ActionId.LIST_PAGE}:1", json.dumps({"q": "", "p": 1}), team="T0OTHER"
    )
    [posted] = await bot.slack.wait_for("response_url")
    assert "Secret Corp" not in message_text(posted.payload)
    assert "only answers members" in message_text(posted.payload)


async def test_audit_and_access_stay_private(bot: BotHarness) -> None:
    reply = await bot.command("access list public", user="U0ADMIN")
    assert reply.json["response_type"] == "ephemeral"
    assert "Roles granted" in reply.all_text
