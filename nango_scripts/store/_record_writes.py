"""Record writes: save with change detection, partial updates, deletes, prune and removal.

A save compares each record's hash with the stored one and writes only what changed;
an update merges a partial record into the stored one; a delete marks records DELETED.
Each change takes a new ``seq``, so delta reads see it. Every call is one transaction.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from pydantic import BaseModel

from nango_scripts.store._canonical import canonical_batch, canonical_json, timestamp
from nango_scripts.store._db import Database, guarded
from nango_scripts.store._record_tables import RecordTables, chunks, scope_key
from nango_scripts.store._records import (
    BatchResult,
    PreparedRecords,
    RecordScope,
    deep_merge,
    dump_records,
)

__all__ = ["RecordWrites"]

_UPSERT_ROWS = 500  # rows per multi-row upsert: 7 parameters each, 3,500 a statement

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


class RecordWrites(RecordTables):
    """The records store's writes."""

    @guarded
    def prepare_records(self, records: Sequence[BaseModel]) -> PreparedRecords:
        """``records`` in stored form (canonical JSON, hash), for ``save_records``: pure
        CPU work, done on the caller's thread, no database."""
        return PreparedRecords(self._prepare(records))

    @guarded
    def save_records(
        self,
        scope: RecordScope,
        model: str,
        records: Sequence[BaseModel] | PreparedRecords,
        *,
        run_id: str | None = None,
    ) -> BatchResult:
        """Save validated records (or what ``prepare_records`` made of them); ``run_id``:
        the run saving them, so that ``track_deletes`` knows what it saw."""
        prepared = records.by_id if isinstance(records, PreparedRecords) else self._prepare(records)
        ids = list(prepared)
        result = BatchResult()
        now = timestamp()
        with self._write() as db:
            scope_id = self._write_scope(db, scope, model)
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
                for chunk in chunks(rows, _UPSERT_ROWS)
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
        for chunk in chunks(_record_rows(scope_id, prepared, seqs, now), _UPSERT_ROWS):
            rows = db.query(_upsert_sql(len(chunk)), _flat(chunk))
            written.update((row[0], row[1]) for row in rows)
        return written

    @guarded
    def update_records(
        self, scope: RecordScope, model: str, records: Sequence[Mapping[str, Any]]
    ) -> BatchResult:
        """Merge partial records into the stored ones (an update never invents a record)."""
        patches: dict[str, list[Mapping[str, Any]]] = {}
        for patch in records:
            patches.setdefault(str(patch["id"]), []).append(patch)
        result = BatchResult()
        now = timestamp()
        with self._write() as db:
            scope_id = self._write_scope(db, scope, model)
            existing = self._existing(db, scope_id, list(patches), "hash, deleted_at, data")
            writes: list[tuple[str, str, bytes]] = []
            for rid, rid_patches in patches.items():
                old = existing.get(rid)
                if old is None or old[2] is not None:
                    result.unknown.append(rid)
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

    @guarded
    def delete_records(self, scope: RecordScope, model: str, ids: Sequence[str]) -> BatchResult:
        """Mark live records DELETED (a delete never creates a record)."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        result = BatchResult()
        with self._write() as db:
            scope_id = self._write_scope(db, scope, model)
            existing = self._existing(db, scope_id, wanted, "deleted_at")
            live = []
            for rid in wanted:
                old = existing.get(rid)
                if old is None:
                    result.unknown.append(rid)
                elif old[1] is not None:
                    result.unchanged.append(rid)  # deleted already
                else:
                    live.append(rid)
            self._mark_deleted(scope_id, live)
            result.deleted.extend(live)
        return result

    @guarded
    def prune_records(self, scope: RecordScope, model: str, *, until_cursor: str) -> int:
        """Drop the data of records up to ``until_cursor`` (inclusive), keeping their
        metadata; a later save of the same content writes it again."""
        upto = self._cursors.decode(until_cursor, scope_key(scope, model))
        with self._write() as db:
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

    @guarded
    def clear_records(self, scope: RecordScope, models: Sequence[str]) -> int:
        """Remove every record of ``models`` for this connection (a trigger with emptyCache)."""
        removed = 0
        with self._write() as db:
            for model in models:
                scope_id = self._scope_id(db, scope, model, create=False)
                if scope_id is not None:
                    self._lock_scope(scope_id)
                    removed += db.execute(
                        "DELETE FROM records WHERE scope_id = ?", (scope_id,)
                    ).rowcount
        return removed

    @guarded
    def delete_connection_records(
        self, environment: str, integration_id: str, connection_id: str
    ) -> int:
        """Remove every record and sync state of a connection (it was deleted).

        The scope rows stay: other stores on this database may hold their ids, and a
        connection created again under the same id reuses them.
        """
        key = (environment, integration_id, connection_id)
        with self._write() as db:
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
