"""When digests are due: local time, chosen days, daylight-saving changes, downtime."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from store.digests import parse_subscription
from store.errors import InvalidInput
from store.schedule import latest_due, occurrence, parse_days, parse_time, parse_zone

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_occurrence_follows_daylight_saving() -> None:
    nine = dt.time(9, 0)
    assert occurrence(dt.date(2026, 3, 28), nine, BERLIN) == utc(2026, 3, 28, 8)  # CET
    assert occurrence(dt.date(2026, 3, 29), nine, BERLIN) == utc(2026, 3, 29, 7)  # CEST
    assert occurrence(dt.date(2026, 10, 25), nine, BERLIN) == utc(2026, 10, 25, 8)
    # 02:30 does not exist on the spring-forward night: it happens when clocks jump.
    assert occurrence(dt.date(2026, 3, 29), dt.time(2, 30), BERLIN) == utc(2026, 3, 29, 1)
    assert occurrence(dt.date(2026, 3, 8), dt.time(2, 15), NEW_YORK) == utc(2026, 3, 8, 7)
    # 02:30 happens twice on the autumn night: the first time counts.
    assert occurrence(dt.date(2026, 10, 25), dt.time(2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)


def test_due_once_per_local_day_and_on_chosen_days() -> None:
    nine = dt.time(9, 0)
    before = latest_due(nine, BERLIN, "0123456", LONG_AGO, utc(2026, 12, 4, 7, 59))
    assert before is not None and before.local_date == dt.date(2026, 12, 3)
    at = latest_due(nine, BERLIN, "0123456", LONG_AGO, utc(2026, 12, 4, 8, 0))
    assert at is not None and at.local_date == dt.date(2026, 12, 4)
    weekend = latest_due(nine, BERLIN, "01234", LONG_AGO, utc(2026, 12, 6, 12))  # a Sunday
    assert weekend is not None and weekend.local_date == dt.date(2026, 12, 4)  # Friday's


def test_after_downtime_only_the_latest_missed_digest_is_due() -> None:
    due = latest_due(dt.time(9, 0), BERLIN, "0123456", LONG_AGO, utc(2026, 12, 9, 15))
    assert due is not None and due.local_date == dt.date(2026, 12, 9)


def test_nothing_due_before_the_first_time_after_subscribing() -> None:
    created = utc(2026, 12, 4, 10)  # 11:00 Berlin, after today's 09:00
    assert latest_due(dt.time(9, 0), BERLIN, "0123456", created, utc(2026, 12, 4, 12)) is None
    due = latest_due(dt.time(9, 0), BERLIN, "0123456", created, utc(2026, 12, 5, 8))
    assert due is not None and due.local_date == dt.date(2026, 12, 5)


def test_time_zone_local_day_differs_from_utc() -> None:
    # 23:30 in New York is already the next day in UTC.
    due = latest_due(dt.time(23, 30), NEW_YORK, "0123456", LONG_AGO, utc(2026, 12, 5, 4, 31))
    assert due is not None and due.local_date == dt.date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("daily", "0123456"),
        ("weekdays", "01234"),
        ("mon,wed,fri", "024"),
        ("fri-mon", "0456"),
        ("Tuesday", "1"),
        ("weekends", "56"),
    ],
)
def test_days(text: str, days: str) -> None:
    assert parse_days(text) == days


def test_bad_time_and_zone_are_explained() -> None:
    for bad in ("25:00", "9am", "12:60", "noon"):
        with pytest.raises(InvalidInput, match="HH:MM"):
            parse_time(bad)
    with pytest.raises(InvalidInput, match="not a time zone"):
        parse_zone("Mars/Olympus")
    with pytest.raises(InvalidInput, match="Did you mean Europe/Berlin"):
        parse_zone("Germany/Berlin")


def test_subscription_words_in_order() -> None:
    spec = parse_subscription("07:45 America/New_York weekdays risk:high acme", "UTC")
    assert (spec.at, spec.tz, spec.days) == (dt.time(7, 45), "America/New_York", "01234")
    assert spec.filters == "risk:high acme"
    default = parse_subscription("", "Europe/Berlin")
    assert (default.at, default.tz, default.days, default.filters) == (
        dt.time(9),
        "Europe/Berlin",
        "0123456",
        "",
    )
    with pytest.raises(InvalidInput, match="risk:high"):
        parse_subscription("09:00 risk:extreme", "UTC")
