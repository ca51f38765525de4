"""The Vision One client against the local stand-in: fields, and every fault it must survive."""

from __future__ import annotations

import datetime as dt

import aiohttp
import pytest

from store.enums import Level
from store.regions import DataCenter
from store.visionone import (
    Retrying,
    TokenRejected,
    VisionOneClient,
    VisionOneError,
    parse_posture,
    retry_after,
)
from tests.visionone_standin import Answer, VisionOneStandIn, posture

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.client-test-token"


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def pull(api: VisionOneStandIn, sleeps: Sleeps, **retrying: float) -> object:
    async with aiohttp.ClientSession() as http:
        client = VisionOneClient(
            http,
            base_url=api.url,
            retrying=Retrying(**retrying),  # type: ignore[arg-type]
            sleep=sleeps,
            jitter=lambda: 0.5,
        )
        return await client.security_posture(DataCenter.EU, TOKEN)


async def test_reads_the_documented_fields(api: VisionOneStandIn) -> None:
    created = dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC)
    events = [("Weak passwords", 3, 9), ("Unpatched vulnerabilities", 12, 3)]
    api.script(TOKEN, Answer.ok(posture(81, events=events, created=created)))
    p = await pull(api, Sleeps())
    assert p == parse_posture(posture(81, events=events, created=created))
    assert (p.risk_index, p.exposure, p.attack, p.security_configuration) == (  # type: ignore[attr-defined]
        81,
        Level.HIGH,
        Level.MEDIUM,
        Level.LOW,
    )
    assert p.created == created  # type: ignore[attr-defined]
    assert [e.factor for e in p.events] == [  # type: ignore[attr-defined]
        "Weak passwords",
        "Unpatched vulnerabilities",
    ]
    [seen] = api.requests
    assert seen.path == "/v3.0/asrm/securityPosture"
    assert seen.authorization == f"Bearer {TOKEN}"


def test_missing_or_odd_fields_become_unknown() -> None:
    body = posture(None, exposure="severe")
    body["highImpactRiskEvents"] = [{"eventCount": 3}, "junk", {"factor": "Ok", "eventCount": "x"}]
    p = parse_posture(body)
    assert (p.risk_index, p.exposure, p.attack) == (None, None, Level.MEDIUM)
    assert [(e.factor, e.event_count) for e in p.events] == [("Ok", None)]
    assert parse_posture({"riskIndex": 140}).risk_index is None
    with pytest.raises(VisionOneError):
        parse_posture(["not", "an", "object"])


def test_region_hosts_and_the_override() -> None:
    client = VisionOneClient(None)  # type: ignore[arg-type]
    assert client.url(DataCenter.US) == "https://api.xdr.trendmicro.com/v3.0/asrm/securityPosture"
    assert client.url(DataCenter.JP).startswith("https://api.xdr.trendmicro.co.jp/")
    assert client.url(DataCenter.EU).startswith("https://api.eu.xdr.trendmicro.com/")
    with pytest.raises(VisionOneError, match="no public API in Canada"):
        client.url(DataCenter.CA)
    proxied = VisionOneClient(None, base_url="http://127.0.0.1:9/")  # type: ignore[arg-type]
    assert proxied.url(DataCenter.CA) == "http://127.0.0.1:9/v3.0/asrm/securityPosture"


async def test_429_honours_retry_after(api: VisionOneStandIn) -> None:
    api.script(
        TOKEN, Answer.error(429, "TooManyRequests", {"Retry-After": "7"}), Answer.ok(posture(5))
    )
    sleeps = Sleeps()
    p = await pull(api, sleeps)
    assert p.risk_index == 5 and sleeps == [7.0]  # type: ignore[attr-defined]
    assert api.count(TOKEN) == 2


async def test_429_without_retry_after_backs_off_exponentially_with_jitter(
    api: VisionOneStandIn,
) -> None:
    api.script(TOKEN, *[Answer.error(429)] * 3, Answer.ok(posture(6)))
    sleeps = Sleeps()
    p = await pull(api, sleeps)
    assert p.risk_index == 6  # type: ignore[attr-defined]
    # From 15 s doubling, half of it jittered (0.5 here): past the API's 60-s window in 3.
    assert sleeps == [11.25, 22.5, 45.0] and sum(sleeps) > 60
    assert api.count(TOKEN) == 4


def test_retry_after_as_an_http_date() -> None:
    now = dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after("Fri, 04 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None


async def test_a_retry_after_beyond_the_bound_is_reported_not_waited(
    api: VisionOneStandIn,
) -> None:
    api.script(TOKEN, Answer.error(429, headers={"Retry-After": "3600"}))
    sleeps = Sleeps()
    with pytest.raises(VisionOneError, match="asked to wait 3600 s"):
        await pull(api, sleeps)
    assert sleeps == [] and api.count(TOKEN) == 1


async def test_5xx_is_retried_a_bounded_number_of_times(api: VisionOneStandIn) -> None:
    api.script(TOKEN, Answer.error(503, "ServiceUnavailable"))
    sleeps = Sleeps()
    with pytest.raises(VisionOneError) as err:
        await pull(api, sleeps, attempts=4)
    assert api.count(TOKEN) == 4 and len(sleeps) == 3
    assert "HTTP 503" in err.value.message and "4 tries" in err.value.message


async def test_a_5xx_then_success_recovers(api: VisionOneStandIn) -> None:
    api.script(TOKEN, Answer.error(500), Answer.error(502), Answer.ok(posture(44)))
    sleeps = Sleeps()
    assert (await pull(api, sleeps)).risk_index == 44  # type: ignore[attr-defined]
    assert sleeps == [0.5, 1.0]  # a server fault: from 1 s doubling, fully jittered


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_token_is_not_retried(api: VisionOneStandIn, status: int) -> None:
    api.script(TOKEN, Answer.error(status, "InvalidCredentials"))
    with pytest.raises(TokenRejected) as err:
        await pull(api, Sleeps())
    assert api.count(TOKEN) == 1
    assert f"HTTP {status}" in err.value.message and TOKEN not in err.value.message


async def test_timeouts_are_bounded(api: VisionOneStandIn) -> None:
    api.script(TOKEN, Answer.ok(delay=2.0))
    with pytest.raises(VisionOneError, match=r"no answer within 0.2 s, 2 tries"):
        await pull(api, Sleeps(), attempts=2, timeout=0.2)
    assert api.count(TOKEN) == 2


async def test_other_client_errors_are_reported_with_the_api_code(api: VisionOneStandIn) -> None:
    api.script(TOKEN, Answer.error(400, "InvalidParameter"))
    with pytest.raises(VisionOneError, match=r"\(HTTP 400, InvalidParameter: stand-in error\)"):
        await pull(api, Sleeps())


async def test_unreachable_host_is_reported() -> None:
    api = VisionOneStandIn(url="http://127.0.0.1:9")
    with pytest.raises(VisionOneError, match="cannot reach Vision One"):
        await pull(api, Sleeps(), attempts=2)


async def test_the_pacer_spreads_requests_over_the_minute() -> None:
    from store.visionone import Pacer

    now = [100.0]
    sleeps = Sleeps()
    pacer = Pacer(120, clock=lambda: now[0], sleep=sleeps)  # one every 0.5 s
    for _ in range(3):
        await pacer.wait()
    assert sleeps == [0.5, 1.0]
    now[0] = 200.0  # long idle: no debt carried over
    await pacer.wait()
    assert sleeps == [0.5, 1.0]
