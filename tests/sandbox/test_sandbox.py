"""The sandbox without a browser: its demo data, its pretend Slack, and how it is started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select

from bot.sandbox.run import Sandbox
from bot.sandbox.workspace import CHANNEL
from store.db import Database
from store.demo import DEMO_PREFIX, seed_demo
from store.enums import Role
from store.migrate import upgrade
from store.models import AccessGrant, Customer, RiskSnapshot

ROOT = Path(__file__).resolve().parents[2]
OPERATOR, VIEWER = "U0DEMOOPS", "U0DEMOVIEW"


async def test_demo_portfolio_is_marked_deterministic_and_never_mixed(
    db: Database, tmp_path: Path
) -> None:
    assert await seed_demo(db, {OPERATOR: Role.OPERATOR}) == 40
    async with db.session() as s:
        names = (await s.scalars(select(Customer.company).order_by(Customer.id))).all()
        history = await s.scalar(select(func.count()).select_from(RiskSnapshot))
        grant = await s.get(AccessGrant, OPERATOR)
    assert all(n.startswith(DEMO_PREFIX) for n in names)
    assert history and grant is not None and grant.role is Role.OPERATOR
    assert await seed_demo(db, {}) == 0  # a database with customers is left alone

    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'again.db'}")
    try:
        await upgrade(other)
        await seed_demo(other, {})
        async with other.session() as s:
            again = (await s.scalars(select(Customer.company).order_by(Customer.id))).all()
    finally:
        await other.close()
    assert again == names


async def test_the_web_api_answers_only_the_bot_and_checks_blocks(sandbox: Sandbox) -> None:
    api = f"{sandbox.url}/api"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/auth.test") as r:
            assert (await r.json())["error"] == "invalid_auth"
        with pytest.raises(SlackApiError) as refused:
            await sandbox.app.client.chat_postMessage(
                channel=CHANNEL, text="x", blocks=[{"type": "section"}]
            )
    assert refused.value.response["error"] == "invalid_blocks"
    assert sandbox.workspace.problems == [
        "chat.postMessage: section: text or fields attribute must be specified"
    ]  # and the page shows it
    sandbox.workspace.problems.clear()
    assert sandbox.workspace.state_for(VIEWER)["messages"] == []


async def test_a_command_reply_is_seen_only_by_who_ran_it(sandbox: Sandbox) -> None:
    await sandbox.bridge.command(OPERATOR, "list risk:high")
    mine = sandbox.workspace.state_for(OPERATOR)["messages"]
    assert len(mine) == 1 and mine[0]["ephemeral"]
    assert "matching `risk:high`" in str(mine[0]["blocks"])
    assert sandbox.workspace.state_for(VIEWER)["messages"] == []

    await sandbox.bridge.command(OPERATOR, "risk public")  # in_channel: everyone sees it
    seen = sandbox.workspace.state_for(VIEWER)["messages"]
    assert seen[0]["text"] == "/customers risk public" and seen[0]["user"] == OPERATOR
    assert len(seen) == 2 and not seen[1]["ephemeral"]


async def test_the_home_tab_is_published_for_each_user(sandbox: Sandbox) -> None:
    before = sandbox.workspace.version
    await sandbox.bridge.open_home(VIEWER)
    while sandbox.workspace.homes.get(VIEWER) is None:  # published after the ack
        await sandbox.workspace.wait_past(before, within=5)
        before = sandbox.workspace.version
    assert "viewer" in str(sandbox.workspace.homes[VIEWER]["blocks"]).lower()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_start_without_tokens_runs_the_sandbox(tmp_path: Path) -> None:
    """What `scripts/run` does on a fresh machine: no .env, no tokens."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    env |= {"PYTHONPATH": str(ROOT), "PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "start"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"Sandbox ready: open http://127.0.0.1:{port}/" in line, proc.stderr
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert "Demo data" in page.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
    assert code == 0
    assert not list(tmp_path.iterdir())  # the demo database was temporary


def test_sandbox_port_is_checked(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", "http"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2 and "'http' is not a port number" in out.stderr


@pytest.mark.parametrize("name", ["sandbox", "start"])
def test_help_names_the_sandbox(name: str, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert name in out.stdout


async def test_a_bot_that_does_not_answer_is_reported_not_a_crash(sandbox: Sandbox) -> None:
    bot_url, sandbox.bridge.bot_url = sandbox.bridge.bot_url, f"http://127.0.0.1:{_free_port()}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{sandbox.url}/sandbox/command", json={"user": OPERATOR, "text": "/customers"}
            ) as r:
                assert r.status == 200
            async with http.post(f"{sandbox.url}/sandbox/command", json={"user": "U0NOBODY"}) as r:
                assert r.status == 400 and "unknown demo user" in await r.text()
    finally:
        sandbox.bridge.bot_url = bot_url
    state = sandbox.workspace.state_for(OPERATOR)
    assert state["notes"] == ["The app did not respond (no answer within 3 seconds)."]
    assert state["messages"] == []
