"""A customer's figures as of when: their time and source, top risk events, connection trouble."""

from __future__ import annotations

import datetime as dt

from slack_sdk.models.blocks import Block

from blocks.message import context, section
from blocks.text import ago, clip, esc, plural
from store.enums import ConnectionState, SnapshotSource
from store.live import LiveRisk

_SOURCES = {
    SnapshotSource.VISION_ONE: "from Vision One",
    SnapshotSource.IMPORT: "imported",
    SnapshotSource.MANUAL: "entered by hand",
}


def _event(e: dict[str, object]) -> str:
    count, assets = e.get("eventCount"), e.get("affectedAssetCount")
    parts = []
    if isinstance(count, int):
        parts.append(plural(count, "event"))
    if isinstance(assets, int):
        parts.append(plural(assets, "affected asset"))
    tail = f" — {' · '.join(parts)}" if parts else ""
    return f"• {esc(clip(str(e.get('factor', '')), 200))}{tail}"


def live_blocks(live: LiveRisk, now: dt.datetime) -> list[Block]:
    """When the figures were taken, their top risk events, and the connection's trouble."""
    blocks: list[Block] = []
    if live.taken_at is not None:
        source = _SOURCES.get(live.source) if live.source else None
        line = (
            f"Figures{' ' + source if source else ''} · updated {ago(live.taken_at, now)} "
            f"({live.taken_at:%Y-%m-%d %H:%M} UTC)"
        )
        if live.attack is not None:
            line += f" · Attack {live.attack.label}"
        blocks.append(context(line))
    if live.events:
        lines = [_event(e) for e in live.events[:5]]
        blocks.append(section("*Top risk events*\n" + "\n".join(lines)))
    age = f" {ago(live.last_attempt_at, now)}" if live.last_attempt_at else ""
    kept = " The last known figures are shown." if live.taken_at else ""
    if live.state is ConnectionState.NEEDS_TOKEN:
        tried = f" — last tried{age}" if age else ""
        blocks.append(
            context(
                f"⚠️ Vision One needs a new API token{tried}: "
                f"{esc(live.last_error or 'refused')}.{kept}"
            )
        )
    elif live.state is ConnectionState.FAILING:
        blocks.append(
            context(
                f"⚠️ Last Vision One sync failed{age}: {esc(live.last_error or 'failed')}.{kept}"
            )
        )
    elif live.state is ConnectionState.NEW:
        blocks.append(context("Vision One connected: figures arrive with the next sync."))
    return blocks
