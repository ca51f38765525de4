"""Start the sandbox: the pretend Slack (page, Web API, response_urls) and the real bot beside it.

The bot is started exactly as `overview-bot serve` starts it — same app, same HTTP server,
same jobs — only its Slack is this process's Workspace, on 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp

from bot.run import StartupError, prepare, start_jobs, stop_on_signal
from bot.sandbox.bridge import Bridge
from bot.sandbox.visionone import demo_vision_one_app
from bot.sandbox.workspace import DEMO_USERS, Workspace
from bot.scheduler import Scheduler
from bot.server import build_web_app
from bot.settings import Settings
from handlers.deps import Deps
from store.db import Database
from store.demo import seed_demo
from store.enums import Role
from store.secrets import check_key, new_key

log = logging.getLogger("overview.sandbox")
STATIC = Path(__file__).parent / "static"
HOST = "127.0.0.1"  # the sandbox has no sign-in: never listen beyond this machine


@dataclass
class Sandbox:
    url: str
    workspace: Workspace
    bridge: Bridge
    db: Database
    deps: Deps
    app: AsyncApp
    vision_one_url: str = ""  # the demo Vision One API the bot syncs from
    _cleanup: list[web.AppRunner] = field(default_factory=list)
    _http: aiohttp.ClientSession | None = None
    _jobs: Scheduler | None = None

    async def stop(self) -> None:
        await self.workspace.close()
        if self._jobs is not None:
            await self._jobs.stop()
        for runner in self._cleanup:
            await runner.cleanup()
        await self.deps.drain()
        if self._http is not None:
            await self._http.close()
        await self.db.close()


def _slack_app(workspace: Workspace, bridge: Bridge) -> web.Application:
    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_route("*", "/api/{method}", workspace.api)
    app.router.add_post("/sandbox/response/{token}", workspace.respond)
    app.router.add_get("/sandbox/state", bridge.state)
    app.router.add_post("/sandbox/{what}", bridge.handle)
    return app


def key_beside(database: Path) -> str:
    """The BOT_SECRET_KEY kept in a 0600 file next to a kept sandbox database (made once),
    so the API tokens sealed in it stay readable from one run to the next."""
    path = database.with_name(database.name + ".key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            return check_key(path.read_text())
        except (OSError, ValueError) as e:
            raise StartupError(
                f"--database: the sandbox's key file {path} cannot be used ({e}); "
                "delete it and the database beside it to start afresh"
            ) from None
    except OSError as e:
        raise StartupError(f"--database: cannot write the key file {path}: {e}") from None
    key = new_key()
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def sandbox_settings(
    settings: Settings,
    *,
    api_url: str,
    database_url: str,
    token: str,
    secret: str,
    secret_key: str,
    vision_one_url: str,
) -> Settings:
    """The given settings, with the generated token, secret and key, and Slack and Vision
    One played locally (nothing is fetched from the internet)."""
    admins = {u.id for u in DEMO_USERS if u.role is Role.ADMIN}
    return settings.model_copy(
        update={
            "slack_bot_token": token,
            "slack_signing_secret": secret,
            "slack_app_token": None,
            "slack_api_url": api_url,
            "database_url": database_url,
            "bot_admins": frozenset(settings.bot_admins | admins),
            "approvals_channel": None,
            "bot_secret_key": SecretStr(secret_key),
            "vision_one_base_url": vision_one_url,
        }
    )


async def _serve_local(app: web.Application, port: int = 0) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, HOST, port).start()
    except OSError:
        await runner.cleanup()
        raise
    return runner


async def start_sandbox(
    settings: Settings, *, port: int = 3000, database_url: str, secret_key: str | None = None
) -> Sandbox:
    """`secret_key`: the BOT_SECRET_KEY to seal API tokens with; None makes a new one."""
    token = "xoxb-sandbox-" + secrets.token_hex(12)
    workspace = Workspace(token)
    secret = secrets.token_hex(16)
    bridge = Bridge(workspace, secret)
    try:
        slack_runner = await _serve_local(_slack_app(workspace, bridge), port)
    except OSError as e:
        raise StartupError(f"--port: cannot listen on {HOST}:{port}: {e}") from None
    url = f"http://{HOST}:{slack_runner.addresses[0][1]}"
    workspace.base_url = url
    v1_runner = await _serve_local(demo_vision_one_app())
    v1_url = f"http://{HOST}:{v1_runner.addresses[0][1]}"
    bot_settings = sandbox_settings(
        settings,
        api_url=f"{url}/api/",
        database_url=database_url,
        token=token,
        secret=secret,
        secret_key=secret_key or new_key(),
        vision_one_url=v1_url,
    )
    try:
        db, deps, app = await prepare(bot_settings)
    except Exception:
        await slack_runner.cleanup()
        await v1_runner.cleanup()
        raise
    roles = {u.id: u.role for u in DEMO_USERS if u.role is not Role.ADMIN}
    created = await seed_demo(db, roles)
    log.info("demo portfolio: %s customers created", created)
    bot_runner = web.AppRunner(build_web_app(app, db, secret), access_log=None)
    await bot_runner.setup()
    await web.TCPSite(bot_runner, HOST, 0).start()
    bridge.bot_url = f"http://{HOST}:{bot_runner.addresses[0][1]}"
    bridge.http = aiohttp.ClientSession()
    sandbox = Sandbox(
        url, workspace, bridge, db, deps, app, v1_url, [bot_runner, slack_runner, v1_runner]
    )
    sandbox._http = bridge.http
    sandbox._jobs = start_jobs(deps, app, bot_settings)
    return sandbox


async def run_sandbox(settings: Settings, port: int, database: Path | None) -> None:
    """`overview-bot sandbox`: run until Ctrl-C."""
    stop = stop_on_signal()  # before "ready": a Ctrl-C right after it must stop cleanly
    with tempfile.TemporaryDirectory(prefix="overview-sandbox-") as tmp:
        path = database or Path(tmp) / "sandbox.db"
        sandbox = await start_sandbox(
            settings,
            port=port,
            database_url=f"sqlite+aiosqlite:///{path}",
            secret_key=key_beside(database) if database else None,
        )
        print(
            f"Sandbox ready: open {sandbox.url}/ in your browser "
            "(demo data, no Slack workspace needed; Ctrl-C stops it).",
            flush=True,
        )
        try:
            await stop.wait()
        finally:
            await sandbox.stop()
