"""The Activity log in the database: operations (a sync run, an action, a proxy call, a
webhook delivery, a connection change) and the messages each one logged.

- An operation is written when it starts (``running`` or ``waiting``) and updated once
  when it ends; its messages arrive in batches (:meth:`ActivityStore.add_messages`), so
  that a run logging thousands of lines costs a few transactions, not thousands.
- Listings are newest first, paged by an opaque cursor that encodes the position of the
  last operation shown (start time, then insertion order): operations started meanwhile
  come before the first page and never shift the next ones.
- :meth:`ActivityStore.prune` drops what is older than the retention.

What is stored is stored as given: the engine's recorder removes secrets first.
Synchronous and small: the engine calls it from a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final, Literal

from nango_scripts.errors import RecordQueryError
from nango_scripts.store._canonical import parse_timestamp, timestamp
from nango_scripts.store._db import guarded, placeholders
from nango_scripts.store._sqlite import TableStore

__all__ = [
    "OPERATION_STATES",
    "OPERATION_TYPES",
    "ActivityMessage",
    "ActivityStore",
    "Operation",
    "OperationPage",
    "OperationState",
    "OperationType",
]

OperationType = Literal["sync", "action", "proxy", "webhook", "connection"]
OperationState = Literal["waiting", "running", "success", "failed", "cancelled"]
OPERATION_TYPES: Final[tuple[OperationType, ...]] = (
    "sync",
    "action",
    "proxy",
    "webhook",
    "connection",
)
OPERATION_STATES: Final[tuple[OperationState, ...]] = (
    "waiting",
    "running",
    "success",
    "failed",
    "cancelled",
)
_OPEN_STATES: Final = ("waiting", "running")
_COLUMNS: Final = (
    "seq, id, environment, type, state, integration_id, connection_id, script, title,"
    " started_at, finished_at, duration_ms, error, result"
)
_INTERRUPTED: Final = "the service stopped before the operation finished"
# latest_operations: pairs looked up per statement (well under SQLite's parameter limit).
_PAIRS_PER_QUERY: Final = 2_000


@dataclass(frozen=True)
class ActivityMessage:
    """One line of an operation: a script's log, an HTTP request, a retry, a result..."""

    at: datetime
    level: str
    """``debug``, ``info``, ``warning`` or ``error``."""
    message: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Operation:
    id: str
    environment: str
    type: OperationType
    state: OperationState
    integration_id: str | None
    connection_id: str | None
    script: str | None
    title: str
    started_at: datetime
    finished_at: datetime | None
    duration_ms: float | None
    error: str | None
    result: dict[str, Any] | None
    messages: list[ActivityMessage] = field(default_factory=list)
    """Filled by :meth:`ActivityStore.get_operation`; empty in listings."""


@dataclass(frozen=True)
class OperationPage:
    operations: list[Operation]
    next_cursor: str | None
    """Pass it back as ``cursor`` for the next (older) page; None on the last one."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate from a script: kept as the text "\ud800"
            return _SURROGATE.sub(lambda found: f"\\\\u{ord(found.group()):04x}", text)
    return text


def _text(value: str | None) -> str | None:
    """Log text as every database keeps it: a NUL (PostgreSQL refuses it) written ``\\x00``,
    a lone surrogate (not UTF-8) as its ``\\ud800`` escape; the line itself is never lost."""
    if value is None or (value.isascii() and "\x00" not in value):
        return value
    return value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()


def _operation(row: Any) -> Operation:
    return Operation(
        id=row[1],
        environment=row[2],
        type=row[3],
        state=row[4],
        integration_id=row[5],
        connection_id=row[6],
        script=row[7],
        title=row[8],
        started_at=parse_timestamp(row[9]),
        finished_at=None if row[10] is None else parse_timestamp(row[10]),
        duration_ms=None if row[11] is None else float(row[11]),
        error=row[12],
        result=None if row[13] is None else dict(json.loads(row[13])),
    )


def _encode_cursor(started_at: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{started_at}|{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        started_at, _, seq = raw.partition("|")
        # The stored form exactly: anything else was not made here.
        if timestamp(parse_timestamp(started_at)) != started_at or not seq.isdigit():
            raise ValueError(raw)
        return started_at, int(seq)
    except (ValueError, UnicodeDecodeError, binascii.Error, RecordQueryError):
        raise RecordQueryError(
            f"cursor {cursor!r} is not a cursor of this activity log.",
            hint="Pass back the next_cursor of the previous page, unchanged.",
        ) from None


class ActivityStore(TableStore):
    store_name: ClassVar[str] = "activity"

    # -- writing --------------------------------------------------------------------------

    @guarded
    def start_operation(
        self,
        *,
        environment: str,
        type: OperationType,
        integration_id: str | None,
        connection_id: str | None,
        script: str | None,
        title: str,
        state: Literal["waiting", "running"] = "running",
        started_at: datetime | None = None,
    ) -> str:
        """A new operation; returns its id. ``started_at`` defaults to now (set it to import)."""
        if type not in OPERATION_TYPES:
            raise ValueError(f"unknown operation type {type!r}")
        if state not in _OPEN_STATES:
            raise ValueError(f"an operation starts waiting or running, not {state!r}")
        operation_id = uuid.uuid4().hex
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO activity_operations (id, environment, type, state, integration_id,"
                " connection_id, script, title, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    operation_id,
                    environment,
                    type,
                    state,
                    integration_id,
                    connection_id,
                    script,
                    _text(title),
                    timestamp(started_at),
                ),
            )
        return operation_id

    @guarded
    def add_operations(self, operations: Sequence[Operation]) -> None:
        """Finished operations with their messages, all in one transaction (a webhook
        delivery is one: a busy worker writes many at once). Each keeps its ``id``;
        ``duration_ms`` defaults to ``finished_at - started_at``."""
        if not operations:
            return
        rows: list[tuple[Any, ...]] = []
        lines: list[tuple[Any, ...]] = []
        for op in operations:
            if op.state not in ("success", "failed", "cancelled"):
                raise ValueError(f"add_operations takes finished operations, not {op.state!r}")
            if op.type not in OPERATION_TYPES:
                raise ValueError(f"unknown operation type {op.type!r}")
            finished = op.finished_at or op.started_at
            duration = op.duration_ms
            if duration is None:
                duration = max(0.0, round((finished - op.started_at).total_seconds() * 1000, 3))
            rows.append(
                (
                    op.id,
                    op.environment,
                    op.type,
                    op.state,
                    op.integration_id,
                    op.connection_id,
                    op.script,
                    _text(op.title),
                    timestamp(op.started_at),
                    timestamp(finished),
                    duration,
                    _text(op.error),
                    None if op.result is None else _json(dict(op.result)),
                )
            )
            lines.extend(
                (op.id, timestamp(m.at), m.level, _text(m.message), _json(m.fields))
                for m in op.messages
            )
        with self._db.transaction() as db:
            db.executemany(
                "INSERT INTO activity_operations (id, environment, type, state, integration_id,"
                " connection_id, script, title, started_at, finished_at, duration_ms, error,"
                " result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            if lines:
                db.executemany(
                    "INSERT INTO activity_messages (operation_id, at, level, message, fields)"
                    " VALUES (?, ?, ?, ?, ?)",
                    lines,
                )

    @guarded
    def set_running(self, operation_id: str) -> None:
        """A waiting operation (an action queued in the background) has begun."""
        with self._db.transaction() as db:
            db.execute(
                "UPDATE activity_operations SET state = 'running' WHERE id = ? AND state = 'waiting'",
                (operation_id,),
            )

    @guarded
    def add_messages(self, operation_id: str, messages: Sequence[ActivityMessage]) -> None:
        """Append ``messages`` to the operation, in order, in one transaction."""
        if not messages:
            return
        rows = [
            (operation_id, timestamp(m.at), m.level, _text(m.message), _json(m.fields))
            for m in messages
        ]
        with self._db.transaction() as db:
            db.executemany(
                "INSERT INTO activity_messages (operation_id, at, level, message, fields)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    @guarded
    def finish_operation(
        self,
        operation_id: str,
        *,
        state: Literal["success", "failed", "cancelled"],
        error: str | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> None:
        """End the operation. Only the first end counts: a finished operation stays as it is."""
        if state not in ("success", "failed", "cancelled"):
            raise ValueError(f"an operation ends in success, failed or cancelled, not {state!r}")
        finished = timestamp()
        with self._db.transaction() as db:
            row = db.one(
                "SELECT started_at FROM activity_operations WHERE id = ? AND state IN (?, ?)",
                (operation_id, *_OPEN_STATES),
            )
            if row is None:
                return
            duration = parse_timestamp(finished) - parse_timestamp(row[0])
            db.execute(
                "UPDATE activity_operations SET state = ?, finished_at = ?, duration_ms = ?,"
                " error = ?, result = ? WHERE id = ?",
                (
                    state,
                    finished,
                    max(0.0, round(duration.total_seconds() * 1000, 3)),
                    _text(error),
                    None if result is None else _json(dict(result)),
                    operation_id,
                ),
            )

    @guarded
    def mark_interrupted(self, environment: str) -> int:
        """Operations still open when the service starts were cut off: mark them failed."""
        with self._db.transaction() as db:
            return db.execute(
                "UPDATE activity_operations SET state = 'failed', error = ?, finished_at = ?"
                " WHERE environment = ? AND state IN (?, ?)",
                (_INTERRUPTED, timestamp(), environment, *_OPEN_STATES),
            ).rowcount

    @guarded
    def prune(self, older_than: datetime) -> int:
        """Delete the operations started before ``older_than`` and their messages."""
        cutoff = timestamp(older_than)
        with self._db.transaction() as db:
            db.execute(
                "DELETE FROM activity_messages WHERE operation_id IN"
                " (SELECT id FROM activity_operations WHERE started_at < ?)",
                (cutoff,),
            )
            return db.execute(
                "DELETE FROM activity_operations WHERE started_at < ?", (cutoff,)
            ).rowcount

    # -- reading --------------------------------------------------------------------------

    @guarded
    def list_operations(
        self,
        environment: str,
        *,
        states: Sequence[str] | None = None,
        integration_id: str | None = None,
        connection_id: str | None = None,
        script: str | None = None,
        types: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> OperationPage:
        """Operations newest first (without their messages).

        ``since`` is inclusive, ``until`` exclusive (both on the start time); an empty
        ``states``/``types`` matches nothing. A bad ``cursor`` is a :class:`RecordQueryError`.
        """
        if limit < 1:
            raise RecordQueryError(f"limit must be at least 1, not {limit}.")
        where = ["environment = ?"]
        params: list[Any] = [environment]
        for column, values in (("state", states), ("type", types)):
            if values is not None:
                chosen = list(dict.fromkeys(values))
                if not chosen:
                    return OperationPage([], None)
                where.append(f"{column} IN ({placeholders(len(chosen))})")
                params.extend(chosen)
        for column, value in (
            ("integration_id", integration_id),
            ("connection_id", connection_id),
            ("script", script),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("started_at >= ?")
            params.append(timestamp(since))
        if until is not None:
            where.append("started_at < ?")
            params.append(timestamp(until))
        if cursor:
            started_at, seq = _decode_cursor(cursor)
            where.append("(started_at < ? OR (started_at = ? AND seq < ?))")
            params.extend([started_at, started_at, seq])
        sql = (
            f"SELECT {_COLUMNS} FROM activity_operations WHERE {' AND '.join(where)}"
            " ORDER BY started_at DESC, seq DESC LIMIT ?"
        )
        with self._db.lock:
            rows = self._db.query(sql, (*params, limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = _encode_cursor(rows[-1][9], int(rows[-1][0])) if more else None
        return OperationPage([_operation(r) for r in rows], next_cursor)

    @guarded
    def latest_operations(
        self,
        environment: str,
        *,
        type: OperationType,
        integration_id: str,
        connection_ids: Sequence[str],
        scripts: Sequence[str],
    ) -> dict[tuple[str, str], Operation]:
        """The newest operation of ``type`` for each (connection, script) pair of the
        integration, keyed ``(connection_id, script)``; a pair with none is absent.

        What ``list_operations(..., limit=1)`` gives for each pair, in one query per
        ``_PAIRS_PER_QUERY`` pairs: each pair is one seek in the
        ``activity_operations_latest`` index, however long the log and however many
        runs the pair has, so the store's lock is held briefly.
        """
        connections = list(dict.fromkeys(connection_ids))
        names = list(dict.fromkeys(scripts))
        if not connections or not names:
            return {}
        found: dict[tuple[str, str], Operation] = {}
        step = max(1, _PAIRS_PER_QUERY // len(names))
        for start in range(0, len(connections), step):
            chunk = connections[start : start + step]
            # Both engines name a VALUES list's columns column1, column2...
            sql = (
                f"SELECT {_COLUMNS} FROM activity_operations WHERE seq IN ("
                " SELECT (SELECT o.seq FROM activity_operations o"
                "  WHERE o.environment = ? AND o.type = ? AND o.integration_id = ?"
                "  AND o.script = s.column1 AND o.connection_id = c.column1"
                "  ORDER BY o.started_at DESC, o.seq DESC LIMIT 1)"
                f" FROM (VALUES {', '.join('(?)' for _ in chunk)}) AS c"
                f" CROSS JOIN (VALUES {', '.join('(?)' for _ in names)}) AS s)"
            )
            params = (environment, type, integration_id, *chunk, *names)
            with self._db.lock:
                rows = self._db.query(sql, params)
            for row in rows:
                operation = _operation(row)
                found[(str(operation.connection_id), str(operation.script))] = operation
        return found

    @guarded
    def get_operation(self, operation_id: str) -> Operation | None:
        """The operation with its messages in the order they were logged."""
        with self._db.lock:
            row = self._db.one(
                f"SELECT {_COLUMNS} FROM activity_operations WHERE id = ?", (operation_id,)
            )
            if row is None:
                return None
            messages = self._db.query(
                "SELECT at, level, message, fields FROM activity_messages"
                " WHERE operation_id = ? ORDER BY seq",
                (operation_id,),
            )
        operation = _operation(row)
        operation.messages = [
            ActivityMessage(parse_timestamp(m[0]), m[1], m[2], dict(json.loads(m[3])))
            for m in messages
        ]
        return operation
