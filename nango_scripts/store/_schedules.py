"""The scheduler's state in the database: one schedule per (connection, sync) and the
history of runs (``sync_runs``, whose rows the records store starts and finishes).

Everything lives in the database so that a restarted service resumes where it stopped.
Synchronous and small: the engine calls it from a worker thread.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final, Literal

from nango_scripts.store._canonical import parse_timestamp, timestamp
from nango_scripts.store._db import Database, guarded, placeholders
from nango_scripts.store._sqlite import TableStore

__all__ = ["INTERRUPTED_ERROR", "Schedule", "ScheduleKey", "ScheduleStore", "SyncRunRecord"]

ScheduleStatus = Literal["STARTED", "PAUSED"]

INTERRUPTED_ERROR: Final = "interrupted: the service stopped during the run"
"""The error of a run found 'running' when the service starts: its process died."""
_CUT_OFF_COUNTED: Final = 16
"""Runs cut off in a row counted at most (a back-off that long is capped anyway)."""


@dataclass(frozen=True)
class ScheduleKey:
    environment: str
    integration_id: str
    connection_id: str
    sync_name: str

    def values(self) -> tuple[str, str, str, str]:
        return (self.environment, self.integration_id, self.connection_id, self.sync_name)


@dataclass(frozen=True)
class Schedule:
    key: ScheduleKey
    status: ScheduleStatus
    frequency_seconds: int
    frequency_override: str | None
    next_run_at: datetime | None
    pending_trigger: bool


@dataclass(frozen=True)
class SyncRunRecord:
    """One sync run as the run history keeps it (a row of ``sync_runs``)."""

    id: str
    key: ScheduleKey
    run_type: str | None
    """``INITIAL`` (no last sync date) or ``INCREMENTAL``."""
    status: str
    """``running``, ``success``, ``failed`` or ``cancelled``."""
    started_at: datetime
    finished_at: datetime | None
    result: dict[str, Any] | None
    """Counts per model: ``{"Issue": {"added": 1, ...}}``."""
    error: str | None


_KEY_WHERE = "environment = ? AND integration_id = ? AND connection_id = ? AND sync_name = ?"
_SCHEDULE_COLUMNS = (
    "environment, integration_id, connection_id, sync_name, status, frequency_seconds,"
    " frequency_override, next_run_at, pending_trigger"
)
_RUN_COLUMNS = (
    "id, environment, integration_id, connection_id, sync_name, run_type, status,"
    " started_at, finished_at, result, error"
)


def _schedule(row: Any) -> Schedule:
    return Schedule(
        key=ScheduleKey(row[0], row[1], row[2], row[3]),
        status=row[4],
        frequency_seconds=int(row[5]),
        frequency_override=row[6],
        next_run_at=None if row[7] is None else parse_timestamp(row[7]),
        pending_trigger=bool(row[8]),
    )


def _run(row: Any) -> SyncRunRecord:
    return SyncRunRecord(
        id=row[0],
        key=ScheduleKey(row[1], row[2], row[3], row[4]),
        run_type=row[5],
        status=row[6],
        started_at=parse_timestamp(row[7]),
        finished_at=None if row[8] is None else parse_timestamp(row[8]),
        result=None if row[9] is None else dict(json.loads(row[9])),
        error=row[10],
    )


class ScheduleStore(TableStore):
    store_name: ClassVar[str] = "schedules"

    # -- schedules ----------------------------------------------------------------------------

    @guarded
    def ensure(
        self, key: ScheduleKey, frequency_seconds: int, *, started: bool, first_run_at: datetime
    ) -> Schedule:
        """Create the schedule if missing (due at ``first_run_at`` when started); keep an
        existing one's status, but follow the script's frequency unless overridden.

        A frequency made shorter in code pulls the next run in: it is then due no later
        than ``first_run_at`` (now) plus the new frequency. A longer one takes effect
        after the run already planned.
        """
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO sync_schedules (environment, integration_id, connection_id, sync_name,"
                " status, frequency_seconds, next_run_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (environment, integration_id, connection_id, sync_name) DO NOTHING",
                (
                    *key.values(),
                    "STARTED" if started else "PAUSED",
                    frequency_seconds,
                    timestamp(first_run_at) if started else None,
                    timestamp(),
                ),
            )
            # On the right of SET, columns hold the values from before the update.
            soonest = timestamp(first_run_at + timedelta(seconds=frequency_seconds))
            db.execute(
                "UPDATE sync_schedules SET next_run_at = CASE WHEN frequency_seconds > ?"
                " AND next_run_at > ? THEN ? ELSE next_run_at END, frequency_seconds = ?"
                f" WHERE {_KEY_WHERE} AND frequency_override IS NULL",
                (frequency_seconds, soonest, soonest, frequency_seconds, *key.values()),
            )
        found = self.get(key)
        assert found is not None
        return found

    @guarded
    def get(self, key: ScheduleKey) -> Schedule | None:
        with self._db.lock:
            row = self._db.one(
                f"SELECT {_SCHEDULE_COLUMNS} FROM sync_schedules WHERE {_KEY_WHERE}", key.values()
            )
        return None if row is None else _schedule(row)

    @guarded
    def list(
        self,
        environment: str,
        integration_id: str | None = None,
        connection_id: str | None = None,
        *,
        connection_ids: Sequence[str] | None = None,
    ) -> list[Schedule]:
        """``connection_ids``: only these connections' (a few: one parameter each)."""
        where, params = ["environment = ?"], [environment]
        if integration_id is not None:
            where.append("integration_id = ?")
            params.append(integration_id)
        if connection_id is not None:
            where.append("connection_id = ?")
            params.append(connection_id)
        if connection_ids is not None:
            if not connection_ids:
                return []
            where.append(f"connection_id IN ({placeholders(len(connection_ids))})")
            params.extend(connection_ids)
        with self._db.lock:
            rows = self._db.query(
                f"SELECT {_SCHEDULE_COLUMNS} FROM sync_schedules WHERE {' AND '.join(where)}"
                " ORDER BY integration_id, connection_id, sync_name",
                params,
            )
        return [_schedule(r) for r in rows]

    @guarded
    def due(self, now: datetime) -> builtins.list[Schedule]:
        """Started schedules whose time has come, and any with a trigger waiting; never
        those of a sync switched off (:meth:`set_enabled`)."""
        with self._db.lock:
            rows = self._db.query(
                f"SELECT {_SCHEDULE_COLUMNS} FROM sync_schedules s WHERE (pending_trigger = 1"
                " OR (status = 'STARTED' AND next_run_at IS NOT NULL AND next_run_at <= ?))"
                " AND NOT EXISTS (SELECT 1 FROM sync_toggles t WHERE t.enabled = 0"
                " AND t.environment = s.environment AND t.integration_id = s.integration_id"
                " AND t.sync_name = s.sync_name)"
                " ORDER BY next_run_at",
                (timestamp(now),),
            )
        return [_schedule(r) for r in rows]

    # -- the per-sync toggle ------------------------------------------------------------------

    @guarded
    def set_enabled(
        self, environment: str, integration_id: str, sync_name: str, enabled: bool
    ) -> None:
        """Switch a sync on or off for every connection of its integration, present and
        future. Switching off also drops triggers still waiting: nothing of it runs until
        it is switched on again, when schedules whose time has passed are due at once."""
        where = (environment, integration_id, sync_name)
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO sync_toggles (environment, integration_id, sync_name, enabled,"
                " updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (environment, integration_id, sync_name)"
                " DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
                (*where, 1 if enabled else 0, timestamp()),
            )
            if not enabled:
                db.execute(
                    "UPDATE sync_schedules SET pending_trigger = 0 WHERE environment = ?"
                    " AND integration_id = ? AND sync_name = ?",
                    where,
                )

    @guarded
    def is_enabled(self, environment: str, integration_id: str, sync_name: str) -> bool:
        with self._db.lock:
            row = self._db.one(
                "SELECT enabled FROM sync_toggles WHERE environment = ? AND integration_id = ?"
                " AND sync_name = ?",
                (environment, integration_id, sync_name),
            )
        return row is None or bool(row[0])

    @guarded
    def disabled_syncs(self, environment: str) -> set[tuple[str, str]]:
        """(integration id, sync name) of every sync switched off."""
        with self._db.lock:
            rows = self._db.query(
                "SELECT integration_id, sync_name FROM sync_toggles WHERE environment = ?"
                " AND enabled = 0",
                (environment,),
            )
        return {(r[0], r[1]) for r in rows}

    # -- templates enabled per integration ---------------------------------------------------

    @guarded
    def set_templates(
        self, environment: str, integration_id: str, names: Sequence[str], enabled: bool
    ) -> None:
        """Enable or disable templates of an integration, all of them or none."""
        with self._db.transaction() as db:
            for name in dict.fromkeys(names):
                if enabled:
                    db.execute(
                        "INSERT INTO template_toggles (environment, integration_id,"
                        " template_name, enabled_at) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (environment, integration_id, template_name) DO NOTHING",
                        (environment, integration_id, name, timestamp()),
                    )
                else:
                    db.execute(
                        "DELETE FROM template_toggles WHERE environment = ?"
                        " AND integration_id = ? AND template_name = ?",
                        (environment, integration_id, name),
                    )

    @guarded
    def enabled_templates(self, environment: str) -> dict[str, builtins.list[str]]:
        """Integration id -> names of the templates enabled for it (in the order enabled)."""
        with self._db.lock:
            rows = self._db.query(
                "SELECT integration_id, template_name FROM template_toggles"
                " WHERE environment = ? ORDER BY enabled_at, template_name",
                (environment,),
            )
        enabled: dict[str, builtins.list[str]] = {}
        for integration_id, name in rows:
            enabled.setdefault(integration_id, []).append(name)
        return enabled

    def _update(self, key: ScheduleKey, assignments: str, values: tuple[Any, ...]) -> None:
        with self._db.transaction() as db:
            db.execute(
                f"UPDATE sync_schedules SET {assignments} WHERE {_KEY_WHERE}",
                (*values, *key.values()),
            )

    @guarded
    def set_status(
        self, key: ScheduleKey, status: ScheduleStatus, *, next_run_at: datetime | None
    ) -> None:
        self._update(
            key,
            "status = ?, next_run_at = ?",
            (status, None if next_run_at is None else timestamp(next_run_at)),
        )

    @guarded
    def set_next_run(self, key: ScheduleKey, when: datetime | None) -> None:
        self._update(key, "next_run_at = ?", (None if when is None else timestamp(when),))

    @guarded
    def begin_run(self, key: ScheduleKey, next_run_at: datetime | None) -> bool:
        """A run of ``key`` is about to begin: clear its trigger and set its next run, in
        one statement that does nothing (False) if its sync is switched off by now (or
        the schedule is gone: its connection was removed). The
        scheduler read ``due`` a moment before; a toggle that landed since wins, and the
        schedule is left as it was (due at once when switched on again)."""
        with self._db.transaction() as db:
            cursor = db.execute(
                "UPDATE sync_schedules SET pending_trigger = 0, next_run_at = ?"
                f" WHERE {_KEY_WHERE} AND NOT EXISTS (SELECT 1 FROM sync_toggles t"
                " WHERE t.enabled = 0 AND t.environment = sync_schedules.environment"
                " AND t.integration_id = sync_schedules.integration_id"
                " AND t.sync_name = sync_schedules.sync_name)",
                (None if next_run_at is None else timestamp(next_run_at), *key.values()),
            )
            return bool(cursor.rowcount)

    @guarded
    def set_pending(self, key: ScheduleKey, pending: bool) -> None:
        self._update(key, "pending_trigger = ?", (1 if pending else 0,))

    @guarded
    def set_frequency(self, key: ScheduleKey, phrase: str | None, seconds: int) -> None:
        """An override from the API (``phrase``), or back to the script's (None)."""
        self._update(key, "frequency_override = ?, frequency_seconds = ?", (phrase, seconds))

    @guarded
    def delete_connection(self, environment: str, integration_id: str, connection_id: str) -> int:
        with self._db.transaction() as db:
            return db.execute(
                "DELETE FROM sync_schedules WHERE environment = ? AND integration_id = ?"
                " AND connection_id = ?",
                (environment, integration_id, connection_id),
            ).rowcount

    # -- runs -------------------------------------------------------------------------------

    @guarded
    def latest_run(self, key: ScheduleKey, *, finished: bool = False) -> SyncRunRecord | None:
        extra = " AND finished_at IS NOT NULL" if finished else ""
        with self._db.lock:
            row = self._db.one(
                f"SELECT {_RUN_COLUMNS} FROM sync_runs WHERE {_KEY_WHERE}{extra}"
                " ORDER BY started_at DESC LIMIT 1",
                key.values(),
            )
        return None if row is None else _run(row)

    @guarded
    def runs(self, key: ScheduleKey, *, limit: int = 20) -> builtins.list[SyncRunRecord]:
        with self._db.lock:
            rows = self._db.query(
                f"SELECT {_RUN_COLUMNS} FROM sync_runs WHERE {_KEY_WHERE}"
                " ORDER BY started_at DESC LIMIT ?",
                (*key.values(), limit),
            )
        return [_run(r) for r in rows]

    @guarded
    def mark_interrupted_runs(
        self, environment: str, retry_at: Callable[[int], datetime]
    ) -> builtins.list[ScheduleKey]:
        """Runs of ``environment`` still 'running' when its service starts were cut off
        (the process died): mark them failed, and bring their syncs back soon. Each one's
        schedule, if started, is due no later than ``retry_at(n)``, where ``n`` counts its
        runs cut off in a row, this one included (so that a run that keeps killing the
        process is retried less and less often); a paused one is left alone.

        One transaction: the schedules are moved before the runs are marked, so a crash
        in between leaves the runs 'running' for the next start to find again. Returns
        the keys of the runs marked, each once.
        """
        with self._db.transaction() as db:
            rows = db.query(
                "SELECT DISTINCT environment, integration_id, connection_id, sync_name"
                " FROM sync_runs WHERE environment = ? AND status = 'running'",
                (environment,),
            )
            keys = sorted((ScheduleKey(*row) for row in rows), key=ScheduleKey.values)
            for key in keys:
                history = db.query(
                    f"SELECT status, error FROM sync_runs WHERE {_KEY_WHERE}"
                    " ORDER BY started_at DESC LIMIT ?",
                    (*key.values(), _CUT_OFF_COUNTED),
                )
                in_a_row = 0
                for status, error in history:
                    if status != "running" and (status, error) != ("failed", INTERRUPTED_ERROR):
                        break
                    in_a_row += 1
                _due_by(db, key, retry_at(max(1, in_a_row)))
            db.execute(
                "UPDATE sync_runs SET status = 'failed', finished_at = ?, error = ?"
                " WHERE environment = ? AND status = 'running'",
                (timestamp(), INTERRUPTED_ERROR, environment),
            )
        return keys

    @guarded
    def retry_soon(self, key: ScheduleKey, when: datetime) -> None:
        """A run of ``key`` was cut off (the service stopped): its schedule, if started, is
        due no later than ``when``; a paused one is left alone."""
        with self._db.transaction() as db:
            _due_by(db, key, when)


def _due_by(db: Database, key: ScheduleKey, when: datetime) -> None:
    """A started schedule is due no later than ``when`` (an earlier next run stays)."""
    at = timestamp(when)
    db.execute(
        f"UPDATE sync_schedules SET next_run_at = ? WHERE {_KEY_WHERE} AND status = 'STARTED'"
        " AND (next_run_at IS NULL OR next_run_at > ?)",
        (at, *key.values(), at),
    )
