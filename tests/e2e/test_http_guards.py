"""What Slack, a forger or a broken client can send: never a 5xx, never a double run."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from tests.factories import add, customer
from tests.harness import BotHarness, sign

FORM = "application/x-www-form-urlencoded"


async def test_bad_signature_is_401(bot: BotHarness) -> None:
    body = urlencode({"command": "/customers", "text": "", "user_id": "U1"}).encode()
    forged = await bot.post(body, FORM, signed=False, headers=sign(body, secret="wrong"))
    assert forged.status == 401
    unsigned = await bot.post(body, FORM, signed=False)
    assert unsigned.status == 401


async def test_stale_timestamp_is_401(bot: BotHarness) -> None:
    body = urlencode({"command": "/customers", "text": "", "user_id": "U1"}).encode()
    old = sign(body, timestamp=int(time.time()) - 6 * 60)
    assert (await bot.post(body, FORM, signed=False, headers=old)).status == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\xff\xfe", FORM),
        (b"not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"type": "event_callback", "event": "x"}', "application/json"),
        (urlencode({"payload": "{broken"}).encode(), FORM),
        (urlencode({"payload": "[]"}).encode(), FORM),
        (
            urlencode({"payload": json.dumps({"type": "block_actions", "user": "U1"})}).encode(),
            FORM,
        ),
        (
            urlencode({"payload": json.dumps({"type": "block_actions", "actions": "x"})}).encode(),
            FORM,
        ),
        (
            urlencode({"payload": json.dumps({"type": "block_actions", "actions": [1]})}).encode(),
            FORM,
        ),
        (urlencode({"command": "/customers"}).encode(), FORM),
        (b"hello=world", FORM),
        (b"", FORM),
    ],
)
async def test_signed_malformed_bodies_get_400(
    bot: BotHarness, body: bytes, content_type: str
) -> None:
    reply = await bot.post(body, content_type)
    assert reply.status == 400, reply.text


@pytest.mark.parametrize(
    "payload",
    [
        {
            "type": "block_actions",
            "user": {"id": "U0VIEWER", "team_id": "T0HOME"},
            "actions": [{"action_id": "customers_list_page:1", "value": "{not json"}],
            "response_url": "RESPONSE",
        },
        {
            "type": "block_actions",
            "user": {"id": "U0VIEWER", "team_id": "T0HOME"},
            "actions": [{"action_id": "customers_pick:1", "value": '{"a":"show","id":999}'}],
            "response_url": "RESPONSE",
        },
        {
            "type": "block_actions",
            "user": {"id": "U0VIEWER", "team_id": "T0HOME"},
            "actions": [{"action_id": "customers_list_page:1", "value": '{"q":"risk:nope","p":0}'}],
            "response_url": "RESPONSE",
        },
        {
            "type": "block_actions",
            "user": {"id": "U0VIEWER", "team_id": "T0HOME"},
            "actions": [{"action_id": "nobody_listens"}],
        },
        {"type": "view_submission", "user": {"id": "U0VIEWER"}},
        {"type": "shortcut"},
    ],
)
async def test_forged_or_stale_payloads_get_a_clear_answer(bot: BotHarness, payload: dict) -> None:
    raw = json.dumps(payload).replace("RESPONSE", bot.slack.response_url("forged"))
    reply = await bot.post(urlencode({"payload": raw}).encode(), FORM)
    assert reply.status < 500
    if "response_url" in payload:
        [answer] = await bot.slack.wait_for("response_url")
        text = answer.payload["text"]
        assert "Sorry" not in text  # a clear reason, not an apology
        assert any(w in text for w in ("out of date", "no longer exists", "risk:high"))


async def test_slack_retry_does_not_run_a_command_twice(bot: BotHarness) -> None:
    await add(bot.db, customer("Acme"))
    form = {
        "command": "/customers",
        "text": "show acme",
        "user_id": "U0VIEWER",
        "team_id": "T0HOME",
        "response_url": bot.slack.response_url(),
        "trigger_id": "t.1",
    }
    body = urlencode(form).encode()
    first = await bot.post(body, FORM)
    assert "Acme" in first.text
    retry = await bot.post(
        body, FORM, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status == 200 and retry.text == ""
    assert retry.headers.get("X-Slack-No-Retry") == "1"


async def test_unexpected_error_gives_apology_with_reference_in_log(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.customers

    async def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(handlers.customers, "list_page", boom)
    reply = await bot.command("list")
    assert reply.status == 200
    text = reply.json["text"]
    assert "Sorry" in text and "database on fire" not in text and "Traceback" not in text
    reference = text.split("`")[1]
    assert any(reference in r.getMessage() for r in caplog.records)


async def test_url_verification_and_healthz(bot: BotHarness) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc", "token": "x"}).encode()
    reply = await bot.post(body, "application/json")
    assert reply.status == 200 and "abc" in reply.text
    async with bot.http.get(f"{bot.url}/healthz") as r:
        assert r.status == 200 and (await r.json())["ok"] is True


async def test_healthz_is_503_when_database_is_gone(bot: BotHarness) -> None:
    await bot.db.engine.dispose()

    async def down() -> None:
        raise OSError("connection refused")

    bot.db.ping = down  # type: ignore[method-assign]
    async with bot.http.get(f"{bot.url}/healthz") as r:
        assert r.status == 503
