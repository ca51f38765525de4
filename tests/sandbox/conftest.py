"""The sandbox in a real browser: headless Chromium driven by Playwright.

Without Chromium these tests are skipped with the reason shown, unless REQUIRE_BROWSER=1
(as `.ci/run` sets it), where a missing browser fails them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.run import Sandbox, start_sandbox
from bot.settings import load_settings

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture
async def sandbox(db_url: str) -> AsyncIterator[Sandbox]:
    """The sandbox on a free port, with its demo portfolio, on SQLite or PostgreSQL."""
    settings = load_settings(_env_file=None, default_role="viewer")
    box = await start_sandbox(settings, port=0, database_url=db_url)
    try:
        yield box
    finally:
        await box.stop()
    assert not box.workspace.problems, box.workspace.problems


@pytest.fixture
async def page(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[object]:
    reason = browser_missing()
    if reason is not None:
        if REQUIRE_BROWSER:
            pytest.fail(f"{reason} (REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            args=ARGS,
            viewport={"width": 1280, "height": 860},
        )
        try:
            tab = context.pages[0] if context.pages else await context.new_page()
            tab.set_default_timeout(15_000)
            await tab.goto(sandbox.url + "/")
            yield tab
        finally:
            await context.close()
