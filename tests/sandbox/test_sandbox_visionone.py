"""The sandbox's Vision One: its own BOT_SECRET_KEY, and a demo API the bot syncs from over HTTP."""

from __future__ import annotations

import datetime as dt
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from blocks.text import cri
from bot.run import StartupError
from bot.sandbox.run import Sandbox, key_beside, start_sandbox
from bot.sandbox.visionone import PATH, posture_for
from bot.settings import load_settings
from store.enums import ConnectionState, Level, SnapshotSource
from store.models import Customer, RiskSnapshot, VisionOneConnection
from store.secrets import check_key, new_key

OPERATOR, VIEWER = "U0DEMOOPS", "U0DEMOVIEW"
TOKEN = "demo-token-acme-0123456789"
ROOT = Path(__file__).resolve().parents[2]


async def connect(sandbox: Sandbox, company: str, token: str, region: str = "eu") -> None:
    """What the page does: the command, then the modal submitted with a region and a token."""
    await sandbox.bridge.command(OPERATOR, f"connect {company}")
    (modal,) = sandbox.workspace.modals[OPERATOR]
    assert modal.view["callback_id"] == "modal_connect"
    values: dict[str, Any] = {
        "data_center": {
            "value": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": region},
                    "value": region,
                },
            }
        },
        "api_token": {"value": {"type": "plain_text_input", "value": token}},
    }
    await sandbox.bridge.submit(OPERATOR, modal.id, values)
    await sandbox.deps.drain()  # the first sync runs after the ack


def seen(sandbox: Sandbox, user: str = OPERATOR) -> str:
    return str(sandbox.workspace.state_for(user)["messages"])


async def rows(sandbox: Sandbox, company: str) -> tuple[VisionOneConnection, list[RiskSnapshot]]:
    async with sandbox.db.session() as s:
        c = await s.scalar(select(Customer).where(Customer.company == company))
        assert c is not None
        conn = await s.get(VisionOneConnection, c.id)
        snaps = (
            await s.scalars(
                select(RiskSnapshot)
                .where(
                    RiskSnapshot.customer_id == c.id,
                    RiskSnapshot.source == SnapshotSource.VISION_ONE,
                )
                .order_by(RiskSnapshot.id)
            )
        ).all()
    assert conn is not None
    return conn, list(snaps)


async def test_connect_syncs_from_the_demo_api_over_http(sandbox: Sandbox) -> None:
    assert sandbox.deps.syncer is not None  # the sandbox made its own BOT_SECRET_KEY
    assert sandbox.deps.syncer.base_url == sandbox.vision_one_url
    assert sandbox.vision_one_url.startswith("http://127.0.0.1:")

    await connect(sandbox, "acme dental", TOKEN)
    conn, snaps = await rows(sandbox, "Demo · Acme Dental")
    assert conn.state is ConnectionState.OK and TOKEN not in conn.sealed_token
    expected = posture_for(TOKEN, dt.datetime.now(dt.UTC))
    (snap,) = snaps
    assert snap.cri == expected["riskIndex"]
    levels = expected["riskCategoryLevel"]
    assert (snap.exposure, snap.attack, snap.security_configuration) == (
        Level(levels["exposure"]),
        Level(levels["attack"]),
        Level(levels["securityConfiguration"]),
    )
    assert snap.taken_at.isoformat().replace("+00:00", "Z") == expected["createdDateTime"]
    assert snap.events and snap.events[0]["factor"] == expected["highImpactRiskEvents"][0]["factor"]

    card = seen(sandbox)
    assert "Connected Demo · Acme Dental's Vision One; its latest figures are in" in card
    assert "Figures from Vision One · updated" in card and "Top risk events" in card
    assert f"*Cyber Risk Index*\\n{cri(expected['riskIndex'])}" in card
    assert TOKEN not in card

    await sandbox.bridge.command(VIEWER, "risk acme dental")
    assert "Figures from Vision One · updated" in seen(sandbox, VIEWER)

    report = await sandbox.deps.syncer.run()  # the same 4-hour window: nothing stored twice
    assert report.ok == 1
    assert len((await rows(sandbox, "Demo · Acme Dental"))[1]) == 1


async def test_a_revoked_token_shows_the_needs_a_new_token_path(sandbox: Sandbox) -> None:
    await connect(sandbox, "acme dental", "revoked-demo-token-0123456789")
    conn, snaps = await rows(sandbox, "Demo · Acme Dental")
    assert conn.state is ConnectionState.NEEDS_TOKEN and snaps == []
    card = seen(sandbox)
    assert "the first sync failed: Vision One refused the API token (HTTP 401" in card
    assert "Vision One needs a new API token" in card


async def test_the_demo_api_answers_as_vision_one_does(sandbox: Sandbox) -> None:
    url = sandbox.vision_one_url + PATH
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as r:
            assert r.status == 401 and "error" in await r.json()
        async with http.get(url, headers={"Authorization": "Bearer bad"}) as r:
            assert r.status == 401 and (await r.json())["error"]["code"] == "InvalidToken"
        async with http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            assert r.status == 200
            body = await r.json()
    now = dt.datetime.now(dt.UTC)
    assert body == posture_for(TOKEN, now)
    created = dt.datetime.fromisoformat(body["createdDateTime"])
    assert now - dt.timedelta(hours=4) < created <= now
    assert 0 <= body["riskIndex"] <= 100
    for e in body["highImpactRiskEvents"]:
        assert set(e) == {"factor", "eventCount", "affectedAssetCount"}
    others = {posture_for(f"{TOKEN}-{i}", now)["riskIndex"] for i in range(12)}
    assert len(others) > 3  # figures follow from the token


async def test_a_kept_database_keeps_its_tokens_readable(db_url: str, tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, default_role="viewer")
    key = key_beside(tmp_path / "sandbox.db")
    first = await start_sandbox(settings, port=0, database_url=db_url, secret_key=key)
    try:
        await connect(first, "acme dental", TOKEN)
    finally:
        await first.stop()
    again = await start_sandbox(settings, port=0, database_url=db_url, secret_key=key)
    try:
        assert again.deps.syncer is not None
        report = await again.deps.syncer.run()
        assert (report.total, report.ok) == (1, 1)
    finally:
        await again.stop()


def test_the_key_is_kept_beside_the_database_readable_only_by_its_owner(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    key = key_beside(db)
    path = tmp_path / "sandbox.db.key"
    assert check_key(key) == key and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_beside(db) == key  # the next run reads it back
    assert key != new_key()

    path.write_text("garbage-in-the-file")
    with pytest.raises(StartupError) as bad:
        key_beside(db)
    assert "sandbox.db.key cannot be used" in str(bad.value)
    assert "garbage" not in str(bad.value)


def test_sandbox_database_option_keeps_a_key_file_beside_it(tmp_path: Path) -> None:
    """`overview-bot sandbox --database FILE` twice: the key is made once and kept, 0600."""
    database = tmp_path / "kept.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "BOT_"))}
    env |= {"PYTHONPATH": str(ROOT)}
    keys = []
    for _ in range(2):
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "sandbox", "--port", "0", "--database", database],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            assert "Sandbox ready" in proc.stdout.readline(), proc.stderr
        finally:
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=20) == 0
        key_file = tmp_path / "kept.db.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        keys.append(key_file.read_text())
    assert keys[0] == keys[1] and check_key(keys[0])
