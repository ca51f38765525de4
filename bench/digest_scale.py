"""Building and posting every daily digest: 100,000 customers, 500 subscribed channels.

Run from the repository root:  .venv/bin/python -m bench.digest_scale [--db postgresql]

build: DigestPoster.build for every subscription (digest_data's queries plus the Block Kit
messages), side by side in one run with the plain query that reads the same rows (every
customer matching the subscription's filter); bar: build < 3x plain, totals over all.
post: DigestPoster.run() with the real digest_client against a stand-in Web API, in its own
subprocess, that answers 429 (Retry-After: 1) to a message less than 1 s after the previous
one in the same channel; two channels answer channel_not_found / not_in_channel.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

import blocks.digest as digest_blocks
from blocks.limits import block_problems
from bot.digests import DigestPoster, digest_client
from store.customers import conditions
from store.db import Database
from store.digests import Digests
from store.enums import Level, LicenseType, Origin, SnapshotSource, Status
from store.filters import parse_filter
from store.migrate import upgrade
from store.models import Customer, DigestRun, DigestSubscription, RiskSnapshot, utcnow
from store.names import company_key
from store.regions import DataCenter
from store.schedule import EVERY_DAY, WEEKDAYS

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://127.0.0.1:5432/test")
RATIO_BAR = 3.0  # build / plain SQL, totals over all subscriptions
MIN_GAP = 1.0  # Slack: about one message a second per channel
# Text in one message's blocks beyond which Slack is reported to answer msg_blocks_too_long
# (undocumented; slackapi/bolt-js#2509, #2867). Counted, not enforced by the stand-in.
TEXT_LIMIT = 12_000
FILTERS = ["", "risk:high", "license:annual", "status:trial", "gmbh", "customer 0042"]
FILTERS += ["risk:high,medium license:annual", "status:active risk:high"]
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Sydney"]
ZONES += ["America/Los_Angeles", "Asia/Kolkata", "Europe/London"]
SUFFIXES = ["GmbH", "Ltd", "Inc.", "S.A.", "K.K.", "Pty Ltd", "AG", "LLC"]
STATUS_WEIGHTS = {Status.ACTIVE: 74, Status.TRIAL: 8, Status.EXPIRED: 4, Status.DISCONNECTED: 6}
STATUS_WEIGHTS |= {Status.NOT_PROVISIONED: 6, Status.PROVISIONING: 1, Status.FAILED: 1}
PAID = [LicenseType.ANNUAL, LicenseType.ANNUAL, LicenseType.MONTHLY]
BROKEN = {"C0BENCH0007": "channel_not_found", "C0BENCH0013": "not_in_channel"}
Row = dict[str, Any]


# --- seeding ---------------------------------------------------------------------------


def customer_row(i: int, nfr: bool, today: dt.date, rnd: random.Random) -> Row:
    status = rnd.choices(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))[0]
    status = Status.ACTIVE if nfr else status
    cri = None if rnd.random() < 0.05 else round(rnd.betavariate(2, 3) * 100)  # 5% not known
    levels = [None] if cri is None else list(Level)
    if status is Status.TRIAL:  # 30-day trials: some end within 14 days, some just ended
        lic, expires = None, today + dt.timedelta(days=rnd.randint(-3, 30))
    else:  # paid: some in the notice, grace and locked windows, most renewing later
        lic = LicenseType.MONTHLY_NFR if nfr else rnd.choice(PAID)
        expires = today + dt.timedelta(days=rnd.randint(-75, 400))
    company = f"Customer {i:06d} {SUFFIXES[i % len(SUFFIXES)]}"
    return dict(
        company=company, company_key=company_key(company), license_type=lic, status=status,
        cri=cri, exposure=rnd.choice(levels), security_configuration=rnd.choice(levels),
        expiration_date=expires, is_nfr=nfr, sign_in_account=f"admin@customer{i:06d}.example",
        origin=Origin.IMPORTED, data_center=rnd.choice(list(DataCenter)),
    )  # fmt: skip


def subscription_row(k: int, now: dt.datetime) -> Row:
    """A mix of filters, zones and days; the time a little before now, local: due now."""
    tz = ZONES[k % len(ZONES)]
    local = now.astimezone(ZoneInfo(tz)) - dt.timedelta(minutes=1 + k * 7 % 600)
    return dict(
        channel_id=f"C0BENCH{k:04d}", tz=tz, at_time=local.time().replace(second=0, microsecond=0),
        weekdays=WEEKDAYS if k % 5 == 4 else EVERY_DAY, created_by="U0ADMIN",
        filters=parse_filter(FILTERS[k % len(FILTERS)]).to_query(),
        created_at=now - dt.timedelta(days=30),
    )  # fmt: skip


async def bulk(s: Any, model: type, rows: list[Row], chunk: int = 5000) -> None:
    for i in range(0, len(rows), chunk):  # an executemany per chunk, no ORM objects
        await s.execute(insert(model), rows[i : i + chunk])


async def seed(db: Database, customers: int, channels: int, now: dt.datetime) -> None:
    rnd, day = random.Random(4), dt.timedelta(days=1)
    async with db.transaction() as s:
        rows = [customer_row(i, i == customers // 2, now.date(), rnd) for i in range(customers)]
        await bulk(s, Customer, rows)
        q = select(Customer.id, Customer.cri).where(Customer.cri.is_not(None))
        known = [(cid, cri or 0) for cid, cri in (await s.execute(q.order_by(Customer.id)))]
        snaps: list[Row] = []
        for cid, cri in known[::5]:  # a fifth have history: 3 days ago, and this morning
            before = min(100, max(0, cri - rnd.randint(-10, 40)))
            snaps.append(dict(customer_id=cid, cri=before, taken_at=now - 3 * day, source=SnapshotSource.IMPORT))  # fmt: skip
            snaps.append(dict(customer_id=cid, cri=cri, taken_at=now - day / 12, source=SnapshotSource.VISION_ONE))  # fmt: skip
        await bulk(s, RiskSnapshot, snaps)
        await bulk(s, DigestSubscription, [subscription_row(k, now) for k in range(channels)])


async def pg_exec(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# --- build, side by side with the plain query -------------------------------------------


def make_poster(db: Database, base_url: str = "http://127.0.0.1:9/api/") -> DigestPoster:
    return DigestPoster(db, Digests(db), digest_client("xoxb-bench", base_url))


async def plain(db: Database, sub: DigestSubscription) -> int:
    """The plain query that reads the same rows: every customer the filter matches."""
    today = utcnow().astimezone(ZoneInfo(sub.tz)).date()  # as build() has it
    async with db.session() as s:
        q = select(Customer.__table__).where(*conditions(parse_filter(sub.filters), today))
        return len((await s.execute(q)).all())


def text_chars(node: Any) -> int:
    """Characters of text in a message's blocks."""
    if isinstance(node, dict):
        return sum(len(v) if isinstance(v, str) else text_chars(v) for v in node.values())
    return sum(text_chars(b) for b in node) if isinstance(node, list) else 0


async def measure(db: Database, subs: list[DigestSubscription], reps: int) -> dict[str, Any]:
    poster = make_poster(db)
    totals: dict[str, list[float]] = {"build": [], "plain": []}
    per: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    parts: dict[str, int] = {}  # messages per digest, as the splitter made them
    for sub in subs[: len(FILTERS)]:  # warm-up: caches and compiled statements, each filter
        await poster.build(sub, sub.filters, sub.tz)
        await plain(db, sub)
    for r in range(reps):
        took = {"build": 0.0, "plain": 0.0}
        for k, sub in enumerate(subs):  # interleaved; which goes first alternates
            for side in ("build", "plain") if (r + k) % 2 == 0 else ("plain", "build"):
                start = time.perf_counter()
                if side == "build":
                    msgs, _ = await poster.build(sub, sub.filters, sub.tz)
                else:
                    rows = await plain(db, sub)
                took[side] += (elapsed := time.perf_counter() - start)
                per[sub.filters][side].append(elapsed)
            parts[sub.channel_id] = len(msgs)
            per[sub.filters]["rows"].append(rows)
            per[sub.filters]["parts"].append(len(msgs))
            per[sub.filters]["chars"].append(max(text_chars(m.payload()["blocks"]) for m in msgs))
        for side, value in took.items():
            totals[side].append(value)
    return {"totals": totals, "per": per, "parts": parts}


def report_build(args: argparse.Namespace, m: dict[str, Any]) -> bool:
    med = {side: statistics.median(t) for side, t in m["totals"].items()}
    ratio = med["build"] / med["plain"]
    print(f"\n{args.customers:,} customers, {args.channels} subscriptions, {args.db}; "
          f"{args.repeat} interleaved repetitions, medians")  # fmt: skip
    for side, label in (("build", "build (DigestPoster.build)"), ("plain", "plain SQL")):
        each = " ".join(f"{t:.2f}" for t in m["totals"][side])
        print(f"  {label:28} {med[side]:8.2f} s  (each: {each})")
    verdict = "PASS" if ratio < RATIO_BAR else "FAIL"
    print(f"  ratio build / plain {ratio:15.2f}x  (bar < {RATIO_BAR:g}x)  {verdict}\n")
    print(f"  {'filter':32} {'subs':>4} {'rows':>7} {'build ms':>9} {'plain ms':>9} {'ratio':>6} "
          f"{'parts':>5} {'chars':>6}")  # fmt: skip
    for flt, v in sorted(m["per"].items(), key=lambda kv: -statistics.median(kv[1]["rows"])):
        b, p = (statistics.median(v[side]) * 1000 for side in ("build", "plain"))
        print(f"  {flt or '(none)':32} {len(v['rows']) // args.repeat:4} "
              f"{int(statistics.median(v['rows'])):7,} {b:9.1f} {p:9.1f} {b / p:6.2f} "
              f"{int(max(v['parts'])):5} {int(max(v['chars'])):6,}")  # fmt: skip
    long = sum(c > TEXT_LIMIT for v in m["per"].values() for c in v["chars"]) // args.repeat
    print(f"  (chars: text in a digest's longest message; {long} of {args.channels} digests "
          f"have a message over {TEXT_LIMIT:,})")  # fmt: skip
    return ratio < RATIO_BAR


# --- posting, against a stand-in that enforces the per-channel limit -------------------


class StandIn:
    """chat.postMessage as Slack answers it, the per-channel limit enforced."""

    def __init__(self, broken: dict[str, str]) -> None:
        self.broken, self.last, self.limited = broken, dict[str, float](), 0
        self.accepted: list[Row] = []
        self.problems: list[str] = []

    async def api(self, request: web.Request) -> web.Response:
        payload = await request.json()
        ch, now = payload["channel"], time.monotonic()
        if ch in self.broken:
            return web.json_response({"ok": False, "error": self.broken[ch]})
        if now - self.last.get(ch, -MIN_GAP) < MIN_GAP:
            self.limited += 1
            body = {"ok": False, "error": "ratelimited"}
            return web.json_response(body, status=429, headers={"Retry-After": "1"})
        if found := block_problems(payload, limit=50):
            self.problems += found
            return web.json_response({"ok": False, "error": "invalid_blocks"})
        gap, self.last[ch] = now - self.last[ch] if ch in self.last else None, now
        ts = f"{int(time.time())}.{len(self.accepted) + 1:06d}"
        thread = payload.get("thread_ts")
        self.accepted.append(dict(channel=ch, ts=ts, thread_ts=thread, text=payload["text"], gap=gap))  # fmt: skip
        return web.json_response({"ok": True, "channel": ch, "ts": ts})


async def serve_standin(broken: dict[str, str]) -> None:
    """In its own process: prints its port; at EOF on stdin, prints what it got as JSON."""
    state, app = StandIn(broken), web.Application()
    app.router.add_post("/api/chat.postMessage", state.api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    stop, loop = asyncio.Event(), asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_reader(0, lambda: None if os.read(0, 4096) else stop.set())
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    await stop.wait()
    await runner.cleanup()
    print(json.dumps({k: getattr(state, k) for k in ("accepted", "limited", "problems")}))


async def posting(db: Database, broken: dict[str, str], twice: list[str]) -> dict[str, Any]:
    """Post everything due against a fresh stand-in; or force `twice`' digests, 2 at once."""
    args = [sys.executable, "-m", "bench.digest_scale", "--standin", json.dumps(broken)]
    pipe = asyncio.subprocess.PIPE
    # Own session: a Ctrl-C reaches only us, and we stop the stand-in ourselves.
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, stdin=pipe, stdout=pipe, start_new_session=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        if not line.startswith("PORT "):
            raise RuntimeError("the stand-in did not start; see stderr above")
        poster = make_poster(db, f"http://127.0.0.1:{line.split()[1]}/api/")
        start = time.perf_counter()
        jobs = [poster.run(channel=ch, force=True) for ch in twice for _ in "12"]
        reports = await asyncio.gather(*jobs) if twice else [await poster.run()]
        wall = time.perf_counter() - start
        proc.stdin.close()
        got: dict[str, Any] = json.loads(await asyncio.wait_for(proc.stdout.read(), 60))
        await proc.wait()  # (not terminate(): its poll() would race asyncio's child watcher)
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
    return {**got, "wall": wall, "report": reports[0] if len(reports) == 1 else None}


def delivery_errors(got: dict[str, Any], runs: list[DigestRun]) -> list[str]:
    """Each finished run's parts arrived once each: the first in the channel (its ts is the
    run's thread_ts), the others in that thread; and nothing else arrived."""
    errors = [f"invalid blocks: {p}" for p in got["problems"]]
    roots = {m["ts"]: m["channel"] for m in got["accepted"] if m["thread_ts"] is None}
    replies: dict[str, list[str]] = defaultdict(list)
    for m in got["accepted"]:
        if m["thread_ts"] is not None:
            replies[m["thread_ts"]].append(m["text"])
    done = {r.thread_ts: r for r in runs if r.status == "done"}
    errors += [f"a message not in a digest, ts {ts}" for ts in (roots | replies).keys() - done]
    for ts, r in done.items():
        texts = replies.get(ts or "", [])
        if roots.get(ts or "") != r.channel_id or r.parts_posted != r.parts_total:
            errors.append(f"{r.channel_id}: run {r.id} posted {r.parts_posted}/{r.parts_total}")
        elif len(texts) != r.parts_total - 1 or len(set(texts)) != len(texts):
            errors.append(f"{r.channel_id}: {len(texts)} replies, want {r.parts_total - 1}")
    return errors


async def post_all(db: Database, parts: dict[str, int]) -> bool:
    broken = {ch: error for ch, error in BROKEN.items() if ch in parts}
    good = {ch: n for ch, n in parts.items() if ch not in broken}
    got = await posting(db, broken, [])
    report, runs = got["report"], list(await Digests(db).runs())
    errors = delivery_errors(got, runs)
    if report.failed != broken or sorted(report.posted) != sorted(good):
        errors.append(f"report: {report.line()}")
    statuses = Counter((r.status, r.error or "") for r in runs)
    want = Counter({("done", ""): len(good)}) + Counter(("failed", e) for e in broken.values())
    errors += [f"digest_run rows {dict(statuses)}, want {dict(want)}"] * (statuses != want)
    errors += [f"{r.channel_id}: {r.parts_total} parts, built {parts[r.channel_id]}"
               for r in runs if r.status == "done" and r.parts_total != parts[r.channel_id]]  # fmt: skip
    gaps = [m["gap"] for m in got["accepted"] if m["gap"] is not None]
    closest = f"{min(gaps):.2f} s apart" if gaps else "- (one message each)"
    print(f"\nposting: DigestPoster.run(), per-channel spacing {make_poster(db).spacing} s; "
          f"{sum(good.values())} messages to {len(good)} channels (digests of n parts: "
          f"{dict(sorted(Counter(good.values()).items()))})\n"
          f"  wall time {got['wall']:.1f} s; 429s: {got['limited']}; closest messages in one "
          f"channel: {closest}\n  report: {report.line()}\n"
          "  digest_run rows: " + ", ".join(f"{n} {s} {e}".strip() for (s, e), n in sorted(statuses.items())))  # fmt: skip
    start = time.perf_counter()  # the bot checks every 30 s; now nothing is left to post
    idle = await make_poster(db).run()
    print(f"  check with nothing left to post: {time.perf_counter() - start:.2f} s ({idle.line()})")
    errors += [f"check with nothing left: {idle.line()}"] * (idle.skipped != len(parts))
    twice = list(good)[:10]  # the retry handler: two forced digests at once in each
    retry = await posting(db, {}, twice)
    forced = [r for r in await Digests(db).runs() if r.forced and r.status == "done"]
    errors += delivery_errors(retry, forced)
    if len(forced) != 2 * len(twice):
        errors.append(f"{len(forced)} forced digests done, want {2 * len(twice)}")
    print(f"  retry: 2 forced digests at once in each of {len(twice)} channels: "
          f"{retry['limited']} 429s, {len(retry['accepted'])} messages, {retry['wall']:.1f} s")  # fmt: skip
    for e in errors[:20]:
        print(f"  PROBLEM: {e}")
    print(f"  every part once, threaded; broken channels reported: {'FAIL' if errors else 'PASS'}")
    return not errors


# --- the run --------------------------------------------------------------------------


async def bench(args: argparse.Namespace, url: str) -> bool:
    db = Database(url)
    try:
        start = time.perf_counter()
        await upgrade(db)
        await seed(db, args.customers, args.channels, utcnow())
        if not db.is_sqlite:  # what autovacuum would have done in production
            await pg_exec(url, "VACUUM ANALYZE")
        print(f"seeded in {time.perf_counter() - start:.1f} s", flush=True)
        subs = list(await Digests(db).subscriptions())
        if not all(Digests.due(s, utcnow()) for s in subs):
            raise RuntimeError("not every subscription is due")
        if args.part_blocks:  # smaller parts, to test threading and spacing at scale
            digest_blocks.PART_BLOCKS = args.part_blocks
        m = await measure(db, subs, args.repeat)
        passed = report_build(args, m)
        return await post_all(db, m["parts"]) and passed
    finally:
        await db.close()


async def run(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if args.db == "sqlite":
            return await bench(args, f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        name = f"overview_bench_{uuid.uuid4().hex[:12]}"
        await pg_exec(PG_URL, f'CREATE DATABASE "{name}"')
        try:
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
            return await bench(args, url)
        finally:
            await pg_exec(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--channels", type=int, default=500)
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--repeat", type=int, default=3, help="interleaved build/plain passes")
    p.add_argument("--part-blocks", type=int, help="post digests in parts of N blocks (1-48)")
    p.add_argument("--check", action="store_true", help="exit 1 when a bar is missed")
    p.add_argument("--standin", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.standin is not None:
        asyncio.run(serve_standin(json.loads(args.standin)))
        return 0
    if not (1 <= args.customers <= 10**6 and 14 <= args.channels <= 5000 and args.repeat > 0):
        p.error("--customers must be 1-1,000,000, --channels 14-5000, --repeat at least 1")
    if not 1 <= (args.part_blocks or 1) <= 48:
        p.error("--part-blocks must be 1-48")
    logging.basicConfig(stream=sys.stdout, format="  log: %(message)s")  # in order with ours
    try:
        passed = asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130  # the database was dropped (or the temp file removed) on the way out
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
