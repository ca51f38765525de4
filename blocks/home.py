"""The App Home tab: the person's role, and what needs them now."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
)
from slack_sdk.models.views import View

from blocks.approvals import decision_buttons, when
from blocks.message import MAX_SECTION_TEXT, context, section
from blocks.text import UNKNOWN, clip, cri, esc, expiry, level
from store.access import a_role
from store.actor import Actor
from store.enums import ApprovalStatus, Role
from store.home import (
    MAX_DIGESTS,
    MAX_NEEDS_TOKEN,
    MAX_PENDING,
    MAX_TRIALS,
    RISKIEST,
    TRIAL_DAYS,
    HomeData,
    PendingRequest,
)
from store.models import DigestSubscription
from store.schedule import describe_days

CALLBACK_ID = "home"
NAME = 80  # characters of a company name shown in a list line (escaped after clipping)

WHAT_ROLE_ALLOWS = {
    Role.VIEWER: "you can look up customers, their risk and the digests.",
    Role.OPERATOR: "you can look up customers and act on them: add, provision, connect, "
    "and ask for a disconnect.",
    Role.APPROVER: "you can act on customers, and approve or reject disconnects "
    "someone else asked for.",
    Role.ADMIN: "you can do everything: act on customers, decide disconnects, "
    "and manage access, action channels and digests.",
}
NO_ACCESS = "You don't have access to Customer Overview. Ask an admin to grant you a role."
OUTSIDER = "Customer Overview only answers members of the workspace that installed it."


def _name(company: str) -> str:
    return esc(clip(company, NAME))


def _chunks(lines: Sequence[str]) -> list[Block]:
    """Lines as sections of at most 3,000 characters, split between lines."""
    blocks: list[Block] = []
    text = ""
    for line in lines:
        if text and len(text) + 1 + len(line) > MAX_SECTION_TEXT:
            blocks.append(section(text))
            text = ""
        text = f"{text}\n{line}" if text else line
    if text:
        blocks.append(section(text))
    return blocks


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=clip(text, 150)))


def _more(shown: int, total: int, hint: str) -> list[Block]:
    more = total - shown
    return [context(f"…and {more:,} more: {hint}")] if more > 0 else []


def _buttons(p: PendingRequest) -> ActionsBlock:
    return decision_buttons(p.id, p.company, f"home_approval_{p.id}")


def _pending(actor: Actor, data: HomeData) -> list[Block]:
    total = max(data.pending_total, len(data.pending))
    blocks: list[Block] = [_header(f"Disconnects waiting for approval ({total:,})")]
    if not data.pending:
        return [*blocks, section("Nothing is waiting for approval.")]
    shown = data.pending[:MAX_PENDING]
    deciding = actor.can(Role.APPROVER)
    if not deciding:
        lines = [
            f"• *{_name(p.company)}* — asked by <@{p.requested_by}> {when(p.requested_at)}"
            for p in shown
        ]
        blocks += _chunks(lines)
        blocks.append(context("An approver other than the requester decides each one."))
    else:
        for p in shown:
            line = f"*{_name(p.company)}* — asked by <@{p.requested_by}> {when(p.requested_at)}"
            if p.requested_by == actor.user_id:
                # The store refuses a requester's own decision; no buttons to tempt them.
                blocks.append(section(f"{line}\n_Your request: another approver decides it._"))
            else:
                blocks += [section(line), _buttons(p)]
    return blocks + _more(len(shown), total, "the oldest are shown first.")


def _needs_token(actor: Actor, data: HomeData) -> list[Block]:
    """Refused Vision One tokens: shown only when there are some (most days, none)."""
    total = max(data.needs_token_total, len(data.needs_token))
    if not data.needs_token:
        return []
    blocks: list[Block] = [_header(f"⚠️ Vision One needs a new API token ({total:,})")]
    shown = data.needs_token[:MAX_NEEDS_TOKEN]
    blocks += _chunks(
        [f"• *{_name(r.company)}* — token refused at the sync {when(r.since)}" for r in shown]
    )
    hint = (
        "Create a new API key in the customer's console, then `/customers connect &lt;company&gt;` "
        "(or *Replace API token* on its card). Their last known figures are kept until then."
        if actor.can(Role.OPERATOR)
        else "An operator replaces the token; their last known figures are kept until then."
    )
    blocks.append(context(hint))
    if total > len(shown):
        blocks.append(context(f"…and {total - len(shown):,} more, after these by name."))
    return blocks


def _trials(data: HomeData) -> list[Block]:
    today = data.now.date()
    trials = data.trials
    blocks: list[Block] = [_header(f"Trials ending within {TRIAL_DAYS} days ({trials.total:,})")]
    if not trials.items:
        return [*blocks, section(f"No trial ends in the next {TRIAL_DAYS} days.")]
    shown = trials.items[:MAX_TRIALS]
    blocks += _chunks([f"• *{_name(t.company)}* — {expiry(t.date, today)}" for t in shown])
    hint = f"`/customers list status:trial expiring:{TRIAL_DAYS} sort:expiry`"
    return blocks + _more(len(shown), trials.total, hint)


def _riskiest(data: HomeData) -> list[Block]:
    blocks: list[Block] = [_header("Riskiest customers")]
    if not data.riskiest:
        return [*blocks, section("No customer has a Cyber Risk Index yet.")]
    lines = [
        f"{i}. *{_name(c.company)}* — CRI {cri(c.cri)} · Exposure {level(c.exposure)} · "
        f"Security config. {level(c.security_configuration)}"
        for i, c in enumerate(data.riskiest[:RISKIEST], 1)
    ]
    return [*blocks, *_chunks(lines), context("`/customers risk` for the whole portfolio.")]


def _digest_line(sub: DigestSubscription) -> str:
    days = describe_days(sub.weekdays) if sub.weekdays else UNKNOWN
    what = f"`{esc(clip(sub.filters, 150))}`" if sub.filters else "all customers"
    return f"• <#{sub.channel_id}> — {sub.at_time:%H:%M} {esc(sub.tz)}, {days} · {what}"


def _digests(actor: Actor, data: HomeData) -> list[Block]:
    total = max(data.digests_total, len(data.digests))
    blocks: list[Block] = [_header(f"Your channel digests ({total:,})")]
    if not data.digests:
        hint = (
            "Start one in a channel with `/customers digest subscribe`."
            if actor.can(Role.ADMIN)
            else "Admins set them up; `/customers digest list` shows every channel's."
        )
        return [*blocks, section(f"You run no channel digests. {hint}")]
    shown = data.digests[:MAX_DIGESTS]
    blocks += _chunks([_digest_line(s) for s in shown])
    return blocks + _more(len(shown), total, "`/customers digest list` shows them all.")


def home_view(actor: Actor, data: HomeData, *, note: str | None = None) -> View:
    """The Home tab for `actor`; `note` is what just happened (a decision made here, say)."""
    if actor.external or actor.role is None:
        text = OUTSIDER if actor.external else NO_ACCESS
        return View(type="home", callback_id=CALLBACK_ID, blocks=[section(text)])
    role = actor.role
    blocks: list[Block] = [
        _header("Customer Overview"),
        section(f"You are {a_role(role.value)}: {WHAT_ROLE_ALLOWS[role]}"),
    ]
    if note:
        blocks.append(section(note))
    parts = (
        _pending(actor, data),
        _needs_token(actor, data),
        _trials(data),
        _riskiest(data),
        _digests(actor, data),
    )
    for part in parts:
        if part:
            blocks += [DividerBlock(), *part]
    blocks.append(context(f"Updated {when(data.now)} · `/customers help` lists what you can run"))
    return View(type="home", callback_id=CALLBACK_ID, blocks=blocks)


def decided_note(status: ApprovalStatus, company: str) -> str:
    """What a decision made on the Home tab did, said on the refreshed tab."""
    name = _name(company)
    if status is ApprovalStatus.APPROVED:
        return f"✅ You approved the disconnect: {name} is disconnected."
    if status is ApprovalStatus.REJECTED:
        return f"❌ You rejected the disconnect of {name}; nothing was changed."
    return f"The request to disconnect {name} is {status.value}."
