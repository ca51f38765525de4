"""The approval request posted for a second person, and how it reads once decided."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    SectionBlock,
)

from blocks.ids import ActionId, ApprovalValue
from blocks.message import Message, context, section
from blocks.text import UNKNOWN, clip, esc
from store.enums import ApprovalStatus, PartnerType
from store.models import Approval, Customer


def when(at: dt.datetime | None) -> str:
    if at is None:
        return UNKNOWN
    # Slack shows this in each reader's own time zone; the fallback is UTC.
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def decision_buttons(approval_id: int, company: str, block_id: str) -> ActionsBlock:
    """Approve / Reject: the same on the request message and on the Home tab."""
    value = ApprovalValue(id=approval_id).encode()
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(
                text="Approve",
                action_id=ActionId.APPROVE,
                value=value,
                style="danger",
                confirm=ConfirmObject(
                    title="Approve the disconnect?",
                    text=f"{clip(company, 150)} will be disconnected from Customer Overview.",
                    confirm="Approve",
                    deny="Cancel",
                    style="danger",
                ),
            ),
            ButtonElement(text="Reject", action_id=ActionId.REJECT, value=value),
        ],
    )


def _what(c: Customer, partner: PartnerType) -> str:
    if partner is PartnerType.DFIR:
        return f"close the incident-response case of *{esc(c.company)}* (disconnect its Vision One)"
    return f"disconnect *{esc(c.company)}*'s Vision One from Customer Overview"


def _summary(a: Approval, c: Customer, partner: PartnerType) -> list[Block]:
    return [
        section(f"<@{a.requested_by}> asks to {_what(c, partner)}."),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Company*\n{esc(clip(c.company, 200))}"),
                MarkdownTextObject(text=f"*Vision One status*\n{c.status.label}"),
                MarkdownTextObject(text=f"*Created*\n{c.origin.label}"),
                MarkdownTextObject(text=f"*Requested*\n{when(a.requested_at)}"),
            ]
        ),
    ]


def approval_request(a: Approval, c: Customer, partner: PartnerType) -> Message:
    blocks = _summary(a, c, partner)
    blocks += [
        decision_buttons(a.id, c.company, f"approval_{a.id}"),
        context(f"An approver other than the requester decides. Expires {when(a.expires_at)}."),
    ]
    return Message(text=f"Approval needed: disconnect {c.company}", blocks=blocks)


def approval_outcome(a: Approval, c: Customer, partner: PartnerType) -> Message:
    by = f"<@{a.decided_by}>" if a.decided_by and a.decided_by != "system" else ""
    outcome = {
        ApprovalStatus.APPROVED: f"✅ Approved by {by} {when(a.decided_at)} — {esc(c.company)} is disconnected.",
        ApprovalStatus.REJECTED: f"❌ Rejected by {by} {when(a.decided_at)} — nothing was changed.",
        ApprovalStatus.EXPIRED: f"⌛ Expired {when(a.decided_at)} without a decision — nothing was changed.",
        ApprovalStatus.CANCELLED: "Withdrawn: the request could not be posted.",
    }.get(a.status, f"Still pending since {when(a.requested_at)}.")
    blocks = [*_summary(a, c, partner), section(outcome)]
    return Message(text=f"Disconnect {c.company}: {a.status.value}", blocks=blocks)
