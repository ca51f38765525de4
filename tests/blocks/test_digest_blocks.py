"""A digest of any size fits Slack: at most 50 blocks a message, nothing silently dropped."""

from __future__ import annotations

import datetime as dt

from blocks.digest import digest_messages
from blocks.limits import block_problems
from store.digest_data import LIST_LIMIT, Dated, DigestData, Listing, Mover, Pending
from store.enums import Level, LicenseType
from tests.factories import customer
from tests.harness import message_text

TODAY = dt.date(2026, 12, 4)


def data(n: int, name_length: int = 180) -> DigestData:
    def listing(tag: str) -> Listing:
        items = [
            Dated(f"{tag} {i:04d} " + "x" * name_length, TODAY, LicenseType.ANNUAL)
            for i in range(min(n, LIST_LIMIT))
        ]
        return Listing(items, n)

    return DigestData(
        today=TODAY,
        filters="risk:high",
        bands={Level.HIGH: 5_000, Level.MEDIUM: 40_000, Level.LOW: 55_000, None: 10},
        previous_bands={Level.HIGH: 4_990, Level.MEDIUM: 40_010, Level.LOW: 55_000, None: 10},
        since=None,
        riskiest=[customer(f"Risky {i}", cri=99 - i) for i in range(10)],
        movers=[Mover(f"Mover {i}", 10, 60 + i) for i in range(10)],
        trials=listing("Trial"),
        notice=listing("Renew"),
        grace=listing("Grace"),
        locked=listing("Locked"),
        nfr="Demo Co",
        pending=[
            Pending(f"Leaving {i}", "U0OPS", dt.datetime(2026, 12, 3, tzinfo=dt.UTC))
            for i in range(15)
        ],
    )


def test_large_digest_is_split_into_numbered_parts_that_fit() -> None:
    parts = digest_messages(data(5_000))
    assert len(parts) > 1
    payloads = [p.payload() for p in parts]
    for payload in payloads:
        assert not block_problems(payload, limit=50)
        assert len(payload["blocks"]) <= 50
    text = "\n".join(message_text(p) for p in payloads)
    assert f"Part 1 of {len(parts)}" in text and f"Part {len(parts)} of {len(parts)}" in text
    for tag in ("Trial", "Renew", "Grace", "Locked"):
        assert f"{tag} 0000" in text and f"{tag} {LIST_LIMIT - 1:04d}" in text
        assert "…and 4,800 more" in text
    assert "High *5,000* (+10)" in text and "Medium *40,000* (−10)" in text


def test_small_digest_is_one_message() -> None:
    [only] = digest_messages(data(3, name_length=5))
    payload = only.payload()
    assert not block_problems(payload, limit=50)
    assert payload["text"].startswith("Risk digest 2026-12-04: 5,000 high")
    assert "Part" not in message_text(payload)
