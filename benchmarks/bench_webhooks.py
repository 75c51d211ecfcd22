"""Webhooks: latency from the end of a run to the backend, and delivery throughput.

    python benchmarks/bench_webhooks.py [--runs 200] [--queued 1000] [--database-url URL]

The service is the one ``nango-scripts serve`` runs (``Service``: scheduler, delivery
worker and Activity log on one database, a temporary SQLite file unless
``--database-url`` names a PostgreSQL database), in this process. The backend is
``_webhook_receiver.py`` in a process of its own on 127.0.0.1: it answers 200 at once
and prints each webhook's id with its arrival time (``time.time()`` once the body is
read), so the receiver never competes with the service for this process's GIL.

(a) **Latency**, over ``--runs`` runs one after another (after 10 warm-up runs): each is
    triggered as ``POST /sync/trigger`` does (``scheduler.trigger``) and saves one changed
    record, so it has one webhook. *End of a run* is the ``created_at`` of that webhook's
    outbox row: the last statement of the run's final transaction, taken just before it
    commits (so the figure includes the commit). *Arrival* is the receiver's clock once
    it has read the body. Both clocks are this machine's wall clock.
(b) **Throughput**: ``--queued`` webhooks are written to the outbox, all due, before the
    worker starts; the time runs from ``WebhookDelivery.start()`` to the arrival of the
    last one (and from the first arrival to the last, for the steady rate). Each delivery
    is recorded in the Activity log, as in ``serve``.

Targets: (a) median under 50 ms and p99 under 250 ms; (b) at least 200 deliveries/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _databases import database

from nango_scripts.engine import Service
from nango_scripts.settings import load_settings
from nango_scripts.store import OutboxEntry

SECRET = "sk_bench_webhooks"
WARM_UP = 10
MEDIAN_TARGET_MS = 50.0
P99_TARGET_MS = 250.0
RATE_TARGET = 200.0

TICKER = """
import time

from pydantic import BaseModel

from nango_scripts import NangoSync, sync


class Tick(BaseModel):
    id: str
    at: int


@sync(models=[Tick], frequency="every hour", auto_start=False)
async def ticker(nango: NangoSync) -> None:
    await nango.batch_save([Tick(id="t", at=time.time_ns())], Tick)
"""


class ReceiverProcess:
    """The backend's process, and the arrivals it reports (id -> time.time())."""

    def __init__(self) -> None:
        script = Path(__file__).with_name("_webhook_receiver.py")
        self.process = subprocess.Popen(
            [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline().split()
        assert first[:1] == ["listening"], first
        self.port = int(first[1])
        self.arrivals: dict[str, float] = {}
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            delivery, at = line.split()
            with self._changed:
                self.arrivals[delivery] = float(at)
                self._changed.notify_all()

    def wait_for(self, count: int, timeout_s: float = 60.0) -> None:
        """Block (a worker thread) until ``count`` webhooks have arrived."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while len(self.arrivals) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.arrivals)} of {count} webhooks arrived")
                self._changed.wait(left)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def make_project(root: Path, database_url: str, receiver: ReceiverProcess) -> Service:
    (root / "bench" / "syncs").mkdir(parents=True)
    (root / "bench" / "syncs" / "ticker.py").write_text(TICKER)
    (root / "nango.toml").write_text('[integrations.bench]\nbase_url = "http://127.0.0.1:9"\n')
    env = {
        "NANGO_SCRIPTS_DATABASE_URL": database_url,
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
        "NANGO_SECRET_KEY": SECRET,
        "NANGO_WEBHOOK_URL": receiver.url(),
    }
    settings = load_settings(root, env)
    service = Service.open(settings)
    service.connections.create("bench", "c1", {})
    return service


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least ``fraction`` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def latency(root: Path, database_url: str, runs: int) -> list[float]:
    receiver = ReceiverProcess()
    service = make_project(root, database_url, receiver)
    try:
        await service.start()
        key = service.scheduler.key("bench", "c1", "ticker")
        for n in range(1, WARM_UP + runs + 1):
            await service.scheduler.trigger(key)
            await asyncio.to_thread(receiver.wait_for, n)
            await service.scheduler.wait_idle()
        rows = await asyncio.to_thread(service.outbox.items)
    finally:
        await service.stop()
        receiver.stop()
    rows = rows[WARM_UP:]
    assert len(rows) == runs, f"{len(rows)} webhooks for {runs} runs"
    return [(receiver.arrivals[r.id] - r.created_at.timestamp()) * 1000 for r in rows]


def payload(n: int) -> str:
    """A sync webhook of realistic size (what a run writes)."""
    return json.dumps(
        {
            "from": "nango",
            "type": "sync",
            "connectionId": f"customer-{n % 50}",
            "providerConfigKey": "bench",
            "syncName": "ticker",
            "model": "Tick",
            "syncType": "INCREMENTAL",
            "success": True,
            "responseResults": {"added": n % 7, "updated": n % 5, "deleted": 0},
            "modifiedAfter": "2024-05-01T10:00:00.000Z",
            "queryTimeStamp": "2024-05-01T10:00:00.000Z",
        },
        separators=(",", ":"),
    )


async def throughput(root: Path, database_url: str, queued: int) -> tuple[float, float]:
    """(seconds from the worker's start to the last arrival, first arrival to last)."""
    receiver = ReceiverProcess()
    service = make_project(root, database_url, receiver)
    try:
        entries = [OutboxEntry(url=receiver.url(), body=payload(n)) for n in range(queued)]
        service.outbox.add(entries, environment="dev", integration_id="bench", connection_id="c1")
        started = time.time()
        await service.webhooks.start()
        await asyncio.to_thread(receiver.wait_for, queued, 120.0)
        for _ in range(500):  # the last answers are being recorded
            counts = await asyncio.to_thread(service.outbox.counts)
            if counts["pending"] == 0:
                break
            await asyncio.sleep(0.01)
        await service.webhooks.stop()
    finally:
        service.close()
        receiver.stop()
    times = sorted(receiver.arrivals.values())
    assert counts == {"pending": 0, "delivered": queued, "failed": 0}, counts
    return times[-1] - started, times[-1] - times[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs measured for (a)")
    parser.add_argument("--queued", type=int, default=1000, help="webhooks queued for (b)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("NANGO_SCRIPTS_BENCH_DATABASE_URL"),
        help="a PostgreSQL database (default: a temporary SQLite file)",
    )
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"backend: {backend}; receiver: its own process on 127.0.0.1, answering 200 at once")
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp), args.database_url) as url:
        ms = asyncio.run(latency(Path(tmp) / "a", url, args.runs))
    median, p99 = statistics.median(ms), percentile(ms, 0.99)
    print(
        f"\n(a) end of run -> webhook received, {len(ms)} runs one after another"
        f" (after {WARM_UP} warm-up runs)\n"
        "    end of run = created_at of the run's outbox row, the last statement of the\n"
        "    run's final transaction (just before its COMMIT); received = the receiver's\n"
        "    time.time() once the body is read"
    )
    print(
        f"    median {median:7.2f} ms   (target < {MEDIAN_TARGET_MS:g})"
        f"  {'ok' if median < MEDIAN_TARGET_MS else 'MISSED'}"
    )
    print(
        f"    p99    {p99:7.2f} ms   (target < {P99_TARGET_MS:g})"
        f"  {'ok' if p99 < P99_TARGET_MS else 'MISSED'}"
    )
    print(
        f"    min {min(ms):.2f} ms, p90 {percentile(ms, 0.9):.2f} ms, max {max(ms):.2f} ms,"
        f" mean {statistics.fmean(ms):.2f} ms"
    )
    with tempfile.TemporaryDirectory() as tmp, database(Path(tmp), args.database_url) as url:
        total_s, steady_s = asyncio.run(throughput(Path(tmp) / "b", url, args.queued))
    rate = args.queued / total_s
    print(
        f"\n(b) {args.queued} webhooks due in the outbox, then the worker starts:"
        f" all received in {total_s * 1000:.0f} ms"
    )
    print(
        f"    {rate:7.0f} deliveries/s   (target >= {RATE_TARGET:g})"
        f"  {'ok' if rate >= RATE_TARGET else 'MISSED'}"
    )
    if steady_s > 0:
        print(
            f"    {(args.queued - 1) / steady_s:7.0f} deliveries/s from the first arrival to the last"
        )


if __name__ == "__main__":
    main()
