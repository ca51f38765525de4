"""What Slack refuses in a message or view, checked the way Slack's API would.

Shared by the test stand-in, the sandbox and the builders that split long output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import Block

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
# chat.postMessage answers msg_blocks_too_long past about 12,000 characters of text in
# all blocks together (slackapi/bolt-js#2509, #2867); builders keep well under it.
MESSAGE_TEXT = 12_000
TOO_LONG = "msg_blocks_too_long"


def text_length(blocks: Iterable[Any]) -> int:
    """Characters of text in blocks (JSON form): every text object's `text`, nested too."""
    total = 0
    stack = list(blocks)
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            text = item.get("text")
            if isinstance(text, str):
                total += len(text)
            stack.extend(v for k, v in item.items() if k != "text" or not isinstance(v, str))
        elif isinstance(item, list):
            stack.extend(item)
    return total


def block_problems(payload: dict[str, Any], *, limit: int) -> list[str]:
    """What Slack would refuse in a message (limit 50) or view (100) payload; [] if none."""
    problems = []
    blocks = payload.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks > {limit}")
    if blocks and limit == MESSAGE_BLOCKS:
        if not payload.get("text"):
            problems.append("blocks without fallback text")
        if (n := text_length(blocks)) > MESSAGE_TEXT:
            problems.append(f"{TOO_LONG}: {n:,} characters of text > {MESSAGE_TEXT:,}")
    for raw in blocks:
        block = Block.parse(raw)
        if block is None:
            problems.append(f"unknown block {raw!r:.80}")
            continue
        try:
            block.to_dict()
        except Exception as e:
            problems.append(f"{raw.get('type')}: {e}")
    for key in ("block_id", "action_id"):
        ids = [b.get(key) for b in blocks if b.get(key)]
        if len(ids) != len(set(ids)):
            problems.append(f"duplicate {key}")
    return problems


def error_code(problems: list[str]) -> str:
    """The `error` Slack answers for these problems."""
    return TOO_LONG if any(p.startswith(TOO_LONG) for p in problems) else "invalid_blocks"
