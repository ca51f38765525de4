"""What the LMP customer sync tells a channel: customers LMP no longer lists (kept, marked)."""

from __future__ import annotations

from collections.abc import Sequence

from blocks.message import Message, context, section
from blocks.text import esc, plural

SHOWN = 20  # names listed in the message; the rest are counted


def missing_notice(companies: Sequence[str]) -> Message:
    names = ", ".join(f"*{esc(c)}*" for c in companies[:SHOWN])
    more = len(companies) - SHOWN
    if more > 0:
        names += f" and {more:,} more"
    head = (
        f"⚠️ LMP no longer lists {plural(len(companies), 'customer')}: {names}. "
        "They were kept and marked, not deleted."
    )
    return Message(
        text=f"LMP no longer lists {plural(len(companies), 'customer')}; they were kept.",
        blocks=[section(head), context("`overview-bot lmp sync` shows the full report.")],
    )
