"""The webhook outbox: one row per POST to the user's backend, kept until delivered.

Rows are written in the transaction that ends a run (:func:`insert_outbox`, called by
``SqlRecordStore.finish_run``), so a run that ended has its webhooks on disk and a
restart loses none. A delivery worker :meth:`~WebhookOutbox.claim` s due rows: the claim
counts the attempt and pushes ``next_attempt_at`` past a lease, in one statement, so
two workers (``serve`` and ``run`` on one database) never send a row at once, and a
worker killed mid-request leaves the row to be sent again after the lease: at least
once, never lost. The row id is stable across retries (the ``X-Nango-Webhook-Id``
header): receivers drop duplicates by it.

Statuses: ``pending`` (waiting or being sent), ``delivered`` (a 2xx came back),
``failed`` (out of attempts). Synchronous and small: the engine calls it from a worker
thread.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from nango_scripts.store._canonical import parse_timestamp, timestamp
from nango_scripts.store._db import Database, guarded
from nango_scripts.store._sqlite import TableStore

__all__ = ["OutboxEntry", "OutboxItem", "OutboxStatus", "WebhookOutbox", "insert_outbox"]

OutboxStatus = Literal["pending", "delivered", "failed"]
_COLUMNS = (
    "id, kind, environment, integration_id, connection_id, run_id, url, body, status,"
    " attempts, next_attempt_at, created_at, finished_at, last_error"
)

_DELIVERED = (
    "UPDATE webhook_outbox SET status = 'delivered', finished_at = ?, last_error = NULL"
    " WHERE id = ?"
)


@dataclass(frozen=True)
class OutboxEntry:
    """A POST to write to the outbox: where, and the exact JSON text to send."""

    url: str
    body: str
    """The body as sent and signed (compact JSON text)."""
    kind: str = "sync"


@dataclass(frozen=True)
class OutboxItem:
    """A row of the outbox."""

    id: str
    kind: str
    environment: str
    integration_id: str
    connection_id: str
    run_id: str | None
    url: str
    body: str
    status: OutboxStatus
    attempts: int
    """Attempts made so far; a claimed row counts the attempt it is claimed for."""
    next_attempt_at: datetime
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        kind=row[1],
        environment=row[2],
        integration_id=row[3],
        connection_id=row[4],
        run_id=row[5],
        url=row[6],
        body=row[7],
        status=row[8],
        attempts=int(row[9]),
        next_attempt_at=parse_timestamp(row[10]),
        created_at=parse_timestamp(row[11]),
        finished_at=None if row[12] is None else parse_timestamp(row[12]),
        last_error=row[13],
    )


def _new_ids(count: int) -> list[str]:
    """32 hex digits that sort in creation order (microseconds, then position in the
    batch), then random: rows of one run keep their order, ids stay unguessable."""
    micros = time.time_ns() // 1000
    return [f"{micros:014x}{n:04x}{secrets.token_hex(7)}" for n in range(count)]


def insert_outbox(
    db: Database,
    entries: Sequence[OutboxEntry],
    *,
    environment: str,
    integration_id: str,
    connection_id: str,
    run_id: str | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Add ``entries`` as pending rows, due now, inside the caller's transaction.

    Returns their ids (one per entry, in order).
    """
    if not entries:
        return []
    created = timestamp(now)
    ids = _new_ids(len(entries))
    db.executemany(
        "INSERT INTO webhook_outbox (id, kind, environment, integration_id, connection_id,"
        " run_id, url, body, status, attempts, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
        [
            (
                row_id,
                e.kind,
                environment,
                integration_id,
                connection_id,
                run_id,
                e.url,
                e.body,
                created,
                created,
            )
            for row_id, e in zip(ids, entries, strict=True)
        ],
    )
    return ids


class WebhookOutbox(TableStore):
    """The outbox table on its own connection. Open with :meth:`open`; close when done."""

    store_name: ClassVar[str] = "webhook outbox"

    # -- writing ------------------------------------------------------------------------

    @guarded
    def add(
        self,
        entries: Sequence[OutboxEntry],
        *,
        environment: str,
        integration_id: str,
        connection_id: str,
        run_id: str | None = None,
        now: datetime | None = None,
    ) -> list[str]:
        """Add rows in a transaction of their own (runs write theirs with ``finish_run``)."""
        with self._db.transaction() as db:
            return insert_outbox(
                db,
                entries,
                environment=environment,
                integration_id=integration_id,
                connection_id=connection_id,
                run_id=run_id,
                now=now,
            )

    @guarded
    def claim(
        self,
        now: datetime,
        limit: int,
        *,
        lease_s: float,
        run_id: str | None = None,
    ) -> list[OutboxItem]:
        """Take up to ``limit`` due rows (oldest due first) for one attempt each.

        The attempt is counted and the row hidden until ``now + lease_s``; the caller
        then calls :meth:`delivered` or :meth:`retry_at` / :meth:`failed`. A caller
        that dies leaves the row due again when the lease ends.
        """
        if limit <= 0:
            return []
        due = timestamp(now)
        extra, params = "", [due]
        if run_id is not None:
            extra, params = " AND run_id = ?", [due, run_id]
        with self._db.transaction() as db:
            # On PostgreSQL the outer WHERE repeats the due test: a concurrent claim of
            # the same row is re-checked against it and skipped. SQLite has one writer
            # at a time (BEGIN IMMEDIATE), and there the repeat made it walk every due
            # row to find the few it claims. Ordered by the due time alone, the index
            # (status, next_attempt_at) gives the rows in order: adding created_at and id
            # made the database sort every row due at the same moment (a run's rows, a
            # backlog) on each claim. Ties come in index order.
            recheck, again = "", []
            if db.dialect == "postgres":
                recheck, again = "status = 'pending' AND next_attempt_at <= ? AND ", [due]
            rows = db.query(
                "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?"
                f" WHERE {recheck}id IN ("
                " SELECT id FROM webhook_outbox WHERE status = 'pending'"
                f" AND next_attempt_at <= ?{extra}"
                " ORDER BY next_attempt_at LIMIT ?)"
                f" RETURNING {_COLUMNS}",
                (timestamp(now + timedelta(seconds=lease_s)), *again, *params, limit),
            )
        items = [_item(row) for row in rows]
        items.sort(key=lambda item: (item.created_at, item.id))
        return items

    @guarded
    def delivered(self, item_id: str, now: datetime) -> None:
        with self._db.transaction() as db:
            db.execute(_DELIVERED, (timestamp(now), item_id))

    @guarded
    def retry_at(self, item: OutboxItem, when: datetime, error: str) -> bool:
        """Schedule the next attempt of a claimed row. False if the claim was lost
        (its lease ran out and another worker took the row)."""
        return self.settle([(item, "pending", when, error)])[0]

    @guarded
    def failed(self, item: OutboxItem, now: datetime, error: str) -> bool:
        """Out of attempts: the row stays, marked ``failed``, for inspection."""
        return self.settle([(item, "failed", now, error)])[0]

    @guarded
    def settle(
        self, outcomes: Sequence[tuple[OutboxItem, OutboxStatus, datetime, str | None]]
    ) -> list[bool]:
        """The ends of many claimed attempts in one transaction (a busy worker's answers
        come together). Each is ``(item, status, at, error)``: ``delivered`` at ``at``;
        ``pending``, to be tried again at ``at``; ``failed`` (out of attempts) at ``at``;
        written as :meth:`delivered`, :meth:`retry_at` or :meth:`failed` would. Returns,
        for each, whether it was applied (False: the claim was lost to another worker)."""
        applied: list[bool] = []
        with self._db.transaction() as db:
            for item, status, at, error in outcomes:
                if status == "delivered":
                    db.execute(_DELIVERED, (timestamp(at), item.id))
                    applied.append(True)
                    continue
                if status == "pending":
                    change = "next_attempt_at = ?"
                else:
                    change = "status = 'failed', finished_at = ?"
                changed = db.execute(
                    f"UPDATE webhook_outbox SET {change}, last_error = ?"
                    " WHERE id = ? AND status = 'pending' AND attempts = ?",
                    (timestamp(at), error, item.id, item.attempts),
                ).rowcount
                applied.append(changed == 1)
        return applied

    @guarded
    def release(self, item: OutboxItem, now: datetime) -> None:
        """Give a claimed row back unsent (the worker stopped): due now, attempt uncounted."""
        with self._db.transaction() as db:
            db.execute(
                "UPDATE webhook_outbox SET attempts = attempts - 1, next_attempt_at = ?"
                " WHERE id = ? AND status = 'pending' AND attempts = ?",
                (timestamp(now), item.id, item.attempts),
            )

    @guarded
    def prune(self, before: datetime) -> int:
        """Forget delivered and failed rows finished before ``before``."""
        with self._db.transaction() as db:
            return int(
                db.execute(
                    "DELETE FROM webhook_outbox WHERE status IN ('delivered', 'failed')"
                    " AND finished_at < ?",
                    (timestamp(before),),
                ).rowcount
            )

    # -- reading ------------------------------------------------------------------------

    @guarded
    def next_due(self) -> datetime | None:
        """When the earliest pending row is due (leased rows included), or None."""
        with self._db.lock:
            row = self._db.one(
                "SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE status = 'pending'"
            )
        return None if row is None or row[0] is None else parse_timestamp(row[0])

    @guarded
    def items(
        self,
        *,
        status: OutboxStatus | None = None,
        run_id: str | None = None,
        limit: int | None = None,
    ) -> list[OutboxItem]:
        """Rows oldest first, optionally of one status or one run."""
        where: list[str] = ["1 = 1"]
        params: list[str] = []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        sql = f"SELECT {_COLUMNS} FROM webhook_outbox WHERE {' AND '.join(where)}"
        sql += " ORDER BY created_at, id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._db.lock:
            rows = self._db.query(sql, params)
        return [_item(row) for row in rows]

    @guarded
    def counts(self) -> dict[str, int]:
        """Rows per status (every status present, 0 when none)."""
        with self._db.lock:
            rows = self._db.query("SELECT status, COUNT(*) FROM webhook_outbox GROUP BY status")
        counts = {"pending": 0, "delivered": 0, "failed": 0}
        counts.update({row[0]: int(row[1]) for row in rows})
        return counts
