"""Help that lists only what this person may run."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from blocks.message import Message, context, section
from blocks.text import esc
from store.access import a_role
from store.enums import PartnerType, Role

_VIEWER = [
    ("/customers list [filters]", "the portfolio, sorted by company, 20 a page"),
    (
        "/customers list acme risk:high",
        "filters: text, `risk:high|medium|low`, `license:annual|monthly|nfr`, `status:trial`, `expiring:30`, `sort:risk`",
    ),
    ("/customers show <company>", "one customer's card"),
    (
        "/customers risk [<company>]",
        "risk by band and the riskiest customers, or one customer's figures",
    ),
    ("/customers digest preview [filters]", "the daily risk digest, now, just for you"),
    ("/customers digest list", "which channels get the digest, and when"),
    ("/customers help", "this help"),
]
_OPERATOR = [
    ("/customers add", "add a customer (created manually)"),
    ("/customers provision <company>", "start a paid Vision One license (data center, Auditor)"),
    (
        "/customers connect <company>",
        "connect the customer's Vision One (region and API token) for live risk figures",
    ),
    ("/customers accounts <company>", "sign-in account and Primary User Account"),
    ("/customers disconnect <company>", "ask an approver to disconnect the customer"),
    ("/customers audit [<company>]", "the latest changes and who made them"),
]
_DFIR = [
    ("/customers trial <company>", "start a free 60-day trial (data center, Auditor account)"),
    ("/customers extend <company>", "extend a trial by 30 days"),
]
_APPROVER = [("Approve / Reject", "decide disconnect requests someone else made")]
_ADMIN = [
    ("/customers nfr <company>", "assign the partner's one NFR license (cannot be moved)"),
    ("/customers channels [allow|remove #channel]", "where changes may be made"),
    (
        "/customers digest subscribe [09:00] [Europe/Berlin] [weekdays] [risk:high]",
        "post the daily digest in this channel",
    ),
    ("/customers digest unsubscribe", "stop this channel's digest"),
    ("/customers access list", "who has which role"),
    ("/customers access grant @user operator", "roles: viewer, operator, approver, admin"),
    ("/customers access revoke @user", "back to the workspace default"),
]


def help_message(
    role: Role | None, partner: PartnerType = PartnerType.MSP, *, prefix: str | None = None
) -> Message:
    if role is None:
        text = "You don't have access to Customer Overview. Ask an admin to grant you a role."
        return Message(text=text, blocks=[section(text)])
    commands = list(_VIEWER)
    if role.allows(Role.OPERATOR):
        commands += _OPERATOR + (_DFIR if partner is PartnerType.DFIR else [])
    if role.allows(Role.APPROVER):
        commands += _APPROVER
    if role.allows(Role.ADMIN):
        commands += _ADMIN
    # Escaped: Slack reads `<company>` as a link, even inside backticks.
    lines = "\n".join(f"`{esc(cmd)}` — {esc(what)}" for cmd, what in commands)
    blocks: list[Block] = []
    if prefix:
        blocks.append(section(prefix))
    blocks += [
        section(f"*Customer Overview* — you are {a_role(role.value)}. You can run:\n{lines}"),
        context(
            "Names match by exact name, prefix or any part. Replies are only visible to you; "
            "end a command with `public` to post it in the channel."
        ),
    ]
    return Message(text=(prefix + " " if prefix else "") + "Customer Overview help", blocks=blocks)
