"""The one error handler: typed errors become clear messages, others an apology with a reference."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp

from blocks.actions import notice_view
from blocks.message import Message, apology, notice
from store.errors import OverviewError

log = logging.getLogger("overview.errors")


def error_message(error: BaseException) -> Message:
    if isinstance(error, OverviewError):
        return notice(error.message)
    reference = uuid.uuid4().hex[:10]
    log.error("unexpected error ref=%s", reference, exc_info=error)
    return apology(reference)


def command_reply(message: Message, *, public: bool = False) -> BoltResponse:
    """The HTTP answer to a slash command: Slack shows its body as the reply."""
    payload = {"response_type": "in_channel" if public else "ephemeral", **message.payload()}
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )


async def on_error(error: Exception, body: dict[str, Any], respond: Any) -> BoltResponse:
    message = error_message(error)
    if isinstance(body, dict) and "command" in body:
        return command_reply(message)
    if isinstance(body, dict) and body.get("type") == "view_submission":
        # A form's answer goes back into the form: it becomes the message.
        view = notice_view("Nothing was done", message.text).to_dict()
        return BoltResponse(
            status=200,
            body=json.dumps({"response_action": "update", "view": view}),
            headers={"content-type": "application/json;charset=utf-8"},
        )
    if respond is not None and isinstance(body, dict) and body.get("response_url"):
        try:
            await respond(response_type="ephemeral", replace_original=False, **message.payload())
        except Exception:
            log.exception("could not tell the user about an error")
    return BoltResponse(status=200, body="")


def register(app: AsyncApp) -> None:
    app.error(on_error)
