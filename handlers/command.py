"""The `/customers` command: one listener that routes subcommands."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.context.async_context import AsyncBoltContext

from blocks.help import help_message
from blocks.message import Message, notice
from handlers.access import access_command
from handlers.actions import SUBCOMMANDS, action_command, add_command
from handlers.audit import audit_command, channels_command
from handlers.customers import list_command, risk_command, show_command
from handlers.deps import deps_of
from handlers.digest import digest_command
from handlers.errors import error_message
from handlers.request import CommandRequest
from store.secrets import holds_token

COMMAND = "/customers"
PASTED_TOKEN = (
    "⚠️ That command holds what looks like an API token, so I did nothing with it and will not "
    "repeat it. Tokens go only in the connect form, where they are sealed at once: run "
    "`/customers connect &lt;company&gt;` and paste it there."
)
Route = Callable[[CommandRequest], Awaitable[Message | None]]  # None: nothing to say


async def help_command(req: CommandRequest, prefix: str | None = None) -> Message:
    async with req.deps.db.session() as s:
        actor = await req.actor(s)
    if actor.external:
        return notice("Customer Overview only answers members of the workspace that installed it.")
    return help_message(actor.role, req.deps.ops.partner, prefix=prefix)


ROUTES: dict[str, Route] = {
    "list": list_command,
    "show": show_command,
    "risk": risk_command,
    "help": help_command,
    "access": access_command,
    "audit": audit_command,
    "channels": channels_command,
    "add": add_command,
    "digest": digest_command,
    **dict.fromkeys(SUBCOMMANDS, action_command),
}


def route(req: CommandRequest) -> Awaitable[Message | None]:
    handler = ROUTES.get(req.sub)
    if handler is None:
        shown = req.sub if len(req.sub) <= 40 else req.sub[:40] + "…"
        return help_command(req, prefix=f"I don't know `{shown}`. Here is what you can run:")
    return handler(req)


async def _finish_late(
    work: asyncio.Task[Message | None], respond: AsyncRespond, public: bool
) -> None:
    try:
        result, visible = await work, public
    except Exception as error:
        result, visible = error_message(error), False
    message = result or notice("Done.")
    await respond(
        response_type="in_channel" if visible else "ephemeral",
        replace_original=not visible,
        **message.payload(),
    )


async def on_customers(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    deps = deps_of(context)
    if holds_token(body.get("text")):
        # Never echoed ("No customer matches …"), never posted, even with `public`.
        await ack(response_type="ephemeral", **notice(PASTED_TOKEN).payload())
        return
    req = CommandRequest.parse(deps, context, body)
    work = asyncio.ensure_future(route(req))
    try:
        # Reply in the HTTP answer itself when we can: it is the fastest way to be seen.
        message = await asyncio.wait_for(asyncio.shield(work), deps.ack_budget)
    except TimeoutError:
        await ack(response_type="ephemeral", text="Working on it… the answer will appear here.")
        deps.spawn(_finish_late(work, respond, req.public))
        return
    if message is None:  # a modal opened: the form is the answer
        await ack()
        return
    response_type = "in_channel" if req.public else "ephemeral"
    await ack(response_type=response_type, **message.payload())


def register(app: AsyncApp) -> None:
    app.command(COMMAND)(on_customers)
