"""Per-sync state in the records store: the script's checkpoint and the last sync date
(table ``sync_state``, one row per sync of a connection)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from nango_scripts.store._canonical import parse_timestamp, timestamp
from nango_scripts.store._db import guarded
from nango_scripts.store._record_tables import RecordTables
from nango_scripts.store._records import RecordScope

__all__ = ["SyncState"]


def _state_key(scope: RecordScope, sync_name: str) -> tuple[str, str, str, str]:
    return (scope.environment, scope.integration_id, scope.connection_id, sync_name)


class SyncState(RecordTables):
    """The records store's checkpoints and last sync dates."""

    def _get_state(self, scope: RecordScope, sync_name: str, column: str) -> Any:
        with self._r.lock:
            row = self._r.one(
                f"SELECT {column} FROM sync_state WHERE environment = ? AND integration_id = ?"
                " AND connection_id = ? AND sync_name = ?",
                _state_key(scope, sync_name),
            )
        return None if row is None else row[0]

    def _set_state(self, scope: RecordScope, sync_name: str, column: str, value: Any) -> None:
        with self._write() as db:
            db.execute(
                f"INSERT INTO sync_state (environment, integration_id, connection_id, sync_name,"
                f" {column}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (environment, integration_id,"
                f" connection_id, sync_name) DO UPDATE SET {column} = excluded.{column}",
                (*_state_key(scope, sync_name), value),
            )

    @guarded
    def get_checkpoint(self, scope: RecordScope, sync_name: str) -> dict[str, Any] | None:
        raw = self._get_state(scope, sync_name, "checkpoint")
        return None if raw is None else dict(json.loads(raw))

    @guarded
    def save_checkpoint(
        self, scope: RecordScope, sync_name: str, checkpoint: Mapping[str, Any]
    ) -> None:
        self._set_state(scope, sync_name, "checkpoint", json.dumps(dict(checkpoint)))

    @guarded
    def clear_checkpoint(self, scope: RecordScope, sync_name: str) -> None:
        self._set_state(scope, sync_name, "checkpoint", None)

    @guarded
    def get_last_sync_date(self, scope: RecordScope, sync_name: str) -> datetime | None:
        """Start of the last successful run, or None."""
        raw = self._get_state(scope, sync_name, "last_sync_date")
        return None if raw is None else parse_timestamp(raw)

    @guarded
    def set_last_sync_date(self, scope: RecordScope, sync_name: str, when: datetime | None) -> None:
        value = None if when is None else timestamp(when)
        self._set_state(scope, sync_name, "last_sync_date", value)
