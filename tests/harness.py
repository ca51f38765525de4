"""Drive the bot the way Slack does: signed HTTP requests to the real aiohttp server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_bolt.async_app import AsyncApp

from blocks.limits import block_problems
from bot.settings import Settings, load_settings
from handlers.deps import Deps
from store.db import Database
from tests.slack_standin import TEAM, SlackStandIn

SECRET = "test-signing-secret"
ADMIN = "U0ADMIN"
VIEWER = "U0VIEWER"
OPS = "U0OPS"  # granted operator by the `team` fixture
APPROVER = "U0APPR"  # granted approver by the `team` fixture


def sign(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:".encode() + body
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


@dataclass
class Reply:
    status: int
    text: str
    headers: dict[str, str]

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.text) if self.text else {}

    @property
    def all_text(self) -> str:
        """Everything a person would read: fallback text plus every text in the blocks."""
        data = self.json
        return message_text(data)


def message_text(data: dict[str, Any]) -> str:
    parts = [str(data.get("text", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for v in node.values():
                if isinstance(v, dict | list):
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data.get("blocks", []))
    return "\n".join(parts)


@dataclass
class BotHarness:
    url: str
    db: Database
    deps: Deps
    slack: SlackStandIn
    http: aiohttp.ClientSession
    app: AsyncApp

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        signed: bool = True,
    ) -> Reply:
        h = {"Content-Type": content_type, **(sign(body) if signed else {}), **(headers or {})}
        async with self.http.post(f"{self.url}/slack/events", data=body, headers=h) as r:
            return Reply(r.status, await r.text(), dict(r.headers))

    async def command(
        self,
        text: str,
        *,
        user: str = VIEWER,
        team: str = TEAM,
        response_url: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        form = {
            "token": "unused",
            "team_id": team,
            "team_domain": "home",
            "channel_id": "C0CHAN",
            "channel_name": "ops",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/customers",
            "text": text,
            "api_app_id": "A0APP",
            "response_url": response_url or self.slack.response_url("cmd"),
            "trigger_id": f"trig.{time.monotonic_ns()}",
        }
        reply = await self.post(
            urlencode(form).encode(), "application/x-www-form-urlencoded", headers=headers
        )
        if reply.status == 200 and reply.text.startswith("{"):
            problems = block_problems(reply.json, limit=50)
            assert not problems, problems
        return reply

    async def click(
        self,
        action_id: str,
        value: str | None,
        *,
        user: str = VIEWER,
        team: str = TEAM,
        block_id: str = "b1",
        response_url: str | None = None,
        url: str | None = None,
    ) -> Reply:
        action: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": "x"},
            "action_ts": "1700000000.1",
        }
        if value is not None:
            action["value"] = value
        if url is not None:
            action["url"] = url
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "api_app_id": "A0APP",
            "token": "unused",
            "container": {
                "type": "message",
                "message_ts": "1700000000.000100",
                "channel_id": "C0CHAN",
                "is_ephemeral": True,
            },
            "trigger_id": f"trig.{time.monotonic_ns()}",
            "team": {"id": team, "domain": "home"},
            "channel": {"id": "C0CHAN", "name": "ops"},
            "response_url": response_url or self.slack.response_url("act"),
            "actions": [action],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded")


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for block in message.get("blocks", []):
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            if el.get("type") == "button":
                found.append(el)
    return found


async def submit(
    bot: BotHarness,
    view: dict[str, Any],
    values: dict[str, str | None],
    *,
    user: str = VIEWER,
    team: str = TEAM,
) -> Reply:
    """Submit a modal the bot opened, as Slack does: its state values keyed by block id."""
    state: dict[str, Any] = {}
    blocks = {b.get("block_id"): b for b in view.get("blocks", [])}
    for block_id, value in values.items():
        element = blocks.get(block_id, {}).get("element", {})
        if element.get("type") == "static_select":
            chosen = (
                None
                if value is None
                else {"value": value, "text": {"type": "plain_text", "text": value}}
            )
            state[block_id] = {"value": {"type": "static_select", "selected_option": chosen}}
        else:
            state[block_id] = {"value": {"type": "plain_text_input", "value": value}}
    payload = {
        "type": "view_submission",
        "team": {"id": team, "domain": "home"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A0APP",
        "token": "unused",
        "trigger_id": f"trig.{time.monotonic_ns()}",
        "view": {
            "id": "V0MODAL",
            "type": "modal",
            "team_id": team,
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "state": {"values": state},
            "hash": "h",
            "title": view.get("title"),
            "blocks": view.get("blocks", []),
        },
        "response_urls": [],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return await bot.post(body, "application/x-www-form-urlencoded")


def opened_view(call_payload: dict[str, Any]) -> dict[str, Any]:
    view = call_payload["view"]
    return json.loads(view) if isinstance(view, str) else view


def bot_settings_for(db_url: str, slack_api_url: str, **more: object) -> Settings:
    """The bot's settings in tests: the stand-in Slack, the test database, and `more`."""
    return load_settings(
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack_api_url,
        database_url=db_url,
        bot_admins=ADMIN,
        default_role="viewer",
        _env_file=None,
        **more,
    )
