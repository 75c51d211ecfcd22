"""Sync runs in the records store: start, finish (applying ``track_deletes`` and writing
the run's webhooks to the outbox in the same transaction), and the counts of a run."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nango_scripts.store._canonical import timestamp
from nango_scripts.store._db import guarded
from nango_scripts.store._outbox import OutboxEntry, insert_outbox
from nango_scripts.store._record_tables import RecordTables
from nango_scripts.store._records import RecordScope

__all__ = ["SyncRuns", "WebhookPlan"]

WebhookPlan = Callable[[Mapping[str, int]], Sequence[OutboxEntry]]
"""Deletions per model of the ending run -> the webhooks to write with it (engine side)."""


class SyncRuns(RecordTables):
    """The records store's runs (table ``sync_runs``, and ``run_seen`` while one goes on)."""

    @guarded
    def start_run(
        self,
        scope: RecordScope,
        sync_name: str,
        *,
        track_deletes: Sequence[str] = (),
        run_type: str | None = None,
    ) -> str:
        """Record a run as started; ``run_type`` is ``INITIAL`` or ``INCREMENTAL``."""
        run_id = uuid.uuid4().hex
        with self._write() as db:
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

    @guarded
    def finish_run(
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
        with self._write() as db:
            scope, tracked = self._run_info(db, run_id) or (None, frozenset[str]())
            self._runs.pop(run_id, None)
            if success and scope is not None:
                for model in sorted(tracked):
                    scope_id = self._write_scope(db, scope, model)
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

    @guarded
    def record_run_result(self, run_id: str, result: Mapping[str, Any]) -> None:
        """Keep a finished run's counts per model (for status pages and webhooks)."""
        with self._write() as db:
            db.execute(
                "UPDATE sync_runs SET result = ? WHERE id = ?", (json.dumps(dict(result)), run_id)
            )
