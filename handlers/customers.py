"""Read-only views of the portfolio: list (with paging), show, risk, and the pick list."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from blocks.customers import PAGE_SIZE, customer_list, pick_list
from blocks.ids import ActionId, ListPageValue, PickFor, PickValue
from blocks.message import Message
from blocks.risk import customer_risk, risk_overview
from handlers.actions import card
from handlers.deps import Deps, actor_for, deps_of, who_of
from handlers.request import CommandRequest
from store.access import Who
from store.customers import find_customer, get_customer, list_page, risk_summary
from store.errors import Ambiguous
from store.filters import parse_filter
from store.live import live_risk


async def _list(deps: Deps, who: Who, query: str, page: int, public: bool) -> Message:
    flt = parse_filter(query)
    today = deps.today()
    _, found = await list_page(
        deps.db, deps.policy, who, flt, page=page, page_size=PAGE_SIZE, today=today
    )
    return customer_list(found, flt, today, public=public)


async def list_command(req: CommandRequest) -> Message:
    return await _list(req.deps, who_of(req.context, req.body), req.rest, 0, req.public)


async def show_command(req: CommandRequest) -> Message:
    async with req.deps.db.session() as s:
        actor = await req.actor(s)
        try:
            customer = await find_customer(s, actor, req.rest)
        except Ambiguous as err:
            return pick_list(err, PickFor.SHOW, public=req.public)
    # A card in the channel is for reading: no buttons for everyone to see.
    return await card(req.deps, None if req.public else actor, customer)


async def risk_command(req: CommandRequest) -> Message:
    async with req.deps.db.session() as s:
        actor = await req.actor(s)
        if not req.rest.strip():
            return risk_overview(await risk_summary(s, actor))
        try:
            customer = await find_customer(s, actor, req.rest)
        except Ambiguous as err:
            return pick_list(err, PickFor.RISK, public=req.public)
        live = await live_risk(s, customer.id)
    return customer_risk(customer, live, req.deps.clock())


def _payload(public: bool, message: Message) -> dict[str, Any]:
    # Replacing keeps the channel tidy; the reply stays as visible as the message it replaces.
    return {
        "response_type": "in_channel" if public else "ephemeral",
        "replace_original": True,
        **message.payload(),
    }


async def on_list_page(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    value = ListPageValue.decode(action.get("value"))
    assert isinstance(value, ListPageValue)
    deps = deps_of(context)
    message = await _list(deps, who_of(context, body), value.q, value.p, value.pub)
    await respond(**_payload(value.pub, message))


async def on_pick(
    ack: AsyncAck,
    action: dict[str, Any],
    body: dict[str, Any],
    context: AsyncBoltContext,
    respond: AsyncRespond,
) -> None:
    await ack()
    value = PickValue.decode(action.get("value"))
    assert isinstance(value, PickValue)
    deps = deps_of(context)
    async with deps.db.session() as s:
        actor = await actor_for(deps, s, context, body)
        customer = await get_customer(s, actor, value.id)
    if value.a is PickFor.SHOW and not value.pub:
        message = await card(deps, actor, customer)
    elif value.a is PickFor.SHOW:
        message = await card(deps, None, customer)
    else:
        async with deps.db.session() as s:
            live = await live_risk(s, customer.id)
        message = customer_risk(customer, live, deps.clock())
    await respond(**_payload(value.pub, message))


async def on_view_console(ack: AsyncAck) -> None:
    await ack()  # a link button: Slack opens the URL, we only acknowledge


def register(app: AsyncApp) -> None:
    app.action(re.compile(rf"^{ActionId.LIST_PAGE}(:\d+)?$"))(on_list_page)
    app.action(re.compile(rf"^{ActionId.PICK}(:\d+)?$"))(on_pick)
    app.action(ActionId.VIEW_CONSOLE.value)(on_view_console)
