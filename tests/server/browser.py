"""What the browser tests of this folder share: Debian's Chromium driven by Playwright
(never a downloaded browser; without it the tests skip naming the command that installs
it) and a polling wait."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

__all__ = ["CHROMIUM", "chromium", "until"]

CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get install -y chromium (Debian's Chromium; the tests never download a browser)"

T = TypeVar("T")


def until(condition: Callable[[], T | None], what: str, seconds: float = 15) -> T:
    """Poll ``condition`` until it gives something truthy; fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def chromium() -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no {CHROMIUM}: install it with {INSTALL}")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()
