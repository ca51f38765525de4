"""When a daily digest is due, in the channel's own time zone. Pure: no I/O."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from store.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = "0123456"
WEEKDAYS = "01234"
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_time(text: str) -> dt.time:
    match = _TIME.match(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InvalidInput(f"“{text}” is not a time of day; use 24-hour HH:MM, like 09:00.")
    return dt.time(int(match.group(1)), int(match.group(2)))


def parse_zone(text: str) -> ZoneInfo:
    try:
        if "/" in text or text.upper() == "UTC":
            return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    close = sorted(
        z for z in available_timezones() if z.lower().endswith(text.lower().split("/")[-1])
    )
    hint = f" Did you mean {close[0]}?" if close else " Use an Area/City name like Europe/Berlin."
    raise InvalidInput(f"“{text}” is not a time zone I know.{hint}")


def parse_days(text: str) -> str | None:
    """`daily`, `weekdays`, `mon,wed,fri`, `mon-fri` → "0123456"-style digits; None if not days."""
    word = text.lower()
    if word in ("daily", "everyday", "every-day"):
        return EVERY_DAY
    if word in ("weekdays", "workdays"):
        return WEEKDAYS
    if word in ("weekends", "weekend"):
        return "56"
    days: set[int] = set()
    for part in word.split(","):
        lo, _, hi = part.partition("-")
        if lo[:3] not in DAYS or (hi and hi[:3] not in DAYS):
            return None
        a, b = DAYS.index(lo[:3]), DAYS.index((hi or lo)[:3])
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return "".join(str(d) for d in sorted(days))


def describe_days(days: str) -> str:
    if days == EVERY_DAY:
        return "every day"
    if days == WEEKDAYS:
        return "Monday to Friday"
    return ", ".join(DAYS[int(d)].capitalize() for d in days)


def occurrence(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The UTC instant of `at` on local `day`.

    A time skipped by a daylight-saving jump (02:30 on a spring-forward night) happens at
    the first instant after the jump; a repeated one (autumn) happens the first time.
    """
    local = dt.datetime.combine(day, at, tzinfo=tz)
    instant = local.astimezone(dt.UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        # In the gap: that wall time does not exist. Move back to when the clocks jumped.
        while (instant - dt.timedelta(minutes=1)).astimezone(tz).time() > at:
            instant -= dt.timedelta(minutes=1)
    return instant


@dataclass(frozen=True)
class Due:
    local_date: dt.date
    at: dt.datetime  # UTC


def latest_due(
    at: dt.time, tz: ZoneInfo, days: str, created: dt.datetime, now: dt.datetime
) -> Due | None:
    """The most recent scheduled digest at or before `now` (and after `created`), if any.

    One date, not a list: after downtime the missed digest is posted once, not once per day.
    """
    today = now.astimezone(tz).date()
    for back in range(8):
        day = today - dt.timedelta(days=back)
        if str(day.weekday()) not in days:
            continue
        when = occurrence(day, at, tz)
        if when <= now:
            return Due(day, when) if when >= created else None
    return None
