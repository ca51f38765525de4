"""Shared fixtures: every database test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

from bot.run import prepare
from bot.server import build_web_app
from bot.settings import Settings
from store.db import Database
from store.migrate import upgrade
from tests.harness import ADMIN, APPROVER, OPS, SECRET, BotHarness, bot_settings_for
from tests.lmp_standin import LmpStandIn
from tests.slack_standin import SlackStandIn
from tests.visionone_standin import VisionOneStandIn

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"


def _pg_reachable() -> str | None:
    """None when reachable, else the reason it is not."""
    import asyncpg  # type: ignore[import-untyped]

    dsn = PG_URL.replace("postgresql+asyncpg", "postgresql")

    async def probe() -> None:
        conn = await asyncpg.connect(dsn, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as e:  # any failure means "not here"
        return f"PostgreSQL not reachable at {PG_URL}: {e}"
    return None


_PG_REASON: str | bool | None = False  # False: not probed yet


def pg_skip_reason() -> str | None:
    global _PG_REASON
    if _PG_REASON is False:
        _PG_REASON = _pg_reachable()
    return _PG_REASON  # type: ignore[return-value]


def pytest_report_header() -> str:
    reason = pg_skip_reason()
    return f"postgresql: {'available at ' + PG_URL if reason is None else reason}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    reason = pg_skip_reason()
    if reason is not None:
        if REQUIRE_PG:
            pytest.fail(f"{reason} (REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    name = f"overview_test_{uuid.uuid4().hex[:12]}"
    _pg_exec(f'CREATE DATABASE "{name}"')
    try:
        yield str(make_url(PG_URL).set(database=name))
    finally:
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_exec(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """A migrated database, closed after the test."""
    database = Database(db_url)
    await upgrade(database)
    try:
        yield database
    finally:
        await database.close()


class _StandIn(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


S = TypeVar("S", bound=_StandIn)


@asynccontextmanager
async def _running(standin: S) -> AsyncIterator[S]:
    """A stand-in server for the test's length."""
    await standin.start()
    try:
        yield standin
    finally:
        await standin.stop()


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with _running(SlackStandIn()) as standin:
        yield standin
    assert not standin.problems, standin.problems


@pytest.fixture
async def api() -> AsyncIterator[VisionOneStandIn]:
    """A local stand-in of the Vision One public API (securityPosture)."""
    async with _running(VisionOneStandIn()) as standin:
        yield standin


@pytest.fixture
async def lmp() -> AsyncIterator[LmpStandIn]:
    """A local stand-in of Trend's LMPI that checks every signature."""
    async with _running(LmpStandIn()) as standin:
        yield standin
    assert not standin.problems, standin.problems


@pytest.fixture
def bot_settings(db_url: str, slack: SlackStandIn) -> Settings:
    return bot_settings_for(db_url, slack.api_url)


@pytest.fixture
async def bot(bot_settings: Settings, slack: SlackStandIn) -> AsyncIterator[BotHarness]:
    """The real bot: migrated database, Bolt app and aiohttp server on a free port."""
    database, deps, app = await prepare(bot_settings)
    runner = web.AppRunner(build_web_app(app, database, SECRET))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as http:
        try:
            yield BotHarness(f"http://127.0.0.1:{port}", database, deps, slack, http, app)
        finally:
            await runner.cleanup()
            await deps.drain()
            await deps.close()
            await database.close()


@pytest.fixture
async def team(bot: BotHarness) -> BotHarness:
    """The bot with an operator and an approver besides the admin and default viewers."""
    for user, role in ((OPS, "operator"), (APPROVER, "approver")):
        reply = await bot.command(f"access grant <@{user}> {role}", user=ADMIN)
        assert "is now" in reply.all_text
    return bot
