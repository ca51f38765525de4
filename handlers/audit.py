"""`/customers audit [company]` and `/customers channels …`."""

from __future__ import annotations

import re

from slack_sdk.models.blocks import Block

from blocks.audit import audit_entries
from blocks.message import Message, context, section
from blocks.text import clip, esc, plural
from handlers.request import CommandRequest
from store import audit
from store.access import Actor
from store.customers import find_customer
from store.enums import Role
from store.errors import Ambiguous, InvalidInput

AUDIT_LIMIT = 15  # what a phone screen can take in; the CLI export has the rest
PICK_SHOWN = 5

_CHANNEL = re.compile(r"^<#([CGD][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,31}$")
CHANNELS_USAGE = (
    "Use `channels` to see where changes may be made, or (admins) `channels allow #channel`, "
    "`channels remove #channel` or `channels clear`. `here` means this channel."
)
MAX_LISTED = 100  # channel mentions in one reply: well under a section's 3000 characters


async def audit_command(req: CommandRequest) -> Message:
    query = req.rest.strip()
    async with req.deps.db.session() as s:
        actor = await req.actor(s)
        # Checked before the name lookup, so a viewer hears about the role, not the customer.
        actor.require(Role.OPERATOR)
        customer_id, company = None, None
        if query:
            try:
                customer = await find_customer(s, actor, query)
            except Ambiguous as err:
                raise InvalidInput(_which_one(err)) from None
            customer_id, company = customer.id, customer.company
        entries = await audit.latest(s, actor, customer_id, limit=AUDIT_LIMIT)
    return audit_entries(entries, company)


def _which_one(err: Ambiguous) -> str:
    names = ", ".join(f"*{esc(clip(c.company, 100))}*" for c in err.candidates[:PICK_SHOWN])
    more = err.total - min(len(err.candidates), PICK_SHOWN)
    tail = f" and {plural(more, 'other')}" if more > 0 else ""
    return (
        f"{plural(err.total, 'customer')} match “{esc(clip(err.query.strip(), 100))}”: "
        f"{names}{tail}. Give more of the name, e.g. `audit {esc(clip(err.candidates[0].company, 100))}`."
    )


def parse_channel(word: str, here: str | None) -> str:
    """A channel from a Slack mention `<#C…|name>`, a bare ID, or `here`."""
    if word.lower() == "here":
        if not here:
            raise InvalidInput("I can't tell which channel this is; pick it with #channel.")
        return here
    match = _CHANNEL.match(word)
    if match:
        return match.group(1)
    if _CHANNEL_ID.match(word):
        return word
    if word.startswith("#"):
        raise InvalidInput(
            f"Pick the channel from Slack's list so it links: “{esc(clip(word, 80))}” was plain text."
        )
    raise InvalidInput(CHANNELS_USAGE)


def where(channels: list[str], *, now: bool = False) -> str:
    if not channels:
        return "Changes can be made in any channel."
    shown = ", ".join(f"<#{c}>" for c in channels[:MAX_LISTED])
    more = len(channels) - MAX_LISTED
    extra = f" and {plural(more, 'other channel')}" if more > 0 else ""
    return f"Changes can {'now ' if now else ''}only be made in {shown}{extra}."


async def channels_command(req: CommandRequest) -> Message:
    words = req.rest.split()
    verb = words[0].lower() if words else "list"
    args = words[1:]
    ops = req.deps.ops
    async with req.deps.db.session() as s:
        actor = await req.actor(s)
    if verb == "list" and not args:
        channels = await ops.channels(actor)
        return Message(
            text=where(channels),
            blocks=[section(where(channels)), context(CHANNELS_USAGE)],
        )
    if verb in ("allow", "add", "remove", "disallow") and len(args) == 1:
        channel = parse_channel(args[0], req.body.get("channel_id"))
        allow = verb in ("allow", "add")
        before = await ops.channels(actor)
        after = await ops.allow_channel(actor, channel, allow)
        note = ""
        if before == after:
            note = f"<#{channel}> was {'already' if allow else 'not'} on the list. "
        return _changed(actor, note + where(after, now=bool(after)), after)
    if verb == "clear" and not args:
        actor.require(Role.ADMIN)  # also when the list is already empty
        remaining = await ops.channels(actor)
        for channel in remaining:  # one audited removal each, as `channels remove` would
            remaining = await ops.allow_channel(actor, channel, False)
        return _changed(actor, where(remaining), remaining)
    raise InvalidInput(CHANNELS_USAGE)


def _changed(actor: Actor, text: str, channels: list[str]) -> Message:
    blocks: list[Block] = [section(text)]
    if channels and actor.channel_id not in channels:
        # The admin may have just moved changes away from where they are typing.
        blocks.append(context("Changes can't be made in this channel."))
    return Message(text=text, blocks=blocks)
