"""The records store's tables and what every part of it shares.

Writes go through one connection, one transaction per call, committed before the call
returns; reads use a second connection, so (in WAL mode on SQLite) they never wait for
a writer. Every change of a record takes the next ``seq`` (:meth:`RecordTables._next_seqs`);
on PostgreSQL, writers of one scope take an advisory lock before they draw one, so
within a scope ``seq`` order is commit order. A scope is one (environment,
integration, connection, model); its row id is cached.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar, Literal, TypeVar

from nango_scripts.errors import StoreError
from nango_scripts.store._canonical import KEYED_HASH, CursorCodec, record_hasher, timestamp
from nango_scripts.store._db import Database, guarded, placeholders, store_errors
from nango_scripts.store._records import RecordScope

__all__ = ["RecordTables", "WritePath", "chunks", "scope_key"]

T = TypeVar("T")

WritePath = Literal["auto", "lookup", "upsert"]
_CHUNK = 500  # ids per IN (...) list: well under every engine's parameter limit


_SEQ_NOW = "SELECT value FROM store_meta WHERE key = 'seq'"
_SEQ_SET = "UPDATE store_meta SET value = ? WHERE key = 'seq'"


def scope_key(scope: RecordScope, model: str) -> str:
    """What a cursor is bound to: a cursor of one scope is refused by another."""
    return json.dumps([scope.environment, scope.integration_id, scope.connection_id, model])


def chunks(items: Sequence[T], size: int = _CHUNK) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RecordTables:
    """The connections, caches and shared steps of the records store's parts."""

    store_name: ClassVar[str] = "records"

    def __init__(
        self,
        writer: Database,
        reader: Database,
        *,
        write_path: WritePath = "auto",
        synchronous: str = "FULL",
    ) -> None:
        self._w = writer
        self._write_path = write_path
        self._synchronous = synchronous
        self._group_seq: list[int] | None = None
        """In a write group on SQLite: [the last seq drawn], kept in memory until its commit."""
        self._r = reader
        self._scopes: dict[tuple[RecordScope, str], int] = {}
        self._expect_new: dict[int, bool] = {}  # scope id -> its last save was mostly new
        self._runs: dict[str, tuple[RecordScope, frozenset[str]]] = {}
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

    @property
    def dialect(self) -> str:
        return self._w.dialect

    def close(self) -> None:
        self._w.close()
        self._r.close()

    # -- transactions, scopes and seq ----------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """A transaction on the writer: committed on success, rolled back on any error."""
        try:
            with self._w.transaction() as db:
                yield db
        except BaseException:
            # A scope created by the rolled-back transaction must not stay cached.
            self._scopes.clear()
            raise

    @guarded
    def write_group(self) -> AbstractContextManager[None]:
        """One transaction for every write made inside it, committed at its end: a
        run's writer (``RecordWriter``) groups its batches so. A failure of the commit
        is a ``StoreError`` too.

        A group commits without waiting for the disk (SQLite ``synchronous=NORMAL``,
        PostgreSQL ``synchronous_commit=off``): a crash of the machine may roll back
        the last groups, whole and in order, records and checkpoints together, never
        corrupt anything. The end of a run (``finish_run``) commits durably, and with it
        every group before it. On SQLite, sequence numbers are drawn in memory for the
        group's life (it holds the database's write lock) and stored once at its end."""
        return self._group()

    @contextmanager
    def _group(self) -> Iterator[None]:
        db = self._w
        with db.lock:
            if db.in_transaction:  # inside another group: join it
                yield
                return
            try:
                if db.dialect == "sqlite":
                    db.execute("PRAGMA synchronous = NORMAL")
                try:
                    with self._write():
                        if db.dialect == "postgres":
                            db.execute("SET LOCAL synchronous_commit = off")
                        else:
                            self._group_seq = [int(db.one(_SEQ_NOW)[0])]
                        yield
                        if self._group_seq is not None:
                            db.execute(_SEQ_SET, (str(self._group_seq[0]),))
                finally:
                    self._group_seq = None
                    if db.dialect == "sqlite":
                        db.execute(f"PRAGMA synchronous = {self._synchronous}")
            except store_errors() as exc:
                raise StoreError(f"The {self.store_name} database failed: {exc}.") from exc

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

    def _write_scope(self, db: Database, scope: RecordScope, model: str) -> int:
        """The scope's id (created if new), locked for this transaction's writes."""
        scope_id = self._scope_id(db, scope, model, create=True)
        assert scope_id is not None
        self._lock_scope(scope_id)
        return scope_id

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
        if self._group_seq is not None:
            last = self._group_seq[0] = self._group_seq[0] + count
            return list(range(last - count + 1, last + 1))
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

    # -- shared steps -----------------------------------------------------------------------

    def _existing(
        self, db: Database, scope_id: int, ids: Sequence[str], columns: str
    ) -> dict[str, Any]:
        """By id, the stored rows (id first, then ``columns``) of those of ``ids`` stored."""
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
        for chunk in chunks(ids):
            rows = db.query(
                f"SELECT id, {columns} FROM records WHERE scope_id = ? AND id IN ({placeholders(len(chunk))})",
                (scope_id, *chunk),
            )
            for row in rows:
                found[row[0]] = row
        return found

    def _mark_deleted(self, scope_id: int, ids: Sequence[str]) -> None:
        now = timestamp()
        seqs = self._next_seqs(len(ids))
        self._w.executemany(
            "UPDATE records SET seq = ?, deleted_at = ?, last_modified_at = ?,"
            " last_action = 'DELETED' WHERE scope_id = ? AND id = ?",
            [(seq, now, now, scope_id, rid) for rid, seq in zip(ids, seqs, strict=True)],
        )

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
