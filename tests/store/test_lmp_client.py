"""The LMPI client: Trend's signing (the two test vectors), paging, retries, plain 401s."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest

from store.lmp import LmpClient, LmpError, body_md5, query, signature
from tests.lmp_standin import SECRET_KEY, TOKEN, Fault, LmpStandIn

VECTOR_SECRET = "3f8c1b0e-demo-secret-key"
VECTOR_TIME = 1796428800


def test_vector_get_with_query() -> None:
    qs = query(
        {
            "created_start": "2020-01-01T00:00:00Z",
            "created_end": "2026-12-04T00:00:00Z",
            "page": 1,
            "limit": 100,
        }
    )
    uri = f"/LMPI/v3/customers?{qs}"
    assert uri == (
        "/LMPI/v3/customers?created_start=2020-01-01T00%3A00%3A00Z"
        "&created_end=2026-12-04T00%3A00%3A00Z&page=1&limit=100"
    )
    assert (
        signature(VECTOR_SECRET, VECTOR_TIME, "GET", uri, None)
        == "sPRsWwmvKbAhy+pd1i8qTU17OXrABbch3fdGRZcXJeU="
    )


def test_vector_post_with_body() -> None:
    body = b'{"version":"Trial","data_center":"EU"}'
    assert body_md5(body) == "rFvfBSfh6BwVEny7z+dNVg=="
    uri = "/LMPI/v3/customers/7d3e2a10-0000-4000-8000-00000000c0de/trend-vision-one-subscription"
    assert (
        signature(VECTOR_SECRET, VECTOR_TIME, "POST", uri, body)
        == "epVPCrKvqYXmAKETD1VEI7msAqfTGl4cJp7JukXCrGk="
    )


@pytest.fixture
async def client(lmp: LmpStandIn) -> AsyncIterator[LmpClient]:
    c = LmpClient(lmp.url, TOKEN, SECRET_KEY, backoff=0.01)
    try:
        yield c
    finally:
        await c.close()


async def test_pages_of_100_are_followed(lmp: LmpStandIn, client: LmpClient) -> None:
    lmp.add_customers(250)
    rows = [r async for r in client.customers("2000-01-01T00:00:00Z", "2026-12-05T00:00:00Z")]
    assert [r["name"] for r in rows] == [c["name"] for c in lmp.customers]
    pages = lmp.calls("GET", "/LMPI/v3/customers")
    assert [p.uri.split("page=")[1] for p in pages] == ["1&limit=100", "2&limit=100", "3&limit=100"]
    assert "created_start=2000-01-01T00%3A00%3A00Z" in pages[0].uri
    traces = {p.headers["x-traceid"] for p in pages}
    assert len(traces) == 3  # a fresh trace id per request


async def test_json_body_is_signed_as_sent(lmp: LmpStandIn, client: LmpClient) -> None:
    lmp.add_customers(1)
    cid = lmp.customers[0]["customer_id"]
    answer = await client.vision_one(cid, {"version": "Full", "data_center": "EU", "isNFR": True})
    assert answer["service_url"].startswith("https://portal.eu.")
    [sent] = lmp.calls("POST")
    assert sent.body == b'{"version":"Full","data_center":"EU","isNFR":true}'
    assert sent.headers["content-type"] == "application/json"


async def test_429_and_500_are_retried(lmp: LmpStandIn, client: LmpClient) -> None:
    lmp.add_customers(3)
    lmp.faults += [
        Fault(
            429, '{"error_subject":"TooManyRequests","error_message":"slow down"}', retry_after="0"
        ),
        Fault(500, '{"error_subject":"InternalError","error_message":"oops"}'),
        Fault(503, "<html><body><h1>Service Unavailable</h1></body></html>", "text/html"),
    ]
    rows = [r async for r in client.customers("2000-01-01T00:00:00Z", "2026-12-05T00:00:00Z")]
    assert len(rows) == 3
    assert len(lmp.calls("GET")) == 4
    assert not lmp.faults


async def test_persistent_500_ends_in_lmps_own_words(lmp: LmpStandIn, client: LmpClient) -> None:
    lmp.faults += [Fault(500, '{"error_subject":"CSPIError","error_message":"database down"}')] * 5
    with pytest.raises(LmpError) as e:
        await client.request(
            "GET", "/LMPI/v3/customers", {"created_start": "x", "created_end": "y"}
        )
    assert e.value.message == "LMP answered 500: CSPIError: database down"
    assert len(lmp.seen) == 5  # the first try and four retries


async def test_html_error_body_is_read_as_text(lmp: LmpStandIn, client: LmpClient) -> None:
    lmp.faults.append(
        Fault(400, "<html><body><p>InvalidParameters: bad page</p></body></html>", "text/html")
    )
    with pytest.raises(LmpError, match=r"^LMP answered 400: InvalidParameters: bad page$"):
        await client.request(
            "GET", "/LMPI/v3/customers", {"created_start": "x", "created_end": "y"}
        )


async def test_400_is_not_retried(lmp: LmpStandIn, client: LmpClient) -> None:
    with pytest.raises(LmpError, match="InvalidParametersLimit"):
        await client.request(
            "GET", "/LMPI/v3/customers", {"created_start": "x", "created_end": "y", "limit": 500}
        )
    assert len(lmp.seen) == 1


async def test_401s_are_explained(lmp: LmpStandIn) -> None:
    cases = [
        (LmpClient(lmp.url, TOKEN, "wrong-key"), "signature: LMPI_SECRET_KEY does not match"),
        (LmpClient(lmp.url, "unknown-token", SECRET_KEY), "does not know this access token"),
        (
            LmpClient(lmp.url, TOKEN, SECRET_KEY, clock=lambda: time.time() - 20 * 60),
            "clock is more than 15 minutes off",
        ),
    ]
    for client, words in cases:
        try:
            with pytest.raises(LmpError, match=words):
                await client.request(
                    "GET", "/LMPI/v3/customers", {"created_start": "x", "created_end": "y"}
                )
        finally:
            await client.close()


async def test_unreachable_lmp_is_a_plain_error() -> None:
    client = LmpClient("http://127.0.0.1:9", TOKEN, SECRET_KEY, backoff=0.001)
    try:
        with pytest.raises(LmpError, match="LMP could not be reached"):
            await client.request("GET", "/LMPI/v3/customers")
        # A POST that never left is tried again like a GET, and said just as plainly.
        with pytest.raises(LmpError) as e:
            await client.create_customer({"name": "X"}, {})
        assert e.value.message == "LMP could not be reached (ClientConnectorError)."
    finally:
        await client.close()


async def test_secret_key_never_logged_or_shown(
    lmp: LmpStandIn, client: LmpClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    lmp.add_customers(2)
    lmp.faults.append(Fault(500, "{}"))
    _ = [r async for r in client.customers("2000-01-01T00:00:00Z", "2026-12-05T00:00:00Z")]
    bad = LmpClient(lmp.url, TOKEN, SECRET_KEY + "x")
    try:
        with pytest.raises(LmpError) as e:
            await bad.request("GET", "/LMPI/v3/customers")
    finally:
        await bad.close()
    assert "LMP GET /LMPI/v3/customers -> 200" in caplog.text  # the log did capture requests
    for text in (caplog.text, repr(client), str(e.value)):
        assert SECRET_KEY not in text


async def test_a_200_that_is_not_json_is_a_plain_error(lmp: LmpStandIn, client: LmpClient) -> None:
    lmp.faults.append(Fault(200, "<html>maintenance</html>", "text/html"))
    with pytest.raises(LmpError, match="LMP answered 200 with something that is not JSON"):
        await client.request("GET", "/LMPI/v3/customers")


# --- a POST is never sent twice when LMP may have done it (issue 7 review) ---------------

V1 = "trend-vision-one"
FULL = {"version": "Full", "data_center": "EU"}


async def test_subscription_done_then_500_is_found_not_sent_again(
    lmp: LmpStandIn, client: LmpClient
) -> None:
    lmp.add_customers(1)
    cid = lmp.customers[0]["customer_id"]
    lmp.faults.append(Fault(500, '{"error_subject":"CSPIError"}', path_contains=V1, after=True))
    answer = await client.vision_one(cid, FULL)
    [sub] = lmp.subscriptions
    assert answer["subscription_id"] == sub["subscription_id"]
    assert answer["licenses"][0]["license_expiration_date"] == "2027-12-04T00:00:00Z"
    assert len(lmp.calls("POST", V1)) == 1
    assert len(lmp.calls("GET", "/LMPI/v2.5/customers/subscriptions?created_start=")) == 1


async def test_subscription_not_done_on_500_is_sent_again(
    lmp: LmpStandIn, client: LmpClient
) -> None:
    lmp.add_customers(1)
    cid = lmp.customers[0]["customer_id"]
    lmp.faults.append(Fault(500, "<html>Internal Error</html>", "text/html", path_contains=V1))
    answer = await client.vision_one(cid, FULL)
    [sub] = lmp.subscriptions
    assert answer["subscription_id"] == sub["subscription_id"]
    assert len(lmp.calls("POST", V1)) == 2
    # The check looked only at subscriptions created since just before the first try.
    [check] = lmp.calls("GET", "/LMPI/v2.5/customers/subscriptions")
    assert "created_start=" in check.uri and "created_end=" in check.uri


async def test_an_older_subscription_or_another_version_is_not_taken_for_this_one(
    lmp: LmpStandIn, client: LmpClient
) -> None:
    lmp.add_customers(1)
    cid = lmp.customers[0]["customer_id"]
    await client.vision_one(cid, {"version": "Trial", "data_center": "EU"})
    lmp.faults.append(Fault(500, "{}", path_contains=V1))
    await client.vision_one(cid, FULL)  # the trial just made is not this Full licence
    assert [s["version"] for s in lmp.subscriptions] == ["Trial", "Full"]


async def test_no_answer_after_activation_is_found(lmp: LmpStandIn) -> None:
    lmp.add_customers(1)
    cid = lmp.customers[0]["customer_id"]
    lmp.faults.append(Fault(500, "{}", path_contains=V1, after=True, delay=1.0))
    client = LmpClient(lmp.url, TOKEN, SECRET_KEY, backoff=0.01, timeout=0.5)
    try:
        answer = await client.vision_one(cid, FULL)
    finally:
        await client.close()
    assert answer["subscription_id"] == lmp.subscriptions[0]["subscription_id"]
    assert len(lmp.subscriptions) == 1 and len(lmp.calls("POST", V1)) == 1


async def test_unknown_outcome_is_said_and_not_retried(lmp: LmpStandIn, client: LmpClient) -> None:
    lmp.add_customers(1)
    cid = lmp.customers[0]["customer_id"]
    lmp.faults.append(Fault(500, '{"error_subject":"CSPIError"}', path_contains=V1, after=True))
    lmp.faults += [Fault(503, "<html>down</html>", "text/html", path_contains="v2.5")] * 5
    with pytest.raises(LmpError) as e:
        await client.vision_one(cid, FULL)
    assert e.value.message.startswith("LMP answered 500: CSPIError. Whether LMP did it anyway")
    assert e.value.message.endswith("check LMP before retrying.")
    assert len(lmp.calls("POST", V1)) == 1 and len(lmp.subscriptions) == 1


async def test_a_post_without_a_check_is_not_retried(lmp: LmpStandIn, client: LmpClient) -> None:
    lmp.faults.append(Fault(502, "<html>Bad Gateway</html>", "text/html"))
    with pytest.raises(LmpError, match="It may have been done anyway: check LMP"):
        await client.request("POST", "/LMPI/v3/customers", body={"company": {"name": "X"}})
    assert len(lmp.calls("POST")) == 1


async def test_customer_created_then_500_is_found_not_created_twice(
    lmp: LmpStandIn, client: LmpClient
) -> None:
    lmp.add_customers(3)
    lmp.faults.append(Fault(500, "{}", path_contains="/LMPI/v3/customers", after=True))
    cid = await client.create_customer({"name": "Newco"}, {"email": "it@newco.example"})
    assert [c["customer_id"] for c in lmp.customers if c["name"] == "Newco"] == [cid]
    assert len(lmp.calls("POST")) == 1


async def test_the_check_follows_pages_when_lmp_pages(lmp: LmpStandIn, client: LmpClient) -> None:
    lmp.add_customers(31)
    *others, ours = [c["customer_id"] for c in lmp.customers]
    for cid in others:  # a busy quarter of an hour for the partner
        await client.vision_one(cid, {"version": "Trial", "data_center": "US"})
    lmp.faults.append(Fault(500, "{}", path_contains=V1, after=True))
    answer = await client.vision_one(ours, FULL)
    assert answer["subscription_id"] == lmp.subscriptions[-1]["subscription_id"]
    assert len(lmp.subscriptions) == 31
    pages = lmp.calls("GET", "/LMPI/v2.5/customers/subscriptions")
    assert ["page=" in p.uri for p in pages] == [False, True]
