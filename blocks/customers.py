"""The portfolio list, one customer's card, and the pick list for ambiguous names."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from blocks.actions import action_button, failed_note
from blocks.ids import ActionId, ListPageValue, PickFor, PickValue
from blocks.live import live_blocks
from blocks.message import Message, RawBlock, context, raw_section, section
from blocks.text import UNKNOWN, clip, cri, esc, expiry, level, plural
from store.customers import CustomerPage, CustomerRow
from store.enums import Action, PartnerType, Status
from store.errors import Ambiguous
from store.filters import CustomerFilter
from store.live import LiveRisk
from store.models import Customer

PAGE_SIZE = 20  # 20 sections + 3 blocks of chrome: well under the 50-block limit
CONSOLE_STATUSES = (Status.ACTIVE, Status.TRIAL)
# A page's rows stay well under Slack's limit on a message's text; the card shows all.
ROW_NAME, ROW_ACCOUNT = 120, 100


def _license(c: CustomerRow) -> str:
    return c.license_type.label if c.license_type else UNKNOWN


def _row(c: CustomerRow, today: dt.date) -> str:
    """Three short lines per customer: readable on a phone without columns."""
    return (
        f"*{esc(clip(c.company, ROW_NAME))}* · {_license(c)} · {c.status.label}\n"
        f"CRI {cri(c.cri)} · Exposure {level(c.exposure)} · "
        f"Security config. {level(c.security_configuration)}\n"
        f"Expires {expiry(c.expiration_date, today)} · "
        f"{esc(clip(c.sign_in_account or UNKNOWN, ROW_ACCOUNT))}"
    )


def customer_list(
    page: CustomerPage, flt: CustomerFilter, today: dt.date, *, public: bool = False
) -> Message:
    count = plural(page.total, "customer")
    described = flt.to_query()
    head = f"*{count}*" + (f" matching `{esc(clip(described, 300))}`" if described else "")
    blocks: list[Block | RawBlock] = [section(head)]
    if not page.customers:
        blocks.append(section("Nothing to show. Try fewer filters, or `/customers help`."))
    blocks += [raw_section(_row(c, today)) for c in page.customers]
    if page.pages > 1:
        first = page.page * page.page_size + 1
        last = first + len(page.customers) - 1
        blocks.append(context(f"Page {page.page + 1} of {page.pages} · {first:,}–{last:,}"))
        buttons = []
        query = flt.to_query()
        if page.has_previous:
            value = ListPageValue(q=query, p=page.page - 1, pub=public)
            buttons.append(_page_button("◀ Previous", value))
        if page.has_next:
            value = ListPageValue(q=query, p=page.page + 1, pub=public)
            buttons.append(_page_button("Next ▶", value))
        blocks.append(ActionsBlock(block_id="list_pages", elements=buttons))
    return Message(text=count, blocks=blocks)


def _page_button(label: str, value: ListPageValue) -> ButtonElement:
    # Two buttons share one action id; their block position keeps them apart.
    return ButtonElement(
        text=label, action_id=f"{ActionId.LIST_PAGE}:{value.p}", value=value.encode()
    )


def console_url(c: Customer) -> str | None:
    if c.status in CONSOLE_STATUSES and c.service_url:
        return c.service_url  # the link the platform gave when it provisioned
    if c.status in CONSOLE_STATUSES and c.data_center is not None:
        return c.data_center.console_url
    return None


def customer_card(
    c: Customer,
    today: dt.date,
    *,
    actions: Sequence[Action] = (),
    partner: PartnerType = PartnerType.MSP,
    live: LiveRisk | None = None,
    now: dt.datetime | None = None,
) -> Message:
    """All eight console columns, then the buttons this person may use on it now."""
    fields = [
        ("Company", esc(c.company)),
        ("License type", _license(c) + (" · NFR" if c.is_nfr and c.license_type else "")),
        ("Vision One status", c.status.label),
        ("Cyber Risk Index", cri(c.cri)),
        ("Exposure", level(c.exposure)),
        ("Security Configuration", level(c.security_configuration)),
        ("Expiration date", expiry(c.expiration_date, today)),
        ("Customer sign-in account", esc(c.sign_in_account or UNKNOWN)),
    ]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(c.company, 150))),
        SectionBlock(fields=[MarkdownTextObject(text=f"*{k}*\n{v}") for k, v in fields]),
    ]
    facts = [c.origin.label]
    if c.lmp_missing_since is not None:
        facts.append(f"⚠️ No longer listed by LMP since {c.lmp_missing_since:%Y-%m-%d}")
    if c.data_center is not None:
        facts.append(f"Data center: {c.data_center.label}")
    if c.trial_extensions:
        facts.append(f"Trial extended {plural(c.trial_extensions, 'time')}")
    if c.primary_user_account:
        facts.append(f"Primary user account: {esc(c.primary_user_account)}")
    blocks.append(context(" · ".join(facts)))
    blocks += failed_note(c)
    if live is not None:
        blocks += live_blocks(live, now or dt.datetime.now(dt.UTC))
    buttons = []
    url = console_url(c)
    if url is not None:
        buttons.append(
            ButtonElement(text="View", action_id=ActionId.VIEW_CONSOLE, url=url, value=str(c.id))
        )
    buttons += [action_button(a, c, partner) for a in actions]
    if buttons:
        blocks.append(ActionsBlock(block_id="card_actions", elements=buttons))
    return Message(text=f"{c.company}: CRI {cri(c.cri)}, {c.status.label}", blocks=blocks)


def pick_list(err: Ambiguous, action: PickFor, *, public: bool = False) -> Message:
    more = err.total - len(err.candidates)
    text = f"{plural(err.total, 'customer')} match “{esc(err.query.strip())}”. Pick one:"
    blocks: list[Block] = [section(text)]
    blocks.append(
        ActionsBlock(
            block_id="pick",
            elements=[
                ButtonElement(
                    text=clip(c.company, 75),
                    action_id=f"{ActionId.PICK}:{c.id}",
                    value=PickValue(a=action, id=c.id, pub=public).encode(),
                )
                for c in err.candidates
            ],
        )
    )
    if more > 0:
        blocks.append(context(f"…and {more:,} more: type more of the name to narrow it down."))
    return Message(text=text, blocks=blocks)
