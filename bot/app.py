"""The AsyncApp factory: one app, its listeners registered once, at start-up."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from handlers import actions, command, customers, errors, home
from handlers.deps import CONTEXT_KEY, Deps

LISTENER_MODULES = (errors, command, customers, actions, home)


def make_client(settings: Settings) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(settings: Settings, deps: Deps) -> AsyncApp:
    settings.require("SLACK_BOT_TOKEN")
    app = AsyncApp(
        client=make_client(settings),
        signing_secret=settings.slack_signing_secret or "unused-in-socket-mode",
        # The reply to a command rides in the HTTP answer; no 10 ms ack poll.
        process_before_response=True,
        # bot.server verifies signatures before Bolt sees a request; Socket Mode has none.
        request_verification_enabled=False,
        logger=logging.getLogger("overview.bolt"),
    )

    async def inject(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        context[CONTEXT_KEY] = deps
        await next()

    app.use(inject)
    for module in LISTENER_MODULES:
        module.register(app)
    return app
