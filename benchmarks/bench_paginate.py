"""Runtime overhead: paginate + validate + batch_save vs. a hand-written httpx loop.

    python benchmarks/bench_paginate.py [--records 100000] [--repeat 3]

For pages of 100 and of 1,000 records (~1 KB each), against a local API served by
another process, it prints records per second of:

- ``plain``: httpx.AsyncClient fetching the same pages, decoding JSON and validating
  each record with the same pydantic model, by hand;
- ``runtime``: a @sync script using ``nango.paginate`` and ``nango.batch_save`` into
  the in-memory store (counting only), through ``run_script``.

Peak memory is measured in fresh child processes at two record counts, as max RSS
and as tracemalloc's peak of the Python heap during the run, to show that it does
not grow with the number of records.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import BaseModel

HERE = Path(__file__).resolve().parent


class Author(BaseModel):
    login: str
    id: int


class Item(BaseModel):
    id: str
    title: str
    state: str
    body: str
    labels: list[str]
    author: Author
    comments: int
    updated_at: datetime


def start_server(total: int, limit: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_pages_server.py"), str(total), str(limit)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


async def plain_loop(base_url: str, limit: int) -> int:
    count = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        cursor: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": limit}
            if cursor:
                params["cursor"] = cursor
            response = await client.get("/items", params=params)
            response.raise_for_status()
            body = response.json()
            items = body["items"]
            if not items:
                break
            for raw in items:
                Item.model_validate(raw)
                count += 1
            cursor = body.get("next_cursor")
            if not cursor:
                break
    return count


async def runtime_loop(base_url: str, limit: int) -> int:
    from nango_scripts import Cursor, NangoSync, run_script, sync
    from nango_scripts.providers import ProviderConfig
    from nango_scripts.store import Connection, MemoryRecordStore

    @sync(models=[Item], frequency="every hour", integration="bench")
    async def items(nango: NangoSync) -> None:
        paginator = Cursor(
            cursor_path_in_response="next_cursor",
            cursor_name_in_request="cursor",
            response_path="items",
            limit=limit,
            limit_name_in_request="limit",
        )
        async for page in nango.paginate("/items", paginate=paginator):
            await nango.batch_save(page, Item)

    now = datetime.now(UTC)
    connection = Connection("bench", "c1", {}, {}, "dev", now, now)
    store = MemoryRecordStore(keep_records=False)
    result = await run_script(
        items, connection=connection, provider=ProviderConfig("bench", base_url), store=store
    )
    if not result.success:
        raise SystemExit(f"runtime run failed: {result.error}")
    return result.models["Item"].saved


def measure(kind: str, total: int, limit: int, repeat: int) -> list[float]:
    proc, base_url = start_server(total, limit)
    rates = []
    try:
        fn = plain_loop if kind == "plain" else runtime_loop
        asyncio.run(fn(base_url, limit))  # warm-up (imports, connection pool)
        for _ in range(repeat):
            started = time.perf_counter()
            count = asyncio.run(fn(base_url, limit))
            elapsed = time.perf_counter() - started
            if count != total:
                raise SystemExit(f"{kind} got {count} records, expected {total}")
            rates.append(count / elapsed)
    finally:
        proc.terminate()
        proc.wait()
    return rates


def peak_memory_child(kind: str, total: int, limit: int) -> tuple[float, float]:
    """(max RSS, peak Python heap during the run) in MiB, from a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--records", str(total), "--limit", str(limit)],
        check=True,
        capture_output=True,
        text=True,
    )
    rss, heap = out.stdout.strip().splitlines()[-1].split()
    return float(rss), float(heap)


def child(kind: str, total: int, limit: int) -> None:
    proc, base_url = start_server(total, limit)
    try:
        fn = plain_loop if kind == "plain" else runtime_loop
        # tracemalloc's peak covers the run only (imports happen before it starts)
        import nango_scripts.runtime
        import nango_scripts.store  # noqa: F401

        tracemalloc.start()
        asyncio.run(fn(base_url, limit))
        heap_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        proc.terminate()
        proc.wait()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{rss:.1f} {heap_peak / 2**20:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["plain", "runtime"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.records, args.limit)
        return

    print(f"{args.records:,} records of ~1 KB, median of {args.repeat} runs each")
    print(f"{'page size':>9}  {'plain rec/s':>12}  {'runtime rec/s':>14}  {'runtime/plain':>13}")
    for limit in (100, 1000):
        plain = statistics.median(measure("plain", args.records, limit, args.repeat))
        runtime = statistics.median(measure("runtime", args.records, limit, args.repeat))
        print(f"{limit:>9}  {plain:>12,.0f}  {runtime:>14,.0f}  {runtime / plain:>12.0%}")

    small = max(args.records // 5, 1000)
    print("\npeak memory of one run (pages of 1,000) in a fresh process, MiB:")
    print(
        f"{'records':>9}  {'plain RSS':>9}  {'runtime RSS':>11}  {'plain heap':>10}  {'runtime heap':>12}"
    )
    for total in (small, args.records):
        plain_rss, plain_heap = peak_memory_child("plain", total, 1000)
        runtime_rss, runtime_heap = peak_memory_child("runtime", total, 1000)
        print(
            f"{total:>9,}  {plain_rss:>9.1f}  {runtime_rss:>11.1f}  {plain_heap:>10.2f}  {runtime_heap:>12.2f}"
        )


if __name__ == "__main__":
    main()
