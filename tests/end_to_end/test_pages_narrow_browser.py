"""The pages on a narrow screen, and their clock, in a real browser: Debian's Chromium
driven by Playwright against ``nango-scripts serve`` as a subprocess on 127.0.0.1.

At 420 px wide no page scrolls sideways as a whole: a wide table scrolls inside its own
box, beside the text that stays in view. The Activity page's live label says when it was
updated in the format of every other time on the pages (UTC, 24-hour).

Playwright drives /usr/bin/chromium (never a downloaded browser): without it, the tests
are skipped with the command that installs it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.fakeapi import FakeApi
from support.server_harness import (
    API_KEY,
    SECRET,
    _items,
    free_port,
    make_project,
    serve,
    stop,
    wait_healthy,
)
from support.waiting import eventually

pytestmark = pytest.mark.slow

TIMEOUT_MS = 15_000
NARROW = {"width": 420, "height": 800}
CONNECTION = "connection-with-a-rather-long-identifier-0123456789"
MOMENT = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC"
"""How the pages write a time (``moment`` in server/_page_render.py)."""


class Served:
    def __init__(self, url: str) -> None:
        self.url = url
        self.api = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=15
        )

    def finished_run(self) -> str:
        def finished() -> list[dict[str, Any]]:
            answer = self.api.get("/logs", params={"type": "sync", "state": "success"})
            assert answer.status_code == 200, answer.text
            found: list[dict[str, Any]] = answer.json()["operations"]
            return found

        return str(eventually(finished, "a finished run of items")[0]["id"])


@pytest.fixture
def served(tmp_path: Path, fake_api: FakeApi) -> Iterator[Served]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
    env.update(make_project(tmp_path, fake_api))
    env["NANGO_SECRET_KEY"] = SECRET
    config = Path(env["NANGO_SCRIPTS_PROJECT"]) / "nango.toml"
    config.write_text(config.read_text() + '\n[integrations.github]\nprovider = "github"\n')
    fake_api.route("/items", _items)
    port = free_port()
    log = tmp_path / "serve.log"
    process = serve(env, port, log)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        served = Served(f"http://127.0.0.1:{port}")
        created = served.api.post(
            "/connections",
            json={
                "provider_config_key": "fake",
                "connection_id": CONNECTION,
                "credentials": {"type": "API_KEY", "apiKey": API_KEY},
            },
        )
        assert created.status_code == 201, created.text
        trigger = {"syncs": ["items"], "provider_config_key": "fake", "connection_id": CONNECTION}
        assert served.api.post("/sync/trigger", json=trigger).status_code == 200
        yield served
        served.api.close()
    finally:
        if process.poll() is None:
            stop(process, log)


def _log_in(page: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_label("Secret key").fill(SECRET)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()


def _fits(page: Any, where: str) -> None:
    """No sideways scroll of the page; every table scrolls in a box that fits the screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"{where}: the page is {width} px wide"
    tables = page.eval_on_selector_all(
        "table",
        """tables => tables.map(table => {
            const box = table.closest('.table-scroll');
            if (!box) return {scrolls: false, right: 0};
            return {scrolls: getComputedStyle(box).overflowX === 'auto',
                    right: box.getBoundingClientRect().right};
        })""",
    )
    for table in tables:
        assert table["scrolls"], f"{where}: a table outside a scrolling box"
        assert table["right"] <= NARROW["width"], f"{where}: a table box past the screen"


def test_every_page_fits_a_narrow_screen(served: Served, chromium: Any) -> None:
    from playwright.sync_api import expect

    operation = served.finished_run()
    context = chromium.new_context(base_url=served.url, viewport=NARROW)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    page.goto("/login")
    expect(page.get_by_label("Secret key")).to_be_visible()
    _fits(page, "login")

    _log_in(page)
    expect(page.locator(f'tr[data-operation-id="{operation}"]')).to_be_visible()
    _fits(page, "Activity")

    page.goto(f"/activity/{operation}")
    expect(page.locator("table.messages")).to_contain_text("GET")
    _fits(page, "an operation")

    page.goto("/scripts-view")
    expect(page.locator(f'tr[data-connection="{CONNECTION}"]')).to_be_visible()
    expect(page.locator("table.templates").first).to_be_visible()
    _fits(page, "Scripts (with templates)")

    page.goto("/scripts-view/reference/fake")
    expect(page.locator("section.endpoint").first).to_be_visible()
    _fits(page, "API reference")
    context.close()


def test_the_live_label_writes_the_time_as_the_page_does(served: Served, chromium: Any) -> None:
    from playwright.sync_api import expect

    served.finished_run()
    context = chromium.new_context(base_url=served.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    _log_in(page)

    status = page.locator("#live-status")
    expect(status).to_contain_text("Live: updated at")
    assert re.fullmatch(f"Live: updated at {MOMENT}", status.inner_text().strip())
    started = page.locator("tr[data-operation-id] time").first.inner_text()
    assert re.fullmatch(MOMENT, started)
    context.close()
