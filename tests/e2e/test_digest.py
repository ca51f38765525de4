"""Daily digests: subscribing in Slack, what they say, and posting each exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from bot.digests import DigestPoster, digest_client
from store.enums import LicenseType, Origin, SnapshotSource, Status
from store.models import Customer, DigestRun, DigestSubscription, RiskSnapshot
from store.schedule import EVERY_DAY
from tests.factories import add, customer
from tests.harness import ADMIN, BotHarness, message_text

ROOT = Path(__file__).resolve().parents[2]
# Friday 4 December 2026, 10:00 in Berlin: a 09:00 digest is due.
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(bot: BotHarness) -> Clock:
    c = Clock()
    bot.deps.digests.clock = c
    bot.slack.answers["users.info"] = lambda p: {
        "ok": True,
        "user": {"id": p.get("user"), "tz": "Europe/Berlin"},
    }
    return c


def poster(bot: BotHarness, **kwargs: Any) -> DigestPoster:
    client = digest_client("xoxb-test", bot.slack.api_url)
    return DigestPoster(bot.db, bot.deps.digests, client, spacing=0.01, **kwargs)


async def subscribe(
    bot: BotHarness, channel: str, text: str = "09:00", created: dt.datetime | None = None
) -> None:
    async with bot.db.transaction() as s:
        s.add(
            DigestSubscription(
                channel_id=channel,
                at_time=dt.time(*map(int, text.split(":"))),
                tz="Europe/Berlin",
                weekdays=EVERY_DAY,
                filters="",
                created_by=ADMIN,
                created_at=created or NOW - dt.timedelta(days=30),
            )
        )


def posted_to(bot: BotHarness, channel: str) -> list[dict[str, Any]]:
    return [c.payload for c in bot.slack.of("chat.postMessage") if c.payload["channel"] == channel]


async def test_subscribe_in_the_requesters_time_zone(bot: BotHarness, clock: Clock) -> None:
    reply = await bot.command("digest subscribe 08:30 weekdays risk:high", user=ADMIN)
    assert "08:30 Europe/Berlin, Monday to Friday for `risk:high`" in reply.all_text
    async with bot.db.session() as s:
        sub = await s.get(DigestSubscription, "C0CHAN")
    assert sub is not None
    assert (sub.at_time, sub.tz, sub.weekdays, sub.filters) == (
        dt.time(8, 30),
        "Europe/Berlin",
        "01234",
        "risk:high",
    )
    listed = await bot.command("digest list")
    assert "<#C0CHAN> — 08:30 Europe/Berlin, Monday to Friday" in listed.all_text
    gone = await bot.command("digest unsubscribe", user=ADMIN)
    assert "no longer gets" in gone.all_text
    async with bot.db.session() as s:
        assert await s.get(DigestSubscription, "C0CHAN") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest subscribe 25:00", "HH:MM"),
        ("digest subscribe 09:00 Mars/Base", "not a time zone"),
        ("digest subscribe 09:00 risk:extreme", "risk:high"),
        ("digest sometimes", "digest subscribe"),
    ],
)
async def test_bad_subscriptions_change_nothing(
    bot: BotHarness, clock: Clock, text: str, expected: str
) -> None:
    reply = await bot.command(text, user=ADMIN)
    assert expected in reply.all_text
    async with bot.db.session() as s:
        assert (await s.scalars(select(DigestSubscription))).all() == []


async def test_only_admins_subscribe(bot: BotHarness, clock: Clock) -> None:
    reply = await bot.command("digest subscribe")
    assert "needs the *admin* role" in reply.all_text
    assert bot.slack.of("users.info") == []


async def test_preview_is_ephemeral_and_now(bot: BotHarness, clock: Clock) -> None:
    await add(bot.db, customer("Hot Co", cri=90), customer("Cool Co", cri=10))
    reply = await bot.command("digest preview")
    assert reply.json["response_type"] == "ephemeral"
    text = reply.all_text
    assert "Risk digest — Friday 4 December 2026" in text
    assert "High *1*" in text and "Low *1*" in text and "Hot Co" in text


async def test_posted_once_per_local_day(bot: BotHarness, clock: Clock) -> None:
    await add(bot.db, customer("Acme"))
    await subscribe(bot, "C0DIGEST")
    first = await poster(bot).run()
    assert first.posted == ["C0DIGEST"]
    again = await poster(bot).run()
    assert again.posted == [] and len(posted_to(bot, "C0DIGEST")) == 1
    clock.now += dt.timedelta(hours=20)  # Saturday 05:00 Berlin: not yet
    assert (await poster(bot).run()).posted == []
    clock.now += dt.timedelta(hours=4)  # Saturday 09:00
    assert (await poster(bot).run()).posted == ["C0DIGEST"]
    forced = await poster(bot).run(force=True)
    assert forced.posted == ["C0DIGEST"] and len(posted_to(bot, "C0DIGEST")) == 3


async def test_missed_days_give_one_digest(bot: BotHarness, clock: Clock) -> None:
    await subscribe(bot, "C0DIGEST")
    await poster(bot).run()
    clock.now += dt.timedelta(days=5)  # the bot was down for days
    assert (await poster(bot).run()).posted == ["C0DIGEST"]
    assert (await poster(bot).run()).posted == []
    assert len(posted_to(bot, "C0DIGEST")) == 2


async def test_digest_reports_changes_and_what_needs_attention(
    bot: BotHarness, clock: Clock
) -> None:
    today = NOW.date()
    [mover, *_] = await add(
        bot.db,
        customer("Mover", cri=20),
        customer("Trialco", status=Status.TRIAL, expiration_date=today + dt.timedelta(days=5)),
        customer(
            "Renewco",
            license_type=LicenseType.ANNUAL,
            expiration_date=today + dt.timedelta(days=60),
        ),
        customer(
            "Graceco",
            license_type=LicenseType.MONTHLY,
            expiration_date=today - dt.timedelta(days=10),
        ),
        customer(
            "Lockedco",
            license_type=LicenseType.ANNUAL,
            expiration_date=today - dt.timedelta(days=45),
        ),
        customer("Demo", license_type=LicenseType.MONTHLY_NFR, is_nfr=True),
        customer("Leaving", origin=Origin.MANUAL),
    )
    async with bot.db.transaction() as s:
        s.add(
            RiskSnapshot(
                customer_id=mover,
                taken_at=NOW - dt.timedelta(days=2),
                cri=20,
                source=SnapshotSource.IMPORT,
            )
        )
    await subscribe(bot, "C0DIGEST")
    await poster(bot).run()
    # Overnight the mover's risk jumps.
    clock.now += dt.timedelta(days=1)
    async with bot.db.transaction() as s:
        c = await s.get(Customer, mover)
        assert c is not None
        c.cri = 70
        s.add(
            RiskSnapshot(
                customer_id=mover,
                taken_at=clock.now - dt.timedelta(hours=3),
                cri=70,
                source=SnapshotSource.VISION_ONE,
            )
        )
    await bot.command("access grant <@U0OPS> operator", user=ADMIN)
    await bot.command("disconnect leaving", user="U0OPS")
    await poster(bot).run()
    second = message_text(posted_to(bot, "C0DIGEST")[-1])
    assert "*Mover* +50 (20 → 70)" in second
    assert "High *1* (+1)" in second
    for expected in (
        "Trials expiring within 14 days (1)",
        "Trialco",
        "Paid licences expiring within 90 days",
        "Renewco",
        "grace period (1)",
        "Graceco",
        "Locked",
        "Lockedco",
        "NFR license*: Demo",
        "8,000",
    ):
        assert expected in second, expected


async def test_429_is_waited_out_and_a_broken_channel_does_not_stop_others(
    bot: BotHarness, clock: Clock
) -> None:
    await subscribe(bot, "C0GOOD")
    await subscribe(bot, "C0GONE")
    await subscribe(bot, "C0OUT")
    limited = {"n": 0}

    def answer(payload: dict[str, Any]) -> dict[str, Any] | web.Response:
        channel = payload["channel"]
        if channel == "C0GONE":
            return {"ok": False, "error": "channel_not_found"}
        if channel == "C0OUT":
            return {"ok": False, "error": "not_in_channel"}
        if limited["n"] == 0:
            limited["n"] += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        return {"ok": True, "ts": "1700000001.000001", "channel": channel}

    bot.slack.answers["chat.postMessage"] = answer
    report = await poster(bot).run()
    assert report.posted == ["C0GOOD"]
    assert report.failed == {"C0GONE": "channel_not_found", "C0OUT": "not_in_channel"}
    assert "C0GONE (channel_not_found)" in report.line()
    good = posted_to(bot, "C0GOOD")
    assert len(good) == 2  # the 429, then the delivery
    async with bot.db.session() as s:
        runs = {r.channel_id: r.status for r in (await s.scalars(select(DigestRun))).all()}
    assert runs == {"C0GOOD": "done", "C0GONE": "failed", "C0OUT": "failed"}


async def test_long_digests_are_threaded_and_a_crash_resumes_without_duplicates(
    bot: BotHarness, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blocks import digest as digest_blocks
    from blocks.message import notice

    parts = [notice(f"part {i}") for i in range(1, 4)]
    monkeypatch.setattr("bot.digests.digest_messages", lambda data: parts)
    await subscribe(bot, "C0LONG")
    stuck = asyncio.Event()
    calls = {"n": 0}

    def answer(payload: dict[str, Any]) -> dict[str, Any]:
        calls["n"] += 1
        return {"ok": True, "ts": f"1700000002.00000{calls['n']}", "channel": payload["channel"]}

    bot.slack.answers["chat.postMessage"] = answer
    dying = poster(bot, worker="dying")
    real_progress = bot.deps.digests.progress

    async def progress_then_die(run: DigestRun, worker: str, *args: Any) -> bool:
        ok = await real_progress(run, worker, *args)
        if worker == "dying" and run.parts_posted == 1:
            stuck.set()
            await asyncio.sleep(3600)  # the process hangs here and is killed
        return ok

    monkeypatch.setattr(bot.deps.digests, "progress", progress_then_die)
    task = asyncio.create_task(dying.run())
    await asyncio.wait_for(stuck.wait(), 5)
    task.cancel()  # the "kill"
    assert len(posted_to(bot, "C0LONG")) == 1
    clock.now += dt.timedelta(minutes=6)  # its lease runs out
    report = await poster(bot, worker="next").run()
    assert report.posted == ["C0LONG"]
    sent = posted_to(bot, "C0LONG")
    assert [p["text"] for p in sent] == ["part 1", "part 2", "part 3"]
    assert [p.get("thread_ts") for p in sent] == [None, "1700000002.000001", "1700000002.000001"]
    assert digest_blocks  # the real splitter is covered in tests/blocks


async def test_two_processes_post_each_digest_once(
    bot: BotHarness, db_url: str, tmp_path: Path
) -> None:
    channels = [f"C0MANY{i:02d}" for i in range(12)]
    for channel in channels:
        await subscribe(bot, channel, created=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "DATABASE_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_API_URL": bot.slack.api_url,
    }
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "digest",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await asyncio.wait_for(p.communicate(), 60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    for channel in channels:
        assert len(posted_to(bot, channel)) == 1, channel
    async with bot.db.session() as s:
        runs = (await s.scalars(select(DigestRun))).all()
    assert sorted(r.channel_id for r in runs) == channels
    assert {r.status for r in runs} == {"done"}


async def _runs(bot: BotHarness) -> list[DigestRun]:
    async with bot.db.session() as s:
        return list((await s.scalars(select(DigestRun).order_by(DigestRun.id))).all())


async def test_a_passing_slack_failure_is_tried_again_later_and_posted_once(
    bot: BotHarness, clock: Clock
) -> None:
    await subscribe(bot, "C0FLAKY")
    failures = {"left": 1}

    def answer(payload: dict[str, Any]) -> dict[str, Any]:
        if failures["left"]:
            failures["left"] -= 1
            return {"ok": False, "error": "internal_error"}
        return {"ok": True, "ts": "1700000003.000001", "channel": payload["channel"]}

    bot.slack.answers["chat.postMessage"] = answer
    report = await poster(bot).run()
    assert report.failed == {"C0FLAKY": "internal_error, will retry at 09:02 UTC"}
    [run] = await _runs(bot)
    assert (run.status, run.attempts, run.error) == ("posting", 1, "internal_error")

    clock.now += dt.timedelta(minutes=1)  # not yet
    assert (await poster(bot).run()).skipped == 1
    clock.now += dt.timedelta(minutes=1, seconds=1)
    report = await poster(bot, worker="later").run()
    assert report.posted == ["C0FLAKY"]
    [run] = await _runs(bot)
    assert (run.status, run.attempts) == ("done", 2)
    ok = [p for p in posted_to(bot, "C0FLAKY")]
    assert len(ok) == 2 and message_text(ok[-1]).startswith("Risk digest")


async def test_failures_that_keep_passing_give_up_after_four_tries(
    bot: BotHarness, clock: Clock
) -> None:
    await subscribe(bot, "C0DOWN")
    bot.slack.answers["chat.postMessage"] = lambda p: {"ok": False, "error": "fatal_error"}
    waits = []
    for _ in range(3):
        report = await poster(bot).run()
        [run] = await _runs(bot)
        assert run.status == "posting"
        waits.append(run.lease_until - clock.now)
        clock.now = run.lease_until + dt.timedelta(seconds=1)
    assert waits == [dt.timedelta(minutes=m) for m in (2, 4, 8)]
    report = await poster(bot).run()
    assert report.failed == {"C0DOWN": "fatal_error"}
    [run] = await _runs(bot)
    assert (run.status, run.attempts) == ("failed", 4)
    clock.now += dt.timedelta(hours=1)
    assert (await poster(bot).run()).skipped == 1
    assert len(posted_to(bot, "C0DOWN")) == 4


async def test_the_periodic_check_claims_nothing_once_the_day_is_settled(
    bot: BotHarness, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for channel in ("C0ONE", "C0TWO", "C0GONE"):
        await subscribe(bot, channel)
    bot.slack.answers["chat.postMessage"] = lambda p: (
        {"ok": False, "error": "channel_not_found"}
        if p["channel"] == "C0GONE"
        else {"ok": True, "ts": "1700000004.000001", "channel": p["channel"]}
    )
    first = await poster(bot).run()
    assert sorted(first.posted) == ["C0ONE", "C0TWO"] and list(first.failed) == ["C0GONE"]
    claims = []
    real_claim = bot.deps.digests.claim

    async def counting(*args: Any, **kwargs: Any) -> DigestRun | None:
        claims.append(args[0])
        return await real_claim(*args, **kwargs)

    monkeypatch.setattr(bot.deps.digests, "claim", counting)
    for _ in range(3):
        clock.now += dt.timedelta(seconds=30)
        assert (await poster(bot).run()).skipped == 3
    assert claims == []  # no write transaction for settled days
    clock.now += dt.timedelta(days=1)  # tomorrow's digests are claimed as usual
    assert sorted((await poster(bot).run()).posted) == ["C0ONE", "C0TWO"]
    assert sorted(claims) == ["C0GONE", "C0ONE", "C0TWO"]
