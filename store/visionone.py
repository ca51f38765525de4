"""Vision One public API client: a customer's security posture (domain.md section 3).

No Slack here. Faults are bounded: 429 waits (Retry-After, else exponential backoff with
jitter), 5xx and timeouts are retried a few times, 401/403 mean the token needs replacing.
Error messages name the status and the API's own code, never the token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from store.enums import Level
from store.regions import DataCenter

POSTURE_PATH = "/v3.0/asrm/securityPosture"
TOP_EVENTS = 5


class VisionOneError(Exception):
    """A failed pull; `message` is fit to show and store (no token in it)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class TokenRejected(VisionOneError):
    """401/403: the token is wrong, expired or lacks the permission."""


@dataclass(frozen=True)
class RiskEvent:
    factor: str
    event_count: int | None
    affected_assets: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "eventCount": self.event_count,
            "affectedAssetCount": self.affected_assets,
        }


@dataclass(frozen=True)
class Posture:
    risk_index: int | None
    exposure: Level | None
    attack: Level | None
    security_configuration: Level | None
    created: dt.datetime | None
    company_id: str | None = None
    events: list[RiskEvent] = field(default_factory=list)


def _level(value: object) -> Level | None:
    try:
        return Level(str(value).lower()) if value is not None else None
    except ValueError:
        return None


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _when(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_posture(data: object) -> Posture:
    """The documented fields; anything missing or odd becomes None rather than an error."""
    if not isinstance(data, dict):
        raise VisionOneError("Vision One answered with something that is not a JSON object")
    levels = data.get("riskCategoryLevel")
    levels = levels if isinstance(levels, dict) else {}
    index = _int(data.get("riskIndex"))
    if index is not None and not 0 <= index <= 100:
        index = None
    raw_events = data.get("highImpactRiskEvents")
    events = []
    for e in raw_events if isinstance(raw_events, list) else []:
        if isinstance(e, dict) and isinstance(e.get("factor"), str) and e["factor"].strip():
            events.append(
                RiskEvent(
                    e["factor"].strip()[:200],
                    _int(e.get("eventCount")),
                    _int(e.get("affectedAssetCount")),
                )
            )
    # Kept in the API's order: it lists the highest-impact events first.
    company = data.get("companyId")
    return Posture(
        risk_index=index,
        exposure=_level(levels.get("exposure")),
        attack=_level(levels.get("attack")),
        security_configuration=_level(levels.get("securityConfiguration")),
        created=_when(data.get("createdDateTime")),
        company_id=str(company)[:64] if company else None,
        events=events[:TOP_EVENTS],
    )


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), if usable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _api_error(body: object) -> str:
    """The API's own error code and message, clipped: {"error": {"code", "message"}}."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        parts = [str(err[k])[:120] for k in ("code", "message") if err.get(k)]
        return ": ".join(parts)
    return ""


@dataclass
class Retrying:
    """How hard to try: attempts in all, backoff bounds, and the per-request timeout."""

    attempts: int = 5
    backoff: float = 1.0  # seconds, doubled each time, with full jitter
    max_wait: float = 60.0  # a longer Retry-After is not waited for: reported instead
    timeout: float = 30.0
    # A 429 without Retry-After: the account's requests are counted per 60 s (domain.md
    # section 3), so asking again within a second or two only spends more of that window.
    # Doubled from here, with half of it jittered: 7.5-15 s, 15-30 s, then 30-60 s.
    rate_backoff: float = 15.0


class Pacer:
    """At most `per_minute` requests started in any minute, spread evenly across the pool."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0

    async def wait(self) -> None:
        now = self.clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await self.sleep(slot - now)


class VisionOneClient:
    """One aiohttp session for many customers; the caller owns the session."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        base_url: str | None = None,
        retrying: Retrying | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        pacer: Pacer | None = None,
    ) -> None:
        self.http = http
        self.pacer = pacer
        self.base_url = base_url.rstrip("/") if base_url else None
        self.retrying = retrying or Retrying()
        self.sleep = sleep
        self.jitter = jitter

    def __repr__(self) -> str:
        return f"VisionOneClient(base_url={self.base_url!r})"

    def url(self, region: DataCenter) -> str:
        if self.base_url:
            return self.base_url + POSTURE_PATH
        if region.api_host is None:
            raise VisionOneError(f"Vision One has no public API in {region.label}")
        return f"https://{region.api_host}{POSTURE_PATH}"

    def _backoff(self, attempt: int) -> float:
        r = self.retrying
        return min(r.max_wait, r.backoff * 2**attempt) * self.jitter()

    def _rate_backoff(self, attempt: int) -> float:
        wait = min(self.retrying.max_wait, self.retrying.rate_backoff * 2**attempt)
        return wait / 2 + wait / 2 * self.jitter()

    async def security_posture(self, region: DataCenter, token: str) -> Posture:
        url = self.url(region)
        r = self.retrying
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        timeout = aiohttp.ClientTimeout(total=r.timeout)
        last = "no answer"
        for attempt in range(r.attempts):
            final = attempt == r.attempts - 1
            if self.pacer is not None:
                await self.pacer.wait()
            try:
                async with self.http.get(url, headers=headers, timeout=timeout) as resp:
                    status = resp.status
                    try:
                        body: object = await resp.json(content_type=None)
                    except (ValueError, aiohttp.ContentTypeError):
                        body = None
                    wait_header = resp.headers.get("Retry-After")
            except TimeoutError:
                last = f"no answer within {r.timeout:g} s"
                if not final:
                    await self.sleep(self._backoff(attempt))
                continue
            except aiohttp.ClientError as e:
                last = f"cannot reach Vision One ({type(e).__name__})"
                if not final:
                    await self.sleep(self._backoff(attempt))
                continue
            if status == 200:
                return parse_posture(body)
            detail = _api_error(body)
            said = f", {detail}" if detail else ""
            if status in (401, 403):
                raise TokenRejected(
                    f"Vision One refused the API token (HTTP {status}{said}); connect again "
                    "with a new token",
                    status=status,
                )
            if status == 429:
                last = f"rate limited by Vision One (HTTP 429{said})"
                wait = retry_after(wait_header, dt.datetime.now(dt.UTC))
                if wait is None:
                    wait = self._rate_backoff(attempt)
                if wait > r.max_wait:
                    raise VisionOneError(
                        f"{last}; asked to wait {wait:.0f} s, tried again next sync", status=429
                    )
                if not final:
                    await self.sleep(wait)
                continue
            if status >= 500:
                last = f"Vision One failed (HTTP {status}{said})"
                if not final:
                    await self.sleep(self._backoff(attempt))
                continue
            raise VisionOneError(
                f"Vision One refused the request (HTTP {status}{said})", status=status
            )
        raise VisionOneError(f"{last}, {r.attempts} tries")
