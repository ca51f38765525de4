"""manifest.yml is valid against Slack's published schema and says what the bot needs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"
LOCAL_SCHEMA = ROOT / "tests" / "data" / "manifest.schema.1.0.0.json"


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_matches_slack_schema() -> None:
    schema_path = SCHEMA if SCHEMA.exists() else LOCAL_SCHEMA
    schema = json.loads(schema_path.read_text())
    jsonschema.validate(manifest(), schema)


def test_manifest_declares_the_command_and_features() -> None:
    m = manifest()
    [cmd] = m["features"]["slash_commands"]
    assert cmd["command"] == "/customers"
    assert cmd["should_escape"] is True
    assert cmd["usage_hint"]
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["settings"]["socket_mode_enabled"] is True
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["oauth_config"]["scopes"]["bot"] == ["commands", "chat:write", "users:read"]
    assert m["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]


def test_schema_check_catches_a_broken_manifest() -> None:
    schema_path = SCHEMA if SCHEMA.exists() else LOCAL_SCHEMA
    broken = manifest()
    broken["features"]["slash_commands"][0]["command"] = "customers"  # no leading slash
    try:
        jsonschema.validate(broken, json.loads(schema_path.read_text()))
    except jsonschema.ValidationError:
        return
    raise AssertionError("a command without a slash passed the schema")
