"""Results of asynchronous actions.

An action triggered with ``X-Async: true`` runs in the background; its row in
``action_runs`` says ``running`` until it ends, then holds the output (JSON) or the
error (``{"type", "message", "payload"}``), so ``GET /action/{id}`` answers after a
restart too.

Synchronous and small: the engine calls it from a worker thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from nango_scripts.store._canonical import parse_timestamp, timestamp
from nango_scripts.store._db import guarded
from nango_scripts.store._sqlite import TableStore

__all__ = ["ActionRun", "ActionRunStore"]

ActionStatus = Literal["running", "success", "failed"]
_COLUMNS = (
    "id, environment, integration_id, connection_id, action_name, status, output, error,"
    " created_at, finished_at"
)
_INTERRUPTED = {
    "type": "interrupted",
    "message": "the service stopped before the action finished",
    "payload": None,
}


@dataclass(frozen=True)
class ActionRun:
    id: str
    environment: str
    integration_id: str
    connection_id: str
    action_name: str
    status: ActionStatus
    output: Any
    """The action's output (JSON-ready) once it succeeded."""
    error: dict[str, Any] | None
    """``{"type", "message", "payload"}`` once it failed."""
    created_at: datetime
    finished_at: datetime | None


def _action_run(row: Any) -> ActionRun:
    return ActionRun(
        id=row[0],
        environment=row[1],
        integration_id=row[2],
        connection_id=row[3],
        action_name=row[4],
        status=row[5],
        output=None if row[6] is None else json.loads(row[6]),
        error=None if row[7] is None else dict(json.loads(row[7])),
        created_at=parse_timestamp(row[8]),
        finished_at=None if row[9] is None else parse_timestamp(row[9]),
    )


def _json(value: Any, *, top: bool = True) -> str:
    # An ActionError payload is whatever the script raised it with: never fail on it.
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError) as exc:  # circular, or nested past any reader
        if top and isinstance(value, dict):  # the error's own keys stay readable
            parts = (f"{json.dumps(str(k))}:{_json(v, top=False)}" for k, v in value.items())
            return "{" + ",".join(parts) + "}"
        return json.dumps(f"(not kept: a {type(value).__name__} that is not JSON: {exc})")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate: no database takes it as text
            return json.dumps(value, default=str)  # escaped (\\ud800): ASCII text
    return text


class ActionRunStore(TableStore):
    store_name: ClassVar[str] = "action runs"

    # -- action runs ----------------------------------------------------------------------

    @guarded
    def create(
        self,
        run_id: str,
        *,
        environment: str,
        integration_id: str,
        connection_id: str,
        action_name: str,
    ) -> None:
        with self._db.transaction() as db:
            db.execute(
                f"INSERT INTO action_runs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, 'running', NULL,"
                " NULL, ?, NULL)",
                (run_id, environment, integration_id, connection_id, action_name, timestamp()),
            )

    @guarded
    def finish(
        self, run_id: str, *, output: Any = None, error: dict[str, Any] | None = None
    ) -> None:
        """Record the end of a run: its output, or (if ``error`` is given) its failure."""
        status: ActionStatus = "failed" if error is not None else "success"
        with self._db.transaction() as db:
            db.execute(
                "UPDATE action_runs SET status = ?, output = ?, error = ?, finished_at = ?"
                " WHERE id = ?",
                (
                    status,
                    None if error is not None else _json(output),
                    None if error is None else _json(error),
                    timestamp(),
                    run_id,
                ),
            )

    @guarded
    def get(self, run_id: str) -> ActionRun | None:
        with self._db.lock:
            row = self._db.one(f"SELECT {_COLUMNS} FROM action_runs WHERE id = ?", (run_id,))
        return None if row is None else _action_run(row)

    @guarded
    def mark_interrupted(self) -> int:
        """Runs still 'running' when the service starts were cut off: mark them failed."""
        with self._db.transaction() as db:
            return db.execute(
                "UPDATE action_runs SET status = 'failed', error = ?, finished_at = ?"
                " WHERE status = 'running'",
                (_json(_INTERRUPTED), timestamp()),
            ).rowcount
