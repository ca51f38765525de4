"""HTTP mode: aiohttp in front of Bolt, guarding what Bolt would answer with a 5xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.shape import Malformed, check_shape
from store.db import Database

log = logging.getLogger("overview.http")
EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024
MAX_AGE = 5 * 60  # seconds; older requests may be replays


class RecentDeliveries:
    """Keys of recently handled requests, so a Slack retry is not run a second time."""

    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def seen_before(self, key: str) -> bool:
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        self._seen[key] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return False


def delivery_key(body: bytes) -> str:
    try:
        event_id = json.loads(body).get("event_id")
        if isinstance(event_id, str):
            return event_id
    except (ValueError, AttributeError):
        pass
    return hashlib.sha256(body).hexdigest()


def signed(secret: bytes, body: bytes, headers: Mapping[str, str], now: float) -> bool:
    """Slack's v0 signature over the raw bytes, at most 5 minutes old.

    Done here rather than by slack_sdk's SignatureVerifier, which raises (a 500) on a
    non-numeric timestamp or a body that is not UTF-8.
    """
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_AGE:
        return False
    expected = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    given = headers.get("X-Slack-Signature", "")
    return hmac.compare_digest("v0=" + expected.hexdigest(), given)


def build_web_app(app: AsyncApp, db: Database, signing_secret: str) -> web.Application:
    secret = signing_secret.encode()
    deliveries = RecentDeliveries()

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        headers = request.headers
        if not signed(secret, body, headers, time.time()):
            return web.Response(status=401, text="invalid signature or stale timestamp")
        try:
            check_shape(body, headers.get("Content-Type", ""))
        except Malformed as e:
            return web.Response(status=400, text=f"malformed request: {e}")
        first = not deliveries.seen_before(delivery_key(body))
        if not first and "X-Slack-Retry-Num" in headers:
            return web.Response(status=200, headers={"X-Slack-No-Retry": "1"})
        try:
            bolt_req = AsyncBoltRequest(
                body=body.decode("utf-8"),
                query=request.query_string,
                headers={k.lower(): [v] for k, v in headers.items()},
            )
        except Exception as e:  # a shape check_shape does not know yet
            log.warning("Bolt could not parse a signed request: %r", e)
            return web.Response(status=400, text="malformed request")
        try:
            resp = await app.async_dispatch(bolt_req)
        except Exception:
            reference = uuid.uuid4().hex[:10]
            log.exception("dispatch failed ref=%s", reference)
            return web.json_response(
                {
                    "response_type": "ephemeral",
                    "text": f"Sorry — something went wrong (ref {reference}).",
                }
            )
        status = resp.status
        if status >= 500:
            log.error("Bolt answered %s; sending 200 so Slack does not retry", status)
            status = 200
        out = web.Response(status=status, body=resp.body.encode("utf-8") if resp.body else b"")
        for name, values in resp.headers.items():
            for value in values:
                out.headers.add(name, value)
        return out

    async def healthz(_: web.Request) -> web.Response:
        try:
            await db.ping()
        except Exception as e:
            return web.json_response({"ok": False, "error": type(e).__name__}, status=503)
        return web.json_response({"ok": True})

    web_app = web.Application(client_max_size=MAX_BODY)
    web_app.router.add_post(EVENTS_PATH, events)
    web_app.router.add_get("/healthz", healthz)
    return web_app
