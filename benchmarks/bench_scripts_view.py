"""The Activity page's Scripts view on a large Activity log.

    python benchmarks/bench_scripts_view.py [--operations 200000] [--connections 50]
        [--syncs 5] [--never-ran 10] [--repeat 5] [--database-url URL]

The service is the one ``nango-scripts serve`` runs (``Service``, started), on a
temporary SQLite file unless ``--database-url`` names a PostgreSQL database (a schema of
its own is made and dropped), with the app served in this process through httpx's ASGI
transport, logged in with the secret key as a browser would be.

The log: ``--operations`` operations over the last week, for one integration with
``--syncs`` syncs and ``--connections`` connections. Every connection but the last
``--never-ran`` has 20 runs of each sync (success, failed, cancelled and one still
running); everything else is webhook deliveries (most of a busy log), proxy calls and
actions. A connection whose sync never ran is the costly case for a lookup that cannot
use an index: it reads the whole log to find nothing.

Printed: the time of ``GET /scripts-view`` (median and min over ``--repeat`` loads,
after one warm-up), and how long a run's log write (``ActivityStore.add_messages``,
what the recorder does while a script logs, one every 5 ms) took while the view was
loaded over and over (``--repeat`` loads, and at least 2 s of them): the view's reads
share the Activity store's connection and its lock.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from _databases import database

from nango_scripts.engine import Service
from nango_scripts.server import create_app
from nango_scripts.settings import load_settings
from nango_scripts.store import ActivityMessage, ActivityStore, Operation

SECRET = "sk_bench_scripts_view"
INTEGRATION = "bench"
RUNS_PER_SYNC = 20
BATCH = 5_000

MODELS = """
from pydantic import BaseModel


class Row(BaseModel):
    id: str
"""

SYNC = """
from nango_scripts import NangoSync, sync

from bench.models import Row


@sync(models=[Row], frequency="every hour", auto_start=False)
async def {name}(nango: NangoSync) -> None:
    await nango.batch_save([Row(id="1")], Row)
"""


def make_service(root: Path, database_url: str, syncs: list[str]) -> Service:
    (root / INTEGRATION / "syncs").mkdir(parents=True)
    (root / "nango.toml").write_text(
        f'[integrations.{INTEGRATION}]\nbase_url = "http://127.0.0.1:9"\n'
    )
    (root / INTEGRATION / "models.py").write_text(MODELS)
    for name in syncs:
        (root / INTEGRATION / "syncs" / f"{name}.py").write_text(SYNC.format(name=name))
    env = {
        "NANGO_SCRIPTS_PROJECT": str(root),
        "NANGO_SCRIPTS_DATABASE_URL": database_url,
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "NANGO_SECRET_KEY": SECRET,
    }
    return Service.open(load_settings(root, env))


def operations(
    total: int, connections: list[str], syncs: list[str], never_ran: int
) -> Iterator[Operation]:
    rng = random.Random(7)
    now = datetime.now(UTC)
    week = 7 * 24 * 3600.0

    def op(type_: str, state: str, connection: str, script: str | None, title: str) -> Operation:
        started = now - timedelta(seconds=rng.uniform(60, week))
        return Operation(
            id=uuid.uuid4().hex,
            environment="dev",
            type=type_,  # type: ignore[arg-type]
            state=state,  # type: ignore[arg-type]
            integration_id=INTEGRATION,
            connection_id=connection,
            script=script,
            title=title,
            started_at=started,
            finished_at=started + timedelta(milliseconds=rng.uniform(5, 900)),
            duration_ms=None,
            error="boom" if state == "failed" else None,
            result={"models": {"Row": {"added": 1, "updated": 0, "deleted": 0}}}
            if type_ == "sync" and state == "success"
            else None,
        )

    made = 0
    for connection in connections[: len(connections) - never_ran]:
        for name in syncs:
            for n in range(RUNS_PER_SYNC):
                state = ("success", "success", "failed", "cancelled")[n % 4]
                yield op("sync", state, connection, name, f"sync {name}")
                made += 1
    while made < total:
        connection = rng.choice(connections)
        name = rng.choice(syncs)
        kind = rng.random()
        if kind < 0.9:
            yield op("webhook", "success", connection, name, f"sync webhook to https://x/{name}")
        elif kind < 0.97:
            yield op("proxy", "success", connection, None, "GET /items")
        else:
            yield op("action", "failed", connection, "act", "action act")
        made += 1


def fill(store: ActivityStore, source: Iterator[Operation]) -> None:
    batch: list[Operation] = []
    for operation in source:
        batch.append(operation)
        if len(batch) == BATCH:
            store.add_operations(batch)
            batch = []
    store.add_operations(batch)


class Writer(threading.Thread):
    """A run logging one line every 5 ms: how long each write waits for the store."""

    def __init__(self, store: ActivityStore, operation_id: str) -> None:
        super().__init__(daemon=True)
        self.store = store
        self.operation_id = operation_id
        self.waits_ms: list[float] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            line = ActivityMessage(datetime.now(UTC), "info", "fetched a page")
            started = time.perf_counter()
            self.store.add_messages(self.operation_id, [line])
            self.waits_ms.append((time.perf_counter() - started) * 1000)
            time.sleep(0.005)


async def measure(args: argparse.Namespace, root: Path, url: str) -> None:
    syncs = [f"sync{i}" for i in range(1, args.syncs + 1)]
    connections = [f"customer-{i:03d}" for i in range(args.connections)]
    service = make_service(root, url, syncs)
    store = service.activity.store
    assert store is not None
    started = time.perf_counter()
    for connection in connections:
        service.connections.create(INTEGRATION, connection, {})
    fill(store, operations(args.operations, connections, syncs, args.never_ran))
    print(f"log written in {time.perf_counter() - started:.1f} s", flush=True)

    app = create_app(service)
    await service.start()
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.post("/login", data={"key": SECRET, "next": "/scripts-view"})
            assert login.status_code == 303, login.text

            async def load() -> float:
                began = time.perf_counter()
                page = await client.get("/scripts-view")
                elapsed = time.perf_counter() - began
                assert page.status_code == 200, page.text[:500]
                rows = page.text.count("<tr data-connection=")
                assert rows == args.connections * args.syncs, rows
                never = page.text.count("never ran")
                assert never == args.never_ran * args.syncs, never
                return elapsed * 1000

            await load()  # warm-up
            times = [await load() for _ in range(args.repeat)]

            running = store.start_operation(
                environment="dev",
                type="sync",
                integration_id="elsewhere",
                connection_id="w",
                script="writer",
                title="sync writer",
            )
            writer = Writer(store, running)
            writer.start()
            await asyncio.sleep(0.2)
            quiet = len(writer.waits_ms)
            began, loads = time.perf_counter(), 0
            while loads < args.repeat or time.perf_counter() - began < 2.0:
                await load()
                loads += 1
            writer.stop_event.set()
            await asyncio.to_thread(writer.join)
    finally:
        await service.stop()

    alone, during = writer.waits_ms[:quiet], writer.waits_ms[quiet:]
    print(
        f"\nGET /scripts-view: {args.connections} connections x {args.syncs} syncs"
        f" ({args.never_ran} connections never ran), {args.operations:,} operations"
    )
    print(
        f"    median {statistics.median(times):8.1f} ms   min {min(times):8.1f} ms"
        f"   max {max(times):8.1f} ms   ({args.repeat} loads)"
    )
    print(
        "a run's log write (add_messages) while the view loads:"
        f" median {statistics.median(during):.1f} ms, max {max(during):.1f} ms"
        f" over {len(during)} writes during {loads} loads (alone: median {statistics.median(alone):.1f} ms,"
        f" max {max(alone):.1f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--operations", type=int, default=200_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--syncs", type=int, default=5)
    parser.add_argument("--never-ran", type=int, default=10, help="connections with no run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("NANGO_SCRIPTS_BENCH_DATABASE_URL"),
        help="a PostgreSQL database (default: a temporary SQLite file)",
    )
    args = parser.parse_args()
    if not 0 <= args.never_ran <= args.connections <= 50:
        parser.error("need 0 <= --never-ran <= --connections <= 50 (the view shows 50)")
    print(f"backend: {'PostgreSQL' if args.database_url else 'SQLite'}")
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp), args.database_url) as url:
        asyncio.run(measure(args, Path(tmp) / "project", url))


if __name__ == "__main__":
    main()
