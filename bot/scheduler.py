"""Background jobs of the running bot: each runs every so often until the bot stops."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("overview.scheduler")
STOP_SECONDS = 10.0


async def every(seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
    """Run `job` now and then every `seconds`; a failure is logged and the next run goes on."""
    while True:
        try:
            await job()
        except Exception:
            log.exception("scheduled job %s failed; it runs again in %ss", name, seconds)
        await asyncio.sleep(seconds)


class Scheduler:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
        self._tasks.append(asyncio.create_task(every(seconds, name, job), name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: a job that swallowed its cancellation must not hang shutting down.
            _, stuck = await asyncio.wait(self._tasks, timeout=STOP_SECONDS)
            for task in stuck:
                where = io.StringIO()
                task.print_stack(limit=8, file=where)
                log.warning(
                    "job %s did not stop within %ss:\n%s",
                    task.get_name(),
                    STOP_SECONDS,
                    where.getvalue(),
                )
        self._tasks.clear()
