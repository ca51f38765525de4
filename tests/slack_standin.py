"""A local stand-in for Slack's Web API and response_urls.

It records every call and checks every Block Kit payload with slack_sdk's models, answering
`invalid_blocks` or `msg_blocks_too_long` as Slack would (blocks/limits.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from blocks.limits import block_problems, error_code

MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"}
VIEW_METHODS = {"views.open", "views.update", "views.push", "views.publish"}
TEAM = "T0HOME"
BOT_USER = "U0BOT"


@dataclass
class Call:
    method: str
    payload: dict[str, Any]
    path: str = ""


@dataclass
class SlackStandIn:
    calls: list[Call] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # Per-method answers; a callable gets the payload and returns the JSON answer, or a
    # whole aiohttp Response (a 429 with Retry-After, say).
    answers: dict[str, Callable[[dict[str, Any]], dict[str, Any] | web.Response]] = field(
        default_factory=dict
    )
    base_url: str = ""
    # Socket Mode: what the bot sent back over the websocket, and the open socket.
    socket_replies: list[dict[str, Any]] = field(default_factory=list)
    _socket: web.WebSocketResponse | None = None
    _ts: int = 100
    _runner: web.AppRunner | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[Call]:
        async def until() -> None:
            while len(self.of(method)) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), within)
        return self.of(method)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.set()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":
            payload = dict(request.query)
        elif request.content_type == "application/json":
            payload = await request.json()
        else:
            payload = {k: v[0] for k, v in parse_qs(await request.text()).items()}
        self._record(Call(method, payload))
        limit = 50 if method in MESSAGE_METHODS else 100 if method in VIEW_METHODS else None
        if limit is not None:
            view = payload.get("view", payload)
            if isinstance(view, str):
                view = json.loads(view)
            found = block_problems(view, limit=limit)
            if found:
                self.problems += [f"{method}: {p}" for p in found]
                return web.json_response({"ok": False, "error": error_code(found)})
        if method in self.answers:
            answer = self.answers[method](payload)
            return answer if isinstance(answer, web.Response) else web.json_response(answer)
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"{self.ws_url}/link"})
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "team_id": TEAM,
                    "team": "Home",
                    "user_id": BOT_USER,
                    "bot_id": "B0BOT",
                    "user": "overview",
                    "url": "https://home.slack.com/",
                }
            )
        if method == "chat.postMessage":
            self._ts += 1  # each message its own ts, as Slack's are
            channel = payload.get("channel", "C0CHAN")
            return web.json_response(
                {"ok": True, "ts": f"1700000000.{self._ts:06d}", "channel": channel}
            )
        return web.json_response({"ok": True, "ts": "1700000000.000100", "channel": "C0CHAN"})

    async def _response(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self._record(Call("response_url", payload, request.path))
        found = block_problems(payload, limit=50)
        if found:
            self.problems += [f"response_url: {p}" for p in found]
            return web.Response(status=400, text=error_code(found))
        return web.Response(text="ok")

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://")

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0APP"}}
        )
        self._socket = ws
        self._changed.set()
        async for msg in ws:
            self.socket_replies.append(json.loads(msg.data))
            self._changed.set()
        return ws

    async def socket_send(self, envelope: dict[str, Any], within: float = 10.0) -> dict[str, Any]:
        """Deliver one Socket Mode envelope and wait for the bot's acknowledgement of it."""

        async def reply() -> dict[str, Any]:
            while self._socket is None:
                self._changed.clear()
                await self._changed.wait()
            await self._socket.send_json(envelope)
            while True:
                for r in self.socket_replies:
                    if r.get("envelope_id") == envelope["envelope_id"]:
                        return r
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(reply(), within)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
