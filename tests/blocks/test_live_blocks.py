"""The card's live-figures part and the digest's token list: readable, and within limits."""

from __future__ import annotations

import dataclasses
import datetime as dt

from blocks.customers import customer_card
from blocks.digest import digest_messages
from blocks.text import ago
from store.enums import ConnectionState, Level, SnapshotSource
from store.live import LiveRisk
from tests.blocks.test_digest_blocks import data
from tests.factories import customer
from tests.harness import message_text
from tests.slack_standin import block_problems

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def test_ago_is_coarse() -> None:
    assert ago(NOW - dt.timedelta(seconds=20), NOW) == "just now"
    assert ago(NOW - dt.timedelta(minutes=59), NOW) == "59 min ago"
    assert ago(NOW - dt.timedelta(hours=2, minutes=40), NOW) == "2 h ago"
    assert ago(NOW - dt.timedelta(days=3, hours=1), NOW) == "3 days ago"


def test_the_card_says_when_and_what_and_fits_with_the_longest_values() -> None:
    events = [
        {"factor": "<b>" + "F" * 400, "eventCount": 10**9, "affectedAssetCount": 5},
        *({"factor": f"Factor {i}", "eventCount": 1} for i in range(9)),
    ]
    live = LiveRisk(
        taken_at=NOW - dt.timedelta(hours=2),
        source=SnapshotSource.VISION_ONE,
        attack=Level.HIGH,
        events=events,
        state=ConnectionState.FAILING,
        last_error="E" * 500,
        last_attempt_at=NOW - dt.timedelta(minutes=5),
    )
    payload = customer_card(customer("Acme", cri=72), TODAY, live=live, now=NOW).payload()
    assert not block_problems(payload, limit=50)
    text = message_text(payload)
    assert "Figures from Vision One · updated 2 h ago (2026-12-04 10:00 UTC) · Attack High" in text
    assert "1,000,000,000 events · 5 affected assets" in text and "&lt;b&gt;" in text
    assert "Factor 3" in text and "Factor 4" not in text  # the top five
    assert "⚠️ Last Vision One sync failed 5 min ago" in text
    assert "The last known figures are shown" in text


def test_the_card_without_figures_or_connection() -> None:
    plain = message_text(customer_card(customer("Acme"), TODAY, live=LiveRisk(), now=NOW).payload())
    assert "updated" not in plain and "Vision One needs" not in plain
    fresh = LiveRisk(state=ConnectionState.NEW)
    text = message_text(customer_card(customer("Acme"), TODAY, live=fresh, now=NOW).payload())
    assert "figures arrive with the next sync" in text
    imported = LiveRisk(taken_at=NOW - dt.timedelta(days=9), source=SnapshotSource.IMPORT)
    text = message_text(customer_card(customer("Acme"), TODAY, live=imported, now=NOW).payload())
    assert "Figures imported · updated 9 days ago" in text


def test_the_digest_lists_tokens_to_replace_without_dropping_any_silently() -> None:
    names = [f"Company {i:03d} " + "x" * 150 for i in range(200)]
    d = dataclasses.replace(data(10), needs_token=names, needs_token_total=250)
    messages = digest_messages(d)
    text = "\n".join(message_text(m.payload()) for m in messages)
    for m in messages:
        assert not block_problems(m.payload(), limit=50)
    assert "Vision One needs a new API token (250)" in text
    assert "Company 199" in text and "…and 50 more" in text
    assert "`/customers connect Company 000" in text
