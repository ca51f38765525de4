"""The daily risk digest as Slack messages: the first in the channel, the rest in its thread."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject

from blocks.limits import MESSAGE_TEXT, text_length
from blocks.message import MAX_MESSAGE_BLOCKS, MAX_SECTION_TEXT, Message, context, section
from blocks.text import BAND_ICON, cri, esc, level, plural
from store.digest_data import (
    GRACE_DAYS,
    NFR_MONTHLY_CREDITS,
    NOTICE_WINDOW,
    TRIAL_WINDOW,
    DigestData,
    Listing,
)
from store.enums import Level

PART_BLOCKS = MAX_MESSAGE_BLOCKS - 2  # room for the "part n of m" line
PART_TEXT = MESSAGE_TEXT - 2_000  # Slack's text limit, with room for the part line


def _change(now: int, before: int | None) -> str:
    if before is None or now == before:
        return ""
    return f" ({'+' if now > before else '−'}{abs(now - before):,})"


def _chunks(title: str, lines: list[str]) -> list[Block]:
    """A titled list as sections of at most 3,000 characters, split between lines."""
    blocks: list[Block] = []
    text = f"*{title}*"
    for line in lines:
        if len(text) + 1 + len(line) > MAX_SECTION_TEXT:
            blocks.append(section(text))
            text = f"*{title}* (continued)"
        text += "\n" + line
    blocks.append(section(text))
    return blocks


def _days(date: dt.date, today: dt.date) -> str:
    n = (date - today).days
    if n == 0:
        return "today"
    return f"in {plural(n, 'day')}" if n > 0 else f"{plural(-n, 'day')} ago"


def _dated(title: str, listing: Listing, today: dt.date, more_hint: str) -> list[Block]:
    if not listing.total:
        return []
    lines = [
        f"• *{esc(d.company)}* — {d.date.isoformat()} ({_days(d.date, today)})"
        + (f" · {d.license.label}" if d.license else "")
        for d in listing.items
    ]
    if listing.more:
        lines.append(f"…and {listing.more:,} more: {more_hint}")
    return _chunks(f"{title} ({listing.total:,})", lines)


def digest_messages(data: DigestData) -> list[Message]:
    today = data.today
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"Risk digest — {today:%A %-d %B %Y}")),
        context(
            plural(data.total, "customer")
            + (f" matching `{esc(data.filters)}`" if data.filters else "")
            + (" · changes since the previous digest" if data.previous_bands else "")
        ),
    ]
    prev = data.previous_bands or {}
    bands = " · ".join(
        f"{BAND_ICON[b]} {b.label} *{data.bands[b]:,}*{_change(data.bands[b], prev.get(b) if data.previous_bands else None)}"
        for b in (Level.HIGH, Level.MEDIUM, Level.LOW)
    )
    if data.bands.get(None):
        bands += f" · ⚪ Not known *{data.bands[None]:,}*"
    blocks.append(section(f"*Portfolio by Cyber Risk Index*\n{bands}"))
    if data.riskiest:
        blocks += _chunks(
            "Riskiest customers",
            [
                f"{i}. *{esc(c.company)}* — CRI {cri(c.cri)} · Exposure {level(c.exposure)} · "
                f"Security config. {level(c.security_configuration)}"
                for i, c in enumerate(data.riskiest, 1)
            ],
        )
    if data.movers:
        blocks += _chunks(
            "Biggest risk increases",
            [f"• *{esc(m.company)}* +{m.delta} ({m.before} → {m.after})" for m in data.movers],
        )
    todo = [
        _dated(
            f"Trials expiring within {TRIAL_WINDOW} days",
            data.trials,
            today,
            f"`/customers list status:trial expiring:{TRIAL_WINDOW}`",
        ),
        _dated(
            f"Paid licences expiring within {NOTICE_WINDOW} days",
            data.notice,
            today,
            f"`/customers list expiring:{NOTICE_WINDOW} sort:expiry`",
        ),
        _dated(f"In the {GRACE_DAYS}-day grace period", data.grace, today, "see the console"),
        _dated("Locked (no console or API access)", data.locked, today, "see the console"),
    ]
    for part in todo:
        blocks += part
    if data.nfr:
        blocks.append(
            section(
                f"*NFR license*: {esc(data.nfr)} — credit use against the "
                f"{NFR_MONTHLY_CREDITS:,} monthly allowance is not known yet."
            )
        )
    if data.pending:
        blocks += _chunks(
            f"Disconnects waiting for approval ({len(data.pending)})",
            [f"• *{esc(p.company)}* — asked by <@{p.requested_by}>" for p in data.pending],
        )
    if data.needs_token_total:
        more = data.needs_token_total - len(data.needs_token)
        blocks += _chunks(
            f"Vision One needs a new API token ({data.needs_token_total:,})",
            [
                f"• *{esc(name)}* — figures are no longer updated; `/customers connect {esc(name)}`"
                for name in data.needs_token
            ]
            + ([f"…and {more:,} more"] if more > 0 else []),
        )
    if len(blocks) == 3 and not data.total:
        blocks.append(section("No customers match this digest's filters."))
    blocks.append(DividerBlock())
    blocks.append(context("Bands: Low 0–30 · Medium 31–69 · High 70–100 · `/customers help`"))
    return _split(blocks, data)


def _pack(blocks: list[Block]) -> list[list[Block]]:
    """Consecutive groups of at most PART_BLOCKS blocks and PART_TEXT characters of text."""
    groups: list[list[Block]] = [[]]
    used = 0
    for block in blocks:
        n = text_length([block.to_dict()])
        if groups[-1] and (len(groups[-1]) >= PART_BLOCKS or used + n > PART_TEXT):
            groups.append([])
            used = 0
        groups[-1].append(block)
        used += n
    return groups


def _split(blocks: list[Block], data: DigestData) -> list[Message]:
    """At most 50 blocks a message; parts after the first go in its thread, numbered."""
    groups = _pack(blocks)
    high = data.bands.get(Level.HIGH, 0)
    text = (
        f"Risk digest {data.today.isoformat()}: {high:,} high, "
        f"{data.bands.get(Level.MEDIUM, 0):,} medium, {data.bands.get(Level.LOW, 0):,} low"
    )
    if len(groups) == 1:
        return [Message(text=text, blocks=groups[0])]
    n = len(groups)
    return [
        Message(
            text=text if i == 0 else f"{text} (part {i + 1} of {n})",
            blocks=[
                *group,
                context(f"Part {i + 1} of {n}" + (" · continued in the thread" if i == 0 else "")),
            ],
        )
        for i, group in enumerate(groups)
    ]
