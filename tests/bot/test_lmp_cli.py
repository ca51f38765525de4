"""`overview-bot lmp sync` as an operator runs it, against the LMP stand-in."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from store.db import Database
from store.enums import Origin
from store.migrate import upgrade
from store.models import Customer
from tests.factories import add, customer
from tests.lmp_standin import SECRET_KEY, TOKEN, LmpStandIn

ROOT = Path(__file__).resolve().parents[2]


async def run(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "BOT_", "DATABASE_", "LMP"))
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=full_env | {"PYTHONPATH": str(ROOT)} | env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_lmp_sync_command(db_url: str, lmp: LmpStandIn, tmp_path: Path) -> None:
    lmp.add_customers(3)
    env = {
        "DATABASE_URL": db_url,
        "LMPI_URL": lmp.url,
        "LMPI_ACCESS_TOKEN": TOKEN,
        "LMPI_SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "DEBUG",
    }
    code, out, err = await run("lmp", "sync", env=env, cwd=tmp_path)
    assert code == 0, err
    assert out.splitlines()[0] == (
        "3 listed by LMP, 3 added, 0 updated, 0 no longer listed (kept, marked)"
    )
    assert "added\tLMP Customer 002" in out
    assert SECRET_KEY not in out + err

    lmp.customers.pop()
    code, out, err = await run("lmp", "sync", env=env, cwd=tmp_path)
    assert code == 0 and "no longer listed by LMP (kept, marked)\tLMP Customer 003" in out
    db = Database(db_url)
    try:
        async with db.session() as s:
            kept = (await s.scalars(select(Customer).order_by(Customer.company))).all()
    finally:
        await db.close()
    assert [(c.company, c.origin) for c in kept] == [
        (f"LMP Customer 00{i}", Origin.LMP) for i in (1, 2, 3)
    ]

    bad = env | {"LMPI_SECRET_KEY": "not-the-key"}
    code, out, err = await run("lmp", "sync", env=bad, cwd=tmp_path)
    assert code == 1
    assert "LMP sync failed, nothing was changed: LMP rejected the request signature" in err
    assert "Traceback" not in err and "not-the-key" not in out + err


async def test_lmp_sync_needs_both_credentials(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    try:
        await upgrade(db)
        await add(db, customer("Kept"))
    finally:
        await db.close()
    env = {"DATABASE_URL": db_url, "LMPI_ACCESS_TOKEN": TOKEN}
    code, _, err = await run("lmp", "sync", env=env, cwd=tmp_path)
    assert code == 2
    assert "LMPI_SECRET_KEY: not set" in err and "Traceback" not in err
    code, out, _ = await run("lmp", "--help", env=env, cwd=tmp_path)
    assert code == 0 and "sync" in out


def test_platform_follows_settings() -> None:
    from bot.lmp import lmp_client, make_platform
    from bot.settings import SettingsError, load_settings
    from store.lmp_platform import LmpPlatform
    from store.platform import LocalLedger

    plain = load_settings(_env_file=None)
    assert plain.lmpi_url == "https://cspi.trendmicro.com"
    assert isinstance(make_platform(lmp_client(plain)), LocalLedger)
    full = load_settings(lmpi_access_token=TOKEN, lmpi_secret_key=SECRET_KEY, _env_file=None)
    assert isinstance(make_platform(lmp_client(full)), LmpPlatform)
    assert SECRET_KEY not in repr(full) + str(full.model_dump())
    half = load_settings(lmpi_secret_key=SECRET_KEY, _env_file=None)
    with pytest.raises(SettingsError) as e:
        lmp_client(half)
    assert e.value.lines == [
        "LMPI_ACCESS_TOKEN: not set — ask your Trend Micro channel account manager "
        "for the LMPI access token."
    ]


async def test_a_key_pasted_with_spaces_still_signs(lmp: LmpStandIn) -> None:
    from bot.lmp import lmp_client
    from bot.settings import load_settings

    pasted = load_settings(
        lmpi_url=lmp.url,
        lmpi_access_token=f" {TOKEN}\t",
        lmpi_secret_key=f"  {SECRET_KEY} \n",
        _env_file=None,
    )
    client = lmp_client(pasted)
    assert client is not None
    try:
        assert await client.request(
            "GET", "/LMPI/v3/customers", {"created_start": "a", "created_end": "b"}
        )
    finally:
        await client.close()
