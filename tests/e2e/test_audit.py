"""`/customers audit` and `/customers channels` through signed requests to the real server."""

from __future__ import annotations

import pytest

from store.actor import Actor
from store.enums import LicenseType, Role
from store.errors import AccessDenied
from tests.factories import add, customer
from tests.harness import ADMIN, BotHarness

OPS = "U0OPS"


def operator(channel: str = "C0CHAN") -> Actor:
    return Actor(OPS, Role.OPERATOR, name="ops", channel_id=channel)


async def make_operator(bot: BotHarness) -> None:
    reply = await bot.command(f"access grant <@{OPS}|ops> operator", user=ADMIN)
    assert "is now an *operator*" in reply.all_text


async def test_audit_shows_changes_newest_first_with_before_and_after(bot: BotHarness) -> None:
    await make_operator(bot)
    await bot.deps.ops.add_customer(operator(), "Acme", None, LicenseType.ANNUAL)
    [globex] = await add(bot.db, customer("Globex", sign_in_account="it@globex.example"))
    await bot.deps.ops.update_accounts(operator(), globex, 1, "new@globex.example", None)
    text = (await bot.command("audit", user=OPS)).all_text
    assert "Latest 3 changes" in text
    assert "sign_in_account: it@globex.example → new@globex.example" in text
    assert "*Update sign in* · *Globex*" in text and "<@U0OPS>" in text
    assert "*Grant role* · <@U0OPS>" in text and "role: — → operator" in text
    newest, middle, oldest = (
        text.index("*Update sign in*"),
        text.index("*Add* · *Acme*"),
        text.index("*Grant role*"),
    )
    assert newest < middle < oldest
    assert " UTC · <@U0ADMIN>" in text


async def test_audit_for_one_company_filters(bot: BotHarness) -> None:
    await make_operator(bot)
    await bot.deps.ops.add_customer(operator(), "Acme", None, LicenseType.ANNUAL)
    await bot.deps.ops.add_customer(operator(), "Globex", None, LicenseType.MONTHLY)
    text = (await bot.command("audit globex", user=OPS)).all_text
    assert "*Add* · *Globex*" in text and "license_type: — → monthly" in text
    assert "Acme" not in text and "Grant role" not in text
    everything = await bot.command("audit", user=ADMIN)
    assert "Latest 3 changes" in everything.all_text


async def test_audit_of_an_ambiguous_or_unknown_name_explains(bot: BotHarness) -> None:
    await add(bot.db, customer("Acme North"), customer("Acme South"), customer("Acme West"))
    reply = await bot.command("audit acme", user=ADMIN)
    assert "3 customers match “acme”" in reply.all_text
    assert "*Acme North*, *Acme South*, *Acme West*" in reply.all_text
    missing = await bot.command("audit initech", user=ADMIN)
    assert "No customer matches “initech”" in missing.all_text


async def test_an_empty_log_says_so(bot: BotHarness) -> None:
    reply = await bot.command("audit", user=ADMIN)
    assert "No changes recorded yet." in reply.all_text
    await add(bot.db, customer("Acme"))  # written straight to the store: no audit entry
    reply = await bot.command("audit acme", user=ADMIN)
    assert "No changes recorded yet for Acme." in reply.all_text


@pytest.mark.parametrize("text", ["audit", "audit acme"])
async def test_a_viewer_is_refused_naming_the_operator_role(bot: BotHarness, text: str) -> None:
    await add(bot.db, customer("Acme"))
    reply = await bot.command(text)  # the default user is a viewer
    assert "needs the *operator* role" in reply.all_text
    assert "Latest" not in reply.all_text


async def test_channels_allow_list_remove_round_trip(bot: BotHarness) -> None:
    assert "any channel" in (await bot.command("channels")).all_text
    allowed = await bot.command("channels allow <#C0OPS|ops>", user=ADMIN)
    assert "Changes can now only be made in <#C0OPS>." in allowed.all_text
    assert "can't be made in this channel" in allowed.all_text  # the admin typed in C0CHAN
    here = await bot.command("channels allow here", user=ADMIN)
    assert "Changes can now only be made in <#C0CHAN>, <#C0OPS>." in here.all_text
    again = await bot.command("channels allow <#C0OPS>", user=ADMIN)
    assert "<#C0OPS> was already on the list" in again.all_text
    listed = await bot.command("channels")  # any role may look
    assert "Changes can only be made in <#C0CHAN>, <#C0OPS>." in listed.all_text
    removed = await bot.command("channels remove <#C0OPS|ops>", user=ADMIN)
    assert "Changes can now only be made in <#C0CHAN>." in removed.all_text
    gone = await bot.command("channels remove here", user=ADMIN)
    assert "Changes can be made in any channel." in gone.all_text
    log = (await bot.command("audit", user=ADMIN)).all_text
    assert "*Allow channel* · <#C0OPS>" in log and "*Disallow channel* · <#C0CHAN>" in log
    assert log.count("*Allow channel*") == 2  # the repeated allow changed nothing


async def test_channels_clear(bot: BotHarness) -> None:
    await bot.command("channels allow <#C0OPS|ops>", user=ADMIN)
    await bot.command("channels allow <#C0SEC>", user=ADMIN)
    refused = await bot.command("channels clear", user=OPS)
    assert "needs the *admin* role" in refused.all_text
    cleared = await bot.command("channels clear", user=ADMIN)
    assert "Changes can be made in any channel." in cleared.all_text
    assert await bot.deps.ops.channels(operator()) == []


async def test_only_admins_change_channels(bot: BotHarness) -> None:
    await make_operator(bot)
    for user in (OPS, "U0VIEWER"):
        reply = await bot.command("channels allow here", user=user)
        assert "needs the *admin* role" in reply.all_text
        assert "any channel" in (await bot.command("channels", user=user)).all_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("channels allow #ops", "Pick the channel from Slack's list"),
        ("channels allow", "channels allow #channel"),
        ("channels frob", "channels allow #channel"),
        ("channels allow ops", "channels allow #channel"),
    ],
)
async def test_bad_channel_commands_explain_and_change_nothing(
    bot: BotHarness, text: str, expected: str
) -> None:
    reply = await bot.command(text, user=ADMIN)
    assert expected in reply.all_text
    assert await bot.deps.ops.channels(operator()) == []


async def test_an_allowed_channel_refuses_changes_elsewhere(bot: BotHarness) -> None:
    await bot.command("channels allow <#C0OPS|ops>", user=ADMIN)
    with pytest.raises(AccessDenied, match="only be made in <#C0OPS>"):
        await bot.deps.ops.add_customer(operator("C0OTHER"), "Acme", None, LicenseType.ANNUAL)
    added = await bot.deps.ops.add_customer(operator("C0OPS"), "Acme", None, LicenseType.ANNUAL)
    assert added.company == "Acme"
