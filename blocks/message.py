"""A message as the handlers send it: fallback text plus validated blocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from blocks.text import clip

MAX_MESSAGE_BLOCKS = 50
MAX_SECTION_TEXT = 3000


# A block already in Slack's JSON form. Used where a reply is built per request in
# bulk (the list's rows): slack_sdk's models validate on every to_dict(), which costs
# more than the database query. Tests check these with slack_sdk (tests/slack_standin.py).
RawBlock = dict[str, Any]


@dataclass(frozen=True)
class Message:
    text: str  # the fallback: notifications, screen readers, old clients
    blocks: Sequence[Block | RawBlock] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The dict for chat.postMessage / response_url; raises if Slack would reject it."""
        if len(self.blocks) > MAX_MESSAGE_BLOCKS:
            raise ValueError(f"{len(self.blocks)} blocks; Slack allows {MAX_MESSAGE_BLOCKS}")
        blocks = [b if isinstance(b, dict) else b.to_dict() for b in self.blocks]
        return {"text": self.text, "blocks": blocks}


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT)))


def raw_section(text: str) -> RawBlock:
    """section(), as plain JSON: same limits, no per-call validation."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def context(*parts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(p, 3000)) for p in parts[:10]])


def notice(text: str) -> Message:
    """A plain one-section message: confirmations and errors."""
    return Message(text=text, blocks=[section(text)])


def apology(reference: str) -> Message:
    return notice(
        "Sorry — something went wrong on our side and nothing was changed. "
        f"If it keeps happening, give your admin this reference: `{reference}`."
    )
