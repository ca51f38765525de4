"""`/customers access …`: admins manage who has which role."""

from __future__ import annotations

import re

from blocks.access import access_list
from blocks.message import Message, notice
from handlers.request import CommandRequest
from store import access
from store.access import a_role
from store.errors import InvalidInput

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
USAGE = "Use `access list`, `access grant @user <role>` or `access revoke @user`."


def parse_user(word: str) -> str:
    match = _MENTION.match(word)
    if match:
        return match.group(1)
    if word.startswith("@"):
        raise InvalidInput(
            f"Mention the person so Slack links their name: “{word}” was plain text."
        )
    return access.check_user_id(word)


async def access_command(req: CommandRequest) -> Message:
    words = req.rest.split()
    verb = words[0].lower() if words else "list"
    args = words[1:]
    policy = req.deps.policy
    if verb == "list" and not args:
        async with req.deps.db.session() as s:
            grants = await access.list_grants(s, await req.actor(s))
        return access_list(grants, policy)
    if verb == "grant" and len(args) == 2:
        user, role = parse_user(args[0]), access.parse_role(args[1])
        async with req.deps.db.transaction() as s:
            actor = await req.actor(s)
            await access.grant(s, actor, user, role, granted_by=actor.user_id)
        note = " They are in BOT_ADMINS, so they stay an admin." if user in policy.admins else ""
        return notice(f"<@{user}> is now {a_role(role.value)}.{note}")
    if verb == "revoke" and len(args) == 1:
        user = parse_user(args[0])
        async with req.deps.db.transaction() as s:
            removed = await access.revoke(s, await req.actor(s), user)
        fallback = policy.default_role.value if policy.default_role else "no access"
        if not removed:
            return notice(f"<@{user}> had no role granted; they have the default ({fallback}).")
        return notice(f"<@{user}>'s role was removed; they now have the default ({fallback}).")
    raise InvalidInput(USAGE)
