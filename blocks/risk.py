"""Risk views: the portfolio by band, and one customer's figures."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from blocks.live import live_blocks
from blocks.message import Message, context, section
from blocks.text import BAND_ICON, clip, cri, esc, level, plural
from store.customers import RiskSummary
from store.enums import CRI_BANDS, Level, cri_band
from store.live import LiveRisk
from store.models import Customer


def risk_overview(summary: RiskSummary) -> Message:
    lines = []
    for band in (Level.HIGH, Level.MEDIUM, Level.LOW):
        lo, hi = CRI_BANDS[band]
        n = summary.by_band[band]
        lines.append(f"{BAND_ICON[band]} *{band.label}* ({lo}–{hi}): {n:,}")
    if summary.by_band[None]:
        lines.append(f"⚪ *Not known*: {summary.by_band[None]:,}")
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Portfolio risk")),
        section(f"*{plural(summary.total, 'customer')}* by Cyber Risk Index\n" + "\n".join(lines)),
    ]
    if summary.riskiest:
        rows = [
            f"{i}. *{esc(c.company)}* — CRI {cri(c.cri)} · Exposure {level(c.exposure)} · "
            f"Security config. {level(c.security_configuration)}"
            for i, c in enumerate(summary.riskiest, 1)
        ]
        blocks.append(section("*Riskiest customers*\n" + "\n".join(rows)))
    blocks.append(context("Bands: Low 0–30 · Medium 31–69 · High 70–100"))
    high = summary.by_band[Level.HIGH]
    text = f"Portfolio risk: {high:,} high, {summary.by_band[Level.MEDIUM]:,} medium, {summary.by_band[Level.LOW]:,} low"
    return Message(text=text, blocks=blocks)


def customer_risk(
    c: Customer, live: LiveRisk | None = None, now: dt.datetime | None = None
) -> Message:
    band = cri_band(c.cri)
    verdict = f"{band.label} risk" if band else "Risk not known yet"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(f"{c.company} — {verdict}", 150))),
        section(
            f"*Cyber Risk Index* {cri(c.cri)}\n"
            f"*Exposure* {level(c.exposure)}\n"
            f"*Security Configuration* {level(c.security_configuration)}"
        ),
    ]
    if live is not None:
        blocks += live_blocks(live, now or dt.datetime.now(dt.UTC))
    blocks.append(context("Bands: Low 0–30 · Medium 31–69 · High 70–100"))
    return Message(text=f"{c.company}: CRI {cri(c.cri)}", blocks=blocks)
