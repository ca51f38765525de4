"""The audit log as a reply: one short section per entry, newest first."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from blocks.limits import MESSAGE_TEXT
from blocks.message import MAX_MESSAGE_BLOCKS, Message, context, section
from blocks.text import UNKNOWN, clip, esc, plural
from store.enums import Action
from store.models import AuditEntry

# Heading + entries + footer must fit Slack's 50 blocks, whatever the caller passes.
MAX_SHOWN = MAX_MESSAGE_BLOCKS - 2
VALUE_CHARS = 60  # a before/after value; longer ones are clipped so a phone shows the change
FIELD_CHARS = 40
DETAIL_CHARS = 300
# Room for one entry's lines; kept under Slack's caps so we never cut a mention or an entity.
ENTRY_ROOM = 2_000
# Entries stop before Slack's limit on a message's text (msg_blocks_too_long).
MESSAGE_ROOM = MESSAGE_TEXT - 1_500

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,31}$")
_CHANNEL_ACTIONS = (Action.ALLOW_CHANNEL, Action.DISALLOW_CHANNEL)


def _who(entry: AuditEntry) -> str:
    """A Slack mention for people; the recorded name for the CLI and the system."""
    if _USER_ID.match(entry.actor_id or ""):
        return f"<@{entry.actor_id}>"
    return esc(clip(entry.actor_name or entry.actor_id or UNKNOWN, 100))


def _value(value: Any) -> str:
    """As stored: strings (dates, enum values) verbatim, everything else as JSON."""
    if value is None:
        return UNKNOWN
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return esc(clip(text, VALUE_CHARS))


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    old, new = before or {}, after or {}
    lines = []
    for key in dict.fromkeys([*old, *new]):  # union, in recorded order
        if old.get(key) == new.get(key):
            continue  # unchanged, e.g. the `user` of a role change, or unset fields of an add
        lines.append(
            f"{esc(clip(str(key), FIELD_CHARS))}: {_value(old.get(key))} → {_value(new.get(key))}"
        )
    return lines


def _subject(entry: AuditEntry) -> str | None:
    """What the entry is about: the company, the person whose role changed, or the channel."""
    if entry.company:
        return f"*{esc(clip(entry.company, 150))}*"
    for side in (entry.after, entry.before):
        user = side.get("user") if isinstance(side, dict) else None
        if isinstance(user, str) and _USER_ID.match(user):
            return f"<@{user}>"
    if entry.action in _CHANNEL_ACTIONS and _CHANNEL_ID.match(entry.detail or ""):
        return f"<#{entry.detail}>"
    return None


def entry_text(entry: AuditEntry) -> str:
    """Three or so short lines: what and on what, when and by whom, then the changes."""
    subject = _subject(entry)
    head = f"*{entry.action.label}*" + (f" · {subject}" if subject else "")
    lines = [head, f"{entry.at:%Y-%m-%d %H:%M} UTC · {_who(entry)}"]
    notes = []
    if entry.detail and not (entry.action in _CHANNEL_ACTIONS and subject == f"<#{entry.detail}>"):
        notes.append(esc(clip(entry.detail, DETAIL_CHARS)))
    if entry.approval_id is not None:
        notes.append(f"approval #{entry.approval_id}")
    if notes:
        lines.append(" · ".join(notes))
    room = ENTRY_ROOM - sum(len(line) + 1 for line in lines)
    changes = _changes(entry.before, entry.after)
    for i, change in enumerate(changes):
        room -= len(change) + 1
        if room < 0:
            lines.append(f"…and {plural(len(changes) - i, 'more change')}")
            break
        lines.append(change)
    return "\n".join(lines)


def audit_entries(entries: Sequence[AuditEntry], company: str | None) -> Message:
    """The latest entries (as given, newest first), for everything or for one company."""
    name = esc(clip(company, 150)) if company else None
    if not entries:
        text = "No changes recorded yet" + (f" for {name}." if name else ".")
        return Message(text=text, blocks=[section(text)])
    shown: list[str] = []
    used = 0
    for e in entries[:MAX_SHOWN]:
        text = entry_text(e)
        if shown and used + len(text) > MESSAGE_ROOM:
            break
        shown.append(text)
        used += len(text)
    count = f"Latest {plural(len(shown), 'change')}"
    blocks: list[Block] = [
        section(f"*{count}*" + (f" to *{name}*" if name else "") + ", newest first")
    ]
    blocks += [section(text) for text in shown]
    blocks.append(context("Times in UTC · `overview-bot audit export` writes the whole log."))
    return Message(text=count + (f" to {name}" if name else ""), blocks=blocks)
