"""The Scripts page's template toggles in a real browser: Debian's Chromium, driven by
Playwright, against ``nango-scripts serve`` as a subprocess on 127.0.0.1 and a local
imitation of GitHub answering from the built-in pack's ``repositories`` fixture.

The project has no script of its own: only ``[integrations.github] provider = "github"``,
with two connections. In the browser: the github section lists the pack's sync and
action templates; switching ``repositories`` on shows it among the integration's syncs
and it runs at once for both connections (their records arrive through the API); switched
off, it leaves the syncs, cannot be triggered and does not run even when its schedules
come due, while the records stay readable.

Playwright drives /usr/bin/chromium (never a downloaded browser): without it, the test
is skipped with the command that installs it.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.imitation import Imitation, load_fixture
from support.server_harness import SECRET, free_port, serve, stop, wait_healthy
from support.waiting import eventually

from nango_scripts.store import ScheduleKey, ScheduleStore

pytestmark = pytest.mark.slow

TIMEOUT_MS = 15_000
FIXTURE = Path(__file__).resolve().parents[2] / "templates/github/tests/fixtures/repositories.json"
CONNECTIONS = ("c1", "c2")
TICK_S = 1.0
"""The scheduler's tick under ``serve``: a due schedule starts within one."""


class Served:
    def __init__(self, url: str, database_url: str, github: Imitation) -> None:
        self.url = url
        self.database_url = database_url
        self.github = github
        self.api = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=15
        )

    def records(self, connection_id: str) -> httpx.Response:
        return self.api.get(
            "/records",
            params={"model": "Repository"},
            headers={"Connection-Id": connection_id, "Provider-Config-Key": "github"},
        )

    def repositories(self, connection_id: str) -> dict[str, Any]:
        answer = self.records(connection_id)
        assert answer.status_code == 200, answer.text
        return {r["id"]: r for r in answer.json()["records"]}

    def operations(self, **query: str) -> list[dict[str, Any]]:
        answer = self.api.get("/logs", params={"type": "sync", "integration": "github", **query})
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["operations"]
        return found

    def make_due(self, *connection_ids: str) -> None:
        """Bring the next run of ``repositories`` forward to now, as if its hour had
        passed (its frequency is hourly: the test cannot wait for it)."""
        with ScheduleStore.open(self.database_url) as schedules:
            for connection_id in connection_ids:
                schedules.set_next_run(key(connection_id), datetime.now(UTC))

    def next_run(self, connection_id: str) -> datetime | None:
        with ScheduleStore.open(self.database_url) as schedules:
            schedule = schedules.get(key(connection_id))
        assert schedule is not None
        return schedule.next_run_at


def key(connection_id: str) -> ScheduleKey:
    return ScheduleKey("dev", "github", connection_id, "repositories")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with Imitation(load_fixture(FIXTURE)) as github:
        root = tmp_path / "proj"
        root.mkdir()
        (root / "nango.toml").write_text(
            f'[integrations.github]\nprovider = "github"\nbase_url = "{github.base_url}"\n'
        )
        database_url = f"sqlite:///{tmp_path}/state/nango.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
        env.update(
            NANGO_SCRIPTS_PROJECT=str(root),
            NANGO_SCRIPTS_DATABASE_URL=database_url,
            NANGO_ENCRYPTION_KEY=base64.b64encode(bytes(32)).decode(),
            NANGO_SECRET_KEY=SECRET,
        )
        port = free_port()
        log = tmp_path / "serve.log"
        process = serve(env, port, log)
        try:
            wait_healthy(f"http://127.0.0.1:{port}", process, log)
            served = Served(f"http://127.0.0.1:{port}", database_url, github)
            for connection_id in CONNECTIONS:
                answer = served.api.post(
                    "/connections",
                    json={
                        "provider_config_key": "github",
                        "connection_id": connection_id,
                        "credentials": {"type": "OAUTH2", "access_token": f"at-{connection_id}"},
                    },
                )
                assert answer.status_code == 201, answer.text
            yield served
            served.api.close()
        finally:
            if process.poll() is None:
                stop(process, log)


def fixture_repository_ids() -> set[str]:
    return {
        str(raw["id"])
        for entry in load_fixture(FIXTURE).responses
        if entry["path"] == "/user/repos"
        for raw in entry["body"]
    }


def test_a_template_switched_on_and_off_in_chromium(served: Served, chromium: Any) -> None:
    from playwright.sync_api import expect

    expected = fixture_repository_ids()
    assert len(expected) == 3  # two pages: the Link pagination is part of the run
    # Before: no sync declares Repository, so the API calls it a typo.
    assert served.records("c1").status_code == 400
    assert served.operations() == []

    context = chromium.new_context(base_url=served.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Secret key").fill(SECRET)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    page.goto("/scripts-view")

    # -- the github section lists the pack's templates, all off -------------------------------
    section = page.locator("#integration-github")
    expect(section.get_by_role("heading", name="Sync templates")).to_be_visible()
    expect(section.get_by_role("heading", name="Action templates")).to_be_visible()
    syncs_table = section.locator("table.templates").first
    names = syncs_table.locator("tr[data-template]").evaluate_all(
        "rows => rows.map(r => r.dataset.template)"
    )
    assert {"issues", "pull-requests", "repositories"} <= set(names)
    expect(section.locator('tr[data-template="create-issue"]')).to_have_count(1)
    expect(syncs_table.locator('tr[data-template="create-issue"]')).to_have_count(0)
    switch = section.get_by_role("switch", name="template repositories for github enabled")
    expect(switch).to_have_attribute("aria-checked", "false")
    sync = page.locator("#sync-github-repositories")
    expect(sync).to_have_count(0)
    expect(section.get_by_text("No syncs.")).to_be_visible()

    # -- on: the sync appears and runs at once for both connections --------------------------
    switch.click()
    expect(page.get_by_role("status")).to_have_text(
        "Template repositories is enabled for github: its syncs run for every connection."
    )
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(section.locator('tr[data-template="repositories"]')).to_have_class("on")
    expect(sync.locator(".from-template")).to_contain_text("From template github/repositories")
    expect(sync.locator("tr[data-connection]")).to_have_count(2)

    for connection_id in CONNECTIONS:
        eventually(
            lambda c=connection_id: served.operations(connection=c, state="success"),
            f"the run of repositories for {connection_id}",
        )
        assert set(served.repositories(connection_id)) == expected
    assert served.github.unmatched == []
    runs = served.operations()
    assert sorted(op["connection_id"] for op in runs) == sorted(CONNECTIONS), runs
    assert {op["state"] for op in runs} == {"success"}
    page.reload()
    expect(sync.locator("tr[data-connection] .state")).to_have_text(["success", "success"])

    # The control for the check below: a schedule come due runs while the template is on.
    served.make_due("c1")
    eventually(
        lambda: len(served.operations(connection="c1", state="success")) == 2, "a second run"
    )

    # -- off: the sync leaves, is refused, and does not run when due; records stay ------------
    switch.click()
    expect(page.get_by_role("status")).to_have_text(
        "Template repositories is disabled for github: its schedules stopped, its records are kept."
    )
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(sync).to_have_count(0)
    expect(section.get_by_text("No syncs.")).to_be_visible()

    before = {op["id"] for op in served.operations()}
    refused = served.api.post(
        "/sync/trigger",
        json={"syncs": ["repositories"], "provider_config_key": "github", "connection_id": "c1"},
    )
    # The integration has no sync left at all, which the API names as such.
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "no_syncs_found"
    served.make_due(*CONNECTIONS)
    due = {c: served.next_run(c) for c in CONNECTIONS}
    # Nothing to wait for but the absence of a run: two ticks of the scheduler, failing
    # as soon as one starts.
    deadline = time.monotonic() + 2.5 * TICK_S
    while time.monotonic() < deadline:
        started = [op for op in served.operations() if op["id"] not in before]
        assert started == [], f"a run started after the template was switched off: {started}"
        time.sleep(0.1)
    # begin_run would have moved them on: the schedules were left untouched.
    assert {c: served.next_run(c) for c in CONNECTIONS} == due

    for connection_id in CONNECTIONS:
        kept = served.repositories(connection_id)
        assert set(kept) == expected
        assert all(r["_nango_metadata"]["deleted_at"] is None for r in kept.values())
    context.close()
