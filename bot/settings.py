"""Settings from the environment and `.env`, checked up front with clear messages."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from store.access import AccessPolicy, check_user_id
from store.db import DEFAULT_URL
from store.enums import PartnerType, Role
from store.errors import InvalidInput
from store.lmp import DEFAULT_URL as LMP_URL
from store.secrets import TokenVault, check_key
from store.sync import DEFAULT_REQUESTS_PER_MINUTE

SLACK_API = "https://slack.com/api/"

# How to fix each setting, appended to its error line.
HINTS = {
    "SLACK_BOT_TOKEN": "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "copy the Signing Secret from the app's Basic Information page",
    "SLACK_APP_TOKEN": "create an app-level token (xapp-…) with connections:write under Basic Information",
    "SLACK_API_URL": "leave it unset for Slack, or give an http(s) URL ending in /api/",
    "DATABASE_URL": "use sqlite+aiosqlite:///overview.db or postgresql+asyncpg://user@host/db",
    "HOST": "give an address to listen on, such as 0.0.0.0 or 127.0.0.1",
    "PORT": "give a port number from 1 to 65535",
    "BOT_ADMINS": "give Slack user IDs separated by commas, such as U0123ABCD,U0456EFGH",
    "DEFAULT_ROLE": "use viewer, operator, approver, admin or none",
    "LOG_LEVEL": "use DEBUG, INFO, WARNING or ERROR",
    "PARTNER_TYPE": "use msp (managed service provider) or dfir (incident response)",
    "APPROVALS_CHANNEL": "give a channel ID such as C0123ABCD, or leave it unset",
    "APPROVAL_TTL_HOURS": "give a number of hours from 1 to 720",
    "LMPI_URL": "leave it unset for https://cspi.trendmicro.com, or give an https URL",
    "LMPI_ACCESS_TOKEN": "ask your Trend Micro channel account manager for the LMPI access token",
    "LMPI_SECRET_KEY": "ask your Trend Micro channel account manager for the LMPI secret key",
    "LMP_SYNC_INTERVAL_MINUTES": "give a number of minutes from 1 to 10080",
    "BOT_SECRET_KEY": "generate one with `overview-bot secret-key` and keep it: stored API "
    "tokens cannot be read without it",
    "VISION_ONE_BASE_URL": "leave it unset for Trend's regional hosts, or give an http(s) URL "
    "(a proxy or a test stand-in)",
    "SYNC_INTERVAL_MINUTES": "give minutes from 1 to 10080, or 0 to sync only with "
    "`overview-bot sync`",
    "SYNC_CONCURRENCY": "give a number of customers pulled at once, from 1 to 200",
    "SYNC_REQUESTS_PER_MINUTE": "give a number of requests per minute in all, or 0 for no cap",
}


class SettingsError(Exception):
    """One line per bad setting, each naming it and how to fix it."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = SLACK_API
    database_url: str = DEFAULT_URL
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    bot_admins: Annotated[frozenset[str], NoDecode] = frozenset()
    default_role: Literal["viewer", "operator", "approver", "admin", "none"] = "viewer"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    partner_type: PartnerType = PartnerType.MSP
    approvals_channel: str | None = None
    approval_ttl_hours: int = Field(default=24, ge=1, le=720)
    # Trend's Licensing Management Platform; without token and key the local ledger stays.
    lmpi_url: str = LMP_URL
    lmpi_access_token: str | None = None
    lmpi_secret_key: SecretStr | None = None
    lmp_sync_interval_minutes: int = Field(default=60, ge=1, le=10080)

    @field_validator("lmpi_url")
    @classmethod
    def _lmpi_url(cls, v: str) -> str:
        if not v.startswith(("https://", "http://")):
            raise ValueError("is not an http(s) URL")
        return v.rstrip("/")

    @field_validator("lmpi_access_token")
    @classmethod
    def _lmpi_token(cls, v: str | None) -> str | None:
        return v.strip() or None if v else None

    @field_validator("lmpi_secret_key")
    @classmethod
    def _lmpi_key(cls, v: SecretStr | None) -> SecretStr | None:
        # Stripped: a space pasted with the key would make every signature wrong.
        key = v.get_secret_value().strip() if v is not None else ""
        return SecretStr(key) if key else None

    @property
    def lmp_configured(self) -> bool:
        return bool(self.lmpi_access_token and self.lmpi_secret_key)

    bot_secret_key: SecretStr | None = None
    vision_one_base_url: str | None = None
    sync_interval_minutes: int = Field(default=240, ge=0, le=10080)
    sync_concurrency: int = Field(default=16, ge=1, le=200)
    sync_requests_per_minute: int = Field(default=DEFAULT_REQUESTS_PER_MINUTE, ge=0, le=1_000_000)

    @field_validator("bot_secret_key", mode="before")
    @classmethod
    def _secret_key(cls, v: object) -> object:
        if v is None or v == "":
            return None
        raw = v.get_secret_value() if isinstance(v, SecretStr) else v
        if not isinstance(raw, str):
            raise ValueError("is not text")
        return check_key(raw)  # its error never repeats the key

    @field_validator("vision_one_base_url")
    @classmethod
    def _v1_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        if not v.startswith(("http://", "https://")):
            raise ValueError("is not an http(s) URL")
        return v.rstrip("/")

    @field_validator("partner_type", mode="before")
    @classmethod
    def _partner(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("approvals_channel")
    @classmethod
    def _channel(cls, v: str | None) -> str | None:
        if not v:
            return None
        if not (v[:1] in "CG" and v.isalnum() and v.isupper()):
            raise ValueError(f"'{v}' is not a channel ID")
        return v

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: str | None) -> str | None:
        if v and not v.startswith("xoxb-"):
            raise ValueError("must start with xoxb-")
        return v or None

    @field_validator("slack_signing_secret")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        return v or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: str | None) -> str | None:
        if v and not v.startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return v or None

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("is not an http(s) URL")
        return v if v.endswith("/") else v + "/"

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        try:
            url = make_url(v)
        except ArgumentError:
            raise ValueError("is not a database URL") from None
        if url.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
            raise ValueError(f"uses driver {url.drivername!r}, which is not supported")
        return v

    @field_validator("bot_admins", mode="before")
    @classmethod
    def _admins(cls, v: object) -> frozenset[str]:
        if isinstance(v, str):
            items = [x for x in v.replace(" ", "").split(",") if x]
        elif isinstance(v, list | tuple | set | frozenset):
            items = [str(x) for x in v]
        else:
            raise ValueError("is not a list of user IDs")
        try:
            return frozenset(check_user_id(x) for x in items)
        except InvalidInput as e:
            raise ValueError(e.message.replace("“", "'").replace("”", "'").rstrip(".")) from None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v

    @field_validator("default_role", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.lower() if isinstance(v, str) else v

    @property
    def access_policy(self) -> AccessPolicy:
        role = None if self.default_role == "none" else Role(self.default_role)
        return AccessPolicy.of(self.bot_admins, role)

    @property
    def vault(self) -> TokenVault | None:
        key = self.bot_secret_key
        return TokenVault(key.get_secret_value()) if key is not None else None

    def require(self, *names: str) -> None:
        """Fail with one line per missing setting a command needs."""
        missing = [n for n in names if not getattr(self, n.lower())]
        if missing:
            raise SettingsError([f"{n}: not set — {HINTS[n]}." for n in missing])


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        lines = []
        for err in e.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "settings"
            msg = err["msg"].removeprefix("Value error, ").rstrip(".")
            lines.append(f"{name}: {msg} — {HINTS.get(name, 'check its value')}.")
        raise SettingsError(lines) from None


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
