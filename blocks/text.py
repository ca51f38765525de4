"""Small text helpers shared by the block builders."""

from __future__ import annotations

import datetime as dt

from store.enums import Level, cri_band

UNKNOWN = "—"
BAND_ICON = {Level.HIGH: "🔴", Level.MEDIUM: "🟠", Level.LOW: "🟢"}


def esc(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def level(value: Level | None) -> str:
    return value.label if value else UNKNOWN


def cri(value: int | None) -> str:
    """`72 🔴 High`: the index, and its band named (not only coloured)."""
    band = cri_band(value)
    if band is None:
        return UNKNOWN
    return f"{value} {BAND_ICON[band]} {band.label}"


def expiry(date: dt.date | None, today: dt.date) -> str:
    if date is None:
        return UNKNOWN
    days = (date - today).days
    if days == 0:
        when = "today"
    elif days > 0:
        when = f"in {plural(days, 'day')}"
    else:
        when = f"{plural(-days, 'day')} ago"
    return f"{date.isoformat()} ({when})"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ago(then: dt.datetime, now: dt.datetime) -> str:
    """`2 h ago`: coarse on purpose, the index itself refreshes every 4 hours."""
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h ago"
    return f"{plural(hours // 24, 'day')} ago"
