"""The Scripts view's "Latest result" column: each connection's own latest run (read for
the whole integration at once), and "never ran" for a connection without one."""

from __future__ import annotations

import re

import pytest
from support.server_harness import SECRET, Harness, anonymous

pytestmark = pytest.mark.anyio


def _cells(html: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-connection="([^"]+)">(.*?)</tr>', html, re.S)
    return {connection: " ".join(cells.split()) for connection, cells in rows}


async def test_each_connection_shows_its_latest_run_or_never_ran(harness: Harness) -> None:
    connections = harness.service.connections
    connections.create("fake", "c2", {"type": "API_KEY", "apiKey": "nope"})
    connections.create("fake", "c3", {"type": "API_KEY", "apiKey": "unused"})
    await harness.run_items("c2")  # 401 from the API: failed
    await harness.run_items("c1")
    await harness.run_items("c1")
    store = harness.service.activity.store
    assert store is not None

    def latest_id(connection: str) -> str:
        page = store.list_operations(
            "dev", integration_id="fake", connection_id=connection, script="items", types=["sync"]
        )
        return page.operations[0].id

    async with anonymous(harness) as browser:
        login = await browser.post("/login", data={"key": SECRET, "next": "/scripts-view"})
        assert login.status_code == 303
        view = await browser.get("/scripts-view")
    assert view.status_code == 200
    cells = _cells(view.text)

    assert sorted(cells) == ["c1", "c2", "c3"]
    assert f'href="/activity/{latest_id("c1")}"' in cells["c1"]
    # the second run: its records were saved by the first
    assert "state-success" in cells["c1"] and "Item: +0 ~0" in cells["c1"]
    assert f'href="/activity/{latest_id("c2")}"' in cells["c2"]
    assert "state-failed" in cells["c2"] and "error-line" in cells["c2"]
    assert "never ran" in cells["c3"] and "/activity/" not in cells["c3"]
