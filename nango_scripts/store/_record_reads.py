"""Record reads: pages of a delta read (``RecordQuery``), records by id, counts.

A delta read pages by ``seq``, so a record changed while a client pages through comes
again later and is never skipped. Reads use the reader connection: they never wait for
a writer (in WAL mode on SQLite).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json

from nango_scripts.store._canonical import parse_timestamp, timestamp
from nango_scripts.store._db import guarded, placeholders
from nango_scripts.store._record_json import JsonRecordPage, record_json
from nango_scripts.store._record_query import RecordQuery
from nango_scripts.store._record_tables import RecordTables, scope_key
from nango_scripts.store._records import RecordScope

__all__ = ["RecordPage", "RecordReads"]


@dataclass(frozen=True)
class RecordPage:
    records: list[dict[str, Any]]
    next_cursor: str | None


def _page_sql(query: RecordQuery, after: int) -> tuple[str, list[Any]] | None:
    """The page's SELECT past ``seq`` ``after`` and its parameters after the scope id
    (then the row limit); None when the query can match nothing."""
    where = ["scope_id = ?", "seq > ?"]
    params: list[Any] = [after]
    if query.modified_after is not None:
        where.append("last_modified_at >= ?")
        params.append(timestamp(parse_timestamp(query.modified_after)))
    actions = query.actions()
    if actions is not None:
        where.append(f"last_action IN ({placeholders(len(actions))})")
        params.extend(actions)
    if query.ids is not None:
        if not query.ids:
            return None
        where.append(f"id IN ({placeholders(len(query.ids))})")
        params.extend(query.ids)
    sql = (
        "SELECT seq, data, first_seen_at, last_modified_at, last_action, deleted_at"
        f" FROM records WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"
    )
    return sql, params


class RecordReads(RecordTables):
    """The records store's reads."""

    @guarded
    def get_records_by_ids(
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

    @guarded
    def list_records(self, query: RecordQuery) -> RecordPage:
        """One page of records, ascending by modification, with ``_nango_metadata``."""
        key, rows, next_cursor = self._page_rows(query)
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

    @guarded
    def list_records_json(self, query: RecordQuery) -> JsonRecordPage:
        """The page :meth:`list_records` returns, each record as ready JSON bytes: the
        stored text with its metadata spliced in, never decoded (for ``GET /records``)."""
        key, rows, next_cursor = self._page_rows(query)
        encode = self._cursors.encode
        return JsonRecordPage(
            [
                record_json(data, first_seen, last_modified, action, deleted_at, encode(seq, key))
                for seq, data, first_seen, last_modified, action, deleted_at in rows
            ],
            next_cursor,
        )

    def _page_rows(self, query: RecordQuery) -> tuple[str, list[Any], str | None]:
        """The scope's cursor key, the page's rows (seq, data, first_seen_at,
        last_modified_at, last_action, deleted_at) and the next cursor."""
        query.check()
        key = scope_key(query.scope, query.model)
        after = self._cursors.decode(query.cursor, key) if query.cursor else 0
        statement = _page_sql(query, after)
        if statement is None:
            return key, [], None
        sql, params = statement
        with self._r.lock:
            scope_id = self._scope_id(self._r, query.scope, query.model, create=False)
            if scope_id is None:
                return key, [], None
            rows = self._r.query(sql, (scope_id, *params, query.limit + 1))
        if len(rows) <= query.limit:
            return key, rows, None
        rows = rows[: query.limit]
        return key, rows, self._cursors.encode(rows[-1][0], key)

    @guarded
    def count_records(self, scope: RecordScope, model: str) -> dict[str, int]:
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

    @guarded
    def has_records(self, scope: RecordScope, model: str) -> bool:
        """Whether any record (live or deleted) of ``model`` is stored: one index probe."""
        with self._r.lock:
            scope_id = self._scope_id(self._r, scope, model, create=False)
            if scope_id is None:
                return False
            row = self._r.one("SELECT 1 FROM records WHERE scope_id = ? LIMIT 1", (scope_id,))
        return row is not None

    @guarded
    def latest_change(self, scope: RecordScope, model: str) -> int:
        """The number (``seq``) of the latest change of a record of ``model`` (0: none).

        Any save, update or delete that changes a record changes it, and so does removing
        the records; a prune does not. One index probe."""
        with self._r.lock:
            scope_id = self._scope_id(self._r, scope, model, create=False)
            if scope_id is None:
                return 0
            row = self._r.one("SELECT MAX(seq) FROM records WHERE scope_id = ?", (scope_id,))
        return 0 if row is None or row[0] is None else int(row[0])
