"""`/customers digest subscribe|unsubscribe|list|preview`."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError

from blocks.digest import digest_messages
from blocks.message import Message, notice
from blocks.text import esc
from handlers.request import CommandRequest
from store.digest_data import digest_data
from store.digests import parse_subscription, zone_or_utc
from store.enums import Role
from store.errors import InvalidInput
from store.filters import parse_filter
from store.schedule import describe_days

USAGE = (
    "Use `digest subscribe [HH:MM] [Area/City] [weekdays|mon,wed,fri] [filters]`, "
    "`digest unsubscribe`, `digest list` or `digest preview [filters]`."
)


async def _user_zone(req: CommandRequest) -> str:
    """The requester's own Slack time zone: a digest at 09:00 means their 09:00."""
    try:
        info = await req.context.client.users_info(user=str(req.body.get("user_id")))
    except SlackApiError:
        return "UTC"
    user = info.get("user")
    return zone_or_utc(user.get("tz") if isinstance(user, dict) else None)


async def digest_command(req: CommandRequest) -> Message | None:
    words = req.rest.split(maxsplit=1)
    verb = words[0].lower() if words else "list"
    rest = words[1] if len(words) > 1 else ""
    deps = req.deps
    channel = str(req.body.get("channel_id") or "")
    async with deps.db.session() as s:
        actor = await req.actor(s)
    if verb == "subscribe":
        actor.require(Role.ADMIN)  # checked before asking Slack for the time zone
        spec = parse_subscription(rest, await _user_zone(req))
        sub = await deps.digests.subscribe(actor, channel, spec)
        what = f" for `{esc(sub.filters)}`" if sub.filters else ""
        return notice(
            f"This channel gets the risk digest at {sub.at_time:%H:%M} {sub.tz}, "
            f"{describe_days(sub.weekdays)}{what}. See it now with `/customers digest preview`. "
            "If I'm not in this channel yet, invite me: `/invite @Customer Overview`."
        )
    if verb == "unsubscribe":
        if rest:
            raise InvalidInput("`digest unsubscribe` takes no arguments: it is for this channel.")
        if await deps.digests.unsubscribe(actor, channel):
            return notice("This channel no longer gets the risk digest.")
        return notice("This channel had no digest subscription.")
    if verb == "list":
        subs = await deps.digests.subscriptions(actor)
        if not subs:
            return notice(
                "No channel gets the digest yet. An admin can start one with `/customers digest subscribe`."
            )
        lines = [
            f"• <#{s.channel_id}> — {s.at_time:%H:%M} {s.tz}, {describe_days(s.weekdays)}"
            + (f", `{esc(s.filters)}`" if s.filters else "")
            + f" (set up by <@{s.created_by}>)"
            for s in subs
        ]
        return notice(
            f"*Channels that get the risk digest* ({len(subs)})\n" + "\n".join(lines[:60])
        )
    if verb == "preview":
        actor.require(Role.VIEWER)
        here = await deps.digests.subscriptions(channel_id=channel)
        current = here[0] if here else None
        filters = parse_filter(rest).to_query() if rest else (current.filters if current else "")
        tz = current.tz if current else await _user_zone(req)
        now = deps.digests.now()
        async with deps.db.session() as s:
            data = await digest_data(
                s,
                parse_filter(filters),
                now.astimezone(ZoneInfo(tz)).date(),
                since=None,
                previous_bands=None,
                now=now,
            )
        parts = digest_messages(data)
        respond = req.context.respond
        assert respond is not None
        for part in parts[1:5]:  # a response_url takes five messages
            await respond(response_type="ephemeral", **part.payload())
        return parts[0]
    raise InvalidInput(USAGE)
