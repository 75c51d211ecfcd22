"""Real runs (SyncRunner on SQLite) write their webhooks to the outbox; the worker sends
them to a real receiver: exact payloads, the settings that gate them, the secondary URL
and the connection's override, and 1,000 runs against a flaky receiver."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.waiting import eventually_async
from support.webhook_receiver import Receiver

from nango_scripts._iso_time import iso_millis
from nango_scripts.dsl import SyncSpec, load_project
from nango_scripts.engine import SyncRunner, WebhookDelivery
from nango_scripts.runtime import RunResult
from nango_scripts.settings import Settings, load_settings
from nango_scripts.store import ConnectionStore, RecordScope, SqlRecordStore, WebhookOutbox

pytestmark = pytest.mark.anyio

SECRET = "sk_test_runs"

SYNCS = """
from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Issue(BaseModel):
    id: str
    n: int


class Comment(BaseModel):
    id: str


@sync(models=[Issue, Comment], frequency="every hour", sync_type="full", track_deletes=True)
async def issues(nango: NangoSync) -> None:
    meta = await nango.get_metadata()
    if meta.get("fail"):
        raise RuntimeError(meta["fail"])
    await nango.batch_save([Issue(id=k, n=v) for k, v in meta.get("issues", {}).items()], Issue)
    await nango.batch_save([Comment(id=c) for c in meta.get("comments", [])], Comment)


COUNTER = iter(range(10**9))


@sync(models=[Issue], frequency="every hour")
async def sleepy(nango: NangoSync) -> None:
    import asyncio

    await asyncio.sleep(60)


@sync(models=[Issue], frequency="every hour")
async def ticker(nango: NangoSync) -> None:
    await nango.batch_save([Issue(id="a", n=next(COUNTER))], Issue)
"""


@dataclass
class Project:
    settings: Settings
    specs: dict[str, SyncSpec]
    records: SqlRecordStore
    connections: ConnectionStore
    outbox: WebhookOutbox

    async def run(self, sync: str = "issues", connection: str = "c1") -> RunResult:
        return await self.sync_run(sync, connection).run()

    def sync_run(self, sync: str = "issues", connection: str = "c1") -> SyncRunner:
        spec = self.specs[sync]
        found = self.connections.get("fake", connection)
        return SyncRunner(
            self.settings,
            spec,
            self.settings.integrations["fake"],
            found,
            self.records,
            self.connections,
        )

    def meta(self, connection: str = "c1", **metadata: Any) -> None:
        self.connections.set_metadata("fake", connection, metadata)

    def worker(self, **kw: Any) -> WebhookDelivery:
        return WebhookDelivery(self.outbox, SECRET, self.settings.webhooks, poll_s=0.1, **kw)


def make_project(tmp_path: Path, env: dict[str, str]) -> Iterator[Project]:
    root = tmp_path / "proj"
    (root / "fake" / "syncs").mkdir(parents=True)
    (root / "nango.toml").write_text('[integrations.fake]\nbase_url = "http://127.0.0.1:9"\n')
    (root / "fake" / "syncs" / "issues.py").write_text(SYNCS)
    env = {
        "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{tmp_path}/nango.db",
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "NANGO_SECRET_KEY": SECRET,
        "NANGO_WEBHOOK_RETRY_BASE_S": "0.02",
        "NANGO_WEBHOOK_RETRY_MAX_S": "0.2",
        "NANGO_WEBHOOK_MAX_ATTEMPTS": "30",
    } | env
    settings = load_settings(root, env)
    loaded = load_project(root)
    assert not loaded.errors, loaded.errors
    specs = {s.name: s for s in loaded.scripts if isinstance(s, SyncSpec)}
    with (
        ConnectionStore.open(settings) as connections,
        SqlRecordStore.open(settings.database_url, synchronous="NORMAL") as records,
        WebhookOutbox.open(settings.database_url) as outbox,
    ):
        connections.create("fake", "c1", {})
        yield Project(settings, specs, records, connections, outbox)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    with Receiver() as started:
        yield started


@pytest.fixture
def project(tmp_path: Path, receiver: Receiver) -> Iterator[Project]:
    yield from make_project(tmp_path, {"NANGO_WEBHOOK_URL": receiver.url()})


async def delivered(project: Project, receiver: Receiver, count: int) -> list[dict[str, Any]]:
    """Send what the outbox holds; the bodies the receiver accepted, in order."""
    async with project.worker(concurrency=1) as worker:  # one at a time: in order
        await worker.start()
        await receiver.until(count)
        await asyncio.sleep(0.05)  # nothing more should come
    bodies = [d.json() for d in receiver.accepted()]
    assert len(bodies) == count, bodies
    return bodies


BASE = {
    "from": "nango",
    "type": "sync",
    "connectionId": "c1",
    "providerConfigKey": "fake",
    "syncName": "issues",
}


def success(model: str, sync_type: str, result: RunResult, **counts: int) -> dict[str, Any]:
    started = iso_millis(result.started_at)
    return BASE | {
        "model": model,
        "syncType": sync_type,
        "success": True,
        "responseResults": {"added": 0, "updated": 0, "deleted": 0} | counts,
        "modifiedAfter": started,
        "queryTimeStamp": started,
    }


async def test_success_payloads_per_model_with_track_deletes(
    project: Project, receiver: Receiver
) -> None:
    project.meta(issues={"a": 1, "b": 2})
    first = await project.run()
    project.meta(issues={"a": 1, "b": 3}, comments=["x"])
    second = await project.run()
    project.meta(issues={"a": 1})  # b and x are gone: track_deletes
    third = await project.run()
    assert await delivered(project, receiver, 5) == [
        success("Issue", "INITIAL", first, added=2),
        success("Issue", "INCREMENTAL", second, updated=1),
        success("Comment", "INCREMENTAL", second, added=1),
        success("Issue", "INCREMENTAL", third, deleted=1),
        success("Comment", "INCREMENTAL", third, deleted=1),
    ]
    # modifiedAfter is the run's start: what the next run gets as last_sync_date
    scope = RecordScope("dev", "fake", "c1")
    assert project.records.get_last_sync_date(scope, "issues") == third.started_at


async def test_nothing_changed_sends_nothing_unless_always(tmp_path: Path) -> None:
    with Receiver() as receiver:
        for always in ("false", "true"):
            env = {
                "NANGO_WEBHOOK_URL": receiver.url(f"/{always}"),
                "NANGO_WEBHOOK_ON_SYNC_COMPLETION_ALWAYS": always,
            }
            for project in make_project(tmp_path / always, env):
                project.meta(issues={"a": 1})
                await project.run()
                quiet = await project.run()  # the same records again: no change
                assert len(project.outbox.items()) == (4 if always == "true" else 1)
                async with project.worker(concurrency=1) as worker:
                    await worker.drain()
        bodies = {
            path: [d.json() for d in receiver.accepted() if d.path == path]
            for path in ("/false", "/true")
        }
    assert [(b["model"], b["responseResults"]) for b in bodies["/false"]] == [
        ("Issue", {"added": 1, "updated": 0, "deleted": 0})
    ]
    assert bodies["/true"][2:] == [
        success("Issue", "INCREMENTAL", quiet),
        success("Comment", "INCREMENTAL", quiet),
    ]
    assert [b["model"] for b in bodies["/true"][:2]] == ["Issue", "Comment"]


async def test_failed_runs_send_failure_payloads_if_on_sync_error(tmp_path: Path) -> None:
    window: dict[str, tuple[datetime, datetime]] = {}
    with Receiver() as receiver:
        for on_error in ("true", "false"):
            env = {
                "NANGO_WEBHOOK_URL": receiver.url(f"/{on_error}"),
                "NANGO_WEBHOOK_ON_SYNC_ERROR": on_error,
            }
            for project in make_project(tmp_path / on_error, env):
                project.meta(fail="the API is down")
                before = datetime.now(UTC)
                result = await project.run()
                window[on_error] = (before, datetime.now(UTC))
                assert not result.success
                async with project.worker() as worker:
                    await worker.drain()
        bodies = [d.json() for d in receiver.accepted()]
    assert {d.path for d in receiver.accepted()} == {"/true"}
    assert sorted(b["model"] for b in bodies) == ["Comment", "Issue"]
    for body in bodies:
        started = datetime.fromisoformat(body.pop("startedAt"))
        failed = datetime.fromisoformat(body.pop("failedAt"))
        before, after = window["true"]
        assert before - timedelta(milliseconds=1) <= started <= failed <= after
        description = body["error"].pop("description")
        assert "the API is down" in description
        assert body == BASE | {
            "model": body["model"],
            "syncType": "INITIAL",
            "success": False,
            "error": {"type": "script_error"},
        }
    assert list(receiver.accepted()[0].json()) == [
        "from",
        "type",
        "connectionId",
        "providerConfigKey",
        "syncName",
        "model",
        "syncType",
        "success",
        "error",
        "startedAt",
        "failedAt",
    ]


async def test_the_secondary_url_gets_the_same_and_an_override_replaces_both(
    tmp_path: Path,
) -> None:
    with Receiver() as receiver:
        env = {
            "NANGO_WEBHOOK_URL": receiver.url("/primary"),
            "NANGO_WEBHOOK_SECONDARY_URL": receiver.url("/secondary"),
        }
        for project in make_project(tmp_path, env):
            project.meta(issues={"a": 1})
            await project.run()
            project.connections.set_webhook_url_override("fake", "c1", receiver.url("/mine"))
            project.meta(issues={"a": 2})
            await project.run()
            async with project.worker() as worker:
                await worker.drain()
    by_path: dict[str, list[bytes]] = {}
    for d in receiver.accepted():
        by_path.setdefault(d.path, []).append(d.body)
    assert sorted(by_path) == ["/mine", "/primary", "/secondary"]
    assert by_path["/primary"] == by_path["/secondary"]  # the very same bytes
    assert len(by_path["/primary"]) == 1
    assert [json.loads(b)["responseResults"]["updated"] for b in by_path["/mine"]] == [1]
    ids = [d.id for d in receiver.accepted()]
    assert len(set(ids)) == 3  # one outbox row (one id) per URL


async def test_a_receiver_that_hangs_does_not_slow_runs(tmp_path: Path) -> None:
    with Receiver(delay_s=2) as hanging:
        env = {"NANGO_WEBHOOK_URL": hanging.url(), "NANGO_WEBHOOK_TIMEOUT_S": "5"}
        for project in make_project(tmp_path, env):
            async with project.worker(concurrency=2) as worker:
                await worker.start()
                for _ in range(20):
                    await project.run("ticker")
                # 20 runs done before the first webhook (2 s each) got its answer
                answered_during_runs = len(hanging.all())
                await hanging.until_arrived(2)
                await worker.stop(grace_s=0)
            assert answered_during_runs == 0
            assert project.outbox.counts()["pending"] == 20


async def test_1000_runs_every_delivery_arrives_once_accepted(tmp_path: Path) -> None:
    rng = random.Random(7)

    def flaky(body: bytes, headers: dict[str, str]) -> int:
        return rng.choice([200, 200, 200, 500, 503, 429])  # it reads the body, then fails

    async def runs_of(project: Project, connection: str) -> None:
        for _ in range(250):
            await project.run("ticker", connection)

    with Receiver(decide=flaky) as receiver:
        for project in make_project(tmp_path, {"NANGO_WEBHOOK_URL": receiver.url("/a")}):
            for n in range(2, 5):
                project.connections.create("fake", f"c{n}", {})
            async with project.worker(concurrency=8) as worker:
                await worker.start()  # delivering while the runs go on
                await asyncio.gather(*(runs_of(project, f"c{n}") for n in range(1, 5)))
                await receiver.until(1000, timeout_s=40)
                await asyncio.sleep(0.1)
            rows = project.outbox.items()
    assert len(rows) == 1000
    assert {r.status for r in rows} == {"delivered"}
    assert len({r.run_id for r in rows}) == 1000  # one per run
    accepted = Counter(d.id for d in receiver.accepted())
    assert set(accepted) == {r.id for r in rows}  # none missing, nothing unknown
    assert set(accepted.values()) == {1}  # accepted once each
    bodies: dict[str, set[bytes]] = {}
    for d in receiver.all():
        bodies.setdefault(d.id, set()).add(d.body)
    assert all(len(b) == 1 for b in bodies.values())  # a duplicate is a retry of the same id
    assert len(receiver.all()) > 1200  # there were retries
    per_connection = Counter((d.path, d.json()["connectionId"]) for d in receiver.accepted())
    assert set(per_connection.values()) == {250}


@pytest.mark.parametrize(
    ("status", "error_type"), [("cancelled", "cancelled"), ("failed", "timeout")]
)
async def test_a_cancelled_or_timed_out_run_sends_failure_webhooks(
    project: Project, status: str, error_type: str
) -> None:
    sync_run = project.sync_run("sleepy")
    sync_run.cancel_reason, sync_run.cancel_status = f"stopped: {error_type}", status
    task = asyncio.create_task(sync_run.run())
    await eventually_async(lambda: sync_run.last_run_id, "the run to start")
    await asyncio.sleep(0.05)  # into the script's sleep
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [row] = project.outbox.items(run_id=sync_run.last_run_id)
    body = json.loads(row.body)
    assert (body["success"], body["model"], body["error"]) == (
        False,
        "Issue",
        {"type": error_type, "description": f"stopped: {error_type}"},
    )
