"""Access management replies."""

from __future__ import annotations

from collections.abc import Sequence

from blocks.message import MAX_SECTION_TEXT, Message, context, section
from blocks.text import esc
from store.access import AccessPolicy
from store.models import AccessGrant


def access_list(grants: Sequence[AccessGrant], policy: AccessPolicy) -> Message:
    default = policy.default_role.value if policy.default_role else "none (locked down)"
    lines: list[str] = []
    room = MAX_SECTION_TEXT - 100  # keep the heading and stop before Slack would cut
    for g in grants:
        line = f"<@{g.user_id}> — *{g.role.value}* (by {esc(g.granted_by)})"
        room -= len(line) + 1
        if room < 0:
            break
        lines.append(line)
    admins = ", ".join(f"<@{u}>" for u in sorted(policy.admins)) or "none"
    body = "\n".join(lines) if lines else "No roles granted yet."
    more = len(grants) - len(lines)
    blocks = [
        section(f"*Roles granted* ({len(grants):,})\n{body}"),
        context(f"Admins from BOT_ADMINS: {admins} · Everyone else in this workspace: {default}"),
    ]
    if more > 0:
        blocks.insert(1, context(f"…and {more:,} more: `overview-bot access list` shows all."))
    return Message(text=f"{len(grants)} roles granted", blocks=blocks)
