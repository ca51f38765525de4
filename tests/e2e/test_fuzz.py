"""Random signed bodies of Slack's shapes with wrong types: never a 5xx, never a crash logged."""

from __future__ import annotations

import json
import logging
import random
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.harness import BotHarness

VALUES: list[Any] = [
    None,
    1,
    "x",
    [],
    {},
    [1],
    [{}],
    {"id": 1},
    {"id": "U0VIEWER"},
    True,
    "customers_list_page:1",
    '{"q":"","p":0}',
]
FIELDS = [
    "user",
    "actions",
    "view",
    "container",
    "channel",
    "team",
    "message",
    "response_url",
    "trigger_id",
    "callback_id",
    "state",
    "api_app_id",
    "enterprise",
    "is_enterprise_install",
]
TYPES = [
    "block_actions",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "block_suggestion",
    "interactive_message",
    "dialog_submission",
    "x",
]
COMMAND_FIELDS = [
    "command",
    "text",
    "user_id",
    "team_id",
    "response_url",
    "trigger_id",
    "channel_id",
    "enterprise_id",
]
COMMAND_VALUES = [
    "",
    "x",
    "/customers",
    "U0VIEWER",
    "T0HOME",
    "show",
    "list risk:high",
    "access grant <@U1> admin",
    "http://127.0.0.1:9/r",
]


def interaction(rnd: random.Random) -> bytes:
    p: dict[str, Any] = {"type": rnd.choice(TYPES)}
    for k in rnd.sample(FIELDS, rnd.randint(0, 8)):
        p[k] = rnd.choice(VALUES)
    if rnd.random() < 0.5:
        p["user"] = {
            "id": rnd.choice(["U0VIEWER", 1, None]),
            "team_id": rnd.choice(["T0HOME", None, 5]),
        }
    if rnd.random() < 0.5:
        keys = ["action_id", "value", "block_id", "type", "selected_option"]
        p["actions"] = [{k: rnd.choice(VALUES) for k in rnd.sample(keys, rnd.randint(0, 5))}]
    return urlencode({"payload": json.dumps(p)}).encode()


def command(rnd: random.Random) -> bytes:
    fields = rnd.sample(COMMAND_FIELDS, rnd.randint(1, len(COMMAND_FIELDS)))
    return urlencode({k: rnd.choice(COMMAND_VALUES) for k in fields}).encode()


def event(rnd: random.Random) -> bytes:
    ev: dict[str, Any] = {"type": rnd.choice(["event_callback", "url_verification", "x"])}
    keys = ["event", "team_id", "api_app_id", "event_id", "challenge", "authorizations"]
    for k in rnd.sample(keys, rnd.randint(0, len(keys))):
        ev[k] = rnd.choice([*VALUES, {"type": "app_home_opened", "user": "U1"}])
    return json.dumps(ev).encode()


@pytest.mark.parametrize("seed", [1, 2])
async def test_no_signed_body_yields_a_5xx(
    bot: BotHarness, seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    rnd = random.Random(seed)
    form = "application/x-www-form-urlencoded"
    bodies = [(interaction(rnd), form) for _ in range(250)]
    bodies += [(command(rnd), form) for _ in range(150)]
    bodies += [(event(rnd), "application/json") for _ in range(100)]
    failures = []
    for body, content_type in bodies:
        reply = await bot.post(body, content_type)
        if reply.status >= 500:
            failures.append((reply.status, body[:200]))
    assert failures == []
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert crashes == [], [r.getMessage() for r in crashes[:3]]
