"""What listeners need, handed to them through Bolt's context."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

from store.access import AccessPolicy, Actor, Who, resolve_actor
from store.actions import Operations
from store.db import Database
from store.digests import Digests
from store.lmp import LmpClient
from store.models import utcnow
from store.sync import Syncer

CONTEXT_KEY = "overview_deps"

log = logging.getLogger("overview.deps")
DRAIN_SECONDS = 30.0


@dataclass
class Deps:
    db: Database
    policy: AccessPolicy
    ops: Operations
    digests: Digests
    approvals_channel: str | None = None  # None: the channel the request was made in
    syncer: Syncer | None = None  # None: no BOT_SECRET_KEY, so no Vision One sync
    clock: Callable[[], dt.datetime] = utcnow
    # Work that outlives its request (a slow reply finished after the ack).
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    ack_budget: float = 2.0  # seconds; Slack's hard limit is 3
    lmp: LmpClient | None = None  # Trend's LMP, when configured

    def today(self) -> dt.date:
        return self.clock().date()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self.start(coro)

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` to its end even if the request that started it ends first."""
        task: asyncio.Task[Any] = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def close(self) -> None:
        if self.lmp is not None:
            await self.lmp.close()

    async def drain(self) -> None:
        """Wait for background work to end (it may start more), for at most DRAIN_SECONDS.

        Shutting down must not hang on a task stuck on the network: what is left is
        logged with where it waits, then cancelled.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_SECONDS
        while self.tasks:  # tasks may start others (a finished provisioning refreshes Home)
            left = deadline - loop.time()
            if left <= 0:
                stuck = list(self.tasks)
                for task in stuck:
                    log.warning("still running at shutdown, cancelled: %r", task)
                    task.cancel()
                await asyncio.wait(stuck, timeout=5)
                return
            await asyncio.wait(list(self.tasks), timeout=left)


def deps_of(context: AsyncBoltContext) -> Deps:
    deps = context.get(CONTEXT_KEY)
    assert isinstance(deps, Deps), "bot.app must install the deps middleware"
    return deps


def requester_team(body: dict[str, Any]) -> str | None:
    """The workspace of the person who sent this (not of the channel)."""
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("team_id"), str):
        return user["team_id"]
    for key in ("user_team", "team_id"):
        if isinstance(body.get(key), str):
            return str(body[key])
    team = body.get("team")
    if isinstance(team, dict) and isinstance(team.get("id"), str):
        return team["id"]
    return None


def is_external(context: AsyncBoltContext, body: dict[str, Any]) -> bool:
    """True for a person from another workspace, e.g. in a Slack Connect channel."""
    auth = context.authorize_result
    home = auth.team_id if auth is not None else None
    theirs = requester_team(body)
    return bool(home and theirs and home != theirs)


def user_id_of(body: dict[str, Any]) -> str:
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id", ""))
    return str(body.get("user_id", ""))


def user_name_of(body: dict[str, Any]) -> str:
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("username") or user.get("name") or user.get("id", ""))
    return str(body.get("user_name") or body.get("user_id", ""))


def channel_of(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict) and isinstance(channel.get("id"), str):
        return channel["id"]
    container = body.get("container")
    if isinstance(container, dict) and isinstance(container.get("channel_id"), str):
        return container["channel_id"]
    value = body.get("channel_id")
    return value if isinstance(value, str) else None


def who_of(context: AsyncBoltContext, body: dict[str, Any], channel_id: str | None = None) -> Who:
    return Who(
        user_id_of(body),
        external=is_external(context, body),
        name=user_name_of(body),
        channel_id=channel_id or channel_of(body),
    )


async def actor_for(
    deps: Deps,
    session: Any,
    context: AsyncBoltContext,
    body: dict[str, Any],
    channel_id: str | None = None,
) -> Actor:
    """Who is asking, resolved now: a role revoked since a button was drawn counts."""
    return await resolve_actor(session, deps.policy, who_of(context, body, channel_id))
