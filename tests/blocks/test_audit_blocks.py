"""The audit reply stays inside Slack's limits and readable, whatever the log holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from blocks.audit import audit_entries
from blocks.limits import block_problems
from blocks.message import MAX_SECTION_TEXT, Message
from store.enums import Action
from store.models import AuditEntry

AT = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


def entry(**fields: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "id": 1,
        "at": AT,
        "actor_id": "U0OPS",
        "actor_name": "ops",
        "action": Action.EXTEND_TRIAL,
        "customer_id": 7,
        "company": "Acme",
        "before": None,
        "after": None,
        "approval_id": None,
        "detail": None,
    }
    values.update(fields)
    return AuditEntry(**values)


def check(message: Message) -> dict[str, Any]:
    payload = message.payload()
    assert not block_problems(payload, limit=50), block_problems(payload, limit=50)
    assert payload["text"]
    for block in payload["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
    return payload


def texts(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


def test_fifteen_entries_with_huge_values_fit() -> None:
    huge = "<&>" * 5000  # escaping triples these: the worst case for length
    many_fields = {f"field_{i}_{'k' * 100}": huge for i in range(40)}
    entries = [
        entry(
            id=i,
            company="C" * 500 + "&<>",
            actor_name="n" * 300,
            before={"status": huge, **many_fields},
            after={"status": "x" + huge, **{k: v + "!" for k, v in many_fields.items()}},
            approval_id=i,
            detail="d&" * 5000,
        )
        for i in range(15)
    ]
    payload = check(audit_entries(entries, "Acme & Co " + "z" * 500))
    sections = texts(payload)
    # As many whole entries as Slack's text limit leaves room for, and says so.
    shown = len(sections) - 1
    assert 5 <= shown < 15 and sections[0].startswith(f"*Latest {shown} changes*")
    # Under the cap by our own budget: section() never had to cut one mid-mention.
    assert all(len(t) < MAX_SECTION_TEXT for t in sections)
    first = sections[1]
    assert "…and " in first and "more changes" in first  # cut on a line, not mid-entity
    assert "&lt;&amp;&gt;" in first and "<&>" not in first
    assert "approval #0" in first


def test_many_entries_never_exceed_fifty_blocks() -> None:
    entries = [entry(id=i) for i in range(200)]
    payload = check(audit_entries(entries, None))
    assert len(payload["blocks"]) <= 50


def test_an_entry_reads_when_who_what_and_the_change() -> None:
    e = entry(
        before={"expiration_date": "2027-01-01", "trial_extensions": 0, "status": "trial"},
        after={"expiration_date": "2027-01-31", "trial_extensions": 1, "status": "trial"},
        approval_id=12,
        detail="by 30 days",
    )
    [_, text] = texts(check(audit_entries([e], "Acme")))
    assert text.splitlines() == [
        "*Extend trial* · *Acme*",
        "2026-12-04 09:00 UTC · <@U0OPS>",
        "by 30 days · approval #12",
        "expiration_date: 2027-01-01 → 2027-01-31",
        "trial_extensions: 0 → 1",
    ]


def test_non_slack_actors_role_changes_and_channels_are_named() -> None:
    grant = entry(
        actor_id="cli",
        actor_name="overview-bot CLI",
        action=Action.GRANT_ROLE,
        customer_id=None,
        company=None,
        before={"user": "U0ANA", "role": None},
        after={"user": "U0ANA", "role": "operator"},
    )
    channel = entry(
        actor_id="U0ADMIN",
        action=Action.ALLOW_CHANNEL,
        customer_id=None,
        company=None,
        detail="C0OPS",
    )
    added = entry(
        actor_id="system",
        actor_name="Customer Overview",
        action=Action.ADD,
        before=None,
        after={"company": "Acme", "status": "not_provisioned", "is_nfr": False, "cri": None},
    )
    grant_text, channel_text, added_text = texts(
        check(audit_entries([grant, channel, added], None))
    )[1:]
    assert grant_text.splitlines()[0] == "*Grant role* · <@U0ANA>"
    assert "· overview-bot CLI" in grant_text and "role: — → operator" in grant_text
    assert "user:" not in grant_text
    assert channel_text.splitlines()[:2] == [
        "*Allow channel* · <#C0OPS>",
        "2026-12-04 09:00 UTC · <@U0ADMIN>",
    ]
    assert "· Customer Overview" in added_text
    assert "is_nfr: — → false" in added_text and "cri:" not in added_text


def test_an_empty_log_says_so() -> None:
    payload = check(audit_entries([], None))
    assert texts(payload) == ["No changes recorded yet."]
    assert "No changes recorded yet for Acme." in check(audit_entries([], "Acme"))["text"]
