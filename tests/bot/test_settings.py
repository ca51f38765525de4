from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings
from store.enums import Role

ENV_NAMES = (
    "PARTNER_TYPE",
    "APPROVALS_CHANNEL",
    "APPROVAL_TTL_HOURS",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "HOST",
    "PORT",
    "BOT_ADMINS",
    "DEFAULT_ROLE",
    "LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    s = load_settings()
    assert s.database_url == "sqlite+aiosqlite:///overview.db"
    assert (s.host, s.port, s.default_role) == ("0.0.0.0", 3000, "viewer")
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.access_policy.default_role is Role.VIEWER
    assert (s.partner_type, s.approvals_channel, s.approval_ttl_hours) == ("msp", None, 24)


def test_partner_and_approvals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNER_TYPE", "DFIR")
    monkeypatch.setenv("APPROVALS_CHANNEL", "C0APPROVE")
    monkeypatch.setenv("APPROVAL_TTL_HOURS", "48")
    s = load_settings()
    assert (s.partner_type, s.approvals_channel, s.approval_ttl_hours) == ("dfir", "C0APPROVE", 48)


def test_env_file_and_admin_list(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "SLACK_BOT_TOKEN=xoxb-1\nBOT_ADMINS=U0A, U0B,\nDEFAULT_ROLE=None\nLOG_LEVEL=debug\n"
    )
    s = load_settings()
    assert s.slack_bot_token == "xoxb-1"
    assert s.bot_admins == {"U0A", "U0B"}
    assert s.access_policy.default_role is None
    assert s.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value", "hint"),
    [
        ("PORT", "eighty", "port number"),
        ("PORT", "70000", "port number"),
        ("SLACK_BOT_TOKEN", "xoxp-user", "Bot User OAuth Token"),
        ("SLACK_APP_TOKEN", "xoxb-1", "connections:write"),
        ("DATABASE_URL", "mysql://x/y", "sqlite+aiosqlite"),
        ("DATABASE_URL", "not a url", "sqlite+aiosqlite"),
        ("BOT_ADMINS", "U0A,bob", "comma"),
        ("DEFAULT_ROLE", "boss", "viewer, operator"),
        ("SLACK_API_URL", "ftp://x", "http"),
        ("PARTNER_TYPE", "reseller", "msp"),
        ("APPROVALS_CHANNEL", "#approvals", "channel ID"),
        ("APPROVAL_TTL_HOURS", "0", "hours"),
    ],
)
def test_bad_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, hint: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    [line] = err.value.lines
    assert line.startswith(f"{name}: ") and hint in line and "\n" not in line


def test_require_names_what_is_missing() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings().require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    assert [line.split(":")[0] for line in err.value.lines] == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ]


def test_vision_one_settings() -> None:
    from store.secrets import new_key

    s = load_settings()
    assert (s.bot_secret_key, s.vault, s.vision_one_base_url) == (None, None, None)
    assert (s.sync_interval_minutes, s.sync_concurrency, s.sync_requests_per_minute) == (
        240,
        16,
        6000,
    )
    key = new_key()
    s = load_settings(bot_secret_key=key, vision_one_base_url="http://127.0.0.1:8080/")
    assert s.vault is not None and s.vision_one_base_url == "http://127.0.0.1:8080"
    assert key not in repr(s) and key not in str(s.model_dump())


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("bot_secret_key", "hunter2-not-a-key", "BOT_SECRET_KEY: is not a key of 32 random bytes"),
        ("vision_one_base_url", "ftp://proxy", "VISION_ONE_BASE_URL: is not an http(s) URL"),
        ("sync_interval_minutes", "-5", "SYNC_INTERVAL_MINUTES: "),
        ("sync_concurrency", "0", "SYNC_CONCURRENCY: "),
    ],
)
def test_bad_vision_one_settings_are_one_clear_line(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(**{name: value})
    [line] = err.value.lines
    assert line.startswith(expected) and " — " in line
    assert "hunter2" not in line
