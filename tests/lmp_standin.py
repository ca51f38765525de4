"""A local stand-in for Trend's LMPI: checks every request as LMP would, and answers.

It verifies signatures with its own implementation of Trend's algorithm (not the bot's),
rejects a stale x-posix-time, pages customer lists, and can be told to answer with errors
(JSON or text/html), 429s and 500s, or to be slow.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "5b0d6f5e-1111-4222-8333-444455556666"
SECRET_KEY = "lmp-standin-secret-9f1c"
DATA_CENTERS = {"US", "EU", "SG", "JP", "AU", "IN", "MEA", "CA", "UK"}


def expected_signature(secret: str, request_time: str, method: str, uri: str, body: bytes) -> str:
    parts = [request_time, method.upper(), uri]
    if body:
        parts.append(base64.b64encode(hashlib.md5(body).digest()).decode())
    mac = hmac.new(secret.encode("utf-8"), "".join(parts).encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class Seen:
    method: str
    uri: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    status: int
    body: str
    content_type: str = "application/json"
    path_contains: str = ""
    retry_after: str | None = None
    after: bool = False  # do the work first, then fail: "activated, then answered 500"
    delay: float = 0.0  # seconds before failing (past the client's timeout: no answer)
    method: str = ""  # only requests of this method (all when empty)


@dataclass
class LmpStandIn:
    token: str = TOKEN
    secret: str = SECRET_KEY
    customers: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering a subscription request
    create_delay: float = 0.0  # seconds before answering a customer creation
    list_delay: float = 0.0  # seconds before answering a page of customers
    seen: list[Seen] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def start(self) -> None:
        app = web.Application(middlewares=[self._check])
        app.router.add_get("/LMPI/v3/customers", self._list)
        app.router.add_post("/LMPI/v3/customers", self._create)
        app.router.add_post(
            "/LMPI/v3/customers/{cid}/trend-vision-one-subscription", self._vision_one
        )
        app.router.add_get("/LMPI/v2.5/customers/subscriptions", self._subscriptions)
        app.router.add_get("/LMPI/v3/customers/{cid}/subscriptions/{sid}", self._subscription)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        await self._runner.cleanup()

    def add_customers(self, n: int, prefix: str = "LMP Customer") -> None:
        for i in range(1, n + 1):
            self.customers.append(
                {"customer_id": str(uuid.uuid4()), "name": f"{prefix} {i:03d}", "country": "DE"}
            )

    def calls(self, method: str, contains: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and contains in s.uri]

    @staticmethod
    def error(status: int, subject: str, message: str) -> web.Response:
        return web.json_response(
            {"error_subject": subject, "error_message": message}, status=status
        )

    @web.middleware
    async def _check(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        uri = request.raw_path  # path and query exactly as sent
        h = request.headers
        self.seen.append(Seen(request.method, uri, {k.lower(): v for k, v in h.items()}, body))
        for name in ("x-access-token", "x-posix-time", "x-signature", "x-traceid"):
            if not h.get(name):
                return self.error(400, "MissingHeader", f"{name} is required")
        if h.get("content-type", "").split(";")[0] != "application/json":
            return self.error(415, "UnsupportedMediaType", "content-type must be JSON")
        try:
            uuid.UUID(h["x-traceid"])
        except ValueError:
            self.problems.append(f"x-traceid {h['x-traceid']!r} is not a GUID")
        if h["x-access-token"] != self.token:
            return self.error(401, "AuthenticationFailureAccessToken", "unknown access token")
        if not h["x-posix-time"].isdigit() or abs(int(h["x-posix-time"]) - time.time()) > 900:
            return self.error(401, "AuthenticationFailurePosixTime", "request time is off")
        want = expected_signature(self.secret, h["x-posix-time"], request.method, uri, body)
        if not hmac.compare_digest(want, h["x-signature"]):
            return self.error(401, "AuthenticationFailureSignature", "signature mismatch")
        for fault in list(self.faults):
            if fault.path_contains in uri and fault.method in ("", request.method):
                self.faults.remove(fault)
                if fault.after:
                    await handler(request)
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
                return web.Response(
                    status=fault.status,
                    text=fault.body,
                    content_type=fault.content_type,
                    headers=headers,
                )
        response: web.StreamResponse = await handler(request)
        return response

    async def _list(self, request: web.Request) -> web.Response:
        q = request.query
        if not (q.get("created_start") and q.get("created_end")):
            return self.error(400, "InvalidParametersDate", "created_start and created_end")
        page, limit = int(q.get("page", "1")), int(q.get("limit", "25"))
        if self.list_delay:
            await asyncio.sleep(self.list_delay)
        if not 1 <= limit <= 100:
            return self.error(400, "InvalidParametersLimit", "limit must be 1-100")
        rows = self.customers[(page - 1) * limit : page * limit]
        return web.json_response(
            {
                "paging": {"total": len(self.customers), "limit": limit, "page": page},
                "customers": rows,
            }
        )

    async def _create(self, request: web.Request) -> web.Response:
        data = json.loads(await request.read())
        if self.create_delay:
            await asyncio.sleep(self.create_delay)
        company = data.get("company") or {}
        if not company.get("name"):
            return self.error(400, "InvalidParametersCompany", "company.name is required")
        row = {"customer_id": str(uuid.uuid4()), "name": company["name"], "created": _now()}
        self.customers.append(row)
        return web.json_response(row, status=201)

    async def _vision_one(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        data = json.loads(await request.read())
        if self.delay:
            await asyncio.sleep(self.delay)
        if not any(c["customer_id"] == cid for c in self.customers):
            return self.error(404, "CustomerNotFound", f"customer {cid} does not exist")
        if data.get("version") not in ("Trial", "Full"):
            return self.error(400, "InvalidParametersVersion", "version must be Trial or Full")
        if data.get("data_center") not in DATA_CENTERS:
            return self.error(400, "InvalidParametersDataCenter", "unknown data center")
        days = 60 if data["version"] == "Trial" else 365
        sub = {
            "subscription_id": str(uuid.uuid4()),
            "product_name": "Trend Vision One",
            "service_url": f"https://portal.{data['data_center'].lower()}.xdr.example/{cid}",
            "licenses": [
                {
                    "product_id": "V1",
                    "version": data["version"],
                    "license_start_date": "2026-12-04T00:00:00Z",
                    "license_expiration_date": "2027-12-04T00:00:00Z"
                    if days == 365
                    else "2027-02-02T00:00:00Z",
                }
            ],
        }
        self.subscriptions.append({"customer_id": cid, **data, **sub, "created": _now()})
        return web.json_response(sub)

    async def _subscriptions(self, request: web.Request) -> web.Response:
        q = request.query
        start, end = q.get("created_start"), q.get("created_end")
        if not (start and end):
            return self.error(400, "InvalidParametersDate", "created_start and created_end")
        rows = [
            {
                "subscription_id": s["subscription_id"],
                "name": s["product_name"],
                "enabled": True,
                "customer_id": s["customer_id"],
            }
            for s in self.subscriptions
            if start <= s["created"] <= end
        ]
        page, limit = int(q.get("page", "1")), int(q.get("limit", "25"))
        return web.json_response(
            {
                "paging": {"total": len(rows), "limit": limit, "page": page},
                "subscriptions": rows[(page - 1) * limit : page * limit],
            }
        )

    async def _subscription(self, request: web.Request) -> web.Response:
        cid, sid = request.match_info["cid"], request.match_info["sid"]
        for s in self.subscriptions:
            if (s["customer_id"], s["subscription_id"]) == (cid, sid):
                return web.json_response({"licenses": s["licenses"]})
        return self.error(404, "SubscriptionNotFound", f"subscription {sid} does not exist")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
