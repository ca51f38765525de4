"""The sandbox's pretend Slack workspace: its channel, messages, modals and Home tabs.

It answers the bot's Web API calls and response_urls as Slack would, checking every Block
Kit payload with slack_sdk's models, and wakes the browsers waiting for a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from blocks.limits import block_problems, error_code
from store.enums import Role

TEAM = "T0DEMO"
BOT_USER = "U0DEMOBOT"
CHANNEL = "C0DEMOOPS"
CHANNEL_NAME = "customer-ops"
MESSAGE_LIMIT, VIEW_LIMIT = 50, 100


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    role: Role
    tz: str = "Europe/Berlin"


DEMO_USERS = (
    DemoUser("U0DEMOVIEW", "Vera Viewer", Role.VIEWER),
    DemoUser("U0DEMOOPS", "Omar Operator", Role.OPERATOR),
    DemoUser("U0DEMOAPPR", "Ada Approver", Role.APPROVER),
    DemoUser("U0DEMOADMIN", "Alex Admin", Role.ADMIN),
)
USERS = {u.id: u for u in DEMO_USERS}


@dataclass
class Message:
    ts: str
    user: str  # who posted it: the bot or a demo user
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    ephemeral_to: str | None = None  # only this user sees it
    thread_ts: str | None = None
    edited: bool = False

    def public(self) -> dict[str, Any]:
        return {
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "blocks": self.blocks,
            "ephemeral": self.ephemeral_to is not None,
            "thread_ts": self.thread_ts,
            "edited": self.edited,
        }


@dataclass
class Modal:
    id: str
    view: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class ResponseUrl:
    """Where a response_url's answers go: the user it was for, and the message it came from."""

    user: str
    ts: str | None = None
    uses: int = 0


class Workspace:
    def __init__(self, token: str) -> None:
        self.token = token  # the bot token this workspace issued; other callers are refused
        self.messages: list[Message] = []
        self.modals: dict[str, list[Modal]] = {}
        self.homes: dict[str, dict[str, Any]] = {}
        self.notes: dict[str, list[str]] = {}  # per user: what Slack itself would say
        self.problems: list[str] = []
        self.triggers: dict[str, str] = {}  # trigger_id -> user
        self.responses: dict[str, ResponseUrl] = {}
        self.base_url = ""
        self.version = 0
        self.closed = False
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)

    # --- state -------------------------------------------------------------------------------

    async def changed(self) -> None:
        async with self._changed:
            self.version += 1
            self._changed.notify_all()

    async def close(self) -> None:
        """Answer every waiting browser now, so shutting down does not wait for them."""
        self.closed = True
        await self.changed()

    async def wait_past(self, version: int, within: float) -> None:
        async with self._changed:
            with contextlib.suppress(TimeoutError):  # nothing new: the browser asks again
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.closed or self.version > version), within
                )

    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def trigger_for(self, user: str) -> str:
        trigger = self.new_id("trig.")
        self.triggers[trigger] = user
        return trigger

    def response_url(self, user: str, ts: str | None = None) -> str:
        token = self.new_id("r")
        self.responses[token] = ResponseUrl(user, ts)
        return f"{self.base_url}/sandbox/response/{token}"

    def find(self, ts: str) -> Message | None:
        return next((m for m in self.messages if m.ts == ts), None)

    def post(self, user: str, payload: dict[str, Any], **kw: Any) -> Message:
        msg = Message(self.new_ts(), user, str(payload.get("text") or ""), _blocks(payload), **kw)
        self.messages.append(msg)
        return msg

    def note(self, user: str, text: str) -> None:
        self.notes.setdefault(user, []).append(text)

    def state_for(self, user: str) -> dict[str, Any]:
        visible = [m for m in self.messages if m.ephemeral_to in (None, user)]
        return {
            "version": self.version,
            "team": TEAM,
            "bot": BOT_USER,
            "channel": {"id": CHANNEL, "name": CHANNEL_NAME},
            "users": [{"id": u.id, "name": u.name, "role": u.role.value} for u in DEMO_USERS],
            "messages": [m.public() for m in visible],
            "modals": [
                {"id": m.id, "view": m.view, "errors": m.errors} for m in self.modals.get(user, [])
            ],
            "home": self.homes.get(user),
            "notes": self.notes.get(user, [])[-5:],
            "problems": self.problems[-5:],
        }

    # --- the Web API -------------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":
            payload: dict[str, Any] = dict(request.query)
        elif request.content_type == "application/json":
            payload = await request.json()
        else:
            payload = {k: v[0] for k, v in parse_qs(await request.text()).items()}
        token = request.headers.get("Authorization", "")
        if token != f"Bearer {self.token}" and method != "api.test":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        answer = self._answer(method, payload)
        await self.changed()
        return web.json_response(answer)

    def _answer(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            found = block_problems(p, limit=MESSAGE_LIMIT)
            if found:
                return self._refuse(method, found)
        if method.startswith("views."):
            view = _json(p.get("view"))
            found = block_problems(view, limit=VIEW_LIMIT)
            if found:
                return self._refuse(method, found)
            p = {**p, "view": view}
        handler = _METHODS.get(method)
        if handler is not None:
            return handler(self, p)
        return {"ok": True}  # a method the sandbox has no state for (reactions, pins, …)

    def _refuse(self, method: str, problems: list[str]) -> dict[str, Any]:
        self.problems += [f"{method}: {p}" for p in problems]
        return {"ok": False, "error": error_code(problems), "errors": problems}

    def _auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://demo-sandbox.slack.com/",
            "team": "Demo sandbox",
            "team_id": TEAM,
            "user": "customer-overview",
            "user_id": BOT_USER,
            "bot_id": "B0DEMOBOT",
        }

    def _users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        user = USERS.get(str(p.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {
            "ok": True,
            "user": {
                "id": user.id,
                "team_id": TEAM,
                "name": user.name.split()[0].lower(),
                "real_name": user.name,
                "tz": user.tz,
                "tz_offset": 3600,
                "is_bot": False,
                "profile": {"real_name": user.name, "display_name": user.name},
            },
        }

    def _conversation(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel") not in (None, CHANNEL):
            return {"ok": False, "error": "channel_not_found"}
        return {
            "ok": True,
            "channel": {"id": CHANNEL, "name": CHANNEL_NAME, "is_channel": True, "is_member": True},
            "members": [u.id for u in DEMO_USERS] + [BOT_USER],
            "messages": [],
        }

    def _post_message(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel") != CHANNEL:
            return {"ok": False, "error": "channel_not_found"}
        thread = p.get("thread_ts")
        if thread and self.find(str(thread)) is None:
            return {"ok": False, "error": "thread_not_found"}
        msg = self.post(BOT_USER, p, thread_ts=str(thread) if thread else None)
        return {"ok": True, "channel": CHANNEL, "ts": msg.ts, "message": msg.public()}

    def _post_ephemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel") != CHANNEL:
            return {"ok": False, "error": "channel_not_found"}
        if str(p.get("user")) not in USERS:
            return {"ok": False, "error": "user_not_in_channel"}
        msg = self.post(BOT_USER, p, ephemeral_to=str(p["user"]))
        return {"ok": True, "message_ts": msg.ts}

    def _update(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self.find(str(p.get("ts")))
        if msg is None or p.get("channel") != CHANNEL or msg.ephemeral_to is not None:
            return {"ok": False, "error": "message_not_found"}
        msg.text, msg.blocks, msg.edited = str(p.get("text") or ""), _blocks(p), True
        return {"ok": True, "channel": CHANNEL, "ts": msg.ts}

    def _delete(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self.find(str(p.get("ts")))
        if msg is None:
            return {"ok": False, "error": "message_not_found"}
        self.messages.remove(msg)
        return {"ok": True, "channel": CHANNEL, "ts": msg.ts}

    def _views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        user = self.triggers.pop(str(p.get("trigger_id")), None)
        if user is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._push(user, p["view"], replace=True)

    def _views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        user = self.triggers.pop(str(p.get("trigger_id")), None)
        if user is None or not self.modals.get(user):
            return {"ok": False, "error": "invalid_trigger_id"}
        return self._push(user, p["view"], replace=False)

    def _push(self, user: str, view: dict[str, Any], *, replace: bool) -> dict[str, Any]:
        modal = Modal(self.new_id("V"), view)
        stack = [] if replace else self.modals.get(user, [])
        self.modals[user] = [*stack, modal]
        return {"ok": True, "view": {**view, "id": modal.id}}

    def _views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        for stack in self.modals.values():
            for modal in stack:
                if modal.id == p.get("view_id"):
                    modal.view, modal.errors = p["view"], {}
                    return {"ok": True, "view": {**modal.view, "id": modal.id}}
        return {"ok": False, "error": "not_found"}

    def _views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        user = str(p.get("user_id"))
        if user not in USERS:
            return {"ok": False, "error": "user_not_found"}
        self.homes[user] = p["view"]
        return {"ok": True, "view": {**p["view"], "id": f"VHOME{user}"}}

    # --- response_url ------------------------------------------------------------------------

    async def respond(self, request: web.Request) -> web.Response:
        target = self.responses.get(request.match_info["token"])
        if target is None:
            return web.Response(status=404, text="no such response_url")
        target.uses += 1
        if target.uses > 5:  # Slack allows five uses
            return web.Response(status=404, text="used_url")
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        found = block_problems(payload, limit=MESSAGE_LIMIT)
        if found:
            self.problems += [f"response_url: {p}" for p in found]
            return web.Response(status=400, text=error_code(found))
        self.apply_response(target, payload)
        await self.changed()
        return web.Response(text="ok")

    def apply_response(self, target: ResponseUrl, payload: dict[str, Any]) -> None:
        """A reply to a command or click: replace, delete, or a new message."""
        source = self.find(target.ts) if target.ts else None
        in_channel = payload.get("response_type") == "in_channel"
        if payload.get("delete_original") and source is not None:
            self.messages.remove(source)
        elif payload.get("replace_original") and source is not None:
            source.text, source.blocks, source.edited = (
                str(payload.get("text") or ""),
                _blocks(payload),
                True,
            )
            if in_channel:
                source.ephemeral_to = None
        else:
            msg = self.post(BOT_USER, payload, ephemeral_to=None if in_channel else target.user)
            if target.ts is None:
                target.ts = msg.ts  # the next reply to this command replaces this one


_METHODS = {
    "auth.test": Workspace._auth_test,
    "users.info": Workspace._users_info,
    "conversations.info": Workspace._conversation,
    "conversations.join": Workspace._conversation,
    "conversations.members": Workspace._conversation,
    "chat.postMessage": Workspace._post_message,
    "chat.postEphemeral": Workspace._post_ephemeral,
    "chat.update": Workspace._update,
    "chat.delete": Workspace._delete,
    "views.open": Workspace._views_open,
    "views.push": Workspace._views_push,
    "views.update": Workspace._views_update,
    "views.publish": Workspace._views_publish,
}


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = payload.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)
