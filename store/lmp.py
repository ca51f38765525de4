"""Client for Trend's Licensing Management Platform API (LMPI, domain.md 3b).

Every request is signed as Trend's sample does: posix time + METHOD + the request URI exactly
as sent (path and encoded query) + Base64(MD5(body bytes)) when there is a body, HMAC-SHA256
with the secret key. The secret is never logged, shown or put in an error.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from store.names import company_key
from store.platform import PlatformError

log = logging.getLogger("overview.lmp")

DEFAULT_URL = "https://cspi.trendmicro.com"
PAGE_LIMIT = 100
RETRIES = 4  # after the first try, for 429 and 5xx
IDEMPOTENT = {"GET", "PUT", "DELETE", "HEAD"}
# How far before a POST to look for what LMP did: LMP accepts clocks 15 minutes off, so
# ours may be. A Retry soon after a lost answer then finds that answer too.
RECOVER_WINDOW = 15 * 60

Recover = Callable[[], Awaitable[Any]]

# What each 401 means, in words an operator can act on.
AUTH_FAILURES = {
    "signature": (
        "LMP rejected the request signature: LMPI_SECRET_KEY does not match the access token."
    ),
    "accesstoken": "LMP does not know this access token: check LMPI_ACCESS_TOKEN.",
    "posixtime": (
        "LMP says this machine's clock is more than 15 minutes off: set the system clock right."
    ),
}


def body_md5(body: bytes) -> str:
    return base64.b64encode(
        hashlib.md5(body).digest()
    ).decode()  # Trend's algorithm, not for security


def signature(secret: str, posix_time: int, method: str, uri: str, body: bytes | None) -> str:
    """x-signature for one request; `uri` is the path and encoded query exactly as sent."""
    message = f"{posix_time}{method.upper()}{uri}"
    if body:
        message += body_md5(body)
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def query(params: Mapping[str, object]) -> str:
    """The encoded query string, built once: it is signed and sent as the same bytes."""
    return urlencode({k: str(v) for k, v in params.items() if v is not None})


class LmpError(PlatformError):
    """LMP answered with an error (or could not be reached); `message` is fit to show."""

    def __init__(self, message: str, status: int | None = None, subject: str | None = None):
        super().__init__(message)
        self.status = status
        self.subject = subject


def _strip_html(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


def explain(status: int, raw: bytes) -> LmpError:
    """An LmpError from an error answer, JSON or text/html, in LMP's own words."""
    text = raw.decode("utf-8", "replace")
    subject = message = None
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        subject = data.get("error_subject") or data.get("error_code")
        message = data.get("error_message") or data.get("message")
    if message is None and data is None:
        message = _strip_html(text)[:300] or None
    subject = str(subject) if subject else None
    if status == 401:
        key = (subject or message or "").lower()
        for word, explanation in AUTH_FAILURES.items():
            if word in key.replace("_", "").replace(" ", ""):
                return LmpError(explanation, status, subject)
        return LmpError(
            f"LMP refused the credentials ({subject or message or 'HTTP 401'}).", status, subject
        )
    words = ": ".join(str(p) for p in (subject, message) if p) or f"HTTP {status}"
    return LmpError(f"LMP answered {status}: {words}"[:500], status, subject)


@dataclass
class LmpClient:
    """One partner's LMPI access. `secret_key` stays in this object only."""

    base_url: str
    access_token: str
    secret_key: str = field(repr=False)
    clock: Callable[[], float] = time.time
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    timeout: float = 60.0
    session: aiohttp.ClientSession | None = field(default=None, repr=False)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None or self.session.closed:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self.session

    def headers(self, method: str, uri: str, body: bytes | None) -> dict[str, str]:
        now = int(self.clock())
        return {
            "x-access-token": self.access_token,
            "x-posix-time": str(now),
            "x-signature": signature(self.secret_key, now, method, uri, body),
            "x-traceid": str(uuid.uuid4()),
            "content-type": "application/json",
        }

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, object] | None = None,
        body: object | None = None,
        *,
        recover: Recover | None = None,
    ) -> Any:
        """Send one signed request (retrying 429 and 5xx); the JSON answer, or LmpError.

        A POST is not blindly sent again after a 5xx or no answer: LMP may have done it
        before failing. `recover` asks LMP whether it did (its answer, or None: not done);
        only then is it re-sent. Without `recover`, such a POST is not retried.
        """
        qs = query(params or {})
        uri = f"{path}?{qs}" if qs else path
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        url = URL(self.base_url.rstrip("/") + uri, encoded=True)
        safe = method.upper() in IDEMPOTENT
        for attempt in range(RETRIES + 1):
            # Signed afresh each try: a new trace id and the time of this very request.
            headers = self.headers(method, uri, data)
            try:
                async with self._session().request(method, url, data=data, headers=headers) as resp:
                    raw = await resp.read()
                    status, retry_after = resp.status, resp.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as e:
                failed = LmpError(f"LMP could not be reached ({type(e).__name__}).")
                # No connection made: nothing was sent, so nothing can have been done.
                if not safe and not isinstance(e, aiohttp.ClientConnectorError):
                    found = await self._recovered(recover, failed)
                    if found is not None:
                        return found
                if attempt == RETRIES:
                    raise failed from None
                await asyncio.sleep(self._delay(attempt, None))
                continue
            log.debug("LMP %s %s -> %s (trace %s)", method, path, status, headers["x-traceid"])
            if status < 400:
                try:
                    return json.loads(raw) if raw.strip() else {}
                except ValueError:
                    raise LmpError(
                        f"LMP answered {status} with something that is not JSON."
                    ) from None
            if status >= 500 and not safe:
                found = await self._recovered(recover, explain(status, raw))
                if found is not None:
                    return found
            if (status == 429 or status >= 500) and attempt < RETRIES:
                await asyncio.sleep(self._delay(attempt, retry_after))
                continue
            raise explain(status, raw)
        raise AssertionError("unreachable")

    async def _recovered(self, recover: Recover | None, failed: LmpError) -> Any:
        """What LMP did despite `failed` (None: nothing, safe to re-send); else raises."""
        said = failed.message.rstrip(".") + "."
        if recover is None:
            raise LmpError(
                f"{said} It may have been done anyway: check LMP before retrying.",
                failed.status,
                failed.subject,
            )
        try:
            found = await recover()
        except LmpError as e:
            raise LmpError(
                f"{said} Whether LMP did it anyway could not be checked "
                f"({e.message}): check LMP before retrying.",
                failed.status,
                failed.subject,
            ) from None
        if found is not None:
            log.warning("LMP failed (%s) but had done it: using what it recorded", failed.message)
        return found

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), 60.0)
        return float(self.backoff * 2**attempt)

    # --- endpoints ---------------------------------------------------------------------

    async def customers(
        self, created_start: str, created_end: str
    ) -> AsyncIterator[dict[str, Any]]:
        """Every customer, following pages of PAGE_LIMIT."""
        page, seen = 1, 0
        while True:
            data = await self.request(
                "GET",
                "/LMPI/v3/customers",
                {
                    "created_start": created_start,
                    "created_end": created_end,
                    "page": page,
                    "limit": PAGE_LIMIT,
                },
            )
            rows = (data.get("customers") or []) if isinstance(data, dict) else []
            for row in rows:
                if isinstance(row, dict):
                    yield row
            seen += len(rows)
            paging = data.get("paging") if isinstance(data, dict) else None
            total = paging.get("total") if isinstance(paging, dict) else None
            if not rows or len(rows) < PAGE_LIMIT or (isinstance(total, int) and seen >= total):
                return
            page += 1

    def stamp(self, offset: float = 0.0) -> str:
        """LMP's date format, for the system clock moved by `offset` seconds."""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock() + offset))

    async def create_customer(self, company: dict[str, Any], contact: dict[str, Any]) -> str:
        since = self.stamp(-RECOVER_WINDOW)
        name = str(company.get("name") or "")

        async def recover() -> dict[str, Any] | None:
            found = await self.find_customer(name, since)
            return {"customer_id": found} if found else None

        data = await self.request(
            "POST",
            "/LMPI/v3/customers",
            body={"company": company, "contact": contact},
            recover=recover,
        )
        cid = data.get("customer_id") if isinstance(data, dict) else None
        if not cid:
            raise LmpError("LMP created the customer but did not say its customer id.")
        return str(cid)

    async def find_customer(self, name: str, since: str = "2000-01-01T00:00:00Z") -> str | None:
        """The customer id of the one LMP customer named `name` (case-insensitively)."""
        want = company_key(name)
        ids = [
            str(row["customer_id"])
            async for row in self.customers(since, self.stamp(86400))
            if row.get("customer_id")
            and isinstance(row.get("name"), str)
            and company_key(row["name"]) == want
        ]
        if len(ids) > 1:
            raise LmpError(
                f"LMP has {len(ids)} customers named {name} and the bot cannot tell which one "
                "this is: rename one in LMP, then run `overview-bot lmp sync`."
            )
        return ids[0] if ids else None

    async def vision_one(self, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
        since = self.stamp(-RECOVER_WINDOW)

        async def recover() -> dict[str, Any] | None:
            return await self.subscription_since(customer_id, since, str(body.get("version")))

        data = await self.request(
            "POST",
            f"/LMPI/v3/customers/{customer_id}/trend-vision-one-subscription",
            body=body,
            recover=recover,
        )
        if not isinstance(data, dict):
            raise LmpError("LMP answered the subscription request with something unreadable.")
        return data

    async def subscription_since(
        self, customer_id: str, since: str, version: str | None = None
    ) -> dict[str, Any] | None:
        """A subscription of the customer's created since `since` (of `version`, when its
        licences say one), shaped like the provisioning answer; None if there is none."""
        rows = await self._subscriptions(since)
        for row in reversed(rows):  # the newest last
            if not isinstance(row, dict) or str(row.get("customer_id")) != customer_id:
                continue
            sid = row.get("subscription_id")
            if not sid:
                continue
            one = await self.request("GET", f"/LMPI/v3/customers/{customer_id}/subscriptions/{sid}")
            one = one if isinstance(one, dict) else {}
            licences = [x for x in one.get("licenses") or [] if isinstance(x, dict)]
            versions = {x.get("version") for x in licences if x.get("version")}
            if version and versions and version not in versions:
                continue
            return {
                "subscription_id": sid,
                "product_name": row.get("name") or one.get("product_name"),
                "service_url": one.get("service_url"),
                "licenses": licences,
            }
        return None

    async def _subscriptions(self, since: str) -> list[Any]:
        """Subscriptions created since `since`. Paging is not documented for this endpoint:
        pages are asked for only when an answer says there are more."""
        params: dict[str, object] = {"created_start": since, "created_end": self.stamp(86400)}
        rows: list[Any] = []
        while True:
            data = await self.request("GET", "/LMPI/v2.5/customers/subscriptions", params)
            page = (data.get("subscriptions") or []) if isinstance(data, dict) else []
            rows += page
            paging = data.get("paging") if isinstance(data, dict) else None
            if not page or not isinstance(paging, dict):
                return rows
            total, limit, at = paging.get("total"), paging.get("limit"), paging.get("page")
            if not (isinstance(total, int) and isinstance(limit, int) and isinstance(at, int)):
                return rows
            if len(rows) >= total:
                return rows
            params |= {"page": at + 1, "limit": limit}
