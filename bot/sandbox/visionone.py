"""The sandbox's demo Vision One API: `GET /v3.0/asrm/securityPosture` on 127.0.0.1.

The bot reaches it through VISION_ONE_BASE_URL with its ordinary client, as it reaches
Trend's regional hosts. Any token is a customer: its figures follow from a hash of it (and
of the 4-hour window the index is computed in, so they drift a little), so they are the
same on every run. A token containing "revoked", or starting with "bad", gets 401.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from aiohttp import web

PATH = "/v3.0/asrm/securityPosture"
REFRESH = dt.timedelta(hours=4)  # how often Vision One recomputes the index
FACTORS = (
    "Unpatched vulnerabilities",
    "Accounts with weak authentication",
    "Internet-facing assets with open ports",
    "Outdated endpoint agents",
    "Suspicious cloud app access",
    "Misconfigured cloud storage",
    "Devices without endpoint protection",
    "Stale privileged accounts",
)
LEVELS = ("low", "medium", "high")


def refused(token: str) -> bool:
    t = token.lower()
    return "revoked" in t or t.startswith("bad")


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def _level(score: int) -> str:
    return LEVELS[0] if score <= 30 else LEVELS[1] if score <= 69 else LEVELS[2]


def computed_at(token: str, now: dt.datetime) -> dt.datetime:
    """The start of the token's current 4-hour window (each token has its own phase)."""
    phase = dt.timedelta(minutes=int.from_bytes(_digest(token)[:2]) % 240)
    epoch = dt.datetime(2020, 1, 1, tzinfo=dt.UTC) + phase
    windows = (now - epoch) // REFRESH
    return (epoch + windows * REFRESH).replace(microsecond=0)


def posture_for(token: str, now: dt.datetime) -> dict[str, Any]:
    """The securityPosture body for `token` at `now`: the documented fields, deterministic."""
    base = _digest(token)
    when = computed_at(token, now)
    drift = _digest(token, when.isoformat())
    cri = max(0, min(100, 8 + base[0] % 88 + drift[0] % 7 - 3))
    picked = sorted(
        (
            (1 + (base[4 + i] + drift[1 + i]) % 40, FACTORS[(base[3] + i * 3) % len(FACTORS)])
            for i in range(1 + base[2] % 4)
        ),
        reverse=True,
    )
    events = [
        {"factor": factor, "eventCount": count, "affectedAssetCount": 1 + base[8 + i] % 12}
        for i, (count, factor) in enumerate(picked)
    ]
    return {
        "companyId": "demo-" + base.hex()[:12],
        "companyName": "Sandbox demo company",
        "createdDateTime": when.isoformat().replace("+00:00", "Z"),
        "riskIndex": cri,
        "riskCategoryLevel": {
            "exposure": _level(max(0, min(100, cri + base[12] % 31 - 15))),
            "attack": LEVELS[base[13] % 3],
            "securityConfiguration": _level(max(0, min(100, cri + base[14] % 41 - 20))),
        },
        "highImpactRiskEvents": events,
        "vulnerabilityAssessmentCoverageRate": round(55 + base[15] / 6, 1),
    }


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


async def security_posture(request: web.Request) -> web.Response:
    auth = request.headers.get("Authorization", "")
    token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
    if not token:
        return _error(401, "MissingAuthorization", "No API key was sent.")
    if refused(token):
        return _error(401, "InvalidToken", "The API key is invalid, expired or revoked.")
    return web.json_response(posture_for(token, dt.datetime.now(dt.UTC)))


def demo_vision_one_app() -> web.Application:
    app = web.Application()
    app.router.add_get(PATH, security_posture)
    return app
