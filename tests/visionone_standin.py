"""A local stand-in for the Vision One public API (domain.md section 3).

`GET /v3.0/asrm/securityPosture` with `Authorization: Bearer <token>`: each token has a
script of answers (the last one repeats), so a test can serve the documented fields and
every fault: 401/403, 429 with or without Retry-After, 5xx, slow answers, odd bodies.
Unknown tokens get 401, as the real API does. It records every request and the most
requests in flight at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PATH = "/v3.0/asrm/securityPosture"


def posture(
    cri: int | None = 72,
    *,
    exposure: str = "high",
    attack: str = "medium",
    config: str = "low",
    events: list[tuple[str, int, int]] | None = None,
    created: dt.datetime | None = None,
    company_id: str = "cmp-1",
) -> dict[str, Any]:
    """A securityPosture body with the documented fields (and a few undocumented ones)."""
    body: dict[str, Any] = {
        "companyId": company_id,
        "companyName": "Someone",
        "createdDateTime": (created or dt.datetime.now(dt.UTC))
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "riskCategoryLevel": {
            "exposure": exposure,
            "attack": attack,
            "securityConfiguration": config,
        },
        "highImpactRiskEvents": [
            {"factor": f, "eventCount": n, "affectedAssetCount": a}
            for f, n, a in (
                events if events is not None else [("Unpatched vulnerabilities", 12, 3)]
            )
        ],
        "vulnerabilityAssessmentCoverageRate": 87.5,
        "exposureScore": {"value": 51},
    }
    if cri is not None:
        body["riskIndex"] = cri
    return body


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering

    @staticmethod
    def ok(body: dict[str, Any] | None = None, delay: float = 0.0) -> Answer:
        return Answer(200, body if body is not None else posture(), delay=delay)

    @staticmethod
    def error(status: int, code: str = "", headers: dict[str, str] | None = None) -> Answer:
        body = {"error": {"code": code or f"Http{status}", "message": "stand-in error"}}
        return Answer(status, body, headers or {})


@dataclass
class Seen:
    token: str | None
    path: str
    authorization: str
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class VisionOneStandIn:
    scripts: dict[str, list[Answer]] = field(default_factory=dict)
    # For tokens without a script (the bench): token -> answer.
    default: Callable[[str], Answer] | None = None
    requests: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None

    def script(self, token: str, *answers: Answer) -> None:
        self.scripts[token] = list(answers)

    def count(self, token: str) -> int:
        return sum(1 for r in self.requests if r.token == token)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        self.requests.append(Seen(token, request.path, auth))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            answer = self._answer(token)
            if answer.delay:
                await asyncio.sleep(answer.delay)
            text = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
            return web.Response(
                status=answer.status,
                text=text,
                content_type="application/json",
                headers=answer.headers,
            )
        finally:
            self.in_flight -= 1

    def _answer(self, token: str | None) -> Answer:
        if token is None:
            return Answer.error(401, "MissingAuthorization")
        script = self.scripts.get(token)
        if script:
            return script.pop(0) if len(script) > 1 else script[0]
        if self.default is not None:
            return self.default(token)
        return Answer.error(401, "InvalidToken")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get(PATH, self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
