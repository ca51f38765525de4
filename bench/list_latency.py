"""How long `/customers list` takes to answer, next to a bare Bolt app that only acks.

Run from the repository root:  .venv/bin/python -m bench.list_latency [--db postgresql]

The bot and two bare Bolt apps (process_before_response=True, and Bolt's default False with
its 10 ms ack poll) each run in their own subprocess, so none shares the client's event loop.
Absolute times drift on shared machines; the ratios, measured side by side, are the result.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import os
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import asyncpg
from aiohttp import web
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url

from bot.run import prepare
from bot.server import build_web_app
from bot.settings import load_settings
from store.db import Database
from store.migrate import upgrade
from tests.factories import add_many
from tests.harness import SECRET, VIEWER, sign
from tests.slack_standin import TEAM, SlackStandIn

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://127.0.0.1:5432/test")
RATIO_BAR = 3.0  # bot p50 / bare (process_before_response=True) p50, sequential
P99_BAR_MS = 100.0  # bot p99 with 16 requests in flight
BOT, BARE, BARE_DEFAULT = "bot", "bare", "bare-default"


async def serve(kind: str, db_url: str, profile: str | None) -> None:
    slack = SlackStandIn()  # answers auth.test, at start-up and on Bolt's first request
    await slack.start()
    db = None
    if kind == BOT:
        settings = load_settings(
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET,
            default_role="viewer",
            slack_api_url=slack.api_url,
            database_url=db_url,
            _env_file=None,
        )
        db, deps, app = await prepare(settings)
        web_app = build_web_app(app, db, SECRET)
    else:
        bare = AsyncApp(
            client=AsyncWebClient(token="xoxb-bench", base_url=slack.api_url),
            signing_secret=SECRET,  # Bolt checks signatures itself, as the bot's server does
            process_before_response=kind == BARE,
        )

        @bare.command("/customers")
        async def only_ack(ack: AsyncAck) -> None:
            await ack()

        # The ordinary Bolt way: the aiohttp app that AsyncSlackAppServer.start() would run.
        web_app = AsyncSlackAppServer(port=0, path="/slack/events", app=bare).web_app
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The parent holds our stdin open; EOF means it is gone, however it died.
    loop.add_reader(0, lambda: None if os.read(0, 4096) else stop.set())
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    prof = cProfile.Profile()
    if profile:
        prof.enable()
    try:
        await stop.wait()
    finally:
        if profile:
            prof.disable()
            prof.dump_stats(profile)
        await runner.cleanup()
        await slack.stop()
        if db is not None:
            await deps.drain()
            await db.close()


async def pg_exec(sql: str) -> None:
    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def seed(url: str, n: int) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        await add_many(db, n)
    finally:
        await db.close()
    if url.startswith("postgresql"):
        # Statistics and the visibility map, as autovacuum keeps them on a live database.
        name = make_url(url).database
        conn = await asyncpg.connect(
            PG_URL.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0] + f"/{name}"
        )
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()


@dataclass
class Target:
    name: str
    label: str
    expect: str | None = None  # the reply's text; None: an empty 200 (a bare ack)
    url: str = ""
    pid: int = 0
    cpu_ms: float = 0.0  # server CPU per request, sequential phase
    seq: list[float] = field(default_factory=list)
    conc: list[float] = field(default_factory=list)

    def check(self, status: int, body: bytes) -> None:
        """Fail loudly unless this is the real reply: timing an error page proves nothing."""
        text = json.loads(body).get("text") if body.startswith(b"{") else None
        if status != 200 or text != self.expect:
            raise RuntimeError(f"{self.name} answered {status} {body[:200]!r}")


FORM = {  # a /customers slash command as Slack posts it (see tests/harness.py)
    "token": "unused",
    "team_id": TEAM,
    "team_domain": "home",
    "channel_id": "C0CHAN",
    "channel_name": "ops",
    "user_id": VIEWER,
    "user_name": VIEWER.lower(),
    "command": "/customers",
    "api_app_id": "A0APP",
    "response_url": "http://127.0.0.1:9/response/unused",
}


def command_body(text: str) -> bytes:
    return urlencode({**FORM, "text": text, "trigger_id": f"trig.{uuid.uuid4().hex}"}).encode()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed(http: aiohttp.ClientSession, target: Target) -> float:
    """Milliseconds from sending a signed /customers list to having read the whole reply."""
    body = command_body("list")
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    start = time.perf_counter()
    async with http.post(target.url, data=body, headers=headers) as r:
        raw = await r.read()
    elapsed = (time.perf_counter() - start) * 1000
    target.check(r.status, raw)
    return elapsed


async def in_flight(http: aiohttp.ClientSession, target: Target, total: int, width: int) -> None:
    left = total

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            target.conc.append(await timed(http, target))

    await asyncio.gather(*(worker() for _ in range(width)))


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def start_server(kind: str, db_url: str, profile: str | None) -> asyncio.subprocess.Process:
    args = [sys.executable, "-m", "bench.list_latency", "--serve", kind, "--db-url", db_url]
    args += ["--profile", profile] if profile else []
    # Own session: a Ctrl-C reaches only us, and we stop the servers in order.
    return await asyncio.create_subprocess_exec(
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )


async def port_of(proc: asyncio.subprocess.Process) -> int:
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
    if not line.startswith("PORT "):
        raise RuntimeError(f"server did not start (exit {await proc.wait()}); see stderr above")
    return int(line.split()[1])


async def stop_server(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def measure(args: argparse.Namespace, db_url: str) -> list[Target]:
    targets = [
        Target(BOT, "bot: /customers list", expect=f"{args.customers:,} customers"),
        Target(BARE, "bare Bolt, process_before_response=True"),
        Target(BARE_DEFAULT, "bare Bolt, default (False, 10 ms poll)"),
    ]
    procs: list[asyncio.subprocess.Process] = []
    try:
        for t in targets:
            profile = args.profile if t.name == BOT else None
            procs.append(await start_server(t.name, db_url, profile))
        for t, proc in zip(targets, procs, strict=True):
            t.url, t.pid = f"http://127.0.0.1:{await port_of(proc)}/slack/events", proc.pid
        connector = aiohttp.TCPConnector(limit=4 * args.concurrency)  # keep-alive, as Slack's
        async with aiohttp.ClientSession(connector=connector) as http:
            for _ in range(args.warmup):
                for t in targets:
                    await timed(http, t)
            # Round-robin, one at a time, so drift in the machine hits every target alike.
            cpu_before = [cpu_seconds(t.pid) for t in targets]
            for _ in range(args.requests):
                for t in targets:
                    t.seq.append(await timed(http, t))
            for t, before in zip(targets, cpu_before, strict=True):
                t.cpu_ms = (cpu_seconds(t.pid) - before) * 1000 / args.requests
            # 16 in flight, in 3 rounds with the order rotated, for the same reason.
            for r in range(3):
                for t in targets[r:] + targets[:r]:
                    await in_flight(http, t, args.requests // 3, args.concurrency)
    finally:
        await asyncio.gather(*(stop_server(p) for p in procs), return_exceptions=True)
    return targets


def report(args: argparse.Namespace, targets: list[Target]) -> bool:
    by = {t.name: t for t in targets}
    print(
        f"\n/customers list, {args.customers:,} customers on {args.db}; "
        f"{args.requests} sequential requests per target (round-robin), then "
        f"{args.requests // 3 * 3} with {args.concurrency} in flight; times in ms "
        "(cpu/req: the server process's CPU per sequential request)\n"
    )
    head = (
        f"{'target':42} {'p50':>7} {'p90':>7} {'p99':>7} {'cpu/req':>7} | "
        f"{'p50@16':>7} {'p99@16':>7}"
    )
    print(head + "\n" + "-" * len(head))
    for t in targets:
        s, c = t.seq, t.conc
        print(
            f"{t.label:42} {pct(s, 50):7.2f} {pct(s, 90):7.2f} {pct(s, 99):7.2f} "
            f"{t.cpu_ms:7.2f} | {pct(c, 50):7.2f} {pct(c, 99):7.2f}"
        )
    bot_p50 = pct(by[BOT].seq, 50)
    strict = bot_p50 / pct(by[BARE].seq, 50)
    loose = bot_p50 / pct(by[BARE_DEFAULT].seq, 50)
    p99 = pct(by[BOT].conc, 99)
    ratio_ok, p99_ok = strict <= RATIO_BAR, p99 < P99_BAR_MS
    print(
        f"\nratio bot p50 / bare p50 (process_before_response=True):  {strict:5.2f}x  "
        f"(bar <= {RATIO_BAR:g}x)  {'PASS' if ratio_ok else 'FAIL'}\n"
        f"ratio bot p50 / bare p50 (default, 10 ms ack poll):       {loose:5.2f}x  (for reference)\n"
        f"bot p99 with {args.concurrency} in flight: {p99:6.2f} ms                      "
        f"(bar < {P99_BAR_MS:g} ms)  {'PASS' if p99_ok else 'FAIL'}"
    )
    if args.profile:
        print(f"\nnote: the bot ran under cProfile ({args.profile}); its times are inflated.")
    return ratio_ok and p99_ok


async def run(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if args.db == "sqlite":
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await seed(url, args.customers)
            return report(args, await measure(args, url))
        name = f"overview_bench_{uuid.uuid4().hex[:12]}"
        await pg_exec(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
            await seed(url, args.customers)
            return report(args, await measure(args, url))
        finally:
            await pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=10_000)
    p.add_argument("--requests", type=int, default=300, help="per target and phase (max 5000)")
    p.add_argument("--warmup", type=int, default=30, help="requests per target before timing")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--check", action="store_true", help="exit 1 when a bar is missed")
    p.add_argument("--profile", metavar="FILE", help="cProfile the bot's server into FILE")
    p.add_argument("--serve", choices=[BOT, BARE, BARE_DEFAULT], help=argparse.SUPPRESS)
    p.add_argument("--db-url", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.db_url, args.profile))
        return 0
    if not (3 <= args.requests <= 5000 and 1 <= args.customers <= 1_000_000):
        p.error("--requests must be 3-5000 and --customers 1-1,000,000")
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    try:
        passed = asyncio.run(run(args))
    except KeyboardInterrupt:
        return 130  # servers and databases were cleaned up on the way out
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
