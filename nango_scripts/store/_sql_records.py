"""The records store on SQLite or PostgreSQL: change detection, deletes, delta reads.

Writes go through one connection, one transaction per batch call, committed before
the call returns; reads use a second connection, so (in WAL mode on SQLite) they never
wait for a writer. Every change of a record takes the next ``seq``; delta reads page by
``seq``, so a record changed while a client pages through comes again later and is
never skipped. On PostgreSQL, writers of one scope take an advisory lock before they
draw a ``seq``, so within a scope ``seq`` order is commit order.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import orjson
from pydantic import BaseModel
from pydantic_core import from_json

from nango_scripts.errors import RecordQueryError, StoreError
from nango_scripts.store._canonical import (
    KEYED_HASH,
    CursorCodec,
    canonical_batch,
    canonical_json,
    parse_timestamp,
    record_hasher,
    timestamp,
)
from nango_scripts.store._db import Database, placeholders, store_errors
from nango_scripts.store._outbox import OutboxEntry, insert_outbox
from nango_scripts.store._record_json import JsonRecordPage, record_json
from nango_scripts.store._records import (
    BatchResult,
    RecordScope,
    deep_merge,
    dump_records,
)
from nango_scripts.store._sqlite import Synchronous, open_database

__all__ = ["RecordPage", "SqlRecordStore"]

P = ParamSpec("P")
T = TypeVar("T")

WebhookPlan = Callable[[Mapping[str, int]], Sequence[OutboxEntry]]
"""Deletions per model of the ending run -> the webhooks to write with it (engine side)."""

Action = Literal["ADDED", "UPDATED", "DELETED"]
WritePath = Literal["auto", "lookup", "upsert"]
_FILTERS: dict[str, Action] = {"added": "ADDED", "updated": "UPDATED", "deleted": "DELETED"}
MAX_LIMIT = 10_000
MAX_IDS = 100
_CHUNK = 500  # ids per IN (...) list: well under every engine's parameter limit
_UPSERT_ROWS = 500  # rows per multi-row upsert: 7 parameters each, 3,500 a statement


@dataclass(frozen=True)
class RecordPage:
    records: list[dict[str, Any]]
    next_cursor: str | None


def _scope_key(scope: RecordScope, model: str) -> str:
    return json.dumps([scope.environment, scope.integration_id, scope.connection_id, model])


def _chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _store_errors(
    method: Callable[Concatenate[SqlRecordStore, P], T],
) -> Callable[Concatenate[SqlRecordStore, P], T]:
    """A driver's error out of a blocking method comes out as ``StoreError`` (the async
    methods call these in a worker thread, so they get it too)."""

    def guarded(self: SqlRecordStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._guarded(lambda: method(self, *args, **kwargs))

    functools.update_wrapper(guarded, method)
    return guarded


_INSERT_COLUMNS = (
    "INSERT INTO records (scope_id, id, seq, hash, data, first_seen_at,"
    " last_modified_at, last_action) VALUES "
)


@functools.cache
def _insert_new_sql(rows: int) -> str:
    # No RETURNING: on SQLite it costs about 2 µs a row. The row count says whether
    # every row went in; the rare conflicts are found by their seq afterwards.
    values = ",".join(["(?, ?, ?, ?, ?, ?, ?, 'ADDED')"] * rows)
    return f"{_INSERT_COLUMNS}{values} ON CONFLICT (scope_id, id) DO NOTHING"


def _record_rows(
    scope_id: int,
    prepared: Mapping[str, tuple[bytes, bytes]],
    seqs: Mapping[str, int],
    now: str,
) -> list[tuple[Any, ...]]:
    """The records table's row of each prepared record, for the inserts and upserts."""
    return [
        (scope_id, rid, seqs[rid], digest, canonical.decode(), now, now)
        for rid, (canonical, digest) in prepared.items()
    ]


def _flat(rows: Sequence[tuple[Any, ...]]) -> list[Any]:
    """One multi-row statement's parameters."""
    return [value for row in rows for value in row]


@functools.cache
def _upsert_sql(rows: int) -> str:
    # In DO UPDATE, "records.x" is the stored row and "excluded.x" the new one. The
    # WHERE leaves an unchanged live record alone; RETURNING names what was written.
    values = ",".join(["(?, ?, ?, ?, ?, ?, ?, 'ADDED')"] * rows)
    return (
        f"{_INSERT_COLUMNS}{values}"
        " ON CONFLICT (scope_id, id) DO UPDATE SET seq = excluded.seq,"
        " hash = excluded.hash, data = excluded.data,"
        " last_modified_at = excluded.last_modified_at,"
        " last_action = CASE WHEN records.deleted_at IS NULL THEN 'UPDATED' ELSE 'ADDED' END,"
        " deleted_at = NULL, pruned_at = NULL"
        " WHERE records.hash <> excluded.hash OR records.deleted_at IS NOT NULL"
        " RETURNING id, last_action"
    )


class SqlRecordStore:
    """``RecordStore`` on a SQL database. Open with :meth:`open`; close when done."""

    def __init__(
        self, writer: Database, reader: Database, *, write_path: WritePath = "auto"
    ) -> None:
        self._w = writer
        self._write_path = write_path
        self._r = reader
        self._scopes: dict[tuple[RecordScope, str], int] = {}
        self._expect_new: dict[int, bool] = {}  # scope id -> its last save was mostly new
        self._runs: dict[str, tuple[RecordScope, frozenset[str]]] = {}
        self._errors = store_errors()
        with writer.transaction():
            writer.execute(
                "INSERT INTO store_meta (key, value) VALUES ('seq', '0') ON CONFLICT (key) DO NOTHING"
            )
            writer.execute(
                "INSERT INTO store_meta (key, value) VALUES ('cursor_key', ?)"
                " ON CONFLICT (key) DO NOTHING",
                (os.urandom(32).hex(),),
            )
            # A database that has records but no hash name was made with SHA-256.
            writer.execute(
                "INSERT INTO store_meta (key, value) SELECT 'hash', CASE WHEN EXISTS"
                " (SELECT 1 FROM records) THEN 'sha256-128' ELSE ? END"
                " ON CONFLICT (key) DO NOTHING",
                (KEYED_HASH,),
            )
            writer.execute(
                "INSERT INTO store_meta (key, value) VALUES ('hash_key', ?)"
                " ON CONFLICT (key) DO NOTHING",
                (os.urandom(8).hex(),),
            )
        meta = dict(writer.query("SELECT key, value FROM store_meta"))
        self._cursors = CursorCodec(bytes.fromhex(meta["cursor_key"]))
        self._hash = record_hasher(meta["hash"], meta.get("hash_key"))

    @classmethod
    def open(
        cls,
        database_url: str,
        *,
        synchronous: Synchronous = "FULL",
        write_path: WritePath = "auto",
    ) -> SqlRecordStore:
        """Open (and migrate) the database. ``FULL``: a batch is on disk when its call returns.

        ``write_path`` is for tests and benchmarks: how ``save_records`` finds what
        changed (``lookup`` the stored hashes first, or ``upsert`` and let the database
        say; ``auto`` picks per batch). Every path gives the same results.
        """
        writer = open_database(database_url, synchronous=synchronous)
        reader = None
        try:
            reader = open_database(database_url, synchronous=synchronous, migrations=())
            if reader.dialect == "postgres":
                # A delta page must walk records_by_seq in order and stop at the limit.
                # On a table filled faster than autovacuum analyzes it, the planner
                # guesses a few rows and picks a bitmap scan that reads and sorts every
                # later record for each page (100,000 records: 51,000 a second read).
                reader.execute("SET enable_bitmapscan = off")
            return cls(writer, reader, write_path=write_path)
        except BaseException:
            writer.close()
            if reader is not None:
                reader.close()
            raise

    @property
    def dialect(self) -> str:
        return self._w.dialect

    def close(self) -> None:
        self._w.close()
        self._r.close()

    def __enter__(self) -> SqlRecordStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        # The drivers block: run them off the event loop so other runs go on.
        return await asyncio.to_thread(lambda: self._guarded(lambda: fn(*args, **kwargs)))

    def _guarded(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except BaseException as exc:
            # A scope created by a rolled-back transaction must not stay cached.
            self._scopes.clear()
            if isinstance(exc, self._errors):
                raise StoreError(f"The records database failed: {exc}.") from exc
            raise

    # -- scopes and seq ----------------------------------------------------------------------

    def _scope_id(
        self, db: Database, scope: RecordScope, model: str, *, create: bool
    ) -> int | None:
        key = (scope, model)
        found = self._scopes.get(key)
        if found is not None:
            return found
        values = (scope.environment, scope.integration_id, scope.connection_id, model)
        where = (
            "SELECT id FROM record_scopes WHERE environment = ? AND integration_id = ?"
            " AND connection_id = ? AND model = ?"
        )
        row = db.one(where, values)
        if row is None:
            if not create:
                return None
            db.execute(
                "INSERT INTO record_scopes (environment, integration_id, connection_id, model)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                values,
            )
            row = db.one(where, values)
        self._scopes[key] = int(row[0])
        return self._scopes[key]

    def _lock_scope(self, scope_id: int) -> None:
        if self._w.dialect == "postgres":
            self._w.execute("SELECT pg_advisory_xact_lock(?, ?)", (7312016, scope_id))

    def _next_seqs(self, count: int) -> list[int]:
        if count == 0:
            return []
        if self._w.dialect == "postgres":
            rows = self._w.query(
                "SELECT nextval('record_seq') FROM generate_series(1, ?)", (count,)
            )
            return [int(r[0]) for r in rows]
        row = self._w.one(
            "UPDATE store_meta SET value = CAST(value AS INTEGER) + ? WHERE key = 'seq'"
            " RETURNING value",
            (count,),
        )
        last = int(row[0])
        return list(range(last - count + 1, last + 1))

    def _draw_seqs(self, prepared: Mapping[str, Any]) -> dict[str, int]:
        """A new ``seq`` for each id, in the batch's order."""
        return dict(zip(prepared, self._next_seqs(len(prepared)), strict=True))

    def _existing(
        self, db: Database, scope_id: int, ids: Sequence[str], columns: str
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if db.dialect == "postgres":
            # A join on unnest() plans as primary-key lookups whatever the table's
            # statistics; "id IN (...)" on a table not analyzed yet scans the scope.
            prefixed = ", ".join(f"r.{c.strip()}" for c in columns.split(","))
            rows = db.query(
                f"SELECT r.id, {prefixed} FROM unnest(?::text[]) AS wanted(id)"
                " JOIN records r ON r.scope_id = ? AND r.id = wanted.id",
                (list(ids), scope_id),
            )
            return {row[0]: row for row in rows}
        for chunk in _chunks(ids):
            rows = db.query(
                f"SELECT id, {columns} FROM records WHERE scope_id = ? AND id IN ({placeholders(len(chunk))})",
                (scope_id, *chunk),
            )
            for row in rows:
                found[row[0]] = row
        return found

    # -- writes -----------------------------------------------------------------------------

    async def save_records(
        self,
        scope: RecordScope,
        model: str,
        records: Sequence[BaseModel],
        *,
        run_id: str | None = None,
    ) -> BatchResult:
        return await self._call(self.save_records_sync, scope, model, records, run_id=run_id)

    @_store_errors
    def save_records_sync(
        self,
        scope: RecordScope,
        model: str,
        records: Sequence[BaseModel],
        *,
        run_id: str | None = None,
    ) -> BatchResult:
        prepared = self._prepare(records)
        ids = list(prepared)
        result = BatchResult()
        now = timestamp()
        with self._w.transaction() as db:
            scope_id = self._scope_id(db, scope, model, create=True)
            assert scope_id is not None
            self._lock_scope(scope_id)
            path = self._write_path
            if path == "upsert" or (path == "auto" and self._expect_new.get(scope_id, False)):
                written = self._insert_new(db, scope_id, prepared, now)
            else:
                to_write = self._changed_only(db, scope_id, prepared)
                written = self._upsert_changed(db, scope_id, to_write, now)
            for rid in ids:
                action = written.get(rid)
                if action is None:
                    result.unchanged.append(rid)
                elif action == "ADDED":
                    result.added.append(rid)  # new, or deleted and saved again
                else:
                    result.updated.append(rid)
            # Mostly new records (a first sync): skip the lookup next time, the upsert
            # finds the few that exist. Mostly known ones: look them up first, so that
            # unchanged records cost a key probe instead of a bound row.
            self._expect_new[scope_id] = len(result.added) * 2 > len(ids)
            run = self._run_info(db, run_id) if run_id is not None else None
            if run is not None and model in run[1]:
                db.executemany(
                    "INSERT INTO run_seen (run_id, scope_id, id) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    [(run_id, scope_id, rid) for rid in ids],
                )
        return result

    def _prepare(self, records: Sequence[BaseModel]) -> dict[str, tuple[bytes, bytes]]:
        """By id: the canonical JSON and its hash (the last of an id wins)."""
        dumped = dump_records(records)
        digest = self._hash
        return {
            str(record["id"]): (encoded, digest(encoded))
            for record, encoded in zip(dumped, canonical_batch(dumped), strict=True)
        }

    def _changed_only(
        self, db: Database, scope_id: int, prepared: Mapping[str, tuple[bytes, bytes]]
    ) -> dict[str, tuple[bytes, bytes]]:
        """The part of ``prepared`` whose stored record is missing, deleted or has another
        hash, in the batch's order (seqs are drawn in it). The database compares the
        hashes, so an unchanged record costs a key probe and sends nothing back."""
        if db.dialect == "sqlite" and any("\x00" in rid for rid in prepared):
            # SQLite's JSON functions cut a string at U+0000: compare here instead.
            stored = self._existing(db, scope_id, list(prepared), "hash, deleted_at")
            return {
                rid: value
                for rid, value in prepared.items()
                if rid not in stored or stored[rid][2] is not None or stored[rid][1] != value[1]
            }
        if db.dialect == "postgres":
            rows = db.query(
                "SELECT w.id FROM unnest(?::text[], ?::bytea[]) AS w(id, hash)"
                " LEFT JOIN records r ON r.scope_id = ? AND r.id = w.id"
                " WHERE r.id IS NULL OR r.deleted_at IS NOT NULL OR r.hash <> w.hash",
                (list(prepared), [digest for _, digest in prepared.values()], scope_id),
            )
        else:
            # Two parameters whatever the batch's size: the ids as one JSON array, and
            # their hashes end to end in one blob (the n-th id's at byte 16 n).
            digests = b"".join(digest for _, digest in prepared.values())
            width = len(digests) // max(len(prepared), 1)
            rows = db.query(
                "SELECT w.value FROM json_each(?) AS w"
                " LEFT JOIN records AS r ON r.scope_id = ? AND r.id = w.value"
                " WHERE r.id IS NULL OR r.deleted_at IS NOT NULL"
                " OR r.hash <> substr(?, w.key * ? + 1, ?)",
                (orjson.dumps(list(prepared)), scope_id, digests, width, width),
            )
        # The join's output order is the plan's (PostgreSQL's hash join mixes it up).
        found = {row[0] for row in rows}
        return {rid: value for rid, value in prepared.items() if rid in found}

    def _insert_new(
        self,
        db: Database,
        scope_id: int,
        prepared: Mapping[str, tuple[bytes, bytes]],
        now: str,
    ) -> dict[str, str]:
        """Insert the batch as new records; those already stored (a conflict) then go
        through ``_upsert_changed``. By id, the ``last_action`` of what was written.

        A row this call inserted carries the ``seq`` it drew, which no other row has;
        a stored row with another ``seq`` under one of the batch's ids was there before.
        """
        drawn = self._draw_seqs(prepared)
        rows = _record_rows(scope_id, prepared, drawn, now)
        if db.dialect == "postgres":
            # psycopg pipelines executemany: faster there than one statement of many rows.
            inserted = db.executemany(_insert_new_sql(1), rows)
        else:
            inserted = sum(
                db.execute(_insert_new_sql(len(chunk)), _flat(chunk)).rowcount
                for chunk in _chunks(rows, _UPSERT_ROWS)
            )
        written = dict.fromkeys(prepared, "ADDED")
        if inserted == len(rows):
            return written
        # The rare case (the last batch was mostly new, this one is not): look the
        # batch's ids up (by IN lists: SQLite's JSON functions cut ids at U+0000).
        stored = self._existing(db, scope_id, list(prepared), "seq")
        existing = {
            rid: value
            for rid, value in prepared.items()
            if rid in stored and stored[rid][1] != drawn[rid]
        }
        for rid in existing:
            del written[rid]
        # With the seqs drawn above: a batch's changes keep the batch's order in delta reads.
        written.update(self._upsert_changed(db, scope_id, existing, now, drawn))
        return written

    def _upsert_changed(
        self,
        db: Database,
        scope_id: int,
        prepared: Mapping[str, tuple[bytes, bytes]],
        now: str,
        drawn: Mapping[str, int] | None = None,
    ) -> dict[str, str]:
        """One upsert per chunk that rewrites a stored record only if its hash differs
        (or it was deleted); by id, the ``last_action`` of what it wrote.

        Every row gets a ``seq`` (``drawn``: the ones already drawn for these ids); an
        unchanged one leaves a gap, which delta reads never notice (they only need
        ``seq`` to grow with every change).
        """
        seqs = self._draw_seqs(prepared) if drawn is None else drawn
        written: dict[str, str] = {}
        for chunk in _chunks(_record_rows(scope_id, prepared, seqs, now), _UPSERT_ROWS):
            rows = db.query(_upsert_sql(len(chunk)), _flat(chunk))
            written.update((row[0], row[1]) for row in rows)
        return written

    async def update_records(
        self, scope: RecordScope, model: str, records: Sequence[Mapping[str, Any]]
    ) -> BatchResult:
        return await self._call(self.update_records_sync, scope, model, records)

    @_store_errors
    def update_records_sync(
        self, scope: RecordScope, model: str, records: Sequence[Mapping[str, Any]]
    ) -> BatchResult:
        patches: dict[str, list[Mapping[str, Any]]] = {}
        for patch in records:
            patches.setdefault(str(patch["id"]), []).append(patch)
        result = BatchResult()
        now = timestamp()
        with self._w.transaction() as db:
            scope_id = self._scope_id(db, scope, model, create=True)
            assert scope_id is not None
            self._lock_scope(scope_id)
            existing = self._existing(db, scope_id, list(patches), "hash, deleted_at, data")
            writes: list[tuple[str, str, bytes]] = []
            for rid, rid_patches in patches.items():
                old = existing.get(rid)
                if old is None or old[2] is not None:
                    result.unknown.append(rid)  # an update never invents a record
                    continue
                merged: dict[str, Any] = json.loads(old[3])
                for patch in rid_patches:
                    merged = deep_merge(merged, patch)
                canonical = canonical_json(merged)
                digest = self._hash(canonical.encode())
                if digest == bytes(old[1]):
                    result.unchanged.append(rid)
                else:
                    result.updated.append(rid)
                    writes.append((rid, canonical, digest))
            seqs = self._next_seqs(len(writes))
            db.executemany(
                "UPDATE records SET seq = ?, hash = ?, data = ?, last_modified_at = ?,"
                " last_action = 'UPDATED', pruned_at = NULL WHERE scope_id = ? AND id = ?",
                [
                    (seq, digest, canonical, now, scope_id, rid)
                    for (rid, canonical, digest), seq in zip(writes, seqs, strict=True)
                ],
            )
        return result

    async def delete_records(
        self, scope: RecordScope, model: str, ids: Sequence[str]
    ) -> BatchResult:
        return await self._call(self.delete_records_sync, scope, model, ids)

    @_store_errors
    def delete_records_sync(
        self, scope: RecordScope, model: str, ids: Sequence[str]
    ) -> BatchResult:
        wanted = list(dict.fromkeys(str(i) for i in ids))
        result = BatchResult()
        with self._w.transaction() as db:
            scope_id = self._scope_id(db, scope, model, create=True)
            assert scope_id is not None
            self._lock_scope(scope_id)
            existing = self._existing(db, scope_id, wanted, "deleted_at")
            live = []
            for rid in wanted:
                old = existing.get(rid)
                if old is None:
                    result.unknown.append(rid)  # a delete never creates a record
                elif old[1] is not None:
                    result.unchanged.append(rid)  # deleted already
                else:
                    live.append(rid)
            self._mark_deleted(scope_id, live)
            result.deleted.extend(live)
        return result

    def _mark_deleted(self, scope_id: int, ids: Sequence[str]) -> None:
        now = timestamp()
        seqs = self._next_seqs(len(ids))
        self._w.executemany(
            "UPDATE records SET seq = ?, deleted_at = ?, last_modified_at = ?,"
            " last_action = 'DELETED' WHERE scope_id = ? AND id = ?",
            [(seq, now, now, scope_id, rid) for rid, seq in zip(ids, seqs, strict=True)],
        )

    # -- runs and sync state ----------------------------------------------------------------

    async def start_run(
        self,
        scope: RecordScope,
        sync_name: str,
        *,
        track_deletes: Sequence[str] = (),
        run_type: str | None = None,
    ) -> str:
        return await self._call(
            self.start_run_sync, scope, sync_name, track_deletes=track_deletes, run_type=run_type
        )

    @_store_errors
    def start_run_sync(
        self,
        scope: RecordScope,
        sync_name: str,
        *,
        track_deletes: Sequence[str] = (),
        run_type: str | None = None,
    ) -> str:
        """Record a run as started; ``run_type`` is ``INITIAL`` or ``INCREMENTAL``."""
        run_id = uuid.uuid4().hex
        with self._w.transaction() as db:
            db.execute(
                "INSERT INTO sync_runs (id, environment, integration_id, connection_id, sync_name,"
                " track_deletes, started_at, status, run_type)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)",
                (
                    run_id,
                    scope.environment,
                    scope.integration_id,
                    scope.connection_id,
                    sync_name,
                    json.dumps(sorted(track_deletes)),
                    timestamp(),
                    run_type,
                ),
            )
        self._runs[run_id] = (scope, frozenset(track_deletes))
        return run_id

    async def finish_run(
        self,
        run_id: str,
        *,
        success: bool,
        status: str | None = None,
        error: str | None = None,
        webhooks: WebhookPlan | None = None,
    ) -> dict[str, int]:
        return await self._call(
            self.finish_run_sync,
            run_id,
            success=success,
            status=status,
            error=error,
            webhooks=webhooks,
        )

    def record_run_result(self, run_id: str, result: Mapping[str, Any]) -> None:
        """Keep a finished run's counts per model (for status pages and webhooks)."""
        with self._w.transaction() as db:
            db.execute(
                "UPDATE sync_runs SET result = ? WHERE id = ?", (json.dumps(dict(result)), run_id)
            )

    @_store_errors
    def finish_run_sync(
        self,
        run_id: str,
        *,
        success: bool,
        status: str | None = None,
        error: str | None = None,
        webhooks: WebhookPlan | None = None,
    ) -> dict[str, int]:
        """End a run. Only a successful one applies ``track_deletes``: every record of a
        tracked model that the run did not save becomes DELETED. Returns deletions per model.

        ``webhooks``, given the deletions per model, returns the run's webhooks: they go
        to the outbox in the same transaction, so a run that ended has them on disk."""
        deleted: dict[str, int] = {}
        with self._w.transaction() as db:
            scope, tracked = self._run_info(db, run_id) or (None, frozenset[str]())
            self._runs.pop(run_id, None)
            if success and scope is not None:
                for model in sorted(tracked):
                    scope_id = self._scope_id(db, scope, model, create=True)
                    assert scope_id is not None
                    self._lock_scope(scope_id)
                    gone = [
                        row[0]
                        for row in db.query(
                            "SELECT id FROM records WHERE scope_id = ? AND deleted_at IS NULL"
                            " AND id NOT IN (SELECT id FROM run_seen WHERE run_id = ? AND scope_id = ?)",
                            (scope_id, run_id, scope_id),
                        )
                    ]
                    self._mark_deleted(scope_id, gone)
                    deleted[model] = len(gone)
            db.execute("DELETE FROM run_seen WHERE run_id = ?", (run_id,))
            db.execute(
                "UPDATE sync_runs SET status = ?, finished_at = ?, error = ? WHERE id = ?",
                (status or ("success" if success else "failed"), timestamp(), error, run_id),
            )
            if webhooks is not None and scope is not None:
                insert_outbox(
                    db,
                    webhooks(dict(deleted)),
                    environment=scope.environment,
                    integration_id=scope.integration_id,
                    connection_id=scope.connection_id,
                    run_id=run_id,
                )
        return deleted

    def _run_info(self, db: Database, run_id: str) -> tuple[RecordScope, frozenset[str]] | None:
        """The run's scope and tracked models: from memory, or from ``sync_runs`` when the
        run was started by another store on this database."""
        known = self._runs.get(run_id)
        if known is not None:
            return known
        row = db.one(
            "SELECT environment, integration_id, connection_id, track_deletes FROM sync_runs"
            " WHERE id = ?",
            (run_id,),
        )
        if row is None:
            return None
        info = (RecordScope(row[0], row[1], row[2]), frozenset(json.loads(row[3])))
        self._runs[run_id] = info
        return info

    def _state_key(self, scope: RecordScope, sync_name: str) -> tuple[str, str, str, str]:
        return (scope.environment, scope.integration_id, scope.connection_id, sync_name)

    def _get_state(self, scope: RecordScope, sync_name: str, column: str) -> Any:
        with self._r.lock:
            row = self._r.one(
                f"SELECT {column} FROM sync_state WHERE environment = ? AND integration_id = ?"
                " AND connection_id = ? AND sync_name = ?",
                self._state_key(scope, sync_name),
            )
        return None if row is None else row[0]

    def _set_state(self, scope: RecordScope, sync_name: str, column: str, value: Any) -> None:
        with self._w.transaction() as db:
            db.execute(
                f"INSERT INTO sync_state (environment, integration_id, connection_id, sync_name,"
                f" {column}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (environment, integration_id,"
                f" connection_id, sync_name) DO UPDATE SET {column} = excluded.{column}",
                (*self._state_key(scope, sync_name), value),
            )

    async def get_checkpoint(self, scope: RecordScope, sync_name: str) -> dict[str, Any] | None:
        return await self._call(self.get_checkpoint_sync, scope, sync_name)

    @_store_errors
    def get_checkpoint_sync(self, scope: RecordScope, sync_name: str) -> dict[str, Any] | None:
        raw = self._get_state(scope, sync_name, "checkpoint")
        return None if raw is None else dict(json.loads(raw))

    async def save_checkpoint(
        self, scope: RecordScope, sync_name: str, checkpoint: Mapping[str, Any]
    ) -> None:
        await self._call(
            self._set_state, scope, sync_name, "checkpoint", json.dumps(dict(checkpoint))
        )

    async def clear_checkpoint(self, scope: RecordScope, sync_name: str) -> None:
        await self._call(self._set_state, scope, sync_name, "checkpoint", None)

    async def get_last_sync_date(self, scope: RecordScope, sync_name: str) -> datetime | None:
        return await self._call(self.get_last_sync_date_sync, scope, sync_name)

    @_store_errors
    def get_last_sync_date_sync(self, scope: RecordScope, sync_name: str) -> datetime | None:
        """Start of the last successful run, or None."""
        raw = self._get_state(scope, sync_name, "last_sync_date")
        return None if raw is None else parse_timestamp(raw)

    async def set_last_sync_date(
        self, scope: RecordScope, sync_name: str, when: datetime | None
    ) -> None:
        value = None if when is None else timestamp(when)
        await self._call(self._set_state, scope, sync_name, "last_sync_date", value)

    # -- reads ------------------------------------------------------------------------------

    async def get_records_by_ids(
        self, scope: RecordScope, model: str, ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        return await self._call(self.get_records_by_ids_sync, scope, model, ids)

    @_store_errors
    def get_records_by_ids_sync(
        self, scope: RecordScope, model: str, ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Live (not deleted) records, in the order of ``ids``."""
        with self._r.lock:
            scope_id = self._scope_id(self._r, scope, model, create=False)
            if scope_id is None:
                return []
            found = self._existing(self._r, scope_id, [str(i) for i in ids], "data, deleted_at")
        return [
            dict(json.loads(found[str(i)][1]))
            for i in ids
            if str(i) in found and found[str(i)][2] is None
        ]

    async def list_records(
        self,
        scope: RecordScope,
        model: str,
        *,
        modified_after: datetime | str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        filter: str | Iterable[str] | None = None,
        ids: Sequence[str] | None = None,
    ) -> RecordPage:
        return await self._call(
            self.list_records_sync,
            scope,
            model,
            modified_after=modified_after,
            limit=limit,
            cursor=cursor,
            filter=filter,
            ids=ids,
        )

    @_store_errors
    def list_records_sync(
        self,
        scope: RecordScope,
        model: str,
        *,
        modified_after: datetime | str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        filter: str | Iterable[str] | None = None,
        ids: Sequence[str] | None = None,
    ) -> RecordPage:
        """One page of records, ascending by modification, with ``_nango_metadata``."""
        key, rows, next_cursor = self._page_rows(
            scope, model, modified_after, limit, cursor, filter, ids
        )
        encode = self._cursors.encode
        records = []
        loads = from_json
        for seq, data, first_seen_at, last_modified_at, last_action, deleted_at in rows:
            record = loads(data)
            record["_nango_metadata"] = {
                "first_seen_at": first_seen_at,
                "last_modified_at": last_modified_at,
                "last_action": last_action,
                "deleted_at": deleted_at,
                "cursor": encode(seq, key),
            }
            records.append(record)
        return RecordPage(records, next_cursor)

    async def list_records_json(
        self,
        scope: RecordScope,
        model: str,
        *,
        modified_after: datetime | str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        filter: str | Iterable[str] | None = None,
        ids: Sequence[str] | None = None,
    ) -> JsonRecordPage:
        return await self._call(
            self.list_records_json_sync,
            scope,
            model,
            modified_after=modified_after,
            limit=limit,
            cursor=cursor,
            filter=filter,
            ids=ids,
        )

    def list_records_json_sync(
        self,
        scope: RecordScope,
        model: str,
        *,
        modified_after: datetime | str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        filter: str | Iterable[str] | None = None,
        ids: Sequence[str] | None = None,
    ) -> JsonRecordPage:
        """The page :meth:`list_records_sync` returns, each record as ready JSON bytes:
        the stored text with its metadata spliced in, never decoded (for ``GET /records``).

        Database failures come out as ``StoreError`` (as from the async methods), so a
        caller may run this in its own worker thread together with what it does next."""

        def read() -> JsonRecordPage:
            key, rows, next_cursor = self._page_rows(
                scope, model, modified_after, limit, cursor, filter, ids
            )
            encode = self._cursors.encode
            return JsonRecordPage(
                [
                    record_json(
                        data, first_seen, last_modified, action, deleted_at, encode(seq, key)
                    )
                    for seq, data, first_seen, last_modified, action, deleted_at in rows
                ],
                next_cursor,
            )

        return self._guarded(read)

    def _page_rows(
        self,
        scope: RecordScope,
        model: str,
        modified_after: datetime | str | None,
        limit: int,
        cursor: str | None,
        filter: str | Iterable[str] | None,
        ids: Sequence[str] | None,
    ) -> tuple[str, list[Any], str | None]:
        """The scope's cursor key, the page's rows (seq, data, first_seen_at,
        last_modified_at, last_action, deleted_at) and the next cursor."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise RecordQueryError(
                f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}."
            )
        key = _scope_key(scope, model)
        after = self._cursors.decode(cursor, key) if cursor else 0
        where = ["scope_id = ?", "seq > ?"]
        params: list[Any] = [after]
        if modified_after is not None:
            where.append("last_modified_at >= ?")
            params.append(timestamp(parse_timestamp(modified_after)))
        actions = _parse_filter(filter)
        if actions is not None:
            where.append(f"last_action IN ({placeholders(len(actions))})")
            params.extend(actions)
        if ids is not None:
            wanted = [str(i) for i in ids]
            if len(wanted) > MAX_IDS:
                raise RecordQueryError(f"ids: at most {MAX_IDS} per request, not {len(wanted)}.")
            if not wanted:
                return key, [], None
            where.append(f"id IN ({placeholders(len(wanted))})")
            params.extend(wanted)
        with self._r.lock:
            scope_id = self._scope_id(self._r, scope, model, create=False)
            if scope_id is None:
                return key, [], None
            rows = self._r.query(
                "SELECT seq, data, first_seen_at, last_modified_at, last_action, deleted_at"
                f" FROM records WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
                (scope_id, *params, limit + 1),
            )
        if len(rows) <= limit:
            return key, rows, None
        rows = rows[:limit]
        return key, rows, self._cursors.encode(rows[-1][0], key)

    async def prune_records(self, scope: RecordScope, model: str, *, until_cursor: str) -> int:
        return await self._call(self.prune_records_sync, scope, model, until_cursor=until_cursor)

    @_store_errors
    def prune_records_sync(self, scope: RecordScope, model: str, *, until_cursor: str) -> int:
        """Drop the data of records up to ``until_cursor`` (inclusive), keeping their
        metadata; a later save of the same content writes it again."""
        upto = self._cursors.decode(until_cursor, _scope_key(scope, model))
        with self._w.transaction() as db:
            scope_id = self._scope_id(db, scope, model, create=False)
            if scope_id is None:
                return 0
            rows = db.query(
                "SELECT id FROM records WHERE scope_id = ? AND seq <= ? AND pruned_at IS NULL",
                (scope_id, upto),
            )
            now = timestamp()
            db.executemany(
                "UPDATE records SET data = ?, hash = ?, pruned_at = ? WHERE scope_id = ? AND id = ?",
                [(canonical_json({"id": r[0]}), b"", now, scope_id, r[0]) for r in rows],
            )
        return len(rows)

    async def count_records(self, scope: RecordScope, model: str) -> dict[str, int]:
        return await self._call(self.count_records_sync, scope, model)

    @_store_errors
    def count_records_sync(self, scope: RecordScope, model: str) -> dict[str, int]:
        with self._r.lock:
            scope_id = self._scope_id(self._r, scope, model, create=False)
            if scope_id is None:
                return {"live": 0, "deleted": 0}
            row = self._r.one(
                "SELECT COALESCE(SUM(CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END), 0),"
                " COALESCE(SUM(CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END), 0)"
                " FROM records WHERE scope_id = ?",
                (scope_id,),
            )
        return {"live": int(row[0]), "deleted": int(row[1])}

    async def has_records(self, scope: RecordScope, model: str) -> bool:
        return await self._call(self.has_records_sync, scope, model)

    @_store_errors
    def has_records_sync(self, scope: RecordScope, model: str) -> bool:
        """Whether any record (live or deleted) of ``model`` is stored: one index probe."""
        with self._r.lock:
            scope_id = self._scope_id(self._r, scope, model, create=False)
            if scope_id is None:
                return False
            row = self._r.one("SELECT 1 FROM records WHERE scope_id = ? LIMIT 1", (scope_id,))
        return row is not None

    def latest_change_sync(self, scope: RecordScope, model: str) -> int:
        """The number (``seq``) of the latest change of a record of ``model`` (0: none).

        Any save, update or delete that changes a record changes it, and so does removing
        the records; a prune does not. One index probe."""

        def read() -> int:
            with self._r.lock:
                scope_id = self._scope_id(self._r, scope, model, create=False)
                if scope_id is None:
                    return 0
                row = self._r.one("SELECT MAX(seq) FROM records WHERE scope_id = ?", (scope_id,))
            return 0 if row is None or row[0] is None else int(row[0])

        return self._guarded(read)

    async def clear_records(self, scope: RecordScope, models: Sequence[str]) -> int:
        return await self._call(self.clear_records_sync, scope, models)

    @_store_errors
    def clear_records_sync(self, scope: RecordScope, models: Sequence[str]) -> int:
        """Remove every record of ``models`` for this connection (a trigger with emptyCache)."""
        removed = 0
        with self._w.transaction() as db:
            for model in models:
                scope_id = self._scope_id(db, scope, model, create=False)
                if scope_id is not None:
                    self._lock_scope(scope_id)
                    removed += db.execute(
                        "DELETE FROM records WHERE scope_id = ?", (scope_id,)
                    ).rowcount
        return removed

    async def delete_connection_records(
        self, environment: str, integration_id: str, connection_id: str
    ) -> int:
        return await self._call(
            self.delete_connection_records_sync, environment, integration_id, connection_id
        )

    @_store_errors
    def delete_connection_records_sync(
        self, environment: str, integration_id: str, connection_id: str
    ) -> int:
        """Remove every record and sync state of a connection (it was deleted).

        The scope rows stay: other stores on this database may hold their ids, and a
        connection created again under the same id reuses them.
        """
        key = (environment, integration_id, connection_id)
        with self._w.transaction() as db:
            removed = db.execute(
                "DELETE FROM records WHERE scope_id IN (SELECT id FROM record_scopes"
                " WHERE environment = ? AND integration_id = ? AND connection_id = ?)",
                key,
            ).rowcount
            db.execute(
                "DELETE FROM sync_state WHERE environment = ? AND integration_id = ?"
                " AND connection_id = ?",
                key,
            )
        return removed


def _parse_filter(value: str | Iterable[str] | None) -> list[Action] | None:
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else list(value)
    actions: list[Action] = []
    for part in parts:
        word = part.strip().lower()
        if not word:
            continue
        if word not in _FILTERS:
            raise RecordQueryError(
                f"filter {part!r} is not one of added, updated, deleted (combine them with commas)."
            )
        if _FILTERS[word] not in actions:
            actions.append(_FILTERS[word])
    return actions or None
