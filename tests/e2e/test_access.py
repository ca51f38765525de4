"""Roles through Slack: admins grant and revoke, everyone else is refused, `none` locks down."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from store.models import AccessGrant
from tests.factories import add, customer
from tests.harness import ADMIN, BotHarness


async def grants(bot: BotHarness) -> dict[str, str]:
    async with bot.db.session() as s:
        rows = (await s.scalars(select(AccessGrant))).all()
    return {g.user_id: g.role.value for g in rows}


async def test_admin_grants_lists_and_revokes(bot: BotHarness) -> None:
    reply = await bot.command("access grant <@U0ANA|ana> operator", user=ADMIN)
    assert "<@U0ANA> is now an *operator*" in reply.all_text
    assert await grants(bot) == {"U0ANA": "operator"}
    listed = await bot.command("access list", user=ADMIN)
    assert "<@U0ANA> — *operator*" in listed.all_text
    assert "Everyone else in this workspace: viewer" in listed.all_text
    help_ = await bot.command("help", user="U0ANA")
    assert "you are an *operator*" in help_.all_text
    gone = await bot.command("access revoke <@U0ANA>", user=ADMIN)
    assert "now have the default (viewer)" in gone.all_text
    assert await grants(bot) == {}


async def test_non_admin_cannot_grant(bot: BotHarness) -> None:
    reply = await bot.command("access grant <@U0EVE> admin", user="U0EVE")
    assert "needs the *admin* role" in reply.all_text
    assert await grants(bot) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("access grant @bob operator", "Mention the person"),
        ("access grant <@U0BOB> boss", "is not a role"),
        ("access grant <@U0BOB>", "access grant @user <role>"),
        ("access frob", "access list"),
        ("access grant bob viewer", "not a Slack user ID"),
    ],
)
async def test_bad_access_commands_explain_and_write_nothing(
    bot: BotHarness, text: str, expected: str
) -> None:
    reply = await bot.command(text, user=ADMIN)
    assert expected in reply.all_text
    assert await grants(bot) == {}


async def test_default_role_none_locks_the_bot_down(bot: BotHarness) -> None:
    await add(bot.db, customer("Acme"))
    bot.deps.policy = type(bot.deps.policy).of(bot.deps.policy.admins, None)
    reply = await bot.command("list")
    assert "don't have access" in reply.all_text and "Acme" not in reply.all_text
    await bot.command("access grant <@U0VIEWER> viewer", user=ADMIN)
    assert "Acme" in (await bot.command("list")).all_text


async def test_slow_answer_shows_progress_then_arrives(bot: BotHarness) -> None:
    import handlers.customers as module

    await add(bot.db, customer("Slowpoke"))
    real = module.list_page

    async def slow(*args: object, **kwargs: object) -> object:
        await asyncio.sleep(0.3)
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    bot.deps.ack_budget = 0.05
    module.list_page = slow  # type: ignore[assignment]
    try:
        reply = await bot.command("list")
        assert "Working on it" in reply.json["text"]
        [late] = await bot.slack.wait_for("response_url")
        assert "Slowpoke" in late.payload["blocks"][1]["text"]["text"]
        assert late.payload["replace_original"] is True
    finally:
        module.list_page = real
