"""The Activity page in a real browser: Debian's Chromium, driven by Playwright, against
``nango-scripts serve`` as a subprocess on 127.0.0.1 and the fake API.

The project: integration ``fake`` with the syncs ``items`` (it fails for connection c2,
whose key the API refuses) and ``users``, integration ``other`` with ``pings``; all
start on their own. In the browser: a wrong key is refused and the right one logs in;
the failed run shows up and opens to its error; the filters change the list; the toggle
switches ``items`` off, and a connection created afterwards runs ``users`` but not
``items`` until it is switched on again; the Trigger button runs ``users`` and the run
appears in an open list, without a reload.

Playwright drives /usr/bin/chromium (never a downloaded browser): without it, the test
is skipped with the command that installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.fakeapi import FakeApi, Received
from support.server_harness import SECRET, free_port, make_project, serve, stop, wait_healthy
from support.waiting import eventually

pytestmark = pytest.mark.slow

KEYS = {"c1": "key-of-c1", "c2": "key-of-c2", "c3": "key-of-c3"}
TIMEOUT_MS = 15_000

FAKE_SYNCS = """
from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every hour", auto_start=True, description="All items")
async def items(nango: NangoSync) -> None:
    response = await nango.get("/items", retries=0)
    await nango.batch_save(response.json(), Item)


@sync(models=[Item], frequency="every hour", auto_start=True, description="All users")
async def users(nango: NangoSync) -> None:
    response = await nango.get("/users")
    await nango.batch_save(response.json(), Item)
"""

OTHER_SYNCS = """
from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Ping(BaseModel):
    id: str


@sync(models=[Ping], frequency="every hour", auto_start=True)
async def pings(nango: NangoSync) -> None:
    await nango.batch_save((await nango.get("/pings")).json(), Ping)
"""


def _items(request: Received) -> tuple[int, dict[str, str], Any]:
    if request.headers.get("x-key") == KEYS["c2"]:
        return 403, {}, {"message": "this key may not read items"}
    return 200, {}, [{"id": str(i), "n": i} for i in range(3)]


class Served:
    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.api = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=15
        )

    def connect(self, integration: str, connection_id: str) -> None:
        credentials = (
            {"type": "API_KEY", "apiKey": KEYS[connection_id]} if integration == "fake" else {}
        )
        answer = self.api.post(
            "/connections",
            json={
                "provider_config_key": integration,
                "connection_id": connection_id,
                "credentials": credentials,
            },
        )
        assert answer.status_code == 201, answer.text

    def operations(self, **query: str) -> list[dict[str, Any]]:
        answer = self.api.get("/logs", params={"type": "sync", **query})
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["operations"]
        return found

    def finished(self, **query: str) -> list[dict[str, Any]]:
        return self.operations(state="success,failed", **query)


@pytest.fixture
def served(tmp_path: Path, fake_api: FakeApi) -> Iterator[Served]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "NANGO_SECRET_KEY" and not k.startswith("NANGO_")
    }
    env.update(make_project(tmp_path, fake_api))
    root = Path(env["NANGO_SCRIPTS_PROJECT"])
    (root / "fake" / "syncs" / "items.py").write_text(FAKE_SYNCS)
    (root / "other" / "syncs").mkdir(parents=True)
    (root / "other" / "syncs" / "pings.py").write_text(OTHER_SYNCS)
    env["NANGO_INTEGRATION_OTHER_BASE_URL"] = fake_api.url
    env["NANGO_SECRET_KEY"] = SECRET
    fake_api.route("/items", _items)
    fake_api.route("/users", lambda r: (200, {}, [{"id": "u1", "n": 1}]))
    fake_api.route("/pings", lambda r: (200, {}, [{"id": "p1"}]))
    port = free_port()
    log = tmp_path / "serve.log"
    process = serve(env, port, log)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, log)
        served = Served(f"http://127.0.0.1:{port}", tmp_path)
        for integration, connection_id in (("fake", "c1"), ("fake", "c2"), ("other", "o1")):
            served.connect(integration, connection_id)
        yield served
        served.api.close()
    finally:
        if process.poll() is None:
            stop(process, log)


def row_ids(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(
        "tr[data-operation-id]", "rows => rows.map(r => r.dataset.operationId)"
    )
    return ids


def column(page: Any, index: int) -> list[str]:
    """The text of one cell (0-based) of every operation row."""
    texts: list[str] = page.eval_on_selector_all(
        "tr[data-operation-id]",
        f"rows => rows.map(r => r.cells[{index}].textContent.trim())",
    )
    return texts


def test_the_activity_page_in_chromium(served: Served, chromium: Any) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context(base_url=served.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    # -- log in: a wrong key is refused, the right one sets the session cookie -----------
    page.goto("/")
    page.get_by_label("Secret key").fill(SECRET + "-wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("That is not the secret key.")
    assert context.cookies() == []
    page.get_by_label("Secret key").fill(SECRET)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    [cookie] = context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert SECRET not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # HTTP-only: no script can read it

    # -- the failed run shows up (live), and opens to its error ---------------------------
    failed = page.locator('tr[data-state="failed"]', has_text="c2")
    expect(failed).to_have_count(1)
    failed.get_by_role("link", name="sync items").click()
    expect(page.get_by_role("heading", name="sync items")).to_be_visible()
    error = page.locator("pre.error")
    expect(error).to_contain_text("403")
    expect(error).to_contain_text("this key may not read items")
    expect(page.locator("table.messages")).to_contain_text("GET")

    # -- filters: state, then integration too, then integration alone ---------------------
    page.goto("/")
    eventually(lambda: len(served.finished()) >= 5, "the five first runs")
    page.reload()
    everything = row_ids(page)
    page.get_by_label("State").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{served.url}/?state=failed")  # "any" filters stay out
    expect(page.locator("tr[data-operation-id]")).to_have_count(1)
    assert column(page, 0) == ["failed"] and column(page, 4) == ["c2"]
    assert len(everything) > 1
    page.get_by_label("Integration").select_option("other")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr.empty")).to_have_text("No operation matches.")
    page.get_by_label("State").select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-operation-id]").first).to_be_visible()
    assert set(column(page, 3)) == {"other"}
    assert "sync pings" in column(page, 1)

    # -- the toggle: items off stops it for every connection, new ones included -----------
    page.goto("/scripts-view")
    switch = page.get_by_role("switch", name="items of fake enabled")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    expect(page.get_by_role("status")).to_contain_text("items of fake is off")
    expect(switch).to_have_attribute("aria-checked", "false")
    items = page.locator("#sync-fake-items")
    expect(items.locator("td.next-run")).to_have_text(["disabled", "disabled"])
    expect(items.get_by_role("button", name="Trigger items of fake")).to_be_disabled()
    status = served.api.get(
        "/sync/status", params={"syncs": "items", "provider_config_key": "fake"}
    ).json()["syncs"]
    assert [(s["status"], s["nextScheduledSyncAt"]) for s in status] == [("STOPPED", None)] * 2

    served.connect("fake", "c3")  # both syncs are due at once for it: only users runs
    eventually(lambda: served.finished(script="users", connection="c3"), "users for c3")
    assert served.operations(script="items", connection="c3") == []
    page.reload()
    expect(items.locator("tr[data-connection='c3'] td.next-run")).to_have_text("disabled")

    switch.click()  # on again: its runs resume, c3's first one at once
    expect(switch).to_have_attribute("aria-checked", "true")
    eventually(lambda: served.finished(script="items", connection="c3"), "items for c3")

    # -- the Trigger button: the run appears in an open list, without a reload ------------
    listing = context.new_page()
    listing.goto("/?script=users")
    listing.evaluate("window.notReloaded = true")
    before = row_ids(listing)
    assert before and set(column(listing, 5)) == {"users"}
    users = page.locator("#sync-fake-users")
    users.get_by_label("Connection to trigger users of fake for").select_option("c1")
    users.get_by_role("button", name="Trigger users of fake").click()
    expect(page.get_by_role("status")).to_have_text("Triggered users of fake for 1 connection(s).")
    listing.wait_for_function(
        """before => [...document.querySelectorAll('tr[data-operation-id]')]
            .some(row => !before.includes(row.dataset.operationId))""",
        arg=before,
        timeout=TIMEOUT_MS,
    )
    assert listing.evaluate("window.notReloaded") is True
    new = [i for i in row_ids(listing) if i not in before]
    assert len(new) == 1
    fresh = listing.locator(f'tr[data-operation-id="{new[0]}"]')
    expect(fresh.locator("td").nth(4)).to_have_text("c1")
    assert set(column(listing, 5)) == {"users"}  # the filter stayed applied
    expect(fresh).to_have_attribute("data-state", "success")  # and it kept updating
    expect(listing.locator("#live-status")).to_contain_text("Live: updated at")
    context.close()


ELSEWHERE = "http://elsewhere.example"
"""Another site (answered inside the browser): where a link to an operation is shared."""


def test_a_link_from_another_site_opens_the_operation_but_its_posts_carry_no_session(
    served: Served, chromium: Any
) -> None:
    """SameSite=Lax: following a link from another site (Slack, an email) to an
    operation shows it to a logged-in user; a form on that site posting to the toggle
    arrives without the session cookie and changes nothing."""
    from playwright.sync_api import expect

    run = eventually(lambda: served.finished(connection="c1"), "a run of c1")[0]
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    target = f"{served.url}/activity/{run['id']}"
    toggle = f"{served.url}/scripts-view/toggle"
    elsewhere = f"""<!doctype html><title>chat</title>
        <a href="{target}">the failed run</a>
        <form method="post" action="{toggle}">
          <input name="integration" value="fake"><input name="sync" value="items">
          <input name="enabled" value="false"><button>switch it off</button>
        </form>"""
    context.route(
        f"{ELSEWHERE}/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=elsewhere),
    )
    page = context.new_page()
    page.goto(f"{served.url}/")
    page.get_by_label("Secret key").fill(SECRET)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()

    page.goto(f"{ELSEWHERE}/thread")
    page.get_by_role("link", name="the failed run").click()
    expect(page).to_have_url(target)
    expect(page.get_by_role("heading", name=run["title"])).to_be_visible()
    expect(page.locator('form[action="/login"]')).to_have_count(0)

    page.goto(f"{ELSEWHERE}/thread")
    page.get_by_role("button", name="switch it off").click()
    expect(page).to_have_url(toggle)
    expect(page.locator('form[action="/login"]')).to_have_count(1)  # no session came
    config = served.api.get("/scripts/config").json()
    [items] = [s for i in config for s in i["syncs"] if s["name"] == "items"]
    assert items["enabled"] is True
    context.close()
