"""The shape of what Slack sends, checked before Bolt sees it.

Bolt assumes Slack's shapes (a dict where Slack sends one, a string id, …) and answers 500
to a signed body that breaks them. These models name the fields Bolt and our listeners read;
anything else passes through untouched.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator


class Malformed(Exception):
    pass


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    # Keys Bolt reads as `body.get(key, {}).get(...)`: present, they must not be null.
    _not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in cls._not_null:
                if key in data and data[key] is None:
                    raise ValueError(f"{key} is null")
        return data


def _url(v: str | None) -> str | None:
    if v is not None and not v.startswith(("https://", "http://")):
        raise ValueError("is not a URL")
    return v


class _User(_Loose):
    id: str
    team_id: str | None = None


class _Ref(_Loose):
    id: str | None = None


class _Action(_Loose):
    action_id: str
    block_id: str | None = None
    value: str | None = None
    type: str | None = None


class _View(_Loose):
    id: str | None = None
    callback_id: str | None = None
    private_metadata: str | None = None
    type: str | None = None
    state: dict[str, Any] | None = None


class Interaction(_Loose):
    _not_null = ("view",)
    type: str
    user: _User | None = None
    team: _Ref | None = None
    channel: _Ref | None = None
    enterprise: _Ref | None = None
    container: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    actions: list[_Action] | None = None
    view: _View | None = None
    callback_id: str | None = None
    trigger_id: str | None = None
    api_app_id: str | None = None
    response_url: str | None = None
    is_enterprise_install: bool | None = None

    _check_url = field_validator("response_url")(_url)


class Command(_Loose):
    command: str
    user_id: str
    text: str = ""
    team_id: str | None = None
    enterprise_id: str | None = None
    channel_id: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None

    _check_url = field_validator("response_url")(_url)

    @field_validator("command")
    @classmethod
    def _slash(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError("is not a slash command")
        return v


class _Event(_Loose):
    type: str
    user: str | None = None
    channel: str | None = None


class EventEnvelope(_Loose):
    _not_null = ("event",)
    type: str
    event: _Event | None = None
    team_id: str | None = None
    api_app_id: str | None = None
    event_id: str | None = None
    challenge: str | None = None
    authorizations: list[dict[str, Any]] | None = None
    enterprise_id: str | None = None
    is_ext_shared_channel: bool | None = None


def _first(form: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in form.items()}


def check_shape(body: bytes, content_type: str) -> None:
    """Raise Malformed, with a short reason, for a body Bolt would choke on."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("body is not UTF-8") from None
    try:
        if content_type.startswith("application/json"):
            envelope = EventEnvelope.model_validate(json.loads(text))
            if envelope.type == "event_callback" and envelope.event is None:
                raise Malformed("event_callback needs an event")
            return
        form = _first(parse_qs(text, keep_blank_values=True))
        if "payload" in form:
            interaction = Interaction.model_validate(json.loads(form["payload"]))
            if interaction.type == "block_actions" and not interaction.actions:
                raise Malformed("block_actions needs actions")
            return
        if "command" in form:
            Command.model_validate(form)
            return
        if "ssl_check" in form:
            return
    except ValueError as e:  # json errors and pydantic's ValidationError
        raise Malformed(_reason(e)) from None
    raise Malformed("not a Slack request")


def _reason(e: ValueError) -> str:
    if isinstance(e, ValidationError):
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "body"
        return f"{where}: {err['msg']}"
    return "not valid JSON"
