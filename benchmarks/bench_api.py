"""Records read through the HTTP API vs. the store's own delta read, in the same run.

    python benchmarks/bench_api.py [--records 100000] [--limit 1000] [--repeat 5]

A SQLite database (a temporary directory) is filled with ``--records`` records of
~1 KB (``SqlRecordStore.save_records``, batches of 1,000), then read in full, in
pages of ``--limit``, following ``next_cursor``:

- ``store``: ``SqlRecordStore.list_records`` called directly (each record decoded,
  with its ``_nango_metadata`` and cursor), no event loop, no HTTP;
- ``api``: ``GET /records?model=Item&limit=...`` of ``nango-scripts serve`` (a
  subprocess on 127.0.0.1, the same database) by an ``httpx.Client`` over loopback,
  each page's JSON decoded by the client with ``json.loads`` (what ``response.json()``
  does); the share of the client's decoding is shown, and the same read with the
  client decoding by ``orjson`` (for scale, not for the target).

Each is warmed up by one full read; then ``--repeat`` rounds each read everything once
with every reader in turn (store, api, api with orjson), so that a change in the machine's
load hits all of them alike, and the median of each is shown. Targets: the API serves at
least 50% of the store's records per second, and at least 30,000.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
from pydantic import BaseModel

from nango_scripts.settings import load_settings
from nango_scripts.store import ConnectionStore, RecordQuery, RecordScope, SqlRecordStore

SECRET = "sk_bench_api"
BATCH = 1000
MIN_RATIO = 0.5
MIN_RATE = 30_000

NANGO_TOML = """
[integrations.bench]
base_url = "http://127.0.0.1:9"
"""

MODELS = """
from datetime import datetime

from pydantic import BaseModel


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
"""

SYNC = """
from nango_scripts import NangoSync, sync

from bench.models import Item


@sync(models=[Item], frequency="every day", auto_start=False)
async def items(nango: NangoSync) -> None:
    pass
"""


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
    updated_at: str


def make_item(i: int) -> Item:
    return Item(
        id=str(i),
        title=f"Issue number {i}",
        state="open" if i % 3 else "closed",
        body=("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 13)[:760],
        labels=["bug", "p2", "backend"],
        author=Author(login=f"user{i % 97}", id=i % 97),
        comments=i % 17,
        updated_at="2024-05-01T12:00:00Z",
    )


def make_project(root: Path) -> dict[str, str]:
    (root / "bench" / "syncs").mkdir(parents=True)
    (root / "nango.toml").write_text(NANGO_TOML)
    (root / "bench" / "models.py").write_text(MODELS)
    (root / "bench" / "syncs" / "items.py").write_text(SYNC)
    return {
        "NANGO_SCRIPTS_PROJECT": str(root),
        "NANGO_SCRIPTS_DATABASE_URL": f"sqlite:///{root}/nango.db",
        "NANGO_SECRET_KEY": SECRET,
        "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
    }


def fill(env: dict[str, str], total: int) -> RecordScope:
    settings = load_settings(env["NANGO_SCRIPTS_PROJECT"], env)
    with ConnectionStore.open(settings) as connections:
        connections.create("bench", "c1", {})
    scope = RecordScope(settings.environment, "bench", "c1")
    store = SqlRecordStore.open(env["NANGO_SCRIPTS_DATABASE_URL"])
    try:
        for start in range(0, total, BATCH):
            batch = [make_item(i) for i in range(start, min(start + BATCH, total))]
            store.save_records(scope, "Item", batch)
    finally:
        store.close()
    return scope


def read_store(store: SqlRecordStore, scope: RecordScope, limit: int) -> Callable[[], int]:
    def read() -> int:
        count, cursor = 0, None
        while True:
            page = store.list_records(RecordQuery(scope, "Item", limit=limit, cursor=cursor))
            count += len(page.records)
            cursor = page.next_cursor
            if cursor is None:
                return count

    return read


class Decoding:
    """Seconds a client spent decoding JSON (part of the API's time)."""

    def __init__(self) -> None:
        self.seconds = 0.0


def read_api(
    client: httpx.Client,
    limit: int,
    loads: Callable[[bytes], Any] = json.loads,
    decoding: Decoding | None = None,
) -> int:
    count, cursor = 0, None
    headers = {"Connection-Id": "c1", "Provider-Config-Key": "bench"}
    while True:
        params: dict[str, str | int] = {"model": "Item", "limit": limit}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/records", params=params, headers=headers)
        response.raise_for_status()
        started = time.perf_counter()
        body = loads(response.content)
        if decoding is not None:
            decoding.seconds += time.perf_counter() - started
        count += len(body["records"])
        cursor = body["next_cursor"]
        if cursor is None:
            return count


def warm_up(reads: dict[str, Callable[[], int]], total: int) -> None:
    for name, read in reads.items():
        if read() != total:  # caches, the connection, imports
            raise SystemExit(f"{name}: the warm-up read did not return every record")


def rates(reads: dict[str, Callable[[], int]], total: int, repeat: int) -> dict[str, list[float]]:
    """Records per second of each full read, ``repeat`` times, the readers taking turns."""
    out: dict[str, list[float]] = {name: [] for name in reads}
    for _ in range(repeat):
        for name, read in reads.items():
            started = time.perf_counter()
            count = read()
            elapsed = time.perf_counter() - started
            if count != total:
                raise SystemExit(f"{name}: read {count} records, expected {total}")
            out[name].append(count / elapsed)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
    full_env.update(env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "nango-scripts"), "serve", "--port", str(port)],
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    raise SystemExit(f"serve never became healthy:\n{log.read_text()}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        env = make_project(Path(tmp))
        started = time.perf_counter()
        scope = fill(env, args.records)
        print(
            f"{args.records:,} records of ~1 KB saved in {time.perf_counter() - started:.1f} s;"
            f" full reads in pages of {args.limit:,}, median of {args.repeat}"
        )

        records = SqlRecordStore.open(env["NANGO_SCRIPTS_DATABASE_URL"])
        process, url = start_serve(env, Path(tmp) / "serve.log")
        try:
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=60
            ) as client:
                decoding = Decoding()
                reads = {
                    "store": read_store(records, scope, args.limit),
                    "api": lambda: read_api(client, args.limit, json.loads, decoding),
                    "api_orjson": lambda: read_api(client, args.limit, orjson.loads),
                }
                warm_up(reads, args.records)
                decoding.seconds = 0.0
                measured = rates(reads, args.records, args.repeat)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
            records.close()

    store = statistics.median(measured["store"])
    api = statistics.median(measured["api"])
    fast = statistics.median(measured["api_orjson"])
    decoding_share = decoding.seconds / sum(args.records / r for r in measured["api"])
    ratio = api / store
    print(f"{'store (list_records)':<28} {store:>10,.0f} records/s")
    print(f"{'api (GET /records, httpx)':<28} {api:>10,.0f} records/s")
    print(f"{'  of which json.loads':<28} {decoding_share:>10.0%} of the time (the client's)")
    print(f"{'api / store':<28} {ratio:>10.0%}")
    print(
        f"{'api, client using orjson':<28} {fast:>10,.0f} records/s ({fast / store:.0%} of store)"
    )
    verdict = "met" if ratio >= MIN_RATIO and api >= MIN_RATE else "NOT met"
    print(f"target (api >= {MIN_RATIO:.0%} of store and >= {MIN_RATE:,} records/s): {verdict}")


if __name__ == "__main__":
    main()
