"""What the browser tests share: Debian's Chromium driven by Playwright (never a
downloaded browser; without it the tests skip naming the command that installs it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["CHROMIUM", "chromium"]

CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get install -y chromium (Debian's Chromium; the tests never download a browser)"


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
