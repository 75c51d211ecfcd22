"""The API reference of an integration in a real browser (Debian's Chromium through
Playwright): from the Scripts view to the reference, the sync's endpoint is listed with
its parameters and model, and the ``curl`` shown, run as given, returns its records."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
from support.endpoints_harness import Api
from support.server_harness import SECRET

pytestmark = pytest.mark.slow


def test_the_curl_of_a_sync_endpoint_returns_its_records(api: Api, chromium: Any) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context(base_url=str(api.client.base_url))
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Secret key").fill(SECRET)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    page.goto("/scripts-view")
    page.locator("#integration-fake").get_by_role("link", name="API reference").click()
    expect(page.get_by_role("heading", name="API reference: fake")).to_be_visible()

    items = page.locator('section.endpoint[data-method="GET"][data-path="/items"]')
    expect(items).to_have_count(1)
    expect(items.locator("table.parameters")).to_contain_text("modified_after")
    expect(items.locator("table.fields")).to_contain_text("id")
    expect(page.locator('section.endpoint[data-path="/pairs"] table.parameters')).to_contain_text(
        "Left, Right"
    )
    expect(page.locator('section.endpoint[data-method="POST"][data-path="/greet"]')).to_have_count(
        1
    )
    curl = items.locator("pre.snippet-curl").inner_text()
    assert SECRET not in page.content()  # the snippets read the key from the environment
    context.close()

    done = subprocess.run(
        ["bash", "-c", curl],
        env={**os.environ, "NANGO_SECRET_KEY": SECRET},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer == api.get("/records", model="Item").json()
    assert len(answer["records"]) == 5
