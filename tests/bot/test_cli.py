"""The `overview-bot` command as an operator runs it: a real process, real exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from store.migrate import head_revision

ROOT = Path(__file__).resolve().parents[2]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "DATABASE_"))
    }
    full_env |= {"PYTHONPATH": str(ROOT)} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
    )


def test_help_lists_commands_and_examples(tmp_path: Path) -> None:
    out = run("--help", cwd=tmp_path)
    assert out.returncode == 0
    for word in ("serve", "socket", "import", "access", "db", "examples:", "DATABASE_URL"):
        assert word in out.stdout


def test_access_and_db_commands_round_trip(db_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": db_url, "BOT_ADMINS": "U0ROOT"}
    up = run("db", "upgrade", env=env, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    assert f"revision {head_revision()}" in up.stdout
    granted = run("access", "grant", "U0ANA", "Operator", env=env, cwd=tmp_path)
    assert granted.returncode == 0, granted.stderr
    listed = run("access", "list", env=env, cwd=tmp_path)
    assert "U0ANA\toperator" in listed.stdout and "BOT_ADMINS: U0ROOT" in listed.stdout
    bad = run("access", "grant", "ana", "operator", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "not a Slack user ID" in bad.stderr
    assert "Traceback" not in bad.stderr
    gone = run("access", "revoke", "U0ANA", env=env, cwd=tmp_path)
    assert gone.returncode == 0 and "removed" in gone.stdout
    assert "no roles granted" in run("access", "list", env=env, cwd=tmp_path).stdout


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("serve",), {}, "SLACK_BOT_TOKEN: not set"),
        (("socket",), {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN: not set"),
        (("db", "upgrade"), {"PORT": "x"}, "PORT: "),
        (
            ("db", "upgrade"),
            {"DATABASE_URL": "sqlite+aiosqlite:////nonexistent/dir/x.db"},
            "DATABASE_URL: cannot open",
        ),
    ],
)
def test_bad_configuration_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    out = run(*args, env=env, cwd=tmp_path)
    assert out.returncode == 2
    assert expected in out.stderr and "Traceback" not in out.stderr


def test_serve_reports_a_refused_token(tmp_path: Path) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
    }
    out = run("serve", env=env, cwd=tmp_path)
    assert out.returncode == 2 and "cannot reach Slack" in out.stderr


async def test_serve_runs_the_bot_end_to_end(tmp_path: Path) -> None:
    """`overview-bot serve` as a process: migrates, answers /healthz and a signed command."""
    import asyncio
    import socket
    from urllib.parse import urlencode

    import aiohttp

    from tests.harness import SECRET, sign
    from tests.slack_standin import SlackStandIn

    slack = SlackStandIn()
    await slack.start()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "DATABASE_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        env=env,
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("bot did not come up")
            body = urlencode(
                {
                    "command": "/customers",
                    "text": "",
                    "user_id": "U0A",
                    "team_id": "T0HOME",
                    "response_url": slack.response_url(),
                }
            ).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
            async with http.post(
                f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
            ) as r:
                assert r.status == 200
                assert "0 customers" in (await r.json())["text"]
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 10)
        await slack.stop()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err


async def test_socket_mode_answers_a_command(tmp_path: Path) -> None:
    """`overview-bot socket` as a process: connects, acks a command with the reply in it."""
    import asyncio

    from tests.slack_standin import SlackStandIn

    slack = SlackStandIn()
    await slack.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BOT_", "DATABASE_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_APP_TOKEN": "xapp-1",
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.db",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "socket",
        env=env,
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        envelope = {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": {
                "command": "/customers",
                "text": "help",
                "user_id": "U0A",
                "team_id": "T0HOME",
                "channel_id": "C0CHAN",
                "response_url": slack.response_url(),
                "trigger_id": "t.1",
                "api_app_id": "A0APP",
            },
        }
        ack = await slack.socket_send(envelope, within=20)
        assert "you are a *viewer*" in str(ack["payload"])
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 10)
        await slack.stop()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err
