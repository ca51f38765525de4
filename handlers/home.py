"""The App Home tab: published when a person opens it, and again after what they do there."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from blocks.home import home_view
from handlers.deps import Deps, deps_of, is_external
from store.access import Who
from store.home import read_home

log = logging.getLogger("overview.home")


async def refresh_home(
    deps: Deps, client: AsyncWebClient, who: Who, *, note: str | None = None
) -> None:
    """Read and publish `who`'s Home tab; `note` goes on top (what just happened)."""
    actor, data = await read_home(deps.db, deps.policy, who, deps.ops.clock())
    await client.views_publish(user_id=who.user_id, view=home_view(actor, data, note=note))


async def _refresh_quietly(deps: Deps, client: AsyncWebClient, who: Who, note: str | None) -> None:
    try:
        await refresh_home(deps, client, who, note=note)
    except Exception:  # a stale tab is better than a failed action; the next open redraws it
        log.warning("could not publish the Home tab of %s", who.user_id, exc_info=True)


def refresh_later(deps: Deps, client: AsyncWebClient, who: Who, *, note: str | None = None) -> None:
    """Refresh a Home tab after the request is answered: never slows or breaks the action."""
    if who.user_id:
        deps.spawn(_refresh_quietly(deps, client, who, note))


async def on_home_opened(
    event: dict[str, Any], body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    if event.get("tab") != "home":  # the Messages tab needs nothing from us
        return
    user = event.get("user")
    if not isinstance(user, str) or not user:
        return
    # The envelope's team_id is the opener's workspace: someone from another one is external.
    who = Who(user, external=is_external(context, body))
    # Published after the ack: Slack retries an event not acknowledged within 3 seconds.
    refresh_later(deps_of(context), client, who)


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(on_home_opened)
