"""``nango-scripts serve`` as a real subprocess on 127.0.0.1, driven over HTTP, against the
fake API: a connection made through the API, the INITIAL run on schedule, an INCREMENTAL
run that picks up exactly the change, pause, start, a trigger with reset, and a server
killed (or stopped) in the middle of a run: on the next start the run is failed (or was
cancelled), the records saved before are kept, and the sync runs again within seconds,
from its checkpoint, on SQLite and PostgreSQL.

The sync runs ``every 30s`` (the shortest frequency): the scheduled run is waited for once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.fakeapi import FakeApi, Received
from support.postgres_schema import BACKENDS, postgres_schema
from support.server_harness import SECRET, free_port, make_project, serve, stop, wait_healthy

from nango_scripts.engine import RETRY_INTERRUPTED_S
from nango_scripts.store import ScheduleKey, ScheduleStore
from nango_scripts.store._schedules import INTERRUPTED_ERROR

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {SECRET}"}
KEYS = {"c1": "key-of-c1", "c2": "key-of-c2"}
PAGE = 10

INCREMENTAL_SYNC = """
from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every 30s", auto_start=True, description="Items, by change")
async def items(nango: NangoSync) -> None:
    params = {}
    if nango.last_sync_date is not None:
        params["modified_after"] = nango.last_sync_date.isoformat()
    page = 0
    while True:
        body = (await nango.get("/items", params={**params, "page": str(page)})).json()
        await nango.batch_save(body["items"], Item)
        if not body["more"]:
            return
        page += 1
"""


class Catalog:
    """The fake API's items, each with the moment it last changed; ``GET /items`` honours
    ``modified_after`` and pages by ``PAGE``. It can hold a page until released."""

    def __init__(self, count: int) -> None:
        self._lock = threading.Lock()
        now = time.time()
        self.items: dict[str, tuple[int, float]] = {str(i): (i, now) for i in range(count)}
        self.hold_page: int | None = None
        self.held = threading.Event()
        self.release = threading.Event()

    def set(self, item_id: str, n: int) -> None:
        with self._lock:
            self.items[item_id] = (n, time.time())

    def handler(self, request: Received) -> tuple[int, dict[str, str], Any]:
        if request.headers.get("x-key") not in KEYS.values():
            return 401, {}, {"message": "bad key"}
        page = int(request.query.get("page", "0"))
        if page == self.hold_page:
            self.held.set()
            self.release.wait(60)
        since = request.query.get("modified_after")
        after = datetime.fromisoformat(since).timestamp() if since else None
        with self._lock:
            chosen = [
                {"id": item_id, "n": n}
                for item_id, (n, modified) in sorted(self.items.items(), key=lambda i: int(i[0]))
                if after is None or modified >= after
            ]
        return (
            200,
            {},
            {
                "items": chosen[page * PAGE : (page + 1) * PAGE],
                "more": len(chosen) > (page + 1) * PAGE,
            },
        )


def requests_of(api: FakeApi, connection_id: str) -> list[Received]:
    return [r for r in api.requests_to("/items") if r.headers.get("x-key") == KEYS[connection_id]]


def project_env(tmp_path: Path, api: FakeApi, *, sync: str = INCREMENTAL_SYNC) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "NANGO_SECRET_KEY" and not k.startswith("NANGO_SCRIPTS_")
    }
    env.update(make_project(tmp_path, api))
    (Path(env["NANGO_SCRIPTS_PROJECT"]) / "fake" / "syncs" / "items.py").write_text(sync)
    env["NANGO_SECRET_KEY"] = SECRET
    return env


class Server:
    """One ``serve`` process; stopped gracefully at the end unless it is already dead."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = serve(env, self.port, log)
        wait_healthy(self.url, self.process, log)
        self.client = httpx.Client(base_url=self.url, headers=AUTH, timeout=15)

    def close(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            stop(self.process, self.log)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=20) == -signal.SIGKILL

    def status(self, connection_id: str) -> dict[str, Any]:
        answer = self.client.get(
            "/sync/status",
            params={
                "syncs": "items",
                "provider_config_key": "fake",
                "connection_id": connection_id,
            },
        )
        assert answer.status_code == 200, answer.text
        [entry] = answer.json()["syncs"]
        assert isinstance(entry, dict)
        return entry

    def wait_run(
        self, connection_id: str, after: str | None, seconds: float = 30
    ) -> dict[str, Any]:
        """Poll the status until a run finished after ``after`` (a finishedAt, or None)."""
        return poll(
            lambda: self.status(connection_id),
            lambda s: s["finishedAt"] not in (None, after) and s["status"] != "RUNNING",
            seconds,
            what=f"a run of {connection_id} finished after {after}",
        )

    def records(self, connection_id: str, **query: str) -> list[dict[str, Any]]:
        answer = self.client.get(
            "/records/",
            params={"model": "Item", "limit": "1000", **query},
            headers={"Connection-Id": connection_id, "Provider-Config-Key": "fake"},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["next_cursor"] is None
        records: list[dict[str, Any]] = body["records"]
        return records

    def sync_call(self, route: str, connection_id: str, **extra: Any) -> None:
        body = {"syncs": ["items"], "provider_config_key": "fake", "connection_id": connection_id}
        answer = self.client.post(route, json={**body, **extra})
        assert (answer.status_code, answer.json()) == (200, {"success": True}), answer.text

    def connect(self, connection_id: str) -> None:
        """Nango's import shape."""
        answer = self.client.post(
            "/connections",
            json={
                "provider_config_key": "fake",
                "connection_id": connection_id,
                "credentials": {"type": "API_KEY", "apiKey": KEYS[connection_id]},
            },
        )
        assert answer.status_code == 201, answer.text


def poll(read: Callable[[], Any], done: Callable[[Any], bool], seconds: float, *, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:g} s for {what}; last: {value}")
        time.sleep(0.1)


def moment(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server a test starts, closed at the end whatever happened."""
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in started:
            server.close()


def test_schedule_incremental_pause_start_and_reset(
    tmp_path: Path, fake_api: FakeApi, servers: list[Server]
) -> None:
    catalog = Catalog(25)
    fake_api.route("/items", catalog.handler)
    server = Server(project_env(tmp_path, fake_api), tmp_path / "serve.log")
    servers.append(server)

    # Two connections through the API: their schedules start (auto_start), due at once.
    created_at = time.time()
    server.connect("c1")
    server.connect("c2")
    first = {cid: server.wait_run(cid, None) for cid in ("c1", "c2")}
    for entry in first.values():
        assert (entry["status"], entry["type"], entry["latestExecutionStatus"]) == (
            "SUCCESS",
            "INITIAL",
            "SUCCESS",
        )
        assert entry["latestResult"] == {"Item": {"added": 25, "updated": 0, "deleted": 0}}
        assert entry["recordCount"] == {"Item": 25}
        assert entry["frequency"] == "every 30s"
        # the next run is one frequency after this run's start
        assert 20 <= moment(entry["nextScheduledSyncAt"]) - moment(entry["finishedAt"]) <= 30
        assert 29 <= moment(entry["nextScheduledSyncAt"]) - created_at <= 40
    assert sorted(int(r["id"]) for r in server.records("c1")) == list(range(25))
    assert all("modified_after" not in r.query for r in requests_of(fake_api, "c1"))

    # c2 is paused: nothing runs for it when it would have been due.
    server.sync_call("/sync/pause", "c2")
    paused = server.status("c2")
    assert (paused["status"], paused["nextScheduledSyncAt"]) == ("PAUSED", None)
    c2_requests = len(requests_of(fake_api, "c2"))

    # One item changes, one is added; c1's next run is the scheduled one.
    catalog.set("3", 1003)
    catalog.set("25", 25)
    c1_due = moment(first["c1"]["nextScheduledSyncAt"])
    second = server.wait_run("c1", first["c1"]["finishedAt"], seconds=c1_due - time.time() + 20)
    assert (second["status"], second["type"]) == ("SUCCESS", "INCREMENTAL")
    assert second["latestResult"] == {"Item": {"added": 1, "updated": 1, "deleted": 0}}
    assert second["recordCount"] == {"Item": 26}
    assert 29 <= moment(second["nextScheduledSyncAt"]) - c1_due <= 40
    c1_requests = requests_of(fake_api, "c1")
    assert [r.query.get("page") for r in c1_requests] == ["0", "1", "2", "0"]  # one run more
    assert c1_requests[-1].query["modified_after"]  # incremental: the API sent the change only
    since = {"modified_after": first["c1"]["finishedAt"]}
    updated = server.records("c1", filter="updated", **since)
    assert [(r["id"], r["n"], r["_nango_metadata"]["last_action"]) for r in updated] == [
        ("3", 1003, "UPDATED")
    ]
    added = server.records("c1", filter="added", **since)
    assert [(r["id"], r["n"], r["_nango_metadata"]["last_action"]) for r in added] == [
        ("25", 25, "ADDED")
    ]
    assert sorted(r["id"] for r in server.records("c1", **since)) == ["25", "3"]

    # c2's due moment has passed while it was paused: no run, no request.
    poll(
        time.time,
        lambda now: now > moment(first["c2"]["nextScheduledSyncAt"]) + 2.5,
        10,
        what="c2's due moment",
    )
    still = server.status("c2")
    assert (still["status"], still["finishedAt"]) == ("PAUSED", first["c2"]["finishedAt"])
    assert len(requests_of(fake_api, "c2")) == c2_requests

    # Start: it is overdue, so it runs at once, and picks up the same change.
    server.sync_call("/sync/start", "c2")
    resumed = server.wait_run("c2", first["c2"]["finishedAt"])
    assert (resumed["status"], resumed["type"]) == ("SUCCESS", "INCREMENTAL")
    assert resumed["latestResult"] == {"Item": {"added": 1, "updated": 1, "deleted": 0}}
    assert resumed["nextScheduledSyncAt"] is not None

    # Trigger with reset: the next run of c1 is INITIAL again and reads everything.
    before = len(requests_of(fake_api, "c1"))
    server.sync_call("/sync/trigger", "c1", opts={"reset": True})
    third = server.wait_run("c1", second["finishedAt"])
    assert (third["status"], third["type"]) == ("SUCCESS", "INITIAL")
    assert third["recordCount"] == {"Item": 26}
    reread = requests_of(fake_api, "c1")[before:]
    assert [r.query.get("page") for r in reread] == ["0", "1", "2"]
    assert all("modified_after" not in r.query for r in reread)
    assert {r["id"]: r["n"] for r in server.records("c1")} == {
        **{str(i): i for i in range(26)},
        "3": 1003,
    }


CHECKPOINTED_SYNC = """
from nango_scripts import NangoSync, sync

from fake.models import Item


@sync(models=[Item], frequency="every hour", auto_start=True, description="Items, page by page")
async def items(nango: NangoSync) -> None:
    page = int((await nango.get_checkpoint() or {}).get("page", 0))
    while True:
        body = (await nango.get("/items", params={"page": str(page)})).json()
        await nango.batch_save(body["items"], Item)
        if not body["more"]:
            await nango.clear_checkpoint()
            return
        page += 1
        await nango.save_checkpoint({"page": page})
"""


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/state/nango.db"
        return
    with postgres_schema() as url:
        yield url


def test_a_run_cut_off_by_a_kill_runs_again_from_its_checkpoint_soon_after_the_restart(
    tmp_path: Path, fake_api: FakeApi, database_url: str, servers: list[Server]
) -> None:
    # database_url first: its schema is dropped after the servers have stopped
    catalog = Catalog(3 * PAGE)
    catalog.hold_page = 2  # pages 0 and 1 are saved and checkpointed, the third one hangs
    fake_api.route("/items", catalog.handler)
    env = project_env(tmp_path, fake_api, sync=CHECKPOINTED_SYNC)
    env["NANGO_SCRIPTS_DATABASE_URL"] = database_url
    first = Server(env, tmp_path / "first.log")
    servers.append(first)
    try:
        first.connect("c1")
        assert catalog.held.wait(30), first.log.read_text()
        saved = poll(lambda: first.records("c1"), lambda r: len(r) == 2 * PAGE, 20, what="2 pages")
        running = first.status("c1")
        assert running["status"] == "RUNNING"
        # without the kill, the next run would be an hour after this one's start
        assert moment(running["nextScheduledSyncAt"]) - time.time() > 3500
        first.kill()
    finally:
        catalog.hold_page = None
        catalog.release.set()  # the old run's request: its client is gone

    requests_before = len(requests_of(fake_api, "c1"))
    restarted_at = time.time()
    second = Server(env, tmp_path / "second.log")
    servers.append(second)
    healthy_at = time.time()  # the scheduler started before the server answered
    failed = second.status("c1")
    assert (failed["status"], failed["latestExecutionStatus"], failed["type"]) == (
        "ERROR",
        "ERROR",
        "INITIAL",
    )
    # due again within the retry delay of the start, not an hour after the cut-off run
    due_in = moment(failed["nextScheduledSyncAt"]) - healthy_at
    assert due_in <= RETRY_INTERRUPTED_S + 0.1, failed
    # no record lost: the batches saved before the kill are all there
    assert server_ids(second.records("c1")) == server_ids(saved) == [str(i) for i in range(20)]

    # no trigger: the sync runs again by itself, within the delay
    done = second.wait_run("c1", failed["finishedAt"], seconds=RETRY_INTERRUPTED_S + 20)
    assert (done["status"], done["latestExecutionStatus"]) == ("SUCCESS", "SUCCESS")
    assert done["type"] == "INITIAL"  # the failed run did not advance last_sync_date
    assert done["recordCount"] == {"Item": 3 * PAGE}
    assert done["latestResult"] == {"Item": {"added": PAGE, "updated": 0, "deleted": 0}}
    # resumed from the checkpoint: the pages saved before the kill are not read again
    assert [r.query["page"] for r in requests_of(fake_api, "c1")[requests_before:]] == ["2"]
    with ScheduleStore.open(database_url) as schedules:
        retried, cut_off = schedules.runs(ScheduleKey("dev", "fake", "c1", "items"))
    assert (cut_off.status, cut_off.error) == ("failed", INTERRUPTED_ERROR)
    retried_at = retried.started_at.timestamp()
    assert retried_at - restarted_at >= RETRY_INTERRUPTED_S - 0.1  # not before the delay
    assert retried_at - healthy_at <= RETRY_INTERRUPTED_S + 5  # a tick or so after it
    # and the schedule goes on from the retried run
    assert 3500 <= moment(done["nextScheduledSyncAt"]) - time.time() <= 3600
    assert server_ids(second.records("c1")) == [str(i) for i in range(3 * PAGE)]


def test_a_run_cut_off_by_a_graceful_stop_runs_again_at_the_next_start(
    tmp_path: Path, fake_api: FakeApi, servers: list[Server]
) -> None:
    catalog = Catalog(3 * PAGE)
    catalog.hold_page = 2
    fake_api.route("/items", catalog.handler)
    env = project_env(tmp_path, fake_api, sync=CHECKPOINTED_SYNC)
    first = Server(env, tmp_path / "first.log")
    servers.append(first)
    try:
        first.connect("c1")
        assert catalog.held.wait(30), first.log.read_text()
        poll(lambda: first.records("c1"), lambda r: len(r) == 2 * PAGE, 20, what="2 pages")
        first.close()  # SIGTERM: the run is cancelled, not finished
    finally:
        catalog.hold_page = None
        catalog.release.set()

    requests_before = len(requests_of(fake_api, "c1"))
    second = Server(env, tmp_path / "second.log")
    servers.append(second)
    done = second.wait_run("c1", None, seconds=20)
    assert (done["status"], done["recordCount"]) == ("SUCCESS", {"Item": 3 * PAGE})
    assert [r.query["page"] for r in requests_of(fake_api, "c1")[requests_before:]] == ["2"]
    with ScheduleStore.open(env["NANGO_SCRIPTS_DATABASE_URL"]) as schedules:
        retried, cut_off = schedules.runs(ScheduleKey("dev", "fake", "c1", "items"))
    assert (cut_off.status, cut_off.error) == ("cancelled", "cancelled: the service stopped")
    assert retried.status == "success"


def server_ids(records: list[dict[str, Any]]) -> list[str]:
    return sorted((r["id"] for r in records), key=int)
