"""A message as the handlers send it: fallback text plus validated blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from blocks.text import clip

MAX_MESSAGE_BLOCKS = 50
MAX_SECTION_TEXT = 3000


@dataclass(frozen=True)
class Message:
    text: str  # the fallback: notifications, screen readers, old clients
    blocks: list[Block] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """The dict for chat.postMessage / response_url; raises if Slack would reject it."""
        if len(self.blocks) > MAX_MESSAGE_BLOCKS:
            raise ValueError(f"{len(self.blocks)} blocks; Slack allows {MAX_MESSAGE_BLOCKS}")
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks]}


def section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT)))


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
