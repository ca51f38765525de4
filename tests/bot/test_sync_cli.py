"""`overview-bot sync` as an operator runs it: a real process against the API stand-in."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

from store.actions import Operations
from store.actor import Actor
from store.db import Database
from store.enums import Role
from store.leases import claim, release
from store.platform import LocalLedger
from store.regions import DataCenter
from store.secrets import TokenVault, new_key
from store.sync import LEASE
from tests.factories import add, customer
from tests.visionone_standin import Answer, VisionOneStandIn, posture

ROOT = Path(__file__).resolve().parents[2]
KEY = new_key()
GOOD = "eyJhbGciOiJSUzI1NiJ9.cli-good-token-0123456789"
BAD = "eyJhbGciOiJSUzI1NiJ9.cli-bad-token-0123456789"


async def cli(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run without blocking the loop: the stand-in answers from this same process."""
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "BOT_", "DATABASE_", "VISION_ONE_", "SYNC_"))
    }
    full |= {"PYTHONPATH": str(ROOT)} | env
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=full,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_sync_tries_everyone_reports_and_exits_non_zero_on_failure(
    db: Database, db_url: str, api: VisionOneStandIn, tmp_path: Path
) -> None:
    good, refused = await add(db, customer("Good Co", cri=5), customer("Refused Co", cri=66))
    ops = Operations(db, LocalLedger(), vault=TokenVault(KEY))
    operator = Actor("U0OPS", Role.OPERATOR)
    await ops.connect(operator, good, 1, DataCenter.EU, GOOD)
    await ops.connect(operator, refused, 1, DataCenter.US, BAD)
    api.script(GOOD, Answer.ok(posture(88)))
    api.script(BAD, Answer.error(401, "InvalidCredentials"))
    env = {"DATABASE_URL": db_url, "BOT_SECRET_KEY": KEY, "VISION_ONE_BASE_URL": api.url}

    code, out, err = await cli("sync", env=env, cwd=tmp_path)
    assert code == 1, err
    assert "Synced 1 of 2 customers" in out and "1 failed (1 need a new API token)" in out
    assert "Syncing… 2/2" in err
    assert "Failed: Refused Co: Vision One refused the API token (HTTP 401" in err
    assert GOOD not in out + err and BAD not in out + err and KEY not in out + err

    code, out, err = await cli("sync", "--company", "good", env=env, cwd=tmp_path)
    assert code == 0 and "Synced 1 of 1 customers" in out, err

    code, _, err = await cli("sync", "--company", "nobody", env=env, cwd=tmp_path)
    assert code == 2 and "No customer matches 'nobody'" in err and "Traceback" not in err

    await add(db, customer("Unlinked Co", cri=9))
    code, out, err = await cli("sync", "--company", "unlinked", env=env, cwd=tmp_path)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "Unlinked Co is not connected to Vision One: connect it first" in err


async def test_sync_needs_a_valid_secret_key(db_url: str, tmp_path: Path) -> None:
    code, _, err = await cli("sync", env={"DATABASE_URL": db_url}, cwd=tmp_path)
    assert code == 2 and "BOT_SECRET_KEY: not set" in err and "overview-bot secret-key" in err
    wrong = "my-password-is-not-a-key"
    code, _, err = await cli(
        "sync", env={"DATABASE_URL": db_url, "BOT_SECRET_KEY": wrong}, cwd=tmp_path
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("BOT_SECRET_KEY: is not a key") and wrong not in err


async def test_secret_key_and_help(tmp_path: Path) -> None:
    code, out, _ = await cli("secret-key", env={}, cwd=tmp_path)
    assert code == 0 and TokenVault(out.strip())  # a usable key
    code, out, _ = await cli("sync", "--help", env={}, cwd=tmp_path)
    assert code == 0 and "--company NAME" in out and "exits 1 if any failed" in out


async def test_sync_waits_for_no_one_else_s_run(
    db: Database, db_url: str, api: VisionOneStandIn, tmp_path: Path
) -> None:
    [cid] = await add(db, customer("Good Co", cri=5))
    ops = Operations(db, LocalLedger(), vault=TokenVault(KEY))
    await ops.connect(Actor("U0OPS", Role.OPERATOR), cid, 1, DataCenter.EU, GOOD)
    api.script(GOOD, Answer.ok(posture(88)))
    env = {"DATABASE_URL": db_url, "BOT_SECRET_KEY": KEY, "VISION_ONE_BASE_URL": api.url}
    assert await claim(db, LEASE, "bot-host:4242:abcd", dt.timedelta(minutes=5))  # the bot's

    code, out, err = await cli("sync", env=env, cwd=tmp_path)
    assert code == 2 and out == "" and api.requests == []
    assert "Another Vision One sync is running" in err and "bot-host:4242:abcd" in err
    assert "Traceback" not in err
    code, out, err = await cli("sync", "--company", "good", env=env, cwd=tmp_path)
    assert code == 0 and "Synced 1 of 1 customers" in out, err

    await release(db, LEASE, "bot-host:4242:abcd")
    code, out, err = await cli("sync", env=env, cwd=tmp_path)
    assert code == 0 and "Synced 1 of 1 customers" in out, err
