"""A whole sync run, end to end: ``nango-scripts run`` against the ceiling and dlt.

    python benchmarks/bench_run.py [--records 100000] [--limits 100,1000] [--repeat 3]
                                   [--postgres URL] [--rss-records 1000000] [--no-dlt]

A local API (``_issues_api.py``, its own process) serves issues of ~415 bytes in cursor
pages. On the same API, in one run, it measures:

- ``bare httpx loop``: httpx.AsyncClient fetching every page and ``json.loads``-ing it,
  nothing else: the ceiling a sync can approach;
- ``hand pipeline``: the run's work written by hand in one loop (fetch, decode, validate
  each record with the script's model, canonical JSON, hash, upsert, commit per page),
  with a timer around each stage: where a record's microseconds go;
- ``nango-scripts run``: the sync below run by ``nango-scripts run issues c1 --json`` in
  a fresh process (records/s from the run's ``duration_s``; wall time includes Python's
  start and the imports), on SQLite (and PostgreSQL with ``--postgres``);
- ``dlt``: dlt 1.31's best configuration on the same work (``_dlt.py``; it installs dlt
  in a virtual environment of its own, ``benchmarks/.dlt-venv``, on first use);

then 1% of the issues change and 0.5% are deleted, and the incremental run of each.
Peak RSS of each run process is measured with ``wait4``; ``--rss-records`` repeats the
full sync at a larger count to show that memory stays flat. Targets (issue #15, SQLite,
pages of 100): full sync >= 60% of the bare loop and >= 6x dlt; incremental < 0.1 s;
PostgreSQL >= 50% of the bare loop; peak RSS < 150 MB at 100,000 and at 1,000,000.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import xxhash
from pydantic import BaseModel, TypeAdapter

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _databases import postgres_schema  # noqa: E402

try:  # the runtime's transport (absent from versions before it, measured for comparison)
    from nango_scripts.http._transport import fast_transport
except ImportError:
    fast_transport = None

CLI = str(Path(sys.executable).parent / "nango-scripts")

MODELS = """
from datetime import datetime

from pydantic import BaseModel


class User(BaseModel):
    login: str
    id: int


class Issue(BaseModel):
    id: int
    number: int
    title: str
    state: str
    body: str
    user: User
    labels: list[str]
    comments: int
    created_at: datetime
    updated_at: datetime
"""

SYNC = """
import os

from nango_scripts import NangoSync, sync

from bench.models import Issue

PAGES = {
    "type": "cursor",
    "cursor_path_in_response": "next_cursor",
    "cursor_name_in_request": "cursor",
    "response_path": "items",
}


@sync(models=[Issue], frequency="every day", auto_start=False)
async def issues(nango: NangoSync) -> None:
    params = {"limit": os.environ["BENCH_PAGE_SIZE"]}
    if nango.last_sync_date is not None:
        params["since"] = nango.last_sync_date.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    async for page in nango.paginate("/issues", params=params, paginate=PAGES):
        issues, deleted = [], []
        for item in page:
            if item.get("deleted"):
                deleted.append(item["id"])
            else:
                issues.append(Issue.model_validate(item))
        if issues:
            await nango.batch_save(issues, Issue)
        if deleted:
            await nango.batch_delete(deleted, Issue)
"""


class User(BaseModel):
    login: str
    id: int


class Issue(BaseModel):
    id: int
    number: int
    title: str
    state: str
    body: str
    user: User
    labels: list[str]
    comments: int
    created_at: datetime
    updated_at: datetime


# -- the API -----------------------------------------------------------------------------


@contextlib.contextmanager
def issues_api(total: int) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, str(HERE / "_issues_api.py"), str(total)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{int(process.stdout.readline())}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def mutate(base_url: str, total: int) -> tuple[int, int]:
    changed, deleted = total // 100, total // 200
    httpx.post(
        f"{base_url}/mutate", params={"changed": changed, "deleted": deleted}
    ).raise_for_status()
    return changed, deleted


# -- the ceiling and the hand pipeline ---------------------------------------------------


async def bare_loop(base_url: str, limit: int) -> int:
    count, cursor = 0, None
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor is not None:
                params["cursor"] = cursor
            response = await client.get("/issues", params=params)
            response.raise_for_status()
            body = json.loads(response.content)
            count += len(body["items"])
            cursor = body["next_cursor"]
            if cursor is None:
                return count


@dataclass
class Stages:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


HAND_SCHEMA = """
CREATE TABLE records (id TEXT PRIMARY KEY, seq INTEGER, hash BLOB, data TEXT, modified_at TEXT);
"""
HAND_UPSERT = (
    "INSERT INTO records (id, seq, hash, data, modified_at) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,"
    " data = excluded.data, modified_at = excluded.modified_at"
    " WHERE records.hash <> excluded.hash"
)
_DUMP = TypeAdapter(list[Issue])


async def hand_pipeline(
    base_url: str, limit: int, db_path: Path, stages: Stages, *, fast: bool = False
) -> int:
    """The run's work, by hand, one stage after the other (what the runtime must beat);
    ``fast``: over the runtime's transport (aiohttp's parser under httpx)."""
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.executescript(HAND_SCHEMA)
    seq, count, cursor = 0, 0, None
    now = "2026-01-01T00:00:00.000000Z"
    transport = fast_transport(ssl.create_default_context()) if fast else None
    async with httpx.AsyncClient(base_url=base_url, timeout=60, transport=transport) as client:
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor is not None:
                params["cursor"] = cursor
            with stages.timed("fetch"):
                response = await client.get("/issues", params=params)
                response.raise_for_status()
            with stages.timed("decode (json)"):
                body = json.loads(response.content)
            with stages.timed("validate"):
                items = [Issue.model_validate(raw) for raw in body["items"]]
            with stages.timed("dump + canonical + hash"):
                rows = []
                for record in _DUMP.dump_python(items, mode="json"):
                    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
                    seq += 1
                    rows.append(
                        (
                            str(record["id"]),
                            seq,
                            xxhash.xxh3_128_digest(canonical),
                            canonical.decode(),
                            now,
                        )
                    )
            with stages.timed("insert"):
                db.execute("BEGIN IMMEDIATE")
                db.executemany(HAND_UPSERT, rows)
            with stages.timed("commit"):
                db.execute("COMMIT")
            count += len(items)
            cursor = body["next_cursor"]
            if cursor is None:
                db.close()
                return count


# -- nango-scripts run, in a fresh process ---------------------------------------------------


def make_project(root: Path, base_url: str, database_url: str, limit: int) -> dict[str, str]:
    (root / "bench" / "syncs").mkdir(parents=True)
    (root / "nango.toml").write_text(f'[integrations.bench]\nbase_url = "{base_url}"\n')
    (root / "bench" / "models.py").write_text(MODELS)
    (root / "bench" / "syncs" / "issues.py").write_text(SYNC)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NANGO_")}
    env.update(
        {
            "NANGO_SCRIPTS_PROJECT": str(root),
            "NANGO_SCRIPTS_DATABASE_URL": database_url,
            "NANGO_SECRET_KEY": "sk_bench_run",
            "NANGO_ENCRYPTION_KEY": base64.b64encode(bytes(32)).decode(),
            "BENCH_PAGE_SIZE": str(limit),
        }
    )
    created = subprocess.run(
        [CLI, "connections", "create", "bench", "c1", "--credentials", "{}"],
        env=env,
        capture_output=True,
        text=True,
    )
    if created.returncode != 0:
        raise SystemExit(f"connections create failed:\n{created.stderr}")
    return env


@dataclass
class Measured:
    duration_s: float
    wall_s: float
    max_rss_mb: float
    document: dict[str, Any]
    user_s: float = 0.0
    system_s: float = 0.0
    """CPU seconds of the whole process, user and system (both cores count)."""


def run_process(env: dict[str, str]) -> Measured:
    """``nango-scripts run`` in a fresh process, reaped by ``wait4`` for its own peak RSS."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [CLI, "run", "issues", "c1", "--json"], env=env, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(
                f"nango-scripts run failed ({process.returncode}):\n{err.read().decode()}"
            )
        document = json.loads(out.read())
    if not document["success"]:
        raise SystemExit(f"the run failed: {document.get('error')}")
    return Measured(
        document["duration_s"],
        wall,
        usage.ru_maxrss / 1024,
        document,
        usage.ru_utime,
        usage.ru_stime,
    )


def counted(document: dict[str, Any]) -> dict[str, int]:
    return document["models"]["Issue"]


# -- printing -----------------------------------------------------------------------------


def row(name: str, records: int, seconds: float, ceiling: float | None, extra: str = "") -> None:
    rate = records / seconds
    share = f"{rate / ceiling:>6.0%}" if ceiling else "      "
    print(f"  {name:<34} {seconds:>8.3f} s {rate:>11,.0f} rec/s {share}  {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--limits", default="100,1000", help="page sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("NANGO_SCRIPTS_TEST_POSTGRES_URL"))
    parser.add_argument("--rss-records", type=int, default=0, help="also a full run at this count")
    parser.add_argument("--no-dlt", action="store_true", help="skip dlt")
    args = parser.parse_args()
    total = args.records
    limits = [int(x) for x in args.limits.split(",")]

    dlt = None
    if not args.no_dlt:
        import _dlt as dlt  # type: ignore[import-not-found,no-redef]

        dlt.dlt_python()

    print(
        f"{total:,} issues of ~415 bytes; median of {args.repeat}; machine: {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp_dir:
        tmp = Path(tmp_dir)
        for limit in limits:
            print(f"\nfull sync, cursor pages of {limit:,}")
            with issues_api(total) as api:
                asyncio.run(bare_loop(api, limit))  # renders the pages once, warms the API
                ceiling_s = statistics.median(
                    _timed(bare_loop(api, limit), total) for _ in range(args.repeat)
                )
                ceiling = total / ceiling_s
                row("bare httpx loop (the ceiling)", total, ceiling_s, ceiling)

                hand: list[float] = []
                stage_runs: list[Stages] = []
                for i in range(args.repeat):
                    stages = Stages()
                    hand.append(
                        _timed(
                            hand_pipeline(api, limit, tmp / f"hand-{limit}-{i}.db", stages), total
                        )
                    )
                    stage_runs.append(stages)
                row("hand pipeline (httpx, sqlite)", total, statistics.median(hand), ceiling)
                best = stage_runs[hand.index(min(hand))]
                for name, seconds in best.seconds.items():
                    print(f"      {name:<30} {seconds / total * 1e6:>6.2f} µs/record")
                fast_hand = (
                    []
                    if fast_transport is None
                    else [
                        _timed(
                            hand_pipeline(
                                api, limit, tmp / f"fast-{limit}-{i}.db", Stages(), fast=True
                            ),
                            total,
                        )
                        for i in range(args.repeat)
                    ]
                )
                if fast_hand:
                    row(
                        "hand pipeline (aiohttp transport)",
                        total,
                        statistics.median(fast_hand),
                        ceiling,
                    )

                runs: list[Measured] = []
                for i in range(args.repeat):
                    env = make_project(
                        tmp / f"sqlite-{limit}-{i}",
                        api,
                        f"sqlite:///{tmp}/run-{limit}-{i}.db",
                        limit,
                    )
                    measured = run_process(env)
                    if counted(measured.document)["added"] != total:
                        raise SystemExit(
                            f"the run added {counted(measured.document)}, expected {total}"
                        )
                    runs.append(measured)
                chosen = sorted(runs, key=lambda m: m.duration_s)[len(runs) // 2]
                row(
                    "nango-scripts run (sqlite)",
                    total,
                    chosen.duration_s,
                    ceiling,
                    f"wall {chosen.wall_s:.2f} s, CPU {chosen.user_s:.2f} s user"
                    f" + {chosen.system_s:.2f} s system,"
                    f" peak RSS {chosen.max_rss_mb:.0f} MB",
                )
                _print_timings(chosen.document)

                if args.postgres:
                    pg: list[Measured] = []
                    for i in range(args.repeat):
                        with postgres_schema(args.postgres) as url:
                            env = make_project(tmp / f"pg-{limit}-{i}", api, url, limit)
                            pg.append(run_process(env))
                    chosen_pg = sorted(pg, key=lambda m: m.duration_s)[len(pg) // 2]
                    row(
                        "nango-scripts run (postgres)",
                        total,
                        chosen_pg.duration_s,
                        ceiling,
                        f"wall {chosen_pg.wall_s:.2f} s, peak RSS {chosen_pg.max_rss_mb:.0f} MB",
                    )

                dlt_full = None
                if dlt is not None:
                    dlt_runs = [
                        dlt.run_dlt(api, limit, str(tmp / f"dlt-{limit}-{i}"), dlt.BEST_CONFIG)
                        for i in range(args.repeat)
                    ]
                    dlt_full = statistics.median(r["seconds"] for r in dlt_runs)
                    row(f"dlt 1.31 ({dlt.BEST_CONFIG})", total, dlt_full, ceiling)
                    print(
                        f"      nango-scripts run is {dlt_full / chosen.duration_s:.1f}x faster than dlt"
                    )

            print(f"\nincremental run, pages of {limit:,}: 1% changed, 0.5% deleted")
            incremental(tmp, total, limit, args.repeat, dlt)

        if args.rss_records:
            print(f"\npeak RSS at {args.rss_records:,} issues, pages of {limits[0]}")
            with issues_api(args.rss_records) as api:
                env = make_project(tmp / "rss", api, f"sqlite:///{tmp}/rss.db", limits[0])
                big = run_process(env)
                row(
                    "nango-scripts run (sqlite)",
                    args.rss_records,
                    big.duration_s,
                    None,
                    f"peak RSS {big.max_rss_mb:.0f} MB",
                )


def incremental(tmp: Path, total: int, limit: int, repeat: int, dlt: Any) -> None:
    ours: list[Measured] = []
    theirs: list[float] = []
    for i in range(repeat):
        with issues_api(total) as api:
            env = make_project(
                tmp / f"inc-{limit}-{i}", api, f"sqlite:///{tmp}/inc-{limit}-{i}.db", limit
            )
            run_process(env)
            dlt_dir = str(tmp / f"dlt-inc-{limit}-{i}")
            if dlt is not None:
                dlt.run_dlt(api, limit, dlt_dir, dlt.BEST_CONFIG)
            changed, deleted = mutate(api, total)
            measured = run_process(env)
            got = counted(measured.document)
            if got["updated"] != changed or got["deleted"] != deleted:
                raise SystemExit(
                    f"incremental run counted {got}, expected {changed} updated, {deleted} deleted"
                )
            ours.append(measured)
            if dlt is not None:
                theirs.append(dlt.run_dlt(api, limit, dlt_dir, dlt.BEST_CONFIG)["seconds"])
    chosen = sorted(ours, key=lambda m: m.duration_s)[len(ours) // 2]
    print(
        f"  {'nango-scripts run (sqlite)':<34} {chosen.duration_s:>8.3f} s"
        f"   (wall {chosen.wall_s:.2f} s with the process start; peak RSS {chosen.max_rss_mb:.0f} MB)"
    )
    _print_timings(chosen.document)
    if theirs:
        dlt_s = statistics.median(theirs)
        print(
            f"  {'dlt 1.31 (' + dlt.BEST_CONFIG + ')':<34} {dlt_s:>8.3f} s   ({dlt_s / chosen.duration_s:.1f}x ours)"
        )


def _print_timings(document: dict[str, Any]) -> None:
    timings = document.get("timings")
    if timings:
        shown = ", ".join(
            f"{k} {v:.3f} s" if isinstance(v, float) else f"{k} {v}" for k, v in timings.items()
        )
        print(f"      {shown}")


def _timed(work: Coroutine[Any, Any, int], expected: int) -> float:
    started = time.perf_counter()
    count = asyncio.run(work)
    elapsed = time.perf_counter() - started
    if count != expected:
        raise SystemExit(f"read {count} records, expected {expected}")
    return elapsed


if __name__ == "__main__":
    main()
