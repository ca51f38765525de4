"""Between the browser and the bot: what a person does becomes a request signed as Slack signs it.

The browser says "Omar typed /customers show acme" or "Ada clicked Approve"; this module
builds the exact payload Slack would send, signs it, POSTs it to the bot's /slack/events and
applies the bot's HTTP answer (a command reply, a modal's errors) as Slack would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from bot.sandbox.workspace import CHANNEL, CHANNEL_NAME, TEAM, USERS, Modal, ResponseUrl, Workspace

COMMAND = "/customers"
APP_ID = "A0DEMOAPP"
TIMEOUT = aiohttp.ClientTimeout(total=3)  # Slack gives up on an app after 3 seconds


def sign(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    ts = str(int(time.time() if now is None else now))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class Bridge:
    def __init__(self, workspace: Workspace, secret: str) -> None:
        self.ws = workspace
        self.secret = secret
        self.bot_url = ""  # set once the bot listens
        self.http: aiohttp.ClientSession | None = None

    async def _send(self, body: bytes, content_type: str) -> tuple[int, str]:
        assert self.http is not None and self.bot_url
        headers = {"Content-Type": content_type, **sign(self.secret, body)}
        try:
            async with self.http.post(
                f"{self.bot_url}/slack/events", data=body, headers=headers, timeout=TIMEOUT
            ) as r:
                return r.status, await r.text()
        except (aiohttp.ClientError, TimeoutError):
            return 0, ""  # Slack too just says the app did not respond

    async def _interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._send(body, "application/x-www-form-urlencoded")

    def _user(self, user: str) -> dict[str, Any]:
        u = USERS[user]
        return {"id": u.id, "username": u.name.split()[0].lower(), "name": u.name, "team_id": TEAM}

    def _failed(self, user: str, status: int) -> None:
        # What Slack shows when an app does not answer properly.
        why = f"HTTP {status}" if status else "no answer within 3 seconds"
        self.ws.note(user, f"The app did not respond ({why}).")

    # --- what a person does --------------------------------------------------------------------

    async def command(self, user: str, text: str) -> None:
        target = ResponseUrl(user)
        token = self.ws.new_id("r")
        self.ws.responses[token] = target
        form = {
            "token": "sandbox",
            "team_id": TEAM,
            "team_domain": "demo-sandbox",
            "channel_id": CHANNEL,
            "channel_name": CHANNEL_NAME,
            "user_id": user,
            "user_name": self._user(user)["username"],
            "command": COMMAND,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"{self.ws.base_url}/sandbox/response/{token}",
            "trigger_id": self.ws.trigger_for(user),
        }
        status, answer = await self._send(
            urlencode(form).encode(), "application/x-www-form-urlencoded"
        )
        if status != 200:
            self._failed(user, status)
        elif answer.strip().startswith("{"):
            reply = json.loads(answer)
            if reply.get("response_type") == "in_channel":  # Slack shows the command too
                self.ws.post(user, {"text": f"{COMMAND} {text}".strip()})
            if reply.get("text") or reply.get("blocks"):
                self.ws.apply_response(target, reply)
        elif answer.strip():
            self.ws.apply_response(target, {"text": answer})
        await self.ws.changed()

    async def click(self, user: str, where: dict[str, Any], action: dict[str, Any]) -> None:
        """A button, overflow or select in a message, a modal or the Home tab."""
        action = {**action, "action_ts": f"{time.time():.6f}"}
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": "sandbox",
            "team": {"id": TEAM, "domain": "demo-sandbox"},
            "trigger_id": self.ws.trigger_for(user),
            "actions": [action],
        }
        kind = where.get("kind")
        if kind == "message":
            msg = self.ws.find(str(where.get("ts")))
            if msg is None:
                return
            payload["container"] = {
                "type": "message",
                "message_ts": msg.ts,
                "channel_id": CHANNEL,
                "is_ephemeral": msg.ephemeral_to is not None,
            }
            payload["channel"] = {"id": CHANNEL, "name": CHANNEL_NAME}
            if msg.ephemeral_to is None:
                payload["message"] = {"ts": msg.ts, "text": msg.text, "blocks": msg.blocks}
            payload["response_url"] = self.ws.response_url(user, msg.ts)
        elif kind == "home":
            view = self.ws.homes.get(user) or {}
            home_id = f"VHOME{user}"
            payload["container"] = {"type": "view", "view_id": home_id}
            payload["view"] = {**view, "id": home_id, "type": "home", "team_id": TEAM}
        else:
            modal = self._modal(user, str(where.get("view_id")))
            if modal is None:
                return
            payload["container"] = {"type": "view", "view_id": modal["id"]}
            payload["view"] = modal
        status, _ = await self._interaction(payload)
        if status != 200:
            self._failed(user, status)
        await self.ws.changed()

    def _modal(
        self, user: str, view_id: str, values: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        for m in self.ws.modals.get(user, []):
            if m.id == view_id:
                return {
                    **m.view,
                    "id": m.id,
                    "team_id": TEAM,
                    "state": {"values": values or {}},
                    "hash": uuid.uuid4().hex,
                }
        return None

    async def submit(self, user: str, view_id: str, values: dict[str, Any]) -> None:
        view = self._modal(user, view_id, values)
        if view is None:
            return
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "demo-sandbox"},
            "user": self._user(user),
            "api_app_id": APP_ID,
            "token": "sandbox",
            "trigger_id": self.ws.trigger_for(user),
            "view": view,
            "response_urls": [],
        }
        status, answer = await self._interaction(payload)
        stack = self.ws.modals.get(user, [])
        reply = json.loads(answer) if status == 200 and answer.strip().startswith("{") else {}
        top = next((m for m in stack if m.id == view_id), None)
        action = reply.get("response_action")
        if status != 200:
            self._failed(user, status)
        elif action == "errors" and top is not None:
            top.errors = reply.get("errors") or {}
        elif action == "update" and top is not None:
            top.view, top.errors = reply.get("view") or top.view, {}
        elif action == "push":
            self.ws.modals[user] = [*stack, Modal(self.ws.new_id("V"), reply.get("view") or {})]
        elif action == "clear":
            self.ws.modals[user] = []
        elif top is not None:
            stack.remove(top)
        await self.ws.changed()

    async def close(self, user: str, view_id: str) -> None:
        view = self._modal(user, view_id)
        stack = self.ws.modals.get(user, [])
        self.ws.modals[user] = [m for m in stack if m.id != view_id]
        await self.ws.changed()
        if view is not None and view.get("notify_on_close"):
            payload = {
                "type": "view_closed",
                "team": {"id": TEAM, "domain": "demo-sandbox"},
                "user": self._user(user),
                "api_app_id": APP_ID,
                "token": "sandbox",
                "view": view,
                "is_cleared": False,
            }
            status, _ = await self._interaction(payload)
            if status != 200:
                self._failed(user, status)
                await self.ws.changed()

    async def open_home(self, user: str) -> None:
        envelope = {
            "token": "sandbox",
            "team_id": TEAM,
            "api_app_id": APP_ID,
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": f"D0{user[2:]}",
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "U0DEMOBOT", "is_bot": True}],
        }
        status, _ = await self._send(json.dumps(envelope).encode(), "application/json")
        if status != 200:
            self._failed(user, status)

    # --- the browser's endpoints ---------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        try:
            data = await request.json()
        except ValueError:
            return web.json_response({"ok": False, "error": "not JSON"}, status=400)
        user = data.get("user") if isinstance(data, dict) else None
        if user not in USERS:
            return web.json_response({"ok": False, "error": "unknown demo user"}, status=400)
        what = request.match_info["what"]
        if what == "command":
            text = str(data.get("text", "")).strip()
            if text.startswith(COMMAND):
                text = text[len(COMMAND) :].strip()
            await self.command(user, text)
        elif what == "click":
            await self.click(user, dict(data.get("where") or {}), dict(data.get("action") or {}))
        elif what == "submit":
            await self.submit(user, str(data.get("view_id")), dict(data.get("values") or {}))
        elif what == "close":
            await self.close(user, str(data.get("view_id")))
        elif what == "home":
            await self.open_home(user)
        else:
            return web.json_response({"ok": False, "error": "unknown request"}, status=404)
        return web.json_response({"ok": True, "version": self.ws.version})

    async def state(self, request: web.Request) -> web.Response:
        user = request.query.get("user", "")
        if user not in USERS:
            return web.json_response({"ok": False, "error": "unknown demo user"}, status=400)
        since = request.query.get("since", "")
        if since.isdigit():  # long poll: answer when something changed, or after a while
            await self.ws.wait_past(int(since), within=20)
        return web.json_response(self.ws.state_for(user))
