"""Records store throughput and memory: SqlRecordStore vs. the driver's bare upsert.

    python benchmarks/bench_store.py [--records 100000] [--batch 1000]
        [--backend sqlite|postgres|both] [--postgres-url URL] [--repeat N]
        [--one-transaction]

On SQLite (a temporary directory, WAL, synchronous=FULL as the store opens it) and on
PostgreSQL (when ``--postgres-url`` or NANGO_SCRIPTS_TEST_POSTGRES_URL is given; a
fresh schema, dropped afterwards), for records of ~1 KB saved in batches of 1,000
(what a sync's page gives), it prints records per second of:

- ``store``: ``SqlRecordStore.save_records`` of validated pydantic instances (it
  dumps, writes canonical JSON, hashes, looks up the stored hashes, draws ``seq`` and
  upserts), called directly, no event loop; ``list_records`` of a ``RecordQuery`` for
  reads (each record decoded, with its ``_nango_metadata`` and signed cursor);
- ``bare row``: the bare minimum on the same rows the store writes, measured in the
  same run: the driver's own ``executemany`` of ``INSERT ... ON CONFLICT (scope_id, id)
  DO UPDATE`` into the store's ``records`` table (a database of its own, made by the
  store's migrations and opened with its settings: its indexes, foreign key, WAL and
  synchronous=FULL), one transaction per batch (``--one-transaction``: one for all
  batches; the store must commit each batch call). Each row (scope, id, seq, hash,
  canonical JSON, timestamps) is made before the clock starts: no dumping, no hashing,
  no change detection, every row rewritten. Reads page by keyset on ``seq`` and
  ``json.loads`` each row;
- ``bare``: the same on a narrower row, a plain ``bare(scope_id, id, data)`` table
  (no seq, hash or timestamps, no second index); reads page by keyset on ``id``;
- ``bare+dump``: the same upsert with each row's JSON made inside the clock by
  pydantic's ``model_dump_json()`` (for scale: the cost of dumping alone);

The target (SQLite: store >= 50% of the bare minimum) is checked against both.

for: the first save of all records; a re-save of all of them with 1% changed (the
store must find exactly 1% updated and 99% unchanged, and rewrite only those); a read
of everything in pages of 1,000 (the store's delta read, following ``next_cursor``).
Each run starts from empty databases; the median of ``--repeat`` runs is shown (5 on
SQLite, 1 on PostgreSQL by default). The PostgreSQL tables are new, so the planner has
no statistics for them unless autovacuum analyzes them during the run.

Peak memory is measured in fresh child processes at two record counts (records made
batch by batch, first save then delta read), as max RSS and as tracemalloc's peak of
the Python heap during the work, to show that it does not grow with the number of
records.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import xxhash
from _databases import postgres_schema
from pydantic import BaseModel

from nango_scripts.store import RecordQuery, RecordScope, SqlRecordStore
from nango_scripts.store._canonical import canonical_json, timestamp
from nango_scripts.store._records import dump_records
from nango_scripts.store._sqlite import open_database

PG_ENV = "NANGO_SCRIPTS_TEST_POSTGRES_URL"
SCOPE = RecordScope("bench", "bench", "c1")
MODEL = "Item"
HASH = functools.partial(xxhash.xxh3_128_digest, seed=0x5EED)
CHANGE_EVERY = 100  # 1% of the records change between the first save and the re-save
TARGET_SAVE = 0.5  # store >= 50% of the bare minimum's records per second (SQLite)
TARGET_READ = 100_000  # delta read records per second (SQLite)


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


def make_record(i: int, *, changed: bool = False) -> dict[str, object]:
    return {
        "id": str(i),
        "title": f"Issue number {i}" + (" (edited)" if changed else ""),
        "state": "open" if i % 3 else "closed",
        "body": ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 13)[:760],
        "labels": ["bug", "p2", "backend"],
        "author": {"login": f"user{i % 97}", "id": i % 97},
        "comments": i % 17,
        "updated_at": "2024-05-01T12:00:00Z",
    }


def make_batch(start: int, stop: int) -> list[Item]:
    return [Item.model_validate(make_record(i)) for i in range(start, stop)]


NarrowRow = tuple[int, str, str]
StoreRow = tuple[int, str, int, bytes, str, str, str]


def bare_rows(batch: list[Item], scope_id: int = 1) -> list[NarrowRow]:
    """(scope, id, the canonical JSON the store writes), for the narrow bare minimum."""
    return [(scope_id, str(r["id"]), canonical_json(r)) for r in dump_records(batch)]


def store_rows(narrow: list[NarrowRow], first_seq: int, now: str) -> list[StoreRow]:
    """The store's own row for each record (scope, id, seq, hash, data, first seen, last
    modified), hashed here, before any clock: the bare minimum does no hashing."""
    return [
        (scope_id, rid, first_seq + n, HASH(data.encode()), data, now, now)
        for n, (scope_id, rid, data) in enumerate(narrow)
    ]


# -- backends ---------------------------------------------------------------------------------


@dataclass
class Target:
    backend: str
    store_url: str
    bare: str  # a SQLite path or a PostgreSQL URL


@contextmanager
def fresh_target(backend: str, pg_url: str | None) -> Iterator[Target]:
    """Empty databases for one run: a temporary directory, or a new schema dropped after."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench_store_") as tmp:
            yield Target(backend, f"sqlite:///{tmp}/store.db", f"{tmp}/bare.db")
        return
    assert pg_url
    with postgres_schema(pg_url, "bench_store") as url:
        yield Target(backend, url, url)


class Bare:
    """The bare minimum: the driver's executemany upsert, one transaction per batch."""

    first_key: Any = ""  # below every id: where keyset pages start

    def __init__(self, target: Target, table: str = "bare") -> None:
        self.pg = target.backend == "postgres"
        if self.pg:
            import psycopg

            self.conn: Any = psycopg.connect(target.bare, autocommit=True)
            mark = "%s"
        else:
            # the store's settings (open_sqlite, with synchronous=FULL as SqlRecordStore.open)
            self.conn = sqlite3.connect(target.bare, isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout = 10000")
            self.conn.execute("PRAGMA journal_mode = WAL").fetchone()
            self.conn.execute("PRAGMA synchronous = FULL")
            mark = "?"
        self.conn.execute(
            f"CREATE TABLE {table} (scope_id INTEGER, id TEXT, data TEXT,"
            " PRIMARY KEY (scope_id, id))"
        )
        self.upsert_sql = (
            f"INSERT INTO {table} (scope_id, id, data) VALUES ({mark}, {mark}, {mark})"
            " ON CONFLICT (scope_id, id) DO UPDATE SET data = excluded.data"
        )
        self.page_sql = (
            f"SELECT id, data FROM {table} WHERE scope_id = {mark} AND id > {mark}"
            f" ORDER BY id LIMIT {mark}"
        )

    def upsert(self, rows: list[Any]) -> None:
        """One batch in a transaction of its own."""
        self.upsert_all([rows])

    def upsert_all(self, batches: list[list[Any]]) -> None:
        """Batches, one executemany each, all in one transaction."""
        if self.pg:
            with self.conn.transaction(), self.conn.cursor() as cursor:
                for rows in batches:
                    cursor.executemany(self.upsert_sql, rows)
        else:
            self.conn.execute("BEGIN IMMEDIATE")
            for rows in batches:
                self.conn.executemany(self.upsert_sql, rows)
            self.conn.execute("COMMIT")

    def read_all(self, page: int) -> int:
        """Keyset pages on the page query's first column, ``json.loads`` of each row."""
        count, last, loads = 0, self.first_key, json.loads
        while True:
            rows = self.conn.execute(self.page_sql, (1, last, page)).fetchall()
            for _, data in rows:
                loads(data)
            count += len(rows)
            if len(rows) < page:
                return count
            last = rows[-1][0]

    def close(self) -> None:
        self.conn.close()


class BareStoreRow(Bare):
    """The bare minimum on the store's own row: the same executemany upsert, one
    transaction per batch, into the records table of a database made by the store's
    migrations and opened with its settings (so with its indexes and foreign key). Every
    row is written, its hash and seq computed before the clock; reads page by ``seq``."""

    first_key = 0

    def __init__(self, target: Target) -> None:
        db = open_database(target.store_url, synchronous="FULL")
        self.pg, self.conn = db.dialect == "postgres", db.raw
        if not self.pg:
            self.conn.row_factory = None  # plain tuples, as Bare reads
        mark = "%s" if self.pg else "?"
        self.conn.execute(
            "INSERT INTO record_scopes (environment, integration_id, connection_id, model)"
            " VALUES ('bench', 'bench', 'c1', 'Item')"
        )
        values = ", ".join([mark] * 7)
        self.upsert_sql = (
            "INSERT INTO records (scope_id, id, seq, hash, data, first_seen_at,"
            f" last_modified_at, last_action) VALUES ({values}, 'ADDED')"
            " ON CONFLICT (scope_id, id) DO UPDATE SET seq = excluded.seq,"
            " hash = excluded.hash, data = excluded.data,"
            " last_modified_at = excluded.last_modified_at, last_action = 'UPDATED'"
        )
        self.page_sql = (
            f"SELECT seq, data FROM records WHERE scope_id = {mark} AND seq > {mark}"
            f" ORDER BY seq LIMIT {mark}"
        )


def store_read_all(store: SqlRecordStore, page: int) -> int:
    count, cursor = 0, None
    while True:
        result = store.list_records(RecordQuery(SCOPE, MODEL, limit=page, cursor=cursor))
        count += len(result.records)
        cursor = result.next_cursor
        if cursor is None:
            return count


# -- one measured run -------------------------------------------------------------------------


@dataclass
class Data:
    first: list[list[Item]]
    resave: list[list[Item]]
    bare_first: list[list[NarrowRow]]
    bare_resave: list[list[NarrowRow]]
    row_first: list[list[StoreRow]]
    row_resave: list[list[StoreRow]]

    @property
    def total(self) -> int:
        return sum(len(b) for b in self.first)

    @property
    def changed(self) -> int:
        return sum(1 for b in self.first for r in b if int(r.id) % CHANGE_EVERY == 0)

    def head(self, batches: int) -> Data:
        return Data(
            self.first[:batches],
            self.resave[:batches],
            self.bare_first[:batches],
            self.bare_resave[:batches],
            self.row_first[:batches],
            self.row_resave[:batches],
        )


def build_data(total: int, batch: int) -> Data:
    first = [make_batch(s, min(s + batch, total)) for s in range(0, total, batch)]
    resave = [
        [
            Item.model_validate(make_record(int(r.id), changed=True))
            if int(r.id) % CHANGE_EVERY == 0
            else r
            for r in b
        ]
        for b in first
    ]
    narrow_first, narrow_resave = [bare_rows(b) for b in first], [bare_rows(b) for b in resave]
    now = timestamp()
    row_first = [store_rows(b, 1 + i * batch, now) for i, b in enumerate(narrow_first)]
    row_resave = [store_rows(b, 1 + (total + i) * batch, now) for i, b in enumerate(narrow_resave)]
    data = Data(first, resave, narrow_first, narrow_resave, row_first, row_resave)
    # The prepared rows live through the whole run: keep them out of the GC's scans.
    gc.collect()
    gc.freeze()
    return data


def settle() -> float:
    """Start a timed phase: the page cache's dirty pages go to disk first, so that the
    kernel writing back an earlier phase's data (another database) does not bill this
    one; then the clock."""
    os.sync()
    return time.perf_counter()


def fail(message: str) -> None:
    raise SystemExit(f"bench_store: {message}")


def run_store(target: Target, data: Data, page: int) -> dict[str, float]:
    rates: dict[str, float] = {}
    with SqlRecordStore.open(target.store_url) as store:
        for key, batches in (("first", data.first), ("resave", data.resave)):
            added = updated = unchanged = 0
            started = settle()
            for batch in batches:
                result = store.save_records(SCOPE, MODEL, batch)
                added += len(result.added)
                updated += len(result.updated)
                unchanged += len(result.unchanged)
            rates[key] = data.total / (time.perf_counter() - started)
            got = (added, updated, unchanged)
            want = (
                (data.total, 0, 0)
                if key == "first"
                else (0, data.changed, data.total - data.changed)
            )
            if got != want:
                fail(f"{key}: (added, updated, unchanged) = {got}, expected {want}")

        started = settle()
        count = store_read_all(store, page)
        rates["read"] = count / (time.perf_counter() - started)
        if count != data.total:
            fail(f"store delta read gave {count} records, expected {data.total}")
    return rates


def run_bare(
    backend: str, pg_url: str | None, data: Data, page: int, *, one_transaction: bool = False
) -> dict[str, float]:
    """The bare minimum on the store's row (``row_*``) and on (scope, id, data) (no
    prefix), rows made before the clock; then (``*_dump``) the narrow one with each row's
    JSON made inside the clock by pydantic's ``model_dump_json``. Each in a database of
    its own, removed before the next starts (see ``bench_backend``)."""
    rates: dict[str, float] = {}
    kinds: list[tuple[str, type[Bare], list[list[Any]], list[list[Any]]]] = [
        ("row_", BareStoreRow, data.row_first, data.row_resave),
        ("", Bare, data.bare_first, data.bare_resave),
    ]
    for prefix, kind, first, resave in kinds:
        with fresh_target(backend, pg_url) as target:
            bare = kind(target)
            try:
                for key, rows_batches in (("first", first), ("resave", resave)):
                    started = settle()
                    if one_transaction:
                        bare.upsert_all(rows_batches)
                    else:
                        for rows in rows_batches:
                            bare.upsert(rows)
                    rates[prefix + key] = data.total / (time.perf_counter() - started)
                started = settle()
                count = bare.read_all(page)
                rates[prefix + "read"] = count / (time.perf_counter() - started)
                if count != data.total:
                    fail(f"bare {prefix}read gave {count} records, expected {data.total}")
            finally:
                bare.close()
    with fresh_target(backend, pg_url) as target:
        bare = Bare(target)
        try:
            for key, batches in (("first", data.first), ("resave", data.resave)):
                started = settle()
                for batch in batches:
                    bare.upsert([(1, r.id, r.model_dump_json()) for r in batch])
                rates[f"{key}_dump"] = data.total / (time.perf_counter() - started)
        finally:
            bare.close()
    return rates


# -- peak memory in a fresh process -----------------------------------------------------------


def peak_memory_child(
    kind: str, backend: str, total: int, batch: int, pg_url: str | None
) -> tuple[float, float]:
    """(max RSS, peak Python heap during the work) in MiB, from a fresh process."""
    env = dict(os.environ)
    if pg_url:
        env[PG_ENV] = pg_url  # by environment, not argv: a URL may hold a password
    out = subprocess.run(
        [
            *(sys.executable, __file__, "--child", kind, "--backend", backend),
            *("--records", str(total), "--batch", str(batch)),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    rss, heap = out.stdout.strip().splitlines()[-1].split()
    return float(rss), float(heap)


def child(kind: str, backend: str, total: int, batch: int, pg_url: str | None) -> None:
    with fresh_target(backend, pg_url) as target:
        make_batch(0, 1)  # imports and pydantic set-up happen before tracemalloc starts
        tracemalloc.start()
        if kind == "store":
            with SqlRecordStore.open(target.store_url) as store:
                for start in range(0, total, batch):
                    store.save_records(SCOPE, MODEL, make_batch(start, min(start + batch, total)))
                count = store_read_all(store, batch)
        else:
            bare = Bare(target)
            for start in range(0, total, batch):
                bare.upsert(bare_rows(make_batch(start, min(start + batch, total))))
            count = bare.read_all(batch)
            bare.close()
        heap_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if count != total:
        fail(f"{kind} child read {count} records, expected {total}")
    print(f"{peak_rss_mib():.1f} {heap_peak / 2**20:.2f}")


def peak_rss_mib() -> float:
    """This process's peak RSS. Not ru_maxrss: on Linux it keeps the parent's peak across
    fork and exec, and the parent holds every prepared record."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- report -----------------------------------------------------------------------------------

LABELS = {
    "first": "first save",
    "resave": "re-save, 1% changed",
    "read": "read all, pages of {page:,}",
}


def bench_backend(backend: str, data: Data, args: argparse.Namespace, pg_url: str | None) -> None:
    page = args.batch
    run_bare(backend, pg_url, data.head(2), page)  # warm-up on throwaway databases
    with fresh_target(backend, pg_url) as target:
        run_store(target, data.head(2), page)

    # Every measurement gets databases of its own, removed when it ends: 100 MB of an
    # earlier one's files left in the page cache slowed the next one's writes here by
    # up to 30%. The order alternates between runs, so neither side always goes first.
    repeat = args.repeat or (5 if backend == "sqlite" else 1)
    bare_runs: list[dict[str, float]] = []
    store_runs: list[dict[str, float]] = []
    for run in range(repeat):
        if run % 2:
            with fresh_target(backend, pg_url) as target:
                store_runs.append(run_store(target, data, page))
        bare_runs.append(
            run_bare(backend, pg_url, data, page, one_transaction=args.one_transaction)
        )
        if not run % 2:
            with fresh_target(backend, pg_url) as target:
                store_runs.append(run_store(target, data, page))

    def median(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    title = {"sqlite": "SQLite (WAL, synchronous=FULL)", "postgres": "PostgreSQL"}[backend]
    mode = "one for all batches" if args.one_transaction else "one per batch"
    print(f"\n{title}: records/s, median of {repeat} run(s); bare transactions: {mode}")
    print(
        f"{'operation':<26}  {'bare row':>9}  {'bare':>9}  {'bare+dump':>9}  {'store':>9}"
        f"  {'store/bare row':>14}  {'store/bare':>10}  {'store/bare+dump':>15}"
    )
    verdicts: list[str] = []
    for key in ("first", "resave", "read"):
        row = median(bare_runs, f"row_{key}")
        bare = median(bare_runs, key)
        dumped = median(bare_runs, f"{key}_dump") if key != "read" else None
        store = median(store_runs, key)
        label = LABELS[key].format(page=page)
        print(
            f"{label:<26}  {row:>9,.0f}  {bare:>9,.0f}"
            f"  {'' if dumped is None else f'{dumped:,.0f}':>9}  {store:>9,.0f}"
            f"  {store / row:>14.0%}  {store / bare:>10.0%}"
            f"  {'' if dumped is None else f'{store / dumped:.0%}':>15}"
        )
        if backend != "sqlite":
            continue
        if key == "read":
            ok = store >= TARGET_READ
            verdicts.append(f"{label}: >= {TARGET_READ:,} rec/s: {'met' if ok else 'NOT MET'}")
        else:
            verdicts.append(
                f"{label}: >= {TARGET_SAVE:.0%} of bare row: "
                f"{'met' if store >= TARGET_SAVE * row else 'NOT MET'};"
                f" >= {TARGET_SAVE:.0%} of bare (id, data): "
                f"{'met' if store >= TARGET_SAVE * bare else 'NOT MET'}"
            )
    for verdict in verdicts:
        print(f"target (SQLite) {verdict}")
    speedup = median(store_runs, "resave") / median(store_runs, "first")
    print(
        f"store re-save / first save: {speedup:.2f}x"
        f" ({'faster' if speedup > 1 else 'NOT faster'}; unchanged records are not rewritten)"
    )

    small = max(args.records // 5, 2 * args.batch)
    print("peak memory, first save + read all, in a fresh process, MiB:")
    print(
        f"{'records':>9}  {'bare RSS':>8}  {'store RSS':>9}  {'bare heap':>9}  {'store heap':>10}"
    )
    rows = []
    for total in (small, args.records):
        bare_rss, bare_heap = peak_memory_child("bare", backend, total, args.batch, pg_url)
        store_rss, store_heap = peak_memory_child("store", backend, total, args.batch, pg_url)
        rows.append((store_rss, store_heap))
        print(
            f"{total:>9,}  {bare_rss:>8.1f}  {store_rss:>9.1f}  {bare_heap:>9.2f}  {store_heap:>10.2f}"
        )
    (rss_a, heap_a), (rss_b, heap_b) = rows
    # "flat": at 5x the records, at most 10% (or 8 MiB of RSS, 2 MiB of heap) more
    flat = rss_b <= max(rss_a * 1.1, rss_a + 8) and heap_b <= max(heap_a * 1.1, heap_a + 2)
    print(
        f"store memory flat from {small:,} to {args.records:,} records:"
        f" {'yes' if flat else 'NO'}{' (target met)' if flat and backend == 'sqlite' else ''}"
        f"{' (target NOT MET)' if not flat and backend == 'sqlite' else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="records per save and per page")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--postgres-url", help=f"a PostgreSQL database to use (default: ${PG_ENV})")
    parser.add_argument(
        "--repeat",
        type=int,
        help="measured runs per backend, median shown (default: 5 on SQLite, 1 on PostgreSQL)",
    )
    parser.add_argument(
        "--one-transaction",
        action="store_true",
        help="the bare upserts write all batches in one transaction, not one each"
        " (the store commits every batch call: durable when it returns)",
    )
    parser.add_argument("--child", choices=["store", "bare"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    pg_url = args.postgres_url or os.environ.get(PG_ENV) or None
    backend = args.backend or ("both" if pg_url else "sqlite")
    if backend != "sqlite" and not pg_url:
        parser.error(f"--backend {backend} needs --postgres-url or ${PG_ENV}")
    if args.child:
        child(args.child, backend, args.records, args.batch, pg_url)
        return

    data = build_data(args.records, args.batch)
    size = statistics.mean(len(row[2].encode()) for row in data.bare_first[0])
    print(
        f"{data.total:,} records of ~{size:,.0f} B of JSON, saved in batches of {args.batch:,};"
        f" {data.changed:,} ({data.changed / data.total:.0%}) changed for the re-save"
    )
    print(
        "store:     save_records of pydantic instances (dump, canonical JSON, hash,"
        " stored-hash lookup, seq, upsert of the new and changed);"
        " list_records (json.loads, _nango_metadata, signed cursor per record)"
    )
    print(
        "bare row:  the driver's executemany upsert of the store's own rows into its records"
        " table, every row rewritten, one transaction per batch, rows (JSON, hash, seq) made"
        " before the clock; keyset pages on seq, json.loads each"
    )
    print("bare:      the same into a plain (scope_id, id, data) table; keyset pages on id")
    print("bare+dump: that upsert, each row's JSON made in the clock by model_dump_json()")
    for name in ("sqlite", "postgres") if backend == "both" else (backend,):
        bench_backend(name, data, args, pg_url)


if __name__ == "__main__":
    main()
